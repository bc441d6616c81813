//! firewalld profiles (issue 18 item 1, docs/targets.md#firewalld-versions): the `@0.6`
//! script of seed 000 (CentOS 7) in firewalld 0.6.3's own iptables layout with packets (a),
//! against a `firewall-cmd` that takes only 0.6.3's options (b), and the guard that refuses
//! a mismatched box before anything changes, seen through fake `firewall-cmd`, `ip`,
//! `sysctl` and `iptables` that record every call. Needs root for (a); fails, never skips.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

fn seed_000() -> String {
    std::fs::read_to_string(common::root().join("examples/seed-000-powervs.toml")).expect("seed-000 exists")
}

fn script(intent: &str, target: &str) -> String {
    let artifacts = common::build_text(intent, target).unwrap_or_else(|e| panic!("builds for {target}:\n{e}"));
    common::primary(&artifacts[0]).to_string()
}

fn shim_dir() -> std::path::PathBuf {
    common::root().join("tests/firewalld/v0.6.3")
}

/// (a) Runs tests/firewalld/v06-lab.sh and returns its `key: value` facts.
fn lab(script: &str) -> HashMap<String, String> {
    lab_with(script, "shim")
}

/// v06-lab.sh with the gateway's firewalld: `shim` (0.6.3's layout) or `real` (1.3.3).
fn lab_with(script: &str, firewalld: &str) -> HashMap<String, String> {
    common::require_root_and(&["ip", "iptables-restore", "iptables-save", "python3", "awk"]);
    if firewalld == "real" {
        common::require_root_and(&["firewalld", "firewall-cmd", "dbus-daemon", "unshare"]);
    }
    let work = tempfile::tempdir().expect("temp dir");
    let path = work.path().join("firewalld.sh");
    std::fs::write(&path, script).expect("script written");
    let out = Command::new(common::root().join("tests/firewalld/v06-lab.sh"))
        .env("NATC_LAB_FIREWALLD", firewalld)
        .arg(&path)
        .arg(work.path())
        .output()
        .expect("v06-lab.sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let logs = ["run1.log", "calls", "state1"]
        .iter()
        .map(|f| format!("--- {f}\n{}", std::fs::read_to_string(work.path().join(f)).unwrap_or_default()))
        .collect::<String>();
    assert!(out.status.success(), "the lab failed:\n{stdout}\n{}\n{logs}", String::from_utf8_lossy(&out.stderr));
    stdout
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([("logs".to_string(), logs)])
        .collect()
}

/// (a) Seed 000's own script in 0.6.3's layout: the DNATed ssh reaches the LPAR from .70,
/// the DNATed http is dropped by natc's forward chain (0.6.3 has no `ctstate DNAT` accept
/// before FORWARD_direct, so this drop holds there), the gateway answers ssh and drops the
/// rest: natc's chains decide, and the zones' REJECT is never reached.
#[test]
fn seed_000_in_firewalld_0_6_3s_layout() {
    let script = script(&seed_000(), "firewalld");
    assert!(script.contains("(firewalld@0.6)"), "seed 000 declares CentOS 7's firewalld");
    let facts = lab(&script);
    let fact = |k: &str| facts.get(k).map(String::as_str).unwrap_or("<missing>");
    let context = format!("{facts:#?}");
    assert_eq!(fact("before"), "dropped", "negative control: .70 answered before the script\n{context}");
    assert_eq!(fact("run1"), "ok", "{context}");
    assert_eq!(fact("run2"), "ok", "{context}");
    assert_eq!(fact("idempotent"), "yes", "a second run changed the kernel\n{context}");
    assert_eq!(fact("ssh via .70"), "192.168.82.70", "the LPAR sees the SNAT address\n{context}");
    assert_eq!(fact("http via .70"), "dropped", "forward = \"drop\" must stop a DNATed flow\n{context}");
    assert_eq!(fact("ssh to gateway"), "192.168.72.4", "input allows ssh\n{context}");
    assert_eq!(fact("telnet to gateway"), "dropped", "input = \"drop\" (not the zone's reject)\n{context}");
}

/// (a) Under `forward = "accept"` 0.6's zones reject routed traffic they do not know; the
/// 0.6 script's last ACCEPT in natc-forward lets it through. Without that line (the same
/// script, the line removed) the zones answer with their REJECT: the lab tells them apart.
#[test]
fn an_accept_policy_passes_firewalld_0_6_3s_zones() {
    let intent = seed_000().replace("forward = \"drop\" ", "forward = \"accept\"");
    let script = script(&intent, "firewalld");
    let last_accept = "rule filter natc-forward 1 -m comment --comment 'natgw policy/forward' -j ACCEPT\n";
    assert!(script.contains(last_accept), "the 0.6 shape ends natc-forward in ACCEPT:\n{script}");
    let facts = lab(&script);
    assert_eq!(facts["run1"], "ok", "{facts:#?}");
    assert_eq!(facts["http via .70"], "192.168.82.70", "forward = accept must pass the zones\n{facts:#?}");
    let facts = lab(&script.replace(last_accept, ""));
    assert_eq!(facts["http via .70"], "rejected", "without the last ACCEPT the zones reject\n{facts:#?}");
}

/// (c) The same `@0.6` script under the real firewalld 1.3.3 with FirewallBackend=iptables
/// (a lab-only firewall-cmd says 0.6.3 to the guard): it loads, a second run changes
/// nothing, and the flows that must pass do. The DNATed http is *not* stopped there: since
/// 0.7 the iptables backend accepts DNATed flows before FORWARD_direct. That is why 1.3.3
/// is no stand-in for 0.6 on drops, why (a) proves them, and why the 0.9 and 1 shapes reach
/// natc's filter chains from the top of FORWARD instead (docs/targets.md).
#[test]
fn seed_000s_0_6_script_under_a_real_firewalld_1_3_3_with_the_iptables_backend() {
    let facts = lab_with(&script(&seed_000(), "firewalld"), "real");
    let fact = |k: &str| facts.get(k).map(String::as_str).unwrap_or("<missing>");
    let context = format!("{facts:#?}");
    assert_eq!(fact("before"), "dropped", "negative control\n{context}");
    assert_eq!(fact("firewalld"), "running", "{context}");
    assert_eq!(fact("run1"), "ok", "{context}");
    assert_eq!(fact("run2"), "ok", "{context}");
    assert_eq!(fact("idempotent"), "yes", "{context}");
    assert_eq!(fact("firewalld after"), "running", "the reload must not leave firewalld FAILED\n{context}");
    assert_eq!(fact("ssh via .70"), "192.168.82.70", "{context}");
    assert_eq!(fact("ssh to gateway"), "192.168.72.4", "{context}");
    assert_eq!(fact("telnet to gateway"), "dropped", "{context}");
    assert_eq!(
        fact("http via .70"),
        "192.168.82.70",
        "1.3.3 now holds 0.6's forward drop of DNATed flows: revisit docs/targets.md\n{context}"
    );
}

/// The calls a run made, one a line, and how it ended.
struct Run {
    code: Option<i32>,
    stderr: String,
    calls: Vec<String>,
    sysctl_files: usize,
}

/// (b) Runs `script` with the 0.6.3 shim as firewall-cmd (saying `version`) and fake `ip`,
/// `sysctl` and `iptables` that record their calls; `iptables -L FORWARD_direct` succeeds
/// only with `iptables_backend`. In a network namespace of its own: the script's preflight
/// loads its rules into yet another one with the real iptables-restore.
fn run_against_shim(script: &str, version: Option<&str>, iptables_backend: bool) -> Run {
    common::require_root_and(&["unshare", "iptables-restore"]);
    let work = tempfile::tempdir().expect("temp dir");
    let dir = work.path();
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).expect("bin");
    for f in ["firewall-cmd", "options", "layout.rules", "reload", "firewall/__init__.py", "firewall/client.py"] {
        std::fs::create_dir_all(bin.join(f).parent().expect("in bin")).expect("shim dir");
        std::fs::copy(shim_dir().join(f), bin.join(f)).expect("shim copied");
    }
    let calls = dir.join("calls");
    let fake = |name: &str, body: &str| {
        let text = format!("#!/bin/sh\nprintf '%s\\n' \"{name} $*\" >> \"$NATC_CALLS\"\n{body}\n");
        std::fs::write(bin.join(name), text).expect("fake written");
    };
    fake("ip", "exit 0");
    fake("sysctl", "exit 0");
    let has_chain = if iptables_backend { "exit 0" } else { "exit 1" };
    fake("iptables", &format!("case \"$*\" in *'-L FORWARD_direct'*) {has_chain} ;; esac\nexit 0"));
    if version.is_none() {
        // firewalld is not running: firewall-cmd cannot reach it.
        fake("firewall-cmd", "echo 'FirewallD is not running' >&2; exit 252");
    }
    let sysctl_dir = dir.join("sysctl.d");
    std::fs::create_dir(&sysctl_dir).expect("sysctl dir");
    std::fs::write(dir.join("firewalld.sh"), script).expect("script");
    let out = Command::new("unshare")
        .args(["--net", "sh", "-c"])
        .arg(format!(
            "for f in {0}/bin/*; do chmod +x \"$f\"; done; PATH={0}/bin:$PATH PYTHONPATH={0}/bin sh {0}/firewalld.sh",
            dir.display()
        ))
        .env("NATC_CALLS", &calls)
        .env("NATC_SHIM_DIR", dir)
        .env("NATC_SHIM_VERSION", version.unwrap_or(""))
        .env("NATC_SYSCTL_DIR", &sysctl_dir)
        .output()
        .expect("unshare runs");
    Run {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        calls: std::fs::read_to_string(&calls).unwrap_or_default().lines().map(str::to_string).collect(),
        sysctl_files: std::fs::read_dir(&sysctl_dir).expect("sysctl dir").count(),
    }
}

