//! The fuzz harness (docs/reliability.md): structure-aware generation of intents plus
//! mutation of the repository's intents, run in-process against compile, check, every
//! target, cloud-init and Ansible, trace and diff, with the properties in `oracle.rs`.
//!
//! - `cargo test --test fuzz`: a short seeded run (bounded cases, part of scripts/test.sh),
//!   the kernel sample, the committed seed corpus, and self-tests showing that every
//!   property can fail.
//! - `scripts/fuzz.sh [SECONDS] [SEED]`: the long run (`long_run` below, ignored by
//!   default), with a corpus in fuzz/corpus/run/ and minimised findings in fuzz/crashes/.
//!
//! Stable Rust, no libFuzzer: our own seeded PRNG, generator, mutators and minimiser.

mod campaign;
mod cli;
mod generate;
mod import;
mod kernel;
mod minimize;
mod mutate;
mod oracle;
mod pools;
mod rng;
mod selftest;
mod toml_doc;

use std::path::PathBuf;
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Fail with every finding, its seed and its minimised intent.
fn assert_no_findings(stats: &campaign::Stats) {
    eprintln!("{stats}");
    let reports: String = stats.reports.iter().map(|r| r.to_string()).collect();
    assert!(stats.reports.is_empty(), "{} finding(s):\n{reports}", stats.reports.len());
}

/// A bounded run of the test command: memory only (no corpus or findings on disk, no
/// seeds from earlier long runs), so that it gives the same result on every machine.
fn short_run(seed: u64, cases: u64, kernel: bool) -> campaign::Stats {
    let cfg = campaign::Config {
        seed: env_u64("FUZZ_SEED").unwrap_or(seed),
        cases,
        time: Duration::from_secs(600),
        kernel,
        // The binary on every tenth case; the kernel test leaves that to the other run.
        cli_every: if kernel { 0 } else { 10 },
        corpus_dir: None,
        grown_corpus: false,
        crash_dir: None,
        minimize_time: Duration::from_secs(20),
    };
    let stats = campaign::run(&cfg, &root());
    assert_no_findings(&stats);
    stats
}

/// The short run of the test command: a fixed seed and a bounded number of cases
/// (15–25 s in a debug build on 2 cores). FUZZ_SEED replays another seed.
#[test]
fn a_short_seeded_run_keeps_every_property() {
    let stats = short_run(12, env_u64("FUZZ_CASES").unwrap_or(1000), false);
    // The run must reach the targets, or it proves little about them.
    assert!(stats.valid * 5 >= stats.cases, "only {} of {} intents were valid", stats.valid, stats.cases);
}

/// The sample of the short run: valid intents' Linux files in one namespace per batch,
/// their scripts through `sh -n`, their packagings' YAML through PyYAML.
#[test]
fn a_short_seeded_run_loads_in_the_kernel() {
    kernel::require_tools();
    let stats = short_run(34, env_u64("FUZZ_KERNEL_CASES").unwrap_or(300), true);
    assert!(stats.kernel_files >= 20, "only {} files reached the kernel", stats.kernel_files);
}

/// Every committed seed (hand-written hostile intents and the minimised findings that were
/// fixed) keeps every property, with and without a diff against itself.
#[test]
fn the_committed_corpus_keeps_every_property() {
    let dir = root().join("fuzz/corpus/seed");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable seed");
        for pick in 0..3 {
            let outcome = oracle::run(&oracle::Real, &text, Some(&text), pick);
            assert!(outcome.finding.is_none(), "{}: {}", path.display(), outcome.finding.expect("a finding"));
        }
    }
}

/// The long run (scripts/fuzz.sh): FUZZ_SECONDS (default 60), FUZZ_SEED (default: the
/// clock), the kernel sample on, corpus and findings kept on disk.
#[test]
#[ignore = "long: run by scripts/fuzz.sh"]
fn long_run() {
    let seed = env_u64("FUZZ_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_secs())
    });
    let cfg = campaign::Config {
        seed,
        cases: u64::MAX,
        time: Duration::from_secs(env_u64("FUZZ_SECONDS").unwrap_or(60)),
        kernel: std::env::var("FUZZ_KERNEL").map_or(true, |v| v != "0"),
        cli_every: 10,
        corpus_dir: Some(campaign::grown_corpus(&root())),
        grown_corpus: true,
        crash_dir: Some(root().join("fuzz/crashes")),
        minimize_time: Duration::from_secs(30),
    };
    eprintln!("fuzz: seed {seed}, {} s", cfg.time.as_secs());
    let stats = campaign::run(&cfg, &root());
    assert_no_findings(&stats);
}

/// Replays one case of a run: FUZZ_SEED and FUZZ_CASE (as a finding's report names them);
/// prints the intent (and writes it to FUZZ_DUMP when set) and what the oracle found.
#[test]
#[ignore = "a tool: FUZZ_SEED=S FUZZ_CASE=N cargo test --test fuzz replay -- --ignored --nocapture"]
fn replay() {
    let seed = env_u64("FUZZ_SEED").expect("FUZZ_SEED");
    let index = env_u64("FUZZ_CASE").expect("FUZZ_CASE");
    // The corpus grows during a run; a replay sees the seeds only, which is what the
    // early cases and every generated case use.
    let corpus = campaign::seeds(&root(), false);
    let c = campaign::case(seed, index, &corpus);
    println!("{}", c.text);
    if let Ok(path) = std::env::var("FUZZ_DUMP") {
        std::fs::write(&path, &c.text).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    let outcome = oracle::run(&oracle::Real, &c.text, c.related.as_deref(), c.pick);
    println!("# valid: {}; features: {:?}", outcome.valid, outcome.features);
    if let Some(f) = outcome.finding {
        panic!("{f}");
    }
}
