//! The Yamaha RTX target: every example and every `tests/rtx/*.toml` intent is built,
//! snapshotted for review and checked line by line against natc's own RTX grammar for its
//! model (tests/common/grammar/rtx.commands);
//! the facts that make the output right are asserted (snapshots alone prove nothing).

mod common;

use insta::assert_snapshot;
use natc::{Artifact, BuildOptions};
use std::path::PathBuf;

/// Every example, then the intents written for this target.
fn intents() -> Vec<PathBuf> {
    let mut files = common::examples();
    let mut own: Vec<PathBuf> = std::fs::read_dir(common::root().join("tests/rtx"))
        .expect("tests/rtx exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    own.sort();
    files.extend(own);
    files
}

fn snapshot_text(artifacts: &[Artifact]) -> String {
    let mut text = String::new();
    for a in artifacts {
        for f in &a.files {
            text.push_str(&format!("==> {}/{} ({}) <==\n{}\n", a.gateway, f.name, a.target, f.contents));
        }
    }
    text
}

fn model(a: &Artifact) -> String {
    a.target.profile.expect("rtx artifacts carry their model").to_string()
}

fn config(a: &Artifact) -> &str {
    &a.files.iter().find(|f| f.primary).expect("primary file").contents
}

/// Each gateway on its own (a build is all or nothing): its artifact or its refusal.
fn build_each(path: &std::path::Path) -> Vec<(String, Result<Artifact, String>)> {
    let text = std::fs::read_to_string(path).expect("readable intent");
    let compiled = common::compile(path);
    compiled
        .plan
        .gateways
        .iter()
        .map(|g| {
            let built = common::build_gateways(path, &text, "rtx", vec![g.name.clone()]).map(|mut a| a.remove(0));
            (g.name.clone(), built)
        })
        .collect()
}

fn office_rtx() -> Artifact {
    let path = common::root().join("examples/seed-004-vyos-rtx.toml");
    let text = std::fs::read_to_string(&path).expect("seed");
    common::build_gateways(&path, &text, "rtx", vec!["office-rtx".into()]).expect("office-rtx builds").remove(0)
}

#[test]
fn every_intent_builds_or_is_refused_and_every_output_passes_the_rtx_grammar() {
    let mut checked = 0;
    for path in intents() {
        let mut text = String::new();
        let router = common::router_lines(&std::fs::read_to_string(&path).expect("readable"));
        for (gateway, built) in build_each(&path) {
            match built {
                Ok(a) => {
                    if let Err(report) = common::rtx_check(&format!("{router}{}", config(&a)), &model(&a)) {
                        panic!(
                            "{} {gateway}: the RTX checks for {} reject the output:\n{report}\n{}",
                            common::stem(&path),
                            model(&a),
                            config(&a)
                        );
                    }
                    checked += 1;
                    text.push_str(&snapshot_text(&[a]));
                }
                Err(diagnostics) => text.push_str(&format!("==> {gateway}: build refused <==\n{diagnostics}\n")),
            }
        }
        insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
            assert_snapshot!(format!("{}@rtx", common::stem(&path)), text);
        });
    }
    assert!(checked >= 3, "only {checked} RTX outputs were checked");
}

/// Negative controls: natc's RTX checks accept office-rtx as built and refuse it with one
/// broken line added, for each way a line can be wrong alone or with the others.
#[test]
fn the_rtx_grammar_rejects_a_broken_line() {
    let a = &office_rtx();
    assert_eq!(common::rtx_check(config(a), "RTX1200"), Ok(()));
    for (model, broken, why) in [
        ("RTX1200", "ip filter 3000 pass 192.168.0.300 * udp * 500", "192.168.0.300"),
        ("RTX1200", "ip filter 21474837 pass * * udp * 500", "21474837"),
        ("RTX1200", "ip filter 3000 pass * * udp * 1,2,3,4,5,6,7,8,9,10,11", "filter-ports"),
        ("RTX1200", "ip eth0 address 10.0.0.1/24", "eth0"),
        ("RTX1200", "sntpd service on", "not a command natc writes"),
        ("RTX1200", "ip lan3 nat masquerade 1000", "where `descriptor` belongs"),
        ("RTX1200", "nat descriptor type 1000 masquerade hairpin=on", "more than the command takes"),
        ("RTX1200", "ipsec ike version 1 2", "ikev2"),
        ("RTX1210", "ipsec ike hash 1 sha512", "sha2-big"),
        ("RTX830", "tunnel enable 21", "tunnel-number"),
        ("RTX1300", "ip vlan2 address 10.0.0.1/24", "vlan2"),
        ("RTX1200", "ip tunnel address 10.0.0.1/30", "tunnel select"),
        ("RTX1200", "ipsec ike pre-shared-key 1 text a#b", "psk-text"),
        // Across the lines of the whole config: a list names a filter nobody defined, and
        // a setting entered a second time.
        ("RTX1200", "ip lan3 secure filter out 4242", "4242"),
        ("RTX1200", "ip lan3 address 10.0.0.1/24", "already entered"),
    ] {
        let report = common::rtx_check(&format!("{}{broken}\n", config(a)), model).expect_err(broken);
        assert!(report.contains(broken) && report.contains(why), "{broken}: {report}");
    }
}

