//! `fermyon:spin/key-value@2.0.0`: a component may open only the labels its
//! manifest lists (`access-denied` otherwise); labels resolve through the request's
//! storage scope to a backend.

use crate::bindings::key_value::{self, Error};
use crate::manifest::AppManifest;
use crate::runtime_config::RuntimeConfig;
use crate::state::RequestState;
use crate::storage::{KeyValueBackend, SpinKeyValue};
use anyhow::Result;
use wasmtime::component::{HasSelf, Linker, Resource};

pub struct KvStore(Box<dyn KeyValueBackend>);

pub fn link(linker: &mut Linker<RequestState>) -> Result<()> {
    key_value::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    Ok(())
}

/// Every label a component lists must have a store (Spin fails at start-up too).
pub fn validate(manifest: &AppManifest, rc: &RuntimeConfig, per_tenant: bool) -> Result<()> {
    super::check_labels(manifest, "key-value store", "key_value_store", |c| &c.key_value_stores, &rc.key_value, per_tenant)
}

fn other(e: anyhow::Error) -> Error {
    Error::Other(format!("{e:#}"))
}

impl key_value::Host for RequestState {}

impl key_value::HostStore for RequestState {
    fn open(&mut self, label: String) -> Result<Resource<KvStore>, Error> {
        if !self.component.def.key_value_stores.iter().any(|l| *l == label) {
            return Err(Error::AccessDenied);
        }
        let Some(path) = self.call.scope.key_value_path(&label) else {
            return Err(Error::NoSuchStore);
        };
        let backend = SpinKeyValue { pools: self.app.pools.clone(), path, label };
        self.table
            .push(KvStore(Box::new(backend)))
            .map_err(|_| Error::StoreTableFull)
    }

    fn get(&mut self, s: Resource<KvStore>, key: String) -> Result<Option<Vec<u8>>, Error> {
        self.kv(&s)?.get(&key).map_err(other)
    }

    fn set(&mut self, s: Resource<KvStore>, key: String, value: Vec<u8>) -> Result<(), Error> {
        self.kv(&s)?.set(&key, &value).map_err(other)
    }

    fn delete(&mut self, s: Resource<KvStore>, key: String) -> Result<(), Error> {
        self.kv(&s)?.delete(&key).map_err(other)
    }

    fn exists(&mut self, s: Resource<KvStore>, key: String) -> Result<bool, Error> {
        self.kv(&s)?.exists(&key).map_err(other)
    }

    fn get_keys(&mut self, s: Resource<KvStore>) -> Result<Vec<String>, Error> {
        self.kv(&s)?.keys().map_err(other)
    }

    fn drop(&mut self, s: Resource<KvStore>) -> wasmtime::Result<()> {
        self.table.delete(s)?;
        Ok(())
    }
}

impl RequestState {
    fn kv(&self, s: &Resource<KvStore>) -> Result<&dyn KeyValueBackend, Error> {
        self.table
            .get(s)
            .map(|k| k.0.as_ref())
            .map_err(|e| Error::Other(e.to_string()))
    }
}
