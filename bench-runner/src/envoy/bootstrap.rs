//! Builds Envoy bootstrap configs from the YAML templates in `envoy/`. Templates are parsed into
//! values and the runner sets fields by path: user input (configs, scripts, names) is only ever a JSON
//! string value, never pasted into YAML text.

use crate::error::usage;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Bootstraps for the failure scenarios (`envoy/failure/` templates).
pub mod failure;
/// Bootstraps for lifecycle runs (`envoy/lifecycle/` templates): remote code, ECDS, LDS.
pub mod lifecycle;

/// The HTTP filter a variant's listener runs before the router.
#[derive(Debug, Clone)]
pub enum Filter {
    /// No plugin: the baseline.
    None,
    /// No plugin, but Envoy's own buffer filter: the whole request body is read before the route
    /// answers. The baseline of requests with a body: a `direct_response` route answers at the
    /// headers, and Envoy then closes an HTTP/1.1 connection whose body it has not read
    /// (`connection: close`), so a bare baseline would pay a new connection per request.
    ReadBody {
        max_request_bytes: usize,
    },
    Wasm {
        /// The module on disk.
        module: PathBuf,
        /// Runtime name as Envoy spells it after `envoy.wasm.runtime.` (e.g. "v8").
        runtime: String,
        /// The plugin's JSON configuration, passed as the filter's configuration string.
        configuration: String,
        /// Extra fields merged into the PluginConfig (e.g. failure_policy).
        plugin_extra: serde_json::Map<String, Value>,
        /// VM id; None gives the listener its own VM. Listeners with the same id, module and runtime
        /// share one VM (one compilation), each with its own root context.
        vm_id: Option<String>,
    },
    Lua {
        script: String,
    },
    /// Envoy's ext_proc filter, answered by the runner's external processor (an `ext-proc`
    /// implementation): one processor per Envoy holds every such listener's configuration.
    ExtProc {
        /// The processor binary.
        processor: PathBuf,
        /// The plugin's JSON configuration, handed to the processor as a file at start.
        configuration: String,
        /// Which of the processor's configurations is this listener's (their order among the
        /// Envoy's ext_proc listeners; set by [`Templates::bootstrap_with`]).
        index: usize,
        /// Whether Envoy sends the route name (`xds.route_name`): only rules need it.
        route_name: bool,
        /// Whether Envoy sends the request body, buffered whole (`request_body_mode: BUFFERED`): only
        /// the `body` mode needs it; every other configuration gets request headers only.
        buffer_body: bool,
    },
    /// Envoy's dynamic-modules filter running a native module (a `dynamic-module` implementation)
    /// in-process; the plugin's JSON configuration is its `filter_config` (a StringValue).
    DynamicModule {
        /// The shared object on disk (`module.local.filename`).
        module: PathBuf,
        configuration: String,
        /// The filter name Envoy asks the module for (`filter_name`); None: the template's.
        filter_name: Option<String>,
    },
    /// Envoy's ext_proc filter pointed at a processor the runner does not configure itself (a
    /// user's, at a loopback address or started by the runner on a free port): Envoy's default
    /// processing mode, then `settings` merged into the filter's configuration.
    ExtProcAt {
        /// The cluster Envoy reaches the processor through (one per processor address).
        cluster: String,
        port: u16,
        /// Fields of `ExternalProcessor` merged over the defaults (e.g. `processing_mode`).
        settings: serde_json::Map<String, Value>,
    },
}

impl Filter {
    /// The ext_proc listeners' configurations, in listener order: what their processor is given.
    pub fn ext_proc_configs(listeners: &[ListenerSpec]) -> Vec<String> {
        listeners
            .iter()
            .filter_map(|l| match &l.filter {
                Filter::ExtProc { configuration, .. } => Some(configuration.clone()),
                _ => None,
            })
            .collect()
    }

    /// The processor binary of the first ext_proc listener, if any.
    pub fn ext_proc_binary(listeners: &[ListenerSpec]) -> Option<PathBuf> {
        Filter::ext_proc_binaries(listeners).into_iter().next()
    }

