//! `natc import` (docs/import.md): natc's own outputs come back as intents that build the
//! same rules, hand-typed lines from the seeds import, and every line an intent cannot
//! express is reported with its line.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn natc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_natc")).args(args).output().expect("natc runs")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The intents the round trip covers: every example, and the test intents of verify,
/// rtx, change and import (forms the others lack, as a shifted port range), and the VyOS
/// kitchen sink.
fn intents() -> Vec<PathBuf> {
    let mut out = vec![root().join("tests/vyos-kitchen-sink.toml")];
    for dir in ["examples", "tests/verify", "tests/rtx", "tests/change", "tests/import"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("readable") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn gateways(intent: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(intent).expect("readable");
    let value: toml::Value = toml::from_str(&text).expect("TOML");
    value["gateway"]
        .as_array()
        .expect("gateways")
        .iter()
        .map(|g| g["name"].as_str().expect("name").to_string())
        .collect()
}

/// An iptables.rules file without what the round trip may change: `#` lines and the
/// `-m comment --comment "…"` of each rule (the comment's own `\"` and `\\` included).
fn rules_only(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| match l.find(" -m comment --comment \"") {
            None => l.to_string(),
            Some(at) => {
                let rest = &l[at + " -m comment --comment \"".len()..];
                let mut chars = rest.char_indices();
                let mut end = rest.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        _ => {}
                    }
                }
                format!("{}{}", &l[..at], &rest[end..])
            }
        })
        .collect()
}

fn build(intent: &Path, gateway: &str, target: &str) -> Option<String> {
    let out = natc(&["build", intent.to_str().expect("utf-8"), "-t", target, "-g", gateway]);
    out.status.success().then(|| String::from_utf8(out.stdout).expect("utf-8"))
}

/// The rules of a firewalld script without comments: its `rule TABLE CHAIN PRIORITY …`
/// lines (natc's comments come right before `-j`), sorted: firewalld keeps no order among
/// rules of one priority, so the priorities are the order and the lines' order is not.
fn firewalld_rules_only(text: &str) -> Vec<String> {
    let mut rules: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("rule "))
        .map(|l| match (l.find(" -m comment --comment '"), l.rfind(" -j ")) {
            (Some(a), Some(j)) if a < j => format!("{}{}", &l[..a], &l[j..]),
            _ => l.to_string(),
        })
        .collect();
    rules.sort();
    rules
}

/// For every example and verify intent, every gateway and target T that builds:
/// build -t T → import → build -t T gives the same rules, and the import is whole.
fn round_trip(target: &str, format: natc::import::Format, rules: fn(&str) -> Vec<String>) -> usize {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut checked = 0;
    for intent in intents() {
        for gateway in gateways(&intent) {
            // A gateway the target refuses (tunnels without strongswan, …) has nothing to import.
            let Some(first) = build(&intent, &gateway, target) else { continue };
            let name = format!("{}-{gateway}.{target}", intent.file_stem().unwrap().to_string_lossy());
            assert_eq!(natc::import::Format::detect(&first), Some(format), "{name}: the format is detected");
            let imported = natc::import::import(&name, &first, format);
            assert!(
                imported.unexpressed.is_empty(),
                "{} {gateway}: natc's own output must import whole: {:?}",
                intent.display(),
                imported.unexpressed
            );
            let file = dir.path().join(format!("{name}.toml"));
            std::fs::write(&file, &imported.intent).expect("write");
            let second = build(&file, &gateway, target).unwrap_or_else(|| {
                panic!("{} {gateway}: the imported intent builds:\n{}", intent.display(), imported.intent)
            });
            assert_eq!(
                rules(&first),
                rules(&second),
                "{} {gateway}: build → import → build changed the {target} rules; imported intent:\n{}",
                intent.display(),
                imported.intent
            );
            // natc's comments give the items back their names.
            let original = std::fs::read_to_string(&intent).unwrap();
            for line in imported.intent.lines().filter_map(|l| l.strip_prefix("name = \"")) {
                let name = line.trim_end_matches('"');
                let base = name.trim_end_matches(char::is_numeric).trim_end_matches('-');
                let known = original.contains(&format!("\"{name}\"")) || original.contains(&format!("\"{base}\""));
                let derived =
                    ["-dnat", "-snat", "-hairpin", "-ike", "-nat-t", "-esp"].iter().any(|s| base.ends_with(s));
                assert!(known || derived, "{}: name {name} is not the original's", intent.display());
            }
            checked += 1;
        }
    }
    checked
}

