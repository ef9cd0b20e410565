//! Plugins of another git revision of the project (`ab --base REV`): the revision resolved, checked
//! out as a detached git worktree under the cache, its changed plugins built there through the same
//! manifest-driven build (their own stamps and logs, outside the worktree, so that neither tree's
//! build looks up to date to the other, and nothing is written into the current tree), each build
//! output kept in a content cache keyed by the plugin's source hash (a revision built once is not
//! built again), and the worktree removed afterwards: when its handle is dropped (success, error,
//! Ctrl-C) and, by a [`CleanupGuard`], when the runner is killed.

use super::{discover_in, sha256_hex, Built, Plugin, Unavailable, LUA_KIND};
use crate::error::usage;
use crate::paths::Project;
use crate::sys::CleanupGuard;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A revision as given (`spec`, e.g. `HEAD~1`, `origin/main`) and the commit it names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub spec: String,
    pub commit: String,
}

/// Runs git in `root`; stdout trimmed on success, else git's first stderr line.
fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let out = crate::sys::die_with_runner(&mut Command::new("git"))
        .arg("-C")
        .arg(root)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git ({e}); install git"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(err
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("git failed")
            .to_string())
    }
}

/// Resolves `spec` (given with `flag`) to a commit of the repository at `root`; a usage error (exit
/// 2) naming the flag and the revision when it names none.
pub fn resolve(root: &Path, flag: &str, spec: &str) -> anyhow::Result<Revision> {
    if spec.trim().is_empty() || spec.starts_with('-') {
        return Err(usage(format!(
            "{flag} `{spec}`: give a git revision (a commit, branch or tag, e.g. HEAD~1)"
        )));
    }
    git(root, &["rev-parse", "--git-dir"]).map_err(|e| {
        usage(format!(
            "{flag} {spec}: {} is not a git repository ({e}); run from a clone of the project",
            root.display()
        ))
    })?;
    let commit = git(
        root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{spec}^{{commit}}"),
        ],
    )
    .ok()
    .filter(|c| !c.is_empty())
    .ok_or_else(|| {
        usage(format!(
            "{flag} {spec}: no such revision in {} (a shallow clone may lack it: git fetch --deepen, or fetch-depth 0 in CI)",
            root.display()
        ))
    })?;
    Ok(Revision {
        spec: spec.to_string(),
        commit,
    })
}

/// The worktrees `ab` makes, under the cache (one folder per worktree, named with the runner's pid).
pub fn worktrees_dir(project: &Project) -> PathBuf {
    project.cache().join("ab").join("worktrees")
}

/// Removes the worktrees of runners that are gone (a reboot, or a guard that could not run), and
/// lets git forget worktrees whose folder is gone.
pub fn remove_stale(project: &Project) {
    let dir = worktrees_dir(project);
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let pid = name.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = git(
                &project.root,
                &["worktree", "remove", "--force", &e.path().to_string_lossy()],
            );
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    let _ = git(&project.root, &["worktree", "prune"]);
}

/// What removes a worktree: git's own removal, the folder itself, then git's record of it.
const REMOVE_WORKTREE: &str = r#"read -r _
git -C "$1" worktree remove --force "$2" >/dev/null 2>&1
rm -rf "$2"
git -C "$1" worktree prune >/dev/null 2>&1"#;

/// A detached git worktree of one revision, removed when dropped and when the runner dies.
pub struct Worktree {
    pub dir: PathBuf,
    pub revision: Revision,
    _guard: CleanupGuard,
}

impl Worktree {
    /// `git worktree add --detach` of `rev` under [`worktrees_dir`] (`label` names the side: base,
    /// new). A worktree that cannot be made is a usage error naming the revision and the folder.
    pub fn add(project: &Project, rev: &Revision, label: &str) -> anyhow::Result<Worktree> {
        let parent = worktrees_dir(project);
        let short: String = rev.commit.chars().take(12).collect();
        let dir = parent.join(format!("{label}-{short}-{}", std::process::id()));
        std::fs::create_dir_all(&parent).map_err(|e| {
            usage(format!(
                "cannot make a git worktree of {} ({}) in {} ({e}); check that the cache folder is writable (BENCH_CACHE)",
                rev.spec,
                rev.commit,
                parent.display()
            ))
        })?;
        // The guard first: whatever happens from here on, the folder goes away.
        let guard = CleanupGuard::spawn(
            REMOVE_WORKTREE,
            &[project.root.as_os_str(), dir.as_os_str()],
        )
        .map_err(|e| usage(format!("cannot start sh to guard the worktree ({e})")))?;
        git(
            &project.root,
            &[
                "worktree",
                "add",
                "--detach",
                "--force",
                "--quiet",
                &dir.to_string_lossy(),
                &rev.commit,
            ],
        )
        .map_err(|e| {
            usage(format!(
                "cannot make a git worktree of {} ({}) in {}: {e}",
                rev.spec,
                rev.commit,
                dir.display()
            ))
        })?;
        Ok(Worktree {
            dir,
            revision: rev.clone(),
            _guard: guard,
        })
    }

    pub fn plugins_dir(&self) -> PathBuf {
        self.dir.join("plugins")
    }
}

/// Where the content cache keeps one plugin build: `.cache/ab/builds/<name>-<source hash>/`.
fn cached_dir(project: &Project, name: &str, source_hash: &str) -> PathBuf {
    project.cache().join("ab").join("builds").join(format!(
        "{name}-{}",
        &source_hash[..source_hash.len().min(24)]
    ))
}

