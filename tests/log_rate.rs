//! `log_rate` in real kernels (tests/verify/log-rate.toml): the limit is loaded where natc
//! put it (the kernel's own rule listing), and a burst of packets is logged at most at the
//! rate while every packet is still accepted or translated.
//!
//! How the log lines are counted: Linux writes LOG/`log` lines from a namespace other than
//! the first only with the global `net.netfilter.nf_log_all_netns`, which a test must not
//! flip, so the lines are counted where the kernel counts them: the packet counter of the
//! log rule itself. iptables counts a rule's packets only when every match matched (the
//! `limit` match included); nft's `counter` sits after `limit` in natc's log rule
//! (counters = true), so both count exactly the packets the rule logged.
//!
//! These tests fail, never skip, when they cannot run: they need root, `ip`, `nft`,
//! `iptables-restore`. Traffic flows only between the namespaces each test creates.

mod common;

use common::netns::sh;
use natc::Artifact;
use natc::verify::probe::{Observers, Probe, ProbeProtocol, SendOutcome, Watch, send};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const INTENT: &str = "tests/verify/log-rate.toml";

fn intent() -> PathBuf {
    common::root().join(INTENT)
}

fn write_files(artifact: &Artifact, dir: &Path) {
    for f in &artifact.files {
        std::fs::write(dir.join(&f.name), &f.contents).expect("write file");
    }
}

/// The lines that apply the artifact in `$D` and list the kernel's rules afterwards.
fn load_and_list(artifact: &Artifact) -> String {
    match artifact.target.kind {
        natc::backend::TargetKind::Nftables => {
            "sh \"$D/nftables-setup.sh\"\nnft -f \"$D/nftables.nft\"\nnft list ruleset\n".into()
        }
        natc::backend::TargetKind::Iptables => {
            "sh \"$D/iptables-setup.sh\"\niptables-restore \"$D/iptables.rules\"\niptables-save -c\n".into()
        }
        natc::backend::TargetKind::Firewalld => format!("{}iptables-save -c\n", common::firewalld_direct_load()),
        other => panic!("not a kernel target: {other:?}"),
    }
}

/// The listing's lines with `comment` in them, split into the log rule(s) and the others.
fn rules_of<'a>(listing: &'a str, comment: &str) -> (Vec<&'a str>, Vec<&'a str>) {
    let quoted = format!("\"{comment}\"");
    listing.lines().filter(|l| l.contains(&quoted)).partition(|l| l.contains(" log") || l.contains("-j LOG"))
}

/// How iptables-save writes a rate back (`10/min`); nft writes natc's own words.
fn listed_rate(rate: &str, iptables: bool) -> String {
    if !iptables {
        return rate.to_string();
    }
    let (n, unit) = rate.split_once('/').expect("N/unit");
    let unit = match unit {
        "second" => "sec",
        "minute" => "min",
        other => other,
    };
    format!("{n}/{unit}")
}

/// Each log rule of the intent by its comment (a netmap's halves have their own), and its rate.
const LOGS: &[(&str, &str)] = &[
    ("edge dnat/https-to-web", "10/minute"),
    ("edge netmap/peer (dnat)", "1/hour"),
    ("edge netmap/peer (snat)", "1/hour"),
    ("edge snat/lan-out", "100/hour"),
    ("edge allow/web-in", "2/second"),
    ("edge allow/dns-to-edge", "1/minute"),
    ("edge policy/input", "1/minute"),
    ("edge policy/forward", "1/minute"),
];

