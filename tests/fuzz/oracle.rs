//! One case, in-process: compile → check → every target (twice) → cloud-init and Ansible
//! → trace and the verify report → diff against a related intent, each step under
//! `catch_unwind`, and the properties every step must keep:
//! - nothing panics;
//! - every diagnostic is located: it has a label, and every span lies inside the file on
//!   character boundaries (and all three diagnostic formats render it);
//! - `natc check` and `natc build` agree: a build of the declared targets fails exactly
//!   when check reports an error;
//! - a packaging refuses only with N304, never with an internal error;
//! - the same input gives byte-equal outputs (targets, packagings, trace, diagnostics),
//!   and `natc diff` of an intent with itself is empty (no file diff, no change script).
//!
//! What the case produced is summed up as features (diagnostic codes, output line shapes)
//! for the corpus, and its Linux files are handed back for the kernel sample.

use natc::backend::{TargetKind, TargetSpec};
use natc::diag::Diagnostic;
use natc::package::Packaging;
use natc::{Artifact, BuildOptions, Compiled, Error};
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Once};

/// What went wrong in a case. Its signature (stage and kind, no volatile detail) decides
/// whether a smaller input still shows the same finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub stage: String,
    pub kind: FindingKind,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingKind {
    /// A panic, with its `file:line`.
    Panic(String),
    /// A property that does not hold, by name.
    Property(&'static str),
}

impl Finding {
    pub fn signature(&self) -> String {
        match &self.kind {
            FindingKind::Panic(at) => format!("panic at {at} in {}", self.stage),
            FindingKind::Property(p) => format!("{p} in {}", self.stage),
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.signature(), self.detail)
    }
}

/// A file a valid intent produced, for the sample that real parsers judge: a Linux
/// target's rules and scripts (the kernel, `sh -n`), a packaging's YAML (PyYAML).
#[derive(Debug, Clone)]
pub struct SampleFile {
    /// The target; none for a packaging's files.
    pub kind: Option<TargetKind>,
    /// The target's profile (VyOS release, RTX model), for the device checkers.
    pub profile: Option<String>,
    pub name: String,
    pub contents: String,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub valid: bool,
    pub features: BTreeSet<String>,
    pub sample_files: Vec<SampleFile>,
    pub finding: Option<Finding>,
}

/// The library as the oracle sees it: the real one, or (in the self-tests) one with a
/// planted fault, so that each property is shown to be able to fail.
pub trait Natc {
    /// The parse every command uses (piecewise for the usual shape, whole otherwise).
    fn parse(&self, text: &str) -> Result<natc::intent::IntentFile, Diagnostic> {
        natc::intent::parse(text)
    }
    fn compile(&self, text: &str) -> Result<Compiled, Vec<Diagnostic>> {
        natc::compile(text)
    }
    fn build(&self, compiled: &Compiled, options: &BuildOptions) -> Result<Vec<Artifact>, Error> {
        natc::build(compiled, options)
    }
}

pub struct Real;
impl Natc for Real {}

thread_local! {
    static IN_CASE: Cell<bool> = const { Cell::new(false) };
    static PANIC: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// Panics inside a case are recorded, not printed; every other panic (the test's own
/// assertions) goes to the default hook.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if IN_CASE.with(Cell::get) {
                let at = info.location().map_or("?".to_string(), |l| format!("{}:{}", l.file(), l.line()));
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                PANIC.with(|p| *p.borrow_mut() = Some((at, message)));
            } else {
                default(info);
            }
        }));
    });
}