    /// The distinct processor binaries of the ext_proc listeners, in listener order: one processor
    /// each (two builds of a processor side by side in one Envoy, `ab`).
    pub fn ext_proc_binaries(listeners: &[ListenerSpec]) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        for l in listeners {
            if let Filter::ExtProc { processor, .. } = &l.filter {
                if !out.contains(processor) {
                    out.push(processor.clone());
                }
            }
        }
        out
    }

    /// The configurations of the ext_proc listeners served by `binary`, in listener order: what that
    /// processor is given.
    pub fn ext_proc_configs_of(listeners: &[ListenerSpec], binary: &Path) -> Vec<String> {
        listeners
            .iter()
            .filter_map(|l| match &l.filter {
                Filter::ExtProc {
                    configuration,
                    processor,
                    ..
                } if processor == binary => Some(configuration.clone()),
                _ => None,
            })
            .collect()
    }
}

/// The gRPC cluster of the `i`-th processor binary of an Envoy (`extproc`, `extproc-1`, ...).
pub fn ext_proc_cluster_name(i: usize) -> String {
    if i == 0 {
        "extproc".into()
    } else {
        format!("extproc-{i}")
    }
}

#[derive(Debug, Clone)]
pub struct ListenerSpec {
    /// Unique name; also the stat prefix and the Wasm VM id.
    pub name: String,
    pub port: u16,
    pub filter: Filter,
    /// The runner's upstream on 127.0.0.1 at this port: the listener's routes forward there (naming
    /// the listener in a request header) instead of answering themselves. Every listener of one
    /// Envoy that has it must name the same port.
    pub upstream: Option<u16>,
}

/// Merges `from` into `into`: objects key by key (recursively), anything else replaced.
pub fn merge_json(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(slot) => merge_json(slot, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

pub struct Templates {
    dir: PathBuf,
    bootstrap: Value,
    listener: Value,
    wasm: Value,
    lua: Value,
    ext_proc: Value,
    ext_proc_cluster: Value,
    dynamic_module: Value,
    router: Value,
    upstream_route: Value,
    upstream_cluster: Value,
}

fn load(dir: &Path, name: &str) -> anyhow::Result<Value> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        usage(format!(
            "cannot read Envoy template {} ({e})",
            path.display()
        ))
    })?;
    serde_yaml::from_str(&text).map_err(|e| {
        usage(format!(
            "Envoy template {} is not valid YAML: {e}",
            path.display()
        ))
    })
}

impl Templates {
    pub fn load(dir: &Path) -> anyhow::Result<Templates> {
        Ok(Templates {
            dir: dir.to_path_buf(),
            bootstrap: load(dir, "bootstrap.yaml")?,
            listener: load(dir, "listener.yaml")?,
            wasm: load(dir, "filters/wasm.yaml")?,
            lua: load(dir, "filters/lua.yaml")?,
            ext_proc: load(dir, "filters/ext_proc.yaml")?,
            ext_proc_cluster: load(dir, "filters/ext_proc_cluster.yaml")?,
            dynamic_module: load(dir, "filters/dynamic_module.yaml")?,
            router: load(dir, "filters/router.yaml")?,
            upstream_route: load(dir, UPSTREAM_ROUTE)?,
            upstream_cluster: load(dir, UPSTREAM_CLUSTER)?,
        })
    }

    fn set(&self, v: &mut Value, file: &str, pointer: &str, new: Value) -> anyhow::Result<()> {
        let slot = v.pointer_mut(pointer).ok_or_else(|| {
            usage(format!(
                "Envoy template {} has no field {pointer}; restore it from git",
                self.dir.join(file).display()
            ))
        })?;
        *slot = new;
        Ok(())
    }

