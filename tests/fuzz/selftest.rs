//! The oracle must be able to say no: each property is shown failing on a library with a
//! planted fault, and the kernel sample on a file the kernel refuses.

use super::oracle::{self, FindingKind, Natc, SampleFile};
use natc::backend::TargetKind;
use natc::diag::{Code, Diagnostic};
use natc::{Artifact, BuildOptions, Compiled, Error};
use std::sync::atomic::{AtomicU64, Ordering};

const VALID: &str = include_str!("../../examples/seed-003-lab.toml");

/// A gateway with a tunnel built for nftables: `natc check` reports N301.
const CHECK_FAILS: &str = r#"natc = 1
name = "x"
[[gateway]]
name = "gw"
targets = ["nftables"]
[[gateway.interface]]
name = "eth0"
address = "10.0.0.1/24"
[[gateway.tunnel]]
name = "t"
remote = "203.0.113.1"
psk = { env = "K" }
vti = { name = "vti0", address = "169.254.0.2/30" }
"#;

fn property(natc: &dyn Natc, text: &str) -> String {
    let finding = oracle::run(natc, text, None, 0).finding.expect("the planted fault is found");
    match finding.kind {
        FindingKind::Property(p) => p.to_string(),
        FindingKind::Panic(at) => format!("panic at {at}"),
    }
}

#[test]
fn the_real_library_passes_on_an_example() {
    let outcome = oracle::run(&oracle::Real, VALID, Some(CHECK_FAILS), 1);
    assert!(outcome.finding.is_none(), "{:?}", outcome.finding);
    assert!(outcome.valid && !outcome.sample_files.is_empty() && !outcome.features.is_empty());
}

#[test]
fn a_panic_is_caught_with_its_location() {
    struct Panics;
    impl Natc for Panics {
        fn compile(&self, _: &str) -> Result<Compiled, Vec<Diagnostic>> {
            panic!("planted")
        }
    }
    let at = property(&Panics, VALID);
    assert!(at.starts_with("panic at tests/fuzz/selftest.rs:"), "{at}");
}

#[test]
fn a_parse_whose_spans_differ_from_the_whole_parse_is_caught() {
    // The bug a piecewise parse can have: the right items at the wrong place in the file.
    struct Shifted;
    impl Natc for Shifted {
        fn parse(&self, text: &str) -> Result<natc::intent::IntentFile, Diagnostic> {
            natc::intent::parse(&format!("\n{text}"))
        }
    }
    assert_eq!(property(&Shifted, VALID), "piecewise parse equals whole parse");
}

#[test]
fn outputs_that_change_between_two_builds_are_caught() {
    struct Drifts(AtomicU64);
    impl Natc for Drifts {
        fn build(&self, c: &Compiled, o: &BuildOptions) -> Result<Vec<Artifact>, Error> {
            let n = self.0.fetch_add(1, Ordering::Relaxed);
            natc::build(c, o).map(|mut a| {
                for f in a.iter_mut().flat_map(|a| a.files.iter_mut()) {
                    f.contents.push_str(&format!("# build {n}\n"));
                }
                a
            })
        }
    }
    assert_eq!(property(&Drifts(AtomicU64::new(0)), VALID), "deterministic");
}

#[test]
fn a_span_past_the_end_or_inside_a_character_is_caught() {
    struct Past;
    impl Natc for Past {
        fn compile(&self, text: &str) -> Result<Compiled, Vec<Diagnostic>> {
            Err(vec![Diagnostic::error(Code::TOML_SYNTAX, "planted").label(0..text.len() + 1, "here")])
        }
    }
    assert_eq!(property(&Past, "a = 1\n"), "spans lie inside the file on char boundaries");
    struct Inside;
    impl Natc for Inside {
        fn compile(&self, _: &str) -> Result<Compiled, Vec<Diagnostic>> {
            Err(vec![Diagnostic::error(Code::TOML_SYNTAX, "planted").label(0..1, "here")])
        }
    }
    assert_eq!(property(&Inside, "é = 1\n"), "spans lie inside the file on char boundaries");
}

#[test]
fn an_error_without_a_location_is_caught() {
    struct Unlocated;
    impl Natc for Unlocated {
        fn compile(&self, _: &str) -> Result<Compiled, Vec<Diagnostic>> {
            Err(vec![Diagnostic::error(Code::TOML_SYNTAX, "planted")])
        }
    }
    assert_eq!(property(&Unlocated, "a = 1\n"), "every diagnostic is located");
}

#[test]
fn a_build_that_ignores_the_checks_is_caught() {
    // A build that writes files although `natc check` has errors: the partial output the
    // CLI must never write.
    struct Ignores;
    impl Natc for Ignores {
        fn build(&self, _: &Compiled, _: &BuildOptions) -> Result<Vec<Artifact>, Error> {
            Ok(Vec::new())
        }
    }
    assert!(oracle::run(&oracle::Real, CHECK_FAILS, None, 0).finding.is_none());
    assert_eq!(property(&Ignores, CHECK_FAILS), "check and build agree");
}

#[test]
fn the_sample_judges_refuse_broken_files_and_load_good_ones() {
    super::kernel::require_tools();
    let good = oracle::run(&oracle::Real, VALID, None, 0).sample_files;
    assert!(
        good.iter().any(|f| f.kind == Some(TargetKind::Nftables))
            && good.iter().any(|f| f.kind == Some(TargetKind::Iptables))
    );
    let mut files = good.clone();
    let bad = |kind, name: &str, contents: &str| SampleFile {
        kind,
        profile: None,
        name: name.into(),
        contents: contents.into(),
    };
    files.push(bad(Some(TargetKind::Nftables), "nftables.nft", "table ip t { chain c { bogus; } }\n"));
    files.push(bad(Some(TargetKind::Iptables), "iptables.rules", "*nat\n-A NOCHAIN -j ACCEPT\nCOMMIT\n"));
    files.push(bad(Some(TargetKind::Iptables), "iptables-setup.sh", "echo 'unterminated\n"));
    files.push(bad(None, "gw/site.yml", "- hosts: [gw\n  tasks: {\n"));
    files.push(bad(None, "gw/nftables.cloud-config.yaml", "#cloud-config\nwrite_files: []\n"));
    let refused: Vec<usize> = super::kernel::load(&files).iter().map(|r| r.index).collect();
    // The well-formed cloud-config (the last file) loads.
    assert_eq!(refused, vec![good.len(), good.len() + 1, good.len() + 2, good.len() + 3]);
}
