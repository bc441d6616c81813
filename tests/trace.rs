//! `natc trace` simulates what `natc verify` proves in kernels. It needs no root, and for
//! every example with a lab and every expectation it must agree with verify: on the
//! verdict, on whether the reply came back, and on where the probe arrived with which
//! addresses. The comparison runs verify for real, so it needs root and fails (never
//! skips) without it.

mod common;

use natc::trace::TraceReport;
use natc::verify::{Report, VerifyOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn natc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_natc"))
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn examples_with_labs() -> Vec<PathBuf> {
    common::examples().into_iter().filter(|p| common::compile(p).plan.lab.is_some()).collect()
}

/// As an unprivileged user when the tests run as root (as in CI), so "no root" is shown.
fn trace_unprivileged(intent: &Path) -> Output {
    let root = String::from_utf8_lossy(&Command::new("id").arg("-u").output().expect("id runs").stdout).trim() == "0";
    let mut command = if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_natc")]);
        c
    } else {
        natc()
    };
    command.arg("trace").arg(intent).output().expect("natc trace runs")
}

#[test]
fn trace_needs_no_root_and_every_example_passes() {
    let examples = examples_with_labs();
    assert!(examples.len() >= 5, "the examples with labs: {examples:?}");
    for path in examples {
        let out = trace_unprivileged(&path);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "{}:\n{all}", path.display());
        let stdout = String::from_utf8_lossy(&out.stdout);
        let expects = common::compile(&path).plan.expects.len();
        assert_eq!(stdout.lines().filter(|l| l.starts_with("PASS ")).count(), expects, "{all}");
        assert!(!stdout.lines().any(|l| l.starts_with("FAIL ")), "{all}");
        assert!(!all.contains("not modelled"), "{all}");
    }
}

/// Verify (real kernels) and trace (simulation) of one intent for one target: they must
/// agree on every expectation.
fn assert_trace_agrees_with_verify(path: &Path, target: &str) {
    common::require_root_and(&["ip", "nft", "iptables-restore", "firewalld", "dbus-daemon"]);
    let compiled = common::compile(path);
    let spec = target.parse().expect("a target");
    let verified: Report = natc::verify::verify(&compiled, &spec, &VerifyOptions::default(), &mut |_| {})
        .unwrap_or_else(|e| panic!("verify {} for {target} could not run: {e:?}", path.display()));
    let traced: TraceReport = natc::trace::trace(&compiled).expect("trace runs");
    assert_eq!(verified.results.len(), traced.results.len());
    for (v, t) in verified.results.iter().zip(&traced.results) {
        let t = &t.result;
        let context = format!(
            "{} × {target}, \"{}\":\n  verify: {}\n  trace:  {}",
            common::stem(path),
            v.name,
            v.verdict.seen,
            t.verdict.seen
        );
        assert_eq!(v.name, t.name);
        assert_eq!(v.verdict.pass, t.verdict.pass, "pass/fail differs — {context}");
        assert_eq!(v.verdict.replied, t.verdict.replied, "whether the reply came back differs — {context}");
        let seen = |a: &Option<natc::verify::probe::Observation>| {
            a.as_ref().map(|o| (o.node.clone(), o.source, o.destination, o.destination_port))
        };
        assert_eq!(seen(&v.verdict.arrived), seen(&t.verdict.arrived), "the arrival differs — {context}");
        // Also what the sender learned (an ICMP error and who sent it, a timeout...).
        assert_eq!(v.verdict.seen, t.verdict.seen, "what was seen differs — {context}");
        let control = |c: &Option<natc::lab::Judgement>| c.as_ref().map(|c| c.pass);
        assert_eq!(control(&v.control), control(&t.control), "the negative control differs — {context}");
        assert_eq!(v.passed(), t.passed(), "{context}");
    }
    assert_eq!(verified.passed(), traced.passed());
}

