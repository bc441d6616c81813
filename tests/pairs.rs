//! Both ends of a tunnel checked against each other (N217–N228, docs/checks.md).
//!
//! - Every failing case (tests/invalid, and tests/warnings for N223) carries a second line
//!   `# labels: L1 L2 …`: its diagnostic must label exactly those lines, in that order
//!   (both ends, not only the first).
//! - Every fixed case (tests/pairs/*.toml, first line `# fixed: <failing case>`) compiles
//!   without any cross-end diagnostic, and its ends are really paired: giving one end
//!   another PSK reference makes N225 appear.
//! - How pairs are recognised: from `peer` (one end is enough), from the addresses, never
//!   across a NAT box, never when the addresses leave the choice open.

mod common;

use natc::diag::{Diagnostic, Location};
use std::path::{Path, PathBuf};

const CODES: [&str; 12] =
    ["N217", "N218", "N219", "N220", "N221", "N222", "N223", "N224", "N225", "N226", "N227", "N228"];

/// Every diagnostic but N232: the pairs keep the default input policy towards their
/// default route, which is a field check of its own (tests/checks.rs, `n232_*`).
fn all(text: &str) -> Vec<Diagnostic> {
    let found = match natc::compile(text) {
        Ok(c) => c.warnings,
        Err(d) => d,
    };
    found.into_iter().filter(|d| d.code.0 != "N232").collect()
}

fn cross_end(text: &str) -> Vec<&'static str> {
    all(text).iter().map(|d| d.code.0).filter(|c| CODES.contains(c)).collect()
}

fn files(dir: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(common::root().join(dir))
        .expect(dir)
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    out.sort();
    out
}

/// (code, primary line, label lines) of a failing case with a `# labels:` line.
fn expectation(path: &Path, text: &str) -> Option<(String, usize, Vec<usize>)> {
    let mut lines = text.lines();
    let first = lines.next()?;
    let labels = lines.next()?.strip_prefix("# labels: ")?;
    let words: Vec<&str> =
        first.strip_prefix("# expect: ").or_else(|| first.strip_prefix("# warns: "))?.split_whitespace().collect();
    let [code, "line", line, ..] = words.as_slice() else { panic!("{}: malformed `{first}`", path.display()) };
    let labels = labels.split_whitespace().map(|l| l.parse().expect("a line number")).collect();
    Some((code.to_string(), line.parse().expect("a line number"), labels))
}

#[test]
fn every_failing_case_labels_both_ends() {
    let mut covered = Vec::new();
    for path in files("tests/invalid").into_iter().chain(files("tests/warnings")) {
        let text = std::fs::read_to_string(&path).expect("readable");
        let Some((code, line, labels)) = expectation(&path, &text) else { continue };
        let found = all(&text);
        let line_of = |offset: usize| Location::of(&text, offset).line;
        let d = found
            .iter()
            .find(|d| d.code.0 == code && d.primary_span().map(|s| line_of(s.start)) == Some(line))
            .unwrap_or_else(|| panic!("{}: no {code} at line {line}: {found:#?}", path.display()));
        let got: Vec<usize> = d.labels.iter().map(|l| line_of(l.span.start)).collect();
        assert_eq!(got, labels, "{}: {d:#?}", path.display());
        assert!(d.help.is_some(), "{}: no help", path.display());
        if CODES.contains(&code.as_str()) {
            // Pair mismatches name both ends in the message.
            if !["N217", "N218"].contains(&code.as_str()) {
                assert!(d.message.matches('`').count() >= 4, "{}: {}", path.display(), d.message);
                assert!(labels.len() >= 2, "{}: one end only", path.display());
            }
            covered.push(code);
        }
    }
    for code in CODES {
        assert!(covered.iter().any(|c| c == code), "no failing case with # labels: for {code}");
    }
}

