//! Shared by the integration tests: the examples, and building them in-process.

#![allow(dead_code)]

pub mod capture;
pub mod grammar;
pub mod netns;
pub mod rtx_model;
pub mod vyos_model;

use natc::backend::TargetSpec;
use natc::{Artifact, BuildOptions, Error};
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `examples/*.toml`, sorted.
pub fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// The examples the VyOS tests build: every one VyOS can express. The others are Linux
/// gateways whose netmaps name a policy-based tunnel as their interface (a Linux-target
/// reference, N301 on VyOS), and each must have its VyOS variant `<stem>-vyos.toml`
/// (seed-002-overlap-vyos.toml), so that no scenario leaves the VyOS tests unnoticed.
pub fn vyos_examples() -> Vec<PathBuf> {
    let (built, refused): (Vec<PathBuf>, Vec<PathBuf>) = examples().into_iter().partition(|p| build(p, "vyos").is_ok());
    for p in &refused {
        let variant = p.with_file_name(format!("{}-vyos.toml", stem(p)));
        assert!(built.contains(&variant), "{} does not build for vyos and has no VyOS variant", p.display());
    }
    built
}

pub fn stem(path: &Path) -> String {
    path.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_string()
}

pub fn compile(path: &Path) -> natc::Compiled {
    let text = std::fs::read_to_string(path).expect("readable intent");
    natc::compile(&text).unwrap_or_else(|d| panic!("{} does not compile: {d:?}", path.display()))
}

/// Build one intent file for one target; `Err` holds the rendered diagnostics.
pub fn build(path: &Path, target: &str) -> Result<Vec<Artifact>, String> {
    let text = std::fs::read_to_string(path).expect("readable intent");
    build_gateways(path, &text, target, vec![])
}

/// Build an intent given as text for one target; `Err` holds the rendered diagnostics.
pub fn build_text(text: &str, target: &str) -> Result<Vec<Artifact>, String> {
    build_gateways(Path::new("intent.toml"), text, target, vec![])
}

/// Build the named gateways (all when empty) of an intent; `path` names it in diagnostics.
pub fn build_gateways(path: &Path, text: &str, target: &str, gateways: Vec<String>) -> Result<Vec<Artifact>, String> {
    let compiled = natc::compile(text).map_err(|d| render(path, text, &d))?;
    let spec: TargetSpec = target.parse().expect("valid target");
    match natc::build(&compiled, &BuildOptions { targets: vec![spec], gateways, ..Default::default() }) {
        Ok(a) => Ok(a),
        Err(Error::Invalid(d)) => Err(render(path, text, &d)),
        Err(other) => Err(other.to_string()),
    }
}

/// The primary file one gateway gets from an example (a path under the checkout) and a target.
pub fn primary_of(path: &str, target: &str, gateway: &str) -> String {
    let artifacts =
        build(&root().join(path), target).unwrap_or_else(|e| panic!("{path} must build for {target}:\n{e}"));
    let a = artifacts.iter().find(|a| a.gateway == gateway).expect("gateway built");
    primary(a).to_string()
}

/// `==> gateway/file <==` and the file, for every file of every artifact: a snapshot's text.
pub fn snapshot_text(artifacts: &[Artifact]) -> String {
    let mut text = String::new();
    for a in artifacts {
        for f in &a.files {
            text.push_str(&format!("==> {}/{} <==\n{}\n", a.gateway, f.name, f.contents));
        }
    }
    text
}

/// Kernel and daemon tests fail, never skip: they need root and these tools.
pub fn require_root_and(tools: &[&str]) {
    let uid = std::process::Command::new("id").arg("-u").output().expect("id runs");
    assert_eq!(String::from_utf8_lossy(&uid.stdout).trim(), "0", "these tests need root (run scripts/test.sh as root)");
    for tool in tools {
        let found =
            std::process::Command::new("sh").args(["-c", &format!("command -v {tool}")]).status().expect("sh runs");
        assert!(found.success(), "`{tool}` is missing: scripts/test.sh installs it when run as root");
    }
}

pub fn render(path: &Path, text: &str, diagnostics: &[natc::diag::Diagnostic]) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("intent.toml");
    let source: std::sync::Arc<str> = text.into();
    diagnostics.iter().map(|d| natc::diag::render_plain(d, name, &source)).collect()
}