/// The seed article's hand-typed RTX1200 lines, from the example's header comment.
fn seed_lines() -> Vec<String> {
    let text = std::fs::read_to_string(common::root().join("examples/seed-004-vyos-rtx.toml")).expect("seed");
    text.lines()
        .skip_while(|l| !l.contains("RTX1200:"))
        .skip(1)
        .take_while(|l| l.starts_with("#     "))
        .map(|l| l.trim_start_matches('#').trim().to_string())
        .collect()
}

fn numbers_after(line: &str, prefix: &str) -> Vec<String> {
    line.strip_prefix(prefix).unwrap_or_default().split_whitespace().map(str::to_string).collect()
}

#[test]
fn seed_004_office_rtx_says_what_the_seed_says() {
    let path = common::root().join("examples/seed-004-vyos-rtx.toml");
    let text = std::fs::read_to_string(&path).expect("seed");
    let compiled = natc::compile(&text).expect("compiles");
    let options = BuildOptions { targets: vec![], gateways: vec!["office-rtx".into()], ..Default::default() };
    let built = natc::build(&compiled, &options).expect("office-rtx builds for its own target, rtx");
    let [a] = built.as_slice() else { panic!("one artifact") };
    assert_eq!(a.target.to_string(), "rtx@RTX1200", "the gateway's model profile is used");
    let out = config(a);
    let lines: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    let find = |prefix: &str| lines.iter().find(|l| l.starts_with(prefix)).copied();

    // NAT: one masquerade descriptor on lan3, outer 198.51.100.2.
    let binding = find("ip lan3 nat descriptor ").unwrap_or_else(|| panic!("no descriptor on lan3:\n{out}"));
    let d = numbers_after(binding, "ip lan3 nat descriptor ").join(" ");
    assert!(lines.contains(&format!("nat descriptor type {d} masquerade").as_str()), "{out}");
    assert!(lines.contains(&format!("nat descriptor address outer {d} 198.51.100.2").as_str()), "{out}");

    // Filters: udp 500 and 4500 from the office, and the seed's own application-form
    // dynamic filter for their replies, shared by both.
    let filter_for = |port: &str| {
        let l = lines
            .iter()
            .find(|l| l.starts_with("ip filter ") && l.ends_with(&format!(" pass 192.168.0.0/24 * udp * {port}")))
            .unwrap_or_else(|| panic!("no filter for udp {port}:\n{out}"));
        l.split_whitespace().nth(2).expect("number").to_string()
    };
    let (ike, natt) = (filter_for("500"), filter_for("4500"));
    let dynamics_of = |tail: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l.starts_with("ip filter dynamic ") && l.ends_with(tail))
            .map(|l| l.split_whitespace().nth(3).expect("number").to_string())
            .collect()
    };
    let [replies] = dynamics_of(" 192.168.0.0/24 * udp").try_into().unwrap_or_else(|v| panic!("{v:?}:\n{out}"));
    let filter_form =
        |l: &&&str| l.starts_with("ip filter dynamic ") && l.split_whitespace().skip(4).any(|w| w == "filter");
    assert!(!lines.iter().any(|l| filter_form(&l)), "no filter form:\n{out}");
    // input = drop: replies to the router's own tcp, udp and ping flows, by application.
    let own_flow = |app: &str| {
        let [n] = dynamics_of(&format!(" 192.168.0.1,198.51.100.2 * {app}"))
            .try_into()
            .unwrap_or_else(|v| panic!("own {app}: {v:?}:\n{out}"));
        n
    };
    let own = [own_flow("tcp"), own_flow("udp"), own_flow("ping")];

    // Applied on lan3 out, in intent order (500 before 4500), dynamics after `dynamic`.
    let applied = find("ip lan3 secure filter out ").unwrap_or_else(|| panic!("no out list on lan3:\n{out}"));
    let words = numbers_after(applied, "ip lan3 secure filter out ");
    let split = words.iter().position(|w| w == "dynamic").expect("a dynamic part");
    let (statics, dynamics) = (&words[..split], &words[split + 1..]);
    let at = |v: &[String], n: &str| v.iter().position(|w| w == n).unwrap_or_else(|| panic!("{n} not in {applied}"));
    assert!(at(statics, &ike) < at(statics, &natt), "intent order: {applied}");
    assert_eq!(dynamics[0], replies, "{applied}");
    for n in &own {
        at(dynamics, n);
    }
    // The only other out filter passes the router's own traffic, and it comes first.
    assert_eq!(statics.len(), 3, "{applied}");
    assert!(
        lines.contains(&format!("ip filter {} pass 192.168.0.1,198.51.100.2 * * * *", statics[0]).as_str()),
        "{out}"
    );
    let filter_line = |n: &str| {
        *lines
            .iter()
            .find(|l| l.starts_with(&format!("ip filter {n} ")))
            .unwrap_or_else(|| panic!("filter {n} is not defined:\n{out}"))
    };
    // input = drop: nothing arriving on lan3 passes statically (the router is closed from
    // the Internet); only dynamic-filter replies come in.
    let inbound = find("ip lan3 secure filter in ").unwrap_or_else(|| panic!("no in list on lan3:\n{out}"));
    let inbound = numbers_after(inbound, "ip lan3 secure filter in ");
    assert!(!inbound.is_empty() && !inbound.contains(&"dynamic".to_string()), "{inbound:?}");
    for n in &inbound {
        let l = filter_line(n);
        assert!(l.split_whitespace().nth(3) == Some("reject"), "lan3 in passes something: `{l}`");
    }
    // From the office (lan1): the router answers only DNS, NTP, ping and the admin ports;
    // forwarded traffic passes to every destination but the router's.
    let lan1_in = find("ip lan1 secure filter in ").unwrap_or_else(|| panic!("no in list on lan1:\n{out}"));
    let lan1_in = numbers_after(lan1_in, "ip lan1 secure filter in ");
    let router = ["192.168.0.1", "198.51.100.2"];
    let mut to_router = Vec::new();
    for n in &lan1_in {
        let l = filter_line(n);
        let w: Vec<&str> = l.split_whitespace().collect();
        let dst: Vec<&str> = w[5].split(',').collect();
        if router.iter().any(|r| dst.contains(r)) {
            to_router.push(format!("{} {}", w[6], w.get(8).copied().unwrap_or("*")));
        } else {
            assert_eq!(w[6..], ["*", "*", "*"], "a forward pass-through only: `{l}`");
            assert!(w[5].contains("192.168.0.2-") && !w[5].contains("198.51.100.2-"), "`{l}`");
        }
    }
    assert_eq!(to_router, ["udp 53", "tcp 53", "udp 123", "icmp *", "tcp 23,80"], "{out}");
    assert!(lines.contains(&"ip route default gateway 198.51.100.1"), "{out}");

    // Against the seed's hand-typed lines: the same commands with natc's numbers, except
    // where the intent is more precise than the seed (each difference is documented).
    let seed = seed_lines();
    assert_eq!(seed.len(), 9, "{seed:?}");
    for line in seed {
        let expected = line
            .replace("nat descriptor 1", &format!("nat descriptor {d}"))
            .replace("type 1 ", &format!("type {d} "))
            .replace("outer 1 ", &format!("outer {d} "))
            .replace("inner 1 auto", &format!("inner {d} 192.168.0.0-192.168.0.255")) // source = @office
            .replace("ip filter 3000 ", &format!("ip filter {ike} "))
            .replace("ip filter 3001 ", &format!("ip filter {natt} "));
        let expected = match expected.as_str() {
            "ip filter dynamic 108 192.168.0.0/24 * udp" => format!("ip filter dynamic {replies} 192.168.0.0/24 * udp"),
            // The router's own traffic goes first (netfilter never filters OUTPUT), and
            // input = drop adds the dynamic filters for the router's own flows.
            "ip lan3 secure filter out 3000 3001 dynamic 108" => {
                format!(
                    "ip lan3 secure filter out {} {ike} {natt} dynamic {replies} {}",
                    statics[0],
                    dynamics[1..].join(" ")
                )
            }
            other => other.to_string(),
        };
        assert!(lines.contains(&expected.as_str()), "seed line `{line}` has no counterpart `{expected}`:\n{out}");
    }
}

