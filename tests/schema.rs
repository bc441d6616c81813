//! `natc schema` and the committed schema/natc-intent.schema.json: the schema cannot drift
//! from the binary, and a real validator (Taplo, the one inside the Even Better TOML editor
//! extension) agrees with natc on real intents — the examples, the test intents, and the
//! value forms case by case. Taplo is installed by scripts/test.sh; these tests never skip.

mod common;
#[path = "schema/forms.rs"]
mod forms;
#[path = "schema/taplo.rs"]
mod taplo;

use assert_cmd::Command;
use std::collections::BTreeSet;
use std::path::PathBuf;
use taplo::Wiring;

const SCHEMA: &str = "schema/natc-intent.schema.json";
const DIRECTIVE: &str = "#:schema ../schema/natc-intent.schema.json";

fn natc() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin!("natc"))
}

fn schema_path() -> PathBuf {
    common::root().join(SCHEMA)
}

fn toml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(common::root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// The intents under tests/ that natc loads without error (some need `--target` to build).
fn valid_test_intents() -> Vec<PathBuf> {
    let mut files = toml_files("tests/verify");
    for dir in ["tests/trace", "tests/warnings", "tests/rtx", "tests/grammar"] {
        files.extend(toml_files(dir));
    }
    files.push(common::root().join("tests/vyos-kitchen-sink.toml"));
    files
}

#[test]
fn the_committed_schema_is_what_natc_schema_prints() {
    let printed = natc().arg("schema").assert().success().get_output().stdout.clone();
    let again = natc().arg("schema").assert().success().get_output().stdout.clone();
    assert_eq!(printed, again, "natc schema is not deterministic");
    let committed = std::fs::read(schema_path()).expect("schema/natc-intent.schema.json");
    assert!(printed == committed, "{SCHEMA} is stale: run `cargo run -q -- schema > {SCHEMA}` and review the diff");
    let schema: serde_json::Value = serde_json::from_slice(&printed).expect("natc schema prints JSON");
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert!(printed.ends_with(b"}\n"));
}

#[test]
fn every_example_names_the_schema_on_its_first_line_and_is_valid_under_it() {
    let examples = common::examples();
    for path in &examples {
        let text = std::fs::read_to_string(path).expect("readable example");
        assert_eq!(text.lines().next(), Some(DIRECTIVE), "{}: first line", path.display());
    }
    // Without .taplo.toml: the `#:schema` line alone brings the schema.
    let rejected = taplo::rejected(&examples, Wiring::Directive);
    let reports: Vec<String> = rejected.iter().map(|p| taplo::report(p, Wiring::Directive)).collect();
    assert!(rejected.is_empty(), "examples the schema rejects:\n{}", reports.join("\n"));
}

/// The previous test passes just as well if Taplo ignores the directive; here the directive
/// is the only way to the schema, and a bad value must be found.
#[test]
fn the_schema_directive_is_honoured() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("schema")).expect("mkdir");
    std::fs::copy(schema_path(), dir.path().join(SCHEMA)).expect("copy schema");
    std::fs::create_dir(dir.path().join("examples")).expect("mkdir");
    let example = std::fs::read_to_string(common::root().join("examples/seed-003-lab.toml")).expect("example");
    let good = dir.path().join("examples/good.toml");
    let bad = dir.path().join("examples/bad.toml");
    std::fs::write(&good, &example).expect("write");
    std::fs::write(&bad, example.replacen("address = \"192.168.100.2/24\"", "address = \"192.168.100.300/24\"", 1))
        .expect("write");
    let rejected = taplo::rejected(&[good, bad.clone()], Wiring::Directive);
    assert_eq!(rejected, BTreeSet::from([bad]));
}

