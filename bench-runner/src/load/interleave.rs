//! Interleaved open loop: several targets driven by one fixed-rate schedule, each slot sent to one of
//! them, each over its own keep-alive connections into its own histograms. A variant and the
//! baseline measured this way see the same moment of machine noise (a neighbour, CPU steal), so their
//! difference within one window is far steadier than the difference of two windows measured one after
//! the other.

use super::drive::{open_slots, run_arms, Arm};
use super::{LoadOutcome, LoadPlan, Pace};
use crate::stats::Rng;

/// Which arm each of `slots` slots goes to: consecutive blocks of `arms` slots, each block a fresh
/// seeded permutation of the arms. Every arm gets the same number of slots up to one per arm, at
/// every point of the schedule (so a burst of noise falls on all arms alike), and no arm has a
/// fixed position in the pattern (so nothing periodic in the machine favours one).
pub fn balanced_assignment(slots: u64, arms: usize, seed: u64) -> Vec<usize> {
    let arms = arms.max(1);
    let mut rng = Rng::new(seed);
    let mut block: Vec<usize> = (0..arms).collect();
    let mut out = Vec::with_capacity(slots as usize);
    while (out.len() as u64) < slots {
        rng.shuffle(&mut block);
        let room = (slots - out.len() as u64).min(arms as u64) as usize;
        out.extend_from_slice(&block[..room]);
    }
    out
}

/// Runs `plans` as one interleaved open loop. Every plan must be open-loop with the same rate (the
/// total rate of the schedule, shared by all arms), warm-up and length; their targets, connections
/// and expectations may differ. Returns one outcome per plan, in order. Envoy's CPU time (when the
/// first plan probes it) covers the whole window and is split between the arms by requests.
pub fn run_interleaved(plans: &[LoadPlan], seed: u64) -> anyhow::Result<Vec<LoadOutcome>> {
    let first = plans
        .first()
        .ok_or_else(|| anyhow::anyhow!("an interleaved run needs at least one plan"))?;
    for p in plans {
        p.validate().map_err(crate::error::usage)?;
        let same = matches!((p.pace, first.pace), (Pace::Open { rate: a }, Pace::Open { rate: b }) if a == b)
            && p.warmup == first.warmup
            && p.duration == first.duration
            && p.requests == first.requests;
        if !same {
            anyhow::bail!(
                "interleaved plans must share one open-loop schedule (rate, warm-up, length)"
            );
        }
    }
    let (warm, measured) = open_slots(first);
    let assignment = balanced_assignment(warm + measured, plans.len(), seed);
    let arms = plans
        .iter()
        .enumerate()
        .map(|(i, p)| Arm {
            plan: p.clone(),
            slots: Some(
                assignment
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| **a == i)
                    .map(|(slot, _)| slot as u64)
                    .collect(),
            ),
        })
        .collect();
    run_arms(arms, None, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn assignment_is_balanced_in_every_block_and_seeded() {
        let a = balanced_assignment(1001, 2, 7);
        assert_eq!(a.len(), 1001);
        for block in a.chunks(2).filter(|b| b.len() == 2) {
            assert_ne!(block[0], block[1], "each block of 2 has both arms");
        }
        let zeros = a.iter().filter(|x| **x == 0).count();
        assert!((500..=501).contains(&zeros), "{zeros}");
        assert_eq!(a, balanced_assignment(1001, 2, 7));
        assert_ne!(a, balanced_assignment(1001, 2, 8));
        // not a fixed alternation
        assert!(a.windows(4).any(|w| w[1] == w[2]));
        let three = balanced_assignment(9, 3, 1);
        for b in three.chunks(3) {
            let mut b = b.to_vec();
            b.sort();
            assert_eq!(b, vec![0, 1, 2]);
        }
    }

    /// A server answering every request head with `body` (the load generator's test server).
    fn server(body: &'static str) -> std::net::SocketAddr {
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        super::super::tests::server(
            Box::leak(reply.into_bytes().into_boxed_slice()),
            Duration::ZERO,
        )
    }

    fn plan(addr: std::net::SocketAddr, body: &str) -> LoadPlan {
        LoadPlan {
            addr,
            host: "localhost".into(),
            path: "/".into(),
            connections: 2,
            pace: Pace::Open { rate: 2000.0 },
            warmup: Duration::from_millis(50),
            duration: None,
            requests: Some(401),
            max_duration: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            expect_status: 200,
            expect_body: Some(body.as_bytes().to_vec()),
            cpu: None,
            cpu_probe_pid: None,
            cpu_probe_tid: None,
            cpu_probe_extra_pid: None,
            http2: false,
            body_bytes: 0,
            exchange: None,
        }
    }

    #[test]
    fn each_response_lands_in_its_own_arms_histogram() {
        // Two servers with different bodies: an answer counted by the wrong arm would be a body error.
        let (a, b) = (server("alpha"), server("bravo"));
        let outs = run_interleaved(&[plan(a, "alpha"), plan(b, "bravo")], 3).unwrap();
        assert_eq!(outs.len(), 2);
        // 401 measured slots shared by two arms in balanced blocks (warm-up excluded): 200 and 201
        let counts: Vec<u64> = outs.iter().map(|o| o.ok).collect();
        assert_eq!(counts.iter().sum::<u64>(), 401, "{counts:?}");
        assert!(counts.iter().all(|c| (200..=201).contains(c)), "{counts:?}");
        for o in &outs {
            // each arm is held to its half of the schedule, not to the whole rate
            let sc = o.summarize(Pace::Open { rate: 2000.0 }).schedule.unwrap();
            assert!((sc.intended_rps - 1000.0).abs() < 5.0, "{sc:?}");
            assert_eq!(o.errors.total(), 0, "{:?}", o.errors);
            assert_eq!(o.latency.len(), o.ok);
            assert_eq!(o.sends, o.ok);
        }
        // a mismatched expectation is charged to its own arm only
        let outs = run_interleaved(&[plan(a, "alpha"), plan(b, "wrong")], 3).unwrap();
        assert_eq!(outs[0].errors.total(), 0);
        assert_eq!(outs[1].ok, 0);
        assert_eq!(outs[1].errors.body, outs[1].sends);
    }

    #[test]
    fn plans_on_different_schedules_are_refused() {
        let a = server("alpha");
        let mut other = plan(a, "alpha");
        other.pace = Pace::Open { rate: 1000.0 };
        assert!(run_interleaved(&[plan(a, "alpha"), other], 1).is_err());
    }
}