#[test]
fn seed_004_vyos_gateway_is_refused_for_rtx_naming_each_item() {
    let path = common::root().join("examples/seed-004-vyos-rtx.toml");
    let report = common::build(&path, "rtx").expect_err("eth0, vti0/vti1 and BGP have no RTX form");
    for item in [
        "vyos-project-a interface/eth0",
        "vyos-project-a tunnel/vpc-tunnel-1",
        "vyos-project-a tunnel/vpc-tunnel-2",
        "vyos-project-a bgp/bgp",
    ] {
        assert!(report.contains(item), "no error names {item}:\n{report}");
    }
    assert!(report.contains("target rtx") && report.contains("N301"), "{report}");
    assert!(!report.contains("office-rtx"), "office-rtx is expressible:\n{report}");
}

#[test]
fn output_is_byte_identical_across_runs() {
    for path in intents() {
        let text = |b: Vec<(String, Result<Artifact, String>)>| {
            b.into_iter().map(|(g, r)| format!("{g}: {:?}", r.map(|a| config(&a).to_string()))).collect::<Vec<_>>()
        };
        assert_eq!(text(build_each(&path)), text(build_each(&path)), "{}", common::stem(&path));
    }
}

#[test]
fn every_numbered_line_carries_its_origin() {
    for path in intents() {
        for a in build_each(&path).into_iter().filter_map(|(_, r)| r.ok()) {
            let a = &a;
            let lines: Vec<&str> = config(a).lines().collect();
            for (n, line) in lines.iter().enumerate() {
                let item = [
                    "ip filter ",
                    "nat descriptor static ",
                    "nat descriptor masquerade static ",
                    "ip route ",
                    "tunnel select 1",
                ]
                .iter()
                .any(|p| line.starts_with(p));
                if !item {
                    continue;
                }
                let comments: Vec<&&str> = lines[..n].iter().rev().take_while(|l| l.starts_with('#')).collect();
                assert!(
                    comments.iter().any(|c| c.starts_with(&format!("# {} ", a.gateway))),
                    "{}: `{line}` has no origin comment",
                    common::stem(&path)
                );
            }
        }
    }
}

