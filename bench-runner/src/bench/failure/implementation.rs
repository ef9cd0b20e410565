//! The implementations a failure run drives: a suite's Wasm plugin on a runtime, its Lua filter,
//! or a plugin of your own; each turned into the Envoy filter of a scenario.

use super::{own, FailurePlan, Policy};
use crate::envoy::Filter;
use crate::error::usage;
use crate::plugins::Built;
use serde_json::{Map, Value};
use std::path::PathBuf;

/// One implementation under test.
#[derive(Debug, Clone)]
pub struct Implementation {
    /// Plugin folder name (`rust`, `go`, `lua`, ...).
    pub name: String,
    pub language: String,
    pub kind: ImplKind,
}

#[derive(Debug, Clone)]
pub enum ImplKind {
    Wasm {
        module: PathBuf,
        runtime: String,
    },
    /// An `envoy-lua` implementation: its script template, filled with each scenario's config.
    Lua {
        template: PathBuf,
    },
    /// A plugin of your own (`failure --plugin ... --crash-on FILE`): its file and configuration as
    /// given, a Wasm plugin on `runtime` (None: a Lua script), sent its own requests.
    Own {
        plugin: std::sync::Arc<crate::plugins::own::OwnPlugin>,
        runtime: Option<String>,
        requests: std::sync::Arc<own::OwnRequests>,
    },
}

impl Implementation {
    /// The size of its Wasm module (0 for Lua): what an Envoy start compiles (see
    /// [`crate::bench::estimate::envoy_start_s`]).
    pub fn wasm_bytes(&self) -> u64 {
        match &self.kind {
            ImplKind::Wasm { module, .. } => std::fs::metadata(module).map_or(0, |m| m.len()),
            ImplKind::Own {
                plugin,
                runtime: Some(_),
                ..
            } => plugin.bytes.unwrap_or(0),
            ImplKind::Lua { .. } | ImplKind::Own { .. } => 0,
        }
    }

    /// An implementation of any kind, by its manifest's: a Wasm module runs on `runtime`.
    pub fn of(b: &Built, runtime: &str) -> Implementation {
        Implementation {
            name: b.name.clone(),
            language: b.language.clone(),
            kind: if b.is_wasm() {
                ImplKind::Wasm {
                    module: b.module.clone(),
                    runtime: runtime.into(),
                }
            } else {
                ImplKind::Lua {
                    template: b.module.clone(),
                }
            },
        }
    }

    /// A Wasm module (the suite's or yours).
    pub fn runs_wasm(&self) -> bool {
        matches!(
            self.kind,
            ImplKind::Wasm { .. }
                | ImplKind::Own {
                    runtime: Some(_),
                    ..
                }
        )
    }

    /// A plugin of your own.
    pub fn is_own(&self) -> bool {
        matches!(self.kind, ImplKind::Own { .. })
    }

    pub fn policies(&self, plan: &FailurePlan) -> Vec<Policy> {
        match self.kind {
            ImplKind::Lua { .. } | ImplKind::Own { runtime: None, .. } => vec![Policy::None],
            ImplKind::Wasm { .. } | ImplKind::Own { .. } => plan.policies.clone(),
        }
    }

    pub fn filter(&self, config: &Value, extra: Map<String, Value>) -> anyhow::Result<Filter> {
        Ok(match &self.kind {
            ImplKind::Wasm { module, runtime } => Filter::Wasm {
                module: module.clone(),
                runtime: runtime.clone(),
                configuration: config.to_string(),
                plugin_extra: extra,
                vm_id: None,
            },
            ImplKind::Lua { template } => {
                let parsed = crate::plugins::config::parse(config).map_err(|e| {
                    usage(format!("Lua failure scenario: invalid configuration: {e}"))
                })?;
                Filter::Lua {
                    script: crate::plugins::lua::script(template, &parsed)?,
                }
            }
            // Its own configuration, not the scenario's; the policy merged in, and one VM per
            // listener (the listener's name) as for the suite's.
            ImplKind::Own {
                plugin, runtime, ..
            } => match plugin.filter(runtime.as_deref().unwrap_or("-"))? {
                Filter::Wasm {
                    module,
                    runtime,
                    configuration,
                    mut plugin_extra,
                    ..
                } => {
                    plugin_extra.extend(extra);
                    Filter::Wasm {
                        module,
                        runtime,
                        configuration,
                        plugin_extra,
                        vm_id: None,
                    }
                }
                f => f,
            },
        })
    }
}
