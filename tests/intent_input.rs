//! Reading an intent (docs/intent.md, "Reading the file"): every command reads through one
//! path that takes only a regular file within the size limit, and text that is not UTF-8 is
//! a located N001 error. Each case failed before: `/dev/zero` read until memory ran out, a
//! FIFO blocked forever, a Latin-1 file was exit 2 "cannot read" with no location.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Exit code and stderr of `natc ARGS`, with `NATC_MAX_INTENT_SIZE` set when asked. A run
/// that has not ended after a minute is killed and fails the test (the FIFO case used to
/// block forever); no assertion depends on how fast it ends.
fn natc(args: &[&str], max: Option<&str>) -> (Option<i32>, String) {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin!("natc"));
    command.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    command.env_remove("NATC_MAX_INTENT_SIZE");
    if let Some(max) = max {
        command.env("NATC_MAX_INTENT_SIZE", max);
    }
    let mut child = command.spawn().expect("natc starts");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().expect("kill");
            panic!("natc {args:?} did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into())
}

fn latin1_intent(dir: &Path) -> String {
    let path = dir.join("latin1.toml");
    let mut text = std::fs::read(common::root().join("examples/port-forward.toml")).expect("example");
    // A comment in the third line holding `café` in Latin-1.
    let third = text.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(1).map(|(i, _)| i + 1).expect("lines");
    text.splice(third..third, b"# caf\xe9\n".iter().copied());
    std::fs::write(&path, text).expect("write");
    path.to_str().expect("utf-8").to_string()
}

#[test]
fn non_utf8_is_a_located_n001_error_in_every_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = latin1_intent(dir.path());
    for args in [
        vec!["check", path.as_str()],
        vec!["build", path.as_str()],
        vec!["trace", path.as_str()],
        vec!["diff", path.as_str(), path.as_str()],
        vec!["--diagnostics", "json", "check", path.as_str()],
    ] {
        let (code, stderr) = natc(&args, None);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("N001") && stderr.contains("not UTF-8"), "{args:?}: {stderr}");
        if args[0] == "--diagnostics" {
            assert!(stderr.contains(r#""line":3,"column":6"#), "{stderr}");
        } else {
            assert!(stderr.contains(&format!("{path}:3:6")), "{args:?}: {stderr}");
        }
    }
}

#[test]
fn devices_fifos_and_directories_are_refused_without_reading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("intent.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    let fifo = fifo.to_str().expect("utf-8");
    let folder = dir.path().to_str().expect("utf-8");
    for (path, why) in [
        ("/dev/zero", "not a regular file"),
        (fifo, "not a regular file"),
        (folder, "a directory"),
        ("/nonexistent/intent.toml", "No such file"),
    ] {
        for command in ["check", "build", "trace", "verify"] {
            let (code, stderr) = natc(&[command, path], None);
            assert_eq!(code, Some(2), "{command} {path}: {stderr}");
            assert!(stderr.contains(&format!("cannot read {path}")) && stderr.contains(why), "{stderr}");
        }
    }
    let example = common::root().join("examples/port-forward.toml");
    let (code, stderr) = natc(&["diff", example.to_str().expect("utf-8"), "/dev/zero"], None);
    assert_eq!(code, Some(2), "{stderr}");
}

#[test]
fn the_size_limit_is_configurable() {
    let example = common::root().join("examples/port-forward.toml");
    let size = std::fs::metadata(&example).expect("example").len();
    let example = example.to_str().expect("utf-8");
    let (code, stderr) = natc(&["check", example], Some(&size.to_string()));
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stderr) = natc(&["check", example], Some(&(size - 1).to_string()));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&format!("larger than {} bytes (NATC_MAX_INTENT_SIZE)", size - 1)), "{stderr}");
    let (code, stderr) = natc(&["check", example], Some("1K"));
    assert_eq!(code, Some(2), "{stderr}");
    let (code, stderr) = natc(&["check", example], Some("lots"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("NATC_MAX_INTENT_SIZE=\"lots\" is not a size"), "{stderr}");
}