    fn filter(&self, name: &str, f: &Filter) -> anyhow::Result<Option<Value>> {
        Ok(match f {
            Filter::None => None,
            Filter::ReadBody { max_request_bytes } => Some(json!({
                "name": "envoy.filters.http.buffer",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer",
                    "max_request_bytes": max_request_bytes,
                }
            })),
            Filter::Wasm {
                module,
                runtime,
                configuration,
                plugin_extra,
                vm_id,
            } => {
                let mut v = self.wasm.clone();
                let file = "filters/wasm.yaml";
                self.set(&mut v, file, "/typed_config/config/name", json!(name))?;
                self.set(
                    &mut v,
                    file,
                    "/typed_config/config/configuration/value",
                    json!(configuration),
                )?;
                self.set(
                    &mut v,
                    file,
                    "/typed_config/config/vm_config/vm_id",
                    json!(vm_id.as_deref().unwrap_or(name)),
                )?;
                self.set(
                    &mut v,
                    file,
                    "/typed_config/config/vm_config/runtime",
                    json!(format!("envoy.wasm.runtime.{runtime}")),
                )?;
                self.set(
                    &mut v,
                    file,
                    "/typed_config/config/vm_config/code/local/filename",
                    json!(module.display().to_string()),
                )?;
                if let Some(cfg) = v.pointer_mut("/typed_config/config") {
                    merge_json(cfg, &Value::Object(plugin_extra.clone()));
                }
                Some(v)
            }
            Filter::Lua { script } => {
                let mut v = self.lua.clone();
                self.set(
                    &mut v,
                    "filters/lua.yaml",
                    "/typed_config/default_source_code/inline_string",
                    json!(script),
                )?;
                Some(v)
            }
            Filter::ExtProc {
                index,
                route_name,
                buffer_body,
                ..
            } => {
                let mut v = self.ext_proc.clone();
                let file = "filters/ext_proc.yaml";
                self.set(
                    &mut v,
                    file,
                    "/typed_config/grpc_service/initial_metadata/0/value",
                    json!(index.to_string()),
                )?;
                let attributes: Vec<&str> = if *route_name {
                    vec!["xds.route_name"]
                } else {
                    vec![]
                };
                self.set(
                    &mut v,
                    file,
                    "/typed_config/request_attributes",
                    json!(attributes),
                )?;
                if *buffer_body {
                    self.set(
                        &mut v,
                        file,
                        "/typed_config/processing_mode/request_body_mode",
                        json!("BUFFERED"),
                    )?;
                }
                Some(v)
            }
            Filter::DynamicModule {
                module,
                configuration,
                filter_name,
            } => {
                let mut v = self.dynamic_module.clone();
                let file = "filters/dynamic_module.yaml";
                if let Some(n) = filter_name {
                    self.set(&mut v, file, "/typed_config/filter_name", json!(n))?;
                }
                self.set(
                    &mut v,
                    file,
                    "/typed_config/dynamic_module_config/module/local/filename",
                    json!(module.display().to_string()),
                )?;
                self.set(
                    &mut v,
                    file,
                    "/typed_config/filter_config/value",
                    json!(configuration),
                )?;
                Some(v)
            }
            Filter::ExtProcAt {
                cluster, settings, ..
            } => {
                let mut v = self.ext_proc.clone();
                let file = "filters/ext_proc.yaml";
                self.set(
                    &mut v,
                    file,
                    "/typed_config/grpc_service/envoy_grpc/cluster_name",
                    json!(cluster),
                )?;
                // Not the runner's processor: no configuration index, Envoy's own processing mode.
                if let Some(t) = v
                    .pointer_mut("/typed_config")
                    .and_then(Value::as_object_mut)
                {
                    t.remove("processing_mode");
                    t.remove("request_attributes");
                    if let Some(g) = t.get_mut("grpc_service").and_then(Value::as_object_mut) {
                        g.remove("initial_metadata");
                    }
                }
                if let Some(t) = v.pointer_mut("/typed_config") {
                    merge_json(t, &Value::Object(settings.clone()));
                }
                Some(v)
            }
        })
    }

    /// The cluster of a processor at 127.0.0.1:`port` named `name` (gRPC over HTTP/2).
    fn ext_proc_cluster(&self, name: &str, port: u16) -> anyhow::Result<Value> {
        let mut cluster = self.ext_proc_cluster.clone();
        let file = "filters/ext_proc_cluster.yaml";
        self.set(&mut cluster, file, "/name", json!(name))?;
        self.set(
            &mut cluster,
            file,
            "/load_assignment/cluster_name",
            json!(name),
        )?;
        self.set(
            &mut cluster,
            file,
            "/load_assignment/endpoints/0/lb_endpoints/0/endpoint/address/socket_address/port_value",
            json!(port),
        )?;
        Ok(cluster)
    }

    /// The whole bootstrap for one Envoy process (an ext_proc listener's processor port is a
    /// placeholder: for validation only; see [`Templates::bootstrap_with`]).
    pub fn bootstrap(&self, admin_port: u16, listeners: &[ListenerSpec]) -> anyhow::Result<Value> {
        self.bootstrap_with(admin_port, listeners, 1)
    }

    /// The whole bootstrap for one Envoy process whose ext_proc listeners (if any) use the processor
    /// on `ext_proc_port`, each its own configuration by its order among them.
    pub fn bootstrap_with(
        &self,
        admin_port: u16,
        listeners: &[ListenerSpec],
        ext_proc_port: u16,
    ) -> anyhow::Result<Value> {
        let n = Filter::ext_proc_binaries(listeners).len();
        self.bootstrap_with_processors(admin_port, listeners, &vec![ext_proc_port; n])
    }

    /// [`Templates::bootstrap_with`] for ext_proc listeners of several processor binaries: the
    /// `i`-th binary of [`Filter::ext_proc_binaries`] listens on `ports[i]` and is the cluster
    /// [`ext_proc_cluster_name`]`(i)`; each listener gets its configuration by its order among that
    /// processor's listeners.
    pub fn bootstrap_with_processors(
        &self,
        admin_port: u16,
        listeners: &[ListenerSpec],
        ports: &[u16],
    ) -> anyhow::Result<Value> {
        let binaries = Filter::ext_proc_binaries(listeners);
        let mut next = vec![0usize; binaries.len()];
        let mut values = Vec::with_capacity(listeners.len());
        for l in listeners {
            let mut l = l.clone();
            let mut cluster = None;
            if let Filter::ExtProc {
                index, processor, ..
            } = &mut l.filter
            {
                let b = binaries.iter().position(|x| x == processor).unwrap_or(0);
                *index = next[b];
                next[b] += 1;
                cluster = Some(ext_proc_cluster_name(b));
            }
            let mut v = self.listener_from(&self.listener, "listener.yaml", &l)?;
            if let Some(name) = cluster.filter(|_| binaries.len() > 1) {
                let at = format!(
                    "{HCM}/http_filters/0/typed_config/grpc_service/envoy_grpc/cluster_name"
                );
                self.set(&mut v, "filters/ext_proc.yaml", &at, json!(name))?;
            }
            values.push(v);
        }
        let mut root = self.root(admin_port, values)?;
        let mut clusters = vec![];
        for (b, port) in ports.iter().enumerate().take(binaries.len()) {
            clusters.push(self.ext_proc_cluster(&ext_proc_cluster_name(b), *port)?);
        }
        let mut seen: Vec<&str> = vec![];
        for l in listeners {
            if let Filter::ExtProcAt { cluster, port, .. } = &l.filter {
                if !seen.contains(&cluster.as_str()) {
                    seen.push(cluster);
                    clusters.push(self.ext_proc_cluster(cluster, *port)?);
                }
            }
        }
        let upstreams: Vec<u16> = listeners.iter().filter_map(|l| l.upstream).collect();
        if let Some(&port) = upstreams.first() {
            if upstreams.iter().any(|p| *p != port) {
                return Err(anyhow::anyhow!(
                    "listeners of one Envoy name different upstream ports: {upstreams:?}"
                ));
            }
            let mut cluster = self.upstream_cluster.clone();
            self.set(
                &mut cluster,
                UPSTREAM_CLUSTER,
                "/load_assignment/endpoints/0/lb_endpoints/0/endpoint/address/socket_address/port_value",
                json!(port),
            )?;
            clusters.push(cluster);
        }
        if !clusters.is_empty() {
            let list = root
                .pointer_mut("/static_resources/clusters")
                .and_then(Value::as_array_mut)
                .ok_or_else(|| usage("Envoy template bootstrap.yaml has no static_resources/clusters list; restore it from git"))?;
            list.extend(clusters);
        }
        Ok(root)
    }

    /// The bootstrap template with the admin port and these listeners: what every Envoy the runner
    /// starts has in common (the failure scenarios add their cluster to it).
    pub(super) fn root(&self, admin_port: u16, listeners: Vec<Value>) -> anyhow::Result<Value> {
        let mut root = self.bootstrap.clone();
        self.set(
            &mut root,
            "bootstrap.yaml",
            "/admin/address/socket_address/port_value",
            json!(admin_port),
        )?;
        self.set(
            &mut root,
            "bootstrap.yaml",
            "/static_resources/listeners",
            Value::Array(listeners),
        )?;
        Ok(root)
    }

    /// One listener from a listener template (`file` names it in errors): its name, port and stat
    /// prefix, and the HTTP filters (the plugin's, if any, then the router).
    pub(super) fn listener_from(
        &self,
        template: &Value,
        file: &str,
        l: &ListenerSpec,
    ) -> anyhow::Result<Value> {
        let mut v = template.clone();
        self.set(&mut v, file, "/name", json!(l.name))?;
        self.set(
            &mut v,
            file,
            "/address/socket_address/port_value",
            json!(l.port),
        )?;
        self.set(&mut v, file, &format!("{HCM}/stat_prefix"), json!(l.name))?;
        if l.upstream.is_some() {
            let mut routes = self.upstream_route.clone();
            self.set(
                &mut routes,
                UPSTREAM_ROUTE,
                "/virtual_hosts/0/request_headers_to_add/0/header/value",
                json!(l.name),
            )?;
            self.set(&mut v, file, &format!("{HCM}/route_config"), routes)?;
        }
        if matches!(l.filter, Filter::ExtProc { .. } | Filter::ExtProcAt { .. }) {
            // ext_proc refuses a header mutation that leaves more request headers than the
            // connection manager's limit (100 by default), where a Wasm or Lua filter may add as many
            // as it likes: the contract's `header_count` goes up to 2^31-1 (conformance uses 200).
            let hcm = v
                .pointer_mut(HCM)
                .and_then(Value::as_object_mut)
                .ok_or_else(|| {
                    usage(format!(
                        "Envoy template {file} has no {HCM}; restore it from git"
                    ))
                })?;
            hcm.insert(
                "common_http_protocol_options".into(),
                json!({ "max_headers_count": EXT_PROC_MAX_HEADERS }),
            );
        }
        let mut filters: Vec<Value> = self.filter(&l.name, &l.filter)?.into_iter().collect();
        filters.push(self.router.clone());
        self.set(
            &mut v,
            file,
            &format!("{HCM}/http_filters"),
            Value::Array(filters),
        )?;
        Ok(v)
    }
}

