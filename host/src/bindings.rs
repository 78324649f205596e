//! Host bindings for the Spin 2.0 platform interfaces, generated from `host/wit`.

wasmtime::component::bindgen!({
    path: "wit",
    world: "fermyon:spin/host",
    with: {
        "fermyon:spin/key-value.store": crate::factors::key_value::KvStore,
        "fermyon:spin/sqlite.connection": crate::factors::sqlite::SqlConn,
    },
});

pub use fermyon::spin::{key_value, sqlite, variables};