/// The kernel's listing has the limit on every log rule natc wrote and on nothing else: the
/// accept and NAT rules of the same items have none (past the rate they still match).
#[test]
fn log_rates_reach_the_kernel() {
    common::require_root_and(&["unshare", "ip", "nft", "iptables-restore", "iptables-save", "sysctl"]);
    let compiled = common::compile(&intent());
    for target in ["nftables", "iptables"] {
        let artifacts = common::build(&intent(), target).expect("builds");
        let dir = tempfile::tempdir().expect("tempdir");
        write_files(&artifacts[0], dir.path());
        let script = common::interfaces_script(&compiled, "edge") + &load_and_list(&artifacts[0]);
        let listing = sh(&format!(
            "export D='{}'\nexec unshare --net sh -ec '{}'",
            dir.path().display(),
            script.replace('\'', "'\\''")
        ));
        let iptables = target == "iptables";
        for (comment, rate) in LOGS {
            let (logs, others) = rules_of(&listing, comment);
            assert_eq!(logs.len(), 1, "{target}: the log rule of {comment}:\n{listing}");
            let limit = if iptables {
                format!("-m limit --limit {} ", listed_rate(rate, true))
            } else {
                format!("limit rate {rate} ")
            };
            assert!(logs.iter().all(|l| l.contains(&limit)), "{target}: {comment} lacks `{limit}`:\n{listing}");
            assert!(others.iter().all(|l| !l.contains("limit")), "{target}: a limit outside the log rule:\n{listing}");
            // Each log rule sits right before its own accept or NAT rule; a policy's stands alone.
            let own = usize::from(!comment.contains("policy/"));
            assert_eq!(others.len(), own, "{target}: {comment}'s own rule:\n{listing}");
            let at = listing.lines().position(|l| l == logs[0]).expect("listed");
            let next = listing.lines().nth(at + 1).unwrap_or_default();
            assert!(own == 0 || others.contains(&next), "{target}: not right before its rule: {}\n{listing}", logs[0]);
        }
    }
}

/// firewalld writes the policy's log (its allow and translation logs are N301): the LOG
/// direct rule carries the limit, through the stand-in firewall-cmd into the kernel.
#[test]
fn firewalld_policy_log_rate_reaches_the_kernel() {
    common::require_root_and(&["unshare", "ip", "iptables", "iptables-save", "sysctl"]);
    let text = std::fs::read_to_string(intent()).expect("intent");
    // Only the policy's log: cut every other item's log lines.
    let policy_only: String = text
        .split("\n\n")
        .filter(|block| !block.contains("log = true") || block.starts_with("[gateway.policy]"))
        .collect::<Vec<_>>()
        .join("\n\n")
        .replace("targets = [\"iptables\", \"nftables\"]", "targets = [\"firewalld\"]");
    let artifacts = common::build_text(&policy_only, "firewalld").expect("builds");
    let script_text = common::primary(&artifacts[0]);
    assert!(script_text.contains("-m limit --limit 1/minute --limit-burst 5"), "{script_text}");
    let compiled = natc::compile(&policy_only).expect("compiles");
    let dir = tempfile::tempdir().expect("tempdir");
    write_files(&artifacts[0], dir.path());
    let script = common::interfaces_script(&compiled, "edge") + &load_and_list(&artifacts[0]);
    let listing = sh(&format!(
        "export D='{}'\nexec unshare --net sh -ec '{}'",
        dir.path().display(),
        script.replace('\'', "'\\''")
    ));
    for chain in ["input", "forward"] {
        let (logs, _) = rules_of(&listing, &format!("edge policy/{chain}"));
        assert_eq!(logs.len(), 1, "{chain}:\n{listing}");
        assert!(logs[0].contains("-m limit --limit 1/min "), "{chain}:\n{listing}");
    }
}

/// Namespaces `natclr-{pid}-{target}-{node}`, deleted on drop.
struct Lab {
    prefix: String,
    nodes: Vec<String>,
}

impl Lab {
    fn new(target: &str) -> Lab {
        let mut lab = Lab { prefix: format!("natclr-{}-{target}", std::process::id()), nodes: Vec::new() };
        for node in ["gw", "client", "web"] {
            let name = lab.name(node);
            sh(&format!("ip netns add {name}\nip -n {name} link set lo up"));
            lab.nodes.push(name);
        }
        lab
    }

    fn name(&self, node: &str) -> String {
        format!("{}-{node}", self.prefix)
    }

