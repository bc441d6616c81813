//! Keys go only where natc put them (docs/targets.md#secrets): a rendered file knows its key
//! slots, `--secrets inline` fills those and nothing else, and intent text that looks like a
//! placeholder (`@@natc-secret:`) is refused with a located error on every target, build
//! mode and packaging. Before, inlining was a text replace over the whole output: an
//! interface description holding a placeholder got the key written into it (VyOS and RTX),
//! became a vault expression with `--format ansible`, and a key file named after another
//! tunnel's placeholder broke that tunnel's key (tests/hardening/*placeholder*.toml).

mod common;

use natc::backend::secret::SecretMode;
use natc::{BuildOptions, build, compile};
use std::path::Path;

const KEY_ONE: &str = "S3CRET-one";
const ENV_KEY: &str = "envkey-a";
const FILE_KEY: &str = "filekey-b";

/// `natc ARGS` in `dir` with the reproducers' keys set: (exit code, stdout, stderr).
fn natc(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin!("natc"))
        .current_dir(dir)
        .args(args)
        .env("VPC_TUNNEL1_PSK", KEY_ONE)
        .env("VPC_TUNNEL2_PSK", "x2")
        .env("PSKA", ENV_KEY)
        .output()
        .expect("natc runs");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// `line:column` of the first string that holds the placeholder prefix.
fn location_of_placeholder(text: &str) -> String {
    let at = text.find("\"@@natc-secret:").or_else(|| text.find("\"'@@natc-secret:")).expect("a placeholder string");
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("{line}:{column}")
}

#[test]
fn placeholder_text_in_the_intent_is_refused_on_every_target_and_packaging() {
    let cases = [
        ("description-gets-secret.toml", "vyos-project-a"),
        ("rtx-description-gets-secret.toml", "hq-rtx"),
        ("inline-placeholder-overlap.toml", "vy"),
        ("rtx-placeholder-overlap.toml", "rx"),
    ];
    for (fixture, gateway) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = std::fs::read_to_string(common::root().join("tests/hardening").join(fixture)).expect("fixture");
        std::fs::write(dir.path().join(fixture), &text).expect("copy");
        // The overlap reproducers read this key file for their second tunnel.
        std::fs::write(dir.path().join("'@@natc-secret:env:PSKA@@'"), format!("{FILE_KEY}\n")).expect("key file");
        let located = format!("{fixture}:{}", location_of_placeholder(&text));
        for args in [
            vec!["check", fixture],
            vec!["build", fixture, "-g", gateway],
            vec!["build", fixture, "-g", gateway, "--secrets", "inline"],
            vec!["build", fixture, "-g", gateway, "--secrets", "inline", "-o", "out"],
            vec!["build", fixture, "-g", gateway, "--format", "ansible", "-o", "ansible"],
            vec!["build", fixture, "-g", gateway, "--format", "ansible", "--secrets", "inline", "-o", "ansible"],
            vec!["--diagnostics", "json", "build", fixture, "-g", gateway, "--secrets", "inline"],
        ] {
            let (code, stdout, stderr) = natc(dir.path(), &args);
            assert_eq!(code, Some(1), "natc {args:?}:\n{stdout}{stderr}");
            assert!(stdout.is_empty(), "natc {args:?} printed:\n{stdout}");
            assert!(stderr.contains("N004") && stderr.contains("is reserved"), "natc {args:?}:\n{stderr}");
            if args[0] != "--diagnostics" {
                assert!(stderr.contains(&located), "natc {args:?} not located at {located}:\n{stderr}");
            }
            for key in [KEY_ONE, ENV_KEY, FILE_KEY] {
                assert!(!stderr.contains(key), "natc {args:?} shows a key:\n{stderr}");
            }
            assert!(!dir.path().join("out").exists() && !dir.path().join("ansible").exists(), "natc {args:?} wrote");
        }
    }
}