#[test]
fn the_valid_test_intents_are_valid_under_the_schema_of_taplo_toml() {
    let files = valid_test_intents();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable");
        assert!(natc::compile(&text).is_ok(), "{} is not a valid intent", path.display());
    }
    let rejected = taplo::rejected(&files, Wiring::Config);
    let reports: Vec<String> = rejected.iter().map(|p| taplo::report(p, Wiring::Config)).collect();
    assert!(rejected.is_empty(), "valid intents the schema rejects:\n{}", reports.join("\n"));
}

/// The codes of errors in the form of one value (a key, a type, a word, an address, a port,
/// a number's range, a secret, an accept): the schema must find these, and only these.
const FORM_CODES: &[&str] = &[
    "N001", "N002", "N003", "N004", "N005", "N006", "N007", "N101", "N103", "N110", "N111", "N112", "N113", "N116",
    "N118", "N215",
];

/// tests/invalid files whose verdict differs from what their code says, and why.
const EXCEPTIONS: &[(&str, &str)] = &[
    ("26-toml-duplicate-key.toml", "Taplo 0.9 misses a key written twice in an [[array]] table"),
    ("54-port-range-backwards.toml", "\"9000-8000\" is well-formed; its order is natc's to check"),
    ("79-expect-no-outcome.toml", "which of arrives_at and blocked is needed is a relation of keys"),
    ("80-expect-tcp-without-port.toml", "port is needed only with protocol tcp or udp"),
    (
        "secret-01-placeholder-in-description.toml",
        "@@natc-secret: is refused in every string; the schema does not repeat that on each",
    ),
];