/// The Linux targets every example must build for, unless it carries tunnels or BGP.
pub const LINUX_TARGETS: [&str; 3] = ["iptables", "nftables", "firewalld"];

/// The primary (rules) file of an artifact.
pub fn primary(artifact: &Artifact) -> &str {
    &artifact.files.iter().find(|f| f.primary).expect("a primary file").contents
}

/// The directory of the external device checkers, when the cross-check is asked for:
/// `NATC_SHARED_CHECKS=DIR` (set by .ci/run) names a directory holding
/// `tools/vyos-check` and `tools/rtx-check`, which then must be there. Unset, natc's own
/// grammars (tests/common/grammar/) are the only device check, and a clone passes alone.
pub fn shared_checks() -> Option<PathBuf> {
    shared_checks_at(std::env::var_os("NATC_SHARED_CHECKS"))
}

/// `shared_checks` for a given value of NATC_SHARED_CHECKS.
pub fn shared_checks_at(value: Option<std::ffi::OsString>) -> Option<PathBuf> {
    let dir = PathBuf::from(value?);
    let dir = if dir.is_absolute() { dir } else { root().join(dir) };
    for tool in ["vyos-check", "rtx-check"] {
        let path = dir.join("tools").join(tool);
        assert!(path.is_file(), "NATC_SHARED_CHECKS is set, and {} is missing", path.display());
    }
    Some(dir)
}

/// Runs an external checker on `text` (stdin): (exit code, its report).
fn run_tool(tool: &Path, args: &[&str], text: &str) -> (Option<i32>, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(tool)
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} (python3 is needed): {e}", tool.display()));
    child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write to the checker");
    let out = child.wait_with_output().expect("the checker finishes");
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Checks VyOS lines (`set`/`delete`) against natc's VyOS grammar for `version` ("1.4",
/// or "1.5" / "current") and, across the `set` lines, the references VyOS resolves at
/// commit (vyos_model.rs); with NATC_SHARED_CHECKS also with `vyos-check --strict`:
/// (all accept, the reports).
pub fn vyos_check(text: &str, version: &str) -> (bool, String) {
    let grammar = grammar::vyos::Grammar::of(version);
    let (mut ok, mut report) = match grammar.check(text) {
        Ok(()) => (true, String::new()),
        Err(r) => (false, format!("natc's VyOS {} grammar:\n{r}\n", grammar.version)),
    };
    // Across the lines: what a peer names (ike-group, esp-group, VTI) is set too.
    let dangling = vyos_model::Tree::of_file(grammar, text).map(|tree| tree.dangling());
    match dangling {
        Ok(d) if d.is_empty() => {}
        Ok(d) => (ok, report) = (false, format!("{report}across the lines:\n{}\n", d.join("\n"))),
        Err(e) => (ok, report) = (false, format!("{report}across the lines: {e}\n")),
    }
    if let Some(dir) = shared_checks() {
        let schema = if grammar.version == "1.4" { "1.4" } else { "current" };
        let (code, r) = run_tool(&dir.join("tools/vyos-check"), &["--strict", "--schema", schema], text);
        assert!(matches!(code, Some(0 | 1)), "vyos-check could not run ({code:?}): {r}");
        if code != Some(0) {
            ok = false;
            report.push_str(&format!("vyos-check --schema {schema}:\n{r}"));
        }
    }
    (ok, report)
}

/// Checks a whole RTX config: every line against natc's RTX grammar for `model`; across
/// the lines, what the RTX model of the change-script tests (rtx_model.rs) holds a router
/// to (every filter a list names exists, a bound NAT descriptor has its type, an enabled
/// tunnel has its SA policy, whose gateway has a key and a remote address, …) and that no
/// setting is entered twice; with NATC_SHARED_CHECKS also `rtx-check --model MODEL`.
/// The router's own lines an RTX test intent keeps with `rtx_keep` (its `# router: …`
/// comment lines), to enter before natc's lines when a whole config is checked.
pub fn router_lines(intent: &str) -> String {
    intent.lines().filter_map(|l| l.strip_prefix("# router: ")).map(|l| format!("{l}\n")).collect()
}