/// Runs `f` as stage `stage`: a panic becomes a finding.
fn guarded<T>(stage: &str, f: impl FnOnce() -> T) -> Result<T, Finding> {
    install_panic_hook();
    IN_CASE.with(|c| c.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    IN_CASE.with(|c| c.set(false));
    result.map_err(|_| {
        let (at, message) = PANIC.with(|p| p.borrow_mut().take()).unwrap_or_default();
        Finding { stage: stage.to_string(), kind: FindingKind::Panic(at), detail: message }
    })
}

fn violation(stage: &str, property: &'static str, detail: String) -> Finding {
    Finding { stage: stage.to_string(), kind: FindingKind::Property(property), detail }
}

/// The targets one case is built for: every kind, with a profile chosen by the case.
pub fn specs(pick: u64) -> Vec<TargetSpec> {
    TargetKind::ALL
        .iter()
        .map(|&kind| {
            let profiles = kind.profiles();
            let text = match profiles.is_empty() {
                true => kind.name().to_string(),
                false => format!("{}@{}", kind.name(), profiles[(pick as usize) % profiles.len()]),
            };
            text.parse::<TargetSpec>().expect("natc's own profile names parse")
        })
        .collect()
}

/// Where two renderings part, with a little context, for a finding's detail.
fn first_difference(a: &str, b: &str) -> String {
    let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let near = |s: &str| s.get(at.saturating_sub(80)..(at + 80).min(s.len())).unwrap_or("").to_string();
    format!("at byte {at}: pieces …{}… whole …{}…", near(a), near(b))
}

/// Run one case; `related` is a neighbour intent for `natc diff`.
pub fn run(natc: &dyn Natc, text: &str, related: Option<&str>, pick: u64) -> Outcome {
    let mut outcome = Outcome::default();
    if let Err(f) = run_inner(natc, text, related, pick, &mut outcome) {
        outcome.finding = Some(f);
    }
    outcome
}

fn run_inner(natc: &dyn Natc, text: &str, related: Option<&str>, pick: u64, out: &mut Outcome) -> Result<(), Finding> {
    // The piecewise parse of big intents (src/intent/pieces.rs) must give what the
    // whole-file parse gives: the same items with the same spans, or the same error.
    let pieces = guarded("parse", || format!("{:?}", natc.parse(text)))?;
    let whole = guarded("parse", || format!("{:?}", natc::intent::parse_whole(text)))?;
    if pieces != whole {
        return Err(violation("parse", "piecewise parse equals whole parse", first_difference(&pieces, &whole)));
    }
    let first = guarded("compile", || natc.compile(text))?;
    let second = guarded("compile", || natc.compile(text))?;
    let compiled = match (first, second) {
        (Err(d1), Err(d2)) => {
            same("compile", &d1, &d2)?;
            located("compile", text, &d1, true)?;
            out.features.extend(d1.iter().map(|d| format!("error {}", d.code)));
            return Ok(());
        }
        (Ok(c), Ok(_)) => c,
        _ => return Err(violation("compile", "deterministic", "one compile failed, the other did not".into())),
    };
    out.valid = true;
    located("compile", text, &compiled.warnings, true)?;
    out.features.extend(compiled.warnings.iter().map(|d| format!("warning {}", d.code)));

    let checked = guarded("check", || natc::check_declared_targets(&compiled))?;
    located("check", text, &checked, true)?;
    out.features.extend(checked.iter().map(|d| format!("check {} {:?}", d.code, d.severity)));
    let check_fails = checked.iter().any(Diagnostic::is_error);
    let declared = guarded("build", || natc.build(&compiled, &BuildOptions::default()))?;
    match (&declared, check_fails) {
        (Ok(_), true) => {
            let codes: Vec<String> = checked.iter().filter(|d| d.is_error()).map(|d| d.code.to_string()).collect();
            return Err(violation("build", "check and build agree", format!("check errors {codes:?}, build passed")));
        }
        (Err(Error::Invalid(d)), false) => {
            let what: Vec<String> = d.iter().map(|d| format!("{} {}", d.code, d.message)).collect();
            return Err(violation("build", "check and build agree", format!("check passed, build refused: {what:?}")));
        }
        (
            Err(
                other @ (Error::Usage(_)
                | Error::Refused(_)
                | Error::Differs
                | Error::Stdout
                | Error::ExpectationFailed
                | Error::Environment(_)),
            ),
            _,
        ) => {
            return Err(violation("build", "check and build agree", other.to_string()));
        }
        _ => {}
    }

    let mut artifacts: Vec<Artifact> = Vec::new();
    for spec in specs(pick) {
        let stage = format!("build {spec}");
        let options = BuildOptions { targets: vec![spec.clone()], ..Default::default() };
        let once = guarded(&stage, || natc.build(&compiled, &options))?;
        let twice = guarded(&stage, || natc.build(&compiled, &options))?;
        match (once, twice) {
            (Ok(a), Ok(b)) => {
                same_artifacts(&stage, &a, &b)?;
                for x in &a {
                    located(&stage, text, &x.warnings, true)?;
                    features_of(&mut out.features, x);
                    collect_samples(&mut out.sample_files, x);
                }
                artifacts.extend(a);
            }
            (Err(Error::Invalid(a)), Err(Error::Invalid(b))) => {
                same(&stage, &a, &b)?;
                located(&stage, text, &a, true)?;
                out.features.extend(a.iter().map(|d| format!("{stage} refuses {}", d.code)));
            }
            (Err(Error::Usage(m)), _) | (_, Err(Error::Usage(m))) => {
                return Err(violation(&stage, "no usage error for a declared gateway", m));
            }
            _ => return Err(violation(&stage, "deterministic", "one build failed, the other did not".into())),
        }
    }
    packagings(text, &compiled, &artifacts, out)?;
    traces(&compiled, pick, out)?;
    let unchanged = guarded("diff", || {
        (natc::diff::diff_artifacts(&artifacts, &artifacts), natc::diff::change_scripts(&artifacts, &artifacts))
    })?;
    if !unchanged.0.is_empty() || !unchanged.1.is_empty() {
        let what = format!("{} file diff(s), {} change script(s)", unchanged.0.len(), unchanged.1.len());
        return Err(violation("diff", "an intent diffed with itself changes nothing", what));
    }
    if let Some(new) = related {
        diff(natc, &artifacts, new, pick)?;
    }
    Ok(())
}

fn packagings(text: &str, compiled: &Compiled, artifacts: &[Artifact], out: &mut Outcome) -> Result<(), Finding> {
    let linux: Vec<Artifact> = artifacts
        .iter()
        .filter(|a| matches!(a.target.kind, TargetKind::Iptables | TargetKind::Nftables | TargetKind::Firewalld))
        .cloned()
        .collect();
    for (name, packaging, input) in
        [("cloud-init", Packaging::CloudInit, &linux[..]), ("ansible", Packaging::Ansible, artifacts)]
    {
        if input.is_empty() {
            continue;
        }
        let stage = format!("package {name}");
        let once = guarded(&stage, || natc::package::package(compiled, input, packaging))?;
        let twice = guarded(&stage, || natc::package::package(compiled, input, packaging))?;
        match (once, twice) {
            (Ok(a), Ok(b)) => {
                if a != b {
                    return Err(violation(&stage, "deterministic", "two packagings differ".into()));
                }
                out.features.extend(a.iter().map(|f| format!("{stage} file {}", shape(&f.path.to_string_lossy()))));
                for f in a.iter().filter(|f| f.path.extension().is_some_and(|e| e == "yml" || e == "yaml")) {
                    let name = f.path.to_string_lossy().to_string();
                    out.sample_files.push(SampleFile { kind: None, profile: None, name, contents: f.contents.clone() });
                }
            }
            (Err(a), Err(b)) => {
                same(&stage, &a, &b)?;
                located(&stage, text, &a, false)?;
                if let Some(d) = a.iter().find(|d| d.code.0 != "N304" || d.message.contains("internal error")) {
                    return Err(violation(&stage, "a packaging refuses only with N304", d.message.clone()));
                }
                out.features.extend(a.iter().map(|d| format!("{stage} refuses {}", d.code)));
            }
            _ => return Err(violation(&stage, "deterministic", "one packaging failed, the other did not".into())),
        }
    }
    Ok(())
}

/// `natc trace` and the verify report on the same results (both print expectation names
/// in columns), and one single-packet trace per gateway.
fn traces(compiled: &Compiled, pick: u64, out: &mut Outcome) -> Result<(), Finding> {
    if compiled.plan.lab.is_some() && !compiled.plan.expects.is_empty() {
        let once = guarded("trace", || natc::trace::trace(compiled).map(|r| (r.to_string(), r)))?;
        let twice = guarded("trace", || natc::trace::trace(compiled).map(|r| r.to_string()))?;
        match (once, twice) {
            (Ok((a, report)), Ok(b)) => {
                if a != b {
                    return Err(violation("trace", "deterministic", "two traces differ".into()));
                }
                out.features.insert(format!("trace passed {}", report.passed()));
                let results = report.results.iter().map(|r| r.result.clone()).collect();
                let verify = natc::lab::Report {
                    intent: report.intent.clone(),
                    target: TargetSpec { kind: TargetKind::Nftables, profile: None },
                    lab: "natc-fuzz".into(),
                    results,
                    elapsed: std::time::Duration::ZERO,
                    tunnels: Vec::new(),
                };
                guarded("verify report", || verify.to_string())?;
            }
            (Err(_), Err(_)) => {}
            _ => return Err(violation("trace", "deterministic", "one trace failed, the other did not".into())),
        }
    }
    for gw in &compiled.plan.gateways {
        let protocol = [
            natc::lab::probe::ProbeProtocol::Icmp,
            natc::lab::probe::ProbeProtocol::Tcp,
            natc::lab::probe::ProbeProtocol::Udp,
        ][(pick % 3) as usize];
        let port = (!pick.is_multiple_of(3)).then_some(80);
        let query = natc::trace::PacketQuery {
            gateway: Some(gw.name.clone()),
            from: std::net::Ipv4Addr::new(10, 0, 0, 10),
            to: std::net::Ipv4Addr::new(198, 51, 100, 7),
            protocol,
            port,
            in_interface: None,
        };
        guarded("trace packet", || natc::trace::trace_packet(compiled, &query).map(|t| t.to_string()))?.ok();
    }
    Ok(())
}

/// `natc diff` of this intent's artifacts against a related intent's, when that one builds.
fn diff(natc: &dyn Natc, old: &[Artifact], new_text: &str, pick: u64) -> Result<(), Finding> {
    let Ok(Ok(compiled)) = guarded("diff", || natc.compile(new_text)) else {
        return guarded("diff", || natc.compile(new_text)).map(|_| ());
    };
    let mut new = Vec::new();
    for spec in specs(pick) {
        let options = BuildOptions { targets: vec![spec], ..Default::default() };
        if let Ok(a) = guarded("diff", || natc.build(&compiled, &options))? {
            new.extend(a);
        }
    }
    guarded("diff", || {
        let diffs = natc::diff::diff_artifacts(old, &new);
        let _ = natc::diff::change_script_output(old, &new, &diffs, false);
        let _ = natc::diff::change_script_output(old, &new, &diffs, true);
        let _ = natc::diff::change_scripts(&new, old);
    })
}

fn same(stage: &str, a: &[Diagnostic], b: &[Diagnostic]) -> Result<(), Finding> {
    if a == b { Ok(()) } else { Err(violation(stage, "deterministic", "two runs gave different diagnostics".into())) }
}

fn same_artifacts(stage: &str, a: &[Artifact], b: &[Artifact]) -> Result<(), Finding> {
    let files = |x: &[Artifact]| -> Vec<(String, String, String)> {
        x.iter().flat_map(|a| a.files.iter().map(|f| (a.gateway.clone(), f.name.clone(), f.contents.clone()))).collect()
    };
    if files(a) == files(b) {
        Ok(())
    } else {
        Err(violation(stage, "deterministic", "two builds gave different files".into()))
    }
}

/// Every diagnostic points into the file: a label (when `needs_label`), spans inside the
/// text on character boundaries; and the three formats render it without panicking.
pub fn located(stage: &str, text: &str, diagnostics: &[Diagnostic], needs_label: bool) -> Result<(), Finding> {
    for d in diagnostics {
        if needs_label && d.labels.is_empty() {
            return Err(violation(
                stage,
                "every diagnostic is located",
                format!("{} has no label: {}", d.code, d.message),
            ));
        }
        for l in &d.labels {
            let s = &l.span;
            let ok = s.start <= s.end
                && s.end <= text.len()
                && text.is_char_boundary(s.start)
                && text.is_char_boundary(s.end);
            if !ok {
                return Err(violation(
                    stage,
                    "spans lie inside the file on char boundaries",
                    format!("{} span {s:?} in a text of {} bytes: {}", d.code, text.len(), d.message),
                ));
            }
        }
    }
    let source: Arc<str> = text.into();
    guarded(&format!("{stage}: render diagnostics"), || {
        for d in diagnostics {
            let _ = natc::diag::render_plain(d, "intent.toml", &source);
        }
        let _ = natc::diag::to_json_lines(diagnostics, "intent.toml", text);
        let _ = natc::diag::to_github(diagnostics, "intent.toml", text);
    })
}

fn features_of(features: &mut BTreeSet<String>, a: &Artifact) {
    for w in &a.warnings {
        features.insert(format!("{} warns {}", a.target.kind.name(), w.code));
    }
    for f in &a.files {
        for line in f.contents.lines() {
            features.insert(format!("{} {}", a.target.kind.name(), shape(line)));
        }
    }
}

/// A line's shape: its first three words, digits as 9 and quoted text dropped, so that
/// a new kind of output line is a new feature and a new address is not.
pub fn shape(line: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' | '\'' => quoted = !quoted,
            _ if quoted => {}
            '0'..='9' => out.push('9'),
            c => out.push(c),
        }
    }
    out.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn collect_samples(files: &mut Vec<SampleFile>, a: &Artifact) {
    for f in &a.files {
        let wanted = match a.target.kind {
            TargetKind::Iptables => f.name.ends_with(".rules") || f.name.ends_with(".sh"),
            TargetKind::Nftables => f.name.ends_with(".nft") || f.name.ends_with(".sh"),
            TargetKind::Firewalld => f.name.ends_with(".sh"),
            // Judged only where the device checkers are (FUZZ_DEVICE_CHECKERS, kernel.rs).
            TargetKind::Vyos | TargetKind::Rtx => f.primary && super::kernel::device_checkers().is_some(),
            // Loaded into charon by tests/strongswan.rs, not by the fuzzer's kernel samples.
            TargetKind::Strongswan => false,
        };
        if wanted {
            files.push(SampleFile {
                kind: Some(a.target.kind),
                profile: a.target.profile.as_ref().map(ToString::to_string),
                name: f.name.clone(),
                contents: f.contents.clone(),
            });
        }
    }
}
