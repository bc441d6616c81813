//! The command line on a sample of cases: `natc build INTENT -o DIR` either exits 0 and
//! writes files, or exits 1 and writes nothing at all (no partial output), never panics
//! (exit 101); `natc check` exits 1 exactly when the build does.

use super::oracle::{Finding, FindingKind};
use std::process::Command;

fn finding(stage: &str, property: &'static str, detail: String) -> Finding {
    Finding { stage: stage.to_string(), kind: FindingKind::Property(property), detail }
}

pub fn check(text: &str) -> Result<(), Finding> {
    let dir = tempfile::tempdir().expect("temp dir");
    let intent = dir.path().join("intent.toml");
    std::fs::write(&intent, text).expect("write the intent");
    let out_dir = dir.path().join("out");
    let natc = env!("CARGO_BIN_EXE_natc");
    let build = Command::new(natc).arg("build").arg(&intent).arg("-o").arg(&out_dir).output().expect("natc runs");
    let check = Command::new(natc).arg("check").arg(&intent).output().expect("natc runs");
    for (what, out) in [("natc build", &build), ("natc check", &check)] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !matches!(out.status.code(), Some(0 | 1)) || stderr.contains("panicked") {
            let tail: String = stderr.chars().rev().take(400).collect::<Vec<_>>().into_iter().rev().collect();
            return Err(finding(what, "the command exits 0 or 1", format!("{:?}: {tail}", out.status.code())));
        }
    }
    let written = walk(&out_dir);
    match build.status.code() {
        Some(0) if written == 0 => Err(finding("natc build", "exit 0 writes files", "nothing was written".into())),
        Some(1) if written > 0 => {
            Err(finding("natc build", "no output when there are errors", format!("{written} file(s) written")))
        }
        _ if build.status.code() != check.status.code() => Err(finding(
            "natc check",
            "check and build agree",
            format!("check exits {:?}, build {:?}", check.status.code(), build.status.code()),
        )),
        _ => Ok(()),
    }
}

/// The number of files under `dir` (0 when it does not exist).
fn walk(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum()
}
