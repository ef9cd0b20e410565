//! The plugins: building each implementation's module (`build`), the shared plugin configuration
//! (`config`) and the Lua filter generated from it (`lua`).

mod build;
pub mod config;
pub mod lua;

pub use build::*;
