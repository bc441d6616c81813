//! Change scripts, end to end with the real binary: `natc build` both sides of an intent
//! change, `natc diff --change-script`, then apply the script to the old side's config in
//! a model of the device (tests/common/vyos_model.rs, tests/common/rtx_model.rs, written
//! apart from src/diff) and hold the result to the new side's config. The fixtures
//! (tests/change/*.toml) and edits of the examples cover adding, removing, renaming and
//! editing items, tunnels, filters and addresses; a deterministic loop of random edits
//! (tests/change/intents.rs) covers the rest. Every script also goes through natc's own
//! device grammars (tests/common/grammar/), and with NATC_SHARED_CHECKS through the
//! external checkers too (rtx-check checks references only across a whole config, which
//! the model does instead).

mod common;
#[path = "change/intents.rs"]
mod intents;

use common::{rtx_model, vyos_model};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn natc() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin!("natc"))
}

fn fixture(name: &str) -> PathBuf {
    common::root().join("tests/change").join(name)
}

fn example(name: &str) -> PathBuf {
    common::root().join("examples").join(name)
}

fn schema(profile: &str) -> &'static vyos_model::Schema {
    vyos_model::Schema::of(profile)
}

/// The device a config is for: a VyOS release (its schema) or an RTX model.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Device {
    Vyos(String),
    Rtx(String),
}

/// A gateway's VyOS or RTX config, keyed by gateway and file name.
type Configs = BTreeMap<(String, String), (Device, String)>;

fn device_of(file: &str, text: &str) -> Device {
    if file == "commands.vyos" {
        let profile = if text.lines().next().unwrap_or_default().contains("(vyos@1.5)") { "1.5" } else { "1.4" };
        Device::Vyos(profile.into())
    } else {
        let model = text
            .lines()
            .find_map(|l| l.strip_prefix("# Model ").and_then(|r| r.split('.').next()))
            .expect("rtx.conf names its model");
        Device::Rtx(model.into())
    }
}

/// `natc build INTENT [-t T]... -o DIR`: the VyOS and RTX files it writes.
fn configs(intent: &Path, targets: &[&str]) -> Configs {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = natc();
    command.arg("build").arg(intent).arg("-o").arg(dir.path());
    for t in targets {
        command.args(["-t", t]);
    }
    let out = command.output().expect("natc runs");
    assert!(out.status.success(), "natc build {} failed:\n{}", intent.display(), String::from_utf8_lossy(&out.stderr));
    let mut configs = Configs::new();
    for gateway in std::fs::read_dir(dir.path()).expect("output dir") {
        let gateway = gateway.expect("entry").path();
        for file in ["commands.vyos", "rtx.conf"] {
            if let Ok(text) = std::fs::read_to_string(gateway.join(file)) {
                let name = gateway.file_name().and_then(|n| n.to_str()).expect("gateway dir").to_string();
                configs.insert((name, file.to_string()), (device_of(file, &text), text));
            }
        }
    }
    configs
}

/// `natc diff --change-script OLD NEW [-t T]...`, split at its banners: (gateway, file) →
/// script.
fn change_scripts(old: &Path, new: &Path, targets: &[&str]) -> BTreeMap<(String, String), String> {
    let mut command = natc();
    command.args(["diff", "--change-script"]).arg(old).arg(new);
    for t in targets {
        command.args(["-t", t]);
    }
    let out = command.output().expect("natc runs");
    assert!(out.status.success(), "natc diff failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let mut scripts = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("# ===== natc change script: gateway ") {
            let (gateway, target) = rest.split_once(", target ").expect("banner names the target");
            let file = if target.starts_with("vyos") { "commands.vyos" } else { "rtx.conf" };
            let key = (gateway.to_string(), file.to_string());
            assert!(!scripts.contains_key(&key), "two scripts for {key:?}:\n{stdout}");
            scripts.insert(key.clone(), String::new());
            current = Some(key);
        }
        let key = current.as_ref().unwrap_or_else(|| panic!("output before the first banner:\n{stdout}"));
        let script = scripts.get_mut(key).expect("current script");
        script.push_str(line);
        script.push('\n');
    }
    scripts
}

/// A script and the device it is for, for the checkers.
struct Checked {
    device: Device,
    what: String,
    script: String,
}

