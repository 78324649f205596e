//! `fermyon:spin/variables@2.0.0`: a component reads only its own variables;
//! values come from per-request bindings (the tenant id), then the environment,
//! then `[variables]` defaults. Secret values are never logged.

use crate::bindings::variables::{self, Error};
use crate::state::RequestState;
use crate::variables::VarError;
use anyhow::Result;
use wasmtime::component::{HasSelf, Linker};

pub fn link(linker: &mut Linker<RequestState>) -> Result<()> {
    variables::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    Ok(())
}

impl variables::Host for RequestState {
    fn get(&mut self, name: String) -> Result<String, Error> {
        self.app
            .variables
            .get(&self.component.def.id, &name, &self.call.bound_variables)
            .map_err(|e| match e {
                VarError::InvalidName(n) => Error::InvalidName(n),
                VarError::Undefined(n) => Error::Undefined(n),
            })
    }
}
