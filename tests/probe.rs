//! Probes on real veth links between throwaway network namespaces: the senders' outcomes and
//! the observers' view of what arrived where, directly and through a NAT gateway.
//!
//! These tests fail, never skip, when they cannot run: they need root, `ip`, `sysctl` and
//! `nft`. Traffic only flows between the namespaces each test creates and deletes.

mod common;

use natc::verify::probe::{Observation, Observers, Probe, ProbeProtocol, SendOutcome, Watch, send, source_port};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// Namespaces named `natcprobe-{pid}-{tag}-{node}`, deleted on drop so a failing assertion
/// leaves nothing behind.
struct Lab {
    tag: String,
    nodes: Vec<String>,
}

impl Lab {
    fn new(tag: &str, nodes: &[&str]) -> Lab {
        common::require_root_and(&["ip", "sysctl", "nft"]);
        let mut lab = Lab { tag: format!("natcprobe-{}-{tag}", std::process::id()), nodes: Vec::new() };
        for node in nodes {
            let name = lab.name(node);
            lab.nodes.push(name.clone());
            sh(&format!("ip netns add {name}\nip -n {name} link set lo up"));
        }
        lab
    }

    fn name(&self, node: &str) -> String {
        format!("{}-{node}", self.tag)
    }

    fn netns(&self, node: &str) -> PathBuf {
        PathBuf::from("/run/netns").join(self.name(node))
    }

    /// A veth pair between two nodes with an address on each end.
    fn link(&self, (a, a_if, a_addr): (&str, &str, &str), (b, b_if, b_addr): (&str, &str, &str)) {
        let (a, b) = (self.name(a), self.name(b));
        sh(&format!(
            "ip link add {a_if} netns {a} type veth peer name {b_if} netns {b}\n\
             ip -n {a} address add {a_addr} dev {a_if}\nip -n {b} address add {b_addr} dev {b_if}\n\
             ip -n {a} link set {a_if} up\nip -n {b} link set {b_if} up"
        ));
    }

    /// Run a script with `$NS` set to the node's namespace name.
    fn run(&self, node: &str, script: &str) {
        sh(&format!("NS={}\n{script}", self.name(node)));
    }

    fn watch(&self, node: &str, listen: bool) -> Watch {
        Watch { node: node.to_string(), netns: self.netns(node), listen }
    }

    fn send(&self, from: &str, key: u32, protocol: ProbeProtocol, to: [u8; 4], port: Option<u16>) -> SendOutcome {
        let timeout = Duration::from_millis(600);
        let probe = Probe { key, netns: self.netns(from), protocol, to: Ipv4Addr::from(to), port, timeout };
        let started = Instant::now();
        let outcome = send(&probe);
        assert!(started.elapsed() < timeout + Duration::from_millis(400), "probe {key} overran its timeout");
        outcome
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for name in &self.nodes {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

fn sh(script: &str) {
    let out = Command::new("sh").arg("-ec").arg(script).output().expect("sh runs");
    assert!(out.status.success(), "lab setup failed:\n{script}\n--- stderr\n{}", String::from_utf8_lossy(&out.stderr));
}

/// Observations at `node` of the probe `key`: by payload key, or by source port for TCP
/// SYNs whose key no listener read.
fn arrivals<'a>(seen: &'a [Observation], node: &str, key: u32) -> Vec<&'a Observation> {
    seen.iter()
        .filter(|o| o.node == node)
        .filter(|o| o.key == Some(key) || (o.protocol == ProbeProtocol::Tcp && o.source_port == Some(source_port(key))))
        .collect()
}

fn only_arrival<'a>(seen: &'a [Observation], node: &str, key: u32) -> &'a Observation {
    let found = arrivals(seen, node, key);
    assert_eq!(found.len(), 1, "probe {key} should arrive at {node} exactly once; seen: {seen:#?}");
    found[0]
}

fn addr(a: [u8; 4]) -> Ipv4Addr {
    Ipv4Addr::from(a)
}

fn obs(node: &str, protocol: ProbeProtocol, from: ([u8; 4], Option<u16>), to: ([u8; 4], Option<u16>)) -> Observation {
    Observation {
        node: node.into(),
        protocol,
        source: addr(from.0),
        destination: addr(to.0),
        source_port: from.1,
        destination_port: to.1,
        key: None,
    }
}

