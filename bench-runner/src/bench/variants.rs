//! Variants: what one listener of the measurement Envoy runs (baseline, or an implementation: a Wasm
//! module on a runtime, or Envoy's Lua filter, by the manifest's kind) for a workload, and the reply a
//! correct variant gives.

use crate::envoy::{Filter, ListenerSpec};
use crate::load::request::Exchange;
use crate::plugins::own::{OwnKind, OwnPlugin};
use crate::plugins::Built;
use crate::results::own::OWN_WORKLOAD;
use crate::results::{VariantInfo, BASELINE};
use serde_json::{json, Value};
use std::sync::Arc;

pub const MOCK_BODY: &str = "hello higress";
pub const PASSTHROUGH_BODY: &str = "passthrough";
pub use crate::results::profile::WORKLOADS;

/// The plugin configuration of a workload and the body a client must receive.
pub fn workload_config(workload: &str) -> Option<(Value, &'static str)> {
    match workload {
        "mock" => Some((json!({ "content": MOCK_BODY }), MOCK_BODY)),
        "headers" => Some((
            json!({ "mode": "headers", "header_count": 20 }),
            PASSTHROUGH_BODY,
        )),
        _ => None,
    }
}

#[derive(Debug, Clone)]
pub enum Kind {
    Baseline,
    /// An `envoy-lua` implementation: its script template (`built.module`) filled with the config.
    Lua {
        built: Built,
    },
    Wasm {
        built: Built,
        runtime: String,
    },
    /// An `ext-proc` implementation: its processor (`built.module`) behind Envoy's ext_proc filter.
    ExtProc {
        built: Built,
    },
    /// A `dynamic-module` implementation: its shared object (`built.module`) loaded into Envoy by the
    /// dynamic-modules filter.
    DynamicModule {
        built: Built,
    },
    /// A plugin of your own, of any kind (a Wasm one on `runtime`), run as you gave it.
    Own {
        plugin: Arc<OwnPlugin>,
        runtime: Option<String>,
    },
}

/// The runtimes of the non-Wasm native kinds (defined with the results, which name them too).
pub use crate::results::{DYNAMIC_MODULE_RUNTIME, EXT_PROC_RUNTIME};

#[derive(Debug, Clone)]
pub struct Variant {
    pub info: VariantInfo,
    pub kind: Kind,
    pub config: Value,
    pub expect_body: String,
    /// Request body bytes the load generator sends to this listener (0: a GET). Every variant of one
    /// run shares it, the baseline included, so that an overhead is the plugin's and not the bytes'.
    pub body_bytes: usize,
    /// The requests a user stated and the answer that counts for this listener (None: `GET /`
    /// answered 200 `expect_body`). In a run with plugins of your own every listener has it: the
    /// same requests, each its own expected answer.
    pub exchange: Option<Arc<Exchange>>,
    /// The runner's upstream port, when this listener's routes forward to it (runs with plugins of
    /// your own) instead of answering themselves.
    pub upstream: Option<u16>,
}

impl Variant {
    pub fn baseline() -> Variant {
        Variant {
            info: VariantInfo {
                id: BASELINE.into(),
                language: "none".into(),
                runtime: None,
                workload: "none".into(),
                wasm_sha256: None,
                wasm_bytes: None,
            },
            kind: Kind::Baseline,
            config: Value::Null,
            expect_body: PASSTHROUGH_BODY.into(),
            body_bytes: 0,
            exchange: None,
            upstream: None,
        }
    }

    /// A second no-plugin listener, measured exactly like a variant: its overhead must be ~0 (the
    /// run's null check).
    pub fn baseline_aa() -> Variant {
        let mut v = Variant::baseline();
        v.info.id = crate::results::BASELINE_AA.into();
        v
    }

