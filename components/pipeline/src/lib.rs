//! The pipeline component: a thin HTTP adapter over `pipeline-domain`, storing
//! in the tenant's SQLite database. Routes: pipelines and stages, deals and the
//! board, settings, exchange rates, quotas and sales reports.

mod deals;
mod effects;
mod http;
mod setup;

use edge_http::{Problem, Reply};
use http::{storage, Ctx};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    let ctx = Ctx::new(&req);
    // Deals follow contact merges (and their undos) before anyone reads them.
    if ctx.req.path().starts_with("/api/") {
        if let Ok(db) = http::db() {
            if let Err(e) = pipeline_domain::store::merges::follow(&db, &ctx.writer()) {
                eprintln!("pipeline: following contact merges failed: {e:#}");
            }
        }
    }
    let result = route(&ctx);
    // Effects of a successful write (a won deal's contact becomes a customer)
    // are delivered once the change has committed.
    if result.as_ref().is_ok_and(|r| r.status < 300) && !matches!(ctx.method(), Method::Get | Method::Head) {
        if let Ok(db) = http::db() {
            effects::drain(&ctx, &db, 20);
        }
    }
    edge_component::respond("pipeline", &ctx, result)
}

fn route(ctx: &Ctx) -> Result<Reply, Problem> {
    let segs = ctx.segments();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        // Only the host and schedulers call these; the router never forwards /internal.
        ["internal", "migrate"] if *ctx.method() == Method::Post => {
            let v = edge_db::spin::provision(pipeline_domain::schema::COMPONENT, pipeline_domain::schema::MIGRATIONS).map_err(storage)?;
            Ok(Reply::json(200, &v))
        }
        ["internal", "tick"] if *ctx.method() == Method::Post => {
            let db = http::db()?;
            let delivered = effects::drain(ctx, &db, 200);
            // Effects still pending (contacts was down): try again in a minute.
            let pending = pipeline_domain::store::deals::pending_effects(&db, 1).map(|p| !p.is_empty()).unwrap_or(false);
            let next = pending.then(|| (chrono::Utc::now() + chrono::Duration::seconds(60)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            Ok(Reply::json(200, &serde_json::json!({ "effects_delivered": delivered, "next_tick_at": next })))
        }
        ["api", "v1", "pipelines", rest @ ..] => setup::pipelines(ctx, rest),
        ["api", "v1", "pipeline-settings"] => setup::settings(ctx),
        ["api", "v1", "exchange-rates", rest @ ..] => setup::rates(ctx, rest),
        ["api", "v1", "quotas"] => setup::quotas(ctx),
        ["api", "v1", "deals", rest @ ..] => deals::route(ctx, rest),
        ["api", "v1", "sales-reports", report] if *ctx.method() == Method::Get => deals::report(ctx, report),
        _ => Err(Problem::not_found("No such resource")),
    }
}
