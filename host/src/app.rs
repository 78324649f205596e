//! A loaded application: every component compiled once (with an on-disk cache of
//! compiled artifacts), linked against the host capabilities and pre-instantiated,
//! so a request costs one cheap instantiation from the pooling allocator.

use crate::factors::{self, outbound_http::OutboundHooks, StorageScope};
use crate::manifest::{AppManifest, ComponentDef, FileMount, RouteDef};
use crate::outbound::OutboundPolicy;
use crate::routing::{Route, Router};
use crate::runtime_config::RuntimeConfig;
use crate::state::{CallContext, RequestState};
use crate::storage::Pools;
use crate::variables::AppVariables;
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimitsBuilder, Trap};
use wasmtime_wasi::{FsPerms, WasiCtx};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::{WasiBody, WasiHttpCtx, WasiHttpView};

/// Plan limits the host binds per tenant (see `App::tenant_bindings`).
pub const PLAN_VARIABLES: [&str; 2] = ["plan_max_users", "plan_max_records"];

/// Bytes of each linear memory kept resident between instances where Linux's
/// PAGEMAP_SCAN (6.7+) lets Wasmtime find the pages an instance wrote and reset
/// only those: a reused slot then takes no page faults. 0 → 1 MiB: list of 50
/// at 1M contacts 4,057 → 4,815 req/s (p99 6.9 → 5.8 ms), a static file 9,065
/// → 12,027 req/s; 4 and 16 MiB measured the same. Without the scan Wasmtime
/// memsets the whole window on every reuse, which costs more than the faults
/// (4 MiB: 3,837 req/s), so then nothing is kept.
const KEEP_RESIDENT: usize = 1 << 20;

/// Epoch ticks drive per-request time limits.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

#[derive(Debug, Clone)]
pub struct HostOptions {
    pub cache_dir: PathBuf,
    /// Spin's `.spin/` directory: default stores and copied file mounts.
    pub state_dir: PathBuf,
    /// `Some(dir)`: per-tenant storage under `dir/<tenant>/`.
    pub tenants_dir: Option<PathBuf>,
    /// The app variable the host binds to the tenant id per request.
    pub tenant_variable: String,
    pub request_timeout: Duration,
    pub max_memory_bytes: usize,
    pub pool_size: u32,
}

pub struct LoadedComponent {
    pub def: ComponentDef,
    pub pre: ProxyPre<RequestState>,
    pub policy: Arc<OutboundPolicy>,
    /// (host dir, guest path) read-only mounts.
    pub mounts: Vec<(PathBuf, String)>,
    pub env: Vec<(String, String)>,
}

pub struct App {
    pub engine: Engine,
    pub manifest: AppManifest,
    pub components: HashMap<String, Arc<LoadedComponent>>,
    pub router: Router,
    pub variables: Arc<AppVariables>,
    pub pools: Arc<Pools>,
    pub runtime_config: Arc<RuntimeConfig>,
    pub opts: HostOptions,
}

#[derive(Debug)]
pub enum CallError {
    /// The guest trapped (panic, unreachable, out of bounds...).
    Trap(String),
    /// The request ran out of time (a loop, or a slow dependency).
    Timeout,
    /// The guest returned without sending a response.
    NoResponse,
    /// The guest answered with a wasi:http error code.
    Guest(String),
    Host(anyhow::Error),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Trap(t) => write!(f, "component trapped: {t}"),
            CallError::Timeout => write!(f, "request exceeded its time limit"),
            CallError::NoResponse => write!(f, "component returned no response"),
            CallError::Guest(e) => write!(f, "component error: {e}"),
            CallError::Host(e) => write!(f, "host error: {e:#}"),
        }
    }
}

pub fn engine(opts: &HostOptions) -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    // `EDGE_PERFMAP=1`: write /tmp/perf-<pid>.map so `perf report` names guest functions.
    if std::env::var_os("EDGE_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    // Resident pages only with the page scan; without it, none (see KEEP_RESIDENT);
    // a machine that allows no pool at all (capped virtual memory) gets on-demand.
    let mut last_error = None;
    for (scan, resident) in [(wasmtime::Enabled::Yes, KEEP_RESIDENT), (wasmtime::Enabled::No, 0)] {
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool_config(opts, scan, resident)));
        match Engine::new(&config) {
            Ok(e) => return Ok(e),
            Err(e) => last_error = Some(e),
        }
    }
    let error = last_error.map(|e| format!("{e:#}")).unwrap_or_default();
    crate::log::event("warn", "pooling allocator unavailable; using on-demand", &[("error", &error)]);
    config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
    Engine::new(&config).map_err(anyhow::Error::from)
}

