//! `natc init`: the starter intent it prints passes `natc check --strict`, `natc trace` and
//! `natc verify` (nftables and iptables, as root, like tests/verify.rs) as written, and
//! `-o FILE` never replaces an existing file. Before, there was no `natc init` (exit 2).

use std::path::Path;
use std::process::{Command, Output};

fn natc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_natc")).args(args).output().expect("natc runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `natc init -o DIR/intent.toml`: the path, after checking it is what stdout gets.
fn starter(dir: &Path) -> String {
    let printed = natc(&["init"]);
    assert_eq!(printed.status.code(), Some(0), "{}", text(&printed));
    let path = dir.join("intent.toml");
    let path_s = path.to_str().expect("utf-8").to_string();
    let written = natc(&["init", "-o", &path_s]);
    assert_eq!(written.status.code(), Some(0), "{}", text(&written));
    assert!(written.stdout.is_empty());
    assert_eq!(std::fs::read(&path).expect("written"), printed.stdout, "-o FILE writes what stdout gets");
    path_s
}

#[test]
fn the_starter_intent_checks_strictly_and_its_lab_passes_in_trace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let intent = starter(dir.path());
    let text_of = std::fs::read_to_string(&intent).expect("read");
    assert!(text_of.starts_with("#:schema "), "{text_of}");
    for (what, needle) in [
        ("a DNAT", "[[gateway.dnat]]"),
        ("a masquerade", "to = \"masquerade\""),
        ("a lab", "[[lab.host]]"),
        ("expectations", "[[expect]]"),
    ] {
        assert!(text_of.contains(needle), "no {what}");
    }
    assert_eq!(text_of.matches("[[gateway]]").count(), 1);
    let check = natc(&["check", "--strict", &intent]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    assert!(text(&check).contains("0 warning(s)"), "{}", text(&check));
    let trace = natc(&["trace", &intent]);
    assert_eq!(trace.status.code(), Some(0), "{}", text(&trace));
    assert!(text(&trace).contains("2 passed, 0 failed"), "{}", text(&trace));
    for target in ["nftables", "iptables"] {
        let build = natc(&["build", &intent, "-t", target]);
        assert_eq!(build.status.code(), Some(0), "{target}: {}", text(&build));
    }
}

#[test]
fn the_starter_intent_passes_verify_on_nftables_and_iptables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let intent = starter(dir.path());
    for target in ["nftables", "iptables"] {
        let out = natc(&["verify", "--target", target, &intent]);
        assert_eq!(out.status.code(), Some(0), "{target}: {}", text(&out));
        assert!(text(&out).contains("2 passed, 0 failed"), "{target}: {}", text(&out));
    }
}

#[test]
fn init_never_overwrites_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("intent.toml");
    std::fs::write(&path, "mine\n").expect("write");
    let out = natc(&["init", "-o", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "mine\n");
    // Nor through a symbolic link, even a dangling one.
    let link = dir.path().join("link.toml");
    std::os::unix::fs::symlink(dir.path().join("elsewhere.toml"), &link).expect("symlink");
    let out = natc(&["init", "-o", link.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!dir.path().join("elsewhere.toml").exists());
    // A directory that does not exist: exit 2 too, with the path.
    let out = natc(&["init", "-o", dir.path().join("no/such/intent.toml").to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("cannot create"), "{}", text(&out));
}
