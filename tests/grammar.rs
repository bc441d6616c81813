//! natc's own device grammars (tests/common/grammar/) are exactly what natc writes: every
//! node of the VyOS grammar and every command of the RTX grammar is produced by some
//! output or change script of the test intents (so the grammars are no broad copy of the
//! device's schema), they are written apart from the renderers (no `natc::` in them), and
//! the external cross-check, once asked for, cannot be skipped.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

/// The intents whose outputs the coverage is measured on: the examples, the target
/// tests' own intents, and tests/grammar/*.toml for the line shapes no other intent has.
fn intents() -> Vec<PathBuf> {
    let mut files = common::examples();
    for dir in ["tests/rtx", "tests/change", "tests/grammar"] {
        let mut own: Vec<PathBuf> = std::fs::read_dir(common::root().join(dir))
            .expect("readable test directory")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        own.sort();
        files.extend(own);
    }
    files.push(common::root().join("tests/vyos-kitchen-sink.toml"));
    files
}

/// Each gateway's primary file for a target; gateways the target refuses are skipped.
fn outputs(target: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in intents() {
        let text = std::fs::read_to_string(&path).expect("readable intent");
        let compiled = common::compile(&path);
        for g in &compiled.plan.gateways {
            if let Ok(artifacts) = common::build_gateways(&path, &text, target, vec![g.name.clone()]) {
                for a in &artifacts {
                    let profile = a.target.profile.as_ref().map(ToString::to_string).unwrap_or_default();
                    // An intent's `rtx_keep` numbers are the router's own: its lines first.
                    let router = if target == "rtx" { common::router_lines(&text) } else { String::new() };
                    out.push((profile, format!("{router}{}", common::primary(a))));
                }
            }
        }
    }
    out
}

#[test]
fn every_node_of_the_vyos_grammar_is_one_natc_writes() {
    let grammar = common::grammar::vyos::Grammar::of("1.4");
    let mut written = BTreeSet::new();
    let configs = outputs("vyos");
    for (_, config) in &configs {
        let (ok, report) = common::vyos_check(config, "1.4");
        assert!(ok, "{report}");
        // A config and its removal (the change script to nothing): set and delete lines.
        let removal = natc::diff::vyos_change::change_script(config, "").join("\n");
        let (ok, report) = common::vyos_check(&removal, "1.4");
        assert!(ok, "{report}");
        for line in config.lines().chain(removal.lines()).filter(|l| l.starts_with("set ")) {
            written.insert(grammar.declared_node_of(line).unwrap_or_else(|| panic!("not in the grammar: {line}")));
        }
    }
    let unused: Vec<String> = grammar.declared().into_iter().filter(|d| !written.contains(d)).collect();
    assert!(unused.is_empty(), "nodes of vyos-1.4.nodes no test output writes:\n{}", unused.join("\n"));
    assert!(configs.len() >= 10, "only {} VyOS outputs", configs.len());
}

#[test]
fn every_command_of_the_rtx_grammar_is_one_natc_writes() {
    let grammar = common::grammar::rtx::Grammar::get();
    let mut written = BTreeSet::new();
    let configs = outputs("rtx");
    for (model, config) in &configs {
        common::rtx_check(config, model).unwrap_or_else(|e| panic!("{e}"));
        // The config entered on an empty router, and removed again: every `no` form.
        let removal = natc::diff::rtx_change::change_script(config, "").join("\n");
        // A script is no whole config: the grammar alone (the external rtx-check would miss
        // the definitions its lines refer to).
        grammar.check(&removal, model).unwrap_or_else(|e| panic!("{e}\n{removal}"));
        written.extend(grammar.declared_commands_of(config, model));
        written.extend(grammar.declared_commands_of(&removal, model));
    }
    let unused: Vec<String> = grammar.declared().into_iter().filter(|d| !written.contains(d)).collect();
    assert!(unused.is_empty(), "commands of rtx.commands no test output writes:\n{}", unused.join("\n"));
}

/// The grammars know nothing of natc: they check its renderers instead of repeating them.
#[test]
fn the_grammars_are_written_apart_from_the_renderers() {
    let dir = common::root().join("tests/common/grammar");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/common/grammar") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("readable");
        for word in ["natc::", "crate::", "src/backend"] {
            let code = text
                .lines()
                .map(str::trim_start)
                .filter(|l| !l.starts_with("//") && !l.starts_with('#'))
                .any(|l| l.contains(word));
            assert!(!code, "{} uses `{word}`", path.display());
        }
        files += 1;
    }
    assert!(files >= 6, "{files} files in {}", dir.display());
}

/// NATC_SHARED_CHECKS names a directory whose checkers must be there: a CI run that asks
/// for the cross-check cannot pass without it.
#[test]
fn the_cross_check_once_asked_for_cannot_be_skipped() {
    assert_eq!(common::shared_checks_at(None), None);
    let missing = std::panic::catch_unwind(|| common::shared_checks_at(Some("/nonexistent/natc-shared".into())));
    assert!(missing.is_err(), "a missing checker must fail");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("tools")).expect("mkdir");
    std::fs::write(dir.path().join("tools/vyos-check"), "").expect("write");
    let half = std::panic::catch_unwind(|| common::shared_checks_at(Some(dir.path().into())));
    assert!(half.is_err(), "rtx-check is missing too");
    std::fs::write(dir.path().join("tools/rtx-check"), "").expect("write");
    assert_eq!(common::shared_checks_at(Some(dir.path().into())), Some(dir.path().to_path_buf()));
}