/// What the content cache records beside an output.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedBuild {
    source_hash: String,
    file: String,
    built: Built,
}

/// A build of `plugin` (a plugin folder of a worktree) from the content cache, or built in the
/// worktree and then put there. `seed`: the same plugin's folder in the current tree, whose files
/// git ignores (its dependency and build caches: `target/`, `node_modules/`) are copied into the
/// worktree first so that only what changed is compiled (the copies are the worktree's: the current
/// tree's outputs are never written). `state`: the folder for the build's stamp and log, outside
/// the worktree, so that a failed build's log outlives it. Builds of one plugin are serialised
/// between runners (a lock in the content cache).
pub fn build_cached(
    project: &Project,
    plugin: &Plugin,
    seed: Option<&Path>,
    state: &Path,
) -> Result<Built, Unavailable> {
    let unavailable = |reason: String| Unavailable {
        name: plugin.name.clone(),
        reason,
    };
    let source_hash = plugin.source_hash();
    let cache = cached_dir(project, &plugin.name, &source_hash);
    // One build of a plugin at a time across runners: a second one waits, then finds it cached.
    let lock_path = project
        .cache()
        .join("ab")
        .join("builds")
        .join(format!("{}.lock", plugin.name));
    let _lock = crate::sys::FileLock::acquire(&lock_path)
        .map_err(|e| unavailable(format!("cannot lock {} ({e})", lock_path.display())))?;
    if let Some(b) = read_cached(&cache, &source_hash) {
        return Ok(b);
    }
    let output = plugin.output();
    if plugin.manifest.kind != LUA_KIND {
        if let Some(seed) = seed {
            seed_ignored(project, seed, &plugin.dir);
        }
        // a copied output must not pass for this revision's: the build has to make its own
        let _ = std::fs::remove_file(&output);
    }
    let built = if plugin.manifest.kind == LUA_KIND {
        plugin.prepare(project, false)?
    } else {
        plugin.build_at(project, state, true)?
    };
    let file = output
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_else(|| "output".into());
    let store = || -> std::io::Result<Built> {
        let tmp = cache.with_extension(format!("tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)?;
        std::fs::copy(&output, tmp.join(&file))?;
        let mut b = built.clone();
        b.module = cache.join(&file);
        let record = CachedBuild {
            source_hash: source_hash.clone(),
            file: file.clone(),
            built: b.clone(),
        };
        crate::sys::write_atomic(
            &tmp.join("build.json"),
            serde_json::to_string_pretty(&record)?.as_bytes(),
        )?;
        let _ = std::fs::remove_dir_all(&cache);
        std::fs::rename(&tmp, &cache)?;
        Ok(b)
    };
    store().map_err(|e| {
        unavailable(format!(
            "built, but cannot keep {} in {} ({e})",
            output.display(),
            cache.display()
        ))
    })
}

/// A cached build whose output is still there with the hash it was recorded with.
fn read_cached(cache: &Path, source_hash: &str) -> Option<Built> {
    let text = std::fs::read_to_string(cache.join("build.json")).ok()?;
    let record: CachedBuild = serde_json::from_str(&text).ok()?;
    let bytes = std::fs::read(cache.join(&record.file)).ok()?;
    (record.source_hash == source_hash && sha256_hex(&bytes) == record.built.sha256).then(|| {
        let mut b = record.built;
        b.module = cache.join(&record.file);
        b.rebuilt = false;
        b
    })
}

/// Copies the files git ignores in the current tree's plugin folder `seed` into the same place of
/// `into` (a worktree's copy of that folder), keeping what is already there.
fn seed_ignored(project: &Project, seed: &Path, into: &Path) {
    let Ok(rel) = seed.strip_prefix(&project.root) else {
        return;
    };
    let listed = git(
        &project.root,
        &[
            "ls-files",
            "--others",
            "--ignored",
            "--exclude-standard",
            "--directory",
            "--",
            &rel.to_string_lossy(),
        ],
    )
    .unwrap_or_default();
    for entry in listed.lines().filter(|l| !l.is_empty()) {
        let entry = entry.trim_end_matches('/');
        let Ok(inner) = Path::new(entry).strip_prefix(rel) else {
            continue;
        };
        let (from, to) = (project.root.join(entry), into.join(inner));
        if to.exists() {
            continue;
        }
        if let Some(parent) = to.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = crate::sys::die_with_runner(&mut Command::new("cp"))
            .args(["-a", "--reflink=auto"])
            .arg(&from)
            .arg(&to)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    // `cp -a` keeps the seeded outputs' times: an output built after the worktree was checked out
    // would look newer than this revision's sources, and cargo would take it as up to date (the
    // base's module passed for the new revision's on a fresh clone). The sources are made newer.
    let now = std::time::SystemTime::now();
    for file in git(into, &["ls-files"]).unwrap_or_default().lines() {
        if let Ok(f) = std::fs::File::options().write(true).open(into.join(file)) {
            let _ = f.set_modified(now);
        }
    }
}

/// The plugins of a worktree (every kind), by folder name.
pub fn discover_worktree(wt: &Worktree) -> anyhow::Result<Vec<Plugin>> {
    discover_in(&wt.plugins_dir()).map_err(|e| {
        usage(format!(
            "revision {} ({}): {e}",
            wt.revision.spec, wt.revision.commit
        ))
    })
}
