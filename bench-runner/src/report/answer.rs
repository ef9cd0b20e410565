//! The answer to the question the suite exists for, per workload: what each implementation adds to
//! a request against no plugin (added p50 and Envoy CPU per request with their intervals, and the
//! instructions when the run counted them), cheapest first, a bar scaled within the workload and a
//! one-line summary. `run` and `report` print it (text, Markdown or JSON) and it opens report.md and
//! report.html; the full tables follow there.

use super::instructions::signed_count as grouped;
use super::is_reference;
use crate::results::{Results, VariantSummary};
use crate::stats::Estimate;
use serde::Serialize;
use std::fmt::Write;

/// What `run`, `report` and `compare` print on stdout: text for people (colours where the terminal
/// takes them), Markdown (a PR comment) or JSON (scripts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Markdown,
    Json,
}

/// The widest line of the text answer: a terminal of 100 columns shows it unwrapped.
pub const WIDTH: usize = 100;

/// The bar's cells at most.
const BAR: usize = 24;

/// The figure the rows are sorted by and the bar shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cost {
    /// Envoy's added CPU time per request at saturation (`overhead.cpu_us_per_req`).
    CpuUsPerReq,
    /// Added instructions per request, when the run counted them for every row.
    InstructionsPerReq,
}

impl Cost {
    /// "CPU" or "instructions", as the answer names the figure.
    pub fn what(self) -> &'static str {
        match self {
            Cost::CpuUsPerReq => "CPU",
            Cost::InstructionsPerReq => "instructions",
        }
    }
}

/// One implementation in one workload.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The variant's id without its workload (`rust-v8`, `lua`, `extproc-rust`).
    pub implementation: String,
    pub variant: String,
    pub added_p50_us: Estimate,
    /// Envoy's added CPU per request at saturation.
    pub added_cpu_us_per_req: Estimate,
    /// An external processor's own CPU per request (not in Envoy's figure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processor_cpu_us_per_req: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added_instructions_per_req: Option<Estimate>,
    /// What to know beside the figures (the manifest's note: "no SDK", "one header mutation").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Row {
    /// The figure `by` names (n/a where this row has none).
    pub fn cost(&self, by: Cost) -> Estimate {
        match by {
            Cost::CpuUsPerReq => self.added_cpu_us_per_req,
            Cost::InstructionsPerReq => self.added_instructions_per_req.unwrap_or(NONE),
        }
    }
}

const NONE: Estimate = Estimate {
    estimate: f64::NAN,
    ci95_low: f64::NAN,
    ci95_high: f64::NAN,
};

/// One workload's answer.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadAnswer {
    pub workload: String,
    pub sorted_by: Cost,
    /// Cheapest first.
    pub rows: Vec<Row>,
    pub summary: String,
}

impl WorkloadAnswer {
    /// The largest cost of the workload: what its bars are scaled to.
    pub fn max_cost(&self) -> f64 {
        self.rows
            .iter()
            .map(|r| r.cost(self.sorted_by).estimate)
            .filter(|x| x.is_finite())
            .fold(0.0f64, f64::max)
    }

    /// The lines under the rows: each implementation's note (what to know wherever it is ranked),
    /// and for each row whose external processor's CPU is not in the CPU column, that CPU.
    pub fn notes(&self) -> Vec<String> {
        let notes = self
            .rows
            .iter()
            .filter_map(|r| Some(format!("{}: {}", r.implementation, r.note.as_ref()?)));
        let processors = self.rows.iter().filter_map(|r| {
            Some(format!(
                "{}: its external processor uses another {:.1} µs/req of CPU (not in the column)",
                r.implementation, r.processor_cpu_us_per_req?
            ))
        });
        notes.chain(processors).collect()
    }
}

/// The whole answer of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// Envoy processes: the units every interval is over.
    pub processes: usize,
    /// The latency phase's open-loop rate, requests/s.
    pub rate: Option<f64>,
    pub workloads: Vec<WorkloadAnswer>,
}

