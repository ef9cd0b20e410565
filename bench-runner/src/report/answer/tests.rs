use super::*;
use std::path::{Path, PathBuf};

fn e(estimate: f64, half: f64) -> Estimate {
    Estimate {
        estimate,
        ci95_low: estimate - half,
        ci95_high: estimate + half,
    }
}

fn row(name: &str, p50: f64, cpu: Estimate) -> Row {
    Row {
        implementation: name.into(),
        variant: format!("{name}-mock"),
        added_p50_us: e(p50, 2.0),
        added_cpu_us_per_req: cpu,
        processor_cpu_us_per_req: None,
        added_instructions_per_req: None,
        note: None,
    }
}

/// Strips ANSI colour sequences.
fn plain(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Every run folder committed under results/ (and its baselines) with a results.json, and the
/// test fixture: what git tracks (a local run, or `results/latest` pointing at one, is not checked).
fn committed_runs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out =
        vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/results-quick.json")];
    let listed = std::process::Command::new("git")
        .args(["ls-files", "--", "results"])
        .current_dir(&root)
        .output()
        .expect("git ls-files");
    assert!(listed.status.success(), "git ls-files failed");
    for file in String::from_utf8_lossy(&listed.stdout).lines() {
        let parts: Vec<&str> = file.split('/').collect();
        let run_folder = matches!(
            parts.as_slice(),
            ["results", _, "results.json"] | ["results", "baselines", _, "results.json"]
        );
        if run_folder {
            out.push(root.join(file));
        }
    }
    out.sort();
    out
}

#[test]
fn the_answer_of_every_committed_run_fits_in_100_columns_and_has_no_escapes_without_colour() {
    let mut checked = 0;
    let mut older = Vec::new();
    for path in committed_runs() {
        let r = match Results::read(&path) {
            Ok(r) => r,
            // schema 1 runs cannot be read by `report` either (its message names the version)
            Err(err) if format!("{err:#}").contains("schema_version 1 ") => {
                older.push(path);
                continue;
            }
            Err(err) => panic!("{}: {err:#}", path.display()),
        };
        let a = answer(&r);
        assert!(!a.workloads.is_empty(), "{}", path.display());
        let text = super::text(&a, false);
        assert!(!text.contains('\x1b'), "{}:\n{text}", path.display());
        for line in text.lines() {
            assert!(
                line.chars().count() <= WIDTH,
                "{}: a line of {} columns:\n{line}",
                path.display(),
                line.chars().count()
            );
        }
        // every measured plugin variant has its row
        let rows: usize = a.workloads.iter().map(|w| w.rows.len()).sum();
        let variants = r
            .variants
            .iter()
            .filter(|v| v.overhead.is_some() && !is_reference(&v.id))
            .count();
        assert_eq!(rows, variants, "{}", path.display());
        // colours add escapes and nothing else
        let coloured = super::text(&a, true);
        assert!(coloured.contains("\x1b["), "{}", path.display());
        assert_eq!(plain(&coloured), text, "{}", path.display());
        checked += 1;
    }
    assert!(
        checked >= 5,
        "only {checked} runs checked; older: {older:?}"
    );
    assert!(older.len() <= 1, "{older:?}");
}

#[test]
fn rows_are_cheapest_first_and_the_summary_names_what_is_told_apart() {
    let rows = vec![
        row("extproc-rust", 690.0, e(72.8, 7.7)),
        row("lua", 20.9, e(5.3, 3.0)),
        row("dynmod-rust", 72.5, e(1.5, 3.1)),
        row("cpp-v8", 28.0, e(6.1, 2.8)),
        row("go-v8", 46.3, e(12.9, 4.9)),
        row("rust-v8", 30.8, e(8.1, 3.3)),
    ];
    let w = workload_answer("mock".into(), rows);
    let order: Vec<&str> = w.rows.iter().map(|r| r.implementation.as_str()).collect();
    assert_eq!(
        order,
        [
            "dynmod-rust",
            "lua",
            "cpp-v8",
            "rust-v8",
            "go-v8",
            "extproc-rust"
        ]
    );
    // dynmod and lua cannot be told apart (3.8 < hypot(3.1, 3.0)); the ratios are to lua, the
    // cheapest told from no plugin, and go-v8 is the first told apart from lua (cpp-v8 and rust-v8
    // are not: 0.8 < 4.1, 2.8 < 4.5; go-v8 7.6 > 5.7)
    assert_eq!(
        w.summary,
        "least CPU: dynmod-rust and lua (not told apart); go-v8 adds 2.4x lua's, extproc-rust 14x"
    );
    assert_eq!(w.sorted_by, Cost::CpuUsPerReq);
}

