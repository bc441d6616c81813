//! One meaning per flag, through the real binary: `--format` is the diagnostics format on
//! the subcommands that report and nowhere else, build's packaging is `--package` (the
//! former spellings keep working, hidden), a target or gateway given twice is built once,
//! `natc man --dir` writes every page the man page refers to, and `natc trace --from/--to`
//! finds its gateway.

mod common;

use assert_cmd::Command;
use predicates::prelude::*;

fn natc() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin!("natc"))
}

fn example(name: &str) -> std::path::PathBuf {
    common::root().join("examples").join(name)
}

/// `natc ARGS -h`, its lines joined as the terminal's width would wrap them anyway.
fn help(args: &[&str]) -> String {
    let out = natc().args(args).arg("-h").output().expect("runs");
    assert!(out.status.success(), "{args:?} -h: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// stdout of a run that must exit with `code`.
fn stdout(args: &[&str], path: &std::path::Path, code: i32) -> String {
    let out = natc().args(args).arg(path).output().expect("runs");
    assert_eq!(out.status.code(), Some(code), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn only_build_offers_packaging_and_only_the_reporting_subcommands_offer_format() {
    for sub in ["build", "check", "diff", "verify", "trace"] {
        let text = help(&[sub]);
        assert!(text.contains("--format <FORMAT>"), "natc {sub} --help lacks --format:\n{text}");
        assert!(text.contains("[possible values: human, json, github]"), "natc {sub} --help:\n{text}");
        assert!(!text.contains("--diagnostics"), "natc {sub} --help shows the hidden --diagnostics:\n{text}");
        if sub == "build" {
            assert!(text.contains("--package <PACKAGING>"), "{text}");
            assert!(text.contains("[possible values: cloud-init, ansible]"), "{text}");
        } else {
            assert!(!text.contains("cloud-init") && !text.contains("ansible"), "natc {sub} --help:\n{text}");
        }
    }
    for sub in ["init", "man", "schema", "completions"] {
        let text = help(&[sub]);
        assert!(!text.contains("--format") && !text.contains("--color"), "natc {sub} --help:\n{text}");
    }
    natc().args(["man", "--format", "json"]).assert().code(2);
    natc().args(["schema", "--color", "never"]).assert().code(2);
    let top = help(&[]);
    assert!(!top.contains("--format") && !top.contains("cloud-init"), "natc --help:\n{top}");
}

#[test]
fn package_and_its_former_spelling_format_build_the_same() {
    let intent = example("port-forward.toml");
    let package = stdout(&["build", "-t", "nftables", "--package", "cloud-init"], &intent, 0);
    assert!(package.starts_with("#cloud-config\n"), "{package}");
    assert_eq!(stdout(&["build", "-t", "nftables", "--format", "cloud-init"], &intent, 0), package);
    assert_eq!(stdout(&["--format", "cloud-init", "build", "-t", "nftables"], &intent, 0), package);
    assert_eq!(
        stdout(&["build", "-t", "nftables", "--package", "cloud-init", "--format", "cloud-init"], &intent, 0),
        package
    );
    assert_ne!(stdout(&["build", "-t", "nftables"], &intent, 0), package);
    // Two packagings, or a packaging for a command that does not package: usage errors.
    natc()
        .args(["build", "-t", "nftables", "--package", "cloud-init", "--format", "ansible"])
        .arg(&intent)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("cloud-init and ansible"));
    natc().args(["check", "--format", "cloud-init"]).arg(&intent).assert().code(2);
    natc()
        .args(["--format", "ansible", "check"])
        .arg(&intent)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("natc build --package ansible"));
}

#[test]
fn diagnostics_and_options_before_the_subcommand_keep_working() {
    let invalid = common::root().join("tests/invalid/11-unknown-network.toml");
    let json = |args: &[&str]| {
        let out = natc().args(args).arg(&invalid).output().expect("runs");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(stderr.starts_with("{\"file\":"), "{args:?} did not report JSON Lines:\n{stderr}");
        stderr
    };
    let expected = json(&["check", "--format", "json"]);
    assert_eq!(json(&["check", "--diagnostics", "json"]), expected);
    assert_eq!(json(&["--format", "json", "check"]), expected);
    assert_eq!(json(&["--diagnostics", "json", "check"]), expected);
    // --diagnostics wins over --format, as in `--format ansible --diagnostics github`.
    assert_eq!(json(&["check", "--format", "github", "--diagnostics", "json"]), expected);
    assert_eq!(json(&["check", "--format", "json", "--color", "always"]), expected);
    natc()
        .args(["build", "--format", "ansible", "--diagnostics", "github", "-o", "/nonexistent/out"])
        .arg(&invalid)
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("::error file="));
}

#[test]
fn a_target_or_gateway_given_twice_is_built_once() {
    let lab = example("seed-003-lab.toml");
    let once = stdout(&["build", "-t", "nftables"], &lab, 0);
    assert_eq!(stdout(&["build", "-t", "nftables", "-t", "nftables"], &lab, 0), once);
    // seed-003's gateway has no `vyos` key, so a bare vyos is vyos@1.4.
    let vyos = stdout(&["build", "-t", "vyos@1.4"], &lab, 0);
    assert_eq!(stdout(&["build", "-t", "vyos@1.4", "-t", "vyos"], &lab, 0), vyos);
    assert_eq!(stdout(&["build", "-t", "vyos", "-t", "vyos@1.4"], &lab, 0), vyos);
    let overlap = example("seed-002-overlap.toml");
    let one_gateway = stdout(&["build", "-t", "iptables", "-g", "utm-b"], &overlap, 0);
    assert_eq!(stdout(&["build", "-t", "iptables", "-g", "utm-b", "-g", "utm-b"], &overlap, 0), one_gateway);
    // Each file is written once.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = natc()
        .args(["build", "-t", "nftables", "-t", "nftables", "-g", "vm02", "-g", "vm02", "-o"])
        .arg(dir.path())
        .arg(&lab)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("wrote ").count(), 2, "{stderr}");
    // Two profiles of one target would write the same file: refused, nothing written.
    let out_dir = dir.path().join("profiles");
    natc()
        .args(["build", "-t", "vyos@1.4", "-t", "vyos@1.5", "-o"])
        .arg(&out_dir)
        .arg(&lab)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("-t vyos@1.4 and -t vyos@1.5 both write gateway `vm02`"));
    assert!(!out_dir.exists(), "written although refused");
    natc().args(["build", "-t", "vyos@1.5", "-t", "vyos"]).arg(&lab).assert().code(2).stdout("");
    // diff takes its targets the same way: one diff per file.
    let old = example("port-forward.toml");
    let new = dir.path().join("new.toml");
    let text = std::fs::read_to_string(&old).expect("example");
    std::fs::write(&new, text.replace("port = 8443", "port = 9443")).expect("written");
    let diffed = stdout(&["diff", "-t", "nftables", "-t", "nftables", old.to_str().expect("utf-8")], &new, 0);
    let headers: Vec<&str> = diffed.lines().filter(|l| l.starts_with("+++ ")).collect();
    assert_eq!(headers, ["+++ b/edge/nftables.nft"], "{diffed}");
}

