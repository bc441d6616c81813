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
    // A tunnel's `psk = { file = … }` is read next to the intent, as `natc verify` does.
    let options =
        VerifyOptions { intent_dir: path.parent().expect("a directory").to_path_buf(), ..VerifyOptions::default() };
    let verified: Report = natc::verify::verify(&compiled, &spec, &options, &mut |_| {})
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
        assert_eq!(control(&v.tunnel_control), control(&t.tunnel_control), "the tunnel control differs — {context}");
        assert_eq!(v.passed(), t.passed(), "{context}");
    }
    // The tunnels: as many policy-based ends did not come up in the kernels as in trace.
    let down = verified.tunnels.iter().filter(|t| !t.passed()).count();
    assert_eq!(
        down, traced.tunnels_failed,
        "tunnels that did not come up: {:?} / {:?}",
        verified.tunnels, traced.tunnels
    );
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
    seed_002_firewalld: "examples/seed-002-overlap.toml", "firewalld";
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
    tunnel_policy_nftables: "tests/trace/tunnel-policy.toml", "nftables";
    tunnel_policy_iptables: "tests/trace/tunnel-policy.toml", "iptables";
    tunnel_policy_firewalld: "tests/trace/tunnel-policy.toml", "firewalld";
    tunnel_natt_nftables: "tests/trace/tunnel-natt.toml", "nftables";
    tunnel_natt_iptables: "tests/trace/tunnel-natt.toml", "iptables";
    tunnel_mirror_nftables: "tests/trace/tunnel-mirror.toml", "nftables";
    hairpin_nftables: "tests/verify/hairpin.toml", "nftables";
    hairpin_iptables: "tests/verify/hairpin.toml", "iptables";
    hairpin_firewalld: "tests/verify/hairpin.toml", "firewalld";
}

