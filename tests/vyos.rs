//! The VyOS target: every example × profile is snapshotted for review and checked line by
//! line against natc's own grammar of the VyOS nodes it writes (tests/common/grammar/,
//! 1.4 for vyos@1.4 and 1.5 for vyos@1.5); semantic assertions say what the lines must mean.

mod common;

use natc::Artifact;
use std::collections::BTreeSet;

const PROFILES: [(&str, &str); 2] = [("vyos@1.4", "1.4"), ("vyos@1.5", "1.5")];

fn build(path: &str, target: &str) -> Vec<Artifact> {
    common::build(&common::root().join(path), target).unwrap_or_else(|e| panic!("{path} must build for {target}:\n{e}"))
}

fn set_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("set ")).collect()
}

#[test]
fn every_example_builds_and_passes_the_vyos_grammar() {
    for path in common::vyos_examples() {
        for (target, schema) in PROFILES {
            let artifacts = common::build(&path, target)
                .unwrap_or_else(|e| panic!("{} must build for {target}:\n{e}", common::stem(&path)));
            assert!(!artifacts.is_empty());
            for a in &artifacts {
                let (ok, report) = common::vyos_check(common::primary(a), schema);
                assert!(
                    ok,
                    "{} {} {target}: the VyOS {schema} checks refused:\n{report}",
                    common::stem(&path),
                    a.gateway
                );
            }
        }
    }
}

#[test]
fn snapshots_of_every_example() {
    for path in common::vyos_examples() {
        let artifacts = build(path.to_str().expect("utf-8 path"), "vyos@1.4");
        insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("{}@vyos", common::stem(&path)), common::snapshot_text(&artifacts));
        });
    }
}

/// Every path natc writes has the same syntax in both releases: the 1.5 output differs
/// from the 1.4 output only in the header naming the profile (and both pass their own
/// grammar above). If a future change makes the syntax differ, this test says where.
#[test]
fn the_profiles_differ_only_in_the_header() {
    for path in common::vyos_examples() {
        let p = path.to_str().expect("utf-8 path");
        let v14 = common::snapshot_text(&build(p, "vyos@1.4"));
        let v15 = common::snapshot_text(&build(p, "vyos@1.5"));
        let normalised = v15.replace("vyos@1.5", "vyos@1.4").replace("VyOS 1.5 (circinus)", "VyOS 1.4 (sagitta)");
        assert_eq!(v14, normalised, "{p}");
        assert_ne!(v14, v15, "{p}: the header must name the profile");
    }
}

/// Negative controls: natc's VyOS grammar accepts a rule as natc writes it and refuses
/// each way a line can be wrong, in both versions.
#[test]
fn the_vyos_grammar_rejects_a_broken_line() {
    let good =
        "set nat source rule 1000 outbound-interface name 'eth0'\nset nat source rule 1000 description 'gw snat/x'\n";
    for (_, version) in PROFILES {
        let (ok, report) = common::vyos_check(good, version);
        assert!(ok, "{report}");
        for (broken, why) in [
            // 1.3's form: 1.4 moved the interface under `name`.
            ("set nat source rule 10 outbound-interface 'eth0'", "not a node natc writes"),
            ("set nat source rule 10 outbund-interface name 'eth0'", "`outbund-interface`"),
            ("set firewall ipv4 forward filter rule 1 ipsec match-ipsec", "`ipsec`"),
            ("set nat source rule 1000000 description 'x'", "1..999999"),
            ("set nat source rule 0 description 'x'", "1..999999"),
            ("set nat destination rule 10 translation address 'masquerade'", "masquerade"),
            ("set nat source rule 10 source address '192.168.1.1/24'", "address-match"),
            ("set nat source rule 10 destination port '0'", "port-list"),
            ("set nat source rule 10 description two words", "takes one value"),
            ("set nat source rule 10 description 'x' 'y'", "takes one value"),
            ("set nat source rule 10 description 'it's'", "not closed"),
            ("set nat source rule 10 description x;reboot", "outside single quotes"),
            ("set nat source rule 10 protocol tcp", "not in single quotes"),
            ("set interfaces vti vti0 mtu '67'", "68..16000"),
            ("set interfaces vti tun0 address '10.0.0.1/30'", "vti-name"),
            ("set interfaces ethernet eth0 address '10.0.0.0/24'", "ipv4-host"),
            ("set vpn ipsec ike-group x proposal 1 dh-group '3'", "dh-group"),
            ("set vpn ipsec site-to-site peer 203.0.113.1 ike-group 'x'", "peer-name"),
            ("set vpn ipsec options disable-route-autoinstall 'yes'", "takes no value"),
            ("set protocols bgp neighbor 192.0.2.1 timers keepalive '0'", "1..65535"),
            ("set nat source rule 10", "not a node natc sets"),
            ("commit", "only set and delete"),
        ] {
            let (ok, report) = common::vyos_check(&format!("{good}{broken}\n"), version);
            assert!(!ok && report.contains(broken) && report.contains(why), "{version}: {broken}:\n{report}");
        }
        // Across the lines: a peer names an IKE group nobody set.
        let (ok, report) =
            common::vyos_check(&format!("{good}set vpn ipsec site-to-site peer x ike-group 'missing'\n"), version);
        assert!(!ok && report.contains("vpn ipsec ike-group missing"), "{report}");
        // One input sets a single-valued leaf once.
        let (ok, report) = common::vyos_check(&format!("{good}set nat source rule 1000 description 'y'\n"), version);
        assert!(!ok && report.contains("keeps one value"), "{report}");
        let (ok, report) = common::vyos_check(
            &format!("{good}delete nat source rule 1000\nset nat source rule 1000 description 'y'\n"),
            version,
        );
        assert!(ok, "{report}");
    }
}