#[test]
fn every_fixed_case_is_quiet_and_really_paired() {
    let fixed = files("tests/pairs");
    let mut fixes = Vec::new();
    for path in &fixed {
        let text = std::fs::read_to_string(path).expect("readable");
        let first = text.lines().next().unwrap_or_default();
        let case = first
            .strip_prefix("# fixed: ")
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("{}: no `# fixed:` line", path.display()));
        let failing = if case.starts_with("tests/") {
            common::root().join(case)
        } else {
            common::root().join("tests/invalid").join(case)
        };
        assert!(failing.exists(), "{}: {} does not exist", path.display(), failing.display());
        fixes.push(failing);
        let compiled = natc::compile(&text).unwrap_or_else(|d| panic!("{}: {d:#?}", path.display()));
        let noise: Vec<_> = compiled.warnings.iter().filter(|d| CODES.contains(&d.code.0)).collect();
        assert!(noise.is_empty(), "{}: {noise:#?}", path.display());
        // The control: the ends are compared, so another key reference on one end is N225.
        let from = "psk = { env = \"AB_PSK\" }";
        assert!(text.contains(from), "{}: no AB_PSK", path.display());
        let broken = text.replacen(from, "psk = { env = \"OTHER_PSK\" }", 1);
        assert!(cross_end(&broken).contains(&"N225"), "{}: the ends are not paired", path.display());
    }
    // Each failing case has its fixed one.
    for path in files("tests/invalid").into_iter().chain(files("tests/warnings")) {
        let text = std::fs::read_to_string(&path).expect("readable");
        if expectation(&path, &text).is_some_and(|(c, ..)| CODES.contains(&c.as_str())) {
            assert!(fixes.contains(&path), "{} has no fixed case in tests/pairs", path.display());
        }
    }
}

/// Two gateways, A (utm-a, WAN `a_wan`, default route via `a_gw`) and B (utm-b, WAN
/// 203.0.113.1), each with a policy tunnel towards the other.
fn two(a_wan: &str, a_gw: &str, a_extra: &str, b_remote: &str, b_extra: &str) -> String {
    format!(
        r#"natc = 1
name = "t"

[[gateway]]
name = "utm-a"
[[gateway.interface]]
name = "eth0"
address = "{a_wan}"
[[gateway.route]]
to = "0.0.0.0/0"
via = "{a_gw}"
[[gateway.tunnel]]
name = "to-b"
remote = "203.0.113.1"
psk = {{ env = "A_PSK" }}
local_networks = ["192.168.10.0/24"]
remote_networks = ["192.168.20.0/24"]
{a_extra}

[[gateway]]
name = "utm-b"
[[gateway.interface]]
name = "eth0"
address = "203.0.113.1/24"
[[gateway.route]]
to = "0.0.0.0/0"
via = "203.0.113.254"
[[gateway.tunnel]]
name = "to-a"
remote = "{b_remote}"
psk = {{ env = "B_PSK" }}
local_networks = ["192.168.20.0/24"]
remote_networks = ["192.168.10.0/24"]
{b_extra}
"#
    )
}

#[test]
fn ends_whose_addresses_point_at_each_other_are_a_pair_without_peer() {
    let text = two("198.51.100.1/24", "198.51.100.254", "", "198.51.100.1", "");
    assert_eq!(cross_end(&text), ["N225"]);
    // B's local_address, when written, must be A's remote: here it is not, so no pair.
    let text = two("198.51.100.1/24", "198.51.100.254", "", "198.51.100.1", "local_address = \"203.0.113.9\"");
    assert_eq!(cross_end(&text), Vec::<&str>::new());
}

#[test]
fn ends_across_a_nat_box_are_not_paired_unless_peer_says_so() {
    // verify's NAT-T negative control: A sits behind a masquerading gateway (utm-nat,
    // 198.51.100.7), so B's remote is the box's address and no address of A's.
    let nat_box = r#"
[[gateway]]
name = "utm-nat"
[[gateway.interface]]
name = "eth0"
address = "198.51.100.7/24"
[[gateway.interface]]
name = "eth1"
address = "10.0.1.1/24"
[[gateway.snat]]
name = "out"
out_interface = "eth0"
to = "masquerade"
"#;
    let nat = "nat_traversal = true\nlocal_id = \"a.example.com\"";
    let b = "nat_traversal = true\nremote_id = \"a.example.com\"";
    let text = format!("{}{nat_box}", two("10.0.1.10/24", "10.0.1.1", nat, "198.51.100.7", b));
    assert_eq!(cross_end(&text), Vec::<&str>::new(), "paired across the NAT box");
    // The same intent with `peer` on one end: now the two PSK references are compared.
    let text = format!(
        "{}{nat_box}",
        two("10.0.1.10/24", "10.0.1.1", &format!("{nat}\npeer = \"utm-b/to-a\""), "198.51.100.7", b)
    );
    let found = all(&text);
    let psk: Vec<_> = found.iter().filter(|d| d.code.0 == "N225").collect();
    assert_eq!(psk.len(), 1, "{found:#?}");
    assert!(psk[0].message.contains("env A_PSK") && psk[0].message.contains("env B_PSK"), "{}", psk[0].message);
    assert_eq!(cross_end(&text), ["N225"], "{found:#?}");
}