/// seed-004 with its keys in files `k1`, `k2` next to it (a test process cannot set
/// environment variables safely), compiled.
fn seed_004_with_key_files(dir: &Path) -> natc::Compiled {
    let text = std::fs::read_to_string(common::root().join("examples/seed-004-vyos-rtx.toml")).expect("example");
    let text = text
        .replace(r#"psk = { env = "VPC_TUNNEL1_PSK" }"#, r#"psk = { file = "k1" }"#)
        .replace(r#"psk = { env = "VPC_TUNNEL2_PSK" }"#, r#"psk = { file = "k2" }"#);
    std::fs::write(dir.join("k1"), "it's one\n").expect("k1");
    std::fs::write(dir.join("k2"), "two").expect("k2");
    compile(&text).unwrap_or_else(|d| panic!("{d:?}"))
}

#[test]
fn a_rendered_file_knows_its_key_slots_and_inlining_fills_only_those() {
    let dir = tempfile::tempdir().expect("tempdir");
    let compiled = seed_004_with_key_files(dir.path());
    let gateways = vec!["vyos-project-a".to_string()];
    let options = BuildOptions { gateways: gateways.clone(), ..Default::default() };
    let placeholders = build(&compiled, &options).expect("build");
    let file = &placeholders[0].files[0];
    let slots: Vec<&str> = file.secrets.iter().map(|s| &file.contents[s.range.clone()]).collect();
    assert_eq!(slots, ["'@@natc-secret:file:k1@@'", "'@@natc-secret:file:k2@@'"]);
    assert!(!file.holds_keys());

    let inline = SecretMode::Inline { base: dir.path().to_path_buf() };
    let inlined = build(&compiled, &BuildOptions { gateways, secrets: inline, ..Default::default() }).expect("build");
    let keyed = &inlined[0].files[0];
    let values: Vec<&str> = keyed.secrets.iter().map(|s| &keyed.contents[s.range.clone()]).collect();
    assert_eq!(values, ["'it'\\''s one'", "'two'"]);
    assert!(keyed.holds_keys());
    let outside = |f: &natc::backend::OutputFile| {
        let mut parts = Vec::new();
        let mut at = 0;
        for s in &f.secrets {
            parts.push(f.contents[at..s.range.start].to_string());
            at = s.range.end;
        }
        parts.push(f.contents[at..].to_string());
        parts
    };
    // The header says whether keys are inlined; after it, nothing outside the slots differs.
    assert_eq!(outside(file).len(), outside(keyed).len());
    for (a, b) in outside(file).into_iter().zip(outside(keyed)).skip(1) {
        assert_eq!(a, b);
    }
}

/// The strongswan target's file knows its key slots too: each is the swanctl-quoted
/// placeholder, and `--secrets inline` puts the swanctl-quoted key exactly there.
#[test]
fn strongswan_key_slots_hold_the_quoted_placeholder_then_the_quoted_key() {
    let path = common::root().join("tests/strongswan/pair.toml");
    let compiled = common::compile(&path);
    let build = |secrets| {
        let options =
            natc::BuildOptions { targets: vec!["strongswan".parse().unwrap()], secrets, ..Default::default() };
        natc::build(&compiled, &options).unwrap_or_else(|e| panic!("{e}"))
    };
    for a in build(natc::backend::secret::SecretMode::Placeholder) {
        let f = a.files.iter().find(|f| f.primary).expect("file");
        assert_eq!(f.secrets.len(), 1, "{}", f.contents);
        assert_eq!(&f.contents[f.secrets[0].range.clone()], "\"@@natc-secret:file:pair.psk@@\"");
        assert!(!f.holds_keys());
    }
    let base = common::root().join("tests/strongswan");
    for a in build(natc::backend::secret::SecretMode::Inline { base }) {
        let f = a.files.iter().find(|f| f.primary).expect("file");
        assert_eq!(&f.contents[f.secrets[0].range.clone()], r#""natc test key \"pair\" with a \\ and a # inside""#);
        assert!(f.holds_keys() && !f.contents.contains("@@natc-secret:"), "{}", f.contents);
    }
}