fn pool_config(opts: &HostOptions, scan: wasmtime::Enabled, keep_resident: usize) -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(opts.pool_size)
        .total_core_instances(opts.pool_size * 4)
        .total_memories(opts.pool_size * 2)
        .total_tables(opts.pool_size * 4)
        .total_stacks(opts.pool_size)
        .max_core_instances_per_component(64)
        .max_memories_per_component(8)
        .max_tables_per_component(16)
        .max_memory_size(opts.max_memory_bytes)
        .max_component_instance_size(4 << 20)
        .max_core_instance_size(4 << 20)
        .table_elements(20_000)
        .pagemap_scan(scan)
        .linear_memory_keep_resident(keep_resident)
        .table_keep_resident(64 << 10)
        .async_stack_keep_resident(128 << 10)
        .decommit_batch_size(16);
    pool
}

pub fn linker(engine: &Engine) -> Result<Linker<RequestState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    factors::key_value::link(&mut linker)?;
    factors::sqlite::link(&mut linker)?;
    factors::variables::link(&mut linker)?;
    Ok(linker)
}

impl App {
    pub fn load(manifest_path: &Path, runtime_config: Option<&Path>, opts: HostOptions) -> Result<Arc<App>> {
        let manifest = AppManifest::from_file(manifest_path)?;
        let rc = RuntimeConfig::load(runtime_config, &opts.state_dir)?;
        let per_tenant = opts.tenants_dir.is_some();
        factors::key_value::validate(&manifest, &rc, per_tenant)?;
        factors::sqlite::validate(&manifest, &rc, per_tenant)?;
        let mut bound: Vec<&str> = vec![];
        if per_tenant {
            bound.push(opts.tenant_variable.as_str());
            bound.extend(PLAN_VARIABLES);
        }
        let variables = AppVariables::load(&manifest, |k| std::env::var(k).ok(), &bound)?;

        let engine = engine(&opts)?;
        let linker = linker(&engine)?;
        let mut components = HashMap::new();
        for (id, def) in &manifest.components {
            let component = compile_cached(&engine, &def.source, &opts.cache_dir)
                .with_context(|| format!("component `{id}`: cannot load {}", def.source.display()))?;
            let instance_pre = linker
                .instantiate_pre(&component)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component `{id}`: imports an interface this host does not provide"))?;
            let pre = ProxyPre::new(instance_pre)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component `{id}`: does not export wasi:http/incoming-handler"))?;
            let mounts = mounts(def, &manifest.base_dir(), &opts.state_dir)
                .with_context(|| format!("component `{id}`: files"))?;
            components.insert(
                id.clone(),
                Arc::new(LoadedComponent {
                    def: def.clone(),
                    pre,
                    policy: Arc::new(outbound_policy(def, &variables)?),
                    mounts,
                    env: def.environment.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                }),
            );
        }
        let mut routes = Vec::new();
        for t in &manifest.triggers {
            if let RouteDef::Path(p) = &t.route {
                routes.push((Route::parse(p)?, t.component.clone()));
            }
        }
        Ok(Arc::new(App {
            engine,
            router: Router::new(routes),
            manifest,
            components,
            variables,
            pools: Pools::new(Duration::from_secs(30)),
            runtime_config: Arc::new(rc),
            opts,
        }))
    }

    pub fn has_component(&self, id: &str) -> bool {
        self.components.contains_key(id)
    }

    /// A call from another component (`http://<id>.spin.internal`): same tenant,
    /// same storage scope, same deadline.
    pub async fn handle_internal(
        self: &Arc<Self>,
        id: &str,
        mut req: http::Request<WasiBody>,
        call: CallContext,
    ) -> Result<http::Response<WasiBody>, CallError> {
        let path = req.uri().path().to_string();
        let h = req.headers_mut();
        // Spin's view of a chained request: no route, the whole path is path-info.
        for name in SPIN_HEADERS {
            h.remove(*name);
        }
        if let Ok(v) = http::HeaderValue::from_str(&path) {
            h.insert("spin-path-info", v);
        }
        h.insert("spin-matched-route", http::HeaderValue::from_static(""));
        h.insert("spin-base-path", http::HeaderValue::from_static("/"));
        self.handle(id, req, call).await
    }

    /// Runs one request through one component.
    pub async fn handle(
        self: &Arc<Self>,
        id: &str,
        req: http::Request<WasiBody>,
        call: CallContext,
    ) -> Result<http::Response<WasiBody>, CallError> {
        let component = self
            .components
            .get(id)
            .cloned()
            .ok_or_else(|| CallError::Host(anyhow::anyhow!("no component `{id}`")))?;
        let remaining = call.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(CallError::Timeout);
        }
        let mut store = self.store(&component, call).map_err(CallError::Host)?;
        store.set_epoch_deadline((remaining.as_millis() / EPOCH_TICK.as_millis()) as u64 + 1);
        store.epoch_deadline_trap();

