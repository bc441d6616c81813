//! `natc verify` end to end, as root, on this machine's kernel: every example with a lab
//! passes for every Linux target it declares, a wrong intent fails with exit 3, and the
//! lab is gone afterwards — also after Ctrl-C. Never skipped: CI runs as root.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn natc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_natc"))
}

fn verify(intent: &Path, target: &str) -> Output {
    natc().args(["verify", "--target", target]).arg(intent).output().expect("natc runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The lab prefix natc printed, to check that nothing of it is left.
fn lab_prefix(stdout: &str) -> String {
    let line = stdout.lines().find(|l| l.starts_with("natc verify:")).expect("a header line");
    let after = line.split(", lab ").nth(1).expect("the lab name");
    after.split_whitespace().next().expect("prefix").to_string()
}

fn leftovers(prefix: &str) -> Vec<String> {
    let out = Command::new("ip").args(["netns", "list"]).output().expect("ip runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|ns| ns.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

fn examples_with_labs() -> Vec<(PathBuf, Vec<String>)> {
    common::examples()
        .into_iter()
        .filter_map(|path| {
            let compiled = common::compile(&path);
            compiled.plan.lab.as_ref()?;
            let targets = natc::verify::default_targets(&compiled).iter().map(|t| t.to_string()).collect();
            Some((path, targets))
        })
        .collect()
}

fn assert_verifies(stem: &str, target: &str) {
    common::require_root_and(&["ip", "nft", "iptables-restore", "firewalld", "dbus-daemon"]);
    let path = common::root().join("examples").join(format!("{stem}.toml"));
    let out = verify(&path, target);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stem} × {target}:\n{all}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expects = common::compile(&path).plan.expects.len();
    assert_eq!(stdout.lines().filter(|l| l.starts_with("PASS ")).count(), expects, "{all}");
    assert!(leftovers(&lab_prefix(&stdout)).is_empty(), "namespaces left behind by {stem} × {target}");
}

/// One test per example and target so that they run in parallel and fail by name.
macro_rules! verifies {
    ($($name:ident: $stem:literal, $target:literal;)*) => {
        $(#[test] fn $name() { assert_verifies($stem, $target); })*
    };
}

verifies! {
    seed_000_iptables: "seed-000-powervs", "iptables";
    seed_000_nftables: "seed-000-powervs", "nftables";
    seed_000_firewalld: "seed-000-powervs", "firewalld";
    seed_002_iptables: "seed-002-overlap", "iptables";
    seed_002_nftables: "seed-002-overlap", "nftables";
    seed_002_firewalld: "seed-002-overlap", "firewalld";
    seed_003_iptables: "seed-003-lab", "iptables";
    seed_003_nftables: "seed-003-lab", "nftables";
    seed_003_firewalld: "seed-003-lab", "firewalld";
    port_forward_iptables: "port-forward", "iptables";
    port_forward_nftables: "port-forward", "nftables";
    port_forward_firewalld: "port-forward", "firewalld";
    service_address_iptables: "service-address", "iptables";
    service_address_nftables: "service-address", "nftables";
    service_address_firewalld: "service-address", "firewalld";
    protocols_iptables: "protocols", "iptables";
    protocols_nftables: "protocols", "nftables";
    protocols_firewalld: "protocols", "firewalld";
}

/// The macro above must cover every example with a lab and every Linux target it declares.
#[test]
fn every_example_lab_and_target_is_verified() {
    let source = std::fs::read_to_string(common::root().join("tests/verify.rs")).expect("this file");
    for (path, targets) in examples_with_labs() {
        for target in targets {
            let line = format!("\"{}\", \"{target}\";", common::stem(&path));
            assert!(source.contains(&line), "tests/verify.rs does not verify {line}");
        }
    }
}

/// `policy = "reject"` answers: every blocked probe of the lab is told, a TCP reset or ICMP
/// port unreachable for tcp and udp ("refused"), the gateway's port unreachable for a ping,
/// on the input chain and on the forward chain, where a drop policy leaves "no reply".
#[test]
fn a_reject_policy_answers_the_blocked_probes() {
    common::require_root_and(&["ip", "nft", "iptables-restore", "firewalld", "dbus-daemon"]);
    let path = common::root().join("tests/verify/reject-policy.toml");
    for target in ["nftables", "iptables", "firewalld"] {
        let out = verify(&path, target);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{target}:\n{}", text(&out));
        let seen = |name: &str| {
            let line = stdout.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("no line for {name}"));
            assert!(line.starts_with("PASS "), "{target}: {line}");
            line.to_string()
        };
        for name in
            ["tcp to the gateway is reset", "udp to the gateway is refused", "tcp forwarded but not allowed is reset"]
        {
            assert!(seen(name).contains("arrived nowhere; refused"), "{target}: {}", seen(name));
        }
        let ping = seen("a ping to the gateway gets port unreachable");
        assert!(ping.contains("port unreachable (from 198.51.100.2)"), "{target}: {ping}");
        assert!(leftovers(&lab_prefix(&stdout)).is_empty());
    }
}

/// The netmap's real and virtual prefixes swapped on one side: the kernel must show it.
#[test]
fn a_wrong_intent_fails_with_exit_3_and_says_what_was_seen() {
    common::require_root_and(&["ip", "nft"]);
    let path = common::root().join("tests/verify/seed-002-swapped-netmap.toml");
    let out = verify(&path, "nftables");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let failing = stdout.lines().find(|l| l.contains("a pings b as 192.168.20.175")).expect("the expectation's line");
    assert!(failing.starts_with("FAIL "), "{failing}");
    assert!(leftovers(&lab_prefix(&stdout)).is_empty());
}

#[test]
fn without_root_verify_refuses_with_exit_4_and_never_passes() {
    common::require_root_and(&["setpriv"]);
    let intent = common::root().join("examples/seed-003-lab.toml");
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_natc"),
            "verify",
            "-t",
            "nftables",
        ])
        .arg(&intent)
        .output()
        .expect("setpriv runs");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("must run as root"), "{}", text(&out));
}

#[test]
fn a_missing_tool_is_named_with_its_package() {
    common::require_root_and(&["ip"]);
    let intent = common::root().join("examples/seed-003-lab.toml");
    let empty = tempfile::tempdir().expect("tempdir");
    let out = natc().args(["verify", "-t", "nftables"]).arg(&intent).env("PATH", empty.path()).output().expect("runs");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("apt-get install iproute2"), "{}", text(&out));
}

#[test]
fn an_intent_without_a_lab_is_an_error() {
    let out =
        natc().args(["verify", "-t", "nftables"]).arg(common::root().join("examples/seed-004-vyos-rtx.toml")).output();
    let out = out.expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("the intent has no [lab]"), "{}", text(&out));
}

/// Ctrl-C in the middle of a run (firewalld: the slowest) removes the lab, exit 130.
#[test]
fn ctrl_c_removes_the_lab() {
    common::require_root_and(&["ip", "firewalld"]);
    let intent = common::root().join("examples/seed-003-lab.toml");
    let mut child = natc()
        .args(["verify", "-t", "firewalld"])
        .arg(&intent)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("natc runs");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut header = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut header).expect("the header line");
    let prefix = lab_prefix(&header);
    // Wait until the lab exists, then interrupt while it is busy.
    for _ in 0..100 {
        if !leftovers(&prefix).is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().expect("natc exits");
    assert_eq!(status.code(), Some(130));
    assert!(leftovers(&prefix).is_empty(), "left behind: {:?}", leftovers(&prefix));
}
