//! The per-request state every component instance gets, and the context a
//! request carries across in-process service chaining.

use crate::app::{App, LoadedComponent};
use crate::factors::outbound_http::OutboundHooks;
use crate::factors::StorageScope;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::ResourceTable;
use wasmtime::StoreLimits;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// What a request carries from the edge into every component it reaches.
#[derive(Clone, Debug)]
pub struct CallContext {
    pub request_id: String,
    pub scope: Arc<StorageScope>,
    /// Variables the host binds for this request (e.g. `tenant_id`).
    pub bound_variables: Vec<(String, String)>,
    /// Chaining depth: 0 for a request from outside.
    pub depth: u8,
    pub deadline: Instant,
}

pub struct RequestState {
    pub app: Arc<App>,
    pub component: Arc<LoadedComponent>,
    pub call: CallContext,
    pub table: ResourceTable,
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub hooks: OutboundHooks,
    pub limits: StoreLimits,
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for RequestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}