#[test]
fn one_cheapest_without_a_tie_leads_the_summary() {
    let w = workload_answer(
        "headers".into(),
        vec![
            row("rust-v8", 1.0, e(70.0, 9.0)),
            row("lua", 1.0, e(24.0, 7.0)),
        ],
    );
    assert_eq!(w.summary, "lua adds the least CPU; rust-v8 adds 2.9x lua's");
    let tie = workload_answer(
        "mock".into(),
        vec![row("a", 1.0, e(10.0, 5.0)), row("b", 1.0, e(12.0, 5.0))],
    );
    assert_eq!(tie.summary, "b's CPU not told apart from a's at 95%");
    let three = workload_answer(
        "mock".into(),
        vec![
            row("a", 1.0, e(10.0, 5.0)),
            row("b", 1.0, e(12.0, 5.0)),
            row("c", 1.0, e(13.0, 5.0)),
        ],
    );
    assert_eq!(
        three.summary,
        "no implementation's CPU told apart from the cheapest's (a) at 95%"
    );
    let zero = workload_answer(
        "mock".into(),
        vec![row("a", 1.0, e(1.0, 2.0)), row("b", 1.0, e(30.0, 2.0))],
    );
    assert_eq!(
        zero.summary,
        "a adds the least CPU (not told from no plugin)"
    );
    let no_interval = workload_answer(
        "mock".into(),
        vec![
            row("a", 1.0, e(1.0, f64::NAN)),
            row("b", 1.0, e(30.0, f64::NAN)),
        ],
    );
    assert!(
        no_interval.summary.contains("no intervals"),
        "{}",
        no_interval.summary
    );
}

#[test]
fn instructions_appear_as_a_column_and_become_the_cost_when_every_row_has_them() {
    let mut a = row("rust-v8", 30.0, e(8.0, 3.0));
    let mut b = row("cpp-v8", 28.0, e(6.0, 3.0));
    a.added_instructions_per_req = Some(e(19_412.0, 20.0));
    b.added_instructions_per_req = Some(e(13_201.0, 15.0));
    let w = workload_answer("mock".into(), vec![a.clone(), b]);
    assert_eq!(w.sorted_by, Cost::InstructionsPerReq);
    assert_eq!(w.rows[0].implementation, "cpp-v8");
    assert_eq!(
        w.summary,
        "cpp-v8 adds the least instructions; rust-v8 adds 1.5x cpp-v8's"
    );
    let answer = Answer {
        processes: 12,
        rate: Some(2000.0),
        workloads: vec![w],
    };
    let t = text(&answer, false);
    assert!(t.contains("instructions/req"), "{t}");
    assert!(t.contains("+19,412 ± 20"), "{t}");
    assert!(t.lines().all(|l| l.chars().count() <= WIDTH), "{t}");
    assert!(markdown(&answer).contains("| instructions/req |"));
    let j: serde_json::Value = serde_json::from_str(&json(&answer)).unwrap();
    assert_eq!(j["workloads"][0]["sorted_by"], "instructions_per_req");
    assert_eq!(
        j["workloads"][0]["rows"][1]["added_instructions_per_req"]["estimate"],
        19412.0
    );
    // one row without them: CPU stays the cost, the column shows n/a there
    let w = workload_answer("mock".into(), vec![a, row("lua", 20.0, e(5.0, 2.0))]);
    assert_eq!(w.sorted_by, Cost::CpuUsPerReq);
    let t = text(
        &Answer {
            processes: 12,
            rate: Some(2000.0),
            workloads: vec![w],
        },
        false,
    );
    assert!(t.contains("instructions/req") && t.contains("n/a"), "{t}");
}

#[test]
fn cells_bars_and_numbers() {
    assert_eq!(cell(&e(20.94, 11.4), 1), ("+20.9".into(), "± 11.4".into()));
    let skew = Estimate {
        estimate: 2.0,
        ci95_low: 1.0,
        ci95_high: 5.0,
    };
    assert_eq!(cell(&skew, 1), ("+2.0".into(), "[+1.0, +5.0]".into()));
    assert_eq!(cell(&e(3.0, f64::NAN), 1), ("+3.0".into(), "± n/a".into()));
    assert_eq!(grouped(-1234567.4), "-1,234,567");
    assert_eq!(grouped(999.0), "+999");
    assert_eq!(bar(10.0, 10.0, 4), "████");
    assert_eq!(bar(5.0, 10.0, 4), "██");
    assert_eq!(bar(1.0, 10.0, 4), "▍");
    assert_eq!(bar(-1.0, 10.0, 4), "");
    assert_eq!(bar(0.001, 10.0, 4), "▏");
}

#[test]
fn an_implementations_note_is_said_under_its_workload() {
    let mut cpp = row("cpp-v8", 10.0, e(5.0, 1.0));
    cpp.note = Some("no SDK: the raw proxy-wasm ABI".into());
    let w = workload_answer("mock".into(), vec![row("rust-v8", 12.0, e(6.0, 1.0)), cpp]);
    assert_eq!(
        w.notes(),
        vec!["cpp-v8: no SDK: the raw proxy-wasm ABI".to_string()]
    );
}