        let proxy = component
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| CallError::Host(anyhow::Error::from(e).context("instantiation failed")))?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (incoming, out) = {
            let mut http = store.data_mut().http();
            let incoming = http.new_incoming_request(Scheme::Http, req).map_err(|e| CallError::Host(e.into()))?;
            let out = http.new_response_outparam(tx).map_err(|e| CallError::Host(e.into()))?;
            (incoming, out)
        };
        let task = tokio::spawn(async move {
            proxy.wasi_http_incoming_handler().call_handle(&mut store, incoming, out).await
        });
        match tokio::time::timeout(remaining, rx).await {
            Ok(Ok(Ok(resp))) => Ok(resp),
            Ok(Ok(Err(code))) => Err(CallError::Guest(format!("{code:?}"))),
            Ok(Err(_)) => match task.await {
                Ok(Ok(())) => Err(CallError::NoResponse),
                Ok(Err(e)) => Err(classify(e)),
                Err(join) => Err(CallError::Host(anyhow::anyhow!("handler task failed: {join}"))),
            },
            Err(_) => {
                task.abort();
                Err(CallError::Timeout)
            }
        }
    }

    fn store(self: &Arc<Self>, component: &Arc<LoadedComponent>, call: CallContext) -> Result<Store<RequestState>> {
        let mut wasi = WasiCtx::builder();
        // Mounted files are local and small: reading them inline beats a hop to
        // tokio's blocking pool (two context switches per file operation).
        wasi.inherit_stdout().inherit_stderr().allow_blocking_current_thread(true);
        for (k, v) in &component.env {
            wasi.env(k, v);
        }
        for (host, guest) in &component.mounts {
            wasi.preopened_dir(host, guest, FsPerms::ReadOnly)?;
        }
        let state = RequestState {
            app: self.clone(),
            component: component.clone(),
            hooks: OutboundHooks {
                app: self.clone(),
                caller: component.def.id.clone(),
                policy: component.policy.clone(),
                call: call.clone(),
            },
            call,
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(self.opts.max_memory_bytes)
                .trap_on_grow_failure(true)
                .build(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        Ok(store)
    }

    /// Variables the host binds per request from the tenant's record, when the app
    /// declares them: what a per-tenant Spin deployment would set as
    /// `SPIN_VARIABLE_*` (its id and its plan's limits).
    pub fn tenant_bindings(&self, rec: Option<&crate::tenants::TenantRecord>) -> Vec<(String, String)> {
        let plan = rec.and_then(|r| r.effective_plan());
        let values = [
            (self.opts.tenant_variable.as_str(), rec.map(|r| r.name.clone()).unwrap_or_default()),
            ("plan_max_users", plan.map(|p| p.max_users.to_string()).unwrap_or_default()),
            ("plan_max_records", plan.map(|p| p.max_records.to_string()).unwrap_or_default()),
        ];
        values
            .into_iter()
            .filter(|(name, value)| !value.is_empty() || *name == self.opts.tenant_variable)
            .filter(|(name, _)| self.manifest.variables.contains_key(*name))
            .map(|(n, v)| (n.to_string(), v))
            .collect()
    }

    /// The storage a request for `tenant` is bound to.
    pub fn scope_for(&self, tenant: Option<&str>) -> StorageScope {
        match (&self.opts.tenants_dir, tenant) {
            (None, _) => StorageScope::App(self.runtime_config.clone()),
            (Some(dir), Some(t)) => StorageScope::Tenant(dir.join(t)),
            (Some(_), None) => StorageScope::Unbound,
        }
    }
}

/// A component's outbound policy, with templated entries rendered from app
/// variables; an entry that renders empty (feature not configured) allows nothing.
fn outbound_policy(def: &ComponentDef, vars: &AppVariables) -> Result<OutboundPolicy> {
    let mut entries = Vec::new();
    for e in &def.allowed_outbound_hosts {
        let rendered = if e.contains("{{") { vars.render_app(e)? } else { e.clone() };
        if !rendered.trim().is_empty() {
            entries.push(rendered);
        }
    }
    OutboundPolicy::new(&entries).with_context(|| format!("component `{}`: allowed_outbound_hosts", def.id))
}

/// Headers only the host may set.
pub const SPIN_HEADERS: &[&str] = &[
    "spin-full-url",
    "spin-path-info",
    "spin-matched-route",
    "spin-raw-component-route",
    "spin-component-route",
    "spin-base-path",
    "spin-client-addr",
];

fn classify(e: wasmtime::Error) -> CallError {
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => CallError::Timeout,
        Some(trap) => CallError::Trap(format!("{trap}: {e:?}").lines().take(12).collect::<Vec<_>>().join(" | ")),
        None => CallError::Trap(format!("{e:#}")),
    }
}