    /// The variants of one implementation for a workload, by its manifest's kind: a Wasm module on
    /// each of `wasm_runtimes`, an `envoy-lua` filter once (it runs on LuaJIT whatever the Wasm
    /// runtimes are).
    pub fn of(built: &Built, wasm_runtimes: &[&str], workload: &str) -> Vec<Variant> {
        if built.is_wasm() {
            wasm_runtimes
                .iter()
                .filter_map(|rt| Variant::wasm(built, rt, workload))
                .collect()
        } else if built.is_ext_proc() {
            Variant::ext_proc(built, workload).into_iter().collect()
        } else if built.is_dynamic_module() {
            Variant::dynamic_module(built, workload)
                .into_iter()
                .collect()
        } else {
            Variant::lua(built, workload).into_iter().collect()
        }
    }

    /// An `ext-proc` implementation (id `<name>-<workload>`, runtime `ext_proc`, no module hash).
    pub fn ext_proc(built: &Built, workload: &str) -> Option<Variant> {
        let mut v = Variant::lua(built, workload)?;
        v.info.runtime = Some(EXT_PROC_RUNTIME.into());
        v.kind = Kind::ExtProc {
            built: built.clone(),
        };
        Some(v)
    }

    /// A `dynamic-module` implementation (id `<name>-<workload>`, runtime `dynamic_module`; the shared
    /// object's hash and size stand where a Wasm module's do).
    pub fn dynamic_module(built: &Built, workload: &str) -> Option<Variant> {
        let mut v = Variant::lua(built, workload)?;
        v.info.runtime = Some(DYNAMIC_MODULE_RUNTIME.into());
        v.info.wasm_sha256 = Some(built.sha256.clone());
        v.info.wasm_bytes = Some(built.bytes);
        v.kind = Kind::DynamicModule {
            built: built.clone(),
        };
        Some(v)
    }

    /// An `envoy-lua` implementation (id `<name>-<workload>`, runtime LuaJIT, no module hash).
    pub fn lua(built: &Built, workload: &str) -> Option<Variant> {
        let (config, body) = workload_config(workload)?;
        Some(Variant {
            info: VariantInfo {
                id: format!("{}-{workload}", built.name),
                language: built.language.clone(),
                runtime: Some(crate::plugins::lua::RUNTIME.into()),
                workload: workload.into(),
                wasm_sha256: None,
                wasm_bytes: None,
            },
            kind: Kind::Lua {
                built: built.clone(),
            },
            config,
            expect_body: body.into(),
            body_bytes: 0,
            exchange: None,
            upstream: None,
        })
    }

    pub fn wasm(built: &Built, runtime: &str, workload: &str) -> Option<Variant> {
        let (config, body) = workload_config(workload)?;
        Some(Variant {
            info: VariantInfo {
                id: format!("{}-{runtime}-{workload}", built.name),
                language: built.language.clone(),
                runtime: Some(runtime.into()),
                workload: workload.into(),
                wasm_sha256: Some(built.sha256.clone()),
                wasm_bytes: Some(built.bytes),
            },
            kind: Kind::Wasm {
                built: built.clone(),
                runtime: runtime.into(),
            },
            config,
            expect_body: body.into(),
            body_bytes: 0,
            exchange: None,
            upstream: None,
        })
    }

