//! `manifests`: every generated WasmPlugin resource parses as YAML, and every field in it is one the
//! CRD documents, with the documented type (tables below, from Istio's WasmPlugin reference,
//! `extensions.istio.io/v1alpha1`, and Higress's `api/extensions/v1alpha1/wasmplugin.proto`,
//! `extensions.higress.io/v1alpha1`); unknown fields fail. The url names the compat image that
//! `package` builds, `sha256` is its manifest digest, the configuration is one the plugins accept, and
//! the comment beside `failStrategy` carries the saved failure run's figures.

mod common;
use bench_runner::package::image::{self, Form};
use common::*;
use serde_yaml::Value;

/// The type of a documented field.
#[derive(Debug, Clone, Copy)]
enum Ty {
    Str,
    /// A string with the `oci://` scheme (what `package` pushes).
    OciUrl,
    /// 64 lower-case hex digits.
    Hex64,
    Int,
    Bool,
    Object,
    StringMap,
    StringList,
    Enum(&'static [&'static str]),
    /// An array of objects whose fields are in the given table.
    Rules(&'static [(&'static str, Ty)]),
}

const PHASES: &[&str] = &["UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS"];
const PULL: &[&str] = &["UNSPECIFIED_POLICY", "IfNotPresent", "Always"];

/// Istio `WasmPlugin.spec` (extensions.istio.io/v1alpha1).
const ISTIO_SPEC: &[(&str, Ty)] = &[
    ("selector", Ty::Object),
    (
        "targetRefs",
        Ty::Rules(&[("group", Ty::Str), ("kind", Ty::Str), ("name", Ty::Str)]),
    ),
    ("url", Ty::OciUrl),
    ("sha256", Ty::Hex64),
    ("imagePullPolicy", Ty::Enum(PULL)),
    ("imagePullSecret", Ty::Str),
    ("verificationKey", Ty::Str),
    ("pluginConfig", Ty::Object),
    ("pluginName", Ty::Str),
    ("phase", Ty::Enum(PHASES)),
    ("priority", Ty::Int),
    (
        "failStrategy",
        Ty::Enum(&["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"]),
    ),
    ("vmConfig", Ty::Object),
    (
        "type",
        Ty::Enum(&["UNSPECIFIED_PLUGIN_TYPE", "HTTP", "NETWORK"]),
    ),
];

/// `selector` of the Istio form.
const ISTIO_SELECTOR: &[(&str, Ty)] = &[("matchLabels", Ty::StringMap)];

/// Higress `WasmPlugin.spec` (extensions.higress.io/v1alpha1): Istio's fields without selector,
/// targetRefs and type, plus defaultConfig, defaultConfigDisable and matchRules.
const HIGRESS_SPEC: &[(&str, Ty)] = &[
    ("url", Ty::OciUrl),
    ("sha256", Ty::Hex64),
    ("imagePullPolicy", Ty::Enum(PULL)),
    ("imagePullSecret", Ty::Str),
    ("verificationKey", Ty::Str),
    ("pluginConfig", Ty::Object),
    ("pluginName", Ty::Str),
    ("phase", Ty::Enum(PHASES)),
    ("priority", Ty::Int),
    ("failStrategy", Ty::Enum(&["FAIL_CLOSE", "FAIL_OPEN"])),
    ("vmConfig", Ty::Object),
    ("defaultConfig", Ty::Object),
    ("defaultConfigDisable", Ty::Bool),
    (
        "matchRules",
        Ty::Rules(&[
            ("ingress", Ty::StringList),
            ("domain", Ty::StringList),
            ("config", Ty::Object),
            ("configDisable", Ty::Bool),
            ("service", Ty::StringList),
        ]),
    ),
];

const TOP: &[(&str, Ty)] = &[
    ("apiVersion", Ty::Str),
    ("kind", Ty::Enum(&["WasmPlugin"])),
    ("metadata", Ty::Object),
    ("spec", Ty::Object),
];
const METADATA: &[(&str, Ty)] = &[("name", Ty::Str), ("namespace", Ty::Str)];

fn check_type(at: &str, v: &Value, ty: Ty) {
    let ok = match ty {
        Ty::Str => v.is_string(),
        Ty::OciUrl => v.as_str().is_some_and(|s| s.starts_with("oci://")),
        Ty::Hex64 => v.as_str().is_some_and(|s| {
            s.len() == 64
                && s.chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        }),
        Ty::Int => v.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
        Ty::Bool => v.is_bool(),
        Ty::Object => v.is_mapping(),
        Ty::StringMap => v
            .as_mapping()
            .is_some_and(|m| m.iter().all(|(k, v)| k.is_string() && v.is_string())),
        Ty::StringList => v
            .as_sequence()
            .is_some_and(|s| s.iter().all(Value::is_string)),
        Ty::Enum(allowed) => v.as_str().is_some_and(|s| allowed.contains(&s)),
        Ty::Rules(table) => {
            let Some(rules) = v.as_sequence() else {
                panic!("{at}: not an array: {v:?}")
            };
            for (i, r) in rules.iter().enumerate() {
                check_fields(&format!("{at}[{i}]"), r, table);
            }
            true
        }
    };
    assert!(ok, "{at}: {v:?} is not a {ty:?}");
}

