//! A fuzz run: cases from the generator and from mutation of the seeds and the corpus,
//! each judged by the oracle; inputs with new features join the corpus; findings are
//! minimised and saved; valid intents' Linux files go to the kernel in batches. A watchdog
//! turns a case that hangs into a finding too.

use super::cli;
use super::generate;
use super::kernel;
use super::minimize::{Budget, minimize};
use super::mutate;
use super::oracle::{self, Finding, FindingKind, Real, SampleFile};
use super::rng::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Config {
    pub seed: u64,
    /// Stop after this many cases…
    pub cases: u64,
    /// …or after this long, whichever comes first.
    pub time: Duration,
    /// Load a sample of the Linux outputs in a namespace (needs root).
    pub kernel: bool,
    /// Where new corpus entries and minimised findings are written (none: memory only).
    pub corpus_dir: Option<PathBuf>,
    /// Also mutate what earlier long runs kept in fuzz/corpus/run/ (never in the short
    /// run, which must not depend on what a previous run left behind).
    pub grown_corpus: bool,
    pub crash_dir: Option<PathBuf>,
    /// Every how many cases the command line is run too (0: never).
    pub cli_every: u64,
    /// Time allowed to minimise one finding.
    pub minimize_time: Duration,
}

/// A finding with how to replay it.
#[derive(Debug, Clone)]
pub struct Report {
    pub finding: Finding,
    pub seed: u64,
    pub case: u64,
    pub minimized: String,
    pub saved: Option<PathBuf>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "FINDING {}", self.finding)?;
        writeln!(f, "  replay: FUZZ_SEED={} case {} (scripts/fuzz.sh SECONDS {})", self.seed, self.case, self.seed)?;
        if let Some(p) = &self.saved {
            writeln!(f, "  saved: {}", p.display())?;
        }
        writeln!(f, "  minimised intent ({} bytes):", self.minimized.len())?;
        for line in self.minimized.lines().take(60) {
            writeln!(f, "  | {}", printable(line))?;
        }
        Ok(())
    }
}

/// A line of a finding as a terminal can show it: control and separator characters
/// escaped, and a very long line cut (the saved file has it whole).
fn printable(line: &str) -> String {
    let count = line.chars().count();
    let mut out: String = line
        .chars()
        .take(160)
        .map(|c| {
            if c.is_control() || ('\u{2028}'..='\u{202e}').contains(&c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    if count > 160 {
        out.push_str(&format!("… ({count} characters)"));
    }
    out
}

#[derive(Debug, Default)]
pub struct Stats {
    pub cases: u64,
    pub generated: u64,
    pub valid: u64,
    pub elapsed: Duration,
    /// Of `elapsed`, the time spent minimising findings (not counted in exec/s).
    pub minimizing: Duration,
    pub features: usize,
    pub corpus: usize,
    pub kernel_files: usize,
    pub reports: Vec<Report>,
    /// How often each error code stopped an intent (what keeps cases from the targets).
    pub errors: BTreeMap<String, u64>,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = (self.elapsed.as_secs_f64() - self.minimizing.as_secs_f64()).max(1e-9);
        write!(
            f,
            "fuzz: {} cases in {:.1} s (+ {:.1} s minimising) = {:.1} exec/s ({} generated, {} mutated; {} valid intents), \
             {} features, corpus {}, {} sample files judged (kernel, sh -n, PyYAML), {} finding(s)",
            self.cases,
            secs,
            self.minimizing.as_secs_f64(),
            self.cases as f64 / secs,
            self.generated,
            self.cases - self.generated,
            self.valid,
            self.features,
            self.corpus,
            self.kernel_files,
            self.reports.len()
        )?;
        let mut top: Vec<(&String, &u64)> = self.errors.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1));
        let top: Vec<String> = top.iter().take(8).map(|(c, n)| format!("{c} {n}")).collect();
        write!(f, "\nfuzz: the errors that stopped most intents: {}", top.join(", "))
    }
}