/// The commands of a config, without comments: what the device is told.
fn commands(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
}

/// Builds both sides, asks for the scripts and holds each one to its model.
fn round_trip(old: &Path, new: &Path, targets: &[&str], what: &str) -> Vec<Checked> {
    let (before, after) = (configs(old, targets), configs(new, targets));
    let scripts = change_scripts(old, new, targets);
    let keys: BTreeSet<&(String, String)> = before.keys().chain(after.keys()).collect();
    for key in scripts.keys() {
        assert!(keys.contains(key), "{what}: a script for {key:?}, which neither side configures");
    }
    let mut checked = Vec::new();
    for key in keys {
        let (old_device, old_text) = before.get(key).map(|(d, t)| (Some(d), t.as_str())).unwrap_or((None, ""));
        let (new_device, new_text) = after.get(key).map(|(d, t)| (Some(d), t.as_str())).unwrap_or((None, ""));
        let device = new_device.or(old_device).expect("one side").clone();
        let Some(script) = scripts.get(key) else {
            assert_eq!(commands(old_text), commands(new_text), "{what}: {key:?} changed but has no script");
            continue;
        };
        assert_ne!(commands(old_text), commands(new_text), "{what}: a script for {key:?}, which did not change");
        let result = match &device {
            Device::Vyos(profile) => vyos_model::check(schema(profile), old_text, new_text, script),
            Device::Rtx(_) => rtx_model::check(old_text, new_text, script),
        };
        if let Err(e) = result {
            panic!("{what}: {key:?}: {e}\n--- script:\n{script}--- old:\n{old_text}--- new:\n{new_text}");
        }
        checked.push(Checked { device, what: format!("{what}: {key:?}"), script: script.clone() });
    }
    checked
}

/// Both directions of a pair.
fn both_ways(a: &Path, b: &Path, targets: &[&str], what: &str) -> Vec<Checked> {
    let mut checked = round_trip(a, b, targets, &format!("{what} (forward)"));
    checked.extend(round_trip(b, a, targets, &format!("{what} (back)")));
    checked
}

/// natc's device grammars on every script (VyOS: `set` and `delete` lines; RTX: every
/// line in its `tunnel select` context). With NATC_SHARED_CHECKS, also the external
/// checkers: vyos-check --strict reads `set` and `delete` lines; rtx-check's checks across
/// lines (a list names a filter defined in the same input, a tunnel is enabled, …) need a
/// whole config, which a script is not: those messages are expected and the model checks
/// the same at every line; everything else rtx-check says is a failure.
fn run_checkers(checked: &[Checked]) {
    for c in checked {
        let result = match &c.device {
            Device::Vyos(profile) => vyos_model::Schema::of(profile).check(&c.script),
            Device::Rtx(model) => common::grammar::rtx::Grammar::get().check(&c.script, model),
        };
        if let Err(report) = result {
            panic!(
                "natc's grammar of {:?} refuses change-script lines ({}):\n{report}\n{}",
                c.device, c.what, c.script
            );
        }
    }
    if let Some(dir) = common::shared_checks() {
        shared_checkers(&dir, checked);
    }
}