#[test]
fn seed_004_vyos_box_has_its_tunnels_psk_placeholders_and_bgp() {
    let text = common::primary_of("examples/seed-004-vyos-rtx.toml", "vyos", "vyos-project-a");
    for (name, remote, vti, env) in [
        ("vpc-tunnel-1", "203.0.113.51", "vti0", "VPC_TUNNEL1_PSK"),
        ("vpc-tunnel-2", "203.0.113.62", "vti1", "VPC_TUNNEL2_PSK"),
    ] {
        let peer = format!("set vpn ipsec site-to-site peer {name}");
        for line in [
            format!("{peer} remote-address '{remote}'"),
            format!("{peer} local-address '192.168.0.9'"),
            format!("{peer} authentication mode 'pre-shared-secret'"),
            format!("{peer} ike-group '{name}'"),
            format!("{peer} vti bind '{vti}'"),
            format!("{peer} vti esp-group '{name}'"),
            format!("{peer} force-udp-encapsulation"),
            format!("set vpn ipsec authentication psk {name} id '192.168.0.9'"),
            format!("set vpn ipsec authentication psk {name} id '{remote}'"),
            format!("set vpn ipsec authentication psk {name} secret '@@natc-secret:env:{env}@@'"),
            format!("set vpn ipsec ike-group {name} key-exchange 'ikev1'"),
            format!("set vpn ipsec ike-group {name} proposal 1 dh-group '2'"),
            format!("set vpn ipsec ike-group {name} dead-peer-detection action 'restart'"),
            format!("set vpn ipsec esp-group {name} pfs 'enable'"),
            format!("set interfaces vti {vti} mtu '1436'"),
            // tcp_mss = 1396 (the VTI's MTU minus 40), instead of accepting N214.
            format!("set interfaces vti {vti} ip adjust-mss '1396'"),
            // No remote_id: the peer proves its address.
            format!("{peer} authentication remote-id '{remote}'"),
        ] {
            assert!(text.lines().any(|l| l == line), "missing `{line}`:\n{text}");
        }
    }
    assert!(text.contains("set vpn ipsec interface 'eth0'\n"), "{text}");
    assert!(text.contains("set vpn ipsec options disable-route-autoinstall\n"), "{text}");
    assert!(text.contains("set interfaces vti vti0 address '169.254.28.86/30'\n"), "{text}");
    assert!(text.contains("set protocols static route 0.0.0.0/0 next-hop 192.168.0.1\n"), "{text}");
    assert!(text.contains("set protocols bgp system-as '65000'\n"), "{text}");
    assert!(text.contains("set protocols bgp address-family ipv4-unicast network 0.0.0.0/0\n"), "{text}");
    for n in ["169.254.28.85", "169.254.28.37"] {
        for line in [
            format!("set protocols bgp neighbor {n} remote-as '17493'"),
            format!("set protocols bgp neighbor {n} address-family ipv4-unicast"),
            format!("set protocols bgp neighbor {n} timers holdtime '30'"),
            format!("set protocols bgp neighbor {n} timers keepalive '30'"),
        ] {
            assert!(text.lines().any(|l| l == line), "missing `{line}`:\n{text}");
        }
    }
    assert_eq!(text.matches("remote-as '17493'").count(), 2, "{text}");
    // The obsolete 2015 syntax is gone.
    for old in ["nat-traversal", "ipsec-interfaces", "pre-shared-secret '", "protocols bgp 65000", "gateway-address"] {
        assert!(!text.contains(old), "obsolete `{old}`:\n{text}");
    }
}

