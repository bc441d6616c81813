//! `tcp_mss` proven with real packets: a client and a server namespace on either side of a
//! gateway namespace loaded with natc's output (nftables, iptables, firewalld's direct rules
//! through a stand-in firewall-cmd). A TCP SYN is sent through the gateway and the MSS
//! option it arrives with is read at the receiver from a raw socket. Each case also runs
//! without natc's rules, where the SYN must arrive unclamped: the judge can say no.
//!
//! These tests fail, never skip, when they cannot run (root, unshare, nsenter, python3).

mod common;

use std::process::Command;

const INTENT: &str = r#"
natc = 1
name = "mss-lab"

[[gateway]]
name = "gw"
targets = ["nftables", "iptables", "firewalld"]

[[gateway.interface]]
name = "eth0"
address = "10.0.1.1/24"

[[gateway.interface]]
name = "eth1"
address = "10.0.2.1/24"
tcp_mss = TCP_MSS
"#;

/// Reads the first SYN to port 5001 from a raw socket and prints its MSS option.
const READ_MSS: &str = include_str!("firewalld/read_mss.py");

fn load(target: &str) -> String {
    match target {
        "nftables" => "sh \"$D/nftables-setup.sh\"\nnft -f \"$D/nftables.nft\"\n".into(),
        "iptables" => "sh \"$D/iptables-setup.sh\"\niptables-restore \"$D/iptables.rules\"\n".into(),
        "firewalld" => common::firewalld_direct_load(),
        other => panic!("not a Linux target: {other}"),
    }
}

/// The MSS a SYN arrives with, sent from the client (10.0.1.2, behind eth0) to the server
/// (10.0.2.2, behind eth1) or back (`from_server`). `client_advmss` lowers what the client
/// announces; `eth1_mtu` is the gateway's MTU towards the server; `rules` loads natc's output.
fn arriving_mss(
    tcp_mss: &str,
    target: &str,
    rules: bool,
    from_server: bool,
    client_advmss: Option<u16>,
    eth1_mtu: u16,
) -> String {
    common::require_root_and(&["unshare", "nsenter", "ip", "nft", "iptables-restore", "python3"]);
    let intent = INTENT.replace("TCP_MSS", tcp_mss);
    let artifacts = common::build_text(&intent, target).expect("the MSS lab builds");
    let dir = tempfile::tempdir().expect("tempdir");
    for f in &artifacts[0].files {
        std::fs::write(dir.path().join(&f.name), &f.contents).expect("write file");
    }
    std::fs::write(dir.path().join("read_mss.py"), READ_MSS).expect("write reader");
    let advmss = client_advmss.map(|m| format!(" advmss {m}")).unwrap_or_default();
    let (sender, receiver, to) = if from_server { ("$S", "$C", "10.0.1.2") } else { ("$C", "$S", "10.0.2.2") };
    let mut script = format!(
        "ip link set lo up\n\
         unshare --net sleep 60 & C=$!\n\
         unshare --net sleep 60 & S=$!\n\
         trap 'kill $C $S' EXIT\n\
         sleep 0.2\n\
         ip link add eth0 type veth peer name c0\n\
         ip link add eth1 type veth peer name s0\n\
         ip link set c0 netns $C\n\
         ip link set s0 netns $S\n\
         ip link set eth0 up\n\
         ip link set eth1 up mtu {eth1_mtu}\n\
         ip address add 10.0.1.1/24 dev eth0\n\
         ip address add 10.0.2.1/24 dev eth1\n\
         sysctl -qw net.ipv4.ip_forward=1\n\
         nsenter --net=/proc/$C/ns/net sh -ec 'ip link set lo up; ip link set c0 up; ip address add 10.0.1.2/24 dev c0; ip route add default via 10.0.1.1{advmss}'\n\
         nsenter --net=/proc/$S/ns/net sh -ec 'ip link set lo up; ip link set s0 up mtu {eth1_mtu}; ip address add 10.0.2.2/24 dev s0; ip route add default via 10.0.2.1'\n"
    );
    if rules {
        script.push_str(&load(target));
    }
    script.push_str(&format!(
        "nsenter --net=/proc/{receiver}/ns/net python3 \"$D/read_mss.py\" \"$D/ready\" > \"$D/mss\" & R=$!\n\
         while [ ! -e \"$D/ready\" ]; do sleep 0.05; done\n\
         nsenter --net=/proc/{sender}/ns/net python3 -c 'import socket; s = socket.socket(); s.settimeout(1); s.connect_ex((\"{to}\", 5001))'\n\
         wait $R\n\
         cat \"$D/mss\"\n"
    ));
    let out = Command::new("unshare")
        .args(["--net", "sh", "-ec", &script])
        .env("D", dir.path())
        .output()
        .expect("unshare runs");
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success(),
        "the MSS lab failed for {target}:\n--- stderr\n{}\n--- stdout\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn a_fixed_tcp_mss_clamps_syns_both_ways_on_every_linux_target() {
    for target in common::LINUX_TARGETS {
        // The judge: without natc's rules the client's 1460 (a 1500-byte veth) arrives as it is.
        assert_eq!(arriving_mss("1300", target, false, false, None, 1500), "1460", "{target}: no rules");
        assert_eq!(arriving_mss("1300", target, true, false, None, 1500), "1300", "{target}: leaving through eth1");
        assert_eq!(arriving_mss("1300", target, true, true, None, 1500), "1300", "{target}: arriving through eth1");
        // A clamp only lowers: a host that announces less keeps its value.
        assert_eq!(arriving_mss("1300", target, true, false, Some(1000), 1500), "1000", "{target}: smaller MSS");
    }
}