/// (b) Seed 000's `@0.6` script runs to its end against firewalld 0.6.3's options: no
/// policy command (the shim would stop it with exit 2), the guard's two questions first,
/// then the host state, the direct configuration and one reload.
#[test]
fn the_0_6_script_takes_only_firewalld_0_6_3s_options() {
    let script = script(&seed_000(), "firewalld");
    // 0.6 has only its iptables backend: no nftables copy, no backend question.
    assert!(!script.contains("nft ") && !script.contains("natc_py backend"), "{script}");
    let run = run_against_shim(&script, Some("0.6.3"), true);
    assert_eq!(run.code, Some(0), "{}\n{:#?}", run.stderr, run.calls);
    let policy_option = |c: &String| c.split(' ').any(|w| w.starts_with("--") && w.contains("polic"));
    assert!(!run.calls.iter().any(policy_option), "a policy command: {:#?}", run.calls);
    assert_eq!(run.calls[0], "firewall-cmd --version");
    assert_eq!(run.calls[1], "iptables -w -n -t filter -L FORWARD_direct");
    assert!(run.calls[2].starts_with("sysctl "), "{:#?}", run.calls);
    // The rules: one read and one write of the permanent direct configuration (firewalld's
    // client, D-Bus calls 0.6.3 has), no per-rule firewall-cmd; 0.6's backend is not asked.
    let dbus: Vec<&str> = run.calls.iter().filter(|c| c.starts_with("dbus ")).map(String::as_str).collect();
    assert_eq!(dbus, ["dbus config.direct.getSettings", "dbus config.direct.update"], "{:#?}", run.calls);
    assert_eq!(run.calls.last().map(String::as_str), Some("firewall-cmd --reload"));
    assert_eq!(run.sysctl_files, 1);
}

