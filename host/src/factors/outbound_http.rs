//! Outbound HTTP: `http://<component>.spin.internal` is an in-process call to that
//! component (service chaining) when the caller's `allowed_outbound_hosts` permits
//! it; other hosts must be listed too, or the request is denied.

use crate::app::App;
use crate::outbound::OutboundPolicy;
use crate::state::CallContext;
use std::future::Future;
use std::sync::Arc;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// Chaining deeper than this is a loop, not an architecture.
const MAX_DEPTH: u8 = 8;

pub struct OutboundHooks {
    pub app: Arc<App>,
    pub caller: String,
    pub policy: Arc<OutboundPolicy>,
    pub call: CallContext,
}

type SendFuture = Box<
    dyn Future<
            Output = Result<(http::Response<WasiBody>, Box<dyn Future<Output = Result<(), Error>> + Send>), Error>,
        > + Send,
>;

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _io: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or("http").to_string();
        let host = uri.host().unwrap_or_default().to_ascii_lowercase();
        let port = uri.port_u16();
        if !self.policy.allows(&scheme, &host, port) {
            tracing_deny(&self.call.request_id, &self.caller, &scheme, &host);
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        if let Some(target) = host.strip_suffix(".spin.internal") {
            let app = self.app.clone();
            let target = target.to_string();
            let mut call = self.call.clone();
            call.depth += 1;
            return Box::new(async move {
                if call.depth > MAX_DEPTH {
                    return Err(Error::LoopDetected);
                }
                if !app.has_component(&target) {
                    return Err(Error::DestinationNotFound);
                }
                let resp = app
                    .handle_internal(&target, request, call)
                    .await
                    .map_err(|e| Error::InternalError(Some(format!("{e:#}"))))?;
                Ok((resp, Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>))
            });
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((res.map(BodyExt::boxed_unsync), Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}

fn tracing_deny(request_id: &str, caller: &str, scheme: &str, host: &str) {
    crate::log::event(
        "warn",
        "outbound request denied",
        &[("request_id", request_id), ("component", caller), ("url", &format!("{scheme}://{host}"))],
    );
}