/// Every intent in the repository: the examples, the test cases and the committed seed
/// corpus; with `grown`, also the corpus earlier long runs kept.
pub fn seeds(root: &Path, grown: bool) -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["examples", "tests", "fuzz/corpus/seed"] {
        collect_toml(&root.join(dir), &mut files);
    }
    if grown {
        collect_toml(&grown_corpus(root), &mut files);
    }
    files.sort();
    files.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect()
}

/// Where a long run keeps the inputs it found interesting, for later runs to mutate.
pub fn grown_corpus(root: &Path) -> PathBuf {
    root.join("fuzz/corpus/run")
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_toml(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

/// One case of a run, rebuilt from its seed alone.
pub struct Case {
    pub text: String,
    pub related: Option<String>,
    pub pick: u64,
    pub generated: bool,
}

pub fn case(seed: u64, index: u64, corpus: &[String]) -> Case {
    let mut rng = Rng::new(Rng::case_seed(seed, index));
    let pick = rng.next_u64();
    if corpus.is_empty() || rng.chance(50) {
        let doc = generate::intent(&mut rng);
        let related = rng.chance(25).then(|| generate::related(&mut rng, &doc).render());
        Case { text: doc.render(), related, pick, generated: true }
    } else {
        let a = rng.pick(corpus).clone();
        let b = rng.pick(corpus);
        let text = mutate::mutate(&mut rng, &a, b);
        let related = rng.chance(25).then_some(a);
        Case { text, related, pick, generated: false }
    }
}

/// The case being judged, for the watchdog.
type Current = Arc<Mutex<Option<(Instant, u64, String)>>>;

/// A case that runs longer than FUZZ_HANG_SECONDS (default 60) is a finding the process
/// cannot recover from: print it, save it, and abort.
fn watchdog(current: Current, seed: u64, crash_dir: Option<PathBuf>) {
    let limit = std::env::var("FUZZ_HANG_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let guard = current.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((start, index, text)) = guard.as_ref()
                && start.elapsed() > Duration::from_secs(limit)
            {
                eprintln!("FINDING hang: case {index} of FUZZ_SEED={seed} ran over {limit} s; its intent:\n{text}");
                if let Some(dir) = &crash_dir {
                    let _ = save(dir, "hang", text);
                }
                std::process::abort();
            }
        }
    });
}

pub fn run(cfg: &Config, root: &Path) -> Stats {
    let start = Instant::now();
    let mut corpus = seeds(root, cfg.grown_corpus);
    let mut features: BTreeSet<String> = BTreeSet::new();
    let mut stats = Stats::default();
    let mut seen: BTreeMap<String, ()> = BTreeMap::new();
    let mut batch: Vec<(u64, Case, SampleFile)> = Vec::new();
    let current: Current = Arc::new(Mutex::new(None));
    watchdog(current.clone(), cfg.seed, cfg.crash_dir.clone());
    let mut index = 0;
    while index < cfg.cases && start.elapsed() < cfg.time {
        let c = case(cfg.seed, index, &corpus);
        *current.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), index, c.text.clone()));
        let mut outcome = oracle::run(&Real, &c.text, c.related.as_deref(), c.pick);
        if outcome.finding.is_none() && cfg.cli_every > 0 && index % cfg.cli_every == 0 {
            outcome.finding = cli::check(&c.text).err();
        }
        *current.lock().unwrap_or_else(|e| e.into_inner()) = None;
        stats.cases += 1;
        stats.generated += u64::from(c.generated);
        stats.valid += u64::from(outcome.valid);
        for f in outcome.features.iter().filter(|f| f.starts_with("error ")) {
            *stats.errors.entry(f[6..].to_string()).or_default() += 1;
        }
        let before = features.len();
        features.extend(outcome.features.iter().cloned());
        if features.len() > before && !corpus.contains(&c.text) {
            if let Some(dir) = &cfg.corpus_dir {
                let _ = save(dir, "case", &c.text);
            }
            corpus.push(c.text.clone());
        }
        if let Some(f) = outcome.finding
            && seen.insert(f.signature(), ()).is_none()
        {
            let started = Instant::now();
            stats.reports.push(report(cfg, index, &c, f, None));
            stats.minimizing += started.elapsed();
        }
        if cfg.kernel && outcome.valid {
            // One file of each kind per case keeps the batch varied and small.
            let mut kinds = BTreeSet::new();
            for f in outcome.sample_files {
                let extension = f.name.rsplit('.').next().unwrap_or_default().to_string();
                if kinds.insert((f.kind, extension)) {
                    batch.push((index, copy(&c), f));
                }
            }
            if batch.len() >= 60 {
                flush(cfg, &mut batch, &mut stats, &mut seen);
            }
        }
        index += 1;
    }
    if cfg.kernel {
        flush(cfg, &mut batch, &mut stats, &mut seen);
    }
    stats.elapsed = start.elapsed();
    stats.features = features.len();
    stats.corpus = corpus.len();
    stats
}

