//! Every `tests/warnings/*.toml` builds, with a warning: its first line says which,
//! `# warns: N303 line 5 target=firewalld`. The warning must carry that code, point at
//! that line and have a help line; the report is snapshotted for review; and the real
//! binary must print it, exit 0 and still write its files.

mod common;

use assert_cmd::Command;
use natc::BuildOptions;
use natc::diag::{Diagnostic, Location};
use std::path::Path;

struct Expectation {
    code: String,
    line: usize,
    target: String,
}

fn expectation(path: &Path, text: &str) -> Expectation {
    let first = text.lines().next().unwrap_or_default();
    let words: Vec<&str> = first
        .strip_prefix("# warns: ")
        .unwrap_or_else(|| panic!("{}: no `# warns:` line", path.display()))
        .split_whitespace()
        .collect();
    let [code, "line", line, target] = words.as_slice() else {
        panic!("{}: malformed expectation `{first}`", path.display())
    };
    Expectation {
        code: code.to_string(),
        line: line.parse().unwrap_or_else(|_| panic!("{}: bad line number", path.display())),
        target: target.strip_prefix("target=").unwrap_or_else(|| panic!("{}: no target=", path.display())).into(),
    }
}

fn warnings(text: &str, e: &Expectation) -> Vec<Diagnostic> {
    let compiled = natc::compile(text).unwrap_or_else(|d| panic!("does not compile: {d:?}"));
    let options =
        BuildOptions { targets: vec![e.target.parse().expect("valid target")], gateways: vec![], ..Default::default() };
    let artifacts = natc::build(&compiled, &options).unwrap_or_else(|e| panic!("does not build: {e:?}"));
    compiled.warnings.into_iter().chain(artifacts.into_iter().flat_map(|a| a.warnings)).collect()
}

#[test]
fn every_warning_case_builds_with_its_located_warning() {
    insta::glob!("warnings/*.toml", |path| {
        let text = std::fs::read_to_string(path).expect("readable");
        let e = expectation(path, &text);
        let found = warnings(&text, &e);
        let w =
            found.iter().find(|d| d.code.0 == e.code).unwrap_or_else(|| panic!("{}: no {}", path.display(), e.code));
        assert!(!w.is_error(), "{}: {} is an error", path.display(), e.code);
        let at = w.primary_span().map(|s| Location::of(&text, s.start).line);
        assert_eq!(at, Some(e.line), "{}: {w:#?}", path.display());
        assert!(w.help.is_some(), "{}: {} has no help line", path.display(), e.code);
        insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("warning", common::render(path, &text, &found));
        });
    });
}

#[test]
fn the_binary_prints_the_warning_exits_0_and_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(common::root().join("tests/warnings")).expect("tests/warnings") {
        let path = entry.expect("entry").path();
        let e = expectation(&path, &std::fs::read_to_string(&path).expect("readable"));
        let out = dir.path().join(common::stem(&path));
        let output = Command::new(assert_cmd::cargo::cargo_bin!("natc"))
            .arg("build")
            .arg(&path)
            .args(["--target", &e.target, "-o"])
            .arg(&out)
            .output()
            .expect("natc runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{}: {stderr}", path.display());
        assert!(stderr.contains(&e.code), "{}: stderr lacks {}: {stderr}", path.display(), e.code);
        assert!(out.exists(), "{}: wrote nothing", path.display());
    }
}
