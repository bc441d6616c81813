//! The docs cannot drift from the code: every diagnostic code is documented and has at
//! least one intent that the test suite runs and that produces it (an error in
//! tests/invalid, a warning in tests/warnings).

mod common;

#[test]
fn every_code_is_documented_and_exercised() {
    let doc = std::fs::read_to_string(common::root().join("docs/diagnostics.md")).expect("docs/diagnostics.md");
    let mut expected = String::new();
    for dir in ["tests/invalid", "tests/warnings"] {
        for entry in std::fs::read_dir(common::root().join(dir)).expect(dir) {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|x| x != "toml") {
                continue;
            }
            let text = std::fs::read_to_string(path).expect("readable");
            expected.push_str(text.lines().next().unwrap_or_default());
            expected.push('\n');
        }
    }
    for (code, summary) in natc::diag::CODES {
        assert!(doc.contains(&format!("| {code} | {summary} |")), "{code} is not in docs/diagnostics.md");
        // N901 is natc's own bug: no intent may produce it (src/package/mod.rs tests force one).
        if *code == natc::diag::Code::INTERNAL {
            continue;
        }
        assert!(
            expected.contains(&format!("# expect: {code} ")) || expected.contains(&format!("# warns: {code} ")),
            "no tests/invalid or tests/warnings file produces {code}"
        );
    }
}
