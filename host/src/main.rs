//! `edge-host`: a Spin-compatible host on Wasmtime. Like `spin up`, it runs a
//! `spin.toml` with a runtime config; with `--tenants-dir` it binds each request's
//! stores to the tenant named by its host.

mod app;
mod bench;
mod bindings;
mod factors;
mod log;
mod manifest;
mod outbound;
mod routing;
mod runtime_config;
mod server;
mod state;
mod storage;
mod tenancy;
mod tenants;
mod variables;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "edge-host", version, about = "Run Spin applications on Wasmtime, per tenant")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct AppArgs {
    /// The application manifest.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    manifest: PathBuf,
    /// Runtime configuration (key-value and SQLite stores).
    #[arg(long = "runtime-config-file")]
    runtime_config: Option<PathBuf>,
    /// Serve many tenants: one directory per tenant, resolved from the request host.
    #[arg(long = "tenants-dir")]
    tenants_dir: Option<PathBuf>,
    /// Domains under which `<tenant>.<domain>` names a tenant.
    #[arg(long = "tenant-domain", default_value = "localhost")]
    tenant_domains: Vec<String>,
    /// App variable bound to the tenant's name on each request.
    #[arg(long, default_value = "tenant_id")]
    tenant_variable: String,
    /// Spin's state directory: default stores, copied files (default: `.spin` beside the manifest).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Compiled-component cache (default: <state dir>/cache).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Per-request time limit in milliseconds (CPU loops are interrupted too).
    #[arg(long, default_value_t = 30_000)]
    request_timeout_ms: u64,
    /// Per-instance linear memory limit in MiB.
    #[arg(long, default_value_t = 128)]
    max_memory_mib: usize,
    /// Concurrent instances the pooling allocator reserves.
    #[arg(long, default_value_t = 1000)]
    pool_size: u32,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start the HTTP trigger (like `spin up`).
    Up {
        #[command(flatten)]
        app: AppArgs,
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: String,
        /// Seconds to let in-flight requests finish on shutdown.
        #[arg(long, default_value_t = 10)]
        drain_secs: u64,
    },
    /// Load and validate the app without serving.
    Check {
        #[command(flatten)]
        app: AppArgs,
    },
    /// Tenant records.
    Tenant {
        #[command(subcommand)]
        cmd: TenantCmd,
    },
    /// Microbenchmark: per-request instantiation cost of one component.
    BenchInstantiate {
        #[command(flatten)]
        app: AppArgs,
        #[arg(long)]
        component: String,
        #[arg(short = 'n', long, default_value_t = 20_000)]
        iterations: u32,
    },
}

#[derive(Subcommand)]
enum TenantCmd {
    Create {
        #[arg(long = "tenants-dir")]
        tenants_dir: PathBuf,
        name: String,
        #[arg(long, default_value = "")]
        display_name: String,
        #[arg(long, default_value = "local")]
        region: String,
    },
    List {
        #[arg(long = "tenants-dir")]
        tenants_dir: PathBuf,
    },
}

fn options(a: &AppArgs) -> app::HostOptions {
    let base = a.manifest.parent().map(|p| if p.as_os_str().is_empty() { PathBuf::from(".") } else { p.to_path_buf() }).unwrap_or_else(|| PathBuf::from("."));
    let state_dir = a.state_dir.clone().unwrap_or_else(|| base.join(".spin"));
    app::HostOptions {
        cache_dir: a.cache_dir.clone().unwrap_or_else(|| state_dir.join("cache")),
        state_dir,
        tenants_dir: a.tenants_dir.clone(),
        tenant_variable: a.tenant_variable.clone(),
        request_timeout: Duration::from_millis(a.request_timeout_ms),
        max_memory_bytes: a.max_memory_mib << 20,
        pool_size: a.pool_size,
    }
}

fn load(a: &AppArgs) -> Result<Arc<app::App>> {
    app::App::load(&a.manifest, a.runtime_config.as_deref(), options(a))
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.cmd {
        Cmd::Up { app: a, listen, drain_secs } => {
            let app = load(&a)?;
            app::start_epoch_ticker(&app.engine);
            let tenancy = a.tenants_dir.clone().map(|dir| tenancy::Tenancy { dir, domains: a.tenant_domains.clone() });
            let server = Arc::new(server::Server { app, tenancy });
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                server::serve(server, listener, Duration::from_secs(drain_secs), false).await
            })
        }
        Cmd::Check { app: a } => {
            let app = load(&a)?;
            println!("{}: {} components, {} routes: OK", a.manifest.display(), app.components.len(), app.manifest.triggers.len());
            Ok(())
        }
        Cmd::Tenant { cmd: TenantCmd::Create { tenants_dir, name, display_name, region } } => {
            let display = if display_name.is_empty() { name.clone() } else { display_name };
            let rec = tenants::create(&tenants_dir, &name, &display, &region)?;
            println!("{}", serde_json::to_string_pretty(&rec)?);
            Ok(())
        }
        Cmd::Tenant { cmd: TenantCmd::List { tenants_dir } } => {
            for t in tenants::list(&tenants_dir)? {
                println!("{}\t{}\t{}\t{}", t.name, t.region, t.plan, t.state);
            }
            Ok(())
        }
        Cmd::BenchInstantiate { app: a, component, iterations } => {
            let app = load(&a)?;
            rt.block_on(bench::instantiate(app, &component, iterations))
        }
    }
}
