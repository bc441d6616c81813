//! `natc import` under mutation: the outputs natc writes for every example and target and
//! the hand-typed fixtures of tests/import/, mutated as the intents are (tokens, lines,
//! hostile values), read as every format. Properties: the importer never panics, its
//! intent is valid TOML, every reported line is a line of the input, and the intent goes
//! through `compile` without a panic (errors are allowed: a mutated line may be nonsense).

use crate::mutate;
use crate::rng::Rng;
use natc::import::{Format, import};

const FORMATS: [Format; 5] = [Format::IptablesSave, Format::Nft, Format::FirewalldDirect, Format::Vyos, Format::Rtx];

fn inputs() -> Vec<String> {
    let root = crate::root();
    let mut out = Vec::new();
    for dir in ["examples", "tests/verify"] {
        let mut paths: Vec<_> =
            std::fs::read_dir(root.join(dir)).expect("readable").flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "toml")) {
            let Ok(compiled) = natc::compile(&std::fs::read_to_string(&path).expect("readable")) else { continue };
            for target in ["iptables", "nftables", "firewalld", "vyos", "rtx"] {
                let options =
                    natc::BuildOptions { targets: vec![target.parse().expect("target")], ..Default::default() };
                for artifact in natc::build(&compiled, &options).into_iter().flatten() {
                    out.extend(artifact.files.iter().map(|f| f.contents.clone()));
                }
            }
        }
    }
    let mut fixtures: Vec<_> =
        std::fs::read_dir(root.join("tests/import")).expect("readable").flatten().map(|e| e.path()).collect();
    fixtures.sort();
    out.extend(fixtures.iter().map(|p| std::fs::read_to_string(p).expect("readable")));
    out
}

#[test]
fn the_importer_never_panics_on_mutated_configurations() {
    let inputs = inputs();
    assert!(inputs.len() >= 30, "only {} inputs", inputs.len());
    let mut rng = Rng::new(crate::env_u64("FUZZ_SEED").unwrap_or(56));
    let cases = crate::env_u64("FUZZ_IMPORT_CASES").unwrap_or(400);
    for case in 0..cases {
        let seed = &inputs[rng.below(inputs.len())];
        let other = &inputs[rng.below(inputs.len())];
        let text = if case < inputs.len() as u64 {
            inputs[case as usize].clone()
        } else {
            mutate::mutate(&mut rng, seed, other)
        };
        for format in FORMATS {
            let run = std::panic::catch_unwind(|| import("fuzz.conf", &text, format));
            let imported =
                run.unwrap_or_else(|_| panic!("case {case}: import as {} panicked on:\n{text}", format.name()));
            if let Err(e) = toml::from_str::<toml::Value>(&imported.intent) {
                panic!("case {case}: {} wrote invalid TOML ({e}):\n{}", format.name(), imported.intent);
            }
            let lines = text.lines().count();
            for u in &imported.unexpressed {
                assert!(u.line >= 1 && u.line <= lines, "case {case}: reported line {} of {lines}", u.line);
            }
            let compiled = std::panic::catch_unwind(|| natc::compile(&imported.intent).is_ok());
            assert!(compiled.is_ok(), "case {case}: compile panicked on the imported intent:\n{}", imported.intent);
        }
    }
}