fn shared_checkers(shared: &Path, checked: &[Checked]) {
    const ACROSS_LINES: &[&str] = &[
        "is not defined in this input",
        "is bound here but has no 'nat descriptor type",
        "not set, so it defaults to ipcp",
        "whose type is undefined",
        "is never enabled",
        "has no 'ipsec tunnel <policy_id>'",
        "in this input",
        "has no ipsec ike pre-shared-key",
        "has no ipsec ike remote address",
        "there is no 'tunnel select",
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let mut groups: BTreeMap<&Device, Vec<(PathBuf, &Checked)>> = BTreeMap::new();
    for (i, c) in checked.iter().enumerate() {
        let path = dir.path().join(format!("script-{i}.txt"));
        std::fs::write(&path, &c.script).expect("written");
        groups.entry(&c.device).or_default().push((path, c));
    }
    for (device, files) in groups {
        let (tool, args) = match device {
            Device::Vyos(p) => (
                "vyos-check",
                vec![
                    "--strict".to_string(),
                    "--schema".into(),
                    if p == "1.5" { "current".into() } else { "1.4".into() },
                ],
            ),
            Device::Rtx(m) => ("rtx-check", vec!["--model".to_string(), m.clone()]),
        };
        let out = Command::new(shared.join("tools").join(tool))
            .args(&args)
            .args(files.iter().map(|(p, _)| p))
            .output()
            .unwrap_or_else(|e| panic!("{tool} runs: {e}"));
        let report = String::from_utf8_lossy(&out.stdout);
        let problems: Vec<String> = report
            .lines()
            .filter(|l| matches!(device, Device::Vyos(_)) || !ACROSS_LINES.iter().any(|p| l.contains(p)))
            .map(|l| {
                let file = l.split(':').next().unwrap_or_default();
                let c = files.iter().find(|(p, _)| p.to_str() == Some(file)).map(|(_, c)| c);
                match c {
                    Some(c) => format!("{l}\n  ({})\n{}", c.what, c.script),
                    None => l.to_string(),
                }
            })
            .collect();
        assert!(problems.is_empty(), "{tool} {args:?} refuses change-script lines:\n{}", problems.join("\n"));
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{tool} could not run: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if matches!(device, Device::Vyos(_)) {
            assert!(out.status.success(), "vyos-check failed:\n{report}{}", String::from_utf8_lossy(&out.stderr));
        }
    }
}

/// An example with text replaced (each replacement must apply), written to `dir`.
fn edited(dir: &Path, base: &Path, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(base).expect("readable base");
    for (from, to) in edits {
        assert!(text.contains(from), "{}: `{from}` is not in the base", base.display());
        text = text.replacen(from, to, 1);
    }
    let path = dir.join(name);
    std::fs::write(&path, text).expect("written");
    path
}

/// An example cut off where `marker` starts (to drop its last gateway).
fn truncated(dir: &Path, base: &Path, name: &str, marker: &str) -> PathBuf {
    let text = std::fs::read_to_string(base).expect("readable base");
    let cut = text.find(marker).unwrap_or_else(|| panic!("{}: `{marker}` is not in the base", base.display()));
    let path = dir.join(name);
    std::fs::write(&path, &text[..cut]).expect("written");
    path
}

#[test]
fn fixtures_round_trip_both_ways_and_pass_the_checkers() {
    let mut checked = Vec::new();
    for (old, new, targets) in [
        (example("seed-004-vyos-rtx.toml"), fixture("seed-004-edited.toml"), &[][..]),
        (example("seed-004-vyos-rtx.toml"), fixture("seed-004-edited.toml"), &["vyos@1.5"][..]),
        (common::root().join("tests/rtx/rtx-vpn.toml"), fixture("rtx-vpn-two-tunnels.toml"), &[][..]),
        (common::root().join("tests/rtx/rtx-office.toml"), fixture("rtx-office-edited.toml"), &[][..]),
        (common::root().join("tests/vyos-kitchen-sink.toml"), fixture("kitchen-sink-edited.toml"), &["vyos"][..]),
        (common::root().join("tests/vyos-kitchen-sink.toml"), fixture("kitchen-sink-edited.toml"), &["vyos@1.5"][..]),
    ] {
        checked.extend(both_ways(&old, &new, targets, &format!("{} -> {} {targets:?}", old.display(), new.display())));
    }
    assert!(checked.len() >= 12, "only {} scripts were checked", checked.len());
    run_checkers(&checked);
}

/// Small edits of the examples and the kitchen sink: one leaf, one item added, removed or
/// renamed, an address, a gateway that comes or goes.
#[test]
fn edits_of_the_examples_round_trip_both_ways() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let sink = common::root().join("tests/vyos-kitchen-sink.toml");
    let seed4 = example("seed-004-vyos-rtx.toml");
    let office = common::root().join("tests/rtx/rtx-office.toml");
    let vpn = common::root().join("tests/rtx/rtx-vpn.toml");
    let cases: Vec<(PathBuf, PathBuf, &[&str])> = vec![
        (
            example("port-forward.toml"),
            edited(d, &example("port-forward.toml"), "pf-port.toml", &[("port = 8443", "port = 9443")]),
            &["vyos"],
        ),
        (
            example("seed-003-lab.toml"),
            edited(
                d,
                &example("seed-003-lab.toml"),
                "s3-rename.toml",
                &[("name = \"to-vm03\"", "name = \"to-vm03-new\"")],
            ),
            &["vyos"],
        ),
        (
            example("seed-003-lab.toml"),
            edited(
                d,
                &example("seed-003-lab.toml"),
                "s3-address.toml",
                &[("address = \"192.168.200.2/24\"", "address = \"192.168.200.12/24\"")],
            ),
            &["vyos"],
        ),
        (
            example("seed-003-lab.toml"),
            edited(
                d,
                &example("seed-003-lab.toml"),
                "s3-no-masq.toml",
                &[(
                    "[[gateway.snat]]\nname = \"masq-segment-a\"",
                    "[[gateway.snat]]\nname = \"masq-segment-a\"\ndestination = \"192.168.200.0/24\"",
                )],
            ),
            &["vyos"],
        ),
        (
            example("seed-002-overlap-vyos.toml"),
            edited(
                d,
                &example("seed-002-overlap-vyos.toml"),
                "s2-description.toml",
                &[("\"VPC A subnet (real 192.168.1.0/24)\"", "\"VPC A subnet\"")],
            ),
            &["vyos"],
        ),
        (seed4.clone(), edited(d, &seed4, "s4-port.toml", &[("port = 500", "port = 501")]), &[]),
        (
            seed4.clone(),
            edited(
                d,
                &seed4,
                "s4-dpd.toml",
                &[(
                    "dpd = { action = \"restart\", interval = 15, timeout = 30 }",
                    "dpd = { action = \"restart\", interval = 10, timeout = 30 }",
                )],
            ),
            &["vyos"],
        ),
        (seed4.clone(), edited(d, &seed4, "s4-vti.toml", &[("name = \"vti1\"", "name = \"vti7\"")]), &[]),
        (
            seed4.clone(),
            edited(
                d,
                &seed4,
                "s4-eth0-address.toml",
                &[("address = \"192.168.0.9/24\"", "address = [\"192.168.0.9/24\", \"192.168.0.29/24\"]")],
            ),
            &[],
        ),
        (
            seed4.clone(),
            edited(d, &seed4, "s4-masquerade.toml", &[("to = \"198.51.100.2\"            #", "to = \"masquerade\" #")]),
            &[],
        ),
        // A gateway that goes (everything natc configured on it is removed) or comes.
        (
            seed4.clone(),
            truncated(
                d,
                &seed4,
                "s4-no-vyos.toml",
                "# ------------------------------------------------------------ VyOS",
            ),
            &[],
        ),
        (
            sink.clone(),
            edited(
                d,
                &sink,
                "sink-ports.toml",
                &[("port = [\"80\", \"443\", \"8000-8099\"]", "port = [\"80\", \"8000-8099\"]")],
            ),
            &["vyos"],
        ),
        (
            sink.clone(),
            edited(d, &sink, "sink-policy.toml", &[("input = \"drop\"\n", "input = \"accept\"\n")]),
            &["vyos"],
        ),
        (
            sink.clone(),
            edited(
                d,
                &sink,
                "sink-selectors.toml",
                &[(
                    "remote_networks = [\"172.16.5.0/24\"]",
                    "remote_networks = [\"172.16.6.0/24\", \"172.16.7.0/24\"]",
                )],
            ),
            &["vyos"],
        ),
        (
            sink.clone(),
            edited(d, &sink, "sink-dpd.toml", &[("dpd = { action = \"hold\", interval = 10, timeout = 60 }\n", "")]),
            &["vyos"],
        ),
        (office.clone(), edited(d, &office, "office-port.toml", &[("port = 8443", "port = 9443")]), &[]),
        (
            vpn.clone(),
            edited(
                d,
                &vpn,
                "vpn-lan3.toml",
                &[(
                    "name = \"lan2\"\n",
                    "name = \"lan3\"\naddress = \"192.168.30.1/24\"\n\n[[gateway.interface]]\nname = \"lan2\"\n",
                )],
            ),
            &[],
        ),
        (
            vpn.clone(),
            edited(
                d,
                &vpn,
                "vpn-lan1-address.toml",
                &[("address = \"192.168.10.1/24\"", "address = \"192.168.10.254/24\"")],
            ),
            &[],
        ),
        (
            office.clone(),
            edited(d, &office, "office-policy.toml", &[("forward = \"drop\"", "forward = \"accept\"")]),
            &[],
        ),
        (
            office.clone(),
            edited(
                d,
                &office,
                "office-1to1.toml",
                &[
                    ("to = \"203.0.113.3\"", "to = \"203.0.113.4\""),
                    ("destination = \"203.0.113.3\"", "destination = \"203.0.113.4\""),
                ],
            ),
            &[],
        ),
    ];
    let mut checked = Vec::new();
    for (old, new, targets) in &cases {
        checked.extend(both_ways(old, new, targets, &new.display().to_string()));
    }
    assert!(checked.len() >= cases.len() * 2, "only {} scripts for {} cases", checked.len(), cases.len());
    run_checkers(&checked);
}

