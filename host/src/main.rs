//! `edge-host`: a Spin-compatible host on Wasmtime. Like `spin up`, it runs a
//! `spin.toml` with a runtime config; with `--tenants-dir` it binds each request's
//! stores to the tenant named by its host.

mod app;
mod bench;
mod bindings;
mod factors;
mod log;
mod manifest;
mod moves;
mod operator;
mod outbound;
mod provision;
mod regions;
mod routing;
mod runtime_config;
mod scheduler;
mod server;
mod state;
mod storage;
mod tenancy;
mod tenants;
mod variables;
mod write_behind;

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
        /// Serve the operator API (tenant lifecycle) on this address; needs
        /// EDGE_OPERATOR_TOKEN. Never reachable through tenant hosts.
        #[arg(long)]
        operator_listen: Option<String>,
        /// Where operator exports go (default: <tenants-dir>/../exports).
        #[arg(long)]
        exports_dir: Option<PathBuf>,
        /// Do not run tenants' unattended work (`/internal/tick`) from this host.
        #[arg(long)]
        no_scheduler: bool,
        /// This host's region (with --regions): tenants living elsewhere are forwarded there.
        #[arg(long, requires = "regions")]
        region: Option<String>,
        /// The regions file: every region's public and operator address.
        #[arg(long, requires = "region")]
        regions: Option<PathBuf>,
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
    /// A region's deployment artefacts from its tenant directory: each of its
    /// tenants' runtime config and SpinApp, and the region's edge manifests.
    RegionArtefacts {
        #[arg(long = "tenants-dir")]
        tenants_dir: PathBuf,
        #[arg(long)]
        region: String,
        #[arg(long)]
        regions: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// The domain tenants are served under (`<tenant>.<domain>`).
        #[arg(long, default_value = "crm.example.com")]
        domain: String,
        #[arg(long, default_value = "registry.example.com/edge-crm:latest")]
        image: String,
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
    /// Provision a tenant: its directory, storage and record.
    Create {
        #[arg(long = "tenants-dir")]
        tenants_dir: PathBuf,
        name: String,
        #[arg(long, default_value = "")]
        display_name: String,
        #[arg(long, default_value = "local")]
        region: String,
        /// trial, standard or enterprise.
        #[arg(long, default_value = "standard")]
        plan: String,
        /// The app (`spin.toml`) whose components' migrations run for the new tenant.
        /// Without it only the record is written; stores migrate on first use.
        #[arg(long = "app")]
        app: Option<PathBuf>,
        /// Invite this owner (needs --app); the invitation link is printed and put in the outbox.
        #[arg(long, requires = "app")]
        owner_email: Option<String>,
        #[arg(long, default_value = "")]
        owner_name: String,
        /// Public address of the tenant, for links in emails (default: http://<name>.localhost:3000).
        #[arg(long)]
        base_url: Option<String>,
        /// As for `up`: Spin's state directory and the compiled-component cache.
        #[arg(long)]
        state_dir: Option<PathBuf>,
        #[arg(long)]
        cache_dir: Option<PathBuf>,
    },
    List {
        #[arg(long = "tenants-dir")]
        tenants_dir: PathBuf,
    },
    /// Refuse the tenant's requests (data kept).
    Suspend {
        #[arg(long = "tenants-dir")]
        tenants_dir: PathBuf,
        name: String,
    },
    Resume {
        #[arg(long = "tenants-dir")]
        tenants_dir: PathBuf,
        name: String,
    },
    /// Change the tenant's plan (limits).
    Plan {
        #[arg(long = "tenants-dir")]
        tenants_dir: PathBuf,
        name: String,
        plan: String,
    },
    /// Per-tenant exceptions to the plan's limits (omit a flag to use the plan's).
    Limits {
        #[arg(long = "tenants-dir")]
        tenants_dir: PathBuf,
        name: String,
        #[arg(long)]
        max_users: Option<u32>,
        #[arg(long)]
        max_records: Option<u64>,
        #[arg(long)]
        requests_per_minute: Option<u32>,
    },
    /// A consistent snapshot (SQLite backup + JSON), taken while the tenant serves.
    Export {
        #[arg(long = "tenants-dir")]
        tenants_dir: PathBuf,
        name: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Create a tenant from an export (checksums verified first).
    Restore {
        #[arg(long = "tenants-dir")]
        tenants_dir: PathBuf,
        name: String,
        #[arg(long)]
        from: PathBuf,
    },
    /// Remove every byte of a suspended tenant.
    Delete {
        #[arg(long = "tenants-dir")]
        tenants_dir: PathBuf,
        name: String,
    },
    /// Move a tenant to another region through its home's operator API
    /// (EDGE_OPERATOR_TOKEN), following it until it is done.
    Move {
        name: String,
        #[arg(long)]
        to: String,
        /// The tenant's home region's operator API.
        #[arg(long, default_value = "http://127.0.0.1:3001")]
        operator: String,
    },
    /// Spin/SpinKube deployment artefacts for the tenant.
    Artefacts {
        #[arg(long = "tenants-dir")]
        tenants_dir: PathBuf,
        name: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "registry.example.com/edge-crm:latest")]
        image: String,
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

// mimalloc for Rust and, through its `override` feature, for the statically linked
// SQLite too: glibc's malloc/free were a third of the CPU of a bulk import.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // SQLite's allocation statistics take a global mutex on every malloc; the
    // host never reads them (and they must be off before SQLite initialises).
    // SAFETY: called once, before any connection exists.
    unsafe {
        rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int);
    }
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.cmd {
        Cmd::Up { app: a, listen, drain_secs, operator_listen, exports_dir, no_scheduler, region, regions } => {
            let token = std::env::var("EDGE_OPERATOR_TOKEN").unwrap_or_default();
            if operator_listen.is_some() && token.len() < 16 {
                anyhow::bail!("--operator-listen needs EDGE_OPERATOR_TOKEN (at least 16 characters) in the environment");
            }
            let app = load(&a)?;
            app::start_epoch_ticker(&app.engine);
            let tenancy = a.tenants_dir.clone().map(|dir| tenancy::Tenancy::new(dir, a.tenant_domains.clone()));
            let regions = match (region, regions, &a.tenants_dir) {
                (Some(me), Some(file), Some(dir)) => {
                    if token.len() < 16 {
                        anyhow::bail!("--region needs EDGE_OPERATOR_TOKEN (the same in every region) to keep the tenant directory");
                    }
                    Some(Arc::new(regions::Regions::load(&me, &file, dir, &token)?))
                }
                (Some(_), _, None) => anyhow::bail!("--region needs --tenants-dir"),
                _ => None,
            };
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                // Unattended work for every tenant (SLA checks, scheduled sends, retries).
                let scheduler = match (&a.tenants_dir, no_scheduler) {
                    (Some(dir), false) => {
                        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
                        let domain = a.tenant_domains.first().cloned().unwrap_or_else(|| "localhost".into());
                        let s = scheduler::Scheduler::new(app.clone(), dir.clone(), domain, port);
                        tokio::spawn(s.clone().run());
                        Some(s)
                    }
                    _ => None,
                };
                if let (Some(r), Some(dir)) = (&regions, &a.tenants_dir) {
                    let every = std::env::var("EDGE_DIRECTORY_SYNC_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
                    tokio::spawn(r.clone().sync_loop(dir.clone(), Duration::from_secs(every)));
                }
                let server = Arc::new(server::Server { app, tenancy, regions: regions.clone(), scheduler, holds: Default::default() });
                if let Some(r) = regions {
                    tokio::spawn(moves::recover(server.clone(), r.clone()));
                    tokio::spawn(moves::tidy_loop(server.clone(), r, Duration::from_secs(5)));
                }
                if let Some(op_addr) = operator_listen {
                    let op_listener = tokio::net::TcpListener::bind(&op_addr)
                        .await
                        .with_context(|| format!("cannot listen on {op_addr}"))?;
                    let exports_dir = exports_dir.unwrap_or_else(|| {
                        a.tenants_dir.as_ref().and_then(|d| d.parent()).unwrap_or(std::path::Path::new(".")).join("exports")
                    });
                    let public_port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
                    let op = Arc::new(operator::Operator { server: server.clone(), token, exports_dir, public_port });
                    tokio::spawn(async move {
                        if let Err(e) = operator::serve(op, op_listener).await {
                            log::event("error", "operator API stopped", &[("error", &format!("{e:#}"))]);
                        }
                    });
                }
                server::serve(server, listener, Duration::from_secs(drain_secs), false).await
            })
        }
        Cmd::Check { app: a } => {
            let app = load(&a)?;
            println!("{}: {} components, {} routes: OK", a.manifest.display(), app.components.len(), app.manifest.triggers.len());
            Ok(())
        }
        Cmd::Tenant { cmd } => tenant_cmd(cmd),
        Cmd::RegionArtefacts { tenants_dir, region, regions: file, out, domain, image } => {
            let r = regions::Regions::load(&region, &file, &tenants_dir, "")?;
            // Tenants made or changed offline are in the directory too.
            r.reconcile(&tenants::list(&tenants_dir)?);
            for p in regions::artefacts(&r, &tenants_dir, &domain, &image, &out)? {
                println!("{}", p.display());
            }
            Ok(())
        }
        Cmd::BenchInstantiate { app: a, component, iterations } => {
            let app = load(&a)?;
            rt.block_on(bench::instantiate(app, &component, iterations))
        }
    }
}