pub fn rtx_check(config: &str, model: &str) -> Result<(), String> {
    let mut report = match grammar::rtx::Grammar::get().check(config, model) {
        Ok(()) => String::new(),
        Err(r) => format!("natc's RTX grammar ({model}):\n{r}\n"),
    };
    match rtx_model::Router::of_config(config).map(|router| router.broken()) {
        Ok(broken) if broken.is_empty() => {}
        Ok(broken) => report.push_str(&format!("across the lines:\n{}\n", broken.join("\n"))),
        Err(e) => report.push_str(&format!("across the lines: {e}\n")),
    }
    if let Some(dir) = shared_checks() {
        let (code, r) = run_tool(&dir.join("tools/rtx-check"), &["--model", model], config);
        match code {
            Some(0) if r.is_empty() => {}
            Some(1) => report.push_str(&format!("rtx-check --model {model}:\n{r}")),
            other => panic!("rtx-check failed to run ({other:?}): {r}"),
        }
    }
    if report.is_empty() { Ok(()) } else { Err(report) }
}

/// The lines only in `old` and the lines only in `new`, by a longest common subsequence.
pub fn line_diff(old: &str, new: &str) -> (Vec<String>, Vec<String>) {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut removed, mut added) = (0, 0, Vec::new(), Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            (i, j) = (i + 1, j + 1);
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            added.push(b[j].to_string());
            j += 1;
        } else {
            removed.push(a[i].to_string());
            i += 1;
        }
    }
    (removed, added)
}

/// Shell lines that give a fresh namespace the gateway's interfaces and addresses.
pub fn interfaces_script(compiled: &natc::Compiled, gateway: &str) -> String {
    let gw = compiled.plan.gateways.iter().find(|g| g.name == gateway).expect("gateway exists");
    let mut script = String::from("ip link set lo up\n");
    for (i, iface) in gw.interfaces.iter().enumerate() {
        script.push_str(&format!("ip link add {} type veth peer name natcpeer{i}\n", iface.name));
        script.push_str(&format!("ip link set {} up\nip link set natcpeer{i} up\n", iface.name));
        for a in &iface.addresses {
            script.push_str(&format!("ip address add {} dev {}\n", a.value, iface.name));
        }
    }
    script
}

/// A stand-in for firewalld on its iptables backend (linux-kernel-testing.md §1c'): the
/// script finds its python in `firewall-cmd`'s first line and imports firewalld's client
/// module, so the stand-in is a python `firewall-cmd` and a `firewall.client` on PYTHONPATH
/// whose direct configuration lands in the kernel through plain iptables, in firewalld's
/// order (chains, rules by priority, then passthroughs). `--version` says
/// `$NATC_FAKE_FIREWALLD` (set by [`firewalld_direct_load`] to the line the script was
/// built for, so that its guard lets it run); everything else (policies, reload) only
/// concerns the daemon and succeeds.
const FAKE_FIREWALL_CMD: &str = r#"#!/usr/bin/python3
import os
import sys
if sys.argv[1:] == ["--version"]:
    print(os.environ["NATC_FAKE_FIREWALLD"])
sys.exit(0)
"#;
const FAKE_FIREWALL_CLIENT: &str = r#"import os
import subprocess


class _Settings(object):
    def __init__(self, settings):
        self.settings = settings


class _Direct(object):
    def getSettings(self):
        return _Settings([[], [], []])

    def update(self, settings):
        chains, rules, passthroughs = settings.settings
        for _, table, chain in chains:
            subprocess.check_call(["iptables", "-t", table, "-N", chain])
        # firewalld keeps no order among rules of one priority: NATC_FAKE_TIES=reversed
        # loads such ties in the reverse of natc's order (tests/probe.rs).
        tie = -1 if os.environ.get("NATC_FAKE_TIES") == "reversed" else 1
        ordered = sorted(enumerate(rules), key=lambda ir: (ir[1][3], tie * ir[0]))
        for _, (_, table, chain, _, args) in ordered:
            subprocess.check_call(["iptables", "-t", table, "-A", chain] + list(args))
        for _, args in passthroughs:
            subprocess.check_call(["iptables"] + list(args))