#[test]
fn hostile_text_stays_in_comments_and_secrets_stay_placeholders() {
    let office = common::build(&common::root().join("tests/rtx/rtx-office.toml"), "rtx").expect("builds");
    let out = config(&office[0]);
    assert!(
        out.lines().any(|l| l == "# ip filter 1 pass * * * * *   <- this description line must stay a comment"),
        "{out}"
    );
    assert!(!out.lines().any(|l| l.starts_with("ip filter 1 ")), "{out}");
    let vpn = common::build(&common::root().join("tests/rtx/rtx-vpn.toml"), "rtx").expect("builds");
    let out = config(&vpn[0]);
    assert!(
        out.contains("  ipsec ike pre-shared-key 1 text @@natc-secret:file:/etc/natc/cloud\\ \\#1.psk@@\n"),
        "{out}"
    );
}

/// The application form where it is the allow's exact replies; the filter form where a
/// stateless allow on the same list shares its flows (rtx-office: syslog-out, udp, stateless).
#[test]
fn dynamic_filters_take_the_application_form_only_where_it_is_exact() {
    let office = common::build(&common::root().join("tests/rtx/rtx-office.toml"), "rtx").expect("builds");
    let out = config(&office[0]);
    let lines: Vec<&str> = out.lines().collect();
    let after = |comment: &str| {
        let i = lines.iter().position(|l| *l == comment).unwrap_or_else(|| panic!("no `{comment}`:\n{out}"));
        lines[i + 1..].iter().find(|l| !l.starts_with('#')).copied().expect("a line")
    };
    let number = |l: &str| l.split_whitespace().nth(2).expect("number").to_string();
    // lan-web-out (tcp): no stateless tcp allow shares its flows.
    let web = after("# branch-rtx allow/lan-web-out (replies: tcp from 192.168.10.0/24 to *)");
    assert!(web.starts_with("ip filter dynamic ") && web.ends_with(" 192.168.10.0/24 * tcp"), "{web}");
    // lan-dns-out (udp from the LAN to anywhere) would also give syslog-out replies: filter form.
    let dns = number(after("# branch-rtx allow/lan-dns-out"));
    let replies = after("# branch-rtx allow/lan-dns-out (replies)");
    assert_eq!(
        replies.split_whitespace().skip(4).collect::<Vec<_>>(),
        ["192.168.10.0/24", "*", "filter", &dns],
        "{out}"
    );
    assert!(!out.contains(" * udp\n"), "no udp application form:\n{out}");
    // Without the stateless allow, the application form.
    let text = std::fs::read_to_string(common::root().join("tests/rtx/rtx-office.toml")).expect("intent");
    let without = text.replace(
        "stateful = false\n\n[[gateway.allow]]\nname = \"lan-ping-out\"",
        "\n[[gateway.allow]]\nname = \"lan-ping-out\"",
    );
    assert_ne!(without, text);
    let built = built(&without);
    assert!(
        built.lines().any(|l| l.starts_with("ip filter dynamic ") && l.ends_with(" 192.168.10.0/24 * udp")),
        "{built}"
    );
}