    /// A plugin of your own, answering `exchange` (id `<name>-<runtime>-own` for a Wasm plugin on
    /// `runtime`, else `<name>-own`); its file's hash and size stand where a Wasm module's do.
    pub fn own(plugin: &Arc<OwnPlugin>, runtime: Option<&str>, exchange: Arc<Exchange>) -> Variant {
        let name = &plugin.spec.name;
        let (id, rt) = match (&plugin.spec.kind, runtime) {
            (OwnKind::Wasm { .. }, Some(rt)) => {
                (format!("{name}-{rt}-{OWN_WORKLOAD}"), rt.to_string())
            }
            (OwnKind::Lua, _) => (
                format!("{name}-{OWN_WORKLOAD}"),
                crate::plugins::lua::RUNTIME.to_string(),
            ),
            (OwnKind::DynamicModule { .. }, _) => (
                format!("{name}-{OWN_WORKLOAD}"),
                DYNAMIC_MODULE_RUNTIME.to_string(),
            ),
            (OwnKind::ExtProc { .. }, _) => (
                format!("{name}-{OWN_WORKLOAD}"),
                EXT_PROC_RUNTIME.to_string(),
            ),
            (OwnKind::Wasm { .. }, None) => (format!("{name}-{OWN_WORKLOAD}"), "v8".to_string()),
        };
        Variant {
            info: VariantInfo {
                id,
                language: plugin
                    .spec
                    .build
                    .as_ref()
                    .map_or_else(|| "unstated".to_string(), |b| b.manifest.language.clone()),
                runtime: Some(rt.clone()),
                workload: OWN_WORKLOAD.into(),
                wasm_sha256: plugin.sha256.clone(),
                wasm_bytes: plugin.bytes,
            },
            kind: Kind::Own {
                plugin: plugin.clone(),
                runtime: runtime.map(String::from),
            },
            config: Value::Null,
            expect_body: String::new(),
            body_bytes: 0,
            exchange: Some(exchange),
            upstream: None,
        }
    }

    /// The processor of your own the runner started for this listener, if any.
    pub fn own_processor_pid(&self) -> Option<u32> {
        match &self.kind {
            Kind::Own { plugin, .. } => plugin.pid,
            _ => None,
        }
    }

    /// What the load generator sends this listener and what counts as a correct answer.
    pub fn exchange(&self) -> Exchange {
        match &self.exchange {
            Some(x) => (**x).clone(),
            None => {
                let mut x = Exchange::get_exact(&self.expect_body);
                if self.body_bytes > 0 {
                    x.requests[0].method = "POST".into();
                    x.requests[0].body = crate::load::http1::pattern_body(self.body_bytes);
                }
                x
            }
        }
    }

    /// The Envoy filter for this variant with a given plugin configuration.
    pub fn filter_with(&self, config: &Value) -> anyhow::Result<Filter> {
        Ok(match &self.kind {
            // With a request body, the baseline reads it whole (Envoy's buffer filter) before the
            // route answers, as a body plugin does: otherwise Envoy closes the connection.
            Kind::Baseline if self.body_bytes > 0 => Filter::ReadBody {
                max_request_bytes: crate::load::MAX_BODY_BYTES,
            },
            Kind::Baseline => Filter::None,
            Kind::Lua { built } => {
                let parsed = crate::plugins::config::parse(config).map_err(|e| {
                    crate::error::usage(format!(
                        "Lua variant {}: invalid configuration: {e}",
                        self.info.id
                    ))
                })?;
                Filter::Lua {
                    script: crate::plugins::lua::script(&built.module, &parsed)?,
                }
            }
            Kind::ExtProc { built } => ext_proc_filter(built, &config.to_string()),
            Kind::DynamicModule { built } => Filter::DynamicModule {
                module: built.module.clone(),
                configuration: config.to_string(),
                filter_name: None,
            },
            Kind::Own { plugin, runtime } => plugin.filter(runtime.as_deref().unwrap_or("v8"))?,
            Kind::Wasm { built, runtime } => Filter::Wasm {
                module: built.module.clone(),
                runtime: runtime.clone(),
                configuration: config.to_string(),
                plugin_extra: Default::default(),
                // One VM per module and runtime, shared by its workloads' listeners (each keeps its own
                // plugin configuration, as in a gateway where one image serves many routes): every
                // Envoy process of a run compiles each module once, not once per workload.
                vm_id: Some(format!("{}-{runtime}", built.name)),
            },
        })
    }

    pub fn listener(&self, port: u16) -> anyhow::Result<ListenerSpec> {
        Ok(ListenerSpec {
            upstream: self.upstream,
            name: self.info.id.clone(),
            port,
            filter: self.filter_with(&self.config)?,
        })
    }
}

