//! Shared by the integration tests: the examples, and building them in-process.

#![allow(dead_code)]

use natc::target::TargetSpec;
use natc::{Artifact, BuildError, BuildOptions};
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

/// Build one intent for one target; `Err` holds the rendered diagnostics.
pub fn build(path: &Path, target: &str) -> Result<Vec<Artifact>, String> {
    let text = std::fs::read_to_string(path).expect("readable intent");
    let compiled = natc::compile(&text).map_err(|d| render(path, &text, &d))?;
    let spec: TargetSpec = target.parse().expect("valid target");
    match natc::build(&compiled, &BuildOptions { targets: vec![spec], gateways: vec![] }) {
        Ok(a) => Ok(a),
        Err(BuildError::Invalid(d)) => Err(render(path, &text, &d)),
        Err(BuildError::Usage(m)) => Err(m),
    }
}

pub fn render(path: &Path, text: &str, diagnostics: &[natc::diag::Diagnostic]) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("intent.toml");
    let source: std::sync::Arc<str> = text.into();
    diagnostics.iter().map(|d| natc::diag::render_plain(d, name, &source)).collect()
}

/// The Linux targets every example must build for, unless it carries tunnels or BGP.
pub const LINUX_TARGETS: [&str; 3] = ["iptables", "nftables", "firewalld"];