/// (b) What the guard prevents, seen with the guard cut out of a 1.x script: against 0.6.3
/// it changes sysctl, the `lo` addresses and the default route, then stops at the first
/// policy command (exit 2): the half-applied box of issue 18. So the shim can fail a script.
#[test]
fn without_the_guard_a_1_x_script_half_applies_a_0_6_box() {
    let script = script(&seed_000(), "firewalld@1");
    let start = script.find("# ---------------------------------------------------------------- guard").expect("guard");
    let end =
        script.find("# ---------------------------------------------------------------- host state").expect("host");
    let unguarded = format!("{}{}", &script[..start], &script[end..]);
    let run = run_against_shim(&unguarded, Some("0.6.3"), true);
    assert_eq!(run.code, Some(2), "{}\n{:#?}", run.stderr, run.calls);
    assert!(run.stderr.contains("unrecognized arguments: --"), "{}", run.stderr);
    assert!(run.calls.iter().any(|c| c.starts_with("sysctl ")) && run.calls.iter().any(|c| c.starts_with("ip ")));
    assert_eq!(run.sysctl_files, 1, "the sysctl file was written");
}

/// A mismatch: its name, the script, the box's version (none: firewalld stopped), whether
/// it has the iptables backend, the calls the guard may make, and the reason it must give.
type Case<'a> = (&'a str, &'a str, Option<&'a str>, bool, &'a [&'a str], &'a str);

