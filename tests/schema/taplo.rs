//! Taplo, the validator inside the Even Better TOML editor extension: what an editor says
//! about an intent file. One run checks many files (each start of Taplo costs about half a
//! second); its log names every file it found invalid.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Taplo takes the schema from.
#[derive(Clone, Copy)]
pub enum Wiring<'a> {
    /// The repository's .taplo.toml (Taplo reads it from the directory it runs in).
    Config,
    /// Only each file's own `#:schema` first line.
    Directive,
    /// `--schema file://…` on the command line.
    Explicit(&'a Path),
}

/// Taplo's log of checking `files`, and whether it passed them all.
fn check(files: &[PathBuf], wiring: Wiring) -> (bool, String) {
    let mut command = Command::new("taplo");
    command.args(["check", "--colors", "never"]).current_dir(super::common::root());
    match wiring {
        Wiring::Config => {}
        Wiring::Directive => {
            command.arg("--no-auto-config");
        }
        Wiring::Explicit(schema) => {
            command.arg("--no-auto-config").arg("--schema").arg(format!("file://{}", schema.display()));
        }
    }
    let output = command.args(files).output().unwrap_or_else(|e| {
        panic!("cannot run taplo ({e}): scripts/test.sh installs it (npm install -g @taplo/cli@0.7.0)")
    });
    let log = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), log)
}

/// The files (absolute paths) that Taplo rejects: invalid TOML or not valid under the schema.
pub fn rejected(files: &[PathBuf], wiring: Wiring) -> BTreeSet<PathBuf> {
    assert!(!files.is_empty(), "no files to check");
    let (passed, log) = check(files, wiring);
    // `ERROR taplo:lint_files: invalid file error=… path="/abs/file.toml"`, one per file.
    let rejected: BTreeSet<PathBuf> = log
        .lines()
        .filter(|line| line.contains("invalid file"))
        .filter_map(|line| line.split_once("path=\"").and_then(|(_, rest)| rest.split_once('"')))
        .map(|(path, _)| PathBuf::from(path))
        .collect();
    assert_eq!(passed, rejected.is_empty(), "taplo's exit status and the files it names disagree:\n{log}");
    for path in &rejected {
        assert!(files.contains(path), "taplo names a file it was not given: {}\n{log}", path.display());
    }
    rejected
}

/// Taplo's report on one file, for failure messages.
pub fn report(file: &Path, wiring: Wiring) -> String {
    check(&[file.to_path_buf()], wiring).1
}
