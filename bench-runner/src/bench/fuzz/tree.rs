//! A JSON document as the fuzzer builds it: a tree that keeps what serde_json's `Value` cannot
//! (member names that repeat, how each string is escaped, numbers exactly as written, broken
//! fragments), so that the configuration text is rendered, and shrunk, exactly.

use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum J {
    Null,
    Bool(bool),
    /// A number exactly as written (sometimes not valid JSON on purpose: `01`, `.5`).
    Num(String),
    Str(S),
    Arr(Vec<J>),
    Obj(Vec<(S, J)>),
    /// Text pasted as it is (junk or truncated documents).
    Raw(String),
}

/// A string and how it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S {
    pub text: String,
    pub style: Style,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Only what must be escaped: `"`, `\` and control characters.
    Plain,
    /// Also `/` as `\/` and every non-ASCII character as `\uXXXX` (surrogate pairs above U+FFFF).
    Escaped,
    /// Every character as `\uXXXX` (upper-case hex).
    AllEscaped,
    /// Plain, then a lone high surrogate escape `\ud800` (invalid).
    LoneHigh,
    /// Plain, then a lone low surrogate escape `\udc00` (invalid).
    LoneLow,
    /// Plain, then a raw control character U+0001 inside the quotes (invalid).
    RawControl,
    /// Plain, then the invalid escape `\x`.
    BadEscape,
}

impl S {
    pub fn plain(text: &str) -> S {
        S {
            text: text.to_string(),
            style: Style::Plain,
        }
    }
}

impl J {
    pub fn str(text: &str) -> J {
        J::Str(S::plain(text))
    }

    pub fn num(text: &str) -> J {
        J::Num(text.to_string())
    }

    /// An object of plainly written names.
    pub fn obj(members: Vec<(&str, J)>) -> J {
        J::Obj(members.into_iter().map(|(k, v)| (S::plain(k), v)).collect())
    }

    /// The document's text.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.render(&mut out);
        out
    }

    fn render(&self, out: &mut String) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Num(n) | J::Raw(n) => out.push_str(n),
            J::Str(s) => render_str(s, out),
            J::Arr(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.render(out);
                }
                out.push(']');
            }
            J::Obj(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    render_str(k, out);
                    out.push(':');
                    v.render(out);
                }
                out.push('}');
            }
        }
    }

    /// The value of the first member named `key` of an object.
    pub fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(m) => m.iter().find(|(k, _)| k.text == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Every string anywhere under a member named `key` (e.g. all `_match_domain_` patterns).
    pub fn strings_under(&self, key: &str, out: &mut Vec<String>) {
        match self {
            J::Arr(items) => items.iter().for_each(|v| v.strings_under(key, out)),
            J::Obj(members) => {
                for (k, v) in members {
                    if k.text == key {
                        if let J::Arr(items) = v {
                            out.extend(items.iter().filter_map(|i| match i {
                                J::Str(s) => Some(s.text.clone()),
                                _ => None,
                            }));
                        }
                    }
                    v.strings_under(key, out);
                }
            }
            _ => {}
        }
    }
}

fn render_str(s: &S, out: &mut String) {
    out.push('"');
    for c in s.text.chars() {
        match (s.style, c) {
            (Style::AllEscaped, c) => escape_utf16(c, out, true),
            (_, '"') => out.push_str("\\\""),
            (_, '\\') => out.push_str("\\\\"),
            (_, '\n') => out.push_str("\\n"),
            (_, '\t') => out.push_str("\\t"),
            (_, '\r') => out.push_str("\\r"),
            (_, '\u{8}') => out.push_str("\\b"),
            (_, '\u{c}') => out.push_str("\\f"),
            (_, c) if (c as u32) < 0x20 => escape_utf16(c, out, false),
            (Style::Escaped, '/') => out.push_str("\\/"),
            (Style::Escaped, c) if !c.is_ascii() => escape_utf16(c, out, false),
            (_, c) => out.push(c),
        }
    }
    match s.style {
        Style::LoneHigh => out.push_str("\\ud800"),
        Style::LoneLow => out.push_str("\\udc00"),
        Style::RawControl => out.push('\u{1}'),
        Style::BadEscape => out.push_str("\\x"),
        _ => {}
    }
    out.push('"');
}

/// `c` as one `\uXXXX` escape, or a surrogate pair of them.
fn escape_utf16(c: char, out: &mut String, upper: bool) {
    let mut units = [0u16; 2];
    for u in c.encode_utf16(&mut units) {
        let _ = if upper {
            write!(out, "\\u{:04X}", u)
        } else {
            write!(out, "\\u{:04x}", u)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_style() {
        let s = |text: &str, style| {
            J::Str(S {
                text: text.into(),
                style,
            })
        };
        assert_eq!(s("a\"/\u{1}", Style::Plain).text(), r#""a\"/\u0001""#);
        assert_eq!(
            s("é/😀", Style::Escaped).text(),
            r#""\u00e9\/\ud83d\ude00""#
        );
        assert_eq!(s("a", Style::AllEscaped).text(), r#""\u0061""#);
        assert_eq!(s("a", Style::LoneHigh).text(), r#""a\ud800""#);
        assert_eq!(s("", Style::RawControl).text(), "\"\u{1}\"");
        let doc = J::obj(vec![
            ("k", J::Arr(vec![J::Null, J::num("1")])),
            ("k", J::Bool(true)),
        ]);
        assert_eq!(doc.text(), r#"{"k":[null,1],"k":true}"#);
        for style in [Style::Plain, Style::Escaped, Style::AllEscaped] {
            let text = s("x\"\\\n\u{7f}é😀/", style).text();
            let back: String = serde_json::from_str(&text).unwrap();
            assert_eq!(back, "x\"\\\n\u{7f}é😀/", "{style:?}");
        }
    }
}