#[test]
fn man_dir_writes_every_page_the_man_page_refers_to() {
    let dir = tempfile::tempdir().expect("tempdir");
    natc().arg("man").arg("--dir").arg(dir.path()).assert().success().stdout("");
    let page = std::fs::read_to_string(dir.path().join("natc.1")).expect("natc.1 written");
    let printed = natc().arg("man").output().expect("runs");
    assert_eq!(String::from_utf8_lossy(&printed.stdout), page, "natc man and natc man --dir disagree on natc.1");
    let references: Vec<&str> =
        page.split("natc\\-").skip(1).filter_map(|rest| rest.split_once("(1)").map(|(name, _)| name)).collect();
    assert!(references.len() >= 8, "{references:?}");
    for name in &references {
        let sub = std::fs::read_to_string(dir.path().join(format!("natc-{name}.1")))
            .unwrap_or_else(|e| panic!("natc.1 refers to natc-{name}(1), which natc man --dir did not write: {e}"));
        assert!(sub.starts_with(".ie") || sub.contains(&format!(".TH natc-{name} 1")), "natc-{name}.1:\n{sub}");
    }
    assert!(!references.contains(&"help"), "natc.1 refers to a help page: {references:?}");
    let build = std::fs::read_to_string(dir.path().join("natc-build.1")).expect("natc-build.1");
    assert!(build.contains("\\-\\-package"), "{build}");
}

#[test]
fn trace_finds_the_gateway_when_none_is_named() {
    // One gateway: that one.
    let lab = example("seed-003-lab.toml");
    let named = stdout(&["trace", "-g", "vm02", "--from", "192.168.100.1", "--to", "192.168.100.3"], &lab, 0);
    assert_eq!(stdout(&["trace", "--from", "192.168.100.1", "--to", "192.168.100.3"], &lab, 0), named);
    // Two gateways: the one the lab routes the packet through first. (The link-based seed
    // 002 of tests/verify/: the example's IPsec tunnel is trace's to walk, branch trace-tunnel.)
    let overlap = common::root().join("tests/verify/seed-002-swapped-netmap.toml");
    let args = ["trace", "--from", "192.168.1.118", "--to", "192.168.20.175", "--protocol", "tcp", "--port", "22"];
    let chosen = natc().args(args).arg(&overlap).output().expect("runs");
    assert_eq!(chosen.status.code(), Some(0), "{}", String::from_utf8_lossy(&chosen.stderr));
    assert_eq!(String::from_utf8_lossy(&chosen.stdout), stdout(&[&args[..], &["-g", "utm-a"]].concat(), &overlap, 0));
    let note = String::from_utf8_lossy(&chosen.stderr);
    assert!(note.contains("tracing at utm-a") && note.contains("then utm-b"), "{note}");
    // No lab host sends from there, or no lab at all: a usage error naming the gateways.
    natc()
        .args(["trace", "--from", "192.168.1.10", "--to", "192.168.20.175"])
        .arg(&overlap)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("--gateway (gateways: utm-a, utm-b)"));
    natc()
        .args(["trace", "--from", "10.0.0.1", "--to", "10.0.0.2"])
        .arg(example("seed-004-vyos-rtx.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no [lab]").and(predicate::str::contains("office-rtx")));
    // A packet option without the packet is a usage error, not the expectations.
    natc().args(["trace", "--port", "22"]).arg(&lab).assert().code(2);
    natc().args(["trace", "--from", "192.168.100.1"]).arg(&lab).assert().code(2);
}