fn copy(c: &Case) -> Case {
    Case { text: c.text.clone(), related: c.related.clone(), pick: c.pick, generated: c.generated }
}

/// Load the batch in one namespace; each refused file is a finding of its case.
fn flush(cfg: &Config, batch: &mut Vec<(u64, Case, SampleFile)>, stats: &mut Stats, seen: &mut BTreeMap<String, ()>) {
    let files: Vec<SampleFile> = batch.iter().map(|(_, _, f)| f.clone()).collect();
    stats.kernel_files += files.len();
    for refusal in kernel::load(&files) {
        let (index, c, file) = &batch[refusal.index];
        let finding = Finding {
            // The refusal's first words (digits as 9) are part of the stage, so that a second
            // kind of refusal of the same file is a finding of its own.
            stage: format!("loading {}: {}", file.name, oracle::shape(&refusal.message)),
            kind: FindingKind::Property("outputs load in their real parser"),
            detail: refusal.message.clone(),
        };
        if seen.insert(finding.signature(), ()).is_none() {
            let started = Instant::now();
            stats.reports.push(report(cfg, *index, c, finding, Some(file.name.clone())));
            stats.minimizing += started.elapsed();
        }
    }
    batch.clear();
}

/// Minimise a finding (for a kernel refusal: the same file still refused) and save it.
fn report(cfg: &Config, index: u64, c: &Case, finding: Finding, kernel_file: Option<String>) -> Report {
    let signature = finding.signature();
    // A finding of the command line (stage `natc build`, `natc check`) is replayed there.
    let via_cli = finding.stage.starts_with("natc ");
    let mut budget = Budget::new(5_000, cfg.minimize_time);
    let related = c.related.as_deref();
    let minimized = minimize(&c.text, &mut budget, &mut |t: &str| {
        let outcome = oracle::run(&Real, t, related, c.pick);
        match &kernel_file {
            None if via_cli => cli::check(t).err().is_some_and(|f| f.signature() == signature),
            None => outcome.finding.is_some_and(|f| f.signature() == signature),
            Some(name) => {
                let files: Vec<SampleFile> = outcome.sample_files.into_iter().filter(|f| &f.name == name).collect();
                !kernel::load(&files).is_empty()
            }
        }
    });
    let saved = cfg.crash_dir.as_ref().and_then(|dir| save(dir, "finding", &minimized).ok());
    Report { finding, seed: cfg.seed, case: index, minimized, saved }
}

/// Save `text` under `dir` by its content hash; the path.
fn save(dir: &Path, what: &str, text: &str) -> std::io::Result<PathBuf> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{what}-{:016x}.toml", h.finish()));
    std::fs::write(&path, text)?;
    Ok(path)
}
