//! What a tenant's customers see and the service desk behind it: orders (with
//! their status history, fed by the shop or ERP and by staff) and customers'
//! single-use sign-in links. Plain Rust over `edge_db::Db`.

pub mod hours;
pub mod model;
pub mod schema;
pub mod store;

/// A sign-in link works once, for this many seconds.
pub const LINK_WINDOW: i64 = 15 * 60;
