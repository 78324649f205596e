//! In-process microbenchmarks the xtask bench reports.

use crate::app::App;
use crate::state::CallContext;
use anyhow::{Context, Result};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Time to create a store and instantiate a pre-instantiated component.
pub async fn instantiate(app: Arc<App>, component: &str, iterations: u32) -> Result<()> {
    let c = app.components.get(component).cloned().with_context(|| format!("no component `{component}`"))?;
    let call = CallContext {
        request_id: "bench".into(),
        scope: Arc::new(app.scope_for(None)),
        bound_variables: vec![],
        depth: 0,
        deadline: Instant::now() + Duration::from_secs(3600),
    };
    let mut samples = Vec::with_capacity(iterations as usize);
    for _ in 0..iterations.min(1000) {
        app.instantiate_only(&c, call.clone()).await?; // warm up
    }
    for _ in 0..iterations {
        let t = Instant::now();
        app.instantiate_only(&c, call.clone()).await?;
        samples.push(t.elapsed());
    }
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!(
        "{{\"component\":\"{component}\",\"iterations\":{iterations},\"p50_us\":{:.1},\"p99_us\":{:.1}}}",
        pct(0.50).as_nanos() as f64 / 1000.0,
        pct(0.99).as_nanos() as f64 / 1000.0
    );
    Ok(())
}
