//! Seeded generation of fuzz inputs: a configuration (valid and invalid in the ways six hand-written
//! readers of one contract can disagree on) and a few requests against it.

use super::tree::{Style, J, S};
use crate::stats::Rng;

/// One request: the conformance listener's route (SPEC section 2) and the Host header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub route: &'static str,
    pub authority: String,
}

impl Request {
    /// The path of the conformance listener that selects this request's route.
    pub fn path(&self) -> &'static str {
        match self.route {
            "default/foo" => "/foo",
            "default/bar" => "/bar",
            _ => "/other",
        }
    }
}

/// One fuzz input: a configuration document and the requests sent to a plugin configured with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub config: J,
    pub requests: Vec<Request>,
}

impl Input {
    pub fn config_text(&self) -> String {
        self.config.text()
    }
}

const ROUTES: [&str; 3] = ["default/foo", "default/bar", "default/other"];
const ROUTE_NAMES: [&str; 9] = [
    "default/foo",
    "default/bar",
    "default/other",
    "default/Foo",
    "foo",
    "",
    "default/foo ",
    "default/*",
    "*",
];
const PATTERNS: [&str; 30] = [
    "*",
    "**",
    "*.",
    ".*",
    "",
    "*.example.com",
    "example.*",
    "www.example.com",
    "example.com",
    "WWW.EXAMPLE.COM",
    "localhost",
    "[::1]",
    "[::1]:80",
    "::1",
    "*:80",
    "a.com:8080",
    "a.com",
    "*a.com",
    "a.*.com",
    "*.*",
    "api.*",
    "bücher.de",
    "*.例え.jp",
    "x*y",
    "*]",
    "[::1]*",
    " localhost",
    "local\u{0}host",
    "*\\",
    "a\"b",
];
const AUTHORITIES: [&str; 24] = [
    "localhost",
    "localhost:10000",
    "LocalHost",
    "www.example.com",
    "WWW.example.com",
    "www.example.com:8080",
    "example.com",
    "api.example.com",
    "a.com:8080",
    "a.com",
    "[::1]:80",
    "[::1]",
    "::1",
    "[::1]:",
    ":80",
    "",
    "x:",
    "api.",
    ".",
    "*",
    "www.test.com:443",
    "1.2.3.4:80",
    "xn--bcher-kva.de",
    "a.com:8080:90",
];
const CONTENTS: [&str; 14] = [
    "",
    "hello",
    "hello higress",
    "é",
    "😀",
    "a\"b\\c",
    "line\nbreak",
    "\u{0}",
    "tab\t/",
    "</script>",
    "\u{7f}",
    "\u{2028}",
    "\u{feff}",
    "passthrough",
];
/// Numbers for keys the plugin ignores: every one within the range of a double except where noted.
const ANY_NUMBERS: [&str; 13] = [
    "0",
    "1",
    "-1",
    "1.5",
    "1e308",
    "1e309",
    "-1e400",
    "1e-400",
    "0e500",
    "123456789012345678901234567890",
    "-0",
    "2.5E-3",
    "1E+2",
];
/// Wrong values for a benchmark integer (never a valid positive `crash_every`).
const BAD_COUNTS: [&str; 15] = [
    "-1",
    "1.5",
    "1e2",
    "1E+2",
    "-0",
    "2147483648",
    "99999999999999999999",
    "01",
    ".5",
    "1.",
    "+1",
    "\"3\"",
    "true",
    "null",
    "1.0",
];
const UNKNOWN_KEYS: [&str; 11] = [
    "x",
    "_match_route_",
    "_match_domain_",
    "Content",
    "content ",
    "_rules",
    "_match_service_",
    "_match_route_prefix_",
    "\u{0}",
    "é",
    "",
];

fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items[rng.below(items.len())]
}

fn chance(rng: &mut Rng, percent: usize) -> bool {
    rng.below(100) < percent
}

fn style(rng: &mut Rng) -> Style {
    match rng.below(100) {
        0..=69 => Style::Plain,
        70..=84 => Style::Escaped,
        85..=93 => Style::AllEscaped,
        94..=95 => Style::LoneHigh,
        96 => Style::LoneLow,
        97..=98 => Style::RawControl,
        _ => Style::BadEscape,
    }
}

fn string(rng: &mut Rng, text: &str) -> J {
    J::Str(S {
        text: text.to_string(),
        style: style(rng),
    })
}

fn name(rng: &mut Rng, text: &str) -> S {
    // Member names are mostly written plainly, so that most configurations stay valid.
    let style = if chance(rng, 85) {
        Style::Plain
    } else {
        style(rng)
    };
    S {
        text: text.to_string(),
        style,
    }
}