/// input = "drop" with forward = "accept" (rtx-vpn-closed): every interface, the tunnel's
/// included, gets an in list; for the router it passes only the LAN's SSH (lan1 only) and
/// the peer's IKE, NAT-T and ESP (LAN interfaces only); the forward pass-through names no
/// address of the router; every out list passes all and carries the own-flow dynamics.
#[test]
fn input_drop_closes_every_interface_to_all_but_what_input_allows_name() {
    let a = common::build(&common::root().join("tests/rtx/rtx-vpn-closed.toml"), "rtx").expect("builds");
    let out = config(&a[0]);
    let lines: Vec<&str> = out.lines().map(str::trim_start).filter(|l| !l.starts_with('#')).collect();
    let filter = |n: &str| {
        let l =
            lines.iter().find(|l| l.starts_with(&format!("ip filter {n} "))).unwrap_or_else(|| panic!("{n}:\n{out}"));
        l.split_whitespace().skip(3).collect::<Vec<_>>().join(" ")
    };
    let list = |prefix: &str| {
        let l = lines.iter().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no `{prefix}`:\n{out}"));
        let words: Vec<String> = l[prefix.len()..].split_whitespace().map(str::to_string).collect();
        let split = words.iter().position(|w| w == "dynamic").unwrap_or(words.len());
        (words[..split].iter().map(|n| filter(n)).collect::<Vec<_>>(), words[split..].len().saturating_sub(1))
    };
    let router = "192.168.10.1,203.0.113.2,169.254.10.2";
    let peer = [
        format!("pass 198.51.100.10 {router} udp * 500"),
        format!("pass 198.51.100.10 {router} udp * 4500"),
        format!("pass 198.51.100.10 {router} esp"),
    ];
    let (lan1, _) = list("ip lan1 secure filter in ");
    let (lan2, _) = list("ip lan2 secure filter in ");
    let (tunnel, _) = list("ip tunnel secure filter in ");
    assert_eq!(lan1[..3], peer, "{out}");
    assert!(lan1[3].starts_with("pass 192.168.10.0/24 192.168.10.1,") && lan1[3].ends_with(" tcp * 22"), "{out}");
    assert_eq!(lan2[..3], peer, "{out}");
    assert_eq!((lan1.len(), lan2.len(), tunnel.len()), (5, 4, 1), "{out}");
    let through = &tunnel[0];
    assert_eq!([&lan1[4], &lan2[3]], [through, through]);
    // Its destination field covers every address but the router's (and the broadcasts).
    let dst = through.split_whitespace().nth(2).expect("destination");
    let covers = |a: &str| {
        let a: std::net::Ipv4Addr = a.parse().expect("address");
        dst.split(',').any(|item| {
            let (lo, hi) = item.split_once('-').unwrap_or((item, item));
            let (lo, hi): (std::net::Ipv4Addr, std::net::Ipv4Addr) = (lo.parse().expect("lo"), hi.parse().expect("hi"));
            lo <= a && a <= hi
        })
    };
    for own in router.split(',').chain(["192.168.10.255", "255.255.255.255", "224.0.0.5"]) {
        assert!(!covers(own), "{own} is the router's, and `{through}` passes it");
    }
    for other in ["192.168.10.5", "8.8.8.8", "172.16.0.1", "203.0.113.3", "0.0.0.0"] {
        assert!(covers(other), "{other} is forwarded, and `{through}` does not pass it");
    }
    for prefix in ["ip lan1 secure filter out ", "ip lan2 secure filter out ", "ip tunnel secure filter out "] {
        assert_eq!(list(prefix), (vec!["pass * * * * *".to_string()], 3), "{prefix}:\n{out}");
    }
    for app in ["tcp", "udp", "ping"] {
        assert!(
            lines.iter().any(|l| l.starts_with("ip filter dynamic ") && l.ends_with(&format!(" {router} * {app}"))),
            "{out}"
        );
    }
}

