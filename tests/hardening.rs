//! Hostile input that natc must survive: values of any length or content either print as
//! one escaped line or are refused with a located error (docs/intent.md, docs/checks.md).
//! The fixtures are in tests/hardening/; very long values are generated here.

mod common;

use natc::diag::terminal::is_hidden;
use std::path::Path;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(common::root().join("tests/hardening").join(name)).expect("fixture exists")
}

/// The two-host lab with one expectation of the given name (a TOML basic string body).
fn lab_with_expectation(name: &str) -> String {
    format!(
        "{}[[expect]]\nname = \"{name}\"\nfrom = \"a\"\nto = \"10.0.1.2\"\nprotocol = \"icmp\"\narrives_at = \"b\"\n\n\
         [[expect]]\nname = \"second\"\nfrom = \"a\"\nto = \"10.0.1.2\"\nprotocol = \"icmp\"\narrives_at = \"b\"\n",
        fixture("two-hosts.toml")
    )
}

fn trace(text: &str) -> String {
    let compiled = natc::compile(text).unwrap_or_else(|d| panic!("compiles: {d:?}"));
    natc::trace::trace(&compiled).unwrap_or_else(|_| panic!("traces")).to_string()
}

/// `natc trace` panicked ("Formatting argument out of range") on a 65,536-character name.
#[test]
fn trace_prints_an_expectation_name_of_any_length() {
    let long = "x".repeat(65_536);
    let text = trace(&lab_with_expectation(&long));
    assert!(text.contains(&long));
    assert_eq!(text.lines().filter(|l| l.starts_with("PASS") || l.starts_with("FAIL")).count(), 2);
}

/// An expectation name with a line break printed a second, forged `PASS` line; ESC, BEL,
/// U+2028 and bidi overrides reached the terminal raw.
#[test]
fn trace_shows_one_escaped_line_per_expectation() {
    let text = trace(&lab_with_expectation(
        r"ping\nPASS  forged: everything is fine\r\u2028\u001b]0;t\u0007\u202e\u2066\u200b",
    ));
    let marks: Vec<&str> = text.lines().filter(|l| l.starts_with("PASS") || l.starts_with("FAIL")).collect();
    assert_eq!(marks.len(), 2, "{text}");
    assert!(
        marks[0].contains(r"ping\nPASS  forged: everything is fine\r\u{2028}\u{1b}]0;t\u{7}\u{202e}\u{2066}\u{200b}")
    );
    assert!(!text.chars().any(|c| is_hidden(c) && c != '\n'), "{text:?}");
}

/// The same through the binary, with the reproducer's intent.
#[test]
fn trace_binary_does_not_forge_lines() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_natc"))
        .arg("trace")
        .arg(Path::new(&common::root()).join("tests/hardening/trace-forged-line.toml"))
        .output()
        .expect("natc runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.lines().any(|l| l.starts_with("PASS  forged")), "{stdout}");
    assert!(stdout.contains(r"ping vm03\nPASS  forged: everything is fine"), "{stdout}");
}

/// The human report echoed a refused name with its raw ESC and BEL bytes (terminal title,
/// screen clear); every format now shows them escaped or encoded.
#[test]
fn diagnostics_never_carry_raw_control_characters() {
    let path = common::root().join("tests/hardening/esc-in-diagnostics.toml");
    for format in ["human", "json", "github"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_natc"))
            .args(["check", "--format", format])
            .arg(&path)
            .output()
            .expect("natc runs");
        assert_eq!(out.status.code(), Some(1), "{format}");
        let stderr = String::from_utf8(out.stderr).expect("UTF-8");
        assert!(stderr.contains("N006"), "{format}: {stderr}");
        assert!(!stderr.chars().any(|c| is_hidden(c) && c != '\n'), "{format}: {stderr:?}");
        if format == "human" {
            assert!(stderr.contains(r"dnat name `x\u{1b}]0;pwned\u{7}\u{1b}[2J` is not allowed"), "{stderr}");
        }
    }
}