/// Instructions per request a variant adds in Envoy (the run's counting phase; the processor's own,
/// for ext_proc, are said in the workload's note): the answer shows the column, sorts and draws the
/// bar by it when every row of a workload has it.
fn instructions_of(r: &Results, v: &VariantSummary) -> Option<Estimate> {
    r.instructions.as_ref()?.variant(&v.id)?.added
}

/// The answer of a run, from its saved results.
pub fn answer(r: &Results) -> Answer {
    let workloads = super::workloads(r)
        .into_iter()
        .map(|w| {
            let rows: Vec<Row> = r
                .variants
                .iter()
                .filter(|v| v.workload == w && !is_reference(&v.id))
                .filter_map(|v| {
                    let o = v.overhead.as_ref()?;
                    Some(Row {
                        implementation: v
                            .id
                            .strip_suffix(&format!("-{w}"))
                            .unwrap_or(&v.id)
                            .to_string(),
                        variant: v.id.clone(),
                        added_p50_us: o.p50,
                        added_cpu_us_per_req: o.cpu_us_per_req,
                        processor_cpu_us_per_req: v.processor_cpu_us_per_req,
                        added_instructions_per_req: instructions_of(r, v),
                        note: v.note.clone(),
                    })
                })
                .collect();
            workload_answer(w, rows)
        })
        .filter(|w| !w.rows.is_empty())
        .collect();
    Answer {
        processes: r.profile.processes,
        rate: r.profile.latency.rate,
        workloads,
    }
}

/// Sorts `rows` by their cost (instructions when every row has them, else CPU) and sums them up.
pub fn workload_answer(workload: String, mut rows: Vec<Row>) -> WorkloadAnswer {
    let by = if !rows.is_empty() && rows.iter().all(|r| r.added_instructions_per_req.is_some()) {
        Cost::InstructionsPerReq
    } else {
        Cost::CpuUsPerReq
    };
    let key = |r: &Row| {
        let e = r.cost(by).estimate;
        if e.is_finite() {
            e
        } else {
            f64::INFINITY
        }
    };
    rows.sort_by(|a, b| key(a).total_cmp(&key(b)));
    let summary = summary(&rows, by);
    WorkloadAnswer {
        workload,
        sorted_by: by,
        rows,
        summary,
    }
}

/// Whether `b` costs more than `a` at 95%: their difference exceeds the two half-widths combined in
/// quadrature (taking them as independent; figures measured against the same baseline in the same
/// processes are positively correlated, so this is conservative).
fn told_apart(a: &Estimate, b: &Estimate) -> bool {
    a.has_interval()
        && b.has_interval()
        && b.estimate - a.estimate > a.half_width().hypot(b.half_width())
}

fn above_zero(e: &Estimate) -> bool {
    e.has_interval() && e.ci95_low > 0.0
}

fn times(x: f64) -> String {
    if x < 10.0 {
        format!("{x:.1}x")
    } else {
        format!("{x:.0}x")
    }
}

/// "a", "a and b", "a, b and c", "a, b and 3 more" (at most `n` names).
fn names(rows: &[&Row], n: usize) -> String {
    let shown: Vec<&str> = rows
        .iter()
        .take(n.max(1))
        .map(|r| r.implementation.as_str())
        .collect();
    let more = rows.len() - shown.len();
    match (shown.len(), more) {
        (1, 0) => shown[0].to_string(),
        (_, 0) => format!(
            "{} and {}",
            shown[..shown.len() - 1].join(", "),
            shown[shown.len() - 1]
        ),
        _ => format!("{} and {more} more", shown.join(", ")),
    }
}