/// Coexistence: `rtx_keep` on lan2 keeps the router's own descriptor 1 after natc's, its
/// static filters before natc's and its dynamic filter after natc's; every list line says
/// what it replaces; the router's config plus natc's lines pass the checks; a kept number
/// in natc's own range is refused at the `rtx_keep` line.
#[test]
fn rtx_keep_keeps_the_routers_own_numbers_in_the_lists_natc_replaces() {
    let text = std::fs::read_to_string(common::root().join("tests/rtx/rtx-office.toml")).expect("intent");
    let keep = "rtx_keep = { nat_descriptors = [1], filters_in = [200003, 200020], dynamic_out = [200098] }\n";
    let kept = text.replacen("description = \"ISP\"\n", &format!("description = \"ISP\"\n{keep}"), 1);
    assert_ne!(kept, text);
    let a = common::build_text(&kept, "rtx").unwrap_or_else(|e| panic!("{e}"));
    let out = config(&a[0]);
    let plain = config(&common::build_text(&text, "rtx").expect("builds")[0]).to_string();
    let line =
        |o: &str, p: &str| o.lines().find(|l| l.starts_with(p)).unwrap_or_else(|| panic!("no `{p}`:\n{o}")).to_string();
    let nat = line(&plain, "ip lan2 nat descriptor ");
    assert_eq!(line(out, "ip lan2 nat descriptor "), format!("{nat} 1"));
    let inbound = line(&plain, "ip lan2 secure filter in ");
    assert_eq!(
        line(out, "ip lan2 secure filter in "),
        inbound.replacen("ip lan2 secure filter in ", "ip lan2 secure filter in 200003 200020 ", 1)
    );
    assert_eq!(
        line(out, "ip lan2 secure filter out "),
        format!("{} 200098", line(&plain, "ip lan2 secure filter out "))
    );
    for (prefix, kept) in [("ip lan2 nat descriptor ", "1"), ("ip lan2 secure filter in ", "200003 200020")] {
        let l = out.lines().position(|l| l.starts_with(prefix)).expect("line");
        let above = out.lines().nth(l - 1).expect("comment");
        assert!(
            above.starts_with("# replaces lan2's ") && above.contains(&format!("keeping its own {kept} ")),
            "{above}"
        );
    }
    assert!(
        plain.contains("# replaces lan2's secure filter in list on the router: what it had there stops"),
        "{plain}"
    );
    // The router's own definitions (as its show config has them) plus natc's lines.
    let router = "nat descriptor type 1 masquerade\nnat descriptor address outer 1 primary\n\
                  ip filter 200003 reject 192.168.10.0/24 * * * *\nip filter 200020 reject * * udp,tcp 135 *\n\
                  ip filter dynamic 200098 * * tcp\n";
    common::rtx_check(&format!("{router}{out}"), "RTX1210").unwrap_or_else(|e| panic!("{e}"));
    // natc's own range: refused, at the rtx_keep line.
    let clash = kept.replace("200020", "150000");
    let report = common::build_text(&clash, "rtx").expect_err("150000 is natc's");
    assert!(report.contains("N301") && report.contains("filter 150000") && report.contains("rtx_keep = {"), "{report}");
}

