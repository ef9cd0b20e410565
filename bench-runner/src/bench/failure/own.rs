//! Plugins of your own in `failure` (issue 31): the suite cannot make a plugin of yours trap where
//! it does not (`crash_every` is the suite's contract), so the user names a request that makes it
//! fail (`--crash-on FILE`). Each scenario's timeline sends the stated requests, cycled, with that
//! request as every Nth one (`--crash-every N`, counting from 1, as the suite's plugins count), under
//! each Wasm failure policy; every answer is judged against the stated one (as stated: the plugin's
//! reply; the upstream's body otherwise: the plugin was bypassed) and joined with the access log as
//! for the suite's implementations.

use super::client::Outcome;
use super::{ImplKind, Implementation};
use crate::load::http1::{Connection, Expectation};
use crate::load::request::{Exchange, Request};
use crate::plugins::own::{OwnKind, OwnPlugin};
use crate::results::Skipped;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a plugin of your own is sent in its failure scenarios.
#[derive(Debug)]
pub struct OwnRequests {
    /// The stated requests (`--request`), cycled through.
    pub normal: Vec<Request>,
    /// The requests that make it fail (`--crash-on`), cycled through.
    pub crash: Vec<Request>,
    /// The answer stated as correct.
    pub expect: Expectation,
}

impl OwnRequests {
    pub fn new(exchange: &Exchange, crash: Vec<Request>) -> OwnRequests {
        OwnRequests {
            normal: exchange.requests.clone(),
            crash,
            expect: exchange.expect.clone(),
        }
    }

    /// Request `i` (from 0) of a timeline whose every `crash_every`th request (from 1) is a crash
    /// request (0: none is); with whether it is one.
    pub fn nth(&self, i: usize, crash_every: u32) -> (&Request, bool) {
        if crash_every == 0 || self.crash.is_empty() {
            return (&self.normal[i % self.normal.len()], false);
        }
        let n = crash_every as usize;
        let crashes_before = (i + 1) / n;
        if (i + 1).is_multiple_of(n) {
            (&self.crash[(crashes_before - 1) % self.crash.len()], true)
        } else {
            (
                &self.normal[(i - crashes_before) % self.normal.len()],
                false,
            )
        }
    }
}

/// A timeline's requests for a plugin of your own.
#[derive(Debug, Clone)]
pub struct OwnTimeline {
    pub requests: Arc<OwnRequests>,
    pub crash_every: u32,
}

impl OwnTimeline {
    /// Sends request `seq` on a fresh connection (its `x-bench-seq` header joins the access log)
    /// within `timeout`: the outcome, whether the answer was the stated one, and whether it was a
    /// crash request.
    pub async fn request(
        &self,
        addr: SocketAddr,
        seq: usize,
        timeout: Duration,
    ) -> (Outcome, bool, bool) {
        let (r, crash) = self.requests.nth(seq, self.crash_every);
        let mut r = r.clone();
        r.headers.push(("x-bench-seq".into(), seq.to_string()));
        let wire = r.wire(true);
        let expect = &self.requests.expect;
        let t0 = Instant::now();
        let exchange = async {
            let mut c = Connection::connect(addr)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let (status, body, header_ok) = c
                .exchange_checked(&wire, expect.header.as_ref())
                .await
                .map_err(|f| format!("{f:?}: closed or reset before a complete response"))?;
            Ok::<_, String>((status, body.to_vec(), header_ok))
        };
        match tokio::time::timeout(timeout, exchange).await {
            Err(_) => (Outcome::Hang, false, crash),
            Ok(Err(e)) => (Outcome::ConnectionError(e), false, crash),
            Ok(Ok((status, body, header_ok))) => {
                let ok =
                    expect.judge_all(status, &body, header_ok) == crate::load::http1::Verdict::Ok;
                (
                    Outcome::Response {
                        status,
                        body,
                        latency: t0.elapsed(),
                    },
                    ok,
                    crash,
                )
            }
        }
    }
}

/// The failure implementations of the plugins of your own: a Wasm plugin on `runtime`, a Lua script
/// as Envoy's Lua filter (no failure policy, as the suite's Lua); with the plugins left out and why
/// (no `--crash-on`; a dynamic module or an ext_proc processor, as the suite's are left out).
pub fn implementations(
    plugins: &[Arc<OwnPlugin>],
    requests: Option<&Arc<OwnRequests>>,
    runtime: &str,
) -> (Vec<Implementation>, Vec<Skipped>) {
    let mut out = vec![];
    let mut skipped = vec![];
    for p in plugins {
        let name = &p.spec.name;
        let skip = |reason: String| Skipped {
            variant: format!("{name}-*"),
            reason,
        };
        let runtime = match &p.spec.kind {
            OwnKind::Wasm { .. } => Some(runtime.to_string()),
            OwnKind::Lua => None,
            OwnKind::DynamicModule { .. } => {
                skipped.push(skip(format!("{}: a dynamic module has no failure scenarios: it is native code inside Envoy, so its crash is Envoy's, and Envoy 1.40's dynamic_modules filter has no failure policy", p.spec.given)));
                continue;
            }
            OwnKind::ExtProc { .. } => {
                skipped.push(skip(format!("{}: an ext_proc processor has no failure scenarios here: its failure is a separate process's (ext_proc's own `failure_mode_allow` decides what Envoy does), not a trap inside Envoy", p.spec.given)));
                continue;
            }
        };
        let Some(requests) = requests else {
            skipped.push(skip(format!(
                "{}: not run; give --crash-on REQUEST (a request file in --request's format) that makes your plugin fail (trap), and the runner sends it every Nth request under each failure policy",
                p.spec.given
            )));
            continue;
        };
        out.push(Implementation {
            name: name.clone(),
            language: p.spec.kind.name().into(),
            kind: ImplKind::Own {
                plugin: p.clone(),
                runtime,
                requests: requests.clone(),
            },
        });
    }
    (out, skipped)
}

/// The runaway scenarios need a plugin that spins on request (`spin`), which a plugin of yours does
/// not: listed as skipped.
pub fn runaway_skipped(imp: &Implementation) -> Skipped {
    Skipped {
        variant: format!("{}-runaway", imp.name),
        reason: "runaway (spin) scenarios: not applicable to a plugin of your own; the suite makes its own implementations spin on purpose (`spin`)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(path: &str) -> Request {
        Request {
            path: path.into(),
            ..Request::default()
        }
    }

    #[test]
    fn every_nth_request_is_a_crash_request_and_the_others_cycle() {
        let r = OwnRequests {
            normal: vec![req("/a"), req("/b")],
            crash: vec![req("/crash")],
            expect: Expectation::ok_with("x"),
        };
        let paths: Vec<(String, bool)> = (0..7)
            .map(|i| {
                let (q, c) = r.nth(i, 3);
                (q.path.clone(), c)
            })
            .collect();
        let want = [
            ("/a", false),
            ("/b", false),
            ("/crash", true),
            ("/a", false),
            ("/b", false),
            ("/crash", true),
            ("/a", false),
        ];
        assert_eq!(paths, want.map(|(p, c)| (p.to_string(), c)).to_vec());
        assert!((0..5).all(|i| r.nth(i, 1).1));
        assert_eq!(r.nth(2, 0).0.path, "/a");
    }
}