#[test]
fn every_iptables_build_round_trips_through_import() {
    let checked = round_trip("iptables", natc::import::Format::IptablesSave, rules_only);
    assert!(checked >= 10, "only {checked} gateways round-tripped");
}

/// The rules of an nftables file without comments: the lines inside the table.
fn nft_rules_only(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.find(" comment \"") {
            Some(at) => {
                let rest = &l[at + " comment \"".len()..];
                let end = rest.find('"').map_or(rest.len(), |e| e + 1);
                format!("{}{}", &l[..at], &rest[end..])
            }
            None => l.to_string(),
        })
        .collect()
}

#[test]
fn every_nftables_build_round_trips_through_import() {
    let checked = round_trip("nftables", natc::import::Format::Nft, nft_rules_only);
    assert!(checked >= 10, "only {checked} gateways round-tripped");
}

/// VyOS set lines without `#` lines and descriptions (they carry the comments) and with
/// the rule numbers blanked (numbering aside: natc numbers a rule from its item's name),
/// sorted. The diff test below keeps the numbers.
fn vyos_rules_only(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("set ") && !l.contains(" description "))
        .map(|l| {
            let w: Vec<&str> = l.split(' ').collect();
            let blanked: Vec<&str> = w
                .iter()
                .enumerate()
                .map(|(i, x)| if i > 0 && w[i - 1] == "rule" && x.parse::<u32>().is_ok() { "N" } else { x })
                .collect();
            blanked.join(" ")
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn every_vyos_build_round_trips_through_import() {
    let checked = round_trip("vyos", natc::import::Format::Vyos, vyos_rules_only);
    assert!(checked >= 5, "only {checked} gateways round-tripped");
}

/// RTX command lines without the `#` lines (natc's comments).
fn rtx_rules_only(text: &str) -> Vec<String> {
    text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).map(str::to_string).collect()
}

#[test]
fn every_rtx_build_round_trips_through_import() {
    let checked = round_trip("rtx", natc::import::Format::Rtx, rtx_rules_only);
    // The three with IPsec tunnels (rtx-vpn, rtx-vpn-closed, rtx-vpn-two-tunnels) included.
    assert!(checked >= 8, "only {checked} gateways round-tripped");
}

#[test]
fn every_firewalld_build_round_trips_through_import() {
    let checked = round_trip("firewalld", natc::import::Format::FirewalldDirect, firewalld_rules_only);
    assert!(checked >= 5, "only {checked} gateways round-tripped");
}

fn import_file(path: &str) -> (Output, String) {
    let out = natc(&["import", &root().join(path).to_string_lossy()]);
    let text = String::from_utf8(out.stdout.clone()).expect("utf-8");
    (out, text)
}

#[test]
fn seed_003_typed_commands_import_and_build_what_the_article_did() {
    let (out, intent) = import_file("tests/import/seed-003-vm02.iptables");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(intent.contains("# from ") && intent.contains("seed-003-vm02.iptables:2"), "{intent}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vm02.toml");
    std::fs::write(&file, &intent).unwrap();
    let rules = build(&file, "seed-003-vm02", "iptables").expect("builds");
    let rules = rules_only(&rules);
    for line in [
        "-A PREROUTING -i eth0 -d 192.168.100.3/32 -j DNAT --to-destination 192.168.200.3",
        "-A POSTROUTING -o eth1 -s 192.168.100.0/24 -j MASQUERADE",
    ] {
        assert!(rules.iter().any(|r| r == line), "{line} missing from {rules:?}");
    }
}

#[test]
fn unexpressible_lines_are_reported_with_file_and_line_and_exit_1() {
    let (out, intent) = import_file("tests/import/hand-written.rules");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in [9, 10, 21, 24, 28] {
        assert!(
            stderr.contains(&format!("hand-written.rules:{line}: not imported")),
            "line {line} not reported:\n{stderr}"
        );
        assert!(intent.contains(&format!("hand-written.rules:{line}: ")), "line {line} not listed in the intent");
    }
    // What is expressible is still there, and the reversed RELATED,ESTABLISHED is the policy's.
    assert!(!stderr.contains("hand-written.rules:19:"), "{stderr}");
    assert!(intent.contains("port = \"5060,10000-10100\""), "{intent}");
    assert!(intent.contains("name = \"shop-front\""), "{intent}");
    assert!(intent.contains("host-198-51-100-2 = \"198.51.100.2\""), "{intent}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hand.toml");
    std::fs::write(&file, &intent).unwrap();
    assert!(build(&file, "hand-written", "iptables").is_some(), "the partial intent builds");
}

#[test]
fn a_file_with_nothing_importable_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.rules");
    std::fs::write(&file, "*mangle\n-A PREROUTING -j MARK --set-mark 1\nCOMMIT\n").unwrap();
    let out = natc(&["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    std::fs::write(&file, "hello\n").unwrap();
    let out = natc(&["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "an unknown format is a usage error");
}

#[test]
fn seed_000_typed_firewall_cmd_lines_and_their_listing_import_alike() {
    let mut built = Vec::new();
    for fixture in ["tests/import/seed-000-natgw.commands", "tests/import/seed-000-natgw.get-all-rules"] {
        let (out, intent) = import_file(fixture);
        assert!(out.status.success(), "{fixture}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(intent.contains("FWDO_public_allow imported as a forward allow"), "{intent}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("natgw.toml");
        std::fs::write(&file, &intent).unwrap();
        let rules = rules_only(&build(&file, "seed-000-natgw", "iptables").expect("builds"));
        for line in [
            "-A PREROUTING -d 192.168.82.70/32 -j DNAT --to-destination 192.168.150.195",
            "-A PREROUTING -d 192.168.82.71/32 -j DNAT --to-destination 192.168.150.216",
            "-A POSTROUTING -o eth0 -j SNAT --to-source 192.168.82.70",
            "-A FORWARD -p tcp -m tcp --dport 22 -j ACCEPT",
        ] {
            assert!(rules.iter().any(|r| r == line), "{fixture}: {line} missing from {rules:?}");
        }
        // 192.168.82.70 is used twice: a [networks] entry.
        assert!(intent.contains("host-192-168-82-70 = \"192.168.82.70\""), "{intent}");
        built.push(rules);
    }
    assert_eq!(built[0], built[1], "the commands and their listing are one configuration");
}

#[test]
fn seed_004_vyos_1_1_6_box_imports_and_builds_for_vyos_1_4() {
    let (out, intent) = import_file("tests/import/seed-004-vyos-1.1.6.commands");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The box's system and service settings are not natc's: each is reported by its line.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for line in [6, 8, 52, 96, 100] {
        assert!(
            stderr.contains(&format!("seed-004-vyos-1.1.6.commands:{line}: not imported")),
            "line {line}:\n{stderr}"
        );
    }
    // Nothing of the tunnels, routes or BGP is reported: the 1.1.6 syntax is read.
    for word in ["site-to-site", "ipsec-interfaces", "nat-traversal", "ike-group", "vti", "gateway-address"] {
        assert!(!stderr.contains(word), "{word} reported:\n{stderr}");
    }
    for key in [
        "name = \"vpc-tunnel-1\"",
        "name = \"vpc-tunnel-2\"",
        "nat_traversal = true",
        "remote = \"203.0.113.62\"",
        "asn = 65000",
        "via = \"192.168.0.1\"",
    ] {
        assert!(intent.contains(key), "{key} missing:\n{intent}");
    }
    assert!(!intent.contains("共有鍵"), "a secret was copied");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seed-004.toml");
    std::fs::write(&file, &intent).unwrap();
    let built = build(&file, "seed-004-vyos-1-1-6", "vyos@1.4").expect("builds for vyos@1.4");
    let (ok, report) = common::vyos_check(&built, "1.4");
    assert!(ok, "{report}\n{built}");
    for line in [
        "set vpn ipsec site-to-site peer vpc-tunnel-1 remote-address '203.0.113.51'",
        "set vpn ipsec site-to-site peer vpc-tunnel-2 vti bind 'vti1'",
        "set protocols static route 0.0.0.0/0 next-hop 192.168.0.1",
        "set interfaces vti vti1 address '169.254.28.38/30'",
    ] {
        assert!(built.lines().any(|l| l == line), "{line} missing:\n{built}");
    }
}

#[test]
fn seed_004_rtx1200_lines_import_and_build_the_same_filters() {
    let (out, intent) = import_file("tests/import/seed-004-rtx1200.config");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for key in [
        "to = \"198.51.100.2\"",
        "forward = \"drop\"",
        "port = 500",
        "port = 4500",
        "stateful = true",
        "out_interface = \"lan3\"",
    ] {
        assert!(intent.contains(key), "{key} missing:\n{intent}");
    }
    // The article shows lan3 only; natc's RTX filter needs the LAN side too (N301 without it).
    let intent = format!("{intent}\n[[gateway.interface]]\nname = \"lan1\"\naddress = \"192.168.0.1/24\"\n");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rtx.toml");
    std::fs::write(&file, &intent).unwrap();
    let built = build(&file, "seed-004-rtx1200", "rtx@RTX1200").expect("builds for the RTX1200");
    common::rtx_check(&built, "RTX1200").unwrap_or_else(|e| panic!("{e}\n{built}"));
    let lines = rtx_rules_only(&built);
    for line in ["nat descriptor address outer 1797 198.51.100.2", "nat descriptor address inner 1797 auto"] {
        assert!(lines.iter().any(|l| l == line), "{line} missing:\n{built}");
    }
    for (port, dynamic) in [("500", true), ("4500", true)] {
        let filter = lines
            .iter()
            .find(|l| l.starts_with("ip filter ") && l.ends_with(&format!("pass 192.168.0.0/24 * udp * {port}")));
        let number =
            filter.and_then(|l| l.split(' ').nth(2)).unwrap_or_else(|| panic!("udp {port} filter missing:\n{built}"));
        // natc writes the application form (`ip filter dynamic D 192.168.0.0/24 * udp`, as
        // the seed does): the filter is stateful when its list's dynamic part has one for
        // its source and protocol.
        let covering: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with("ip filter dynamic ") && l.ends_with(" 192.168.0.0/24 * udp"))
            .filter_map(|l| l.split(' ').nth(3))
            .collect();
        let covered = lines.iter().any(|l| {
            let Some(list) = l.strip_prefix("ip lan3 secure filter out ") else { return false };
            let (statics, dynamics) = list.split_once(" dynamic ").unwrap_or((list, ""));
            statics.split(' ').any(|n| n == number) && dynamics.split(' ').any(|d| covering.contains(&d))
        });
        assert_eq!(covered, dynamic, "{built}");
    }
}

/// A line of a generated file with what the round trip may change taken out (issue 16:
/// "comments and numbering aside"): `#` lines, and each rule's comment in the target's
/// syntax (iptables and firewalld `-m comment --comment …`, nft `comment "…"`, VyOS
/// `description` lines). None when nothing is left.
fn rule_part(target: &str, line: &str) -> Option<String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    match target {
        "iptables" => rules_only(line).pop(),
        "nftables" => nft_rules_only(line).pop(),
        "firewalld" if line.starts_with("rule ") => firewalld_rules_only(line).pop(),
        // The script's setup part (as the Linux targets' setup scripts): not rules. The
        // confirmation window saves that host state (`natc_save_*`) and checks the tools it
        // needs for it (`ip` only when there are addresses or routes).
        "firewalld"
            if ["ip route ", "ip address ", "net.ipv4.", "natc_save_", "for natc_tool in "]
                .iter()
                .any(|s| line.starts_with(s)) =>
        {
            None
        }
        "firewalld" => nft_rules_only(line).pop(),
        "vyos" => (!line.contains(" description '")).then(|| line.to_string()),
        _ => Some(line.to_string()),
    }
}

/// Issue 16, item 2: for every example and test intent, gateway and target T,
/// `natc diff ORIGINAL REIMPORTED -t T -g G` shows no rule change: every line the unified
/// diff removes or adds in a rules file is a comment (or differs only in its comment), and
/// the VyOS and RTX change scripts hold nothing but descriptions. The Linux setup scripts
/// (`*-setup.sh`: addresses, routes, claims) are not rules and import does not read them
/// (docs/import.md, "Round trip").
#[test]
fn natc_diff_of_every_original_and_reimported_intent_shows_no_rule_change() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    let mut checked = 0;
    let formats = [
        ("iptables", natc::import::Format::IptablesSave),
        ("nftables", natc::import::Format::Nft),
        ("firewalld", natc::import::Format::FirewalldDirect),
        ("vyos", natc::import::Format::Vyos),
        ("rtx", natc::import::Format::Rtx),
    ];
    for intent in intents() {
        for gateway in gateways(&intent) {
            for (target, format) in formats {
                let Some(first) = build(&intent, &gateway, target) else { continue };
                let stem = intent.file_stem().unwrap().to_string_lossy().to_string();
                let name = format!("{stem}-{gateway}.{target}");
                let imported = natc::import::import(&name, &first, format);
                let file = dir.path().join(format!("{name}.toml"));
                std::fs::write(&file, &imported.intent).expect("write");
                let (original, reimported) = (intent.to_str().unwrap(), file.to_str().unwrap());
                let review = natc(&["diff", original, reimported, "-t", target, "-g", &gateway]);
                let review = String::from_utf8_lossy(&review.stdout).to_string();
                let (mut removed, mut added) = (Vec::new(), Vec::new());
                let mut rules_file = false;
                for line in review.lines() {
                    if let Some(path) = line.strip_prefix("+++ ").or_else(|| line.strip_prefix("--- ")) {
                        rules_file = !path.ends_with("-setup.sh");
                        continue;
                    }
                    let side = match line.chars().next() {
                        Some('-') => &mut removed,
                        Some('+') => &mut added,
                        _ => continue,
                    };
                    if let Some(rule) = rule_part(target, &line[1..]).filter(|_| rules_file) {
                        side.push(rule);
                    }
                }
                removed.sort();
                added.sort();
                if removed != added {
                    failures.push(format!("{stem} {gateway} -t {target}: -{removed:#?}\n+{added:#?}"));
                }
                if matches!(target, "vyos" | "rtx") {
                    let script = natc(&["diff", original, reimported, "-t", target, "-g", &gateway, "--change-script"]);
                    let changes: Vec<String> = String::from_utf8_lossy(&script.stdout)
                        .lines()
                        .filter(|l| !l.starts_with('#') && !l.trim().is_empty() && !l.contains(" description "))
                        .map(str::to_string)
                        .collect();
                    if !changes.is_empty() {
                        failures.push(format!("{stem} {gateway} -t {target}: change script {changes:#?}"));
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} round trips change rules:\n{}", failures.len(), failures.join("\n"));
    assert!(checked >= 40, "only {checked} round trips");
}

/// RTX IPsec as typed on a box (`show config` form, a security gateway id other than the
/// SA policy's, no `tunnel select none`): the tunnel, its route and its MSS limit come
/// back, the keys never; a tunnel with a setting natc does not write stays out whole,
/// every line of it reported; the intent builds the same IPsec lines for the RTX1210.
#[test]
fn rtx_ipsec_typed_by_hand_imports_without_its_keys() {
    let (out, intent) = import_file("tests/import/rtx1210-ipsec.config");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for secret in ["s3cr3t-Key", "other-Key"] {
        assert!(!intent.contains(secret) && !stderr.contains(secret), "{secret} copied:\n{intent}\n{stderr}");
    }
    assert!(intent.contains("psk = { env = \"TUNNEL_1_PSK\" }"), "{intent}");
    assert!(intent.contains("vti = { name = \"tunnel1\", address = \"169.254.30.2/30\" }"), "{intent}");
    assert!(!intent.contains("name = \"tunnel1\"\n"), "a VTI declared as an interface:\n{intent}");
    // Tunnel 2 has `ipsec ike payload type`: the line says why, and every other line of
    // the tunnel (its SA policy and IKE settings too) is reported as its part.
    assert!(
        stderr.contains("rtx1210-ipsec.config:28: not imported [N403]: an IKE setting natc does not write"),
        "{stderr}"
    );
    for line in [24, 25, 26, 27, 29, 30, 31] {
        assert!(
            stderr.contains(&format!("rtx1210-ipsec.config:{line}: not imported [N404]: part of tunnel 2")),
            "{line}:\n{stderr}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rtx.toml");
    std::fs::write(&file, &intent).unwrap();
    let built = build(&file, "rtx1210-ipsec", "rtx@RTX1210").expect("builds for the RTX1210");
    common::rtx_check(&built, "RTX1210").unwrap_or_else(|e| panic!("{e}\n{built}"));
    for line in [
        "  ipsec sa policy 1 1 esp aes-cbc sha-hmac",
        "  ipsec ike group 1 modp1024",
        "  ipsec ike keepalive use 1 on dpd 10 3",
        "  ipsec ike remote address 1 198.51.100.10",
        "  ipsec ike nat-traversal 1 on",
        "  ipsec ike pre-shared-key 1 text @@natc-secret:env:TUNNEL_1_PSK@@",
        " ip tunnel address 169.254.30.2/30",
        " ip tunnel tcp mss limit auto",
        "ip route 10.20.0.0/16 gateway tunnel 1",
    ] {
        assert!(built.lines().any(|l| l == line), "{line:?} missing:\n{built}");
    }
}

/// nft maps as people write them: a named port-forward map (`ip daddr . tcp dport`), an
/// anonymous address map, natc's shifted port range, prefix maps of several elements both
/// ways, an snat map; one element each becomes one item, and a port map that is no shifted
/// range is reported at its line.
#[test]
fn nft_maps_import_one_item_per_element() {
    let (out, intent) = import_file("tests/import/hand-written.nft");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("hand-written.nft:14: not imported [N401]: a port map that is not one shifted range"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("not imported [").count(), 1, "{stderr}");
    assert!(intent.contains("name = \"shop-front\""), "the element's comment names it:\n{intent}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nft.toml");
    std::fs::write(&file, &intent).unwrap();
    assert!(build(&file, "hand-written", "nftables").is_some(), "builds for nftables:\n{intent}");
    let rules = rules_only(&build(&file, "hand-written", "iptables").expect("builds for iptables"));
    for line in [
        "-A PREROUTING -i eth0 -d 198.51.100.2/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.0.10:80",
        "-A PREROUTING -i eth0 -d 198.51.100.2/32 -p tcp -m tcp --dport 2222 -j DNAT --to-destination 10.0.0.11:22",
        "-A PREROUTING -i eth0 -d 198.51.100.4/32 -j DNAT --to-destination 10.0.0.13",
        "-A PREROUTING -i eth0 -d 198.51.100.2/32 -p udp -m udp --dport 10000:10003 -j DNAT --to-destination 10.0.0.20:20000-20003/10000",
        "-A PREROUTING -i tun0 -d 10.8.0.0/24 -j NETMAP --to 10.2.0.0/24",
        "-A POSTROUTING -o tun0 -s 10.2.0.0/24 -j NETMAP --to 10.8.0.0/24",
        "-A POSTROUTING -o eth0 -s 10.0.0.13/32 -j SNAT --to-source 198.51.100.4",
        "-A POSTROUTING -o eth0 -j MASQUERADE",
    ] {
        assert!(rules.iter().any(|r| r == line), "{line} missing from {rules:#?}");
    }
}

/// A VyOS 1.2 box's per-interface rulesets (`firewall name X`, bound `in` and `local` on
/// eth0) migrate: the drop defaults become the policies, accept rules allows on eth0, the
/// ruleset's established/related rule the policy's own, and eth1, which nothing filtered,
/// an allow of everything entering it on each chain; the drop rule, the ruleset bound
/// nowhere and `all-ping` are reported. The intent builds for vyos@1.4 and passes the
/// grammar check.
#[test]
fn vyos_1_2_rulesets_migrate_to_1_4_filters() {
    let (out, intent) = import_file("tests/import/vyos-1.2-firewall.commands");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for line in [1, 12, 13, 22] {
        assert!(stderr.contains(&format!("vyos-1.2-firewall.commands:{line}: not imported")), "{line}:\n{stderr}");
    }
    assert_eq!(stderr.matches("not imported [").count(), 4, "{stderr}");
    for (line, code) in [(1, "N401"), (12, "N402"), (13, "N402"), (22, "N405")] {
        assert!(
            stderr.contains(&format!("vyos-1.2-firewall.commands:{line}: not imported [{code}]")),
            "{line}:\n{stderr}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vyos.toml");
    std::fs::write(&file, &intent).unwrap();
    let built = build(&file, "vyos-1-2-firewall", "vyos@1.4").expect("builds for vyos@1.4");
    let (ok, report) = common::vyos_check(&built, "1.4");
    assert!(ok, "{report}\n{built}");
    let rules = vyos_rules_only(&built);
    for line in [
        "set firewall ipv4 forward filter default-action 'drop'",
        "set firewall ipv4 input filter default-action 'drop'",
        "set firewall ipv4 forward filter rule N destination address '10.0.0.10'",
        "set firewall ipv4 forward filter rule N destination port '443'",
        "set firewall ipv4 forward filter rule N inbound-interface name 'eth1'",
        "set firewall ipv4 input filter rule N source address '198.51.100.0/24'",
        "set firewall ipv4 input filter rule N inbound-interface name 'eth1'",
    ] {
        assert!(rules.iter().any(|r| r == line), "{line} missing:\n{built}");
    }
    // eth0's forward traffic passes only by its rule: no allow of everything on eth0.
    assert!(!intent.contains("eth0-in-unfiltered") && !intent.contains("eth0-local-unfiltered"), "{intent}");
}

/// Every line of the report has a code of IMPORT_CODES, each code is documented in
/// docs/diagnostics.md and produced by a fixture of tests/import/, and `--format json`
/// gives one object per line not imported, each naming a line inside the file.
#[test]
fn the_report_codes_every_line_and_speaks_json() {
    let doc = std::fs::read_to_string(root().join("docs/diagnostics.md")).expect("docs/diagnostics.md");
    let mut seen = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(root().join("tests/import")).expect("tests/import") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            continue;
        }
        let lines = std::fs::read_to_string(&path).expect("readable").lines().count();
        let out = natc(&["import", path.to_str().unwrap(), "--format", "json"]);
        let human = natc(&["import", path.to_str().unwrap()]);
        let human = String::from_utf8_lossy(&human.stderr).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let records: Vec<serde_json::Value> = stderr
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}: {l}", path.display())))
            .collect();
        assert_eq!(records.len(), human.matches(": not imported [").count(), "{}: {stderr}\n{human}", path.display());
        for r in &records {
            let line = r["line"].as_u64().expect("line") as usize;
            assert!((1..=lines).contains(&line), "{}: line {line} outside the file", path.display());
            assert_eq!(r["file"].as_str(), path.to_str());
            assert!(r["text"].is_string() && r["message"].as_str().is_some_and(|m| m.starts_with("not imported: ")));
            let code = r["code"].as_str().expect("code").to_string();
            assert!(natc::vocab::codes::IMPORT_CODES.iter().any(|(c, _)| c.0 == code), "{code} is not an import code");
            assert!(human.contains(&format!(":{line}: not imported [{code}]: ")), "{code} at {line}:\n{human}");
            seen.insert(code);
        }
    }
    for (code, summary) in natc::vocab::codes::IMPORT_CODES {
        assert!(doc.contains(&format!("| {code} | {summary} |")), "{code} is not in docs/diagnostics.md");
        assert!(seen.contains(code.0), "no fixture of tests/import/ produces {code}");
    }
}
