//! Shared by the integration tests: the examples, and building them in-process.

#![allow(dead_code)]

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

/// `shared/tools/vyos-check` next to the checkout (as in CI). Never skipped: a missing
/// checker fails the test that needs it.
pub fn vyos_checker() -> PathBuf {
    let tool = root().join("../shared/tools/vyos-check");
    assert!(tool.is_file(), "the VyOS checker is missing at {}", tool.display());
    tool
}

/// Run vyos-check (`--strict`) on `text` against `schema` ("1.4" or "current"):
/// (exit status 0, its report).
pub fn vyos_check(text: &str, schema: &str) -> (bool, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(vyos_checker())
        .args(["--strict", "--schema", schema, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vyos-check runs (python3 is needed)");
    child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write to vyos-check");
    let out = child.wait_with_output().expect("vyos-check finishes");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), report)
}

/// Runs `shared/tools/rtx-check --model MODEL` on a config. A missing checker is a failure,
/// never a skip: the RTX output is only known good because the checker says so.
pub fn rtx_check(config: &str, model: &str) -> Result<(), String> {
    use std::io::Write;
    let checker = root().join("../shared/tools/rtx-check");
    assert!(checker.exists(), "rtx-check not found at {}", checker.display());
    let mut child = std::process::Command::new(&checker)
        .args(["--model", model, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", checker.display()));
    child.stdin.take().expect("stdin").write_all(config.as_bytes()).expect("write to rtx-check");
    let out = child.wait_with_output().expect("rtx-check finishes");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    match out.status.code() {
        Some(0) if report.is_empty() => Ok(()),
        Some(1) => Err(report),
        other => panic!("rtx-check failed to run ({other:?}): {report}"),
    }
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