fn content(rng: &mut Rng) -> J {
    match rng.below(100) {
        0..=89 => {
            let text = if chance(rng, 3) {
                "x".repeat(1 + rng.below(3000))
            } else {
                pick(rng, &CONTENTS).to_string()
            };
            string(rng, &text)
        }
        90..=93 => J::num("1"),
        94..=95 => J::Null,
        96..=97 => J::Arr(vec![J::str("x")]),
        _ => J::Bool(true),
    }
}

/// Any value, for keys the plugin ignores; sometimes nested close to the depth limit.
fn any_value(rng: &mut Rng, depth: usize) -> J {
    if depth == 0 && chance(rng, 10) {
        let levels = 58 + rng.below(13);
        let mut v = J::num("0");
        for i in 0..levels {
            v = if i % 3 == 0 {
                J::obj(vec![("k", v)])
            } else {
                J::Arr(vec![v])
            };
        }
        return v;
    }
    match rng.below(if depth > 2 { 4 } else { 6 }) {
        0 => J::Null,
        1 => J::Bool(chance(rng, 50)),
        2 => J::num(pick(rng, &ANY_NUMBERS)),
        3 => content(rng),
        4 => J::Arr(
            (0..rng.below(3))
                .map(|_| any_value(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let n = rng.below(3);
            let members = (0..n)
                .map(|_| {
                    let k = pick(rng, &UNKNOWN_KEYS);
                    (name(rng, k), any_value(rng, depth + 1))
                })
                .collect();
            J::Obj(members)
        }
    }
}

fn bad_count(rng: &mut Rng) -> J {
    J::Raw(pick(rng, &BAD_COUNTS).to_string())
}

fn mode(rng: &mut Rng) -> J {
    match rng.below(10) {
        0..=4 => string(rng, "mock"),
        5..=7 => string(rng, "headers"),
        8 => {
            let m = pick(rng, &["Mock", "fast", "", "headers "]);
            string(rng, m)
        }
        _ => J::num("1"),
    }
}

/// A match list: mostly 1..4 strings of `pool`, sometimes empty, a wrong element or not an array.
fn list(rng: &mut Rng, pool: &[&str]) -> J {
    match rng.below(100) {
        0..=4 => J::Arr(vec![]),
        5..=7 => {
            let s = pick(rng, pool);
            string(rng, s)
        }
        8..=9 => J::Null,
        _ => {
            let mut items: Vec<J> = (0..1 + rng.below(4))
                .map(|_| {
                    let s = pick(rng, pool);
                    string(rng, s)
                })
                .collect();
            if chance(rng, 5) {
                items.insert(rng.below(items.len() + 1), J::num("1"));
            }
            J::Arr(items)
        }
    }
}

/// The same member once more, with another value (or the same name written another way).
fn duplicate_one(rng: &mut Rng, members: &mut Vec<(S, J)>, value: impl Fn(&mut Rng, &str) -> J) {
    if members.is_empty() {
        return;
    }
    let (k, _) = members[rng.below(members.len())].clone();
    let again = S {
        text: k.text.clone(),
        style: if chance(rng, 30) {
            Style::AllEscaped
        } else {
            k.style
        },
    };
    let v = value(rng, &k.text);
    members.insert(rng.below(members.len() + 1), (again, v));
}

fn rule_value(rng: &mut Rng, key: &str) -> J {
    match key {
        "_match_route_" => list(rng, &ROUTE_NAMES),
        "_match_domain_" => list(rng, &PATTERNS),
        "content" => content(rng),
        _ => any_value(rng, 1),
    }
}

fn rule(rng: &mut Rng, small: bool) -> J {
    if chance(rng, 4) {
        return match rng.below(3) {
            0 => string(rng, "default/foo"),
            1 => J::Arr(vec![]),
            _ => J::Null,
        };
    }
    let mut keys: Vec<&str> = match rng.below(100) {
        0..=44 => vec!["_match_route_"],
        45..=89 => vec!["_match_domain_"],
        90..=94 => vec!["_match_route_", "_match_domain_"],
        _ => vec![],
    };
    if chance(rng, 80) {
        keys.push("content");
    }
    if !small && chance(rng, 12) {
        keys.push(pick(
            rng,
            &[
                "x",
                "mode",
                "spin",
                "crash_every",
                "_match_service_",
                "_rules_",
                "Content",
            ],
        ));
    }
    let mut members: Vec<(S, J)> = keys
        .iter()
        .map(|k| (name(rng, k), rule_value(rng, k)))
        .collect();
    rng.shuffle(&mut members);
    if !small && chance(rng, 5) {
        duplicate_one(rng, &mut members, rule_value);
    }
    J::Obj(members)
}

fn rules(rng: &mut Rng) -> J {
    match rng.below(100) {
        0..=4 => match rng.below(3) {
            0 => J::obj(vec![]),
            1 => string(rng, "x"),
            _ => J::Null,
        },
        5..=9 => J::Arr(vec![]),
        10..=12 => J::Arr((0..100 + rng.below(200)).map(|_| rule(rng, true)).collect()),
        _ => J::Arr((0..1 + rng.below(5)).map(|_| rule(rng, false)).collect()),
    }
}

fn top_value(rng: &mut Rng, key: &str) -> J {
    match key {
        "content" => content(rng),
        "_rules_" => rules(rng),
        "mode" => mode(rng),
        "header_count" | "spin" if chance(rng, 60) => J::num(&rng.below(6).to_string()),
        "crash_every" if chance(rng, 50) => J::num("0"),
        "header_count" | "spin" | "crash_every" => bad_count(rng),
        _ => any_value(rng, 0),
    }
}

fn object(rng: &mut Rng) -> J {
    let mut keys = vec![];
    for (key, percent) in [
        ("content", 60),
        ("_rules_", 80),
        ("mode", 20),
        ("header_count", 8),
        ("spin", 8),
        ("crash_every", 5),
    ] {
        if chance(rng, percent) {
            keys.push(key);
        }
    }
    if chance(rng, 25) {
        for _ in 0..1 + rng.below(2) {
            keys.push(pick(rng, &UNKNOWN_KEYS));
        }
    }
    let mut members: Vec<(S, J)> = vec![];
    for k in keys {
        if members.iter().all(|(m, _)| m.text != k) {
            let v = top_value(rng, k);
            members.push((name(rng, k), v));
        }
    }
    rng.shuffle(&mut members);
    if chance(rng, 8) {
        duplicate_one(rng, &mut members, top_value);
    }
    J::Obj(members)
}

/// A configuration document: mostly an object, sometimes another value or junk text.
pub fn config(rng: &mut Rng) -> J {
    match rng.below(100) {
        0..=2 => match rng.below(5) {
            0 => J::Arr(vec![object(rng)]),
            1 => J::str("{}"),
            2 => J::num("1"),
            3 => J::Null,
            _ => J::Bool(true),
        },
        3..=5 => {
            let text = object(rng).text();
            let mut cut = rng.below(text.len() + 1);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            J::Raw(match rng.below(5) {
                0 => text[..cut].to_string(),
                1 => format!("{text} x"),
                2 => format!("\u{feff}{text}"),
                3 => format!(" \t\n{text}\r\n"),
                _ => String::new(),
            })
        }
        _ => object(rng),
    }
}

/// A Host header: from a fixed list, or made from one of the configuration's patterns.
fn authority(rng: &mut Rng, patterns: &[String]) -> String {
    if patterns.is_empty() || chance(rng, 45) {
        return pick(rng, &AUTHORITIES).to_string();
    }
    let base = patterns[rng.below(patterns.len())]
        .trim_matches('*')
        .to_string();
    let made = match rng.below(6) {
        0 => base,
        1 => format!("www{base}"),
        2 => format!("{base}x"),
        3 => format!("{base}:80"),
        4 => base.to_uppercase(),
        _ => format!("{base}:"),
    };
    // Hosts go through Envoy as an HTTP/1.1 Host header: printable ASCII only.
    if made.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        made
    } else {
        pick(rng, &AUTHORITIES).to_string()
    }
}

/// One input from the generator's state.
pub fn input(rng: &mut Rng) -> Input {
    let config = config(rng);
    let mut patterns = vec![];
    config.strings_under("_match_domain_", &mut patterns);
    let requests = (0..1 + rng.below(4))
        .map(|_| Request {
            route: pick(rng, &ROUTES),
            authority: authority(rng, &patterns),
        })
        .collect();
    Input { config, requests }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::config::parse_str;

    #[test]
    fn seeded_inputs_repeat_and_mix_valid_and_invalid() {
        let a: Vec<Input> = (0..50).map(|i| input(&mut Rng::new(i))).collect();
        let b: Vec<Input> = (0..50).map(|i| input(&mut Rng::new(i))).collect();
        assert_eq!(a, b);
        let mut rng = Rng::new(7);
        let results: Vec<bool> = (0..2000)
            .map(|_| parse_str(&input(&mut rng).config_text()).is_ok())
            .collect();
        let valid = results.iter().filter(|ok| **ok).count();
        assert!((400..1600).contains(&valid), "{valid} of 2000 valid");
    }
}