#[test]
fn psk_values_never_reach_the_output() {
    // SAFETY of the test: only this test sets the variable, to a value no output could contain by accident.
    let secret = "natc-test-secret-value-9f3c";
    // SAFETY: tests in this binary do not read this variable concurrently.
    unsafe { std::env::set_var("VPC_TUNNEL1_PSK", secret) };
    let text = common::snapshot_text(&build("examples/seed-004-vyos-rtx.toml", "vyos"));
    assert!(!text.contains(secret), "{text}");
    assert!(text.contains("@@natc-secret:env:VPC_TUNNEL1_PSK@@"), "{text}");
}

#[test]
fn netmap_becomes_two_one_to_one_prefix_translations() {
    let text = common::primary_of("examples/seed-002-overlap-vyos.toml", "vyos", "utm-a");
    let rule = |tree: &str, desc: &str| -> Vec<String> {
        let number = text
            .lines()
            .find_map(|l| {
                l.strip_prefix(&format!("set nat {tree} rule "))
                    .and_then(|r| r.strip_suffix(&format!(" description '{desc}'")))
            })
            .unwrap_or_else(|| panic!("no {tree} rule `{desc}`:\n{text}"))
            .to_string();
        let prefix = format!("set nat {tree} rule {number} ");
        text.lines().filter_map(|l| l.strip_prefix(&prefix)).map(str::to_string).collect()
    };
    let snat = rule("source", "utm-a netmap/vpc-a (snat)");
    for leaf in [
        "outbound-interface name 'eth1'",
        "source address '192.168.1.0/24'",
        "destination address '192.168.20.0/24'",
        "translation address '192.168.10.0/24'",
    ] {
        assert!(snat.iter().any(|l| l == leaf), "snat lacks `{leaf}`: {snat:?}");
    }
    let dnat = rule("destination", "utm-a netmap/vpc-a (dnat)");
    for leaf in [
        "inbound-interface name 'eth1'",
        "source address '192.168.20.0/24'",
        "destination address '192.168.10.0/24'",
        "translation address '192.168.1.0/24'",
    ] {
        assert!(dnat.iter().any(|l| l == leaf), "dnat lacks `{leaf}`: {dnat:?}");
    }
    assert_eq!(text.matches(" translation address ").count(), 2, "{text}");
}

#[test]
fn seed_000_loopback_claims_and_stateful_forward_filter() {
    let text = common::primary_of("examples/seed-000-powervs.toml", "vyos", "natgw");
    assert!(text.contains("set interfaces loopback lo address '192.168.82.70/32'\n"), "{text}");
    assert!(text.contains("set interfaces loopback lo address '192.168.82.71/32'\n"), "{text}");
    assert!(text.contains("set firewall ipv4 forward filter default-action 'drop'\n"), "{text}");
    assert!(text.contains("set firewall ipv4 forward filter rule 1 state 'established'\n"), "{text}");
    assert!(text.contains("set firewall ipv4 forward filter rule 1 state 'related'\n"), "{text}");
    // Input is "drop" plus ssh and ICMP, as the seed's public zone.
    assert!(text.contains("set firewall ipv4 input filter default-action 'drop'\n"), "{text}");
    assert!(text.contains("set firewall ipv4 input filter rule 2 inbound-interface name 'lo'\n"), "{text}");
    assert!(text.contains("destination port '22'\n"), "{text}");
    assert_eq!(text.matches(" translation address '192.168.150.").count(), 2, "{text}");
}

#[test]
fn every_rule_carries_its_origin_as_description() {
    for path in common::vyos_examples() {
        for a in build(path.to_str().expect("utf-8"), "vyos") {
            let text = common::primary(&a);
            let rules: BTreeSet<String> = set_lines(text)
                .iter()
                .filter_map(|l| {
                    let words: Vec<&str> = l.split(' ').collect();
                    let i = words.iter().position(|w| *w == "rule")?;
                    Some(words[..=i + 1].join(" "))
                })
                .collect();
            for r in rules {
                assert!(
                    text.contains(&format!("{r} description '{} ", a.gateway)),
                    "{}: {r} has no origin description",
                    common::stem(&path)
                );
            }
        }
    }
}

