//! Named baselines: `run --save-baseline NAME` copies a finished run's results.json and report.md to
//! results/baselines/NAME/ (meant to be committed), and `compare --baseline NAME` reads them back.
//! The report carries the run's conditions (host, Envoy, profile), so a baseline describes itself.

use crate::error::usage;
use crate::paths::Project;
use std::path::{Path, PathBuf};

/// Files copied from the run folder; results.json is required, the others are copied when present.
const FILES: [&str; 2] = ["results.json", "report.md"];

pub fn baselines_dir(project: &Project) -> PathBuf {
    project.results_dir().join("baselines")
}

/// A name is one path component: letters, digits, `.`, `_`, `-`, not starting with `.`, at most 64.
/// `flag` (`--baseline`, `--save-baseline`) names where it was given.
pub fn validate_name(flag: &str, name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(usage(format!(
            "{flag} `{name}`: not a baseline name; use 1-64 letters, digits, `.`, `_` or `-` (not starting with `.`), e.g. `ci` or `main-quick`"
        )))
    }
}

/// Names of the saved baselines, sorted.
pub fn list(project: &Project) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(baselines_dir(project))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("results.json").is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// results/baselines/NAME/results.json, which must exist.
pub fn results_path(project: &Project, name: &str) -> anyhow::Result<PathBuf> {
    validate_name("--baseline", name)?;
    let path = baselines_dir(project).join(name).join("results.json");
    if path.is_file() {
        return Ok(path);
    }
    let known = list(project);
    Err(usage(format!(
        "--baseline {name}: {} does not exist ({}); save one with `bench-runner run --profile quick --save-baseline {name}`",
        path.display(),
        if known.is_empty() { "no baselines saved yet".to_string() } else { format!("saved: {}", known.join(", ")) }
    )))
}

/// Copies the run folder's results.json and report.md to results/baselines/NAME/, replacing an older
/// baseline of that name in one rename: the files are written to a hidden sibling folder first, then
/// swapped in (renameat2 RENAME_EXCHANGE where the filesystem has it), so a reader sees the old or
/// the new baseline complete, never a mix. Returns the baseline folder.
pub fn save(project: &Project, name: &str, run_dir: &Path) -> anyhow::Result<PathBuf> {
    validate_name("--save-baseline", name)?;
    let src = run_dir.join("results.json");
    if !src.is_file() {
        return Err(usage(format!(
            "--save-baseline {name}: {} does not exist; nothing to save",
            src.display()
        )));
    }
    let parent = baselines_dir(project);
    let io = |what: &str, p: &Path, e: std::io::Error| {
        usage(format!(
            "--save-baseline {name}: cannot {what} {} ({e}); check permissions",
            p.display()
        ))
    };
    std::fs::create_dir_all(&parent).map_err(|e| io("create", &parent, e))?;
    let target = parent.join(name);
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp).map_err(|e| io("create", &tmp, e))?;
    let staged = (|| -> anyhow::Result<()> {
        for f in FILES {
            let from = run_dir.join(f);
            if from.is_file() {
                let bytes = std::fs::read(&from).map_err(|e| io("read", &from, e))?;
                crate::sys::write_atomic(&tmp.join(f), &bytes)
                    .map_err(|e| io("write", &tmp.join(f), e))?;
            }
        }
        Ok(())
    })();
    if let Err(e) = staged {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let swapped = if target.exists() {
        if exchange(&tmp, &target) {
            // tmp now holds the old baseline
            true
        } else {
            let old = parent.join(format!(".{name}.old-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&old);
            std::fs::rename(&target, &old).map_err(|e| io("move aside", &target, e))?;
            let r = std::fs::rename(&tmp, &target);
            if let Err(e) = r {
                let _ = std::fs::rename(&old, &target);
                return Err(io("rename into place", &target, e));
            }
            let _ = std::fs::remove_dir_all(&old);
            false
        }
    } else {
        std::fs::rename(&tmp, &target).map_err(|e| io("rename into place", &target, e))?;
        false
    };
    if swapped {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(target)
}

/// Atomically swaps two existing directories (Linux renameat2 RENAME_EXCHANGE). False when unsupported.
fn exchange(a: &Path, b: &Path) -> bool {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let (Ok(ca), Ok(cb)) = (
        CString::new(a.as_os_str().as_bytes()),
        CString::new(b.as_os_str().as_bytes()),
    ) else {
        return false;
    };
    // SAFETY: both pointers are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    rc == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["ci", "main-quick", "v1.2_x"] {
            assert!(validate_name("--baseline", ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", ".hidden", "a/b", "a b", &"x".repeat(65)] {
            let e = validate_name("--baseline", bad).unwrap_err();
            assert!(e.to_string().starts_with("--baseline "), "{e}");
            assert_eq!(crate::error::exit_code_of(&e), 2);
        }
    }

    #[test]
    fn save_replaces_an_older_baseline_and_leaves_no_temporaries() {
        let root = tempfile::tempdir().unwrap();
        let project = Project {
            root: root.path().to_path_buf(),
        };
        let run = root.path().join("run");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(run.join("results.json"), "{\"v\": 1}").unwrap();
        std::fs::write(run.join("report.md"), "# one").unwrap();
        let dir = save(&project, "ci", &run).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("report.md")).unwrap(),
            "# one"
        );
        std::fs::write(run.join("results.json"), "{\"v\": 2}").unwrap();
        std::fs::remove_file(run.join("report.md")).unwrap();
        let dir = save(&project, "ci", &run).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("results.json")).unwrap(),
            "{\"v\": 2}"
        );
        assert!(
            !dir.join("report.md").exists(),
            "the old baseline's files are gone"
        );
        let entries: Vec<String> = std::fs::read_dir(baselines_dir(&project))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(entries, vec!["ci".to_string()]);
        assert_eq!(list(&project), vec!["ci".to_string()]);
        assert!(results_path(&project, "ci").is_ok());
        let e = results_path(&project, "nope").unwrap_err();
        assert!(e.to_string().contains("saved: ci"), "{e}");
        let e = save(&project, "x", &root.path().join("missing")).unwrap_err();
        assert_eq!(crate::error::exit_code_of(&e), 2);
    }
}