/// The one-line summary of a workload's sorted rows (hyperfine's "x times faster than" style):
/// which implementations cost the least (those not told apart from the cheapest), how much more the
/// next one and the costliest cost than the cheapest told from no plugin. At most [`WIDTH`] - 4
/// characters (the text answer prints it after "  → ").
pub fn summary(sorted: &[Row], by: Cost) -> String {
    let rows: Vec<&Row> = sorted
        .iter()
        .filter(|r| r.cost(by).estimate.is_finite())
        .collect();
    let what = by.what();
    let Some(first) = rows.first() else {
        return format!("no {what} figure in this run");
    };
    let last = rows[rows.len() - 1];
    if rows.len() == 1 {
        return format!("only {} was measured", first.implementation);
    }
    if !rows.iter().all(|r| r.cost(by).has_interval()) {
        let line = format!(
            "{} adds the least {what}, {} the most",
            first.implementation, last.implementation
        );
        let why = " (no intervals: fewer than 2 Envoy processes)";
        return if line.chars().count() + why.len() <= WIDTH - 4 {
            line + why
        } else {
            line + " (no intervals)"
        };
    }
    let tier: Vec<&Row> = rows
        .iter()
        .take_while(|r| !told_apart(&first.cost(by), &r.cost(by)))
        .copied()
        .collect();
    if tier.len() == rows.len() {
        return if rows.len() == 2 {
            format!(
                "{}'s {what} not told apart from {}'s at 95%",
                last.implementation, first.implementation
            )
        } else {
            format!(
                "no implementation's {what} told apart from the cheapest's ({}) at 95%",
                first.implementation
            )
        };
    }
    let zero = if tier.iter().any(|r| above_zero(&r.cost(by))) {
        ""
    } else if tier.len() == 1 {
        " (not told from no plugin)"
    } else {
        " (none told from no plugin)"
    };
    let reference = rows.iter().find(|r| above_zero(&r.cost(by))).copied();
    let next = reference.and_then(|x| {
        rows.iter()
            .find(|r| {
                !tier.iter().any(|t| t.variant == r.variant) && told_apart(&x.cost(by), &r.cost(by))
            })
            .copied()
    });
    let ratio = |r: &Row, x: &Row| r.cost(by).estimate / x.cost(by).estimate;
    let width = WIDTH - 4;
    for n in [3, 2, 1] {
        let lead = if tier.len() == 1 {
            format!("{} adds the least {what}{zero}", tier[0].implementation)
        } else {
            format!("least {what}: {} (not told apart){zero}", names(&tier, n))
        };
        let mut candidates = Vec::new();
        if let (Some(x), Some(b)) = (reference, next) {
            let second = format!(
                "{lead}; {} adds {} {}'s",
                b.implementation,
                times(ratio(b, x)),
                x.implementation
            );
            if last.variant != b.variant && told_apart(&x.cost(by), &last.cost(by)) {
                candidates.push(format!(
                    "{second}, {} {}",
                    last.implementation,
                    times(ratio(last, x))
                ));
            }
            candidates.push(second);
        }
        candidates.push(lead);
        if let Some(s) = candidates.into_iter().find(|s| s.chars().count() <= width) {
            return s;
        }
    }
    format!("least {what}: {}", first.implementation)
}

/// "+20.9" and "± 11.4" (or "[+1.0, +3.0]" for an interval that is not symmetric, "± n/a" without
/// one): the two halves of a cell, aligned apart.
pub(super) fn cell(e: &Estimate, decimals: usize) -> (String, String) {
    if !e.estimate.is_finite() {
        return ("n/a".into(), String::new());
    }
    let num = |x: f64| {
        if decimals == 0 {
            grouped(x)
        } else {
            format!("{x:+.decimals$}")
        }
    };
    let left = num(e.estimate);
    if !e.has_interval() {
        return (left, "± n/a".into());
    }
    let (up, down) = (e.ci95_high - e.estimate, e.estimate - e.ci95_low);
    if (up - down).abs() > 0.05 * up.abs().max(down.abs()).max(1e-9) {
        return (left, format!("[{}, {}]", num(e.ci95_low), num(e.ci95_high)));
    }
    let half = if decimals == 0 {
        grouped(e.half_width()).trim_start_matches('+').to_string()
    } else {
        format!("{:.decimals$}", e.half_width())
    };
    (left, format!("± {half}"))
}

