//! Where the generated regions live: the README and the Markdown pages of the `docs/` folder beside
//! it. Each region name is in exactly one of those files; `readme` finds it there and rewrites it in
//! place. Every page is read before any region is generated and written only after all of them are,
//! each file atomically, so a failed `readme` changes nothing.

use super::replace_region;
use std::path::{Path, PathBuf};

/// One page that may hold regions: its path, its text as read, and its text with the regions
/// replaced so far.
#[derive(Debug)]
struct Page {
    path: PathBuf,
    read: String,
    text: String,
    /// `../` for each folder between the README's folder and the page's: what a link written from
    /// the README's folder (the project's root) needs in front on this page.
    up: String,
}

/// The README and its `docs/*.md` pages.
#[derive(Debug)]
pub struct Pages {
    readme: PathBuf,
    pages: Vec<Page>,
}

/// `<!-- generated:NAME:begin -->`.
pub fn begin_marker(name: &str) -> String {
    format!("<!-- generated:{name}:begin -->")
}

impl Pages {
    /// Reads `readme` and every `*.md` file of the `docs/` folder beside it (none when there is no
    /// such folder). A README that cannot be read is a usage error naming it.
    pub fn read(readme: &Path) -> Result<Pages, String> {
        let text = std::fs::read_to_string(readme)
            .map_err(|e| format!("cannot read {} ({e})", readme.display()))?;
        let mut pages = vec![Page {
            path: readme.to_path_buf(),
            read: text.clone(),
            text,
            up: String::new(),
        }];
        let docs = readme.parent().unwrap_or(Path::new(".")).join("docs");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&docs)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "md") && p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        for path in found {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {} ({e})", path.display()))?;
            pages.push(Page {
                path,
                read: text.clone(),
                text,
                up: "../".into(),
            });
        }
        Ok(Pages {
            readme: readme.to_path_buf(),
            pages,
        })
    }

    /// The files searched, as an error message names them.
    fn searched(&self) -> String {
        if self.pages.len() == 1 {
            self.readme.display().to_string()
        } else {
            let docs = self.readme.parent().unwrap_or(Path::new(".")).join("docs");
            format!("{} or {}/*.md", self.readme.display(), docs.display())
        }
    }

    /// The page holding region `name`: an error when none does or more than one does.
    pub fn holder(&self, name: &str) -> Result<&Path, String> {
        let at = self.find(name)?;
        Ok(&self.pages[at].path)
    }

    fn find(&self, name: &str) -> Result<usize, String> {
        let marker = begin_marker(name);
        let holders: Vec<usize> = (0..self.pages.len())
            .filter(|&i| self.pages[i].text.contains(&marker))
            .collect();
        match holders.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!(
                "marker `{marker}` not found in {}; add the region's begin and end markers to one of them",
                self.searched()
            )),
            many => Err(format!(
                "region `{name}` is in more than one file ({}); keep it in one",
                many.iter()
                    .map(|&i| self.pages[i].path.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// Whether some page holds region `name`.
    pub fn has(&self, name: &str) -> bool {
        let marker = begin_marker(name);
        self.pages.iter().any(|p| p.text.contains(&marker))
    }

    /// Replaces region `name` with `body` (written with links relative to the README's folder) in
    /// the one page that holds it, its links rebased to that page's folder.
    pub fn replace(&mut self, name: &str, body: &str) -> Result<(), String> {
        let at = self.find(name)?;
        let page = &mut self.pages[at];
        let body = rebase_links(body, &page.up);
        page.text = replace_region(&page.text, name, &body)
            .map_err(|e| format!("{}: {e}", page.path.display()))?;
        Ok(())
    }

    /// Writes every page whose text changed, each atomically; returns the pages written.
    pub fn write(&self) -> std::io::Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        for p in self.pages.iter().filter(|p| p.text != p.read) {
            crate::sys::write_atomic(&p.path, p.text.as_bytes())?;
            written.push(p.path.clone());
        }
        Ok(written)
    }
}

/// Puts `up` in front of every relative Markdown link target of `body` (`](results/x)` ->
/// `](../results/x)`); absolute URLs, absolute paths and same-page anchors stay as they are.
pub fn rebase_links(body: &str, up: &str) -> String {
    if up.is_empty() {
        return body.to_string();
    }
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find("](") {
        out.push_str(&rest[..i + 2]);
        rest = &rest[i + 2..];
        let relative = !(rest.starts_with('#')
            || rest.starts_with('/')
            || rest.starts_with("http://")
            || rest.starts_with("https://")
            || rest.starts_with("mailto:"));
        if relative {
            out.push_str(up);
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_rebased_for_pages_in_a_folder() {
        let b = "[a](results/x/report.md) ![c](results/x/c.svg) [d](#here) [e](https://x.org) `results/y`";
        assert_eq!(rebase_links(b, ""), b);
        assert_eq!(
            rebase_links(b, "../"),
            "[a](../results/x/report.md) ![c](../results/x/c.svg) [d](#here) [e](https://x.org) `results/y`"
        );
    }

    #[test]
    fn each_region_is_found_in_the_one_page_that_holds_it() {
        let dir = std::env::temp_dir().join(format!("readme-pages-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        let readme = dir.join("README.md");
        let region = |n: &str| format!("{}\nold\n<!-- generated:{n}:end -->\n", begin_marker(n));
        std::fs::write(&readme, format!("# r\n{}", region("a"))).unwrap();
        std::fs::write(dir.join("docs/b.md"), format!("# b\n{}", region("b"))).unwrap();
        std::fs::write(
            dir.join("docs/c.md"),
            format!("# c\n{}{}", region("c"), region("a")),
        )
        .unwrap();
        std::fs::write(dir.join("docs/notes.txt"), region("b")).unwrap();
        let mut p = Pages::read(&readme).unwrap();
        assert!(p.has("b") && !p.has("z"));
        p.replace("b", "see [r](results/r/report.md)").unwrap();
        let e = p.replace("a", "x").unwrap_err();
        assert!(
            e.contains("more than one file") && e.contains("c.md"),
            "{e}"
        );
        let e = p.replace("z", "x").unwrap_err();
        assert!(
            e.contains("generated:z:begin") && e.contains("README.md or"),
            "{e}"
        );
        assert_eq!(p.write().unwrap(), vec![dir.join("docs/b.md")]);
        let b = std::fs::read_to_string(dir.join("docs/b.md")).unwrap();
        assert!(
            b.contains("see [r](../results/r/report.md)\n<!-- generated:b:end -->"),
            "{b}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
