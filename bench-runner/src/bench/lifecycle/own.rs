//! Plugins of your own in `lifecycle` (issue 31): the swaps of the suite's implementations under the
//! same load, with what tells the versions apart replaced by what you stated. `ecds-config` re-sends
//! your configuration, `ecds-module` alternates your module and a copy of it with one custom section
//! appended (same code, another sha256: a new VM), `lds` replaces the whole listener. Both versions
//! answer alike, so a failed request is an answer that is not the stated one (or none), and the
//! time to switch is the time until every answer is as stated again.

use crate::bench::failure::own::OwnRequests;
use crate::bench::failure::{ImplKind, Implementation};
use crate::bench::own::OwnRun;
use crate::plugins::own::OwnKind;
use crate::results::Skipped;
use std::sync::Arc;

/// The note lifecycle.json carries when plugins of your own were swapped.
pub const NOTE: &str = "Plugins of your own: the load sends your stated requests (cycled; the keep-alive clients the first one) through the upstream they were probed against, and a request counts as failed when its answer is not the one you stated. ecds-config re-sends your configuration, ecds-module alternates your module and a copy with one custom section appended (same code, different sha256, so Envoy creates a new VM); both versions answer alike, so the switch time is the time until every answer is as stated again, and `new_body`/`old_body` stay 0.";

/// The implementations of a run's plugins of your own: a Wasm plugin on `runtime`, a Lua script as
/// Envoy's Lua filter (no module swap); dynamic modules and ext_proc processors skipped with why,
/// as the suite's are.
pub fn implementations(run: &OwnRun, runtime: &str) -> (Vec<Implementation>, Vec<Skipped>) {
    let requests = Arc::new(OwnRequests::new(&run.exchange, vec![]));
    let mut out = vec![];
    let mut skipped = vec![];
    for p in &run.plugins {
        let runtime = match &p.spec.kind {
            OwnKind::Wasm { .. } => Some(runtime.to_string()),
            OwnKind::Lua => None,
            OwnKind::DynamicModule { .. } | OwnKind::ExtProc { .. } => {
                skipped.push(Skipped {
                    variant: format!("{}-*", p.spec.name),
                    reason: format!(
                        "{}: no lifecycle swaps for a {} (as for the suite's): only Wasm plugins and Lua scripts are delivered through ECDS here",
                        p.spec.given,
                        p.spec.kind.name()
                    ),
                });
                continue;
            }
        };
        out.push(Implementation {
            name: p.spec.name.clone(),
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

/// The remote load cases time the first reply of the suite's contract: not run for yours.
pub fn remote_skipped(imp: &Implementation) -> Skipped {
    Skipped {
        variant: format!("{}-remote", imp.name),
        reason: "remote module load: not run for a plugin of your own yet (its cases are judged by the suite's mock reply)".into(),
    }
}
