//! report.html: one self-contained page (inline CSS and SVG, no external assets) with the overhead
//! table, the article's figures beside ours, the charts, what was skipped and the run's conditions.

use super::charts::{self, Chart};
use super::{article, article_rows};
use crate::results::{Results, BASELINE};
use crate::stats::Estimate;
use std::fmt::Write;

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) const CSS: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 2rem auto;
       max-width: 1320px; padding: 0 1rem; color: #1b1b1b; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
p.meta, .note { color: #555; font-size: .92rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .88rem; }
td.id { white-space: nowrap; }
th, td { border: 1px solid #d6d6d6; padding: .3rem .55rem; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.claim { background: #fff6e0; }
th.claim { background: #fbe7b5; }
.ci { color: #666; font-size: .85em; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: .88em; }
figure { margin: 1.5rem 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .9rem; }
.bad { color: #b00020; font-weight: 600; }
"#;

fn num(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        "n/a".into()
    }
}

/// "+10.6" with "[+5.3, +15.9]" in a smaller span.
fn est_cell(e: &Estimate) -> String {
    if !e.estimate.is_finite() {
        return "<td class=\"num\">n/a</td>".into();
    }
    if !e.has_interval() {
        return format!(
            "<td class=\"num\">{:+.1} <span class=\"ci\">[n/a]</span></td>",
            e.estimate
        );
    }
    format!(
        "<td class=\"num\">{:+.1} <span class=\"ci\">[{:+.1}, {:+.1}]</span></td>",
        e.estimate, e.ci95_low, e.ci95_high
    )
}

fn overhead_table(r: &Results) -> String {
    let mut s = String::new();
    s.push_str(
        "<div class=\"scroll\"><table class=\"overhead\" id=\"overhead-table\">\n<thead><tr>",
    );
    for h in [
        "variant",
        "p50 µs",
        "p99 µs",
        "CPU µs/req, fixed rate",
        "CPU µs/req, saturation",
        "max rps",
        "added p50 µs [95% CI]",
        "added p99 µs [95% CI]",
        "CPU overhead µs/req, fixed rate [95% CI]",
        "CPU overhead µs/req, saturation [95% CI]",
    ] {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("<th class=\"claim\">article's claim µs<br>(its headers workload)</th><th>errors</th></tr></thead>\n<tbody>\n");
    for v in charts::ordered(r) {
        let _ = write!(
            s,
            "<tr><td class=\"id\"><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
            esc(&v.id),
            num(v.latency_us.p50, 1),
            num(v.latency_us.p99, 1),
            num(v.fixed_cpu_us_per_req, 1),
            num(v.cpu_us_per_req, 1),
            num(v.rps, 0),
        );
        match &v.overhead {
            Some(o) => {
                s.push_str(&est_cell(&o.p50));
                s.push_str(&est_cell(&o.p99));
                s.push_str(&est_cell(&o.fixed_cpu_us_per_req));
                s.push_str(&est_cell(&o.cpu_us_per_req));
            }
            None => s.push_str("<td colspan=\"4\" class=\"note\">reference: every overhead is measured against this</td>"),
        }
        let claim = super::article_cell(v);
        let errors = if v.errors > 0 {
            format!("<span class=\"bad\">{}</span>", v.errors)
        } else {
            "0".into()
        };
        let _ = writeln!(
            s,
            "<td class=\"num claim\">{}</td><td class=\"num\">{errors}</td></tr>",
            esc(&claim)
        );
    }
    s.push_str("</tbody></table></div>\n");
    s
}

fn article_table(r: &Results) -> String {
    let (wls, rows) = article_rows(r);
    let mut s = String::new();
    s.push_str("<div class=\"scroll\"><table class=\"article\" id=\"article-table\">\n<thead><tr><th>implementation</th><th>runtime</th>");
    s.push_str("<th class=\"claim\">article's claim, µs<br>(its headers workload)</th>");
    for w in &wls {
        let _ = write!(
            s,
            "<th>ours, <code>{0}</code>:<br>added p50 µs [95% CI]</th><th>ours, <code>{0}</code>:<br>total p50 µs</th><th>ours, <code>{0}</code>:<br>CPU overhead µs/req, fixed rate [95% CI]</th>",
            esc(w)
        );
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for row in &rows {
        let lang = match row.claim {
            Some(c) => format!(
                "{} (<code>{}</code>)",
                esc(c.language),
                esc(&row.implementation)
            ),
            None => format!(
                "<code>{}</code> (not in the article)",
                esc(&row.implementation)
            ),
        };
        let _ = write!(
            s,
            "<tr><td>{lang}</td><td>{}</td><td class=\"num claim\">{}</td>",
            esc(row.runtime.as_deref().unwrap_or("-")),
            row.claim
                .map_or("-".to_string(), |c| format!("{:.0}", c.overhead_us))
        );
        for v in &row.per_workload {
            match v.and_then(|v| v.overhead.as_ref().map(|o| (v, o))) {
                Some((v, o)) => {
                    s.push_str(&est_cell(&o.p50));
                    let _ = write!(s, "<td class=\"num\">{}</td>", num(v.latency_us.p50, 1));
                    s.push_str(&est_cell(&o.fixed_cpu_us_per_req));
                }
                None => s.push_str(
                    "<td class=\"note\">not measured</td><td class=\"note\">not measured</td><td class=\"note\">not measured</td>",
                ),
            }
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div>\n");
    s
}

/// Plotters' SVG as an inline element (an XML declaration, if any, is dropped).
fn inline_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

fn kv(s: &mut String, k: &str, v: &str) {
    let _ = writeln!(s, "<tr><th>{}</th><td>{v}</td></tr>", esc(k));
}

fn phase(p: &crate::results::Phase) -> String {
    let load = match p.rate {
        Some(rate) => format!("open loop at {rate:.0} req/s (coordinated-omission corrected)"),
        None => "closed loop".into(),
    };
    format!(
        "{load}, {} connections, {} s warm-up, {} s measured window",
        p.connections, p.warmup_s, p.window_s
    )
}

fn conditions(r: &Results) -> String {
    let mut s = String::from("<table class=\"conditions\">\n");
    let h = &r.host;
    let p = &r.profile;
    kv(
        &mut s,
        "run",
        &format!(
            "started {}, finished {}, status <strong>{}</strong>",
            esc(&r.started_at),
            esc(r.finished_at.as_deref().unwrap_or("unfinished")),
            esc(&r.status)
        ),
    );
    kv(
        &mut s,
        "host",
        &format!(
            "{} ({}), kernel {}",
            esc(&h.cpu_model),
            esc(&h.hostname),
            esc(&h.kernel)
        ),
    );
    kv(&mut s, "cores", &h.cores.to_string());
    kv(
        &mut s,
        "pinning",
        &match (h.envoy_cpu, h.load_cpu) {
            (Some(e), Some(l)) => format!("Envoy on CPU {e}, load generator on CPU {l}"),
            (Some(e), None) => format!("Envoy on CPU {e}, load generator not pinned"),
            (None, Some(l)) => format!("Envoy not pinned, load generator on CPU {l}"),
            (None, None) => "not pinned".into(),
        },
    );
    kv(
        &mut s,
        "Envoy",
        &format!(
            "{} ({}), <code>{}</code>, <code>--concurrency {}</code><br><span class=\"note\">{}</span>",
            esc(&r.envoy.version),
            esc(&r.envoy.found_via),
            esc(&r.envoy.path),
            r.envoy.concurrency,
            esc(&r.envoy.version_line)
        ),
    );
    kv(
        &mut s,
        "Wasm runtimes in this Envoy",
        &esc(&r.envoy.runtimes.join(", ")),
    );
    kv(&mut s, "profile", &format!("<code>{}</code>", esc(&p.name)));
    kv(
        &mut s,
        "rounds",
        &format!("{} (variant order shuffled every round)", p.rounds),
    );
    kv(&mut s, "workloads", &esc(&p.workloads.join(", ")));
    kv(&mut s, "latency phase", &esc(&phase(&p.latency)));
    kv(
        &mut s,
        "Envoy processes",
        &format!("{} (the units of every interval)", p.processes),
    );
    kv(
        &mut s,
        "CPU phase",
        &esc(&format!(
            "{} passes per round; each variant a saturation burst of {} requests over {} connections and a fixed-rate burst of {} requests",
            p.cpu.slices, p.cpu.requests, p.cpu.connections, p.cpu.fixed_requests
        )),
    );
    kv(
        &mut s,
        "other settings",
        &esc(&format!(
            "protocol {}, request timeout {} s, seed {}, pin {}, only {}",
            p.protocol,
            p.timeout_s,
            p.seed,
            p.pin,
            p.only
                .as_ref()
                .map_or("(all)".to_string(), |o| o.join(", "))
        )),
    );
    kv(
        &mut s,
        "runner build",
        &esc(&format!(
            "cargo profile {}, opt-level {}, debug assertions {}",
            r.runner.cargo_profile, r.runner.opt_level, r.runner.debug_assertions
        )),
    );
    kv(
        &mut s,
        "suite / schema",
        &esc(&format!("{} / {}", r.suite_version, r.schema_version)),
    );
    s.push_str("</table>\n");
    s
}

fn modules(r: &Results) -> String {
    let mut s = String::from(
        "<div class=\"scroll\"><table class=\"modules\">\n<thead><tr><th>variant</th><th>language</th><th>runtime</th><th>workload</th><th>module bytes</th><th>sha256</th><th>rounds</th><th>requests</th></tr></thead>\n<tbody>\n",
    );
    for v in charts::ordered(r) {
        let _ = writeln!(
            s,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&v.id),
            esc(&v.language),
            esc(v.runtime.as_deref().unwrap_or("-")),
            esc(&v.workload),
            v.wasm_bytes.map_or("-".into(), |b| b.to_string()),
            esc(v.wasm_sha256.as_deref().unwrap_or("-")),
            v.rounds,
            v.requests
        );
    }
    s.push_str("</tbody></table></div>\n");
    s
}

/// The section on plugins of your own ("" without any).
fn own(r: &Results) -> String {
    let Some((rows, facts)) = super::own::parts(r) else {
        return String::new();
    };
    let mut s = String::from("<h2 id=\"own\">Your plugins</h2>\n<div class=\"scroll\"><table>\n<thead><tr><th>plugin</th><th>kind</th><th>file</th><th>sha256</th><th>bytes</th><th>configuration</th><th>variants</th></tr></thead>\n<tbody>\n");
    for row in rows {
        s.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let _ = match i {
                4 => write!(s, "<td class=\"num\">{}</td>", esc(c)),
                0 | 2 | 3 | 5 => write!(s, "<td><code>{}</code></td>", esc(c)),
                _ => write!(s, "<td>{}</td>", esc(c)),
            };
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div>\n<ul>\n");
    for f in facts {
        let _ = writeln!(s, "<li>{}</li>", esc(&f).replace('`', ""));
    }
    s.push_str("</ul>\n");
    s
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The whole page.
pub fn page(r: &Results, charts: &[Chart]) -> String {
    let mut s = String::new();
    let title = format!("Plugin overhead: run of {}", r.started_at);
    let _ = writeln!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>",
        esc(&title)
    );
    let _ = writeln!(s, "<h1>{}</h1>", esc(&title));
    let processes = if r.profile.processes == 1 {
        "1 Envoy process".to_string()
    } else {
        format!("{} Envoy processes", r.profile.processes)
    };
    let _ = writeln!(
        s,
        "<p class=\"meta\">profile <code>{}</code> · {} over {processes} · status {} · {} · Envoy {} · {}</p>",
        esc(&r.profile.name),
        plural(r.profile.rounds, "round"),
        esc(&r.status),
        esc(&r.host.cpu_model),
        esc(&r.envoy.version),
        plural(r.host.cores, "core")
    );

    s.push_str("<h2 id=\"overhead\">Overhead per variant</h2>\n");
    let _ = writeln!(
        s,
        "<p>Latency is measured at {:.0} req/s with each variant interleaved with the baseline on one open-loop schedule, \
         so both see the same moment of machine noise; added latency is the variant's percentile minus the interleaved \
         baseline's, the windows of each Envoy process pooled. CPU µs/req is Envoy's CPU time per request in two regimes: \
         at that fixed rate (every request pays its own wake-ups) and at saturation (closed loop, requests batched). Each \
         overhead is the mean over {} Envoy processes of that process's figure with a Student's t 95% interval over \
         processes; an interval that contains 0 means this run could not tell the plugin from no plugin. \
         <code>baseline-aa</code> is a second no-plugin listener: the run's null check.</p>",
        r.profile.latency.rate.unwrap_or(f64::NAN),
        r.profile.processes
    );
    s.push_str(&overhead_table(r));
    s.push_str(&own(r));
    if r.health.is_some() {
        s.push_str("<h2 id=\"health\">Run health</h2>\n<ul>\n");
        for line in super::health(r).lines() {
            let text = line.trim_start_matches("- ");
            let _ = writeln!(s, "<li>{}</li>", esc(text).replace("**", ""));
        }
        s.push_str("</ul>\n");
    }
    if let Some((intro, header, cells)) = super::precision::table(r) {
        s.push_str("<h2 id=\"precision\">Precision, and what more of it would cost</h2>\n");
        let _ = writeln!(
            s,
            "<p>{}</p>\n<div class=\"scroll\"><table id=\"precision-table\">\n<thead><tr>",
            esc(&intro)
        );
        for h in &header {
            let _ = write!(s, "<th>{}</th>", esc(h));
        }
        s.push_str("</tr></thead>\n<tbody>\n");
        for row in cells {
            s.push_str("<tr>");
            for (i, c) in row.iter().enumerate() {
                if i == 0 {
                    let _ = write!(s, "<td class=\"id\"><code>{}</code></td>", esc(c));
                } else {
                    let _ = write!(s, "<td class=\"num\">{}</td>", esc(c));
                }
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody>\n</table></div>\n");
    }
    let _ = writeln!(s, "<p class=\"note\">{}</p>", esc(article::SOURCE));

    s.push_str("<h2 id=\"article\">Our figures beside the article's</h2>\n");
    let _ = writeln!(
        s,
        "<p>The article's column is its claim (per-request latency overhead, µs), the same figure for each of our workloads. \
         Ours are measured here against the no-plugin baseline interleaved with each plugin: the added latency (the article's own \
         quantity), our total p50 beside it (the article's figures are of the order of our baseline's whole latency, so they may be \
         total latency), and the CPU overhead at the same fixed rate.</p>"
    );
    s.push_str(&article_table(r));
    if let Some(note) = super::external::note(r) {
        for line in note.lines().filter(|l| !l.trim().is_empty()) {
            let text = line.trim_start_matches("- ").replace(['`', '*'], "");
            let _ = writeln!(s, "<p>{}</p>", esc(&text));
        }
    }

    if !charts.is_empty() {
        s.push_str("<h2 id=\"charts\">Charts</h2>\n");
        for c in charts {
            let _ = writeln!(
                s,
                "<figure id=\"{0}\">\n{1}\n<figcaption>{2} · files: <a href=\"{0}.svg\">{0}.svg</a>, <a href=\"{0}.png\">{0}.png</a></figcaption>\n</figure>",
                esc(&c.stem),
                inline_svg(&c.svg),
                esc(&c.title)
            );
        }
    }

    s.push_str("<h2 id=\"skipped\">Skipped</h2>\n");
    if r.skipped.is_empty() {
        s.push_str("<p>Nothing was skipped.</p>\n");
    } else {
        s.push_str("<ul>\n");
        for k in &r.skipped {
            let _ = writeln!(
                s,
                "<li><code>{}</code>: {}</li>",
                esc(&k.variant),
                esc(&k.reason)
            );
        }
        s.push_str("</ul>\n");
    }
    if !r.notes.is_empty() {
        s.push_str("<h2 id=\"notes\">Notes</h2>\n<ul>\n");
        for n in &r.notes {
            let _ = writeln!(s, "<li>{}</li>", esc(n));
        }
        s.push_str("</ul>\n");
    }

    s.push_str("<h2 id=\"conditions\">Conditions</h2>\n");
    s.push_str(&conditions(r));
    s.push_str("<h3>Variants and modules</h3>\n");
    s.push_str(&modules(r));
    let has_baseline = r.variants.iter().any(|v| v.id == BASELINE);
    if !has_baseline {
        s.push_str(
            "<p class=\"bad\">This run has no baseline, so no overhead could be computed.</p>\n",
        );
    }
    s.push_str(
        "<p class=\"note\">Intervals are written as estimate [95% low, 95% high], in the column's unit. Rendered from \
         results.json only: <code>bench-runner report RESULTS_JSON</code> re-renders this page.</p>\n",
    );
    s.push_str("</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn xml_declaration_is_dropped() {
        assert_eq!(
            inline_svg("<?xml version=\"1.0\"?>\n<svg a=\"1\"></svg>"),
            "<svg a=\"1\"></svg>"
        );
        assert_eq!(inline_svg("<svg></svg>"), "<svg></svg>");
    }
}
