//! The portal component: orders (staff and integrations, `/api/v1/orders`) and
//! the customers' self-service API (`/api/v1/portal`), over `portal-domain`.

mod customers;
mod desk;
mod http;
mod orders;

use edge_http::{Problem, Reply};
use http::{storage, Ctx};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    let ctx = Ctx::new(&req);
    let result = route(&ctx);
    edge_component::respond("portal", &ctx, result)
}

fn route(ctx: &Ctx) -> Result<Reply, Problem> {
    let segs = ctx.segments();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["internal", "migrate"] if *ctx.method() == Method::Post => {
            let v = edge_db::spin::provision(portal_domain::schema::COMPONENT, portal_domain::schema::MIGRATIONS).map_err(storage)?;
            Ok(Reply::json(200, &v))
        }
        ["internal", "tick"] if *ctx.method() == Method::Post => desk::tick(ctx),
        ["api", "v1", "orders", rest @ ..] => orders::route(ctx, rest),
        ["api", "v1", "tickets", rest @ ..] => desk::tickets(ctx, rest),
        ["api", "v1", "service-settings"] => desk::settings(ctx),
        ["api", "v1", "macros", rest @ ..] => desk::macros(ctx, rest),
        ["api", "v1", "kb", rest @ ..] => desk::articles(ctx, rest),
        ["api", "v1", "service-reports"] if *ctx.method() == Method::Get => desk::report(ctx),
        ["api", "v1", "portal", rest @ ..] => customers::route(ctx, rest),
        _ => Err(Problem::not_found("No such resource")),
    }
}