fn script_commands(old: &Path, new: &Path, targets: &[&str]) -> BTreeMap<String, Vec<String>> {
    change_scripts(old, new, targets)
        .into_iter()
        .map(|((gateway, _), s)| (gateway, commands(&s).into_iter().map(str::to_string).collect()))
        .collect()
}

#[test]
fn one_changed_leaf_is_one_line_and_a_removed_rule_is_one_delete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seed4 = example("seed-004-vyos-rtx.toml");
    let new = edited(dir.path(), &seed4, "port.toml", &[("port = 500", "port = 501")]);
    let scripts = script_commands(&seed4, &new, &[]);
    assert_eq!(scripts["office-rtx"], ["ip filter 140962 pass 192.168.0.0/24 * udp * 501"]);
    assert_eq!(scripts.len(), 1, "{scripts:#?}");
    let scripts = script_commands(&seed4, &new, &["vyos"]);
    assert_eq!(scripts["office-rtx"], ["set firewall ipv4 forward filter rule 459962 destination port '501'"]);

    let sink = common::root().join("tests/vyos-kitchen-sink.toml");
    let text = std::fs::read_to_string(&sink).expect("sink");
    let start = text.find("[[gateway.dnat]]\nname = \"parp\"").expect("parp");
    let end = start + text[start..].find("[[gateway.snat]]").expect("next item");
    let new = dir.path().join("no-parp.toml");
    std::fs::write(&new, format!("{}{}", &text[..start], &text[end..])).expect("written");
    let lines = &script_commands(&sink, &new, &["vyos"])["gw"];
    let nat: Vec<&String> = lines.iter().filter(|l| l.contains(" nat ")).collect();
    assert_eq!(nat.len(), 1, "one delete for the whole rule: {lines:#?}");
    assert!(nat[0].starts_with("delete nat destination rule "), "{lines:#?}");
    // The proxy ARP goes leaf by leaf: natc does not own interface eth0.
    assert!(lines.contains(&"delete interfaces ethernet eth0 ip enable-proxy-arp".to_string()), "{lines:#?}");
}

