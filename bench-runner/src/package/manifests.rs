//! The `WasmPlugin` resources that declare a packaged plugin, in Istio's form
//! (`extensions.istio.io/v1alpha1`, the one the article applies) and in Higress's own
//! (`extensions.higress.io/v1alpha1`: `defaultConfig` and `matchRules` instead of `_rules_`). Field
//! names and enums as the CRDs document them (Istio's `WasmPlugin` reference; Higress's
//! `api/extensions/v1alpha1/wasmplugin.proto`). Beside `failStrategy`, as a YAML comment, what a saved
//! failure run measured when that implementation crashed under each strategy.

use super::image::Form;
use super::registry::Registry;
use crate::error::usage;
use crate::results::failure::{Class, FailureRun, Policy, Scenario};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

pub const ISTIO_API: &str = "extensions.istio.io/v1alpha1";
pub const HIGRESS_API: &str = "extensions.higress.io/v1alpha1";
/// The article's namespace and gateway selector.
pub const NAMESPACE: &str = "higress-system";
pub const SELECTOR: (&str, &str) = ("higress", "higress-system-higress-gateway");
pub const PRIORITY: i32 = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resource<S> {
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    pub spec: S,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub name: String,
    pub namespace: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Phase {
    UnspecifiedPhase,
    Authn,
    Authz,
    Stats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailStrategy {
    #[serde(rename = "FAIL_CLOSE")]
    Close,
    #[serde(rename = "FAIL_OPEN")]
    Open,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PullPolicy {
    #[serde(rename = "UNSPECIFIED_POLICY")]
    Unspecified,
    IfNotPresent,
    Always,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selector {
    pub match_labels: BTreeMap<String, String>,
}

/// Istio's `WasmPlugin.spec` (the fields used here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IstioSpec {
    pub selector: Selector,
    pub url: String,
    /// For an `oci://` url: the image manifest's digest (hex), which the agent checks after the pull.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub image_pull_policy: PullPolicy,
    pub phase: Phase,
    pub priority: i32,
    pub fail_strategy: FailStrategy,
    pub plugin_config: serde_json::Map<String, Value>,
}

/// One of Higress's `matchRules`: `ingress` (route names `namespace/name`) or `domain` patterns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MatchRule {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domain: Vec<String>,
    pub config: serde_json::Map<String, Value>,
}

/// Higress's `WasmPlugin.spec` (the fields used here; it has no `selector`: it applies to its gateway).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HigressSpec {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub image_pull_policy: PullPolicy,
    pub phase: Phase,
    pub priority: i32,
    pub fail_strategy: FailStrategy,
    pub default_config: serde_json::Map<String, Value>,
    pub match_rules: Vec<MatchRule>,
}

/// The article's configuration: a global `content` and `_rules_` for two routes and two domains.
pub fn article_config() -> Value {
    json!({
        "content": "hello higress",
        "_rules_": [
            {"content": "hello foo", "_match_route_": ["default/foo"]},
            {"content": "hello bar", "_match_route_": ["default/bar"]},
            {"content": "hello world", "_match_domain_": ["*.example.com", "www.test.com"]},
        ]
    })
}

fn object(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// The same configuration as Higress's `defaultConfig` + `matchRules` (its controller turns them back
/// into `_rules_` with `_match_route_` / `_match_domain_`).
pub fn higress_rules(config: &Value) -> (serde_json::Map<String, Value>, Vec<MatchRule>) {
    let mut global = object(config.clone());
    let rules = global.remove("_rules_").unwrap_or(json!([]));
    let rules = rules
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let mut cfg = object(r.clone());
            let names = |k: &str, cfg: &mut serde_json::Map<String, Value>| -> Vec<String> {
                cfg.remove(k)
                    .and_then(|v| serde_json::from_value(v).ok())
                    .unwrap_or_default()
            };
            let ingress = names("_match_route_", &mut cfg);
            let domain = names("_match_domain_", &mut cfg);
            MatchRule {
                ingress,
                domain,
                config: cfg,
            }
        })
        .collect();
    (global, rules)
}

/// What the plugin's `url` and `sha256` are: the compat image (the article's form) of `name`.
pub struct ImageRef {
    pub url: String,
    pub manifest_digest_hex: String,
}

pub fn image_ref(registry: &Registry, name: &str, tag: &str, manifest_digest: &str) -> ImageRef {
    ImageRef {
        url: format!(
            "oci://{}:{tag}",
            registry.repository(&Form::Compat.repository(name))
        ),
        manifest_digest_hex: manifest_digest.trim_start_matches("sha256:").to_string(),
    }
}

/// `9 x 200 (plugin), 141 x 503`: what the clients of one scenario got.
fn counts_text(s: &Scenario) -> String {
    let mut parts = Vec::new();
    for c in Class::ALL {
        let n = s.counts.get(c);
        if n == 0 {
            continue;
        }
        match c {
            Class::Plugin => parts.push(format!("{n} x 200 (plugin)")),
            Class::Upstream => parts.push(format!("{n} x 200 (upstream, plugin bypassed)")),
            Class::Local5xx => parts.extend(
                s.statuses
                    .iter()
                    .filter(|(code, _)| code.starts_with('5'))
                    .map(|(code, k)| format!("{k} x {code}")),
            ),
            _ => parts.push(format!("{n} {}", c.label())),
        }
    }
    parts.join(", ")
}