fn fifty_dnats(insert_new: bool) -> String {
    let mut text = String::from(
        "natc = 1\nname = \"many\"\n[[gateway]]\nname = \"gw\"\n[[gateway.interface]]\nname = \"eth0\"\naddress = \"10.0.0.1/16\"\n",
    );
    for i in 0..50 {
        if insert_new && i == 25 {
            text.push_str("[[gateway.dnat]]\nname = \"new-web\"\ndestination = \"10.9.0.99\"\nto = \"10.8.0.99\"\nprotocol = \"tcp\"\nport = 443\n");
        }
        text.push_str(&format!(
            "[[gateway.dnat]]\nname = \"web-{i}\"\ndestination = \"10.9.0.{i}\"\nto = \"10.8.0.{i}\"\nin_interface = \"eth0\"\n"
        ));
    }
    text
}

#[test]
fn adding_one_dnat_in_the_middle_changes_only_its_own_lines() {
    let before = common::build_text(&fifty_dnats(false), "vyos").expect("builds");
    let after = common::build_text(&fifty_dnats(true), "vyos").expect("builds");
    let (before, after) = (common::primary(&before[0]), common::primary(&after[0]));
    assert_eq!(set_lines(before).len(), 1 + 50 * 4, "{before}");
    let (removed, added) = common::line_diff(before, after);
    assert!(removed.is_empty(), "lines removed: {removed:#?}");
    let number = added
        .iter()
        .find_map(|l| {
            l.strip_prefix("set nat destination rule ").and_then(|r| r.strip_suffix(" description 'gw dnat/new-web'"))
        })
        .expect("the new rule has a description")
        .to_string();
    for line in &added {
        assert!(
            line == "# gw dnat/new-web" || line.starts_with(&format!("set nat destination rule {number} ")),
            "a line that is not the new rule's changed: {line}"
        );
    }
    assert_eq!(added.len(), 1 + 5, "{added:#?}");
    // Also line by line in order: the new block is one contiguous insertion.
    let (b, a): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    let start = b.iter().zip(&a).position(|(x, y)| x != y).expect("something changed");
    assert_eq!(&a[..start], &b[..start]);
    assert_eq!(&a[start + added.len()..], &b[start..]);
}

const HOSTILE: &str = "it's'; delete system; echo \"$(reboot)\" `x` !1";

