//! Engines that measure: the run matrix (`measure`), failure scenarios, memory and start-up
//! (`footprint`), in-process `micro`,
//! load-generator `peers`, `conformance`, differential `fuzz`, and the variants (baseline, plugins, Lua) they run;
//! `estimate` and `progress`: what a long command plans, announces and shows as it goes.

pub mod ab;
pub mod calls;
pub mod conformance;
pub mod curves;
pub mod estimate;
pub mod failure;
pub mod footprint;
pub mod fuzz;
pub mod instructions;
pub mod k8s;
pub mod lifecycle;
pub mod measure;
pub mod merge;
pub mod micro;
pub mod own;
pub mod peers;
pub mod progress;
pub mod variants;
