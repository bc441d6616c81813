//! A one-line change to the intent is a small change to every output. For intents with 100
//! mappings, adding, removing or editing one at the start, the middle and the end may change
//! only that mapping's own lines plus a small constant, in every target: `natc diff` (the
//! real binary) counts the changed lines. The figures are the table in
//! docs/minimal-diffs.md, which this test recomputes and compares.

mod common;

use assert_cmd::Command;
use std::collections::BTreeSet;
use std::fmt::Write;

const MAPPINGS: usize = 100;
const TARGETS: [&str; 5] = ["iptables", "nftables", "firewalld", "vyos", "rtx"];
/// Lines any edit may change besides the mapping's own (none is needed today).
const CONSTANT: usize = 2;
/// Chains on an iptables lookup tree's path: the interface's and /4 … /28.
const TREE_LEVELS: usize = 8;

#[derive(Clone, Copy)]
enum Shape {
    /// tcp/10000+i on one public address to a LAN host's port 80.
    PortForward,
    /// A public address per LAN host, both ways (a DNAT and its SNAT).
    OneToOne,
    /// tcp on one public address, each mapping its own 100 ports (1024+100i…), taking in
    /// turn one port (to port 80), a list of three ports, and a range of 100: all disjoint.
    PortSets,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::PortForward => "port forwards on one address",
            Shape::OneToOne => "1:1 host maps (dnat + snat)",
            Shape::PortSets => "port forwards, ports/lists/ranges",
        }
    }

    /// VyOS rules per mapping.
    fn rules(self) -> usize {
        match self {
            Shape::OneToOne => 2,
            _ => 1,
        }
    }

    /// The targets that can express the shape: an RTX static entry forwards single ports
    /// only (a range is N301 there).
    fn targets(self) -> &'static [&'static str] {
        match self {
            Shape::PortSets => &TARGETS[..4],
            _ => &TARGETS,
        }
    }
}

#[derive(Clone, Copy)]
enum Edit {
    Add,
    Remove,
    Change,
}

/// Where an edited mapping points instead of its own host.
const EDITED_HOST: &str = "10.0.9.9";

fn host_of(i: usize) -> String {
    format!("10.0.{}.{}", i / 200, i % 200 + 10)
}

fn public_of(i: usize) -> String {
    format!("198.51.{}.{}", 100 + i / 200, i % 200 + 20)
}

/// The lines of an iptables lookup tree (iptables, firewalld direct rules; docs/targets.md)
/// that route to rules, with the chain's prefix (`None` for an interface's chain): a jump
/// into a chain, or a line that declares, creates or empties one (`:D-eth0-198.51.100.16/28
/// - [0:0]`, firewalld's `--add-chain`, `--remove-rules`, its preflight's `printf`, the
/// chain's `#` line).
fn routing_prefix(line: &str) -> Option<Option<ipnet::Ipv4Net>> {
    let line = &line[1..];
    let chain = if line.contains(" lookup: ") {
        line.rsplit(" -j ").next()?
    } else if line.contains("--comment") {
        return None;
    } else {
        line.split_whitespace()
            .map(|w| w.trim_start_matches(':'))
            .find(|w| ["D-", "S-", "I-", "F-", "nD-", "nS-", "nI-", "nF-"].iter().any(|tag| w.starts_with(tag)))?
    };
    Some(chain.rsplit_once('-').and_then(|(_, prefix)| prefix.parse().ok()))
}

/// Routing lines per level of a tree and rule: iptables declares a chain and jumps to it;
/// firewalld also creates and empties it, declares it in its preflight and heads its rules.
fn routing_lines_per_level(target: &str) -> usize {
    if target == "firewalld" { 5 } else { 2 }
}

/// The changed lines that are neither a tree's routing lines nor route anywhere but to the
/// mapping `id`'s own addresses; `Err` names a routing line that routes elsewhere.
fn own_changes(diff: &[String], id: usize) -> Result<usize, String> {
    let addresses: Vec<std::net::Ipv4Addr> =
        [public_of(id), host_of(id), EDITED_HOST.to_string()].iter().map(|a| a.parse().expect("address")).collect();
    let mut own = 0;
    for line in diff {
        match routing_prefix(line) {
            None => own += 1,
            Some(None) => {}
            Some(Some(prefix)) if addresses.iter().any(|a| prefix.contains(a)) => {}
            Some(Some(_)) => return Err(format!("a routing line to another mapping: {line}")),
        }
    }
    Ok(own)
}