/// The routes of a listener that forwards to the runner's upstream (see [`ListenerSpec::upstream`]).
const UPSTREAM_ROUTE: &str = "upstream/routes.yaml";
/// The runner's upstream as an Envoy cluster (shared with the failure scenarios).
const UPSTREAM_CLUSTER: &str = "failure/cluster.yaml";

/// The request-header limit of an ext_proc listener (Envoy's own maximum).
pub const EXT_PROC_MAX_HEADERS: u32 = 8192;

/// Where a listener template holds its HTTP connection manager's configuration.
pub(super) const HCM: &str = "/filter_chains/0/filters/0/typed_config";

#[cfg(test)]
mod tests {
    use super::*;

    fn templates() -> Templates {
        Templates::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../envoy")).unwrap()
    }

    #[test]
    fn user_strings_stay_values() {
        let t = templates();
        let evil = "x\"}\n  admin: {}\n'";
        let b = t
            .bootstrap(
                9000,
                &[ListenerSpec {
                    upstream: None,
                    name: "rust-v8-mock".into(),
                    port: 9001,
                    filter: Filter::Wasm {
                        module: "/m.wasm".into(),
                        runtime: "v8".into(),
                        configuration: evil.into(),
                        plugin_extra: Default::default(),
                        vm_id: None,
                    },
                }],
            )
            .unwrap();
        let l = &b["static_resources"]["listeners"][0];
        assert_eq!(l["address"]["socket_address"]["port_value"], 9001);
        let f = &l["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"];
        assert_eq!(
            f[0]["typed_config"]["config"]["configuration"]["value"],
            evil
        );
        assert_eq!(
            f[0]["typed_config"]["config"]["vm_config"]["runtime"],
            "envoy.wasm.runtime.v8"
        );
        assert_eq!(f[1]["name"], "envoy.filters.http.router");
        assert_eq!(
            b["admin"]["address"]["socket_address"]["address"],
            "127.0.0.1"
        );
    }