class _Config(object):
    def get_property(self, name):
        return {"FirewallBackend": "iptables"}[name]

    def direct(self):
        return _Direct()


class FirewallClient(object):
    def config(self):
        return _Config()
"#;

/// Shell lines that run `$D/firewalld.sh` against the stand-ins above: the script's direct
/// rules land in the kernel through plain iptables (the real daemon runs in
/// tests/firewalld.rs).
pub fn firewalld_direct_load() -> String {
    // `: "${D:?}"`: without D the stand-in would land in /bin and replace the real firewall-cmd.
    // A 0.6 script's guard also asks for firewalld 0.6's own FORWARD_direct chain.
    format!(
        ": \"${{D:?}}\"\nmkdir -p \"$D/bin\" \"$D/py/firewall\"\ncat > \"$D/bin/firewall-cmd\" <<'EOF'\n{FAKE_FIREWALL_CMD}EOF\n\
         chmod +x \"$D/bin/firewall-cmd\"\n: > \"$D/py/firewall/__init__.py\"\n\
         cat > \"$D/py/firewall/client.py\" <<'EOF'\n{FAKE_FIREWALL_CLIENT}EOF\n\
         NATC_FAKE_FIREWALLD=1.3.3\n\
         if grep -q '^\\[ \"\\$natc_line\" = 0.6 \\]' \"$D/firewalld.sh\"; then\n\
         \x20   NATC_FAKE_FIREWALLD=0.6.3; iptables -N FORWARD_direct\nfi\n\
         PATH=\"$D/bin:$PATH\" PYTHONPATH=\"$D/py\" NATC_FAKE_FIREWALLD=$NATC_FAKE_FIREWALLD NATC_SYSCTL_DIR=\"$D\" sh \"$D/firewalld.sh\" >/dev/null\n"
    )
}

/// A gateway with `n` 1:1 mappings, as the lookup-tree tests load and probe them: mapping `i`
/// takes public 100.65.x.y (in on eth0) to host 10.100.x.y (x = i / 250, y = i % 250 + 1),
/// with its SNAT back and a forward allow to the host (none for the mappings in
/// `without_allow`); eth1 may forward anything out, forwarding drops the rest. eth0 is 10.99.1.254/24, eth1 10.99.2.254/24.
pub fn mappings_intent(n: usize, without_allow: &[usize]) -> String {
    use std::fmt::Write;
    let mut text = String::from(
        "natc = 1\nname = \"mappings\"\n\n[[gateway]]\nname = \"gw\"\ntargets = [\"iptables\"]\n\n\
         [[gateway.interface]]\nname = \"eth0\"\naddress = \"10.99.1.254/24\"\n\n\
         [[gateway.interface]]\nname = \"eth1\"\naddress = \"10.99.2.254/24\"\n\n\
         [gateway.policy]\nforward = \"drop\"\n",
    );
    for i in 0..n {
        let (public, host) = mapping_addresses(i);
        write!(
            text,
            "\n[[gateway.dnat]]\nname = \"in-{i}\"\nin_interface = \"eth0\"\ndestination = \"{public}\"\nto = \"{host}\"\nreturn_route = true\n\
             \n[[gateway.snat]]\nname = \"out-{i}\"\nout_interface = \"eth0\"\nsource = \"{host}\"\nto = \"{public}\"\n"
        )
        .expect("write to a String");
        if !without_allow.contains(&i) {
            write!(
                text,
                "\n[[gateway.allow]]\nname = \"to-{i}\"\nin_interface = \"eth0\"\nto = \"{host}\"\nchain = \"forward\"\n"
            )
            .expect("write to a String");
        }
    }
    text.push_str("\n[[gateway.allow]]\nname = \"lan-out\"\nin_interface = \"eth1\"\nchain = \"forward\"\n");
    text
}

/// Mapping `i`'s public and host address in [`mappings_intent`].
pub fn mapping_addresses(i: usize) -> (std::net::Ipv4Addr, std::net::Ipv4Addr) {
    let (x, y) = ((i / 250) as u8, (i % 250 + 1) as u8);
    ([100, 65, x, y].into(), [10, 100, x, y].into())
}