/// The intent with mappings `ids`; mapping `changed` (if any) points at another host.
fn intent(target: &str, shape: Shape, ids: &[usize], changed: Option<usize>) -> String {
    let (wan, lan) = if target == "rtx" { ("lan2", "lan1") } else { ("eth0", "eth1") };
    let mut text = format!(
        "natc = 1\nname = \"minimal-diffs\"\n\n[[gateway]]\nname = \"gw\"\ntargets = [\"{target}\"]\n\n\
         [[gateway.interface]]\nname = \"{wan}\"\naddress = \"198.51.100.2/24\"\n\n\
         [[gateway.interface]]\nname = \"{lan}\"\naddress = \"10.0.0.1/16\"\n"
    );
    let host = |i: usize| if changed == Some(i) { EDITED_HOST.to_string() } else { host_of(i) };
    let public = public_of;
    for &i in ids {
        match shape {
            Shape::PortForward => write!(
                text,
                "\n[[gateway.dnat]]\nname = \"svc-{i:03}\"\nin_interface = \"{wan}\"\ndestination = \"198.51.100.2\"\n\
                 protocol = \"tcp\"\nport = {}\nto = \"{}\"\nto_port = 80\nreturn_route = true\n",
                10000 + i,
                host(i)
            ),
            Shape::PortSets => {
                let base = 1024 + 100 * i;
                let ports = match i % 3 {
                    0 => format!("{base}\nto_port = 80"),
                    1 => format!("[{base}, {}, {}]", base + 7, base + 50),
                    _ => format!("\"{base}-{}\"", base + 99),
                };
                write!(
                    text,
                    "\n[[gateway.dnat]]\nname = \"svc-{i:03}\"\nin_interface = \"{wan}\"\ndestination = \"198.51.100.2\"\n\
                     protocol = \"tcp\"\nport = {ports}\nto = \"{}\"\nreturn_route = true\n",
                    host(i)
                )
            }
            Shape::OneToOne => write!(
                text,
                "\n[[gateway.dnat]]\nname = \"in-{i:03}\"\nin_interface = \"{wan}\"\ndestination = \"{}\"\nto = \"{}\"\nreturn_route = true\n\
                 \n[[gateway.snat]]\nname = \"out-{i:03}\"\nout_interface = \"{wan}\"\nsource = \"{}\"\nto = \"{}\"\n",
                public(i),
                host(i),
                host(i),
                public(i)
            ),
        }
        .expect("write to a String");
    }
    write!(
        text,
        "\n[[gateway.snat]]\nname = \"masquerade-lan\"\nsource = \"10.0.0.0/16\"\nout_interface = \"{wan}\"\nto = \"masquerade\"\n"
    )
    .expect("write to a String");
    text
}

/// The changed lines (`+`/`-`, without the file headers) `natc diff` prints between two
/// intents; with `script`, the command lines (not `#`) of `natc diff --change-script`.
fn changed_lines(dir: &std::path::Path, target: &str, old: &str, new: &str, script: bool) -> Vec<String> {
    let (a, b) = (dir.join("old.toml"), dir.join("new.toml"));
    std::fs::write(&a, old).expect("write old");
    std::fs::write(&b, new).expect("write new");
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("natc"));
    command.arg("diff");
    if script {
        command.arg("--change-script");
    }
    let out = command.args([&a, &b]).args(["--target", target]).output().expect("natc diff runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "natc diff --target {target}: {}", String::from_utf8_lossy(&out.stderr));
    stdout
        .lines()
        .filter(|l| {
            if script {
                !l.trim().is_empty() && !l.starts_with('#')
            } else {
                (l.starts_with('+') && !l.starts_with("+++")) || (l.starts_with('-') && !l.starts_with("---"))
            }
        })
        .map(str::to_string)
        .collect()
}

/// The VyOS rules (`nat destination rule 643559`) that lines name.
fn vyos_rules(lines: &[String]) -> BTreeSet<String> {
    lines
        .iter()
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let at = words.iter().position(|w| *w == "rule")?;
            Some(words[1..=at + 1].join(" "))
        })
        .collect()
}

