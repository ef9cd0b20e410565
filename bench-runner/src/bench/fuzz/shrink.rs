//! Shrinking a diverging input (fewer requests, members, rules, patterns; shorter, plainer strings)
//! and printing it as a conformance case (SPEC section 2, `plugins/conformance/cases.json`).

use super::inputs::{Input, Request};
use super::target::{Outcome, Reply};
use super::tree::{Style, J, S};
use serde_json::{json, Value};

/// Variants of a string: empty, halves, one character fewer (for short ones).
fn shorter(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return vec![];
    }
    let mut out = vec![String::new()];
    if chars.len() > 2 {
        out.push(chars[..chars.len() / 2].iter().collect());
        out.push(chars[chars.len() / 2..].iter().collect());
    }
    if chars.len() <= 24 {
        for i in 0..chars.len() {
            let mut c = chars.clone();
            c.remove(i);
            out.push(c.into_iter().collect());
        }
    }
    out.dedup();
    out.retain(|v| v != s);
    out
}

fn str_variants(s: &S) -> Vec<S> {
    let mut out = vec![];
    if s.style != Style::Plain {
        out.push(S::plain(&s.text));
    }
    out.extend(shorter(&s.text).into_iter().map(|text| S {
        text,
        style: s.style,
    }));
    out
}

/// Every value one simplification away from `j`, the biggest cuts first.
fn variants(j: &J) -> Vec<J> {
    let mut out = vec![];
    match j {
        J::Arr(items) => {
            if items.len() > 3 {
                out.push(J::Arr(items[..items.len() / 2].to_vec()));
                out.push(J::Arr(items[items.len() / 2..].to_vec()));
            }
            for i in 0..items.len() {
                let mut v = items.clone();
                v.remove(i);
                out.push(J::Arr(v));
            }
            for (i, item) in items.iter().enumerate() {
                for sub in variants(item) {
                    let mut v = items.clone();
                    v[i] = sub;
                    out.push(J::Arr(v));
                }
            }
        }
        J::Obj(members) => {
            for i in 0..members.len() {
                let mut m = members.clone();
                m.remove(i);
                out.push(J::Obj(m));
            }
            for (i, (name, value)) in members.iter().enumerate() {
                for k in str_variants(name) {
                    let mut m = members.clone();
                    m[i].0 = k;
                    out.push(J::Obj(m));
                }
                for sub in variants(value) {
                    let mut m = members.clone();
                    m[i].1 = sub;
                    out.push(J::Obj(m));
                }
            }
        }
        J::Str(s) => out.extend(str_variants(s).into_iter().map(J::Str)),
        J::Num(n) if n != "0" => out.push(J::num("0")),
        J::Raw(r) => out.extend(shorter(r).into_iter().map(J::Raw)),
        _ => {}
    }
    if !matches!(j, J::Null | J::Arr(_) | J::Obj(_)) {
        out.push(J::Null);
    }
    out
}

fn candidates(input: &Input) -> Vec<Input> {
    let mut out = vec![];
    for i in 0..input.requests.len() {
        if input.requests.len() > 1 {
            let mut r = input.requests.clone();
            r.remove(i);
            out.push(Input {
                config: input.config.clone(),
                requests: r,
            });
        }
    }
    for config in variants(&input.config) {
        out.push(Input {
            config,
            requests: input.requests.clone(),
        });
    }
    for (i, req) in input.requests.iter().enumerate() {
        for authority in shorter(&req.authority) {
            let mut r = input.requests.clone();
            r[i] = Request {
                route: req.route,
                authority,
            };
            out.push(Input {
                config: input.config.clone(),
                requests: r,
            });
        }
    }
    out
}

