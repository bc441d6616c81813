//! The one error type of natc's commands, and the exit code each failure means:
//! 0 ok, 1 invalid intent or a difference found, 2 usage, 3 an expectation failed,
//! 4 verify cannot run here, 130 interrupted.

use crate::diag::Diagnostic;

/// Exit code of a run that Ctrl-C or SIGTERM ended (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

/// Why a command did not succeed. Library functions return the variants that concern them
/// (`build`: `Invalid`, `Usage`; `verify`: also `Environment`); the command line adds the
/// outcomes it finds itself.
#[derive(Debug)]
pub enum Error {
    /// The intent cannot be compiled, built, traced or verified as written: located
    /// diagnostics. Exit 1.
    Invalid(Vec<Diagnostic>),
    /// What was compared differs (`build --check` found stale files, `diff --exit-code` a
    /// change); the differences are already printed. Exit 1.
    Differs,
    /// `-o DIR` holds something natc will not replace or write through (a directory in a
    /// file's place, a symbolic link to a directory); nothing was written. Exit 1.
    Refused(String),
    /// The command line asks for something that does not exist or cannot be done (an
    /// unknown gateway, an unreadable file, a directory that cannot be written). Exit 2.
    Usage(String),
    /// Stdout closed before everything was written (`natc build | head`): nothing left to
    /// say. Exit 2.
    Stdout,
    /// A `verify` or `trace` expectation failed; the report says which. Exit 3.
    ExpectationFailed,
    /// This machine cannot run the lab (not root, a tool missing, a namespace that could
    /// not be built): never a pass. Exit 4.
    Environment(String),
}

impl Error {
    /// The process exit code for this failure.
    pub const fn exit_code(&self) -> u8 {
        match self {
            Error::Invalid(_) | Error::Differs | Error::Refused(_) => 1,
            Error::Usage(_) | Error::Stdout => 2,
            Error::ExpectationFailed => 3,
            Error::Environment(_) => 4,
        }
    }
}

/// One line for a log or a test; the command line renders `Invalid` with the intent's lines.
impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Invalid(diagnostics) => {
                let lines: Vec<String> = diagnostics.iter().map(|d| format!("{}: {}", d.code.0, d.message)).collect();
                f.write_str(&lines.join("; "))
            }
            Error::Differs => f.write_str("the compared outputs differ"),
            Error::Usage(message) | Error::Refused(message) | Error::Environment(message) => f.write_str(message),
            Error::Stdout => f.write_str("stdout was closed before everything was written"),
            Error::ExpectationFailed => f.write_str("an expectation failed"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_has_its_documented_exit_code() {
        let codes: Vec<u8> = [
            Error::Invalid(Vec::new()),
            Error::Differs,
            Error::Refused(String::new()),
            Error::Usage(String::new()),
            Error::Stdout,
            Error::ExpectationFailed,
            Error::Environment(String::new()),
        ]
        .iter()
        .map(Error::exit_code)
        .collect();
        assert_eq!(codes, [1, 1, 1, 2, 2, 3, 4]);
    }
}