/// On VyOS, the change script of an edit touches exactly the rules whose lines the diff
/// changes, and those are the edited mappings' own rules (`rules` of them): no other
/// rule is renumbered or rewritten.
fn check_vyos_script(
    dir: &std::path::Path,
    (old, new): (&str, &str),
    diff: &[String],
    rules: usize,
    what: &str,
    failures: &mut Vec<String>,
) {
    let script = changed_lines(dir, "vyos", old, new, true);
    if let Err(report) = common::grammar::vyos::Grammar::of("1.4").check(&script.join("\n")) {
        failures.push(format!("{what}: natc's VyOS grammar refuses change-script lines:\n{report}"));
    }
    let (in_diff, in_script) = (vyos_rules(diff), vyos_rules(&script));
    if in_diff != in_script || in_diff.len() != rules {
        failures.push(format!(
            "{what}: the diff changes {in_diff:?}, the change script {in_script:?}; expected {rules} rule(s)\n{}",
            script.join("\n")
        ));
    }
}

/// The lines one mapping adds to the output: every file of the build, with and without it.
fn own_lines(dir: &std::path::Path, target: &str, shape: Shape) -> usize {
    let all: Vec<usize> = (0..MAPPINGS).collect();
    let lines = |ids: &[usize]| {
        let path = dir.join("count.toml");
        std::fs::write(&path, intent(target, shape, ids, None)).expect("write intent");
        let out_dir = dir.join(format!("count-{}", ids.len()));
        // The last count's files (another target's) must not be counted again.
        let _ = std::fs::remove_dir_all(&out_dir);
        let out = Command::new(assert_cmd::cargo::cargo_bin!("natc"))
            .arg("build")
            .arg(&path)
            .args(["--target", target, "-o"])
            .arg(&out_dir)
            .output()
            .expect("natc build runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "natc build --target {target}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read_dir(out_dir.join("gw"))
            .expect("gw/")
            .map(|e| {
                let path = e.expect("entry").path();
                let text = std::fs::read_to_string(&path).expect("readable");
                if path.ends_with("commands.vyos") {
                    let checked = common::grammar::vyos::Grammar::of("1.4").check(&text);
                    assert!(
                        checked.is_ok(),
                        "natc's VyOS grammar refuses {}:\n{}",
                        path.display(),
                        checked.unwrap_err()
                    );
                }
                text.lines().count()
            })
            .sum::<usize>()
    };
    lines(&all) - lines(&all[1..])
}

#[test]
fn one_changed_mapping_changes_only_its_own_lines_in_every_target() {
    let dir = tempfile::tempdir().expect("tempdir");
    let all: Vec<usize> = (0..MAPPINGS).collect();
    let positions = [("start", 0), ("middle", MAPPINGS / 2), ("end", MAPPINGS - 1)];
    let mut table = String::from(
        "| mappings | target | own lines | add start / middle / end | remove start / middle / end | edit start / middle / end |\n\
         |---|---|---|---|---|---|\n",
    );
    let mut failures = Vec::new();
    for shape in [Shape::PortForward, Shape::OneToOne, Shape::PortSets] {
        for &target in shape.targets() {
            let own = own_lines(dir.path(), target, shape);
            let base = intent(target, shape, &all, None);
            let mut cells = Vec::new();
            for edit in [Edit::Add, Edit::Remove, Edit::Change] {
                let mut figures = Vec::new();
                for (where_, at) in positions {
                    let new = match edit {
                        // The new mapping's number (500) sorts after all others: only its
                        // place in the intent says where it is.
                        Edit::Add => {
                            let mut ids = all.clone();
                            ids.insert(if at == MAPPINGS - 1 { MAPPINGS } else { at }, 500);
                            intent(target, shape, &ids, None)
                        }
                        Edit::Remove => {
                            intent(target, shape, &all.iter().copied().filter(|&i| i != at).collect::<Vec<_>>(), None)
                        }
                        Edit::Change => intent(target, shape, &all, Some(at)),
                    };
                    let diff = changed_lines(dir.path(), target, &base, &new, false);
                    let changed = diff.len();
                    // In an iptables lookup tree a new path adds chains and jumps: they may
                    // route to this mapping only (one declaration and one jump per level).
                    let id = if matches!(edit, Edit::Add) { 500 } else { at };
                    let own_changed = own_changes(&diff, id).unwrap_or_else(|e| {
                        failures.push(format!("{} {target}: {where_}: {e}", shape.name()));
                        changed
                    });
                    if changed - own_changed > routing_lines_per_level(target) * TREE_LEVELS * shape.rules() * 2 {
                        failures.push(format!("{} {target}: {where_}: {changed} lines changed", shape.name()));
                    }
                    if target == "vyos" {
                        let what = format!("{} vyos: {where_}", shape.name());
                        check_vyos_script(dir.path(), (&base, &new), &diff, shape.rules(), &what, &mut failures);
                    }
                    let budget = match edit {
                        Edit::Add | Edit::Remove => own + CONSTANT,
                        Edit::Change => 2 * own + CONSTANT,
                    };
                    if own_changed > budget || changed == 0 {
                        failures.push(format!(
                            "{} {target}: {where_}: {changed} lines changed, budget {budget}",
                            shape.name()
                        ));
                    }
                    figures.push(changed.to_string());
                }
                cells.push(figures.join(" / "));
            }
            writeln!(table, "| {} | {target} | {own} | {} |", shape.name(), cells.join(" | ")).expect("write");
            if target == "vyos" {
                // Removing one mapping and adding another in its place (the case that once
                // rewrote a third rule's number): two rules, theirs alone.
                let mut ids: Vec<usize> = all.iter().copied().filter(|&i| i != MAPPINGS / 2).collect();
                ids.insert(MAPPINGS / 2, 500);
                let new = intent(target, shape, &ids, None);
                let diff = changed_lines(dir.path(), target, &base, &new, false);
                let what = format!("{} vyos: replace middle", shape.name());
                check_vyos_script(dir.path(), (&base, &new), &diff, 2 * shape.rules(), &what, &mut failures);
            }
        }
    }
    assert!(failures.is_empty(), "edits change more than their own lines:\n{}\n\n{table}", failures.join("\n"));
    let doc = std::fs::read_to_string(common::root().join("docs/minimal-diffs.md")).expect("docs/minimal-diffs.md");
    assert!(
        doc.contains(&table),
        "docs/minimal-diffs.md does not hold the current figures; put this table there:\n\n{table}"
    );
}

/// `text` with a description on every mapping's items (`svc-007: mapping 7`); mapping
/// `edited` (if any) says something else.
fn described(text: &str, edited: Option<usize>) -> String {
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        let Some(name) = line.strip_prefix("name = \"").and_then(|n| n.strip_suffix('"')) else { continue };
        let Some(i) = name.rsplit('-').next().and_then(|n| n.parse::<usize>().ok()) else { continue };
        let note = if edited == Some(i) { ", moved to rack 2" } else { "" };
        out.push_str(&format!("description = \"mapping {i}: customer {}{note}\"\n", i * 7));
    }
    out
}