#[test]
fn addresses_that_leave_the_choice_open_pair_nothing() {
    // Two tunnels of A towards B, two of B towards A, no local_address: which is whose?
    let second_a = "[[gateway.tunnel]]\nname = \"to-b-2\"\nremote = \"203.0.113.1\"\npsk = { env = \"C_PSK\" }\nvti = { name = \"vti0\", address = \"169.254.0.1/30\" }";
    let second_b = "[[gateway.tunnel]]\nname = \"to-a-2\"\nremote = \"198.51.100.1\"\npsk = { env = \"D_PSK\" }\nvti = { name = \"vti0\", address = \"169.254.0.2/30\" }";
    let text = two("198.51.100.1/24", "198.51.100.254", second_a, "198.51.100.1", second_b);
    assert_eq!(cross_end(&text), Vec::<&str>::new());
    // With local_address on each end the addresses decide, and each pair is compared.
    let a2 = "[[gateway.address]]\ninterface = \"eth0\"\naddress = \"198.51.100.2/32\"\n";
    let text = two(
        "198.51.100.1/24",
        "198.51.100.254",
        &format!("local_address = \"198.51.100.1\"\n{second_a}\nlocal_address = \"198.51.100.2\"\n{a2}"),
        "198.51.100.1",
        &second_b.replace("198.51.100.1", "198.51.100.2"),
    );
    let found = all(&text);
    let psk: Vec<&str> = found.iter().filter(|d| d.code.0 == "N225").map(|d| d.message.as_str()).collect();
    assert_eq!(psk.len(), 2, "{found:#?}");
    assert!(psk[0].contains("A_PSK and env B_PSK"), "{psk:?}");
    assert!(psk[1].contains("C_PSK and env D_PSK"), "{psk:?}");
}

#[test]
fn one_peer_is_enough_and_a_second_must_agree() {
    // B leaves from a local_address that is not A's remote (A expects it as remote_id), so
    // the addresses do not pair them: only `peer` does.
    let base = |a: &str, b: &str| {
        let a = format!("remote_id = \"203.0.113.9\"\n{a}");
        let b = format!("local_address = \"203.0.113.9\"\n{b}");
        two("198.51.100.1/24", "198.51.100.254", &a, "198.51.100.1", &b)
    };
    assert_eq!(cross_end(&base("", "")), Vec::<&str>::new());
    assert_eq!(cross_end(&base("peer = \"utm-b/to-a\"", "")), ["N225"]);
    assert_eq!(cross_end(&base("", "peer = \"utm-a/to-b\"")), ["N225"]);
    assert_eq!(cross_end(&base("peer = \"utm-b/to-a\"", "peer = \"utm-a/to-b\"")), ["N225"]);
    // A third tunnel names B too: B already has its far end.
    let third = "[[gateway.tunnel]]\nname = \"to-b-2\"\nremote = \"203.0.113.1\"\npsk = { env = \"B_PSK\" }\npeer = \"utm-b/to-a\"\nvti = { name = \"vti0\", address = \"169.254.0.1/30\" }";
    let found = all(&base(&format!("peer = \"utm-b/to-a\"\n{third}"), ""));
    let codes: Vec<&str> = found.iter().map(|d| d.code.0).filter(|c| CODES.contains(c)).collect();
    assert!(codes.contains(&"N218"), "{found:#?}");
    let n218 = found.iter().find(|d| d.code.0 == "N218").expect("N218");
    assert!(n218.message.contains("already the far end of `utm-a/to-b`"), "{}", n218.message);
    assert_eq!(n218.labels.len(), 2);
}

