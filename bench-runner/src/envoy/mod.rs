//! Envoy: finding or installing the binary, generating its bootstrap, running and stopping it.

pub mod bootstrap;
pub mod callgrind;
pub mod extproc;
pub mod locate;
pub mod process;
pub mod runtimes;
pub mod session;

pub use bootstrap::{Filter, ListenerSpec};
pub use locate::EnvoyBin;
pub use process::Envoy;
