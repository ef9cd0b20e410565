//! The fixed inputs of the micro-benchmarks, shared by `cargo bench -p plugin-host` and
//! `bench-runner micro` so that both measure the same thing.

use crate::Request;

/// The workloads of SPEC section 1 (the same names as the Envoy run's).
pub const WORKLOADS: [&str; 2] = ["mock", "headers"];

/// Body of the mock reply.
pub const MOCK_CONTENT: &str = "hello higress";

/// The plugin configuration of a workload (the one the Envoy run uses).
pub fn config_for(workload: &str) -> Option<String> {
    match workload {
        "mock" => Some(format!(r#"{{"content":"{MOCK_CONTENT}"}}"#)),
        "headers" => Some(r#"{"mode":"headers","header_count":20}"#.to_string()),
        _ => None,
    }
}

/// The request every micro-benchmark sends: GET / on the catch-all route.
pub fn request() -> Request<'static> {
    Request::get("localhost", "/", Some("default/other"))
}

/// The small configuration of the parse benchmark: the Higress demo (global content, two route
/// rules, one domain rule).
pub fn small_config() -> String {
    r#"{"content":"hello higress","_rules_":[{"content":"hello foo","_match_route_":["default/foo"]},{"content":"hello bar","_match_route_":["default/bar"]},{"content":"hello world","_match_domain_":["*.example.com","www.test.com"]}]}"#.to_string()
}

/// The large configuration of the parse benchmark: at least 8 KiB, alternating route and domain
/// rules, each with its own content.
pub fn large_config() -> String {
    let mut rules = Vec::new();
    let mut size = 0;
    let mut i = 0;
    while size < 8 * 1024 {
        let rule = if i % 2 == 0 {
            format!(
                r#"{{"content":"route rule {i}","_match_route_":["default/route-{i}","default/alt-{i}"]}}"#
            )
        } else {
            format!(
                r#"{{"content":"domain rule {i}","_match_domain_":["*.d{i}.example.com","api{i}.*","host{i}.test"]}}"#
            )
        };
        size += rule.len() + 1;
        rules.push(rule);
        i += 1;
    }
    format!(
        r#"{{"content":"hello higress","_rules_":[{}]}}"#,
        rules.join(",")
    )
}

/// What the plugin must do with [`request`] under a workload's configuration; checked before
/// measuring so that a broken plugin is never timed.
pub fn check(workload: &str, out: &crate::Outcome) -> Result<(), String> {
    match (workload, &out.local_reply, out.action) {
        ("mock", Some(r), _) if r.status == 200 && r.body == MOCK_CONTENT.as_bytes() => Ok(()),
        ("headers", None, crate::Action::Continue) => Ok(()),
        _ => Err(format!(
            "workload {workload}: unexpected outcome {:?} / {:?}",
            out.action,
            out.local_reply
                .as_ref()
                .map(|r| (r.status, String::from_utf8_lossy(&r.body).into_owned()))
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_are_json_objects_of_the_promised_size() {
        let large = large_config();
        assert!(
            large.len() >= 8 * 1024 && large.len() < 9 * 1024,
            "{}",
            large.len()
        );
        assert!(large.starts_with('{') && large.ends_with('}'));
        assert!(small_config().len() < 512);
        assert!(config_for("mock").is_some() && config_for("headers").is_some());
        assert!(config_for("nope").is_none());
    }
}