    fn netns(&self, node: &str) -> PathBuf {
        PathBuf::from("/run/netns").join(self.name(node))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for name in &self.nodes {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// The packet count of the rule with `comment` that logs (`log: true`) or does not.
fn packets(listing: &str, comment: &str, log: bool, iptables: bool) -> u64 {
    let (logs, others) = rules_of(listing, comment);
    let lines = if log { logs } else { others };
    assert_eq!(lines.len(), 1, "one {} rule for {comment}:\n{listing}", if log { "log" } else { "other" });
    let line = lines[0];
    let number = if iptables {
        // `[packets:bytes] -A …`
        line.strip_prefix('[').and_then(|l| l.split(':').next())
    } else {
        line.split("counter packets ").nth(1).and_then(|l| l.split_whitespace().next())
    };
    number.and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no packet count in: {line}"))
}

/// At most the burst plus what the rate refilled while the packets were sent.
fn allowance(rate: &str, elapsed: Duration) -> u64 {
    let (n, unit) = rate.split_once('/').expect("N/unit");
    let per = match unit {
        "second" => 1.0,
        "minute" => 60.0,
        "hour" => 3600.0,
        _ => 86400.0,
    };
    let n: f64 = n.parse().expect("count");
    natc::vocab::LOG_BURST as u64 + (n * elapsed.as_secs_f64() / per).ceil() as u64
}

fn burst(
    lab: &Lab,
    first_key: u32,
    count: u32,
    protocol: ProbeProtocol,
    port: u16,
    timeout: Duration,
) -> Vec<SendOutcome> {
    (first_key..first_key + count)
        .map(|key| {
            send(&Probe {
                key,
                netns: lab.netns("client"),
                protocol,
                to: Ipv4Addr::new(198, 51, 100, 2),
                port: Some(port),
                timeout,
            })
        })
        .collect()
}

/// Bursts from a client at the gateway: 20 DNS queries to the gateway (input allow,
/// 1/minute), 20 HTTPS connections forwarded to the web server (dnat 10/minute, forward
/// allow 2/second) and 8 SSH attempts (the input policy's drop, 1/minute). Every query and
/// connection is answered (the limit limits the log only), each log rule logged at most its
/// burst plus what its rate refilled meanwhile, and at least the burst (the first packets are
/// logged).
#[test]
fn a_burst_is_logged_at_most_at_the_rate() {
    common::require_root_and(&["ip", "nft", "iptables-restore", "iptables-save", "sysctl"]);
    for target in ["nftables", "iptables"] {
        let artifacts = common::build(&intent(), target).expect("builds");
        let lab = Lab::new(target);
        let (gw, client, web) = (lab.name("gw"), lab.name("client"), lab.name("web"));
        sh(&format!(
            "ip link add eth0 netns {gw} type veth peer name eth0 netns {client}\n\
             ip link add eth1 netns {gw} type veth peer name eth0 netns {web}\n\
             ip -n {gw} address add 198.51.100.2/24 dev eth0\nip -n {gw} address add 10.0.0.1/24 dev eth1\n\
             ip -n {client} address add 198.51.100.50/24 dev eth0\nip -n {web} address add 10.0.0.10/24 dev eth0\n\
             for n in {gw} {client} {web}; do ip -n $n link set eth0 up; done\nip -n {gw} link set eth1 up\n\
             ip -n {web} route add default via 10.0.0.1"
        ));
        let dir = tempfile::tempdir().expect("tempdir");
        write_files(&artifacts[0], dir.path());
        let listing_cmd = if target == "iptables" { "iptables-save -c" } else { "nft list ruleset" };
        let load = load_and_list(&artifacts[0]).replace(&format!("{listing_cmd}\n"), "");
        sh(&format!("export D='{}'\nip netns exec {gw} sh -ec '{load}'", dir.path().display()));

        // Listeners on the gateway (DNS) and the web server; the gateway's input policy is
        // what stands between them and the client.
        let watches = [
            Watch { node: "gw".into(), netns: lab.netns("gw"), listen: true },
            Watch { node: "web".into(), netns: lab.netns("web"), listen: true },
        ];
        let observers = Observers::start(&watches, &[443], &[53]).expect("observers start");
        let started = Instant::now();
        let answered = Duration::from_millis(800);
        let dns = burst(&lab, 1, 20, ProbeProtocol::Udp, 53, answered);
        let https = burst(&lab, 101, 20, ProbeProtocol::Tcp, 443, answered);
        let ssh = burst(&lab, 201, 8, ProbeProtocol::Tcp, 22, Duration::from_millis(150));
        let elapsed = started.elapsed();
        observers.stop();
        assert!(dns.iter().chain(&https).all(|o| *o == SendOutcome::Reply), "{target}: {dns:?} {https:?}");
        assert!(ssh.iter().all(|o| *o == SendOutcome::Timeout), "{target}: {ssh:?}");

        let listing = sh(&format!("ip netns exec {gw} {listing_cmd}"));
        let iptables = target == "iptables";
        for (comment, rate, sent, accepted) in [
            ("edge allow/dns-to-edge", "1/minute", 20, Some(20)),
            ("edge dnat/https-to-web", "10/minute", 20, Some(20)),
            ("edge allow/web-in", "2/second", 20, Some(20)),
            ("edge policy/input", "1/minute", 8, None),
        ] {
            let logged = packets(&listing, comment, true, iptables);
            let most = allowance(rate, elapsed);
            assert!(
                (natc::vocab::LOG_BURST as u64..=most).contains(&logged),
                "{target}: {comment} logged {logged} of {sent} packets in {elapsed:?}; {rate} allows {}..={most}:\n{listing}",
                natc::vocab::LOG_BURST
            );
            if let Some(accepted) = accepted {
                assert_eq!(packets(&listing, comment, false, iptables), accepted, "{target}: {comment}:\n{listing}");
            }
        }
    }
}

/// The iptables refusal below 5/day (tests/invalid/log-14) is the kernel's: the legacy
/// xt_limit (iptables-legacy, firewalld's iptables backend on older boxes) loads natc's
/// rules at 5/day, the slowest rate natc writes for iptables, and refuses the same rules
/// at 1/day ("Numerical result out of range"); nft's limit takes both.
#[test]
fn xt_limit_loads_the_slowest_rate_natc_writes_and_refuses_a_slower_one() {
    common::require_root_and(&["unshare", "ip", "nft", "iptables-legacy-restore"]);
    let text = std::fs::read_to_string(intent()).expect("intent").replace("\"2/second\"", "\"5/day\"");
    let artifacts = common::build_text(&text, "iptables").expect("5/day builds for iptables");
    let rules = common::primary(&artifacts[0]).to_string();
    assert!(rules.contains("--limit 5/day --limit-burst 5"), "{rules}");
    let slower = text.replace("\"5/day\"", "\"1/day\"");
    assert!(common::build_text(&slower, "iptables").is_err(), "natc refuses 1/day for iptables");
    assert!(common::build_text(&slower, "nftables").is_ok(), "nftables writes 1/day");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ok.rules"), &rules).expect("write");
    std::fs::write(dir.path().join("slower.rules"), rules.replace("--limit 5/day", "--limit 1/day")).expect("write");
    let load = |file: &str| {
        Command::new("unshare")
            .args(["--net", "iptables-legacy-restore"])
            .arg(dir.path().join(file))
            .output()
            .expect("unshare runs")
    };
    let ok = load("ok.rules");
    assert!(ok.status.success(), "5/day: {}", String::from_utf8_lossy(&ok.stderr));
    let slower = load("slower.rules");
    assert!(!slower.status.success(), "the legacy kernel took 1/day with a burst of 5");
    // iptables-restore names only the COMMIT line; the same file at 2/day loads, so the
    // rate is what the kernel refused (2/day loads with a wrapped credit: natc refuses it too).
    std::fs::write(dir.path().join("two.rules"), rules.replace("--limit 5/day", "--limit 2/day")).expect("write");
    let two = load("two.rules");
    assert!(two.status.success(), "2/day: {}", String::from_utf8_lossy(&two.stderr));
}
