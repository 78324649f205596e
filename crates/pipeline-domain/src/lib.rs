//! The sales pipeline: pipelines of ordered stages with win probabilities and
//! stale limits, deals in board order with their stage history, money in the
//! deal's currency and the tenant's base currency, and the forecast and sales
//! reports computed from them. Plain Rust over `edge_db::Db`, so the same SQL
//! runs in the component and natively in tests and benchmarks.

pub mod model;
pub mod money;
pub mod reports;
pub mod schema;
pub mod store;

pub use edge_http::Visibility;
