//! `natc drift` (docs/drift.md): a capture of what a box runs, compared with what the intent
//! builds for it. The captures are natc's own build output (as the box would run it) and,
//! for iptables and nftables, what a real kernel gives back from `iptables-save` and
//! `nft list ruleset` after loading it; then one rule is edited, one deleted, one added.

mod common;

use std::process::{Command, Output};

fn natc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_natc")).args(args).output().expect("natc runs")
}

/// Run `natc drift INTENT --running <capture> -g G -t T [extra]` on `capture`.
fn drift(intent: &str, gateway: &str, target: &str, capture: &str, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("running.txt");
    std::fs::write(&file, capture).expect("write capture");
    let intent = common::root().join(intent);
    let mut args =
        vec!["drift", intent.to_str().unwrap(), "--running", file.to_str().unwrap(), "-g", gateway, "-t", target];
    args.extend_from_slice(extra);
    natc(&args)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// One case: the capture changed by `change`, and the line the report must hold.
struct Case {
    what: &'static str,
    change: Box<dyn Fn(&str) -> String>,
    expect: &'static str,
}

fn replace(from: &'static str, to: &'static str) -> Box<dyn Fn(&str) -> String> {
    Box::new(move |text: &str| {
        assert!(text.contains(from), "the capture has {from:?}");
        text.replacen(from, to, 1)
    })
}

fn delete(containing: &'static str) -> Box<dyn Fn(&str) -> String> {
    Box::new(move |text: &str| {
        assert!(text.contains(containing), "the capture has {containing:?}");
        text.lines().filter(|l| !l.contains(containing)).map(|l| format!("{l}\n")).collect()
    })
}

/// Insert `line` after the first line containing `after`.
fn insert_after(after: &'static str, line: impl Into<String>) -> Box<dyn Fn(&str) -> String> {
    let line: String = line.into();
    Box::new(move |text: &str| {
        let mut out = String::new();
        let mut done = false;
        for l in text.lines() {
            out.push_str(l);
            out.push('\n');
            if !done && l.contains(after) {
                out.push_str(&line);
                out.push('\n');
                done = true;
            }
        }
        assert!(done, "the capture has {after:?}");
        out
    })
}

/// The unchanged capture gives exit 0; every case gives exit 1 naming its rule, in the
/// human report and in the JSON object.
fn check(intent: &str, gateway: &str, target: &str, capture: &str, cases: Vec<Case>) {
    let same = drift(intent, gateway, target, capture, &[]);
    assert_eq!(same.status.code(), Some(0), "unchanged {target} capture: {}", stdout(&same));
    assert!(stdout(&same).contains("0 differ"), "{}", stdout(&same));
    for case in cases {
        let changed = (case.change)(capture);
        let out = drift(intent, gateway, target, &changed, &[]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{target} {}: {text}", case.what);
        assert!(text.contains(case.expect), "{target} {}: expected {:?} in:\n{text}", case.what, case.expect);
        assert!(text.contains("1 differ"), "{target} {}: exactly one rule differs:\n{text}", case.what);
        let json = drift(intent, gateway, target, &changed, &["--format", "json"]);
        assert_eq!(json.status.code(), Some(1));
        let json = stdout(&json);
        assert!(json.starts_with("{\"drift\":true,"), "{json}");
        let name = case.expect.split('"').nth(1).expect("a quoted name");
        assert!(json.contains(&format!("\"name\":\"{name}\"")), "{json}");
    }
}

fn iptables_cases() -> Vec<Case> {
    vec![
        Case { what: "edit", change: replace("--dport 8443", "--dport 8444"), expect: "changed dnat \"https-to-web\"" },
        Case { what: "delete", change: delete("allow/lan-out"), expect: "missing allow \"lan-out\"" },
        Case {
            what: "add",
            change: insert_after(
                "allow/web-in",
                "-A FORWARD -s 192.0.2.7/32 -p tcp -m tcp --dport 25 -m comment --comment \"edge allow/rogue\" -j ACCEPT",
            ),
            expect: "extra allow \"rogue\"",
        },
        Case {
            what: "policy",
            change: replace(":FORWARD DROP", ":FORWARD ACCEPT"),
            expect: "changed policy \"forward\"",
        },
    ]
}

fn nft_cases() -> Vec<Case> {
    vec![
        Case { what: "edit", change: replace("dport 8443", "dport 8444"), expect: "changed dnat \"https-to-web\"" },
        Case { what: "delete", change: delete("allow/lan-out"), expect: "missing allow \"lan-out\"" },
        Case {
            what: "add",
            change: insert_after(
                "allow/web-in",
                "\t\tip saddr 192.0.2.7 tcp dport 25 accept comment \"edge allow/rogue\"",
            ),
            expect: "extra allow \"rogue\"",
        },
        Case {
            what: "policy",
            change: replace(
                "hook forward priority filter; policy drop;",
                "hook forward priority filter; policy accept;",
            ),
            expect: "changed policy \"forward\"",
        },
    ]
}

#[test]
fn iptables_save_capture_edit_delete_add() {
    let built = common::primary_of("examples/port-forward.toml", "iptables", "edge");
    check("examples/port-forward.toml", "edge", "iptables", &built, iptables_cases());
    // The changed rule names its intent item's line: the `[[gateway.dnat]]` header above
    // `name = "https-to-web"`.
    let intent = std::fs::read_to_string(common::root().join("examples/port-forward.toml")).expect("readable");
    let lines: Vec<&str> = intent.lines().collect();
    let name = lines.iter().position(|l| l.starts_with("name = \"https-to-web\"")).expect("the item");
    let header = (0..name).rev().find(|&i| lines[i].starts_with("[[gateway.dnat]]")).expect("its header") + 1;
    let out = drift(
        "examples/port-forward.toml",
        "edge",
        "iptables",
        &built.replacen("--dport 8443", "--dport 8444", 1),
        &[],
    );
    assert!(stdout(&out).contains(&format!("port-forward.toml:{header}, gateway edge")), "{}", stdout(&out));
    let json = drift(
        "examples/port-forward.toml",
        "edge",
        "iptables",
        &built.replacen("--dport 8443", "--dport 8444", 1),
        &["--format", "json"],
    );
    assert!(stdout(&json).contains(&format!("\"intent_line\":{header},")), "{}", stdout(&json));
}

#[test]
fn nft_capture_edit_delete_add() {
    let built = common::primary_of("examples/port-forward.toml", "nftables", "edge");
    check("examples/port-forward.toml", "edge", "nftables", &built, nft_cases());
}

/// What a kernel gives back after loading `file` with `load`, then `dump`.
fn kernel_capture(contents: &str, load: &str, dump: &str) -> String {
    common::require_root_and(&["unshare", "nft", "iptables-restore", "iptables-save"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("rules");
    std::fs::write(&file, contents).expect("write");
    let out = Command::new("unshare")
        .args(["--net", "sh", "-ec", &format!("{load} \"$F\"; {dump}")])
        .env("F", &file)
        .output()
        .expect("unshare runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn real_iptables_save_and_nft_list_ruleset_captures() {
    let built = common::primary_of("examples/port-forward.toml", "iptables", "edge");
    let capture = kernel_capture(&built, "iptables-restore <", "iptables-save");
    check("examples/port-forward.toml", "edge", "iptables", &capture, iptables_cases());
    let built = common::primary_of("examples/port-forward.toml", "nftables", "edge");
    let capture = kernel_capture(&built, "nft -f", "nft list ruleset");
    check("examples/port-forward.toml", "edge", "nftables", &capture, nft_cases());
}

#[test]
fn rules_natc_does_not_own_are_ignored_and_counted() {
    let built = common::primary_of("examples/port-forward.toml", "iptables", "edge");
    let capture = insert_after("allow/web-in", "-A DOCKER -i docker0 -j RETURN")(&built);
    let out = drift("examples/port-forward.toml", "edge", "iptables", &capture, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("1 line(s)") && text.contains("ignored 1: a rule in filter DOCKER"), "{text}");
    let json = stdout(&drift("examples/port-forward.toml", "edge", "iptables", &capture, &["--format", "json"]));
    assert!(json.starts_with("{\"drift\":false,") && json.contains("\"ignored_lines\":1}"), "{json}");
}

#[test]
fn vyos_capture_edit_delete_add() {
    let intent = "tests/vyos-kitchen-sink.toml";
    let built = common::primary_of(intent, "vyos", "gw");
    let cases = vec![
        Case {
            what: "edit",
            change: replace("translation port '8443'", "translation port '8444'"),
            expect: "changed dnat \"web\"",
        },
        Case { what: "delete", change: delete("source rule 886487 "), expect: "missing snat \"one\"" },
        Case {
            what: "add",
            change: Box::new(|t: &str| {
                format!(
                    "{t}set nat source rule 886490 description 'gw snat/rogue'\nset nat source rule 886490 outbound-interface name 'eth1'\nset nat source rule 886490 translation address 'masquerade'\n"
                )
            }),
            expect: "extra snat \"rogue\"",
        },
    ];
    check(intent, "gw", "vyos", &built, cases);
}

#[test]
fn rtx_capture_edit_delete_add() {
    let intent = "examples/seed-004-vyos-rtx.toml";
    let path = common::root().join(intent);
    let text = std::fs::read_to_string(&path).expect("readable");
    let artifacts = common::build_gateways(&path, &text, "rtx", vec!["office-rtx".into()]).expect("builds");
    let built = common::primary(&artifacts[0]).to_string();
    let cases = vec![
        Case { what: "edit", change: replace("udp * 500", "udp * 501"), expect: "changed allow \"ike-udp-500\"" },
        Case { what: "delete", change: delete("ip filter 145520 "), expect: "missing allow \"office-ntp\"" },
        Case {
            what: "add",
            change: Box::new(|t: &str| {
                let t = insert_after(
                    "ip filter 145520 ",
                    "# office-rtx allow/rogue\nip filter 145600 pass 192.0.2.7 * tcp * 25",
                )(t);
                replace("ip lan1 secure filter in ", "ip lan1 secure filter in 145600 ")(&t)
            }),
            expect: "extra allow \"rogue\"",
        },
    ];
    check(intent, "office-rtx", "rtx", &built, cases);
}

#[test]
fn usage_errors_exit_2() {
    let out = drift("examples/port-forward.toml", "no-such-gateway", "iptables", "*nat\nCOMMIT\n", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let out = natc(&["drift", "examples/port-forward.toml", "-g", "edge", "-t", "iptables"]);
    assert_eq!(out.status.code(), Some(2));
    // An nft capture given for the iptables target is refused, not read as "all missing".
    let nft = common::primary_of("examples/port-forward.toml", "nftables", "edge");
    let out = drift("examples/port-forward.toml", "edge", "iptables", &nft, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("looks like nft output"));
}

/// A foreign table (nft), filter number (RTX) or rule without natc's description (VyOS) is
/// ignored and counted, not drift.
#[test]
fn foreign_tables_numbers_and_rules_are_ignored() {
    let nft = common::primary_of("examples/port-forward.toml", "nftables", "edge");
    let nft = format!(
        "{nft}table inet other {{\n\tchain c {{\n\t\ttype filter hook input priority 10; policy accept;\n\t\ttcp dport 80 accept\n\t}}\n}}\n"
    );
    let out = drift("examples/port-forward.toml", "edge", "nftables", &nft, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("ignored 6: an nftables table natc does not write"), "{}", stdout(&out));

    let intent = "examples/seed-004-vyos-rtx.toml";
    let path = common::root().join(intent);
    let text = std::fs::read_to_string(&path).expect("readable");
    let artifacts = common::build_gateways(&path, &text, "rtx", vec!["office-rtx".into()]).expect("builds");
    let rtx = format!("{}ip filter 10 pass 192.0.2.9 * tcp * 25\n", common::primary(&artifacts[0]));
    let out = drift(intent, "office-rtx", "rtx", &rtx, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("ignored 1: an RTX filter outside natc's numbers"), "{}", stdout(&out));

    let vyos = common::primary_of("tests/vyos-kitchen-sink.toml", "vyos", "gw");
    let vyos = format!(
        "{vyos}set nat source rule 10 outbound-interface name 'eth1'\nset nat source rule 10 translation address 'masquerade'\n"
    );
    let out = drift("tests/vyos-kitchen-sink.toml", "gw", "vyos", &vyos, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("ignored 2: a VyOS rule natc did not write"), "{}", stdout(&out));
}

fn firewalld_cases(prefix: &'static str) -> Vec<Case> {
    let added = format!(
        "{prefix}filter natc-forward 0 -s 192.0.2.7/32 -p tcp -m tcp --dport 25 -m comment --comment 'edge allow/rogue' -j ACCEPT"
    );
    vec![
        Case { what: "edit", change: replace("--dport 8443", "--dport 8444"), expect: "changed dnat \"https-to-web\"" },
        Case { what: "delete", change: delete("allow/lan-out"), expect: "missing allow \"lan-out\"" },
        Case { what: "add", change: insert_after("allow/web-in", added), expect: "extra allow \"rogue\"" },
    ]
}

/// firewalld: natc's own script as the capture, and its direct rules in the form
/// `firewall-cmd --direct --get-all-rules` prints (`ipv4 TABLE CHAIN PRIORITY ARGS`).
#[test]
fn firewalld_capture_edit_delete_add() {
    let script = common::primary_of("examples/port-forward.toml", "firewalld", "edge");
    check("examples/port-forward.toml", "edge", "firewalld", &script, firewalld_cases("    rule "));
    let all_rules: String =
        script.lines().filter_map(|l| l.strip_prefix("    rule ")).map(|l| format!("ipv4 {l}\n")).collect();
    assert!(all_rules.lines().count() >= 5, "{all_rules}");
    check("examples/port-forward.toml", "edge", "firewalld", &all_rules, firewalld_cases("ipv4 "));
}

/// Every example, every target it builds for: natc's own output, as the box would run it,
/// is no drift (exit 0), and at least one rule of it is compared.
#[test]
fn every_example_matches_its_own_build() {
    let mut compared = 0;
    for example in common::examples() {
        let text = std::fs::read_to_string(&example).expect("readable");
        let relative = example.strip_prefix(common::root()).expect("under the checkout").to_str().unwrap().to_string();
        for target in ["iptables", "nftables", "firewalld", "vyos", "rtx"] {
            // A gateway a target cannot express (N301) has nothing to compare on that target.
            let Ok(artifacts) = common::build_gateways(&example, &text, target, Vec::new()) else { continue };
            for a in &artifacts {
                let out = drift(&relative, &a.gateway, target, common::primary(a), &[]);
                let report = stdout(&out);
                assert_eq!(out.status.code(), Some(0), "{relative} {} {target}:\n{report}", a.gateway);
                compared += 1;
            }
        }
    }
    assert!(compared >= 10, "only {compared} gateway-targets compared");
}