/// Editing one item's description changes that item's comment and nothing else: one `-`
/// and one `+` line per rule of the item (the nft comment, the xt_comment, the VyOS rule
/// description, the RTX `#` line; both copies in the firewalld script), and on VyOS the change script sets only that rule's
/// description.
#[test]
fn a_description_edit_changes_one_line_per_rule_in_every_target() {
    let dir = tempfile::tempdir().expect("tempdir");
    let all: Vec<usize> = (0..MAPPINGS).collect();
    let mut failures = Vec::new();
    for shape in [Shape::PortForward, Shape::OneToOne] {
        for &target in shape.targets() {
            let base = described(&intent(target, shape, &all, None), None);
            for at in [0, MAPPINGS / 2, MAPPINGS - 1] {
                let new = described(&intent(target, shape, &all, None), Some(at));
                let diff = changed_lines(dir.path(), target, &base, &new, false);
                // A 1:1 map is two items (a dnat and an snat), each with its description;
                // the firewalld script carries each rule twice (direct rule and nft line).
                let rules = shape.rules();
                let copies = if target == "firewalld" { 2 } else { 1 };
                if diff.len() != 2 * rules * copies
                    || !diff.iter().all(|l| l.contains("moved to rack 2") || l.starts_with('-'))
                {
                    failures.push(format!("{} {target}: mapping {at}: {diff:#?}", shape.name()));
                }
                if target == "vyos" {
                    let what = format!("{} vyos: description of mapping {at}", shape.name());
                    check_vyos_script(dir.path(), (&base, &new), &diff, rules, &what, &mut failures);
                }
            }
        }
    }
    assert!(failures.is_empty(), "a description edit changes more than its own comments:\n{}", failures.join("\n"));
}
