//! natc in CI (docs/ci.md): the script the GitHub workflow and the pre-commit hook run,
//! exercised with the real binary in a scratch git repository laid out as the docs say;
//! and the files the docs show are the files shipped in contrib/.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn script() -> PathBuf {
    common::root().join("contrib/ci/natc-ci.sh")
}

fn natc() -> PathBuf {
    PathBuf::from(assert_cmd::cargo::cargo_bin!("natc"))
}

fn run(repo: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(repo).env("NATC", natc()).env_remove("GITHUB_ACTIONS").env_remove("GITHUB_STEP_SUMMARY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap_or_else(|e| panic!("{program} runs: {e}"))
}

fn git(repo: &Path, args: &[&str]) {
    let out = run(
        repo,
        "git",
        &[&["-c", "user.name=natc", "-c", "user.email=natc@example.invalid", "-c", "commit.gpgsign=false"], args]
            .concat(),
        &[],
    );
    assert!(out.status.success(), "git {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A repository with intents/edge.toml and its configs committed, as the docs lay it out.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path();
    std::fs::create_dir(repo.join("intents")).expect("mkdir intents");
    std::fs::copy(common::root().join("examples/port-forward.toml"), repo.join("intents/edge.toml")).expect("copy");
    let built =
        run(repo, natc().to_str().expect("utf-8"), &["build", "intents/edge.toml", "-o", "generated/edge"], &[]);
    assert!(built.status.success(), "{}", text(&built));
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "base"]);
    dir
}

fn edit_port(repo: &Path) {
    let path = repo.join("intents/edge.toml");
    let intent = std::fs::read_to_string(&path).expect("intent");
    assert!(intent.contains("port = 8443"), "examples/port-forward.toml changed its port");
    std::fs::write(&path, intent.replace("port = 8443", "port = 9443")).expect("write intent");
}

#[test]
fn current_configs_pass_and_stale_ones_fail_with_the_difference() {
    let dir = repository();
    let repo = dir.path();
    let sh = |env: &[(&str, &str)]| run(repo, "sh", &[script().to_str().expect("utf-8"), "main"], env);
    let out = sh(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    edit_port(repo);
    let summary = repo.join("natc-diff.md");
    let out = sh(&[("NATC_SUMMARY", summary.to_str().expect("utf-8"))]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("stale: generated/edge/edge/nftables.nft (differs)"), "{report}");
    assert!(report.contains("-") && report.contains("--dport 9443"), "no diff of the stale files:\n{report}");
    assert!(report.contains("natc build intents/edge.toml -o generated/edge"), "no fix named:\n{report}");
    let posted = std::fs::read_to_string(&summary).expect("the Markdown diff was written");
    assert!(posted.contains("### natc: what `intents/edge.toml` changes"), "{posted}");
    assert!(posted.contains("```diff") && posted.contains("+++ b/edge/nftables.nft"), "{posted}");
    assert!(posted.contains("dport 8443") && posted.contains("dport 9443"), "{posted}");

    let rebuilt =
        run(repo, natc().to_str().expect("utf-8"), &["build", "intents/edge.toml", "-o", "generated/edge"], &[]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt));
    let out = sh(&[]);
    assert_eq!(out.status.code(), Some(0), "after rebuilding: {}", text(&out));
}

#[test]
fn in_github_actions_diagnostics_are_annotations_on_the_intent() {
    let dir = repository();
    let repo = dir.path();
    let path = repo.join("intents/edge.toml");
    let intent = std::fs::read_to_string(&path).expect("intent");
    std::fs::write(&path, intent.replace("to = \"@web\"", "to = \"@webserver\"")).expect("write intent");
    let out = run(repo, "sh", &[script().to_str().expect("utf-8")], &[("GITHUB_ACTIONS", "true")]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("::error file=intents/edge.toml,line="), "{report}");
    assert!(report.contains("title=N104"), "{report}");
}

#[test]
fn a_repository_without_intents_is_an_error_not_a_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(dir.path(), "sh", &[script().to_str().expect("utf-8")], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("no intent files in intents/"), "{}", text(&out));
}

#[test]
fn the_docs_show_the_shipped_workflow_hook_and_script() {
    let doc = std::fs::read_to_string(common::root().join("docs/ci.md")).expect("docs/ci.md");
    for file in ["contrib/github/natc.yml", "contrib/ci/pre-commit-config.yaml"] {
        let shipped = std::fs::read_to_string(common::root().join(file)).expect(file);
        assert!(doc.contains(&shipped), "docs/ci.md does not show {file} as shipped");
    }
    // The workflow is YAML that runs the script on the pull request's base.
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, yaml; w = yaml.safe_load(open(sys.argv[1])); print(w['jobs']['natc']['steps'][3]['run'])",
        ])
        .arg(common::root().join("contrib/github/natc.yml"))
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "the workflow is not YAML: {}", text(&out));
    assert!(text(&out).contains("sh contrib/ci/natc-ci.sh \"origin/${{ github.base_ref }}\""), "{}", text(&out));
}