#[test]
fn an_identity_is_compared_only_where_the_intent_tells_it() {
    // A has no route towards B: the address its IKE leaves from is not known, so its
    // identity is not guessed (B's remote_id is not compared), but B's still is.
    let text = two("198.51.100.1/24", "198.51.100.254", "", "198.51.100.1", "remote_id = \"a.example.com\"")
        .replace("to = \"0.0.0.0/0\"\nvia = \"198.51.100.254\"", "to = \"10.0.0.0/8\"\nvia = \"198.51.100.254\"");
    let found = all(&text);
    assert!(!found.iter().any(|d| d.code.0 == "N224"), "{found:#?}");
    // With the default route, A leaves from 198.51.100.1, which is not a.example.com.
    let text = two("198.51.100.1/24", "198.51.100.254", "", "198.51.100.1", "remote_id = \"a.example.com\"");
    let n224: Vec<_> = all(&text).into_iter().filter(|d| d.code.0 == "N224").collect();
    assert_eq!(n224.len(), 1, "{n224:#?}");
    assert!(n224[0].message.contains("proves the IKE identity 198.51.100.1"), "{}", n224[0].message);
    // Names compare without regard to case, as strongSwan does.
    let text = two(
        "198.51.100.1/24",
        "198.51.100.254",
        "local_id = \"A.Example.com\"\npsk = { env = \"B_PSK\" }",
        "198.51.100.1",
        "remote_id = \"a.example.com\"",
    )
    .replacen("psk = { env = \"A_PSK\" }\n", "", 1);
    assert_eq!(cross_end(&text), Vec::<&str>::new());
}

#[test]
fn an_aead_cipher_at_both_ends_makes_the_esp_hash_moot() {
    let esp = |hash: &str| format!("esp = {{ encryption = \"aes256gcm128\", hash = \"{hash}\" }}");
    let text = two("198.51.100.1/24", "198.51.100.254", &esp("sha256"), "198.51.100.1", &esp("sha1"));
    assert_eq!(cross_end(&text), ["N225"]);
    let cbc = |hash: &str| format!("esp = {{ encryption = \"aes256\", hash = \"{hash}\" }}");
    let text = two("198.51.100.1/24", "198.51.100.254", &cbc("sha256"), "198.51.100.1", &cbc("sha1"));
    assert!(cross_end(&text).contains(&"N221"));
}

#[test]
fn different_lifetimes_are_a_warning_accepted_on_the_first_end() {
    let a = "psk = { env = \"B_PSK\" }\nike = { lifetime = 3600 }";
    let text =
        two("198.51.100.1/24", "198.51.100.254", a, "198.51.100.1", "").replacen("psk = { env = \"A_PSK\" }\n", "", 1);
    let found = all(&text);
    assert_eq!(found.iter().map(|d| d.code.0).collect::<Vec<_>>(), ["N223"], "{found:#?}");
    assert!(!found[0].is_error());
    assert!(found[0].message.contains("`utm-a/to-b` rekeys first"), "{}", found[0].message);
    let accept = "accept = [{ code = \"N223\", reason = \"the branch rekeys hourly on purpose\" }]";
    let accepted = text.replacen("ike = { lifetime = 3600 }", &format!("ike = {{ lifetime = 3600 }}\n{accept}"), 1);
    assert_eq!(all(&accepted).len(), 0, "{:#?}", all(&accepted));
    // On the second end the accept silences nothing (N216) and the warning stays.
    let wrong = text.replacen(
        "remote_networks = [\"192.168.10.0/24\"]",
        &format!("remote_networks = [\"192.168.10.0/24\"]\n{accept}"),
        1,
    );
    let mut codes: Vec<&str> = all(&wrong).iter().map(|d| d.code.0).collect();
    codes.sort();
    assert_eq!(codes, ["N216", "N223"]);
}

