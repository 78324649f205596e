//! Staff identity, free of HTTP and storage: who may do what (roles and the
//! permission matrix), how secrets are kept (argon2id passwords, hashed tokens),
//! what a session is and when it ends, and when sign-in attempts are throttled.

pub mod apikey;
pub mod password;
pub mod portal;
pub mod roles;
pub mod session;
pub mod settings;
pub mod throttle;
pub mod token;

pub use roles::{Access, Area, Role};