fn tenant_cmd(cmd: TenantCmd) -> Result<()> {
    let print = |rec: &tenants::TenantRecord| -> Result<()> {
        println!("{}", serde_json::to_string_pretty(rec)?);
        Ok(())
    };
    match cmd {
        TenantCmd::Create { tenants_dir, name, display_name, region, plan, app, owner_email, owner_name, base_url, state_dir, cache_dir } => {
            let rec = tenants::create(&tenants_dir, &name, &display_name, &region, &plan)?;
            let Some(manifest) = app else { return print(&rec) };
            let args = AppArgs {
                manifest,
                runtime_config: None,
                tenants_dir: Some(tenants_dir.clone()),
                tenant_domains: vec!["localhost".into()],
                tenant_variable: "tenant_id".into(),
                state_dir,
                cache_dir,
                request_timeout_ms: 30_000,
                max_memory_mib: 128,
                pool_size: 8,
            };
            let base = base_url.unwrap_or_else(|| format!("http://{name}.localhost:3000"));
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let out = rt.block_on(async {
                let app = load(&args)?;
                app::start_epoch_ticker(&app.engine);
                let migrations = provision::migrate(&app, &tenants_dir, &name, &base).await?;
                let owner = match &owner_email {
                    Some(email) => Some(provision::invite_owner(&app, &tenants_dir, &name, &base, &provision::Owner { email, name: &owner_name }).await?),
                    None => None,
                };
                anyhow::Ok(serde_json::json!({ "migrations": migrations, "owner": owner }))
            });
            match out {
                Ok(out) => {
                    let mut v = serde_json::to_value(&rec)?;
                    v["migrations"] = out["migrations"].clone();
                    if !out["owner"].is_null() {
                        v["owner"] = out["owner"].clone();
                    }
                    println!("{}", serde_json::to_string_pretty(&v)?);
                    Ok(())
                }
                Err(e) => {
                    // Leave nothing half-provisioned behind.
                    let _ = tenants::set_state(&tenants_dir, &name, tenants::TenantState::Suspended).and_then(|_| tenants::delete(&tenants_dir, &name));
                    Err(e.context(format!("provisioning `{name}` failed; the tenant was removed")))
                }
            }
        }
        TenantCmd::List { tenants_dir } => {
            println!("NAME\tREGION\tPLAN\tSTATE\tDISPLAY NAME");
            for t in tenants::list(&tenants_dir)? {
                println!("{}\t{}\t{}\t{:?}\t{}", t.name, t.region, t.plan, t.state, t.display_name);
            }
            Ok(())
        }
        TenantCmd::Suspend { tenants_dir, name } => print(&tenants::set_state(&tenants_dir, &name, tenants::TenantState::Suspended)?),
        TenantCmd::Resume { tenants_dir, name } => print(&tenants::set_state(&tenants_dir, &name, tenants::TenantState::Active)?),
        TenantCmd::Plan { tenants_dir, name, plan } => print(&tenants::set_plan(&tenants_dir, &name, &plan)?),
        TenantCmd::Limits { tenants_dir, name, max_users, max_records, requests_per_minute } => {
            print(&tenants::set_limits(&tenants_dir, &name, tenants::Limits { max_users, max_records, requests_per_minute })?)
        }
        TenantCmd::Export { tenants_dir, name, out } => {
            println!("{}", tenants::export(&tenants_dir, &name, &out)?.display());
            Ok(())
        }
        TenantCmd::Restore { tenants_dir, name, from } => print(&tenants::restore(&tenants_dir, &name, &from)?),
        TenantCmd::Delete { tenants_dir, name } => {
            tenants::delete(&tenants_dir, &name)?;
            println!("deleted tenant `{name}`");
            Ok(())
        }
        TenantCmd::Move { name, to, operator } => {
            let token = std::env::var("EDGE_OPERATOR_TOKEN").context("EDGE_OPERATOR_TOKEN is needed")?;
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            rt.block_on(async {
                let body = serde_json::json!({ "to": to }).to_string();
                let (status, v) = regions::operator_call(&operator, &token, "POST", &format!("/v1/tenants/{name}/move"), body.into_bytes()).await?;
                if status != 202 {
                    anyhow::bail!("the move did not start ({status}): {}", v["detail"].as_str().unwrap_or(&v.to_string()));
                }
                let mut last = String::new();
                loop {
                    let (_, m) = regions::operator_call(&operator, &token, "GET", &format!("/v1/tenants/{name}/move"), Vec::new()).await?;
                    let phase = m["phase"].as_str().unwrap_or("?").to_string();
                    if phase != last {
                        eprintln!("{name}: {phase}");
                        last = phase.clone();
                    }
                    if phase == "done" || phase == "rolled_back" {
                        println!("{}", serde_json::to_string_pretty(&m)?);
                        if phase == "rolled_back" {
                            anyhow::bail!("the move was rolled back: {}", m["error"].as_str().unwrap_or("?"));
                        }
                        return Ok(());
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
        }
        TenantCmd::Artefacts { tenants_dir, name, out, image } => {
            for p in tenants::artefacts(&tenants_dir, &name, &image, &out)? {
                println!("{}", p.display());
            }
            Ok(())
        }
    }
}