/// The ext_proc filter of a processor with one configuration text; Envoy sends the route name only
/// where the configuration has rules (a valid one; the processor refuses the others at start).
pub fn ext_proc_filter(built: &Built, configuration: &str) -> Filter {
    let parsed = crate::plugins::config::parse_str(configuration).ok();
    Filter::ExtProc {
        processor: built.module.clone(),
        configuration: configuration.into(),
        index: 0,
        route_name: parsed.as_ref().is_some_and(|c| !c.rules.is_empty()),
        buffer_body: parsed.is_some_and(|c| c.mode == crate::plugins::config::Mode::Body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built(name: &str, kind: &str) -> Built {
        Built {
            name: name.into(),
            language: name.into(),
            description: String::new(),
            kind: kind.into(),
            module: format!("{name}.out").into(),
            sha256: "ab".into(),
            bytes: 2,
            rebuilt: false,
        }
    }

    #[test]
    fn variants_follow_the_kind_not_the_name() {
        let wasm = built("rust", crate::plugins::WASM_KIND);
        let ids: Vec<String> = Variant::of(&wasm, &["v8", "wamr"], "mock")
            .into_iter()
            .map(|v| v.info.id)
            .collect();
        assert_eq!(ids, ["rust-v8-mock", "rust-wamr-mock"]);
        // An envoy-lua implementation runs once, on LuaJIT, whatever the Wasm runtimes; no module hash.
        for rts in [&["v8", "wamr"][..], &[]] {
            let v = Variant::of(&built("lua", crate::plugins::LUA_KIND), rts, "headers");
            assert_eq!(v.len(), 1);
            assert_eq!(v[0].info.id, "lua-headers");
            assert_eq!(v[0].info.runtime.as_deref(), Some("luajit"));
            assert_eq!(v[0].info.language, "lua");
            assert_eq!(
                (v[0].info.wasm_sha256.clone(), v[0].info.wasm_bytes),
                (None, None)
            );
        }
    }

    #[test]
    fn a_dynamic_module_runs_once_natively_with_its_hash() {
        let dm = built("dynmod-rust", crate::plugins::DYNAMIC_MODULE_KIND);
        let v = Variant::of(&dm, &["v8"], "mock");
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].info.id, "dynmod-rust-mock");
        assert_eq!(v[0].info.runtime.as_deref(), Some(DYNAMIC_MODULE_RUNTIME));
        assert_eq!(
            (v[0].info.wasm_sha256.as_deref(), v[0].info.wasm_bytes),
            (Some("ab"), Some(2))
        );
        match v[0].listener(1).unwrap().filter {
            Filter::DynamicModule {
                module,
                configuration,
                ..
            } => {
                assert_eq!(module, std::path::PathBuf::from("dynmod-rust.out"));
                assert_eq!(configuration, r#"{"content":"hello higress"}"#);
            }
            f => panic!("{f:?}"),
        }
    }

    #[test]
    fn the_lua_folder_is_prepared_without_a_build_and_fills_its_template() {
        let project = crate::paths::Project::discover();
        let (ready, missing) =
            crate::plugins::prepare_all(&project, Some(&["lua".to_string()]), false).unwrap();
        assert!(missing.is_empty());
        assert_eq!(ready.len(), 1);
        let lua = &ready[0];
        assert_eq!((lua.name.as_str(), lua.kind.as_str()), ("lua", "envoy-lua"));
        assert!(lua.module.ends_with("plugins/lua/filter.lua"));
        let text = std::fs::read(&lua.module).unwrap();
        assert_eq!(lua.sha256, crate::plugins::sha256_hex(&text));
        let v = Variant::lua(lua, "mock").unwrap();
        match v.listener(1).unwrap().filter {
            Filter::Lua { script } => assert!(script.contains("content = \"hello higress\"")),
            f => panic!("{f:?}"),
        }
    }
}