/// `n` port forwards on lan2's masquerade address, with `extra` inserted at position 25.
fn port_forwards(n: usize, extra: bool, filtered: bool) -> String {
    let mut text = String::from(
        "natc = 1\nname = \"fifty\"\n\n[[gateway]]\nname = \"edge\"\ntargets = [\"rtx\"]\n\n\
         [[gateway.interface]]\nname = \"lan1\"\naddress = \"192.168.10.1/24\"\n\n\
         [[gateway.interface]]\nname = \"lan2\"\naddress = \"203.0.113.2/29\"\n\n\
         [[gateway.snat]]\nname = \"masq\"\nsource = \"192.168.10.0/24\"\nto = \"masquerade\"\nout_interface = \"lan2\"\n",
    );
    if filtered {
        text.push_str("\n[gateway.policy]\nforward = \"drop\"\n");
    }
    let mut rules: Vec<(String, u16, u8)> =
        (0..n).map(|i| (format!("fwd-{i}"), 10000 + i as u16, 10 + i as u8)).collect();
    if extra {
        rules.insert(25, ("fwd-new".into(), 20000, 200));
    }
    for (name, port, host) in rules {
        text.push_str(&format!(
            "\n[[gateway.dnat]]\nname = \"{name}\"\ndestination = \"203.0.113.2\"\nto = \"192.168.10.{host}\"\n\
             protocol = \"tcp\"\nport = {port}\nto_port = 80\nin_interface = \"lan2\"\n"
        ));
        if filtered {
            text.push_str(&format!(
                "\n[[gateway.allow]]\nname = \"allow-{name}\"\nto = \"192.168.10.{host}\"\nprotocol = \"tcp\"\nport = 80\nin_interface = \"lan2\"\n"
            ));
        }
    }
    text
}

fn built(text: &str) -> String {
    let a = common::build_text(text, "rtx").unwrap_or_else(|e| panic!("{e}"));
    common::rtx_check(config(&a[0]), &model(&a[0])).unwrap_or_else(|e| panic!("{e}"));
    config(&a[0]).to_string()
}

#[test]
fn adding_one_dnat_among_fifty_changes_only_its_own_lines() {
    // Without filters: the new entry and its origin comment are the whole diff.
    let (before, after) = (built(&port_forwards(50, false, false)), built(&port_forwards(50, true, false)));
    assert_eq!(before.matches("nat descriptor masquerade static ").count(), 50);
    let (removed, added) = common::line_diff(&before, &after);
    assert!(removed.is_empty(), "removed: {removed:#?}");
    assert_eq!(added.len(), 2, "added: {added:#?}");
    assert_eq!(added[0], "# edge dnat/fwd-new");
    assert!(
        added[1].starts_with("nat descriptor masquerade static ") && added[1].ends_with(" 192.168.10.200 tcp 20000=80"),
        "{added:#?}"
    );

    // With forward = drop and one allow per forward: the new rule's filter and dynamic
    // filter (with their comments) are added, and the one shared list line changes only
    // by the new numbers, inserted at the rule's intent position.
    let (before, after) = (built(&port_forwards(50, false, true)), built(&port_forwards(50, true, true)));
    let (removed, added) = common::line_diff(&before, &after);
    let list =
        |v: &[String]| v.iter().filter(|l| l.starts_with("ip lan2 secure filter in ")).cloned().collect::<Vec<_>>();
    assert_eq!((removed.len(), list(&removed).len()), (1, 1), "removed: {removed:#?}");
    let own: Vec<&String> = added.iter().filter(|l| !l.starts_with("ip lan2 secure filter in ")).collect();
    assert_eq!(own.len(), 6, "added: {added:#?}");
    assert!(own.iter().all(|l| l.contains("fwd-new") || l.contains("192.168.10.200")), "added: {added:#?}");
    let new_numbers: Vec<&str> = own
        .iter()
        .filter(|l| l.starts_with("ip filter "))
        .map(|l| l.split_whitespace().nth(if l.starts_with("ip filter dynamic") { 3 } else { 2 }).unwrap_or_default())
        .collect();
    let [old_list] = list(&removed).try_into().expect("one");
    let [new_list] = list(&added).try_into().expect("one");
    let stripped: Vec<&str> = new_list.split_whitespace().filter(|w| !new_numbers.contains(w)).collect();
    assert_eq!(stripped.join(" "), old_list, "the list changed beyond the new rule's numbers");
    let words: Vec<&str> = new_list.split_whitespace().collect();
    let pos = words.iter().position(|w| *w == new_numbers[0]).expect("new filter listed");
    assert_eq!(pos, 5 + 1 + 25, "after the input pass and the 25 earlier allows: {new_list}");
}

