//! Every example × Linux target: a snapshot for review, plus the semantic facts that
//! make the output right (snapshots alone prove nothing).

mod common;

use insta::assert_snapshot;

#[test]
fn snapshots_of_every_example_and_target() {
    for path in common::examples() {
        for target in common::LINUX_TARGETS {
            let text = match common::build(&path, target) {
                Ok(artifacts) => common::snapshot_text(&artifacts),
                Err(diagnostics) => format!("build refused:\n{diagnostics}"),
            };
            insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
                assert_snapshot!(format!("{}@{target}", common::stem(&path)), text);
            });
        }
    }
}

#[test]
fn seeds_000_002_003_build_for_both_linux_targets() {
    for stem in ["seed-000-powervs", "seed-002-overlap", "seed-003-lab"] {
        for target in common::LINUX_TARGETS {
            let path = common::root().join(format!("examples/{stem}.toml"));
            if let Err(e) = common::build(&path, target) {
                panic!("{stem} must build for {target}:\n{e}");
            }
        }
    }
}

#[test]
fn seed_004_is_refused_by_linux_targets_naming_each_item() {
    let path = common::root().join("examples/seed-004-vyos-rtx.toml");
    for target in common::LINUX_TARGETS {
        let report = common::build(&path, target).expect_err("BGP is not a Linux-target feature");
        // The tunnels need the strongswan companion (N115), BGP has no Linux target (N301).
        let flat = report.split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ");
        assert!(flat.contains("must also declare the strongswan target") && flat.contains("N115"), "{report}");
        assert!(
            report.contains("vyos-project-a bgp/bgp") && report.contains(&format!("target {target}")),
            "{target}: no error names the BGP:\n{report}"
        );
        assert!(report.contains("N301"), "{report}");
    }
}

#[test]
fn output_is_byte_identical_across_runs() {
    for path in common::examples() {
        for target in common::LINUX_TARGETS {
            let first = common::build(&path, target).map(|a| common::snapshot_text(&a));
            let second = common::build(&path, target).map(|a| common::snapshot_text(&a));
            assert_eq!(first, second, "{} {target} is not deterministic", common::stem(&path));
        }
    }
}

#[test]
fn netmap_becomes_two_one_to_one_prefix_maps() {
    // The netmap's interface is the tunnel: Linux matches by the translation's addresses
    // (inside the tunnel's selectors) and names no interface (docs/tunnels.md).
    let nft = common::primary_of("examples/seed-002-overlap.toml", "nftables", "utm-a");
    assert!(nft.contains("\t\tip saddr 192.168.1.0/24 ip daddr 192.168.20.0/24 snat ip prefix to ip saddr map { 192.168.1.0/24 : 192.168.10.0/24 }"), "{nft}");
    assert!(nft.contains("\t\tip saddr 192.168.20.0/24 ip daddr 192.168.10.0/24 dnat ip prefix to ip daddr map { 192.168.10.0/24 : 192.168.1.0/24 }"), "{nft}");
    let ipt = common::primary_of("examples/seed-002-overlap.toml", "iptables", "utm-b");
    assert!(ipt.contains("-A POSTROUTING -s 192.168.1.0/24 -d 192.168.10.0/24 -m comment --comment \"utm-b netmap/vpc-b (snat)\" -j NETMAP --to 192.168.20.0/24"), "{ipt}");
    assert!(ipt.contains("-A PREROUTING -s 192.168.10.0/24 -d 192.168.20.0/24 -m comment --comment \"utm-b netmap/vpc-b (dnat)\" -j NETMAP --to 192.168.1.0/24"), "{ipt}");
}

#[test]
fn host_mappings_of_one_shape_share_one_nft_map() {
    let nft = common::primary_of("examples/seed-000-powervs.toml", "nftables", "natgw");
    assert_eq!(nft.matches("dnat to ip daddr map @").count(), 1, "{nft}");
    assert!(nft.contains("192.168.82.70 comment \"natgw dnat/aix-tmgw01\" : 192.168.150.195,"), "{nft}");
    assert!(nft.contains("192.168.82.71 comment \"natgw dnat/aix-tmgw02\" : 192.168.150.216,"), "{nft}");
    // iptables has no maps: one rule per mapping, each with its own comment.
    let ipt = common::primary_of("examples/seed-000-powervs.toml", "iptables", "natgw");
    assert_eq!(ipt.matches("-j DNAT --to-destination").count(), 2, "{ipt}");
}

#[test]
fn every_rule_line_carries_its_origin() {
    for path in common::examples() {
        for target in common::LINUX_TARGETS {
            let Ok(artifacts) = common::build(&path, target) else { continue };
            for a in &artifacts {
                let rules = &a.files.iter().find(|f| f.primary).expect("primary").contents;
                for line in rules.lines().map(str::trim) {
                    let is_rule = line.starts_with("-A ")
                        || line.starts_with("rule ")
                        || line.contains(" accept")
                        || line.contains("dnat ")
                        || line.contains("snat ")
                        || line.contains("masquerade");
                    if is_rule && !line.starts_with('#') && !line.starts_with("type ") {
                        // Double quotes in iptables and nft files, single in the firewalld script.
                        assert!(
                            line.contains(&format!("\"{} ", a.gateway)) || line.contains(&format!("'{} ", a.gateway)),
                            "{}: rule without origin comment: {line}",
                            common::stem(&path)
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn seed_000_ipsec_builds_for_its_targets_with_what_the_tunnel_needs() {
    let path = common::root().join("examples/seed-000-ipsec.toml");
    for target in ["nftables", "strongswan"] {
        if let Err(e) = common::build(&path, target) {
            panic!("seed-000-ipsec must build for {target}:\n{e}");
        }
    }
    let nft = common::primary_of("examples/seed-000-ipsec.toml", "nftables", "natgw");
    // input = "drop": the peer's IKE, NAT-T and ESP get in, from the peer only.
    for line in [
        "ip saddr 203.0.113.72 udp dport 500 accept comment \"natgw tunnel/to-onprem (IKE)\"",
        "ip saddr 203.0.113.72 udp dport 4500 accept comment \"natgw tunnel/to-onprem (NAT-T)\"",
        "ip saddr 203.0.113.72 meta l4proto esp accept comment \"natgw tunnel/to-onprem (ESP)\"",
    ] {
        assert!(nft.contains(line), "{line}\n{nft}");
    }
    // The policy tunnel named as in_interface: matched by its addresses, no interface.
    assert!(
        nft.contains(
            "ip saddr 192.168.72.0/24 ip daddr 192.168.150.0/24 tcp dport 22 accept comment \"natgw allow/ssh-to-aix\""
        ),
        "{nft}"
    );
    assert!(!nft.contains("to-onprem\" ") && !nft.contains("iifname \"to-onprem\""), "{nft}");
    let swanctl = common::primary_of("examples/seed-000-ipsec.toml", "strongswan", "natgw");
    for line in [
        "id = \"198.51.100.82\"",
        "id = \"203.0.113.72\"",
        "local_ts = 192.168.82.64/26",
        "remote_ts = 192.168.72.0/24",
        "encap = yes",
    ] {
        assert!(swanctl.contains(line), "{line}\n{swanctl}");
    }
}
