//! From the open loop's samples and the swap times to the per-swap figures: failed requests, time to
//! switch, latency inside and outside the swap windows. Pure (tested below).

use crate::bench::failure::client::{Outcome, Sample};
use crate::results::lifecycle::{FailCounts, Latency};
use std::time::Duration;

/// What one request amounted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Got {
    /// 200 with the body of version `0` or `1`.
    Body(usize),
    /// A plugin of your own's answer as stated (its versions answer alike).
    Stated,
    WrongBody,
    Non200,
    ConnectionError,
    Timeout,
}

pub fn got(s: &Sample, bodies: &[String; 2]) -> Got {
    match (&s.outcome, s.as_stated) {
        (Outcome::Response { .. }, Some(true)) => Got::Stated,
        (Outcome::Response { status: 200, .. }, Some(false)) => Got::WrongBody,
        (o, _) => got_outcome(o, bodies),
    }
}

fn got_outcome(o: &Outcome, bodies: &[String; 2]) -> Got {
    match o {
        Outcome::Response {
            status: 200, body, ..
        } => bodies
            .iter()
            .position(|b| b.as_bytes() == body.as_slice())
            .map_or(Got::WrongBody, Got::Body),
        Outcome::Response { .. } => Got::Non200,
        Outcome::ConnectionError(_) => Got::ConnectionError,
        Outcome::Hang => Got::Timeout,
    }
}

impl FailCounts {
    pub fn add(&mut self, g: Got) {
        match g {
            Got::Body(_) | Got::Stated => return,
            Got::WrongBody => self.wrong_body += 1,
            Got::Non200 => self.non_200 += 1,
            Got::ConnectionError => self.connection_error += 1,
            Got::Timeout => self.timeout += 1,
        }
        self.total += 1;
    }
}

/// One swap's figures from the samples sent between it and the next.
#[derive(Debug, Clone, PartialEq)]
pub struct SwapFigures {
    pub requests: usize,
    pub new_body: usize,
    pub old_body: usize,
    pub failed: FailCounts,
    pub switch_ms: Option<f64>,
    pub max_latency_inside_ms: Option<f64>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Swap `k` (1-based) installs version `k % 2`; before the first swap version 0 is served. `swaps`
/// holds each swap's time. Returns the figures per swap and the latencies inside / outside windows.
pub fn per_swap(
    samples: &[Sample],
    swaps: &[Duration],
    bodies: &[String; 2],
    window: Duration,
) -> (Vec<SwapFigures>, FailCounts, Latency, Latency) {
    let mut figures = Vec::new();
    let mut total = FailCounts::default();
    let (mut inside, mut outside) = (Vec::new(), Vec::new());
    for s in samples {
        total.add(got(s, bodies));
        if let Outcome::Response { latency, .. } = &s.outcome {
            let near = swaps.iter().any(|t| s.at >= *t && s.at < *t + window);
            if near { &mut inside } else { &mut outside }.push(ms(*latency));
        }
    }
    for (i, t) in swaps.iter().enumerate() {
        let next = swaps.get(i + 1).copied().unwrap_or(Duration::MAX);
        let mine: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.at >= *t && s.at < next)
            .collect();
        let new = (i + 1) % 2;
        let mut failed = FailCounts::default();
        let mut last_not_new = None;
        let mut max_inside: Option<f64> = None;
        let (mut new_body, mut old_body) = (0, 0);
        // The switch is judged on the first 90% of the interval: a request sent just before the next
        // swap can be answered after it, with the next version (which is the old one's body).
        let horizon = if next == Duration::MAX {
            Duration::MAX
        } else {
            *t + (next - *t).mul_f64(0.9)
        };
        for (j, s) in mine.iter().enumerate() {
            let g = got(s, bodies);
            failed.add(g);
            match g {
                Got::Body(b) if b == new => new_body += 1,
                Got::Body(_) => old_body += 1,
                _ => {}
            }
            // A plugin of your own: switched once every answer is as stated again.
            if g != Got::Body(new) && g != Got::Stated && s.at < horizon {
                last_not_new = Some(j);
            }
            if let Outcome::Response { latency, .. } = &s.outcome {
                if s.at < *t + window {
                    max_inside = Some(max_inside.map_or(ms(*latency), |m| m.max(ms(*latency))));
                }
            }
        }
        let switched_at = match last_not_new {
            None => mine.first().map(|s| s.at),
            Some(j) => mine.get(j + 1).map(|s| s.at),
        };
        figures.push(SwapFigures {
            requests: mine.len(),
            new_body,
            old_body,
            failed,
            switch_ms: switched_at.map(|a| ms(a.saturating_sub(*t))),
            max_latency_inside_ms: max_inside,
        });
    }
    (figures, total, latency(&inside), latency(&outside))
}