#[test]
fn rtx_tunnel_removal_disables_first_and_deletes_definitions_last() {
    let two = fixture("rtx-vpn-two-tunnels.toml");
    let one = common::root().join("tests/rtx/rtx-vpn.toml");
    let lines = &script_commands(&two, &one, &[])["hq-rtx"];
    let at = |l: &str| lines.iter().position(|x| x.trim() == l).unwrap_or_else(|| panic!("no `{l}` in {lines:#?}"));
    assert!(at("no ip route 172.17.0.0/16") < at("tunnel disable 2"), "{lines:#?}");
    assert!(at("tunnel disable 2") < at("no ipsec tunnel"), "{lines:#?}");
    assert!(at("no ipsec tunnel") < at("no ipsec sa policy 2"), "{lines:#?}");
    assert!(at("no ipsec sa policy 2") < at("no ipsec ike pre-shared-key 2"), "{lines:#?}");
    assert_eq!(lines.iter().filter(|l| l.as_str() == "tunnel select 2").count(), 2, "{lines:#?}");
}

/// Random edits: SEEDS runs of STEPS steps, each step one to three edits.
const SEEDS: u64 = 8;
const STEPS: u64 = 10;

fn property<T: Clone>(
    name: &str,
    base: T,
    toml: impl Fn(&T) -> String,
    edit: impl Fn(&mut T, &mut intents::Rng) -> String,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut checked = Vec::new();
    let mut scripts = 0;
    for seed in 1..=SEEDS {
        let mut rng = intents::Rng::new(seed);
        let mut state = base.clone();
        for step in 0..STEPS {
            let old = state.clone();
            let edits: Vec<String> = (0..1 + rng.below(3)).map(|_| edit(&mut state, &mut rng)).collect();
            let (a, b) = (
                dir.path().join(format!("{name}-{seed}-{step}-a.toml")),
                dir.path().join(format!("{name}-{seed}-{step}-b.toml")),
            );
            std::fs::write(&a, toml(&old)).expect("written");
            std::fs::write(&b, toml(&state)).expect("written");
            let what = format!("{name} seed {seed} step {step}: {}", edits.join(", "));
            let got = round_trip(&a, &b, &[], &what);
            scripts += got.len();
            checked.extend(got);
        }
    }
    let edits = SEEDS * STEPS;
    assert!(scripts as u64 * 10 >= edits * 8, "{name}: only {scripts} of {edits} random edits changed the config");
    run_checkers(&checked);
}

