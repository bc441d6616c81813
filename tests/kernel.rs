//! The kernel is the judge: every generated iptables and nftables file is loaded into a
//! real kernel in a throwaway network namespace (`unshare --net`), after the generated
//! setup script ran on veth interfaces named and addressed as in the intent. `--test` and
//! `nft -c` miss whole classes of errors (linux-kernel-testing.md), so these apply for real.
//!
//! These tests fail, never skip, when they cannot run: not root, or a tool missing.
//! The README's test command installs the tools.

mod common;

use natc::Artifact;
use std::path::Path;
use std::process::Command;

fn require_kernel_tools() {
    common::require_root_and(&["unshare", "ip", "nft", "iptables-restore", "iptables-save", "sysctl"]);
}

/// Write the artifact's files into a temp dir and run `script` in a new network namespace
/// with `$D` pointing at them. Returns stdout; panics with stderr on failure.
fn in_namespace(artifact: &Artifact, script: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    for f in &artifact.files {
        std::fs::write(dir.path().join(&f.name), &f.contents).expect("write file");
    }
    let out = Command::new("unshare")
        .arg("--net")
        .arg("sh")
        .arg("-ec")
        .arg(script)
        .env("D", dir.path())
        .output()
        .expect("unshare runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "kernel refused {} for {}:\n--- stderr\n{}\n--- stdout\n{stdout}",
        artifact.target,
        artifact.gateway,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn load_script(artifact: &Artifact) -> String {
    match artifact.target.kind {
        natc::backend::TargetKind::Iptables => {
            "sh \"$D/iptables-setup.sh\"\niptables-restore \"$D/iptables.rules\"\niptables-save\n".into()
        }
        natc::backend::TargetKind::Nftables => {
            "sh \"$D/nftables-setup.sh\"\nnft -f \"$D/nftables.nft\"\nnft list ruleset\n".into()
        }
        // firewalld's direct rules, applied with plain iptables by a stand-in firewalld client
        // on the iptables backend (the real daemon runs in tests/firewalld.rs); the script's
        // own preflight loads them into a throwaway namespace first.
        natc::backend::TargetKind::Firewalld => format!("{}iptables-save\n", common::firewalld_direct_load()),
        other => panic!("not a kernel target: {other:?}"),
    }
}

/// Every rule comment natc generated must be in the kernel's own listing: proof that no
/// rule was dropped on the way in.
fn comments_of(artifact: &Artifact) -> Vec<String> {
    let primary = artifact.files.iter().find(|f| f.primary).expect("a primary file");
    // The firewalld script carries its rules twice; the stand-in daemon runs the iptables
    // backend, so its direct rules are the ones listed (the nftables copy is the nftables
    // target's own table, loaded through the real daemon in tests/firewalld.rs).
    let firewalld = artifact.target.kind == natc::backend::TargetKind::Firewalld;
    primary
        .contents
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter(|l| !firewalld || l.starts_with("    rule "))
        .filter_map(|l| {
            // `--comment "…"` in iptables and nft files, `--comment '…'` in the firewalld script;
            // each ends at its own quote (a description may hold the other one: "web's 443").
            let (rest, quote) = match l.split_once("comment \"") {
                Some((_, rest)) => (rest, '"'),
                None => (l.split_once("comment '")?.1, '\''),
            };
            rest.split(quote).next().map(str::to_string)
        })
        .collect()
}

#[test]
fn every_example_loads_into_a_real_kernel() {
    require_kernel_tools();
    let mut loaded = 0;
    for path in common::examples() {
        let compiled = common::compile(&path);
        // `iptables@tree`: the same rules as a lookup tree (examples are below its threshold).
        for target in common::LINUX_TARGETS.iter().copied().chain(["iptables@tree"]) {
            // seed-004 has tunnels and BGP: the Linux targets must refuse it (tested elsewhere).
            let Ok(artifacts) = common::build(&path, target) else { continue };
            for artifact in &artifacts {
                let script = common::interfaces_script(&compiled, &artifact.gateway) + &load_script(artifact);
                // iptables-save writes a `'` inside a quoted comment as `\'`.
                let listing = in_namespace(artifact, &script).replace("\\'", "'");
                for comment in comments_of(artifact) {
                    assert!(
                        listing.contains(&comment),
                        "{}: {target} listing lacks `{comment}`:\n{listing}",
                        common::stem(&path)
                    );
                }
                loaded += 1;
            }
        }
    }
    // seed-000 (1 gateway), seed-002 (2) and seed-003 (1), for four targets each.
    assert!(loaded >= 16, "only {loaded} gateway × target files were loaded");
}

/// Protocols without a keyword of their own (gre, numbers) are written as numbers, so the
/// files load on a host without /etc/protocols, where nft and iptables cannot resolve `gre`.
/// Every Linux target's rules from examples/protocols.toml load with the file hidden, and
/// the kernel's listing holds the protocol matches.
#[test]
fn protocols_load_without_etc_protocols() {
    require_kernel_tools();
    let path = common::root().join("examples/protocols.toml");
    let compiled = common::compile(&path);
    for target in common::LINUX_TARGETS {
        let artifacts = common::build(&path, target).expect("protocols builds");
        for artifact in &artifacts {
            let load = common::interfaces_script(&compiled, &artifact.gateway) + &load_script(artifact);
            let script = format!(
                "cat > \"$D/load.sh\" <<'NATC_LOAD'\n{load}NATC_LOAD\n\
                 unshare --mount sh -ec 'mount --bind /dev/null /etc/protocols; test ! -s /etc/protocols; sh -e \"$D/load.sh\"'\n"
            );
            let listing = in_namespace(artifact, &script);
            for comment in comments_of(artifact) {
                assert!(listing.contains(&comment), "{target} listing lacks `{comment}`:\n{listing}");
            }
            // The kernel's rule for the gre forward matches protocol 47, by name or number.
            let gre = listing.lines().find(|l| l.contains("dnat/pptp-gre")).unwrap_or_default();
            assert!(
                ["l4proto 47", "l4proto gre", "-p 47", "-p gre"].iter().any(|m| gre.contains(m)),
                "{target}: the gre forward lost its protocol match:\n{listing}"
            );
        }
    }
}

/// `counters = true` (port-forward with a reject input policy, so NAT, accept, map-free and
/// reject rules all occur): every rule natc wrote carries a counter in the kernel, which
/// counts. Without the key the same intent's rules carry none (the snapshots are unchanged).
#[test]
fn counters_reach_every_nft_rule() {
    require_kernel_tools();
    let path = common::root().join("examples/port-forward.toml");
    let text = std::fs::read_to_string(&path)
        .expect("example")
        .replace("name = \"edge\"\n", "name = \"edge\"\ncounters = true\n")
        .replace("input = \"drop\"", "input = \"reject\"");
    assert!(text.contains("counters = true"));
    let compiled = natc::compile(&text).expect("compiles");
    let artifacts = common::build_text(&text, "nftables").expect("builds");
    let script = common::interfaces_script(&compiled, "edge") + &load_script(&artifacts[0]);
    let listing = in_namespace(&artifacts[0], &script);
    let comments = comments_of(&artifacts[0]);
    assert!(comments.iter().any(|c| c.contains("policy/input")), "the reject rules are there: {comments:?}");
    for comment in comments {
        let line = listing.lines().find(|l| l.contains(&format!("comment \"{comment}\""))).unwrap_or_default();
        assert!(line.contains("counter packets"), "`{comment}` has no counter in the kernel:\n{listing}");
    }
    let plain = common::build(&path, "nftables").expect("builds");
    // The ruleset's lines, not the setup script's comments (which speak of counters).
    let counted = plain[0].files.iter().filter(|f| f.name.ends_with(".nft")).any(|f| f.contents.contains("counter"));
    assert!(!counted, "counters without the key");
}

/// `log = true` with `log_prefix` on an allow, on the policy and on a dnat, snat and netmap
/// (tests/verify/logging.toml):
/// the kernel's own listing of the nftables and iptables rules has each prefix, on the
/// allow's rule (nft: in the accept rule; iptables: a LOG rule before the ACCEPT) and on a
/// rule of the policy's own in each chain whose policy drops.
#[test]
fn log_prefixes_reach_the_kernel() {
    require_kernel_tools();
    let path = common::root().join("tests/verify/logging.toml");
    let text = std::fs::read_to_string(&path).expect("intent");
    let compiled = natc::compile(&text).expect("compiles");
    for target in ["nftables", "iptables"] {
        let artifacts = common::build(&path, target).expect("builds");
        let script = common::interfaces_script(&compiled, "edge") + &load_script(&artifacts[0]);
        let listing = in_namespace(&artifacts[0], &script);
        let lines = |comment: &str, prefix: &str| {
            listing
                .lines()
                .filter(|l| l.contains(comment) && l.contains(prefix))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let web = lines("edge allow/web-in", "\"natc web-in: \"");
        let forward = lines("edge policy/forward", "\"natc drop: \"");
        let input = lines("edge policy/input", "\"natc drop: \"");
        match target {
            "nftables" => {
                assert!(web.iter().any(|l| l.contains("log prefix") && l.contains("accept")), "{listing}");
                assert!(forward.iter().chain(&input).all(|l| l.contains("log prefix")), "{listing}");
            }
            _ => {
                assert!(web.iter().any(|l| l.contains("-j LOG --log-prefix")), "{listing}");
                assert!(forward.iter().chain(&input).all(|l| l.contains("-j LOG --log-prefix")), "{listing}");
            }
        }
        assert!(!web.is_empty() && forward.len() == 1 && input.len() == 1, "{target}:\n{listing}");
        // The translations: each one's rule (nft) or a LOG rule before it (iptables).
        for (comment, prefix) in [
            ("edge dnat/https-to-web", "natc dnat web: "),
            ("edge snat/lan-out", "natc lan-out: "),
            ("edge netmap/peer", "natc peer: "),
        ] {
            let found = lines(comment, &format!("\"{prefix}\""));
            let statement = if target == "nftables" { "log prefix" } else { "-j LOG --log-prefix" };
            assert!(found.iter().any(|l| l.contains(statement)), "{target}: no log for {comment}:\n{listing}");
        }
    }
}

#[test]
fn setup_scripts_put_their_state_into_the_kernel() {
    require_kernel_tools();
    let path = common::root().join("examples/seed-000-powervs.toml");
    let compiled = common::compile(&path);
    let artifacts = common::build(&path, "nftables").expect("seed-000 builds");
    let script = common::interfaces_script(&compiled, "natgw")
        + "sh \"$D/nftables-setup.sh\"\nsh \"$D/nftables-setup.sh\"\n"
        + "sysctl -n net.ipv4.ip_forward\nip -4 -o address show dev lo\nip route show\n";
    let out = in_namespace(&artifacts[0], &script);
    assert!(out.starts_with("1\n"), "forwarding not enabled:\n{out}");
    for owned in ["192.168.82.70/32", "192.168.82.71/32"] {
        assert_eq!(out.matches(owned).count(), 1, "{owned} should be on lo exactly once after two runs:\n{out}");
    }
    assert!(out.contains("default via 192.168.82.1 dev eth0"), "route missing:\n{out}");
}

#[test]
fn nftables_script_replaces_its_table_and_touches_nothing_else() {
    require_kernel_tools();
    let path = common::root().join("examples/seed-003-lab.toml");
    let artifacts = common::build(&path, "nftables").expect("seed-003 builds");
    let compiled = common::compile(&path);
    let script = common::interfaces_script(&compiled, "vm02")
        + "nft add table ip bystander\nnft add chain ip bystander keep\n"
        + "nft -f \"$D/nftables.nft\"\nnft -f \"$D/nftables.nft\"\nnft -f \"$D/nftables.nft\"\n"
        + "nft list ruleset\n";
    let listing = in_namespace(&artifacts[0], &script);
    assert_eq!(listing.matches("table ip natc_seed_003_lab").count(), 1, "{listing}");
    assert_eq!(listing.matches("vm02 dnat/to-vm03").count(), 1, "rule duplicated:\n{listing}");
    assert!(
        listing.contains("table ip bystander") && listing.contains("chain keep"),
        "other table touched:\n{listing}"
    );
}

#[test]
fn a_broken_rules_file_is_refused_by_the_kernel_check() {
    // The judge must be able to say no: an nft file with masquerade in prerouting parses
    // (`nft -c` passes it) but the kernel refuses it.
    require_kernel_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.nft");
    std::fs::write(
        &bad,
        "table ip t {\n chain p {\n  type nat hook prerouting priority dstnat; policy accept;\n  masquerade\n }\n}\n",
    )
    .expect("write");
    let status =
        Command::new("unshare").args(["--net", "nft", "-f"]).arg(Path::new(&bad)).status().expect("unshare runs");
    assert!(!status.success(), "the kernel accepted masquerade in prerouting");
}

/// Gateways with tunnels: the rules files of the strongswan cases (tests/strongswan/*.toml;
/// the examples' are loaded above) load into the kernel, with the tunnels' IKE, NAT-T and
/// ESP allows in the kernel's own listing. Only the rules: a route-based tunnel's setup
/// needs the XFRM link type, which this kernel lacks (next test).
#[test]
fn tunnel_gateways_rules_load_into_a_real_kernel() {
    require_kernel_tools();
    let dir = common::root().join("tests/strongswan");
    let mut loaded = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/strongswan") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let compiled = common::compile(&path);
        for target in ["nftables", "iptables"] {
            let artifacts = common::build(&path, target).unwrap_or_else(|e| panic!("{e}"));
            for artifact in &artifacts {
                let load = match target {
                    "nftables" => "nft -f \"$D/nftables.nft\"\nnft list ruleset\n",
                    _ => "iptables-restore \"$D/iptables.rules\"\niptables-save\n",
                };
                let listing = in_namespace(artifact, &(common::interfaces_script(&compiled, &artifact.gateway) + load));
                let comments = comments_of(artifact);
                let gw = compiled.plan.gateways.iter().find(|g| g.name == artifact.gateway).expect("gateway");
                if gw.filters.input.verdict == natc::vocab::Verdict::Drop {
                    assert_eq!(
                        comments.iter().filter(|c| c.contains(" tunnel/")).count(),
                        3 * gw.tunnels.len(),
                        "IKE, NAT-T and ESP per tunnel: {comments:?}"
                    );
                }
                for comment in comments {
                    assert!(listing.contains(&comment), "{target} listing lacks `{comment}`:\n{listing}");
                }
                loaded += 1;
            }
        }
    }
    assert!(loaded >= 2, "only {loaded} files loaded");
}

/// A route-based tunnel's XFRM interface: the setup script's command is read by iproute2
/// and reaches this kernel, which has no XFRM interface type ("Unknown device type"); a
/// malformed command fails differently, in iproute2, so the refusal is the kernel's. On a
/// kernel with XFRM interfaces (any stock distribution kernel) the same line creates it.
#[test]
fn the_xfrm_interface_command_reaches_the_kernel() {
    require_kernel_tools();
    let path = common::root().join("tests/strongswan/kitchen-sink.toml");
    let compiled = common::compile(&path);
    let artifacts = common::build(&path, "nftables").expect("builds");
    let setup = &artifacts[0].files.iter().find(|f| f.name == "nftables-setup.sh").expect("setup").contents;
    let line = setup.lines().find(|l| l.contains("type xfrm")).expect("an XFRM interface line");
    let id = natc::backend::strongswan::xfrm::if_id("xfrm-cloud");
    assert!(line.ends_with(&format!("ip link add xfrm-cloud type xfrm dev eth0 if_id {id}")), "{line}");
    let add = line.split("|| ").nth(1).expect("the add command");
    let run = |command: &str| {
        let script = common::interfaces_script(&compiled, "hub") + command + "\n";
        Command::new("unshare").args(["--net", "sh", "-ec", &script]).output().expect("unshare runs")
    };
    let out = run(add);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("Unknown device type"), "{stderr}");
    let malformed = run(&add.replace("if_id", "if_id banana"));
    let said = String::from_utf8_lossy(&malformed.stderr);
    assert!(!malformed.status.success() && !said.contains("Unknown device type"), "{said}");
}

/// 10,000 1:1 mappings (DNAT, SNAT and a forward allow each) build as lookup trees and load:
/// the kernel holds every rule and chain of the file, no chain longer than the trie's fan-out
/// (16 jumps, or the rules of 16 addresses), and the first, a middle and the last mapping's
/// rules.
#[test]
fn a_generated_10k_mapping_intent_loads_as_a_tree() {
    require_kernel_tools();
    let text = common::mappings_intent(10_000, &[]);
    let compiled = natc::compile(&text).expect("the generated intent compiles");
    let artifacts = common::build_text(&text, "iptables").expect("the generated intent builds");
    let artifact = &artifacts[0];
    let rules = common::primary(artifact);
    for chain in ["D-eth0", "S-eth0", "F-eth0", "D-eth0-100.65.39.240/28", "F-eth0-10.100.0.0/28"] {
        assert!(rules.contains(&format!("\n:{chain} - [0:0]\n")), "no chain {chain}: not a tree");
    }
    let script = common::interfaces_script(&compiled, &artifact.gateway) + &load_script(artifact);
    let listing = in_namespace(artifact, &script);
    let appends = |text: &str| text.lines().filter(|l| l.starts_with("-A ")).count();
    let chains = |text: &str| text.lines().filter(|l| l.starts_with(':')).count();
    assert_eq!(appends(&listing), appends(rules), "the kernel holds another number of rules");
    assert_eq!(chains(&listing), chains(rules), "the kernel holds another number of chains");
    assert!(appends(rules) > 30_000, "10,000 mappings make three rules each");
    let mut lengths = std::collections::HashMap::new();
    for line in listing.lines().filter(|l| l.starts_with("-A ")) {
        *lengths.entry(line.split_whitespace().nth(1).unwrap_or_default()).or_insert(0) += 1;
    }
    let longest = lengths.iter().max_by_key(|(_, n)| **n).expect("rules");
    assert!(*longest.1 <= 16, "chain {} has {} rules", longest.0, longest.1);
    for i in [0, 5_000, 9_999] {
        for item in [format!("dnat/in-{i}"), format!("snat/out-{i}"), format!("allow/to-{i}")] {
            assert!(listing.contains(&format!("\"gw {item}\"")), "the kernel lacks {item}");
        }
    }
}

/// firewalld's direct rules as lookup trees: the 10,000 generated mappings of the iptables
/// test above go through the script's own preflight (every rule restored into a throwaway
/// namespace) and, by the stand-in firewall-cmd, into the kernel: every chain and rule is
/// there, the first, a middle and the last mapping's among them.
#[test]
fn firewalld_direct_rules_load_as_a_tree() {
    require_kernel_tools();
    let text = common::mappings_intent(10_000, &[]);
    let compiled = natc::compile(&text).expect("the generated intent compiles");
    let artifacts = common::build_text(&text, "firewalld").expect("the generated intent builds");
    let artifact = &artifacts[0];
    let script = common::primary(artifact);
    let rules: Vec<&str> = script.lines().filter(|l| l.trim_start().starts_with("rule ")).collect();
    for chain in ["nD-eth0", "nS-eth0", "nF-eth0", "nD-eth0-100.65.1.48/28"] {
        assert!(rules.iter().any(|r| r.ends_with(&format!(" -j {chain}"))), "no jump to {chain}: not a tree");
    }
    let load = common::interfaces_script(&compiled, &artifact.gateway) + &load_script(artifact);
    let listing = in_namespace(artifact, &load);
    let natc_rules = listing
        .lines()
        .filter(|l| l.starts_with("-A ") && l.contains("--comment \"gw "))
        .filter(|l| !l.starts_with("-A PREROUTING") && !l.starts_with("-A POSTROUTING"))
        .filter(|l| !l.starts_with("-A INPUT") && !l.starts_with("-A FORWARD"))
        .count();
    assert_eq!(natc_rules, rules.len(), "the kernel holds another number of natc's rules:\n{listing}");
    for i in [0, 5_000, 9_999] {
        for item in [format!("dnat/in-{i}"), format!("snat/out-{i}"), format!("allow/to-{i}")] {
            assert!(listing.contains(&format!("\"gw {item}\"")), "the kernel lacks {item}");
        }
    }
}
