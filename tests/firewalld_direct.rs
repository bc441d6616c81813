//! templates/firewalld/direct.py, the script's one write of the permanent direct
//! configuration, against the fake of firewalld's client (tests/firewalld/v0.6.3/firewall):
//! natc's chains of an earlier run go, lookup-tree chains this run no longer writes
//! included, and everybody else's chains, rules and passthroughs stay.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

/// The direct configuration before the run: natc's earlier run (a root chain, its hook, a
/// lookup-tree chain `nD-…` with a rule, a passthrough) and somebody else's chain, rule and
/// passthrough.
const BEFORE: &str = r#"[
  [["ipv4", "nat", "natc-dnat"], ["ipv4", "nat", "nD-eth0-100.65.0.64/28"], ["ipv4", "filter", "mine"]],
  [["ipv4", "nat", "PREROUTING", 0, ["-j", "natc-dnat"]],
   ["ipv4", "nat", "natc-dnat", 0, ["-d", "100.65.0.64/28", "-j", "nD-eth0-100.65.0.64/28"]],
   ["ipv4", "nat", "nD-eth0-100.65.0.64/28", 0, ["-d", "100.65.0.65", "-j", "DNAT", "--to-destination", "10.100.0.65"]],
   ["ipv4", "filter", "mine", 0, ["-s", "192.0.2.1", "-j", "ACCEPT"]],
   ["ipv4", "filter", "INPUT", 0, ["-j", "mine"]]],
  [["ipv4", ["-I", "FORWARD", "1", "-j", "natc-forward"]], ["ipv4", ["-I", "INPUT", "1", "-j", "mine"]]]
]"#;

/// One rule as the script hands it over: "COUNT\0TABLE\0CHAIN\0PRIORITY\0ARG\0...".
fn record(words: &[&str]) -> String {
    let mut out = format!("{}\0", words.len());
    for w in words {
        out.push_str(w);
        out.push('\0');
    }
    out
}

#[test]
fn a_run_replaces_natc_chains_and_keeps_everybody_elses() {
    common::require_root_and(&["python3"]);
    let root = common::root();
    let shim = tempfile::tempdir().expect("temp dir");
    std::fs::write(shim.path().join("direct.json"), BEFORE).expect("direct.json");
    let calls = shim.path().join("calls");
    // This run writes natc-dnat flat (its mappings fell under the tree's threshold) and
    // natc-forward, hooked first in FORWARD.
    let rules = record(&["nat", "natc-dnat", "0", "-d", "100.65.0.1", "-j", "DNAT", "--to-destination", "10.100.0.1"])
        + &record(&["filter", "natc-forward", "0", "-d", "10.100.0.1", "-j", "ACCEPT"]);
    let mut child = Command::new("python3")
        .arg(root.join("templates/firewalld/direct.py"))
        .args(["direct", "nat:natc-dnat:PREROUTING:direct", "filter:natc-forward:FORWARD:first"])
        .env("PYTHONPATH", root.join("tests/firewalld/v0.6.3"))
        .env("NATC_SHIM_DIR", shim.path())
        .env("NATC_CALLS", &calls)
        .stdin(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().expect("stdin").write_all(rules.as_bytes()).expect("rules written");
    assert!(child.wait().expect("direct.py ends").success(), "direct.py failed");

    let after = std::fs::read_to_string(shim.path().join("direct.json")).expect("direct.json after");
    let after: serde_json::Value = serde_json::from_str(&after).expect("JSON");
    let chains: Vec<String> = after[0].as_array().expect("chains").iter().map(|c| c[2].to_string()).collect();
    assert_eq!(chains, ["\"mine\"", "\"natc-dnat\"", "\"natc-forward\""], "{after:#}");
    let rules = after[1].as_array().expect("rules");
    let rule = |chain: &str| rules.iter().filter(|r| r[2] == chain).map(|r| r[4].to_string()).collect::<Vec<_>>();
    assert_eq!(rule("mine"), [r#"["-s","192.0.2.1","-j","ACCEPT"]"#], "{after:#}");
    assert_eq!(rule("INPUT"), [r#"["-j","mine"]"#], "somebody else's hook stays: {after:#}");
    assert_eq!(rule("PREROUTING"), [r#"["-j","natc-dnat"]"#], "one hook for natc-dnat: {after:#}");
    assert_eq!(rule("natc-dnat"), [r#"["-d","100.65.0.1","-j","DNAT","--to-destination","10.100.0.1"]"#]);
    assert!(rule("nD-eth0-100.65.0.64/28").is_empty(), "the stale tree chain's rules stay: {after:#}");
    let passthroughs: Vec<String> =
        after[2].as_array().expect("passthroughs").iter().map(|p| p[1].to_string()).collect();
    assert_eq!(passthroughs, [r#"["-I","INPUT","1","-j","mine"]"#, r#"["-I","FORWARD","1","-j","natc-forward"]"#]);
    let calls = std::fs::read_to_string(&calls).expect("calls");
    assert_eq!(calls.matches("config.direct.update").count(), 1, "one write:\n{calls}");
}
