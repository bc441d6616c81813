//! firewalld at scale (issue 18 item 2): a 2,000-mapping firewalld.sh against a real
//! firewalld 1.3 on each backend, in network namespaces with a private system bus
//! (tests/firewalld/scale.sh). After the apply, after `firewall-cmd --reload` and after a
//! restart of the daemon, every mapping must be in the kernel: its public address, its
//! target and its comment, in natc's nftables table (nftables backend) or in natc-dnat's
//! direct rules (iptables backend); then new flows to the last mapping reach its target.
//! Needs root, firewalld and dbus-daemon; fails, never skips, without them. Timing is
//! measured by scripts/bench_firewalld.py, never here.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::process::Command;

const MAPPINGS: usize = 2000;

/// The public address of mapping `i` and its target (scripts/bench_firewalld.py's shape).
fn mapping(i: usize) -> (String, String) {
    let (hi, lo) = (i / 256, i % 256);
    (format!("100.64.{hi}.{lo}"), format!("10.1.{hi}.{lo}"))
}

fn intent(n: usize) -> String {
    let mut text = String::from(
        "natc = 1\nname = \"scale\"\n[[gateway]]\nname = \"gw\"\n\
         [[gateway.interface]]\nname = \"eth0\"\naddress = \"198.18.0.1/15\"\n\
         [[gateway.interface]]\nname = \"eth1\"\naddress = \"10.0.0.1/8\"\n\
         [gateway.policy]\nforward = \"drop\"\n\
         [[gateway.allow]]\nname = \"probe\"\nto = \"10.0.0.0/8\"\nprotocol = \"udp\"\nport = 9\n",
    );
    for i in 0..n {
        let (address, target) = mapping(i);
        text += &format!(
            "[[gateway.dnat]]\nname = \"m{i}\"\ndestination = \"{address}\"\nto = \"{target}\"\nin_interface = \"eth0\"\n"
        );
    }
    text
}

/// `public -> (target, comment)` of every DNAT natc put into the kernel, from nft's listing
/// of natc's table (map elements `A comment "C" : B`) and iptables-save's nat table (natc-dnat
/// and its lookup tree's `nD-…` chains).
fn kernel_mappings(listing: &str) -> BTreeMap<String, (String, String)> {
    let mut found = BTreeMap::new();
    // nft lists several elements on a line: `elements = { A comment "C" : B, A2 … : B2,`.
    let pieces = listing.lines().flat_map(|l| l.split(", "));
    for piece in pieces {
        let line = piece.trim().trim_start_matches("elements = { ").trim_end_matches(" }").trim_end_matches(',');
        if let Some((left, target)) = line.split_once(" : ") {
            if let Some((address, comment)) = left.split_once(" comment ") {
                found.insert(address.to_string(), (target.to_string(), comment.trim_matches('"').to_string()));
            }
        } else if line.starts_with("-A natc-dnat ") || line.starts_with("-A nD-") {
            // natc-dnat, or past 64 rules its lookup tree's chains (a jump has no --to-destination).
            let word =
                |flag: &str| line.split_once(flag).map(|(_, r)| r.split(' ').next().unwrap_or_default().to_string());
            let comment = line.split_once("--comment ").map(|(_, r)| r.split(" -j").next().unwrap_or_default());
            if let (Some(address), Some(target), Some(comment)) = (word("-d "), word("--to-destination "), comment) {
                let address = address.trim_end_matches("/32").to_string();
                found.insert(address, (target, comment.trim_matches('"').to_string()));
            }
        }
    }
    found
}

fn scale_lab(backend: &str) -> (HashMap<String, String>, tempfile::TempDir) {
    common::require_root_and(&["firewalld", "firewall-cmd", "dbus-daemon", "nft", "iptables-save", "python3", "ip"]);
    let artifacts = common::build_text(&intent(MAPPINGS), "firewalld").expect("builds for firewalld");
    let work = tempfile::tempdir().expect("temp dir");
    let script = work.path().join("firewalld.sh");
    std::fs::write(&script, common::primary(&artifacts[0])).expect("script written");
    let (last, target) = mapping(MAPPINGS - 1);
    let out = Command::new(common::root().join("tests/firewalld/scale.sh"))
        .args([backend, &script.display().to_string(), &work.path().display().to_string()])
        .env("PROBE", format!("{last}:{target}"))
        .env("ROUNDS", "1")
        .env("FLOWS", "100")
        .output()
        .expect("scale.sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let log = |f: &str| std::fs::read_to_string(work.path().join(f)).unwrap_or_default();
    assert!(
        out.status.success(),
        "the lab failed:\n{stdout}\n{}\n--- apply.log\n{}\n--- firewalld.log\n{}",
        String::from_utf8_lossy(&out.stderr),
        log("apply.log"),
        log("firewalld.log")
    );
    let facts = stdout.lines().filter_map(|l| l.split_once(": ")).map(|(k, v)| (k.into(), v.into())).collect();
    (facts, work)
}

fn every_mapping_survives_reload_and_restart(backend: &str) {
    let (facts, work) = scale_lab(backend);
    let log = |f: &str| std::fs::read_to_string(work.path().join(f)).unwrap_or_default();
    let fact = |k: &str| facts.get(k).map(String::as_str).unwrap_or("<missing>");
    let context =
        format!("{facts:#?}\n--- apply.log\n{}\n--- firewalld.log\n{}", log("apply.log"), log("firewalld.log"));
    assert_eq!(fact("firewalld"), "running", "{context}");
    assert_eq!(fact("apply"), "ok", "{context}");
    assert_eq!(fact("reload"), "ok", "{context}");
    assert_eq!(fact("restart"), "ok", "{context}");
    for step in ["apply", "reload", "restart"] {
        let found = kernel_mappings(&log(&format!("kernel-{step}")));
        let missing: Vec<String> = (0..MAPPINGS)
            .filter_map(|i| {
                let (address, target) = mapping(i);
                let expected = (target, format!("gw dnat/m{i}"));
                (found.get(&address) != Some(&expected)).then(|| format!("m{i} {address}: {:?}", found.get(&address)))
            })
            .collect();
        assert!(
            missing.is_empty(),
            "{backend}, after {step}: {} of {MAPPINGS} mappings are not in the kernel as natc wrote them, e.g. {:?}\n{context}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        assert_eq!(found.len(), MAPPINGS, "{backend}, after {step}: the kernel holds other DNATs\n{context}");
    }
    // Translation, not just listing: new flows to the last mapping reach its target.
    assert_eq!(fact("delivered"), "100", "{backend}: flows to the last mapping after the restart\n{context}");
}

#[test]
fn two_thousand_mappings_survive_reload_and_restart_on_nftables() {
    every_mapping_survives_reload_and_restart("nftables");
}

#[test]
fn two_thousand_mappings_survive_reload_and_restart_on_iptables() {
    every_mapping_survives_reload_and_restart("iptables");
}
