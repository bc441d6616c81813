//! The README's examples run as written: every `natc …` line of its `sh` blocks is run, in
//! order, by `sh` in a scratch directory that sees the checkout's `examples/` and `tests/`
//! (so `-o out/` and `> file` write there), with the built natc first on PATH, and must
//! exit 0. Lines led by `sudo` are marked as needing root and the lab's tools (the README
//! says so); they are proven by tests/verify.rs instead.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The command lines of the README's `sh` blocks, comments cut, continuations joined.
fn command_lines(readme: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(line);
        let command = match pending.find(" #") {
            Some(at) => pending[..at].trim().to_string(),
            None => pending.trim().to_string(),
        };
        pending.clear();
        if !command.is_empty() {
            lines.push(command);
        }
    }
    lines
}

fn bin_dir() -> PathBuf {
    let natc = PathBuf::from(assert_cmd::cargo::cargo_bin!("natc"));
    natc.parent().expect("the binary's directory").to_path_buf()
}

fn scratch(root: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for shared in ["examples", "tests"] {
        std::os::unix::fs::symlink(root.join(shared), dir.path().join(shared)).expect("symlink");
    }
    dir
}

#[test]
fn every_readme_example_runs_as_written() {
    let root = common::root();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let lines = command_lines(&readme);
    let dir = scratch(&root);
    let path = format!("{}:{}", bin_dir().display(), std::env::var("PATH").unwrap_or_default());
    let mut ran = 0;
    let mut failures = Vec::new();
    for line in &lines {
        let command = match line.strip_prefix("./target/release/natc ") {
            Some(rest) => format!("natc {rest}"),
            None => line.clone(),
        };
        if !command.starts_with("natc ") {
            continue; // cargo build, and `sudo` lines: root and the lab's tools
        }
        let out = Command::new("sh")
            .args(["-c", &command])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .expect("sh runs");
        ran += 1;
        if !out.status.success() {
            failures.push(format!(
                "`{line}` exited {:?}:\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "README examples that do not run as written:\n{}", failures.join("\n"));
    assert!(ran >= 20, "only {ran} natc lines found in the README's sh blocks: {lines:#?}");
    // The lines that write files wrote them.
    for written in [
        "intent.toml",
        "out/natgw/nftables.nft",
        "user-data",
        "deploy/site.yml",
        "natc-intent.schema.json",
        "man/natc-build.1",
    ] {
        assert!(dir.path().join(written).is_file(), "no {written} after the README's examples");
    }
}

#[test]
fn only_root_lines_are_skipped() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README.md");
    for line in command_lines(&readme) {
        let runs = line.starts_with("natc ") || line.starts_with("./target/release/natc ");
        // The install steps fetch a toolchain from the Internet, which a test may not; the
        // test command is what is running this test, and the long fuzz run runs for minutes
        // (its short run is part of the test command).
        let install_step = ["apt-get ", "curl ", ". \"$HOME/.cargo/env\"", "scripts/test.sh", "scripts/fuzz.sh"]
            .iter()
            .any(|p| line.starts_with(p));
        let skipped_for_a_reason = line.starts_with("sudo ") || line.starts_with("cargo ") || install_step;
        assert!(runs || skipped_for_a_reason, "a README command the test neither runs nor explains: `{line}`");
    }
}