pub fn latency(xs: &[f64]) -> Latency {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    Latency {
        requests: v.len(),
        p99_ms: (!v.is_empty()).then(|| crate::stats::quantile_sorted(&v, 0.99)),
        max_ms: v.last().copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_ms: u64, body: Option<&str>) -> Sample {
        Sample {
            index: 0,
            at: Duration::from_millis(at_ms),
            outcome: match body {
                Some(b) => Outcome::Response {
                    status: 200,
                    body: b.as_bytes().to_vec(),
                    latency: Duration::from_millis(at_ms % 7 + 1),
                },
                None => Outcome::ConnectionError("reset".into()),
            },
            as_stated: None,
            crash: false,
        }
    }

    #[test]
    fn answers_of_your_own_plugin_switch_once_every_answer_is_as_stated_again() {
        let bodies = ["(as stated)".to_string(), "(as stated)".to_string()];
        let own = |at_ms: u64, ok: Option<bool>| {
            let mut s = sample(at_ms, ok.map(|_| "passthrough"));
            s.as_stated = Some(ok.unwrap_or(false));
            s
        };
        let s = vec![
            own(100, Some(true)),
            own(110, None),
            own(120, Some(false)),
            own(130, Some(true)),
            own(200, Some(true)),
        ];
        let swaps = [Duration::from_millis(100), Duration::from_millis(200)];
        let (f, total, _, _) = per_swap(&s, &swaps, &bodies, Duration::from_millis(50));
        assert_eq!(
            (f[0].failed.connection_error, f[0].failed.wrong_body),
            (1, 1)
        );
        assert_eq!(f[0].switch_ms, Some(30.0));
        assert_eq!((f[0].new_body, f[0].old_body), (0, 0));
        assert_eq!((f[1].failed.total, f[1].switch_ms), (0, Some(0.0)));
        assert_eq!(total.total, 2);
    }

    #[test]
    fn switch_time_is_when_the_old_body_stops() {
        let bodies = ["v1".to_string(), "v2".to_string()];
        let s = vec![
            sample(0, Some("v1")),
            sample(100, Some("v1")),
            sample(110, Some("v1")),
            sample(120, None),
            sample(130, Some("v2")),
            sample(140, Some("v2")),
            sample(200, Some("v2")),
            sample(210, Some("x")),
            sample(220, Some("v2")),
        ];
        let swaps = [Duration::from_millis(100), Duration::from_millis(200)];
        let (f, total, inside, outside) = per_swap(&s, &swaps, &bodies, Duration::from_millis(50));
        assert_eq!(f[0].requests, 5);
        assert_eq!(f[0].failed.connection_error, 1);
        assert_eq!(f[0].switch_ms, Some(30.0));
        // Swap 2 installs v1 again: never switched (v2 and a wrong body served).
        assert_eq!(f[1].failed.wrong_body, 1);
        assert_eq!(f[1].switch_ms, None);
        assert_eq!(total.total, 2);
        assert_eq!(inside.requests + outside.requests, 8);
    }
}