/// One test per example and target so that they run in parallel and fail by name.
macro_rules! agrees {
    ($($name:ident: $path:literal, $target:literal;)*) => {
        $(#[test] fn $name() { assert_trace_agrees_with_verify(&common::root().join($path), $target); })*
    };
}

agrees! {
    seed_000_nftables: "examples/seed-000-powervs.toml", "nftables";
    seed_000_iptables: "examples/seed-000-powervs.toml", "iptables";
    seed_002_nftables: "examples/seed-002-overlap.toml", "nftables";
    seed_002_iptables: "examples/seed-002-overlap.toml", "iptables";
    seed_003_nftables: "examples/seed-003-lab.toml", "nftables";
    seed_003_iptables: "examples/seed-003-lab.toml", "iptables";
    port_forward_nftables: "examples/port-forward.toml", "nftables";
    port_forward_iptables: "examples/port-forward.toml", "iptables";
    service_address_nftables: "examples/service-address.toml", "nftables";
    service_address_iptables: "examples/service-address.toml", "iptables";
    protocols_nftables: "examples/protocols.toml", "nftables";
    protocols_iptables: "examples/protocols.toml", "iptables";
    swapped_netmap_nftables: "tests/verify/seed-002-swapped-netmap.toml", "nftables";
    corners_nftables: "tests/trace/corners.toml", "nftables";
    corners_iptables: "tests/trace/corners.toml", "iptables";
    corners_firewalld: "tests/trace/corners.toml", "firewalld";
}

/// The macro above must cover every example with a lab, for nftables and iptables.
#[test]
fn every_example_lab_is_compared() {
    let source = std::fs::read_to_string(common::root().join("tests/trace.rs")).expect("this file");
    for path in examples_with_labs() {
        for target in ["nftables", "iptables"] {
            let line = format!("\"examples/{}.toml\", \"{target}\";", common::stem(&path));
            assert!(source.contains(&line), "tests/trace.rs does not compare {line}");
        }
    }
}

/// The corners lab fails on purpose (it is there to be compared with verify): ICMP errors
/// through NAT come from where Linux says, and a TTL runs out at the right hop.
#[test]
fn corners_fail_for_the_reasons_the_kernel_gives() {
    let path = common::root().join("tests/trace/corners.toml");
    let out = natc().arg("trace").arg(&path).output().expect("natc runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let line = |name: &str| {
        stdout.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("no line for {name}:\n{stdout}")).to_string()
    };
    assert!(line("DNAT into no route").ends_with("arrived nowhere; net unreachable (from 10.0.0.101)"));
    assert!(line("ping into a routing loop").ends_with("ttl exceeded (from 10.1.0.10)"));
    assert!(line("tcp to a closed port behind a DNAT").contains("at b: 10.1.0.1 → 10.1.0.10:7001; refused"));
    assert!(line("no route at the sender").ends_with("arrived nowhere; net unreachable"));
    assert!(line("an address nobody owns").starts_with("FAIL "));
}

/// The netmap's prefixes swapped on one side: trace sees it too, and says why.
#[test]
fn a_wrong_intent_fails_in_trace_with_exit_3() {
    let path = common::root().join("tests/verify/seed-002-swapped-netmap.toml");
    let out = natc().arg("trace").arg(&path).output().expect("natc runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let failing = stdout.lines().find(|l| l.contains("a pings b as 192.168.20.175")).expect("the expectation's line");
    assert!(failing.starts_with("FAIL ") && failing.contains("never arrived at instance-b"), "{failing}");
    assert!(stdout.contains("utm-b               routing: no route to 192.168.20.175"), "{stdout}");
}

#[test]
fn one_packet_at_one_gateway_names_each_rule() {
    let path = common::root().join("examples/seed-000-powervs.toml");
    let out = natc()
        .args(["trace", "--gateway", "natgw", "--from", "192.168.72.4", "--to", "192.168.82.70"])
        .args(["--protocol", "tcp", "--port", "22"])
        .arg(&path)
        .output()
        .expect("natc runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let lines: Vec<&str> = stdout.lines().collect();
    let at = |needle: &str| {
        lines.iter().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("no `{needle}` in:\n{stdout}"))
    };
    let dnat = at("DNAT natgw dnat/aix-tmgw01: destination 192.168.82.70 → 192.168.150.195");
    let route = at("routing: forward, 0.0.0.0/0 via 192.168.82.1 dev eth0 (natgw route/1)");
    let filter = at("forward: accept (natgw allow/ssh-to-aix)");
    let snat = at("SNAT natgw snat/snat-out-eth0: source 192.168.72.4 → 192.168.82.70");
    let back = at("back (assuming 192.168.150.195 answers");
    let undo = at("de-DNAT natgw dnat/aix-tmgw01: source 192.168.150.195 → 192.168.82.70");
    assert!(
        dnat < route && route < filter && filter < snat && snat < back && back < undo,
        "netfilter order:\n{stdout}"
    );
    assert!(lines.last().is_some_and(|l| l.starts_with("PASS ")), "{stdout}");
}

#[test]
fn one_dropped_packet_exits_3_and_names_the_policy() {
    let path = common::root().join("examples/seed-000-powervs.toml");
    let out = natc()
        .args(["trace", "-g", "natgw", "--from", "192.168.72.4", "--to", "192.168.82.70", "--protocol", "tcp"])
        .args(["--port", "80"])
        .arg(&path)
        .output()
        .expect("natc runs");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("forward: drop (natgw policy/forward)"), "{}", text(&out));
}

#[test]
fn usage_errors_exit_2_and_an_intent_without_a_lab_exits_1() {
    let seed0 = common::root().join("examples/seed-000-powervs.toml");
    let run = |args: &[&str], intent: &Path| natc().arg("trace").args(args).arg(intent).output().expect("natc runs");
    let out = run(&["-g", "nope", "--from", "192.168.72.4", "--to", "192.168.82.70"], &seed0);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("the intent has no gateway `nope`"), "{}", text(&out));
    let out = run(&["-g", "natgw", "--from", "192.168.72.4", "--to", "192.168.82.70", "--protocol", "tcp"], &seed0);
    assert_eq!(out.status.code(), Some(2), "tcp without a port: {}", text(&out));
    let out = run(&["-g", "natgw", "--from", "192.168.72.4"], &seed0);
    assert_eq!(out.status.code(), Some(2), "no --to: {}", text(&out));
    let out =
        run(&["-g", "natgw", "--from", "192.168.72.4", "--to", "192.168.82.70", "--in-interface", "eth9"], &seed0);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = run(&[], &common::root().join("examples/seed-004-vyos-rtx.toml"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("the intent has no [lab]"), "{}", text(&out));
}