#[test]
fn random_edits_of_a_vyos_gateway_round_trip() {
    property("vyos", intents::Vyos::base(), intents::Vyos::toml, intents::Vyos::edit);
}

#[test]
fn random_edits_of_an_rtx_gateway_round_trip() {
    property("rtx", intents::Rtx::base(), intents::Rtx::toml, intents::Rtx::edit);
}

/// The multi-valued leaves natc's change scripts know are exactly those natc's VyOS
/// grammars mark `multi` (VyOS's `<multi/>`), for every leaf in every output the tests build.
#[test]
fn the_multi_valued_leaves_of_the_change_script_are_the_grammars() {
    let mut intents: Vec<PathBuf> = common::vyos_examples();
    intents.push(common::root().join("tests/vyos-kitchen-sink.toml"));
    for f in ["seed-004-edited.toml", "kitchen-sink-edited.toml"] {
        intents.push(fixture(f));
    }
    let mut leaves = 0;
    for intent in &intents {
        for a in common::build(intent, "vyos").unwrap_or_else(|e| panic!("{}: {e}", intent.display())) {
            for line in common::primary(&a).lines().filter(|l| l.starts_with("set ")) {
                let words = vyos_model::split(line).expect("a line");
                for profile in ["1.4", "1.5"] {
                    let (path, kind, _) = schema(profile).walk(&words[1..]).expect("in the grammar");
                    if let vyos_model::Kind::Leaf { multi, .. } = kind {
                        let path: Vec<&str> = path.iter().map(String::as_str).collect();
                        assert_eq!(natc::diff::vyos_change::is_multi(&path), multi, "{line} ({profile})");
                        leaves += 1;
                    }
                }
            }
        }
    }
    assert!(leaves > 500, "{leaves}");
}

#[test]
fn diff_prints_the_scripts_as_comments_after_the_diffs_and_change_script_only_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seed4 = example("seed-004-vyos-rtx.toml");
    let new = edited(dir.path(), &seed4, "port.toml", &[("port = 500", "port = 501")]);
    let out = natc().arg("diff").arg(&seed4).arg(&new).output().expect("runs");
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let banner = stdout.find("# ===== natc change script: gateway office-rtx, target rtx@RTX1200").expect(&stdout);
    assert!(stdout[..banner].contains("+++ b/office-rtx/rtx.conf"), "{stdout}");
    assert!(stdout[banner..].lines().all(|l| l.starts_with('#')), "{stdout}");
    assert!(stdout.contains("#   ip filter 140962 pass 192.168.0.0/24 * udp * 501\n"), "{stdout}");

    let out = natc()
        .args(["diff", "--change-script", "--exit-code", "-t", "vyos", "-t", "nftables", "-g", "office-rtx"])
        .arg(&seed4)
        .arg(&new)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "--exit-code: the outputs differ");
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert!(!stdout.contains("+++"), "{stdout}");
    assert!(stdout.starts_with("# ===== natc change script: gateway office-rtx, target vyos@1.4 =====\n"), "{stdout}");
    assert!(stdout.contains("\nset firewall ipv4 forward filter rule 459962 destination port '501'\n"), "{stdout}");
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    assert!(
        stderr.contains("change scripts cover VyOS and RTX only; also changed: office-rtx/nftables.nft"),
        "{stderr}"
    );

    let out = natc().args(["diff", "--change-script"]).arg(&seed4).arg(&seed4).output().expect("runs");
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
}