/// (b) Every mismatch is refused by the guard with exit 3 and one line on stderr, after
/// only the guard's own questions: no sysctl, no ip, no file, no firewalld change.
#[test]
fn the_guard_refuses_a_mismatched_box_before_any_change() {
    let v06 = script(&seed_000(), "firewalld@0.6");
    let v09 = script(&seed_000(), "firewalld@0.9");
    let v1 = script(&seed_000(), "firewalld@1");
    let version = ["firewall-cmd --version"];
    let with_backend = ["firewall-cmd --version", "iptables -w -n -t filter -L FORWARD_direct"];
    let cases: [Case; 7] = [
        ("1.x script, CentOS 7", &v1, Some("0.6.3"), true, &version, "build it with firewalld = \"0.6\""),
        ("0.9 script, CentOS 7", &v09, Some("0.6.3"), true, &version, "build it with firewalld = \"0.6\""),
        ("0.6 script, firewalld 1.3.3", &v06, Some("1.3.3"), true, &version, "build it with firewalld = \"1\""),
        ("0.6 script, firewalld 0.9.11", &v06, Some("0.9.11"), true, &version, "build it with firewalld = \"0.9\""),
        ("0.6 script, firewalld 0.8.2", &v06, Some("0.8.2"), true, &version, "which natc does not write for"),
        ("0.6 script, nftables backend", &v06, Some("0.6.3"), false, &with_backend, "FirewallBackend=iptables"),
        ("0.6 script, firewalld stopped", &v06, None, true, &version, "is firewalld running?"),
    ];
    for (name, script, version, backend, expected_calls, reason) in cases {
        let run = run_against_shim(script, version, backend);
        assert_eq!(run.code, Some(3), "{name}: {}\n{:#?}", run.stderr, run.calls);
        assert_eq!(run.calls, expected_calls.to_vec(), "{name}: only the guard may have run");
        assert_eq!(run.sysctl_files, 0, "{name}: a sysctl file was written");
        assert_eq!(run.stderr.lines().count(), 1, "{name}: one line:\n{}", run.stderr);
        assert!(run.stderr.contains("nothing was changed") && run.stderr.contains(reason), "{name}: {}", run.stderr);
    }
    // And a box of the script's own line passes the guard.
    for (script, version) in [(&v09, "0.9.11"), (&v1, "1.3.3"), (&v1, "2.2.1")] {
        let run = run_against_shim(script, Some(version), false);
        // Past the guard: the backend question (firewalld's client), its preflight, the host state.
        assert_eq!(run.calls[1], "dbus config.get_property FirewallBackend", "{version}: {:#?}", run.calls);
        assert!(run.calls.len() > 2 && run.calls[2].starts_with("sysctl "), "{version}: {:#?}", run.calls);
    }
}

/// The shim's option list is 0.6.3's: the options natc's 0.6 script needs are there and
/// the policy objects of 0.9 are not (guards against a list that accepts everything).
#[test]
fn the_shim_knows_firewalld_0_6_3s_options() {
    let options = std::fs::read_to_string(shim_dir().join("options")).expect("options");
    let has = |o: &str| options.lines().any(|l| l == o);
    for o in ["--permanent", "--direct", "--add-chain", "--remove-rules", "--add-rule", "--reload", "--version"] {
        assert!(has(o), "{o}");
    }
    for o in ["--new-policy", "--policy", "--add-ingress-zone", "--info-policy", "--add-forward"] {
        assert!(!has(o), "{o}");
    }
    assert!(Path::new(&shim_dir().join("layout.rules")).is_file());
}
