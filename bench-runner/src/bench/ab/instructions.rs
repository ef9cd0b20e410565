//! The instruction figure of `ab`'s verdict: instructions per request of Envoy's worker thread for
//! every compared listener on each side, counted under callgrind by the instruction-count phase
//! (issue 29). This is the seam: [`count`] hands the listeners to that phase and turns its counts
//! into ab.json's [`InstructionSection`]; `results::ab::derive` compares them exactly against the
//! gate's relative threshold. Until the counting phase is part of the runner, the section says so
//! and the verdicts rest on the time figures alone.

use crate::bench::variants::Variant;
use crate::envoy::EnvoyBin;
use crate::paths::Project;
use crate::results::ab::{AbRun, InstructionSection};
use std::path::Path;

/// What counting needs: the run (its pairs and sides), the listeners as measured, the Envoy of each
/// side (`alternate`: the new side's, in `envoy` mode) and the folder for callgrind's files.
pub struct Counting<'a> {
    pub project: &'a Project,
    pub run: &'a AbRun,
    pub variants: &'a [Variant],
    pub envoy: &'a EnvoyBin,
    pub alternate: Option<&'a EnvoyBin>,
    pub out: &'a Path,
}

/// Why the section is empty in this build.
pub const NOT_IN_THIS_BUILD: &str = "the instruction-count phase (callgrind through Envoy, issue 29) is not part of this runner yet; the verdicts rest on p50 and CPU";

/// Counts the instructions per request of every compared listener on both sides.
pub fn count(c: &Counting) -> InstructionSection {
    let _ = (c.project, c.run, c.variants, c.envoy, c.alternate, c.out);
    InstructionSection {
        status: "not counted".into(),
        reason: Some(NOT_IN_THIS_BUILD.into()),
        counts: vec![],
    }
}