/// Greedy shrinking: takes the first simpler input for which `still` holds, until none does or
/// `budget` evaluations were spent.
pub fn shrink(
    input: &Input,
    budget: usize,
    still: &mut dyn FnMut(&Input) -> anyhow::Result<bool>,
) -> anyhow::Result<Input> {
    let mut best = input.clone();
    let mut spent = 0;
    'outer: while spent < budget {
        for c in candidates(&best) {
            if spent >= budget {
                break 'outer;
            }
            spent += 1;
            if still(&c)? {
                best = c;
                continue 'outer;
            }
        }
        break;
    }
    Ok(best)
}

/// The input as a conformance case: `config` when the text is exactly serde_json's rendering of
/// its value (so the case file reproduces it byte for byte), else `config_raw`; the reference's
/// outcome as `rejected` or as the expected replies.
pub fn case_json(name: &str, input: &Input, expected: &Outcome) -> Value {
    let text = input.config_text();
    let canonical = crate::plugins::config::strict_json(&text)
        .ok()
        .filter(|v| serde_json::to_string(v).is_ok_and(|t| t == text));
    let mut case = serde_json::Map::new();
    case.insert("name".into(), json!(name));
    match canonical {
        Some(v) => case.insert("config".into(), v),
        None => case.insert("config_raw".into(), json!(text)),
    };
    match expected {
        Outcome::Accepted(replies) => {
            let requests: Vec<Value> = replies
                .iter()
                .zip(&input.requests)
                .map(|(reply, r)| {
                    let (status, body) = match reply {
                        Reply::Local { status, body } => {
                            (*status, String::from_utf8_lossy(body).to_string())
                        }
                        Reply::Passthrough { .. } => (200, "passthrough".to_string()),
                    };
                    json!({"path": r.path(), "authority": r.authority, "status": status, "body": body})
                })
                .collect();
            case.insert("requests".into(), Value::Array(requests));
        }
        _ => {
            case.insert("rejected".into(), json!(true));
        }
    }
    Value::Object(case)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinks_to_what_still_fails() {
        let input = Input {
            config: J::obj(vec![
                ("content", J::str("a long content")),
                (
                    "_rules_",
                    J::Arr(vec![
                        J::obj(vec![("_match_route_", J::Arr(vec![J::str("default/foo")]))]),
                        J::obj(vec![(
                            "_match_domain_",
                            J::Arr(vec![J::str("*.Example.com")]),
                        )]),
                    ]),
                ),
            ]),
            requests: vec![
                Request {
                    route: "default/foo",
                    authority: "x".into(),
                },
                Request {
                    route: "default/bar",
                    authority: "www.example.com:80".into(),
                },
            ],
        };
        // "Fails" while some pattern holds an upper-case letter.
        let small = shrink(&input, 10_000, &mut |i| {
            let mut p = vec![];
            if let Some(rules) = i.config.get("_rules_") {
                rules.strings_under("_match_domain_", &mut p);
            }
            Ok(p.iter().any(|s| s.chars().any(|c| c.is_ascii_uppercase())))
        })
        .unwrap();
        assert_eq!(
            small.config.text(),
            r#"{"_rules_":[{"_match_domain_":["E"]}]}"#
        );
        assert_eq!(small.requests.len(), 1);
        assert_eq!(small.requests[0].authority, "");
    }

    #[test]
    fn cases_print_in_the_case_file_format() {
        let input = Input {
            config: J::obj(vec![("content", J::str("x"))]),
            requests: vec![Request {
                route: "default/foo",
                authority: "a".into(),
            }],
        };
        let ok = Outcome::Accepted(vec![Reply::Local {
            status: 200,
            body: b"x".to_vec(),
        }]);
        assert_eq!(
            case_json("n", &input, &ok).to_string(),
            r#"{"name":"n","config":{"content":"x"},"requests":[{"path":"/foo","authority":"a","status":200,"body":"x"}]}"#
        );
        let dup = Input {
            config: J::obj(vec![("k", J::Null), ("k", J::Null)]),
            requests: vec![],
        };
        assert_eq!(
            case_json("d", &dup, &Outcome::Rejected).to_string(),
            r#"{"name":"d","config_raw":"{\"k\":null,\"k\":null}","rejected":true}"#
        );
    }
}