fn hostile_intent() -> String {
    format!(
        "natc = 1\nname = \"hostile\"\ndescription = \"line one\\nset system host-name pwned\"\n[[gateway]]\nname = \"gw\"\n[[gateway.interface]]\nname = \"eth0\"\naddress = \"10.0.0.1/24\"\ndescription = {}\n",
        toml_string(HOSTILE)
    )
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[test]
fn a_hostile_description_stays_inside_one_quoted_value() {
    let artifacts = common::build_text(&hostile_intent(), "vyos").expect("builds");
    let text = common::primary(&artifacts[0]);
    for (_, schema) in PROFILES {
        let (ok, report) = common::vyos_check(text, schema);
        assert!(ok, "{report}\n{text}");
    }
    let line = text.lines().find(|l| l.contains(" description ")).expect("description line");
    // Split the line as a POSIX shell does (python's shlex), independently of natc's grammar.
    let out = std::process::Command::new("python3")
        .args(["-c", "import shlex,sys; print('\\n'.join(shlex.split(sys.stdin.read())))"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().expect("stdin").write_all(line.as_bytes())?;
            c.wait_with_output()
        })
        .expect("python3 runs");
    let words: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    assert_eq!(words, ["set", "interfaces", "ethernet", "eth0", "description", HOSTILE], "{line}");
    // The intent description's line break cannot start a command.
    assert!(!text.lines().any(|l| l.starts_with("set system")), "{text}");
}

#[test]
fn a_tunnel_interface_is_written_with_a_warning() {
    let text = "natc = 1\nname = \"link\"\n[[gateway]]\nname = \"gw\"\n[[gateway.interface]]\nname = \"tun0\"\naddress = \"198.19.0.1/30\"\n";
    let artifacts = common::build_text(text, "vyos").expect("builds");
    for a in &artifacts {
        assert!(common::primary(a).contains("set interfaces tunnel tun0 address "), "{}", common::primary(a));
        assert!(
            a.warnings.iter().any(|w| !w.is_error() && w.message.contains("interface/tun0")),
            "{}: {:?}",
            a.gateway,
            a.warnings
        );
    }
}

#[test]
fn proxy_arp_is_the_interface_setting_plus_the_host_route() {
    let text = "natc = 1\nname = \"parp\"\n[[gateway]]\nname = \"gw\"\n[[gateway.interface]]\nname = \"eth0\"\naddress = \"192.168.100.2/24\"\n[[gateway.interface]]\nname = \"eth1\"\naddress = \"192.168.200.2/24\"\n[[gateway.dnat]]\nname = \"phantom\"\ndestination = \"192.168.100.3\"\nto = \"192.168.200.3\"\nin_interface = \"eth0\"\nclaim = \"proxy-arp\"\n";
    let artifacts = common::build_text(text, "vyos").expect("builds");
    let out = common::primary(&artifacts[0]);
    assert!(out.contains("set interfaces ethernet eth0 ip enable-proxy-arp\n"), "{out}");
    assert!(out.contains("set protocols static route 192.168.100.3/32 interface eth1\n"), "{out}");
    let (ok, report) = common::vyos_check(out, "1.4");
    assert!(ok, "{report}");
}

#[test]
fn output_is_byte_identical_across_runs() {
    for path in common::vyos_examples() {
        let p = path.to_str().expect("utf-8");
        assert_eq!(common::snapshot_text(&build(p, "vyos")), common::snapshot_text(&build(p, "vyos")), "{p}");
    }
}

#[test]
fn every_kind_of_line_passes_both_grammars() {
    let artifacts = common::build_text(include_str!("vyos-kitchen-sink.toml"), "vyos").expect("builds");
    let text = common::primary(&artifacts[0]);
    for (_, schema) in PROFILES {
        let (ok, report) = common::vyos_check(text, schema);
        assert!(ok, "{report}\n{text}");
    }
    for line in [
        "set interfaces ethernet eth1 vif 20 address '10.0.1.1/24'",
        "set interfaces ethernet eth0 address '192.0.2.5/24'",
        "set interfaces ethernet eth0 ip enable-proxy-arp",
        "set protocols static route 192.0.2.20/32 interface eth1.20",
        "set vpn ipsec site-to-site peer branch tunnel 1 local prefix '10.0.1.0/24'",
        "set vpn ipsec site-to-site peer branch tunnel 1 remote prefix '172.16.5.0/24'",
        "set vpn ipsec site-to-site peer branch tunnel 1 esp-group 'branch'",
        "set vpn ipsec ike-group branch dead-peer-detection action 'trap'",
        "set vpn ipsec esp-group branch pfs 'disable'",
        "set vpn ipsec authentication psk branch secret '@@natc-secret:file:/etc/natc/branch.psk@@'",
        "set vpn ipsec site-to-site peer roaming local-address 'any'",
        "set firewall ipv4 input filter rule 2 inbound-interface name 'lo'",
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}`:\n{text}");
    }
    // The masquerade of everything comes first in the intent, so the nested host SNAT must
    // number after it (VyOS evaluates by number).
    let number = |desc: &str| -> u32 {
        text.lines()
            .find_map(|l| {
                l.strip_prefix("set nat source rule ").and_then(|r| r.strip_suffix(&format!(" description '{desc}'")))
            })
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no rule {desc}"))
    };
    assert!(number("gw snat/masq-all") < number("gw snat/one"), "{text}");
    assert!(artifacts[0].warnings.iter().any(|w| w.message.contains("DPD timeout")), "{:?}", artifacts[0].warnings);
}

/// local_id and remote_id: what this end proves and what it demands, and the PSK found by
/// them; without them the lines are those of the addresses.
#[test]
fn identities_become_local_id_remote_id_and_select_the_psk() {
    let intent = |ids: &str| {
        format!(
            "natc = 1\nname = \"ids\"\n[[gateway]]\nname = \"a\"\ntargets = [\"vyos\"]\n\
             [[gateway.interface]]\nname = \"eth0\"\naddress = \"10.0.0.5/24\"\n\
             [[gateway.tunnel]]\nname = \"to-b\"\nremote = \"198.51.100.7\"\nlocal_address = \"10.0.0.5\"\n{ids}\
             psk = {{ env = \"B_PSK\" }}\nlocal_networks = [\"192.168.10.0/24\"]\nremote_networks = [\"192.168.20.0/24\"]\n"
        )
    };
    let text = |ids: &str| {
        let artifacts = common::build_text(&intent(ids), "vyos").unwrap_or_else(|e| panic!("{e}"));
        common::primary(&artifacts[0]).to_string()
    };
    let peer = "set vpn ipsec site-to-site peer to-b authentication";
    let psk = "set vpn ipsec authentication psk to-b id";
    let plain = text("");
    assert!(plain.contains(&format!("{peer} remote-id '198.51.100.7'\n")), "{plain}");
    assert!(!plain.contains("local-id"), "no local_id, no local-id line:\n{plain}");
    assert_eq!(plain.matches(psk).count(), 2, "{plain}");
    // Seed 002's case: the peer behind 1:1 NAT proves its private address.
    let ids = text("local_id = \"10.0.0.5\"\nremote_id = \"172.31.5.9\"\n");
    for line in [
        format!("{peer} local-id '10.0.0.5'"),
        format!("{peer} remote-id '172.31.5.9'"),
        format!("{psk} '10.0.0.5'"),
        format!("{psk} '198.51.100.7'"),
        format!("{psk} '172.31.5.9'"),
    ] {
        assert!(ids.lines().any(|l| l == line), "missing `{line}`:\n{ids}");
    }
    assert_eq!(ids.matches(psk).count(), 3, "the local_id equal to local_address is listed once:\n{ids}");
    let names = text("local_id = \"hq@example.com\"\nremote_id = \"vpn.example.net\"\n");
    assert!(names.contains(&format!("{peer} local-id 'hq@example.com'\n")), "{names}");
    assert!(names.contains(&format!("{peer} remote-id 'vpn.example.net'\n")), "{names}");
    for (_, version) in PROFILES {
        let (ok, report) = common::vyos_check(&names, version);
        assert!(ok, "{report}");
    }
}

/// Hairpin (issue 17): the port forward once more with inbound-interface the LAN and the
/// LAN as source, and a source rule masquerading LAN → server out of the LAN interface;
/// both grammars accept the lines.
#[test]
fn a_hairpin_is_a_lan_destination_rule_and_a_lan_masquerade() {
    for (target, schema) in PROFILES {
        let artifacts = build("tests/verify/hairpin.toml", target);
        let text = common::primary(&artifacts[0]);
        let (ok, report) = common::vyos_check(text, schema);
        assert!(ok, "hairpin {target}: the VyOS {schema} checks refused:\n{report}");
        let lines = set_lines(text);
        // The rule numbers of one rule: those of the lines carrying its description.
        let rule_of = |description: &str, tree: &str| -> BTreeSet<String> {
            let prefix = format!("set nat {tree} rule ");
            let number = lines
                .iter()
                .find(|l| l.starts_with(&prefix) && l.ends_with(&format!("description '{description}'")))
                .and_then(|l| l[prefix.len()..].split_whitespace().next())
                .unwrap_or_else(|| panic!("no {tree} rule `{description}`:\n{text}"));
            let rule = format!("{prefix}{number} ");
            lines.iter().filter(|l| l.starts_with(&rule)).map(|l| l[rule.len()..].to_string()).collect()
        };
        let dnat = rule_of("edge dnat/https-to-web (hairpin)", "destination");
        let expected: BTreeSet<String> = [
            "description 'edge dnat/https-to-web (hairpin)'",
            "destination address '198.51.100.2'",
            "destination port '8443'",
            "inbound-interface name 'eth1'",
            "protocol 'tcp'",
            "source address '10.0.0.0/24'",
            "translation address '10.0.0.10'",
            "translation port '443'",
        ]
        .map(String::from)
        .into();
        assert_eq!(dnat, expected, "{text}");
        let snat = rule_of("edge dnat/https-to-web (hairpin)", "source");
        let expected: BTreeSet<String> = [
            "description 'edge dnat/https-to-web (hairpin)'",
            "destination address '10.0.0.10'",
            "destination port '443'",
            "outbound-interface name 'eth1'",
            "protocol 'tcp'",
            "source address '10.0.0.0/24'",
            "translation address 'masquerade'",
        ]
        .map(String::from)
        .into();
        assert_eq!(snat, expected, "{text}");
        // The forward from outside is still its own rule, on eth0.
        assert!(rule_of("edge dnat/https-to-web", "destination").contains("inbound-interface name 'eth0'"));
    }
}