fn with_key(o: Observation, key: u32) -> Observation {
    Observation { key: Some(key), ..o }
}

fn timeout_or_unreachable(outcome: &SendOutcome) -> bool {
    matches!(outcome, SendOutcome::Timeout | SendOutcome::Unreachable { .. })
}

#[test]
fn probes_on_a_direct_link() {
    use ProbeProtocol::{Icmp, Tcp, Udp};
    let lab = Lab::new("direct", &["a", "b"]);
    lab.link(("a", "eth0", "10.99.0.1/24"), ("b", "eth0", "10.99.0.2/24"));
    let observers =
        Observers::start(&[lab.watch("a", true), lab.watch("b", true)], &[8080], &[5353]).expect("observers start");

    assert_eq!(lab.send("a", 1, Icmp, [10, 99, 0, 2], None), SendOutcome::Reply);
    assert_eq!(lab.send("a", 2, Tcp, [10, 99, 0, 2], Some(8080)), SendOutcome::Reply);
    assert_eq!(lab.send("a", 3, Udp, [10, 99, 0, 2], Some(5353)), SendOutcome::Reply);
    assert_eq!(lab.send("a", 4, Tcp, [10, 99, 0, 2], Some(9)), SendOutcome::Refused, "RST from b");
    assert_eq!(lab.send("a", 5, Udp, [10, 99, 0, 2], Some(9)), SendOutcome::Refused, "port unreachable from b");
    for (key, protocol, port) in [(6, Icmp, None), (7, Tcp, Some(8080)), (8, Udp, Some(5353))] {
        let outcome = lab.send("a", key, protocol, [10, 99, 0, 3], port);
        assert!(timeout_or_unreachable(&outcome), "{protocol:?} to nobody: {outcome:?}");
    }
    // A probe without a port cannot be sent.
    assert!(matches!(lab.send("a", 9, Tcp, [10, 99, 0, 2], None), SendOutcome::Error(_)));
    // The sender's own namespace is gone from under it: an error, not a panic.
    let gone = Probe {
        key: 10,
        netns: PathBuf::from("/run/netns/natcprobe-does-not-exist"),
        protocol: Icmp,
        to: addr([10, 99, 0, 2]),
        port: None,
        timeout: Duration::from_millis(100),
    };
    assert!(matches!(send(&gone), SendOutcome::Error(e) if e.contains("natcprobe-does-not-exist")));

    assert!(threads().contains(&"natc-watch-b".to_string()), "watchers run as named threads");
    let seen = observers.stop();
    assert!(!threads().contains(&"natc-watch-b".to_string()), "stop() left watcher threads: {:?}", threads());
    let (a, b) = ([10, 99, 0, 1], [10, 99, 0, 2]);
    assert_eq!(*only_arrival(&seen, "b", 1), with_key(obs("b", Icmp, (a, None), (b, None)), 1));
    assert_eq!(*only_arrival(&seen, "b", 2), with_key(obs("b", Tcp, (a, Some(source_port(2))), (b, Some(8080))), 2));
    assert_eq!(*only_arrival(&seen, "b", 3), with_key(obs("b", Udp, (a, Some(source_port(3))), (b, Some(5353))), 3));
    assert_eq!(*only_arrival(&seen, "b", 4), obs("b", Tcp, (a, Some(source_port(4))), (b, Some(9))), "no listener");
    assert_eq!(*only_arrival(&seen, "b", 5), with_key(obs("b", Udp, (a, Some(source_port(5))), (b, Some(9))), 5));
    for key in 6..=10 {
        assert!(arrivals(&seen, "b", key).is_empty(), "probe {key} was seen: {seen:#?}");
    }
    // Replies, SYN-ACKs, RSTs, UDP answers and ICMP errors coming back are not arrivals.
    assert!(seen.iter().all(|o| o.node == "b"), "the sender saw its own answers as probes: {seen:#?}");
}

