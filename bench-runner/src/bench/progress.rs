//! What a command that runs for minutes says while it runs: its plan, announced before it starts
//! (the steps, each with an estimated time, and the total), then where it is. On a terminal an
//! indicatif bar over the planned seconds, the step as its message, moved inside a step by the
//! engine ([`Progress::within`]); without one a line per step with the time so far and the time
//! left. The run engine's rounds use the same bar ([`bar`]).

use crate::results::human_s;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One step of a plan and its estimated seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub label: String,
    pub seconds: f64,
}

impl Step {
    pub fn new(label: impl Into<String>, seconds: f64) -> Step {
        Step {
            label: label.into(),
            seconds: seconds.max(0.0),
        }
    }
}

/// A bar over `total_ms` planned milliseconds on stderr, hidden without a terminal.
pub fn bar(total_ms: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total_ms), ProgressDrawTarget::stderr_with_hz(4));
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {percent:>3}% {msg} · {elapsed} elapsed, ~{eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

fn ms(s: f64) -> u64 {
    (s.max(0.0) * 1000.0).round() as u64
}

struct At {
    /// Index of the step under way.
    step: Option<usize>,
}

/// A plan being carried out. Shared by reference with the threads of a step (`within` takes `&self`).
pub struct Progress {
    what: String,
    steps: Vec<Step>,
    bar: ProgressBar,
    started: Instant,
    at: Mutex<At>,
}

/// The time left after `done_planned` of `total_planned` planned seconds took `elapsed`: the plan
/// for the rest, scaled by how the finished part went against its plan (from half to four times).
pub fn left_s(total_planned: f64, done_planned: f64, elapsed: f64) -> f64 {
    let rest = (total_planned - done_planned).max(0.0);
    if done_planned < 1.0 {
        return rest;
    }
    rest * (elapsed / done_planned).clamp(0.5, 4.0)
}

/// "`what`: `headline`; N steps, ~T in all (a ~x, b ~y, ...)": at most `shown` steps named.
pub fn plan_line(what: &str, headline: &str, steps: &[Step], shown: usize) -> String {
    let total: f64 = steps.iter().map(|s| s.seconds).sum();
    let mut named: Vec<String> = steps
        .iter()
        .take(shown)
        .map(|s| format!("{} ~{}", s.label, human_s(s.seconds)))
        .collect();
    if steps.len() > shown {
        named.push(format!("{} more", steps.len() - shown));
    }
    format!(
        "{what}: {headline}; {} step{}, ~{} in all ({})",
        steps.len(),
        if steps.len() == 1 { "" } else { "s" },
        human_s(total),
        named.join(", ")
    )
}

impl Progress {
    /// Prints the plan and starts the clock (and, on a terminal, the bar).
    pub fn announce(what: &str, headline: &str, steps: Vec<Step>) -> Progress {
        eprintln!("{}", plan_line(what, headline, &steps, 4));
        let total: f64 = steps.iter().map(|s| s.seconds).sum();
        Progress {
            what: what.to_string(),
            bar: bar(ms(total)),
            steps,
            started: Instant::now(),
            at: Mutex::new(At { step: None }),
        }
    }

    fn planned_before(&self, i: usize) -> f64 {
        self.steps[..i].iter().map(|s| s.seconds).sum()
    }

    /// Starts the step labelled `label` (the next one after the current step with that label; a
    /// step left out, skipped or failed, is simply passed over).
    pub fn step(&self, label: &str) {
        let mut at = self.at.lock().unwrap_or_else(|e| e.into_inner());
        let from = at.step.map_or(0, |i| i + 1);
        let Some(i) = (from..self.steps.len()).find(|&i| self.steps[i].label == label) else {
            return;
        };
        at.step = Some(i);
        let done = self.planned_before(i);
        let total = self.planned_before(self.steps.len());
        let elapsed = self.started.elapsed().as_secs_f64();
        if self.bar.is_hidden() {
            eprintln!(
                "{} [{}/{}] {label} (~{}; {} so far, ~{} left)",
                self.what,
                i + 1,
                self.steps.len(),
                human_s(self.steps[i].seconds),
                human_s(elapsed),
                human_s(left_s(total, done, elapsed))
            );
        } else {
            self.bar.set_message(format!(
                "{} {}/{} · {label}",
                self.what,
                i + 1,
                self.steps.len()
            ));
            self.bar.set_position(ms(done));
        }
    }

    /// Moves the bar inside the current step: `fraction` of it is done.
    pub fn within(&self, fraction: f64) {
        let at = self.at.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = at.step {
            let f = if fraction.is_finite() {
                fraction.clamp(0.0, 1.0)
            } else {
                0.0
            };
            self.bar
                .set_position(ms(self.planned_before(i) + f * self.steps[i].seconds));
        }
    }

    /// Prints a line of results as the steps go (above the bar on a terminal).
    pub fn note(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    /// Clears the bar and says how long the whole took against the plan.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
        eprintln!(
            "{}: done in {} (planned ~{})",
            self.what,
            human_s(self.started.elapsed().as_secs_f64()),
            human_s(self.planned_before(self.steps.len()))
        );
    }
}

impl Drop for Progress {
    /// A plan cut short (an error, Ctrl-C) leaves no bar behind its message.
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_names_its_steps_and_total() {
        let steps = vec![
            Step::new("rust remote load", 26.0),
            Step::new("rust ecds-config", 104.0),
            Step::new("rust lds", 104.0),
        ];
        assert_eq!(
            plan_line("lifecycle", "1 implementation", &steps, 2),
            "lifecycle: 1 implementation; 3 steps, ~3 min 54 s in all (rust remote load ~26 s, rust ecds-config ~1 min 44 s, 1 more)"
        );
    }

    #[test]
    fn time_left_follows_how_the_done_part_went() {
        assert_eq!(left_s(100.0, 0.0, 5.0), 100.0);
        // the first half took twice its plan: the rest is expected to as well
        assert_eq!(left_s(100.0, 50.0, 100.0), 100.0);
        // bounded: a first step 100x over its plan does not promise a day
        assert_eq!(left_s(100.0, 10.0, 1000.0), 360.0);
        assert_eq!(left_s(100.0, 100.0, 90.0), 0.0);
    }

    #[test]
    fn steps_are_found_by_label_in_order_and_skipped_ones_passed_over() {
        let p = Progress::announce(
            "test",
            "three",
            vec![
                Step::new("a", 1.0),
                Step::new("b", 2.0),
                Step::new("a", 3.0),
            ],
        );
        p.step("a");
        assert_eq!(p.at.lock().unwrap().step, Some(0));
        p.step("a");
        assert_eq!(p.at.lock().unwrap().step, Some(2));
        // no "b" after the second "a": the step stays
        p.step("b");
        assert_eq!(p.at.lock().unwrap().step, Some(2));
        assert_eq!(p.planned_before(2), 3.0);
        p.within(0.5);
        p.finish();
    }
}
