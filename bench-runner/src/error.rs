//! Typed errors with the exit status each one maps to (SPEC section 3: 0 ok, 1 a check failed, 2 usage or
//! environment). Messages name the flag, file or port and say what to do.

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// Bad flag, bad input file, busy port, missing tool: exit 2.
    Usage(String),
    /// A check the user asked for failed (conformance, regression): exit 1.
    CheckFailed(String),
    /// Ctrl-C or SIGTERM: exit 130. Partial results were kept.
    Interrupted,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::CheckFailed(m) => f.write_str(m),
            Error::Interrupted => f.write_str("interrupted"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::CheckFailed(_) => 1,
            Error::Interrupted => 130,
        }
    }
}

/// Shorthand for a usage/environment error (exit 2).
pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Error::Usage(msg.into()))
}

/// Whether `e` is Ctrl-C or SIGTERM (partial results are kept, the run's status is `interrupted`).
pub fn is_interrupted(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<Error>(), Some(Error::Interrupted))
}

/// The status a run, section or phase records for how it ended: `complete`, `interrupted` or
/// `failed`.
pub fn status_of<T>(outcome: &anyhow::Result<T>) -> &'static str {
    match outcome {
        Ok(_) => "complete",
        Err(e) if is_interrupted(e) => "interrupted",
        Err(_) => "failed",
    }
}

/// Exit status for any error: typed errors keep theirs, anything else is an environment error (2).
pub fn exit_code_of(err: &anyhow::Error) -> u8 {
    err.downcast_ref::<Error>().map_or(2, Error::exit_code)
}