/// The hairpin lab (issue 17): trace passes it with nothing "not modelled". The gateway
/// sends the LAN client's packet back out of the LAN, where Linux would send ICMP
/// redirects; NAT drops them (trace/redirect.rs), and trace says so at both steps.
#[test]
fn the_hairpin_lab_passes_and_its_redirects_are_dropped_by_nat() {
    let path = common::root().join("tests/verify/hairpin.toml");
    let out = natc().arg("trace").arg(&path).output().expect("natc runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!stdout.contains("not modelled"), "{stdout}");
    let line = stdout.lines().find(|l| l.contains("laptop reaches the web server")).expect("the expectation");
    assert!(line.starts_with("PASS ") && line.contains("at web: 10.0.0.1 → 10.0.0.10:443; reply came back"), "{line}");
    for redirect in [
        "ICMP redirect to 10.0.0.20 (use 10.0.0.10) dropped by the NAT hook: its flow's NAT is not set up yet",
        "ICMP redirect to 10.0.0.10 (use 10.0.0.20) dropped by the NAT hook: its flow is translated",
    ] {
        assert!(stdout.contains(redirect), "{redirect}:\n{stdout}");
    }
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

/// Trace of one of the tunnel labs under tests/trace/, through the library (the
/// verdicts and steps) and the command line (the exit code, no root).
fn tunnel_lab(file: &str) -> (TraceReport, Output) {
    let path = common::root().join("tests/trace").join(file);
    let traced = natc::trace::trace(&common::compile(&path)).expect("trace runs");
    (traced, trace_unprivileged(&path))
}

/// (node, source, destination) where a probe arrived.
type Seen = (String, String, String);

/// Each expectation: its name, pass, and where it arrived with which addresses (none:
/// it arrived nowhere).
fn arrivals(r: &TraceReport) -> Vec<(String, bool, Option<Seen>)> {
    let seen = |o: &natc::verify::probe::Observation| (o.node.clone(), o.source.to_string(), o.destination.to_string());
    r.results
        .iter()
        .map(|x| (x.result.name.clone(), x.result.passed(), x.result.verdict.arrived.as_ref().map(seen)))
        .collect()
}

/// The steps of one way as `node: text` lines.
fn lines(steps: &[natc::trace::render::Step]) -> Vec<String> {
    steps.iter().map(|s| format!("{}: {}", s.node, s.text)).collect()
}

fn position(lines: &[String], needle: &str) -> usize {
    lines.iter().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("no `{needle}` in:\n{}", lines.join("\n")))
}

/// Seed 002 over a policy-based tunnel, each netmap naming the tunnel as its interface:
/// each receiver sees the other side's virtual address; the 1:1 map runs before the
/// tunnel takes the packet and after it comes out.
#[test]
fn a_policy_tunnel_carries_both_ways_between_the_virtual_prefixes() {
    let (r, out) = tunnel_lab("tunnel-policy.toml");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let s = |a: &str| a.to_string();
    assert_eq!(
        arrivals(&r),
        vec![
            (s("a pings b as 192.168.20.175"), true, Some((s("instance-b"), s("192.168.10.118"), s("192.168.1.175")))),
            (s("b pings a as 192.168.10.118"), true, Some((s("instance-a"), s("192.168.20.175"), s("192.168.1.118")))),
            (s("a opens ssh to b"), true, Some((s("instance-b"), s("192.168.10.118"), s("192.168.1.175")))),
        ]
    );
    assert!(r.results.iter().all(|x| x.result.verdict.replied && x.unmodelled.is_empty()));
    // verify's tunnel control: with the packet filters and no tunnel up, none arrives.
    assert!(r.results.iter().all(|x| x.result.tunnel_control.as_ref().is_some_and(|c| !c.pass && c.arrived.is_none())));
    assert_eq!((r.tunnels.len(), r.tunnels_failed), (1, 0));
    assert!(
        r.tunnels[0].starts_with("TUNNEL UP  utm-a/to-utm-b  ↔  utm-b/to-utm-a  IKE from utm-a"),
        "{:?}",
        r.tunnels
    );
    let way = lines(&r.results[0].request);
    let snat = position(&way, "utm-a: SNAT utm-a netmap/vpc-a (snat): source 192.168.1.118 → 192.168.10.118");
    let into = position(&way, "utm-a: into tunnel to-utm-b (ESP in UDP 4500 203.0.113.10 → 203.0.113.20;");
    let wire = position(&way, "utm-a → utm-b: 203.0.113.10:4500 → 203.0.113.20:4500  udp");
    let out_of = position(&way, "utm-b: out of tunnel to-utm-a (from 203.0.113.10): 192.168.10.118 → 192.168.20.175");
    let dnat = position(&way, "utm-b: DNAT utm-b netmap/vpc-b (dnat): destination 192.168.20.175 → 192.168.1.175");
    assert!(snat < into && into < wire && wire < out_of && out_of < dnat, "{}", way.join("\n"));
    // The answer comes back through the tunnel the other way, its NAT undone at each end.
    let back = lines(&r.results[0].reply);
    let into = position(&back, "utm-b: into tunnel to-utm-a (ESP in UDP 4500 203.0.113.20 → 203.0.113.10;");
    let undo = position(&back, "utm-a: conntrack: reply, de-SNAT utm-a netmap/vpc-a (snat)");
    assert!(into < undo);
    // On the wire between the gateways only the outer packets travel.
    let stdout = String::from_utf8_lossy(&out.stdout);
    for l in stdout.lines().filter(|l| l.contains("utm-a → utm-b") || l.contains("utm-b → utm-a")) {
        assert!(l.contains(":4500  udp") && !l.contains("192.168."), "{l}");
    }
}

/// One end behind a masquerading natc gateway: the far end sees the NAT's address, the
/// Internet segment carries only UDP 4500 between outer addresses, and traffic outside
/// the selectors is not tunnelled.
#[test]
fn a_tunnel_through_a_masquerade_is_nat_traversal() {
    let (r, out) = tunnel_lab("tunnel-natt.toml");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let verdicts: Vec<(String, bool)> = arrivals(&r).into_iter().map(|(name, pass, _)| (name, pass)).collect();
    assert!(verdicts.iter().all(|(_, pass)| *pass), "{verdicts:?}");
    let seen = |i: usize| r.results[i].result.verdict.arrived.as_ref().map(|o| (o.node.clone(), o.source.to_string()));
    assert_eq!(seen(0), Some(("b".to_string(), "192.168.31.10".to_string())));
    assert_eq!(seen(1), Some(("a".to_string(), "192.168.32.10".to_string())));
    assert_eq!(seen(3), None, "outside the selectors: dropped by nat");
    let tunnel_control: Vec<Option<bool>> =
        r.results.iter().map(|x| x.result.tunnel_control.as_ref().map(|c| c.pass)).collect();
    assert_eq!(tunnel_control, [Some(false), Some(false), Some(false), None], "only crossing arrivals");
    assert_eq!(
        r.tunnels,
        [
            "TUNNEL UP  ini/to-rsp  ↔  rsp/to-ini  IKE from ini; ESP in UDP 4500 192.168.30.2 ⇄ 198.18.1.2, NAT on the way"
        ]
    );
    let way = lines(&r.results[0].request);
    position(&way, "ini: into tunnel to-rsp (ESP in UDP 4500 192.168.30.2 → 198.18.1.2; NAT-T: NAT on the way)");
    position(&way, "nat: conntrack: known flow, SNAT nat snat/masquerade: source 192.168.30.2 → 198.18.1.1");
    position(&way, "rsp: out of tunnel to-ini (from 198.18.1.1)");
    // b's probe rides the flow ini's IKE set up through nat: a reply there.
    let from_b = lines(&r.results[1].request);
    position(&from_b, "nat: conntrack: reply, de-SNAT nat snat/masquerade: destination 198.18.1.1 → 192.168.30.2");
    // What an observer on the Internet segment would see of the tunnelled probes.
    for x in &r.results[..3] {
        for l in lines(&x.request).iter().chain(&lines(&x.reply)) {
            if l.starts_with("nat → rsp:") || l.starts_with("rsp → nat:") {
                assert!(l.contains("198.18.1.1:4500") && l.contains("198.18.1.2:4500"), "{l}");
                assert!(!l.contains("192.168."), "an inner address on the Internet segment: {l}");
            }
        }
    }
}

/// Selectors that do not mirror (on a pair `natc check` cannot recognise, so trace is
/// what finds it): the tunnel does not come up, the report fails naming both ends (exit
/// 3), and the probes it would carry go by the main table and get nowhere.
#[test]
fn a_tunnel_whose_selectors_do_not_mirror_fails_naming_it() {
    let (r, out) = tunnel_lab("tunnel-mirror.toml");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(!r.passed());
    assert_eq!(r.tunnels_failed, 2, "both ends");
    assert_eq!(r.tunnels.len(), 1);
    assert!(
        r.tunnels[0].starts_with("TUNNEL DOWN  ini/to-rsp  ↔  rsp/to-ini  selectors do not mirror: ini tunnel/to-rsp has local [192.168.31.0/24] remote [192.168.32.0/24], rsp tunnel/to-ini has local [192.168.32.0/24] remote [192.168.33.0/24]"),
        "{:?}",
        r.tunnels
    );
    let verdicts: Vec<(bool, Option<String>)> = r
        .results
        .iter()
        .map(|x| (x.result.passed(), x.result.verdict.arrived.as_ref().map(|o| o.node.clone())))
        .collect();
    assert_eq!(verdicts, vec![(false, None), (false, None), (false, None), (true, None)]);
    position(
        &lines(&r.results[0].request),
        "ini: routing: tunnel to-rsp is not up, so charon's route for 192.168.32.0/24 is not there",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.lines().any(|l| l.starts_with("TUNNEL DOWN  ini/to-rsp  ↔  rsp/to-ini  selectors do not mirror")),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("1 passed, 3 failed, 2 tunnel(s) did not come up (trace-tunnel-mirror, trace)\n"),
        "{stdout}"
    );
}

/// One packet at one tunnel gateway: its tunnels are assumed up (said), a packet SNATed
/// into the selectors goes into the tunnel, one outside them is dropped by charon.
#[test]
fn one_packet_at_a_tunnel_gateway_goes_into_the_tunnel_whose_selectors_take_it() {
    let path = common::root().join("tests/trace/tunnel-policy.toml");
    let run = |from: &str| {
        natc()
            .args(["trace", "-g", "utm-a", "--from", from, "--in-interface", "eth0", "--to", "192.168.20.175"])
            .arg(&path)
            .output()
            .expect("natc runs")
    };
    let out = run("192.168.1.118");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let at = |s: &str, needle: &str| s.find(needle).unwrap_or_else(|| panic!("no `{needle}` in:\n{s}"));
    let assumed = at(&stdout, "utm-a  assuming its IPsec tunnels are up (to-utm-b)");
    let snat = at(&stdout, "SNAT utm-a netmap/vpc-a (snat): source 192.168.1.118 → 192.168.10.118");
    let into = at(&stdout, "utm-a  into tunnel to-utm-b (its far end is not walked here");
    assert!(assumed < snat && snat < into, "{stdout}");
    // From outside the netmap's local network no SNAT applies: no selector takes it.
    let out = run("192.168.9.1");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    at(&stdout, "ipsec0: no tunnel's selectors take 192.168.9.1 → 192.168.20.175: charon drops it");
    assert!(stdout.ends_with("FAIL  192.168.9.1 → 192.168.20.175: no tunnel of utm-a takes it\n"), "{stdout}");
}