#[test]
fn nat_traversal_is_asked_of_the_ends_whose_device_needs_the_key() {
    // A behind NAT (leaves from 10.0.1.10, B sends to 198.51.100.1), identities matching.
    let behind = |a_extra: &str, b_extra: &str| {
        two(
            "10.0.1.10/24",
            "10.0.1.1",
            &format!("peer = \"utm-b/to-a\"\nlocal_id = \"198.51.100.1\"\npsk = {{ env = \"B_PSK\" }}\n{a_extra}"),
            "198.51.100.1",
            b_extra,
        )
        .replacen("psk = { env = \"A_PSK\" }\n", "", 1)
    };
    // No targets declared: either end may become an RTX, so both need the key.
    let found = all(&behind("", ""));
    let n228: Vec<_> = found.iter().filter(|d| d.code.0 == "N228").collect();
    assert_eq!(n228.len(), 1, "{found:#?}");
    assert!(n228[0].message.contains("neither end sets"), "{}", n228[0].message);
    assert_eq!(n228[0].labels.len(), 4, "{:#?}", n228[0].labels);
    assert_eq!(cross_end(&behind("nat_traversal = true", "nat_traversal = true")), Vec::<&str>::new());
    // VyOS at both ends detects the NAT itself: no key needed.
    let vyos = |t: String| {
        t.replace("name = \"utm-a\"\n", "name = \"utm-a\"\ntargets = [\"vyos\"]\n")
            .replace("name = \"utm-b\"\n", "name = \"utm-b\"\ntargets = [\"vyos\"]\n")
    };
    assert_eq!(cross_end(&vyos(behind("", ""))), Vec::<&str>::new());
    // nat_traversal at the NATed end says so even where the addresses do not show it; an
    // end without declared targets then needs the key too.
    let declared = two("198.51.100.1/24", "198.51.100.254", "nat_traversal = true", "198.51.100.1", "");
    let found = all(&declared);
    let n228: Vec<_> = found.iter().filter(|d| d.code.0 == "N228").collect();
    assert_eq!(n228.len(), 1, "{found:#?}");
    assert!(n228[0].message.contains("`utm-b/to-a` does not set"), "{}", n228[0].message);
}

#[test]
fn many_wrong_peers_stay_cheap_and_say_what_exists() {
    // "Did you mean" scans every gateway name, so only the first 64 wrong peers get it;
    // the rest list the first few names.
    let mut text = String::from("natc = 1\nname = \"t\"\n");
    for g in 0..70 {
        text.push_str(&format!(
            "[[gateway]]\nname = \"gw-{g}\"\n[[gateway.tunnel]]\nname = \"t\"\nremote = \"203.0.113.1\"\npsk = {{ env = \"P\" }}\npeer = \"gw-x{g}/t\"\nvti = {{ name = \"vti0\", address = \"169.254.0.1/30\" }}\n"
        ));
    }
    let found = all(&text);
    let n217: Vec<_> = found.iter().filter(|d| d.code.0 == "N217").collect();
    assert_eq!(n217.len(), 70);
    let suggested = n217.iter().filter(|d| d.help.as_deref().is_some_and(|h| h.starts_with("did you mean"))).count();
    assert_eq!(suggested, 64);
    let listed = n217.iter().find(|d| !d.help.as_deref().unwrap_or_default().starts_with("did you mean")).expect("one");
    assert!(
        listed.help.as_deref().unwrap_or_default().ends_with("gw-0, gw-1, gw-2, gw-3, gw-4, gw-5, gw-6, gw-7, …"),
        "{listed:#?}"
    );
}

#[test]
fn verify_psk_mismatch_lab_is_unpaired_until_peer_names_the_far_end() {
    // tests/verify/natt.toml is verify's PSK-mismatch negative control (two env
    // references): check cannot pair its ends across the NAT box, so verify runs and shows
    // the tunnel down; with `peer` written, `natc check` reports the mismatch first.
    let text = std::fs::read_to_string(common::root().join("tests/verify/natt.toml")).expect("natt.toml");
    assert_eq!(cross_end(&text), Vec::<&str>::new(), "the NAT-T lab is paired without peer");
    let anchor = "name = \"to-hq\"\n";
    assert!(text.contains(anchor), "natt.toml no longer names its tunnel to-hq");
    let with_peer = text.replacen(anchor, &format!("{anchor}peer = \"hq/to-branch\"\n"), 1);
    let found = all(&with_peer);
    assert_eq!(cross_end(&with_peer), ["N225"], "{found:#?}");
    let psk = found.iter().find(|d| d.code.0 == "N225").expect("N225");
    assert!(
        psk.message.contains("NATC_NATT_PSK_BRANCH") && psk.message.contains("NATC_NATT_PSK_HQ"),
        "{}",
        psk.message
    );
}