#[test]
fn the_schema_rejects_the_invalid_intents_whose_error_is_a_value_form_and_only_those() {
    let files = toml_files("tests/invalid");
    let rejected = taplo::rejected(&files, Wiring::Config);
    let mut wrong = Vec::new();
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let text = std::fs::read_to_string(path).expect("readable");
        let code = text.lines().next().and_then(|l| l.strip_prefix("# expect: ")).and_then(|l| l.get(..4));
        let form = code.is_some_and(|c| FORM_CODES.contains(&c));
        let expected = form != EXCEPTIONS.iter().any(|(file, _)| *file == name);
        if rejected.contains(path) != expected {
            let verdict = if expected { "accepts" } else { "rejects" };
            wrong.push(format!("the schema {verdict} {name} ({code:?})\n{}", taplo::report(path, Wiring::Config)));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_base_of_the_value_forms_is_valid() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = dir.path().join("base.toml");
    std::fs::write(&base, forms::BASE).expect("write");
    natc().arg("check").arg(&base).assert().success();
    assert!(taplo::rejected(&[base], Wiring::Explicit(&schema_path())).is_empty());
}

#[test]
fn natc_and_the_schema_agree_value_by_value() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cases = Vec::new();
    for (f, form) in forms::FORMS.iter().enumerate() {
        assert_eq!(forms::BASE.matches(form.line).count(), 1, "`{}` must occur once in BASE", form.line);
        for (v, (value, valid)) in form.values.iter().enumerate() {
            let path = dir.path().join(format!("form-{f:02}-{v:02}.toml"));
            let line = form.template.replace("{}", value);
            std::fs::write(&path, forms::BASE.replacen(form.line, &line, 1)).expect("write");
            cases.push((path, line, *valid));
        }
    }
    let files: Vec<PathBuf> = cases.iter().map(|(p, _, _)| p.clone()).collect();
    let rejected = taplo::rejected(&files, Wiring::Explicit(&schema_path()));
    let mut wrong = Vec::new();
    for (path, line, valid) in &cases {
        let status = natc().arg("check").arg(path).output().expect("natc runs").status;
        let natc_valid = match status.code() {
            Some(0) => true,
            Some(1) => false,
            other => panic!("natc check exited {other:?} on `{line}`"),
        };
        let schema_valid = !rejected.contains(path);
        if natc_valid != *valid || schema_valid != *valid {
            wrong.push(format!("`{line}`: expected {valid}, natc says {natc_valid}, the schema says {schema_valid}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Key paths (`gateway.dnat.to_port`) that the schema offers, following `$ref`, `allOf`,
/// `anyOf` and `items`. `[networks]` takes any name, so its keys are not listed.
fn schema_keys(root: &serde_json::Value, node: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let Some(name) = node.get("$ref").and_then(|r| r.as_str()).and_then(|r| r.strip_prefix("#/definitions/")) {
        schema_keys(root, &root["definitions"][name], prefix, out);
    }
    for list in ["allOf", "anyOf"] {
        for sub in node.get(list).and_then(|l| l.as_array()).into_iter().flatten() {
            schema_keys(root, sub, prefix, out);
        }
    }
    if let Some(items) = node.get("items") {
        schema_keys(root, items, prefix, out);
    }
    for (key, sub) in node.get("properties").and_then(|p| p.as_object()).into_iter().flatten() {
        let path = format!("{prefix}{key}");
        out.insert(path.clone());
        if path != "networks" {
            schema_keys(root, sub, &format!("{path}."), out);
        }
    }
}

/// Key paths an intent uses.
fn intent_keys(value: &toml::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        toml::Value::Table(table) => {
            for (key, sub) in table {
                let path = format!("{prefix}{key}");
                out.insert(path.clone());
                if path != "networks" {
                    intent_keys(sub, &format!("{path}."), out);
                }
            }
        }
        toml::Value::Array(items) => items.iter().for_each(|i| intent_keys(i, prefix, out)),
        _ => {}
    }
}

/// Every key the schema offers is one natc reads: some intent that natc accepts uses it.
/// (The other way round, that the schema has every key the intents use, is what Taplo
/// checks above: every table is `additionalProperties: false`.)
#[test]
fn every_key_of_the_schema_is_used_by_a_valid_intent() {
    let text = std::fs::read_to_string(schema_path()).expect("schema");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let mut offered = BTreeSet::new();
    schema_keys(&schema, &schema, "", &mut offered);
    let mut used = BTreeSet::new();
    let mut intents = vec![forms::BASE.to_string()];
    for path in common::examples().into_iter().chain(valid_test_intents()) {
        intents.push(std::fs::read_to_string(&path).expect("readable"));
    }
    for text in &intents {
        assert!(natc::compile(text).is_ok(), "not a valid intent:\n{text}");
        intent_keys(&toml::Value::Table(text.parse::<toml::Table>().expect("TOML")), "", &mut used);
    }
    let unused: BTreeSet<String> = offered.difference(&used).cloned().collect();
    assert!(unused.is_empty(), "keys of the schema that no valid intent uses: {unused:?}");
    let unknown: BTreeSet<String> = used.difference(&offered).cloned().collect();
    assert!(unknown.is_empty(), "keys the intents use that the schema lacks: {unknown:?}");
}

/// `natc init`'s `#:schema` line names `natc-intent.schema.json` beside the intent, where
/// `natc schema >` puts it: Taplo validates the starter intent with it, and finds a bad value.
#[test]
fn the_init_intent_is_valid_under_the_schema_its_directive_names() {
    let dir = tempfile::tempdir().expect("temp dir");
    let schema = natc().arg("schema").assert().success().get_output().stdout.clone();
    std::fs::write(dir.path().join("natc-intent.schema.json"), schema).expect("write schema");
    let good = dir.path().join("intent.toml");
    natc().args(["init", "-o"]).arg(&good).assert().success();
    let text = std::fs::read_to_string(&good).expect("read");
    assert_eq!(text.lines().next(), Some("#:schema natc-intent.schema.json"));
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, text.replacen("address = \"10.0.0.1/24\"", "address = \"10.0.0.300/24\"", 1)).expect("write");
    let rejected = taplo::rejected(&[good, bad.clone()], Wiring::Directive);
    assert_eq!(rejected, BTreeSet::from([bad]));
}
