//! Every `tests/invalid/*.toml` carries its expectation on the first line:
//! `# expect: N107 line 21` (validation), `… target=nftables` (build for that target), or
//! `… build` (build for the file's own targets), with `package=cloud-init` to package the
//! build that way (`--package`). The first diagnostic must have that code
//! and point at that line; the rendered report is snapshotted for review; and the real
//! binary must exit 1 and write nothing.

mod common;

use assert_cmd::Command;
use natc::backend::secret::SecretMode;
use natc::diag::{Diagnostic, Location};
use natc::{BuildOptions, Error};
use std::path::Path;

struct Expectation {
    code: String,
    line: usize,
    target: Option<String>,
    build: bool,
    /// `secrets=inline`: build with the secrets' values (relative files from tests/invalid).
    inline_secrets: bool,
    package: Option<String>,
}

fn expectation(path: &Path, text: &str) -> Expectation {
    let first = text.lines().next().unwrap_or_default();
    let words: Vec<&str> = first
        .strip_prefix("# expect: ")
        .unwrap_or_else(|| panic!("{}: no `# expect:` line", path.display()))
        .split_whitespace()
        .collect();
    let [code, "line", line, rest @ ..] = words.as_slice() else {
        panic!("{}: malformed expectation `{first}`", path.display())
    };
    Expectation {
        code: code.to_string(),
        line: line.parse().unwrap_or_else(|_| panic!("{}: bad line number", path.display())),
        target: rest.iter().find_map(|w| w.strip_prefix("target=")).map(str::to_string),
        build: rest.contains(&"build"),
        inline_secrets: rest.contains(&"secrets=inline"),
        package: rest.iter().find_map(|w| w.strip_prefix("package=")).map(str::to_string),
    }
}

fn diagnostics(text: &str, e: &Expectation) -> Vec<Diagnostic> {
    let compiled = match natc::compile(text) {
        Ok(c) => c,
        Err(d) => return d,
    };
    let mut options = match &e.target {
        Some(t) => BuildOptions { targets: vec![t.parse().expect("valid target")], ..Default::default() },
        None if e.build => BuildOptions::default(),
        None => panic!("expected an error but the intent is valid"),
    };
    if e.inline_secrets {
        options.secrets = SecretMode::Inline { base: common::root().join("tests/invalid") };
    }
    match natc::build(&compiled, &options) {
        Ok(artifacts) => match e.package.as_deref().map(packaging) {
            Some(p) => natc::package::package(&compiled, &artifacts, p).expect_err("expected the packaging to refuse"),
            None => panic!("expected an error but the build succeeded"),
        },
        Err(Error::Invalid(d)) => d,
        Err(other) => panic!("{other} (exit {}) instead of a diagnostic", other.exit_code()),
    }
}

fn packaging(package: &str) -> natc::package::Packaging {
    match package {
        "cloud-init" => natc::package::Packaging::CloudInit,
        "ansible" => natc::package::Packaging::Ansible,
        other => panic!("unknown package={other}"),
    }
}

#[test]
fn every_invalid_intent_gives_its_located_diagnostic() {
    insta::glob!("invalid/*.toml", |path| {
        let text = std::fs::read_to_string(path).expect("readable");
        let e = expectation(path, &text);
        let found = diagnostics(&text, &e);
        let first = found.first().unwrap_or_else(|| panic!("{}: no diagnostic", path.display()));
        let at = first.primary_span().map(|s| Location::of(&text, s.start).line);
        assert_eq!((first.code.0, at), (e.code.as_str(), Some(e.line)), "{}: {:#?}", path.display(), found);
        assert!(first.help.is_some(), "{}: {} has no help line", path.display(), first.code);
        insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("invalid", common::render(path, &text, &found));
        });
    });
}

#[test]
fn the_binary_exits_1_and_writes_nothing_for_every_invalid_intent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut count = 0;
    for entry in std::fs::read_dir(common::root().join("tests/invalid")).expect("tests/invalid") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue; // tests/invalid/secrets holds the key files some intents name
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let e = expectation(&path, &text);
        let out = dir.path().join(format!("out-{count}"));
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("natc"));
        cmd.arg("build").arg(&path).arg("-o").arg(&out);
        if let Some(t) = &e.target {
            cmd.args(["--target", t]);
        } else if !e.build {
            cmd.args(["--target", "nftables"]);
        }
        if e.inline_secrets {
            cmd.args(["--secrets", "inline"]);
        }
        if let Some(p) = &e.package {
            cmd.args(["--package", p]);
        }
        let output = cmd.output().expect("natc runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{}: {stderr}", path.display());
        assert!(output.stdout.is_empty(), "{}: wrote to stdout", path.display());
        assert!(!out.exists(), "{}: created the output directory", path.display());
        assert!(stderr.contains(&e.code), "{}: stderr lacks {}: {stderr}", path.display(), e.code);
        let name = path.file_name().and_then(|n| n.to_str()).expect("name");
        assert!(
            stderr.contains(&format!("{name}:{}:", e.line)),
            "{}: stderr lacks line {}: {stderr}",
            path.display(),
            e.line
        );
        count += 1;
    }
    assert!(count >= 25, "only {count} invalid intents");
}