/// A bar of `cells` cells (eighths of a block) for `x` of `max`; empty for nothing above 0.
pub fn bar(x: f64, max: f64, cells: usize) -> String {
    if !(x.is_finite() && max.is_finite() && x > 0.0 && max > 0.0) {
        return String::new();
    }
    let eighths = ((x / max).min(1.0) * cells as f64 * 8.0).round().max(1.0) as usize;
    const PART: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let mut s = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) {
        s.push(PART[eighths % 8]);
    }
    s
}

/// ANSI styles, applied only when colours are on.
struct Paint(bool);

impl Paint {
    fn on(&self, code: &str, s: &str) -> String {
        if self.0 && !s.is_empty() {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// The columns of a workload's rows: (head, decimals, cells per row).
fn columns(w: &WorkloadAnswer) -> Vec<(&'static str, Vec<(String, String)>)> {
    let mut cols = vec![
        (
            "added p50 µs",
            w.rows.iter().map(|r| cell(&r.added_p50_us, 1)).collect(),
        ),
        (
            "CPU µs/req",
            w.rows
                .iter()
                .map(|r| cell(&r.added_cpu_us_per_req, 1))
                .collect(),
        ),
    ];
    if w.rows
        .iter()
        .any(|r| r.added_instructions_per_req.is_some())
    {
        cols.push((
            "instructions/req",
            w.rows
                .iter()
                .map(|r| cell(&r.added_instructions_per_req.unwrap_or(NONE), 0))
                .collect(),
        ));
    }
    cols
}

fn interval_note(a: &Answer) -> String {
    if a.processes < crate::stats::MIN_UNITS {
        format!(
            "no intervals ({} Envoy process; at least {} are needed)",
            a.processes,
            crate::stats::MIN_UNITS
        )
    } else {
        format!("mean ± 95% CI over {} Envoy processes", a.processes)
    }
}

/// `text` in lines of at most `width` characters, broken between words; the lines after the first
/// indented by two spaces (a word longer than the line stays whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let indent = if lines.is_empty() { 0 } else { 2 };
        if !line.is_empty() && indent + line.chars().count() + 1 + word.chars().count() > width {
            lines.push(format!("{}{line}", " ".repeat(indent)));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    let indent = if lines.is_empty() { 0 } else { 2 };
    lines.push(format!("{}{line}", " ".repeat(indent)));
    lines
}

/// The answer as aligned text lines of at most [`WIDTH`] characters; `colour` adds ANSI styles.
pub fn text(a: &Answer, colour: bool) -> String {
    let p = Paint(colour);
    let mut s = String::new();
    if a.workloads.is_empty() {
        return "no plugin variant was measured against the baseline in this run\n".into();
    }
    for w in &a.workloads {
        let head = format!(
            "{} · added per request versus no plugin · {}",
            w.workload,
            interval_note(a)
        );
        let head = if head.chars().count() > WIDTH {
            format!("{} · added per request versus no plugin", w.workload)
        } else {
            head
        };
        let _ = writeln!(s, "{}", p.on("1", &head));
        let cols = columns(w);
        let name_w = w
            .rows
            .iter()
            .map(|r| r.implementation.chars().count())
            .chain(["implementation".len()])
            .max()
            .unwrap_or(0);
        // each column: the estimate right-aligned, a space, the interval left-aligned
        let widths: Vec<(usize, usize)> = cols
            .iter()
            .map(|(head, cells)| {
                let l = cells.iter().map(|c| c.0.chars().count()).max().unwrap_or(0);
                let r = cells.iter().map(|c| c.1.chars().count()).max().unwrap_or(0);
                let head = head.chars().count();
                (l.max(head.saturating_sub(r + 1)), r)
            })
            .collect();
        let used = 2 + name_w + widths.iter().map(|(l, r)| 2 + l + 1 + r).sum::<usize>() + 2;
        let cells = BAR.min(WIDTH.saturating_sub(used)).max(4);
        let mut line = format!("  {:<name_w$}", "implementation");
        for ((head, _), (l, r)) in cols.iter().zip(&widths) {
            let _ = write!(line, "  {head:>width$}", width = l + 1 + r);
        }
        let _ = write!(line, "  {}", w.sorted_by.what());
        let _ = writeln!(s, "{}", p.on("2", &line));
        let max = w.max_cost();
        for (i, row) in w.rows.iter().enumerate() {
            let name = format!("{:<name_w$}", row.implementation);
            let _ = write!(s, "  {}", p.on(if i == 0 { "1;32" } else { "1" }, &name));
            for ((_, cells), (l, r)) in cols.iter().zip(&widths) {
                let (a, b) = &cells[i];
                let _ = write!(s, "  {a:>l$} {}", p.on("2", &format!("{b:<r$}")));
            }
            let cost = row.cost(w.sorted_by);
            let style = if above_zero(&cost) { "36" } else { "2;36" };
            let _ = writeln!(s, "  {}", p.on(style, &bar(cost.estimate, max, cells)));
        }
        let _ = writeln!(s, "  → {}", p.on("1", &w.summary));
        for note in w.notes() {
            for line in wrap(&note, WIDTH - 4) {
                let _ = writeln!(s, "{}", p.on("2", &format!("  {line}")));
            }
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "{}",
        p.on(
            "2",
            &format!(
                "p50 at {:.0} req/s; CPU: Envoy's CPU time per request at saturation; cheapest first",
                a.rate.unwrap_or(f64::NAN)
            )
        )
    );
    s
}

/// The sentence that introduces the answer in the reports.
pub fn lead(a: &Answer) -> String {
    format!(
        "What each implementation adds to a request against no plugin, per workload, cheapest first: {}; p50 at {:.0} req/s; CPU is Envoy's CPU time per request at saturation; the bar is the {}, scaled within the workload.",
        interval_note(a),
        a.rate.unwrap_or(f64::NAN),
        a.workloads.first().map_or("CPU", |w| w.sorted_by.what())
    )
}

/// The answer as Markdown: per workload its summary and a table (the first screen of report.md, and
/// `--format markdown`).
pub fn markdown(a: &Answer) -> String {
    let mut s = String::new();
    if a.workloads.is_empty() {
        return "No plugin variant was measured against the baseline in this run.\n".into();
    }
    let _ = writeln!(s, "{}\n", lead(a));
    for w in &a.workloads {
        let cols = columns(w);
        let _ = writeln!(s, "**`{}`**: {}\n", w.workload, w.summary);
        let mut head = "| implementation |".to_string();
        let mut rule = "|---|".to_string();
        for (h, _) in &cols {
            let _ = write!(head, " {h} |");
            rule.push_str("---:|");
        }
        let _ = writeln!(s, "{head} {} |\n{rule}---|", w.sorted_by.what());
        let max = w.max_cost();
        for (i, row) in w.rows.iter().enumerate() {
            let _ = write!(s, "| {} |", row.implementation);
            for (_, cells) in &cols {
                let (a, b) = &cells[i];
                let _ = write!(s, " {a} {b} |");
            }
            let _ = writeln!(s, " {} |", bar(row.cost(w.sorted_by).estimate, max, 16));
        }
        for note in w.notes() {
            let _ = writeln!(s, "\n{note}.");
        }
        s.push('\n');
    }
    s
}

/// The answer as JSON (`--format json`).
pub fn json(a: &Answer) -> String {
    serde_json::to_string_pretty(a).unwrap_or_else(|_| "{}".into()) + "\n"
}

/// The answer in `format` (text with colours when `colour`).
pub fn render(a: &Answer, format: OutputFormat, colour: bool) -> String {
    match format {
        OutputFormat::Text => text(a, colour),
        OutputFormat::Markdown => markdown(a),
        OutputFormat::Json => json(a),
    }
}

#[cfg(test)]
mod tests;