#[test]
fn tcp_mss_auto_clamps_to_the_route_mtu() {
    for target in common::LINUX_TARGETS {
        // eth1 has MTU 1400: a SYN leaving through it may announce 1360 at most.
        assert_eq!(arriving_mss("\"auto\"", target, false, false, None, 1400), "1460", "{target}: no rules");
        assert_eq!(arriving_mss("\"auto\"", target, true, false, None, 1400), "1360", "{target}: auto");
        // "auto" lowers only, too: 1000 stays 1000 below the route's 1360.
        assert_eq!(arriving_mss("\"auto\"", target, true, false, Some(1000), 1400), "1000", "{target}: smaller");
    }
}

/// Tunnels: a route-based one is clamped on its VTI/XFRM interface, a policy-based one by
/// its remote selectors, both directions. (The Linux targets render these clamps once they
/// take tunnels; here the shared rules are read directly.)
#[test]
fn tunnel_clamps_match_the_vti_or_the_remote_selectors() {
    let intent = r#"
natc = 1
name = "mss-tunnels"

[[gateway]]
name = "gw"
targets = ["nftables"]

[[gateway.interface]]
name = "eth0"
address = "192.0.2.1/24"

[[gateway.tunnel]]
name = "routed"
remote = "203.0.113.9"
local_address = "192.0.2.1"
psk = { env = "A_PSK" }
vti = { name = "xfrm1", address = "169.254.0.1/30", mtu = 1400 }
tcp_mss = "auto"

[[gateway.tunnel]]
name = "policy"
remote = "203.0.113.10"
local_address = "192.0.2.1"
psk = { env = "B_PSK" }
local_networks = ["10.1.0.0/24"]
remote_networks = ["10.2.0.0/24", "10.3.0.9/32"]
tcp_mss = 1360
"#;
    let compiled = natc::compile(intent).unwrap_or_else(|e| panic!("{e:#?}"));
    let rules: Vec<String> =
        natc::backend::mss::clamps(&compiled.plan.gateways[0]).iter().map(natc::backend::mss::nft_rule).collect();
    let syn = "tcp flags & (syn | rst) == syn";
    let fixed = "tcp option maxseg size > 1360 tcp option maxseg size set 1360";
    assert_eq!(
        rules,
        [
            format!("oifname \"xfrm1\" {syn} tcp option maxseg size set rt mtu comment \"gw tunnel/routed\""),
            format!("iifname \"xfrm1\" {syn} tcp option maxseg size set rt mtu comment \"gw tunnel/routed\""),
            format!("ip daddr 10.2.0.0/24 {syn} {fixed} comment \"gw tunnel/policy\""),
            format!("ip daddr 10.3.0.9 {syn} {fixed} comment \"gw tunnel/policy\""),
            format!("ip saddr 10.2.0.0/24 {syn} {fixed} comment \"gw tunnel/policy\""),
            format!("ip saddr 10.3.0.9 {syn} {fixed} comment \"gw tunnel/policy\""),
        ]
    );
}