/// The failure run's lesson for one implementation, as comment lines: per crash rate, what clients
/// got under Istio's FAIL_CLOSE (Envoy's FAIL_CLOSED) and FAIL_OPEN (Envoy's FAIL_OPEN; older Istio
/// versions set the deprecated `fail_open: true` instead, which the run measured too).
pub fn failure_lesson(run: &FailureRun, run_name: &str, name: &str) -> Vec<String> {
    let f = &run.failure;
    let mine: Vec<&Scenario> = f
        .scenarios
        .iter()
        .filter(|s| s.implementation == name)
        .collect();
    let mut crashes: Vec<u32> = mine.iter().map(|s| s.crash_every).collect();
    crashes.sort_unstable();
    crashes.dedup();
    if crashes.is_empty() {
        return vec![format!(
            "failure run {run_name}: no crash scenarios for {name}"
        )];
    }
    let mut out = vec![format!(
        "failure run {run_name} ({name}, Envoy {}, {} requests per scenario at {}/s), when the plugin traps:",
        f.envoy_version, f.settings.requests_per_scenario, f.settings.rate_per_s
    )];
    for c in crashes {
        let when = if c == 1 {
            "on every request".to_string()
        } else {
            format!("on every {c}th request")
        };
        for (label, p) in [
            ("FAIL_CLOSE", Policy::Closed),
            ("FAIL_OPEN", Policy::Open),
            (
                "fail_open: true (older Istio's FAIL_OPEN)",
                Policy::FailOpenTrue,
            ),
        ] {
            if let Some(s) = mine.iter().find(|s| s.crash_every == c && s.policy == p) {
                out.push(format!("  {when}, {label}: {}", counts_text(s)));
            }
        }
    }
    out.push("FAIL_CLOSE: after the first trap every request gets a 503; FAIL_OPEN: they reach the upstream unfiltered".into());
    out
}

/// Reads a saved failure run folder's failure.json.
pub fn read_failure_run(dir: &Path) -> anyhow::Result<FailureRun> {
    let path = dir.join("failure.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        usage(format!(
            "--failure-run {}: cannot read {} ({e}); give a `bench-runner failure` run folder",
            dir.display(),
            path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        usage(format!(
            "--failure-run {}: {} is not a failure run's failure.json ({e})",
            dir.display(),
            path.display()
        ))
    })
}

/// Serialises `resource` and puts `comment` (lines) above its `failStrategy:` line.
pub fn to_yaml_with_comment<S: Serialize>(
    resource: &Resource<S>,
    comment: &[String],
) -> anyhow::Result<String> {
    let text = serde_yaml::to_string(resource)?;
    let mut out = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("  failStrategy:") {
            for c in comment {
                out.push_str(&format!("  # {c}\n"));
            }
            out.push_str(&format!("  failStrategy:{rest}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

/// Both resources of one implementation: (Istio, Higress).
pub fn resources(
    name: &str,
    image: &ImageRef,
    config: &Value,
) -> (Resource<IstioSpec>, Resource<HigressSpec>) {
    let metadata = Metadata {
        name: format!("mock-response-{name}"),
        namespace: NAMESPACE.to_string(),
    };
    let istio = Resource {
        api_version: ISTIO_API.to_string(),
        kind: "WasmPlugin".to_string(),
        metadata: metadata.clone(),
        spec: IstioSpec {
            selector: Selector {
                match_labels: BTreeMap::from([(SELECTOR.0.to_string(), SELECTOR.1.to_string())]),
            },
            url: image.url.clone(),
            sha256: Some(image.manifest_digest_hex.clone()),
            image_pull_policy: PullPolicy::IfNotPresent,
            phase: Phase::UnspecifiedPhase,
            priority: PRIORITY,
            fail_strategy: FailStrategy::Close,
            plugin_config: object(config.clone()),
        },
    };
    let (default_config, match_rules) = higress_rules(config);
    let higress = Resource {
        api_version: HIGRESS_API.to_string(),
        kind: "WasmPlugin".to_string(),
        metadata,
        spec: HigressSpec {
            url: image.url.clone(),
            sha256: Some(image.manifest_digest_hex.clone()),
            image_pull_policy: PullPolicy::IfNotPresent,
            phase: Phase::UnspecifiedPhase,
            priority: PRIORITY,
            fail_strategy: FailStrategy::Close,
            default_config,
            match_rules,
        },
    };
    (istio, higress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higress_rules_carry_the_article_config() {
        let (global, rules) = higress_rules(&article_config());
        assert_eq!(Value::Object(global), json!({"content": "hello higress"}));
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[0].ingress, vec!["default/foo"]);
        assert_eq!(rules[2].domain, vec!["*.example.com", "www.test.com"]);
        assert_eq!(
            Value::Object(rules[2].config.clone()),
            json!({"content": "hello world"})
        );
        // The article's config is one the plugins accept.
        crate::plugins::config::parse(&article_config()).unwrap();
    }
}
