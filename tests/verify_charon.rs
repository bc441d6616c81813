//! verify's charon layer on its own, as root, with a hand-written swanctl.conf (so that it
//! is proven apart from the strongswan target's output): one charon per gateway namespace
//! brings a policy-based tunnel up over the lab's wire with userspace ESP, the lab-only
//! address lands on `lo`, and a pre-shared key mismatch is reported as a tunnel that did
//! not come up, with charon's own words. Never skipped.

mod common;

use natc::backend::OutputFile;
use natc::verify::netns::LabNamespaces;
use natc::verify::topology::Topology;
use natc::verify::tunnels::Tunnels;

const INTENT: &str = r#"
natc = 1
name = "charon-pair"
[[gateway]]
name = "a"
targets = ["nftables"]
[[gateway.interface]]
name = "eth1"
address = "203.0.113.1/24"
[[gateway.tunnel]]
name = "to-b"
remote = "203.0.113.2"
psk = { env = "NATC_CHARON_TEST_PSK" }
local_networks = ["192.168.10.0/24"]
remote_networks = ["192.168.20.0/24"]
[[gateway]]
name = "b"
targets = ["nftables"]
[[gateway.interface]]
name = "eth1"
address = "203.0.113.2/24"
[[gateway.tunnel]]
name = "to-a"
remote = "203.0.113.1"
psk = { env = "NATC_CHARON_TEST_PSK" }
local_networks = ["192.168.20.0/24"]
remote_networks = ["192.168.10.0/24"]
[[lab.link]]
ends = ["a.eth1", "b.eth1"]
"#;

/// What the strongswan target writes for such a tunnel, by hand.
fn swanctl_conf(name: &str, local: &str, remote: &str, local_ts: &str, remote_ts: &str, psk: &str) -> String {
    format!(
        r#"connections {{
    {name} {{
        version = 2
        local_addrs = {local}
        remote_addrs = {remote}
        proposals = aes128-sha256-modp2048
        local {{
            auth = psk
            id = {local}
        }}
        remote {{
            auth = psk
            id = {remote}
        }}
        children {{
            {name} {{
                local_ts = {local_ts}
                remote_ts = {remote_ts}
                esp_proposals = aes128-sha256-modp2048
                start_action = start
            }}
        }}
    }}
}}
secrets {{
    ike-{name} {{
        id-1 = {local}
        id-2 = {remote}
        secret = "{psk}"
    }}
}}
"#
    )
}

fn run(psk_a: &str, psk_b: &str) -> (Vec<natc::lab::TunnelResult>, Vec<String>, String) {
    common::require_root_and(&["ip", "swanctl", "/usr/lib/ipsec/charon"]);
    let compiled = natc::compile(INTENT).expect("valid intent");
    let topology = Topology::new(&compiled.plan.gateways, compiled.plan.lab.as_ref().expect("a lab"));
    let lab = LabNamespaces::create(&topology, &LabNamespaces::unique_prefix()).expect("the lab");
    let files = vec![
        (
            "a".to_string(),
            OutputFile::new(
                "natc.conf",
                swanctl_conf("to-b", "203.0.113.1", "203.0.113.2", "192.168.10.0/24", "192.168.20.0/24", psk_a),
                true,
            ),
        ),
        (
            "b".to_string(),
            OutputFile::new(
                "natc.conf",
                swanctl_conf("to-a", "203.0.113.2", "203.0.113.1", "192.168.20.0/24", "192.168.10.0/24", psk_b),
                true,
            ),
        ),
    ];
    let tunnels = Tunnels::start(&lab, &topology, &compiled.plan, &files).expect("charons start and load");
    let results = tunnels.wait();
    let a = topology.node("a").expect("a");
    let out = std::process::Command::new("ip")
        .args(["-n", lab.namespace(a), "-o", "address", "show", "dev", "lo"])
        .output()
        .expect("ip runs");
    let routes = std::process::Command::new("ip")
        .args(["-n", lab.namespace(a), "route", "show", "table", "220"])
        .output()
        .expect("ip runs");
    (
        results,
        tunnels.adjustments.clone(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&routes.stdout)),
    )
}

#[test]
fn one_charon_per_gateway_brings_a_policy_tunnel_up_over_the_lab() {
    let (results, adjustments, a_state) = run("same-key-0123456789", "same-key-0123456789");
    assert_eq!(results.len(), 2, "{results:?}");
    for r in &results {
        assert!(r.up && r.passed(), "{r:?}");
        assert!(r.encapsulated, "libipsec always encapsulates: {r:?}");
        assert!(r.state.contains("ESTABLISHED between 203.0.113."), "{r:?}");
    }
    // The lab-only address libipsec needs, and the route it then installs through ipsec0.
    assert!(adjustments.iter().any(|l| l.starts_with("192.168.10.254/32 on a's lo")), "{adjustments:?}");
    assert!(a_state.contains("inet 192.168.10.254/32"), "{a_state}");
    assert!(a_state.contains("192.168.20.0/24 dev ipsec0"), "{a_state}");
}

#[test]
fn a_key_mismatch_is_a_tunnel_that_did_not_come_up_with_charons_log() {
    let (results, _, _) = run("one-key-0123456789", "another-key-0123456789");
    assert_eq!(results.len(), 2, "{results:?}");
    for r in &results {
        assert!(!r.up && !r.passed(), "{r:?}");
        assert!(!r.log.is_empty(), "{r:?}");
    }
    let logs: Vec<&String> = results.iter().flat_map(|r| &r.log).collect();
    assert!(logs.iter().any(|l| l.contains("AUTHENTICATION_FAILED")), "{logs:#?}");
}