/// a (10.99.1.1) — g (10.99.1.254 | 10.99.2.254) — c (10.99.2.1). g forwards, DNATs two
/// ports of its own address to c, masquerades towards c and rejects some traffic.
#[test]
fn probes_through_a_nat_gateway() {
    use ProbeProtocol::{Icmp, Tcp, Udp};
    let lab = Lab::new("nat", &["a", "g", "c"]);
    lab.link(("a", "eth0", "10.99.1.1/24"), ("g", "eth0", "10.99.1.254/24"));
    lab.link(("c", "eth0", "10.99.2.1/24"), ("g", "eth1", "10.99.2.254/24"));
    lab.run("a", "ip -n $NS route add default via 10.99.1.254");
    lab.run("c", "ip -n $NS route add default via 10.99.2.254");
    lab.run(
        "g",
        "ip netns exec $NS sysctl -qw net.ipv4.ip_forward=1\n\
         ip netns exec $NS nft -f - <<'EOF'\n\
         table ip natcprobe {\n\
           chain prerouting { type nat hook prerouting priority dstnat;\n\
             ip daddr 10.99.1.254 tcp dport 80 dnat to 10.99.2.1:8080\n\
             ip daddr 10.99.1.254 udp dport 53 dnat to 10.99.2.1:5353; }\n\
           chain postrouting { type nat hook postrouting priority srcnat; oifname \"eth1\" masquerade; }\n\
           chain forward { type filter hook forward priority filter;\n\
             tcp dport 9999 reject with icmp type admin-prohibited\n\
             udp dport 7777 reject with icmp type host-prohibited\n\
             ip daddr 10.99.2.99 reject with icmp type net-unreachable; }\n\
           chain input { type filter hook input priority filter; tcp dport 23 drop; }\n\
         }\n\
         EOF",
    );
    let watches = [lab.watch("a", true), lab.watch("g", false), lab.watch("c", true)];
    let observers = Observers::start(&watches, &[8080, 22], &[5353]).expect("observers start");

    assert_eq!(lab.send("a", 1, Tcp, [10, 99, 1, 254], Some(80)), SendOutcome::Reply, "DNAT to c:8080");
    assert_eq!(lab.send("a", 2, Udp, [10, 99, 1, 254], Some(53)), SendOutcome::Reply, "DNAT to c:5353");
    assert_eq!(lab.send("a", 3, Icmp, [10, 99, 2, 1], None), SendOutcome::Reply, "routed and masqueraded");
    assert_eq!(lab.send("a", 4, Tcp, [10, 99, 1, 254], Some(22)), SendOutcome::Refused, "g itself has no listener");
    let gateway = Some(addr([10, 99, 1, 254]));
    let prohibited = SendOutcome::Unreachable { from: gateway, what: "admin prohibited".into() };
    assert_eq!(lab.send("a", 5, Tcp, [10, 99, 2, 1], Some(9999)), prohibited);
    assert_eq!(lab.send("a", 6, Udp, [10, 99, 2, 1], Some(7777)), prohibited);
    let net_unreachable = SendOutcome::Unreachable { from: gateway, what: "net unreachable".into() };
    assert_eq!(lab.send("a", 7, Icmp, [10, 99, 2, 99], None), net_unreachable);
    // Raw sockets see a packet only after the input hook: what g's filter drops, g never saw.
    assert_eq!(lab.send("a", 8, Tcp, [10, 99, 1, 254], Some(23)), SendOutcome::Timeout);

    let seen = observers.stop();
    let (a, g_out, c) = ([10, 99, 1, 1], [10, 99, 2, 254], [10, 99, 2, 1]);
    assert_eq!(
        *only_arrival(&seen, "c", 1),
        with_key(obs("c", Tcp, (g_out, Some(source_port(1))), (c, Some(8080))), 1)
    );
    assert_eq!(
        *only_arrival(&seen, "c", 2),
        with_key(obs("c", Udp, (g_out, Some(source_port(2))), (c, Some(5353))), 2)
    );
    assert_eq!(*only_arrival(&seen, "c", 3), with_key(obs("c", Icmp, (g_out, None), (c, None)), 3));
    let to_g = obs("g", Tcp, (a, Some(source_port(4))), ([10, 99, 1, 254], Some(22)));
    assert_eq!(*only_arrival(&seen, "g", 4), to_g, "a gateway observes what is addressed to it");
    // Forwarded and input-dropped traffic is not delivered to g; rejected traffic never reaches c.
    for key in 1..=8 {
        assert!(key == 4 || arrivals(&seen, "g", key).is_empty(), "g saw forwarded probe {key}: {seen:#?}");
        assert!(key <= 3 || arrivals(&seen, "c", key).is_empty(), "c saw probe {key}: {seen:#?}");
    }
    assert!(seen.iter().all(|o| o.node != "a"), "a saw answers: {seen:#?}");
}

