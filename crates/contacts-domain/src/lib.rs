//! The contacts domain, free of any HTTP or storage SDK: what valid contacts,
//! companies, activities and custom fields are, how lists are filtered, sorted
//! and paged, the schema, and the storage logic (over `edge_db::Db`, so it runs
//! in the component and natively in tests and benchmarks alike).

pub mod csv;
pub mod export;
pub mod fields;
pub mod filter;
pub mod import;
pub mod list;
pub mod model;
pub mod schema;
pub mod store;
pub mod validate;

pub use edge_http::Visibility;
pub use list::ListQuery;
pub use model::{Activity, Company, Contact};

/// The id prefix of contacts.
pub const ID_PREFIX: &str = "c";
