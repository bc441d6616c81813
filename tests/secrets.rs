//! Secrets stay references: with the pre-shared keys set in the environment and in files,
//! no command writes a value anywhere (stdout, stderr, the files of `-o`) unless the build
//! is asked for `--secrets inline`; then each value appears quoted for its target, and the
//! devices' grammars still accept the output.

mod common;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// Values no output may contain: a space, quotes and a `#` test the targets' quoting too.
const TUNNEL1: &str = "canary one 'quoted' #1";
const TUNNEL2: &str = "canary-two\"x";
const FILE_KEY: &str = "canary three | from a file";

/// The RTX intent from tests/rtx as `dir/<name>.toml`, its key file `dir/<name>.psk` holding `key`.
fn rtx_intent(dir: &Path, name: &str, key: &str) -> PathBuf {
    let text = std::fs::read_to_string(common::root().join("tests/rtx/rtx-vpn.toml")).expect("rtx-vpn.toml");
    let old = r#"psk = { file = "/etc/natc/cloud #1.psk" }"#;
    assert!(text.contains(old), "tests/rtx/rtx-vpn.toml changed its psk line");
    std::fs::write(dir.join(format!("{name}.psk")), format!("{key}\n")).expect("write key file");
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text.replace(old, &format!(r#"psk = {{ file = "{name}.psk" }}"#))).expect("write intent");
    path
}

/// Exit code, and stdout followed by stderr.
fn natc(args: &[&str]) -> (Option<i32>, String) {
    let (code, stdout, stderr) = natc_split(args);
    (code, format!("{stdout}{stderr}"))
}

fn natc_split(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(assert_cmd::cargo::cargo_bin!("natc"))
        .args(args)
        .env("VPC_TUNNEL1_PSK", TUNNEL1)
        .env("VPC_TUNNEL2_PSK", TUNNEL2)
        .output()
        .expect("natc runs");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push((path.clone(), std::fs::read_to_string(&path).unwrap_or_default()));
        }
    }
    found
}

fn assert_no_value(what: &str, text: &str) {
    for value in [TUNNEL1, TUNNEL2, FILE_KEY] {
        assert!(!text.contains(value), "{what} contains a secret value:\n{text}");
    }
    // Nor a recognisable part of one (a quoted or escaped rendering).
    assert!(!text.contains("canary"), "{what} contains part of a secret value:\n{text}");
}

#[test]
fn no_secret_value_reaches_any_output_or_diagnostic_unless_asked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let vyos = common::root().join("examples/seed-004-vyos-rtx.toml");
    let rtx = rtx_intent(tmp.path(), "rtx", FILE_KEY);
    // Longer than the 128 characters RTX takes: the build fails with a diagnostic.
    let too_long = rtx_intent(tmp.path(), "too-long", &FILE_KEY.repeat(8));
    let (vyos, rtx, too_long) =
        (vyos.to_str().expect("utf-8"), rtx.to_str().expect("utf-8"), too_long.to_str().expect("utf-8"));
    let out = tmp.path().join("out");
    let out = out.to_str().expect("utf-8");
    let ansible = tmp.path().join("ansible");
    let ansible = ansible.to_str().expect("utf-8");
    let runs: Vec<Vec<&str>> = vec![
        vec!["build", vyos],
        vec!["build", vyos, "--secrets", "placeholder", "-o", out],
        vec!["build", rtx],
        vec!["build", rtx, "-o", out],
        // Ansible refers to vault variables: the values stay out of the playbooks too.
        vec!["build", vyos, "--package", "ansible", "-o", ansible],
        vec!["build", rtx, "--package", "ansible", "-o", ansible],
        vec!["build", rtx, "--format", "json", "--strict"],
        vec!["check", vyos, "--format", "github"],
        vec!["diff", rtx, vyos],
        // A failing inline build: its diagnostics name the reference, never the value.
        vec!["build", too_long, "--secrets", "inline"],
        vec!["build", too_long, "--secrets", "inline", "--format", "json"],
    ];
    for args in &runs {
        let (code, text) = natc(args);
        assert_no_value(&format!("natc {}", args.join(" ")), &text);
        if args[1] == too_long {
            assert_eq!(code, Some(1), "natc {}: {text}", args.join(" "));
            assert!(text.contains("N301") && text.contains("too-long.psk"), "natc {}: {text}", args.join(" "));
        }
    }
    let written: Vec<(PathBuf, String)> =
        files_under(Path::new(out)).into_iter().chain(files_under(Path::new(ansible))).collect();
    assert!(written.len() >= 6, "natc build -o wrote {} files", written.len());
    assert!(
        written.iter().any(|(_, text)| text.contains("natc_secret_vpc_tunnel1_psk")),
        "the Ansible playbooks do not refer to the key's vault variable"
    );
    for (path, text) in written {
        assert_no_value(&path.display().to_string(), &text);
        let ansible_file = path.starts_with(ansible);
        if !ansible_file && (text.contains("pre-shared") || text.contains("psk")) {
            assert!(text.contains("@@natc-secret:"), "{}: a key without its placeholder", path.display());
        }
    }
}

#[test]
fn inline_writes_each_value_quoted_for_its_target_and_the_grammars_accept_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let vyos = common::root().join("examples/seed-004-vyos-rtx.toml");
    let (code, config, stderr) =
        natc_split(&["build", vyos.to_str().expect("utf-8"), "--gateway", "vyos-project-a", "--secrets", "inline"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(config.contains(r#"secret 'canary one '\''quoted'\'' #1'"#), "{config}");
    assert!(config.contains(r#"secret 'canary-two"x'"#), "{config}");
    assert!(!config.contains("@@natc-secret"), "a placeholder is left:\n{config}");
    let (ok, report) = common::vyos_check(&config, "1.4");
    assert!(ok, "the VyOS checks refuse the inlined config: {report}");

    let rtx = rtx_intent(tmp.path(), "rtx", FILE_KEY);
    let (code, config, stderr) = natc_split(&["build", rtx.to_str().expect("utf-8"), "--secrets", "inline"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(config.contains(r"pre-shared-key 1 text canary\ three\ \|\ from\ a\ file"), "{config}");
    assert!(!config.contains("@@natc-secret"), "a placeholder is left:\n{config}");
    common::rtx_check(&config, "RTX830").unwrap_or_else(|r| panic!("the RTX checks refuse the inlined config: {r}"));
}

#[test]
fn an_unset_reference_is_located_and_nothing_is_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let vyos = common::root().join("examples/seed-004-vyos-rtx.toml");
    let output = Command::new(assert_cmd::cargo::cargo_bin!("natc"))
        .args(["build", vyos.to_str().expect("utf-8"), "--secrets", "inline", "-o", out.to_str().expect("utf-8")])
        .env_remove("VPC_TUNNEL1_PSK")
        .env("VPC_TUNNEL2_PSK", TUNNEL2)
        .output()
        .expect("natc runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("N121") && stderr.contains("VPC_TUNNEL1_PSK"), "{stderr}");
    let text = std::fs::read_to_string(&vyos).expect("seed");
    let line = 1 + text.lines().position(|l| l.starts_with("psk = { env = \"VPC_TUNNEL1_PSK\" }")).expect("psk line");
    assert!(stderr.contains(&format!("seed-004-vyos-rtx.toml:{line}:")), "not located at the psk line: {stderr}");
    assert!(!out.exists(), "wrote {}", out.display());
    assert_no_value("stderr", &stderr);
}