    #[test]
    fn ext_proc_listeners_number_their_configurations_and_share_one_cluster() {
        let ext = |name: &str, route_name: bool| ListenerSpec {
            upstream: None,
            name: name.into(),
            port: 2,
            filter: Filter::ExtProc {
                processor: "/p".into(),
                configuration: "{}".into(),
                index: 0,
                route_name,
                buffer_body: route_name,
            },
        };
        let none = ListenerSpec {
            upstream: None,
            name: "baseline".into(),
            port: 3,
            filter: Filter::None,
        };
        let listeners = [ext("a", false), none, ext("b", true)];
        assert_eq!(Filter::ext_proc_configs(&listeners).len(), 2);
        let b = templates().bootstrap_with(1, &listeners, 4242).unwrap();
        let hcm = |i: usize| {
            b["static_resources"]["listeners"][i]["filter_chains"][0]["filters"][0]["typed_config"]
                .clone()
        };
        let f = |i: usize| hcm(i)["http_filters"][0]["typed_config"].clone();
        assert_eq!(f(0)["grpc_service"]["initial_metadata"][0]["value"], "0");
        assert_eq!(f(2)["grpc_service"]["initial_metadata"][0]["value"], "1");
        assert_eq!(f(0)["request_attributes"], json!([]));
        assert_eq!(f(2)["request_attributes"], json!(["xds.route_name"]));
        assert_eq!(f(0)["processing_mode"]["request_header_mode"], "SEND");
        assert_eq!(f(0)["processing_mode"]["response_header_mode"], "SKIP");
        assert_eq!(f(0)["processing_mode"]["request_body_mode"], "NONE");
        assert_eq!(f(2)["processing_mode"]["request_body_mode"], "BUFFERED");
        assert!(hcm(1)["common_http_protocol_options"].is_null());
        assert_eq!(
            hcm(0)["common_http_protocol_options"]["max_headers_count"],
            EXT_PROC_MAX_HEADERS
        );
        let clusters = b["static_resources"]["clusters"].as_array().unwrap();
        assert_eq!(clusters.len(), 1);
        assert_eq!(
            clusters[0]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
                ["address"]["socket_address"]["port_value"],
            4242
        );
    }