#[test]
fn a_list_longer_than_the_model_allows_is_refused() {
    let mut text = String::from(
        "natc = 1\nname = \"long\"\n[[gateway]]\nname = \"edge\"\n[[gateway.interface]]\nname = \"lan1\"\naddress = \"192.168.10.1/24\"\n\
         [[gateway.interface]]\nname = \"lan2\"\naddress = \"203.0.113.2/29\"\n[gateway.policy]\nforward = \"drop\"\n",
    );
    for i in 0..130 {
        text.push_str(&format!("[[gateway.allow]]\nname = \"a{i}\"\nto = \"192.168.10.{}\"\nprotocol = \"udp\"\nin_interface = \"lan2\"\nstateful = false\n", i + 2));
    }
    let report = common::build_text(&text, "rtx").expect_err("130 filters do not fit into one RTX1210 list");
    assert!(report.contains("N301") && report.contains("at most 129 filters"), "{report}");
    assert!(report.contains("edge allow/a128"), "the first allow that does not fit is named:\n{report}");
}

/// IKEv2 identities are `ipsec ike local name` / `remote name` with their type; tcp_mss is
/// `ip tunnel tcp mss limit` inside the tunnel block and `ip lanN tcp mss limit` on a LAN.
#[test]
fn identities_and_mss_limits_are_written_where_the_reference_puts_them() {
    let intent = |ike: u8, ids: &str| {
        format!(
            "natc = 1\nname = \"ids\"\n[[gateway]]\nname = \"hq\"\ntargets = [\"rtx\"]\n\
             [[gateway.interface]]\nname = \"lan1\"\naddress = \"192.0.2.1/24\"\ntcp_mss = 1414\n\
             [[gateway.tunnel]]\nname = \"to-b\"\nremote = \"198.51.100.7\"\nlocal_address = \"192.0.2.1\"\n{ids}\
             psk = {{ env = \"B_PSK\" }}\nike = {{ version = {ike} }}\ntcp_mss = \"auto\"\n\
             vti = {{ name = \"tunnel1\", address = \"169.254.0.1/30\" }}\n"
        )
    };
    let ids = "local_id = \"hq@example.com\"\nremote_id = \"vpn.example.net\"\n";
    let text = built(&intent(2, ids));
    let block =
        &text[text.find("tunnel select 1").expect("a tunnel block")..text.find("tunnel select none").expect("its end")];
    for line in [
        "  ipsec ike local name 1 hq@example.com user-fqdn",
        "  ipsec ike remote name 1 vpn.example.net fqdn",
        " ip tunnel tcp mss limit auto",
    ] {
        assert!(block.lines().any(|l| l == line), "missing `{line}` in the tunnel block:\n{text}");
    }
    assert!(text.lines().any(|l| l == "ip lan1 tcp mss limit 1414"), "{text}");
    common::rtx_check(&text, "RTX1210").unwrap_or_else(|e| panic!("{e}"));
    // The addresses as identities in IKEv1 main mode: nothing to write, nothing refused.
    let same = built(&intent(1, "local_id = \"192.0.2.1\"\nremote_id = \"198.51.100.7\"\n"));
    assert!(!same.contains(" name "), "{same}");
    // A name in IKEv1 would be aggressive mode: refused, naming the tunnel.
    let refused = common::build_text(&intent(1, ids), "rtx").expect_err("IKEv1 names are refused");
    assert!(refused.contains("N301") && refused.contains("hq tunnel/to-b"), "{refused}");
}