/// Compiles a component (adapting a wasip1 core module first), caching the
/// compiled artifact on disk keyed by the wasm's hash and the engine's settings.
pub fn compile_cached(engine: &Engine, source: &Path, cache_dir: &Path) -> Result<Component> {
    let bytes = std::fs::read(source).with_context(|| format!("cannot read {}", source.display()))?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let key = format!("{}-{:016x}", hex::encode(Sha256::digest(&bytes)), hasher.finish());
    let cached = cache_dir.join(format!("{key}.cwasm"));
    if cached.exists() {
        // SAFETY: the file was written by `precompile_component` of an engine with the
        // same compatibility hash (part of its name), into a cache only this host writes.
        match unsafe { Component::deserialize_file(engine, &cached) } {
            Ok(c) => return Ok(c),
            Err(_) => {
                let _ = std::fs::remove_file(&cached);
            }
        }
    }
    let component_bytes = if is_core_module(&bytes) { adapt_wasip1(&bytes)? } else { bytes };
    let compiled = engine.precompile_component(&component_bytes).map_err(anyhow::Error::from)?;
    std::fs::create_dir_all(cache_dir).with_context(|| format!("cannot create {}", cache_dir.display()))?;
    let tmp = cache_dir.join(format!("{key}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, &compiled)?;
    std::fs::rename(&tmp, &cached)?;
    // SAFETY: just produced by this engine.
    Ok(unsafe { Component::deserialize(engine, &compiled) }.map_err(anyhow::Error::from)?)
}

fn is_core_module(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && &bytes[0..4] == b"\0asm" && bytes[4..8] == [1, 0, 0, 0]
}

/// As Spin does: a `wasm32-wasip1` module becomes a component through the
/// preview1 adapter.
fn adapt_wasip1(module: &[u8]) -> Result<Vec<u8>> {
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(module)?
        .adapter(
            "wasi_snapshot_preview1",
            wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?
        .encode()
        .context("cannot adapt wasip1 module to a component")
}

/// Resolves `files` into read-only preopens. Glob patterns are copied into the
/// state dir (as `spin up` does); placements are mounted directly.
fn mounts(def: &ComponentDef, base: &Path, state_dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut out = Vec::new();
    let mut copied = None;
    for f in &def.files {
        match f {
            FileMount::Placement { source, destination } => {
                if !source.is_dir() {
                    bail!("`{}` is not a directory", source.display());
                }
                out.push((source.clone(), destination.clone()));
            }
            FileMount::Pattern(pattern) => {
                let dest = state_dir.join("files").join(&def.id);
                if copied.is_none() {
                    let _ = std::fs::remove_dir_all(&dest);
                    std::fs::create_dir_all(&dest)?;
                    copied = Some(dest.clone());
                }
                let full = base.join(pattern);
                let full = full.to_str().context("non-UTF-8 path")?;
                for entry in glob::glob(full).with_context(|| format!("bad pattern `{pattern}`"))? {
                    let path = entry?;
                    if path.is_file() {
                        let rel = path.strip_prefix(base).unwrap_or(&path);
                        let target = dest.join(rel);
                        if let Some(p) = target.parent() {
                            std::fs::create_dir_all(p)?;
                        }
                        std::fs::copy(&path, &target)?;
                    }
                }
            }
        }
    }
    if let Some(dest) = copied {
        out.push((dest, "/".to_string()));
    }
    Ok(out)
}

impl App {
    /// Store creation plus instantiation, nothing else (for `bench-instantiate`).
    pub async fn instantiate_only(self: &Arc<Self>, component: &Arc<LoadedComponent>, call: CallContext) -> Result<()> {
        let mut store = self.store(component, call)?;
        store.set_epoch_deadline(u64::MAX / 2);
        component.pre.instantiate_async(&mut store).await.map_err(anyhow::Error::from)?;
        Ok(())
    }
}

/// Advances the engine's epoch so per-request deadlines fire.
pub fn start_epoch_ticker(engine: &Engine) {
    let engine = engine.clone();
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || loop {
            std::thread::sleep(EPOCH_TICK);
            engine.increment_epoch();
        })
        .ok();
}