#[test]
fn watching_a_missing_namespace_names_the_node() {
    common::require_root_and(&[]);
    let watch = Watch { node: "ghost".into(), netns: "/run/netns/natcprobe-does-not-exist".into(), listen: true };
    let error = Observers::start(&[watch], &[], &[]).err().expect("a missing namespace is an error");
    assert!(error.contains("ghost"), "{error}");
}

#[test]
fn a_busy_port_is_an_error_naming_the_node() {
    let lab = Lab::new("busy", &["a"]);
    let first = Observers::start(&[lab.watch("a", true)], &[8080], &[]).expect("first listener");
    // SO_REUSEADDR does not let a second socket listen on the same port.
    let error = Observers::start(&[lab.watch("a", true)], &[8080], &[]).err().expect("the port is taken");
    assert!(error.contains("watch a:") && error.contains("8080"), "{error}");
    assert!(first.stop().is_empty());
}

/// The names of this process's threads (as the kernel truncates them, 15 bytes).
fn threads() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("procfs")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim_end().to_string())
        .collect()
}

/// a (10.99.1.1) — g (10.99.1.254 | 10.99.2.254) — c (10.99.2.1 and the hosts probed). g loads
/// natc's iptables output for 5,000 1:1 mappings (lookup trees for DNAT, SNAT and forward
/// allows; forward drops the rest). Probes to the first, a middle and the last mapping's public
/// address each reach their own host; mapping 1 (no allow) and an unmapped address do not; c
/// connecting from the last host reaches a as the last public address (the SNAT tree). TCP,
/// because its answers leave from the address a connection came to (a UDP echo on 0.0.0.0
/// answers from the route's source).
#[test]
fn probes_reach_the_first_middle_and_last_of_5000_mappings_through_the_tree() {
    use ProbeProtocol::Tcp;
    common::require_root_and(&["iptables-restore"]);
    let text = common::mappings_intent(5_000, &[1]);
    let artifacts = common::build_text(&text, "iptables").expect("the generated intent builds");
    let rules = common::primary(&artifacts[0]);
    assert!(rules.contains("\n:D-eth0-100.65.19.240/28 - [0:0]\n"), "not a tree");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("iptables.rules");
    std::fs::write(&file, rules).expect("write rules");

    let lab = Lab::new("tree", &["a", "g", "c"]);
    lab.link(("a", "eth0", "10.99.1.1/24"), ("g", "eth0", "10.99.1.254/24"));
    lab.link(("c", "eth0", "10.99.2.1/24"), ("g", "eth1", "10.99.2.254/24"));
    let probed = [0, 1, 2_500, 4_999];
    let hosts = probed.map(|i| common::mapping_addresses(i).1);
    let (last_public, last_host) = common::mapping_addresses(4_999);
    lab.run("a", "ip -n $NS route add default via 10.99.1.254");
    let mut c = String::new();
    for h in hosts {
        c.push_str(&format!("ip -n $NS address add {h}/32 dev eth0\n"));
    }
    c.push_str(&format!("ip -n $NS route add default via 10.99.2.254 src {last_host}\n"));
    lab.run("c", &c);
    lab.run(
        "g",
        &format!(
            "ip netns exec $NS sysctl -qw net.ipv4.ip_forward=1\n\
             ip -n $NS route add 10.100.0.0/16 via 10.99.2.1\n\
             ip netns exec $NS iptables-restore {}",
            file.display()
        ),
    );
    let watches = [lab.watch("a", true), lab.watch("c", true)];
    let observers = Observers::start(&watches, &[8080], &[]).expect("observers start");
    let public = |i: usize| common::mapping_addresses(i).0.octets();
    for (key, i) in [(1, 0), (2, 2_500), (3, 4_999)] {
        assert_eq!(lab.send("a", key, Tcp, public(i), Some(8080)), SendOutcome::Reply, "mapping {i}");
    }
    assert_eq!(lab.send("a", 4, Tcp, public(1), Some(8080)), SendOutcome::Timeout, "mapping 1 has no allow");
    let unmapped = lab.send("a", 5, Tcp, [100, 65, 200, 1], Some(8080));
    assert!(timeout_or_unreachable(&unmapped), "an unmapped address: {unmapped:?}");
    assert_eq!(lab.send("c", 6, Tcp, [10, 99, 1, 1], Some(8080)), SendOutcome::Reply, "c to a");

    let seen = observers.stop();
    let a = [10, 99, 1, 1];
    for (key, host) in [(1, hosts[0]), (2, hosts[2]), (3, hosts[3])] {
        let expected = obs("c", Tcp, (a, Some(source_port(key))), (host.octets(), Some(8080)));
        assert_eq!(*only_arrival(&seen, "c", key), with_key(expected, key), "probe {key}");
    }
    for key in [4, 5] {
        assert!(arrivals(&seen, "c", key).is_empty(), "probe {key} reached c: {seen:#?}");
    }
    let snat = obs("a", Tcp, (last_public.octets(), Some(source_port(6))), (a, Some(8080)));
    assert_eq!(*only_arrival(&seen, "a", 6), with_key(snat, 6), "c's last host leaves as its public address");
}