/// Every field of `v` is in `table`, with its type.
fn check_fields(at: &str, v: &Value, table: &[(&str, Ty)]) {
    let m = v
        .as_mapping()
        .unwrap_or_else(|| panic!("{at}: not an object"));
    for (k, field) in m {
        let k = k
            .as_str()
            .unwrap_or_else(|| panic!("{at}: a non-string key"));
        let Some((_, ty)) = table.iter().find(|(name, _)| *name == k) else {
            panic!(
                "{at}.{k}: not a documented field (known: {:?})",
                table.iter().map(|t| t.0).collect::<Vec<_>>()
            )
        };
        check_type(&format!("{at}.{k}"), field, *ty);
    }
}

fn json_of(v: &Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap()
}

#[test]
fn generated_wasmplugins_use_only_documented_fields_with_their_types() {
    let built = built_all(None);
    let t = tempfile::tempdir().unwrap();
    let o = run(&[
        "manifests",
        "--registry",
        "127.0.0.1:5000/team",
        "--tag",
        "t1",
        "--out",
        t.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    for b in &built {
        let module = std::fs::read(&b.module).unwrap();
        let digest = image::build(Form::Compat, &module).unwrap().manifest_digest;
        for (kind, api, spec_table) in [
            ("istio", "extensions.istio.io/v1alpha1", ISTIO_SPEC),
            ("higress", "extensions.higress.io/v1alpha1", HIGRESS_SPEC),
        ] {
            let path = t.path().join(format!("{}-{kind}.yaml", b.name));
            let text = std::fs::read_to_string(&path).unwrap();
            let doc: Value = serde_yaml::from_str(&text).unwrap();
            check_fields("", &doc, TOP);
            check_fields(".metadata", &doc["metadata"], METADATA);
            check_fields(".spec", &doc["spec"], spec_table);
            assert_eq!(doc["apiVersion"].as_str(), Some(api));
            let spec = &doc["spec"];
            assert_eq!(
                spec["url"].as_str().unwrap(),
                format!("oci://127.0.0.1:5000/team/{}:t1", b.name)
            );
            assert_eq!(
                spec["sha256"].as_str().unwrap(),
                digest.trim_start_matches("sha256:")
            );
            // The failure run's lesson sits right above failStrategy, with its figures.
            let lines: Vec<&str> = text.lines().collect();
            let at = lines
                .iter()
                .position(|l| l.starts_with("  failStrategy:"))
                .unwrap();
            let comment: Vec<&str> = lines[..at]
                .iter()
                .rev()
                .take_while(|l| l.trim_start().starts_with('#'))
                .copied()
                .collect();
            let comment = comment.join("\n");
            assert!(comment.contains("20261126T051928Z-failure"), "{comment}");
            assert!(
                comment.contains("FAIL_CLOSE: ") && comment.contains("FAIL_OPEN: "),
                "{comment}"
            );
            assert!(comment.contains(" x 503"), "{comment}");
            // The configuration is the article's, and one the plugins accept.
            let config = if kind == "istio" {
                check_fields(".spec.selector", &spec["selector"], ISTIO_SELECTOR);
                json_of(&spec["pluginConfig"])
            } else {
                // Higress's controller turns defaultConfig + matchRules back into `_rules_`.
                let mut c = json_of(&spec["defaultConfig"]);
                let rules: Vec<serde_json::Value> = spec["matchRules"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .map(|r| {
                        let mut rule = json_of(&r["config"]);
                        for (from, to) in
                            [("ingress", "_match_route_"), ("domain", "_match_domain_")]
                        {
                            if !r[from].is_null() {
                                rule[to] = json_of(&r[from]);
                            }
                        }
                        rule
                    })
                    .collect();
                c["_rules_"] = serde_json::Value::Array(rules);
                c
            };
            assert_eq!(
                config,
                bench_runner::package::manifests::article_config(),
                "{kind} {}",
                b.name
            );
            bench_runner::plugins::config::parse(&config).unwrap();
        }
    }
}

#[test]
fn the_lesson_is_read_from_the_saved_failure_run() {
    let t = tempfile::tempdir().unwrap();
    let o = run(&[
        "manifests",
        "--only",
        "rust",
        "--out",
        t.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let text = std::fs::read_to_string(t.path().join("rust-istio.yaml")).unwrap();
    // results/20261126T051928Z-failure/failure.json, rust, a trap on every 10th request, 150 requests.
    assert!(
        text.contains("on every 10th request, FAIL_CLOSE: 9 x 200 (plugin), 141 x 503"),
        "{text}"
    );
    assert!(
        text.contains("on every 10th request, FAIL_OPEN: 9 x 200 (plugin), 140 x 200 (upstream, plugin bypassed), 1 x 503"),
        "{text}"
    );
}
