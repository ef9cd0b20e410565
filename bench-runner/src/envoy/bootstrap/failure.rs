//! Bootstraps for failure scenarios: the templates in `envoy/failure/` (a listener whose route forwards to
//! the runner's upstream, with a file access log; the upstream cluster) on top of the common bootstrap and
//! filter templates. As in the parent module, every runner value is set by path, never pasted.

use super::{load, ListenerSpec, Templates, HCM};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// One scenario listener: what it runs, and where its access log goes.
#[derive(Debug, Clone)]
pub struct FailureListener {
    pub spec: ListenerSpec,
    pub access_log: PathBuf,
}

pub struct FailureTemplates {
    base: Templates,
    listener: Value,
    cluster: Value,
}

const LISTENER: &str = "failure/listener.yaml";
const CLUSTER: &str = "failure/cluster.yaml";

impl FailureTemplates {
    pub fn load(dir: &Path) -> anyhow::Result<FailureTemplates> {
        Ok(FailureTemplates {
            base: Templates::load(dir)?,
            listener: load(dir, LISTENER)?,
            cluster: load(dir, CLUSTER)?,
        })
    }

    /// The whole bootstrap: the admin port, one listener per scenario and the upstream cluster.
    pub fn bootstrap(
        &self,
        admin_port: u16,
        upstream_port: u16,
        listeners: &[FailureListener],
    ) -> anyhow::Result<Value> {
        let t = &self.base;
        let mut out = Vec::new();
        for l in listeners {
            let mut v = t.listener_from(&self.listener, LISTENER, &l.spec)?;
            t.set(
                &mut v,
                LISTENER,
                &format!("{HCM}/access_log/0/typed_config/path"),
                json!(l.access_log.display().to_string()),
            )?;
            out.push(v);
        }
        let mut root = t.root(admin_port, out)?;
        let mut cluster = self.cluster.clone();
        t.set(
            &mut cluster,
            CLUSTER,
            "/load_assignment/endpoints/0/lb_endpoints/0/endpoint/address/socket_address/port_value",
            json!(upstream_port),
        )?;
        t.set(
            &mut root,
            "bootstrap.yaml",
            "/static_resources/clusters",
            json!([cluster]),
        )?;
        Ok(root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::Filter;

    #[test]
    fn scenario_listeners_forward_to_the_upstream_and_log_to_their_file() {
        let t = FailureTemplates::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../envoy"))
            .unwrap();
        let mut extra = serde_json::Map::new();
        extra.insert("failure_policy".into(), json!("FAIL_OPEN"));
        let b = t
            .bootstrap(
                9000,
                9100,
                &[FailureListener {
                    spec: ListenerSpec {
                        upstream: None,
                        name: "rust-crash1-open".into(),
                        port: 9001,
                        filter: Filter::Wasm {
                            module: "/m.wasm".into(),
                            runtime: "v8".into(),
                            configuration: "{\"crash_every\":1}".into(),
                            plugin_extra: extra,
                            vm_id: None,
                        },
                    },
                    access_log: "/run/x.access.log".into(),
                }],
            )
            .unwrap();
        let hcm = &b["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
            ["typed_config"];
        assert_eq!(
            hcm["access_log"][0]["typed_config"]["path"],
            "/run/x.access.log"
        );
        assert_eq!(
            hcm["route_config"]["virtual_hosts"][0]["routes"][0]["route"]["cluster"],
            "upstream"
        );
        let cfg = &hcm["http_filters"][0]["typed_config"]["config"];
        assert_eq!(cfg["failure_policy"], "FAIL_OPEN");
        assert_eq!(cfg["vm_config"]["vm_id"], "rust-crash1-open");
        assert_eq!(hcm["http_filters"][1]["name"], "envoy.filters.http.router");
        let c = &b["static_resources"]["clusters"][0];
        assert_eq!(c["name"], "upstream");
        assert_eq!(
            c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
                ["socket_address"]["port_value"],
            9100
        );
    }
}