    #[test]
    fn upstream_listeners_forward_there_naming_themselves_and_own_processors_get_their_cluster() {
        let mut settings = serde_json::Map::new();
        settings.insert(
            "processing_mode".into(),
            json!({"response_header_mode": "SKIP"}),
        );
        let listeners = [
            ListenerSpec {
                name: "baseline".into(),
                port: 2,
                filter: Filter::None,
                upstream: Some(4242),
            },
            ListenerSpec {
                name: "xp-own".into(),
                port: 3,
                filter: Filter::ExtProcAt {
                    cluster: "own-xp".into(),
                    port: 5151,
                    settings,
                },
                upstream: Some(4242),
            },
        ];
        let b = templates().bootstrap(1, &listeners).unwrap();
        let hcm = |i: usize| {
            b["static_resources"]["listeners"][i]["filter_chains"][0]["filters"][0]["typed_config"]
                .clone()
        };
        for (i, name) in [(0, "baseline"), (1, "xp-own")] {
            let vh = &hcm(i)["route_config"]["virtual_hosts"][0];
            assert_eq!(vh["routes"][2]["route"]["cluster"], "upstream");
            assert_eq!(
                vh["request_headers_to_add"][0]["header"]["key"],
                crate::upstream::LISTENER_HEADER
            );
            assert_eq!(vh["request_headers_to_add"][0]["header"]["value"], name);
        }
        let xp = &hcm(1)["http_filters"][0]["typed_config"];
        assert_eq!(xp["grpc_service"]["envoy_grpc"]["cluster_name"], "own-xp");
        assert!(xp["grpc_service"]["initial_metadata"].is_null());
        assert_eq!(
            xp["processing_mode"],
            json!({"response_header_mode": "SKIP"})
        );
        let clusters: Vec<(String, u64)> = b["static_resources"]["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
                        ["socket_address"]["port_value"]
                        .as_u64()
                        .unwrap(),
                )
            })
            .collect();
        assert_eq!(
            clusters,
            [("own-xp".to_string(), 5151), ("upstream".to_string(), 4242)]
        );
        // One Envoy, one upstream.
        let mut two = listeners.clone();
        two[1].upstream = Some(4343);
        assert!(templates().bootstrap(1, &two).is_err());
    }

    #[test]
    fn baseline_has_only_the_router() {
        let b = templates()
            .bootstrap(
                1,
                &[ListenerSpec {
                    upstream: None,
                    name: "baseline".into(),
                    port: 2,
                    filter: Filter::None,
                }],
            )
            .unwrap();
        let f = &b["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
            ["typed_config"]["http_filters"];
        assert_eq!(f.as_array().unwrap().len(), 1);
    }
}