/// The firewalld script's lookup trees (80 mappings: DNAT, SNAT and forward allow trees of
/// direct chains) in g, loaded as firewalld orders them by priority with ties reversed: the
/// first, a middle and the last mapping reach their hosts, mapping 1 (no allow) does not, and
/// the last host goes out as its public address.
#[test]
fn probes_reach_mappings_through_firewalld_trees_ordered_by_priority() {
    use ProbeProtocol::Tcp;
    common::require_root_and(&["iptables-restore", "python3", "unshare"]);
    let text = common::mappings_intent(80, &[1]);
    let artifacts = common::build_text(&text, "firewalld").expect("the generated intent builds");
    let script = common::primary(&artifacts[0]);
    assert!(script.contains(" -j nD-eth0-100.65.0.64/28\n"), "not a tree");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display();
    std::fs::write(dir.path().join("firewalld.sh"), script).expect("write script");
    // The stand-in for firewalld's client loads ties of one priority in reverse order.
    let load = format!("D={d}\nexport NATC_FAKE_TIES=reversed\n{}", common::firewalld_direct_load());
    std::fs::write(dir.path().join("load.sh"), load).expect("write loader");

    let lab = Lab::new("fwtree", &["a", "g", "c"]);
    lab.link(("a", "eth0", "10.99.1.1/24"), ("g", "eth0", "10.99.1.254/24"));
    lab.link(("c", "eth0", "10.99.2.1/24"), ("g", "eth1", "10.99.2.254/24"));
    let hosts = [0, 40, 79].map(|i| common::mapping_addresses(i).1);
    let (last_public, last_host) = common::mapping_addresses(79);
    lab.run("a", "ip -n $NS route add default via 10.99.1.254");
    let mut c = String::new();
    for h in hosts {
        c.push_str(&format!("ip -n $NS address add {h}/32 dev eth0\n"));
    }
    c.push_str(&format!("ip -n $NS route add default via 10.99.2.254 src {last_host}\n"));
    lab.run("c", &c);
    lab.run("g", &format!("ip -n $NS route add 10.100.0.0/16 via 10.99.2.1\nip netns exec $NS sh {d}/load.sh"));
    let observers = Observers::start(&[lab.watch("a", true), lab.watch("c", true)], &[8080], &[]).expect("observers");
    let public = |i: usize| common::mapping_addresses(i).0.octets();
    for (key, i) in [(1, 0), (2, 40), (3, 79)] {
        assert_eq!(lab.send("a", key, Tcp, public(i), Some(8080)), SendOutcome::Reply, "mapping {i}");
    }
    assert_eq!(lab.send("a", 4, Tcp, public(1), Some(8080)), SendOutcome::Timeout, "mapping 1 has no allow");
    assert_eq!(lab.send("c", 5, Tcp, [10, 99, 1, 1], Some(8080)), SendOutcome::Reply, "c to a");
    let seen = observers.stop();
    let a = [10, 99, 1, 1];
    for (key, host) in [(1, hosts[0]), (2, hosts[1]), (3, hosts[2])] {
        let expected = obs("c", Tcp, (a, Some(source_port(key))), (host.octets(), Some(8080)));
        assert_eq!(*only_arrival(&seen, "c", key), with_key(expected, key), "probe {key}");
    }
    assert!(arrivals(&seen, "c", 4).is_empty(), "mapping 1 reached c: {seen:#?}");
    let snat = obs("a", Tcp, (last_public.octets(), Some(source_port(5))), (a, Some(8080)));
    assert_eq!(*only_arrival(&seen, "a", 5), with_key(snat, 5), "c's last host leaves as its public address");
}
