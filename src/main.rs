//! Thin: parse the command line, call the library, report, and exit with the failure's
//! code (`natc::Error::exit_code`: 0 ok, 1 invalid intent or stale output, 2 usage, 3 a
//! verify or trace expectation failed, 4 verify could not run here, 130 interrupted).

mod allocator;
mod cli;

use clap::Parser;
use cli::{Before, Cli, Color, Command, DiagnosticFormat, FormatValue, Package};
use natc::backend::TargetSpec;
use natc::backend::secret::SecretMode;
use natc::diag::terminal::escape;
use natc::diag::{Diagnostic, Severity};
use natc::diff::Failed;
use natc::package::Packaging;
use natc::{BuildOptions, Error};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Large blocks on huge pages: 100k-mapping builds 10-20% faster (src/allocator.rs).
#[global_allocator]
static ALLOCATOR: allocator::HugePagesForLargeBlocks = allocator::HugePagesForLargeBlocks;

fn main() -> ExitCode {
    let Cli { command, before } = Cli::parse();
    let reporter = Reporter::new(&command, &before);
    match run(command, &before, &reporter) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            reporter.fail(&failure);
            ExitCode::from(failure.error.exit_code())
        }
    }
}

fn run(command: Command, before: &Before, reporter: &Reporter) -> Result<(), Failure> {
    if !matches!(command, Command::Build { .. })
        && let Some(package) = before.format.and_then(FormatValue::package)
    {
        let name = package.name();
        return Err(Error::Usage(format!(
            "--format {name} packages the output of natc build only (natc build --package {name})"
        ))
        .into());
    }
    match command {
        Command::Build { intent, targets, gateways, output, check, prune, strict, secrets, package, reporting } => {
            let packaging = packaging(&[package, reporting.package(), before.format.and_then(FormatValue::package)])?;
            let secrets = match secrets {
                cli::Secrets::Placeholder => SecretMode::Placeholder,
                // Relative `file` references are read from the intent file's directory.
                cli::Secrets::Inline => {
                    SecretMode::Inline { base: intent.parent().map(Path::to_path_buf).unwrap_or_default() }
                }
            };
            let options = BuildOptions { targets, gateways, secrets };
            let layout = Layout { dir: output.as_deref(), check, prune, packaging };
            build(reporter, &intent, &options, &layout, strict)
        }
        Command::Check { intent, strict, .. } => check(reporter, &intent, strict),
        Command::Verify { intent, targets, timeout, firewalld_backend, .. } => {
            let backend = firewalld_backend.map(|b| match b {
                cli::FirewalldBackend::Iptables => natc::verify::FirewalldBackend::Iptables,
                cli::FirewalldBackend::Nftables => natc::verify::FirewalldBackend::Nftables,
            });
            verify(reporter, &intent, targets, timeout, backend)
        }
        Command::Diff { old, new, targets, gateways, exit_code, change_script, .. } => {
            let options = BuildOptions { targets, gateways, ..Default::default() };
            diff(reporter, &old, &new, &options, exit_code, change_script)
        }
        Command::Drift { intent, running, gateway, target, from, .. } => {
            drift(reporter, &intent, &running, gateway, target, from.map(cli::ImportFormat::format))
        }
        Command::Init { output } => init(output.as_deref()),
        Command::Import { file, from, output, format } => {
            let json = format == Some(cli::ImportReport::Json);
            import(&file, from.map(cli::ImportFormat::format), output.as_deref(), json)
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "natc", &mut std::io::stdout());
            Ok(())
        }
        Command::Man { dir } => man(dir.as_deref()),
        Command::Schema => stdout(natc::intent::schema_json().as_bytes()),
        Command::Trace { intent, gateway, from, to, protocol, port, in_interface, .. } => {
            let packet = match (from, to) {
                (Some(from), Some(to)) => {
                    let protocol = match protocol {
                        cli::TraceProtocol::Icmp => natc::verify::probe::ProbeProtocol::Icmp,
                        cli::TraceProtocol::Tcp => natc::verify::probe::ProbeProtocol::Tcp,
                        cli::TraceProtocol::Udp => natc::verify::probe::ProbeProtocol::Udp,
                    };
                    Some(natc::trace::PacketQuery { gateway, from, to, protocol, port, in_interface })
                }
                _ => None,
            };
            trace(reporter, &intent, packet)
        }
    }
}

/// `natc build`'s packaging: --package, or its former spelling `--format cloud-init|ansible`
/// (after the subcommand or before it). Two that disagree are a usage error.
fn packaging(asked: &[Option<Package>]) -> Result<Packaging, Error> {
    let mut asked = asked.iter().flatten();
    let Some(first) = asked.next() else { return Ok(Packaging::Native) };
    match asked.find(|p| *p != first) {
        Some(other) => Err(Error::Usage(format!(
            "two packagings asked for, {} and {} (--package, or its former spelling --format); give one",
            first.name(),
            other.name()
        ))),
        None => Ok(first.packaging()),
    }
}

/// An intent file as read, for diagnostics to point into.
#[derive(Clone)]
struct Input {
    name: String,
    text: Arc<str>,
}

impl Input {
    /// Every command reads its intents here (`natc::intent::read`): a file natc cannot read
    /// is exit 2, one that is not UTF-8 a located N001 error (exit 1).
    fn read(path: &Path) -> Result<Input, Failure> {
        let max = natc::intent::read::max_size_from_env().map_err(Error::Usage)?;
        match natc::intent::read_intent(path, max) {
            Ok(source) => Ok(Input { name: source.name, text: source.text }),
            Err(natc::intent::ReadError::Unreadable(message)) => Err(Error::Usage(message).into()),
            Err(natc::intent::ReadError::Invalid { source, diagnostic }) => {
                let input = Input { name: source.name, text: source.text };
                Err(input.failure(Error::Invalid(vec![*diagnostic])))
            }
        }
    }

    /// A failure whose diagnostics point into this file.
    fn failure(&self, error: Error) -> Failure {
        Failure { error, input: Some(self.clone()) }
    }
}

/// A command's failure, with the intent file its diagnostics point into.
struct Failure {
    error: Error,
    input: Option<Input>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure { error, input: None }
    }
}

/// How diagnostics reach stderr: chosen once on the command line and handed to every
/// command.
struct Reporter {
    format: DiagnosticFormat,
    color: bool,
}

impl Reporter {
    /// The subcommand's --format/--diagnostics/--color, else the same options written
    /// before the subcommand (their former, global place), else human and auto colour.
    fn new(command: &Command, before: &Before) -> Reporter {
        let (format, color) = match command {
            Command::Build { reporting, .. } => (reporting.diagnostics(), reporting.color),
            Command::Check { reporting, .. }
            | Command::Diff { reporting, .. }
            | Command::Drift { reporting, .. }
            | Command::Verify { reporting, .. }
            | Command::Trace { reporting, .. } => (reporting.diagnostics(), reporting.color),
            Command::Init { .. }
            | Command::Import { .. }
            | Command::Completions { .. }
            | Command::Man { .. }
            | Command::Schema => (None, None),
        };
        let format = format
            .or(before.diagnostics)
            .or(before.format.and_then(FormatValue::diagnostics))
            .unwrap_or(DiagnosticFormat::Human);
        let color = match color.or(before.color).unwrap_or(Color::Auto) {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        };
        Reporter { format, color }
    }

    fn report(&self, input: &Input, diagnostics: &[Diagnostic]) {
        let mut err = std::io::stderr().lock();
        match self.format {
            DiagnosticFormat::Json => {
                let _ = write!(err, "{}", natc::diag::to_json_lines(diagnostics, &input.name, &input.text));
                return;
            }
            DiagnosticFormat::Github => {
                let _ = write!(err, "{}", natc::diag::to_github(diagnostics, &input.name, &input.text));
            }
            DiagnosticFormat::Human => {
                // One report renderer for the file: escaped and indexed once, so N reports cost O(N).
                let renderer = natc::diag::Reporter::new(&input.name, &input.text, self.color);
                for d in diagnostics {
                    let _ = write!(err, "{}", renderer.render(d).text);
                }
            }
        }
        let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
        let warnings = diagnostics.len() - errors;
        if errors > 0 {
            let _ = writeln!(
                err,
                "natc: {} has {errors} error(s) and {warnings} warning(s); nothing was written",
                escape(&input.name)
            );
        }
    }

    /// Say what failed, unless it was said already (differences, expectation reports).
    fn fail(&self, failure: &Failure) {
        match (&failure.error, &failure.input) {
            (Error::Invalid(diagnostics), Some(input)) => self.report(input, diagnostics),
            (Error::Invalid(_) | Error::Usage(_) | Error::Refused(_) | Error::Environment(_), _) => {
                eprintln!("error: {}", escape(&failure.error.to_string()))
            }
            (Error::Differs | Error::Stdout | Error::ExpectationFailed, _) => {}
        }
    }
}

/// Read and compile an intent file. Warnings are left to the caller (`--strict` treats
/// them apart).
fn compile_file(path: &Path) -> Result<(Input, natc::Compiled), Failure> {
    let input = Input::read(path)?;
    match natc::compile(&input.text) {
        Ok(compiled) => Ok((input, compiled)),
        Err(diagnostics) => Err(input.failure(Error::Invalid(diagnostics))),
    }
}

fn stdout(bytes: &[u8]) -> Result<(), Failure> {
    std::io::stdout().lock().write_all(bytes).map_err(|_| Error::Stdout.into())
}

/// `natc init`'s starter intent: it passes `natc check --strict`, `trace` and `verify` as
/// written (tests/init.rs).
const STARTER_INTENT: &str = include_str!("../templates/init/intent.toml");

/// `natc init [-o FILE]`: the starter intent on stdout, or in a new FILE (never replaced).
fn init(output: Option<&Path>) -> Result<(), Failure> {
    let Some(path) = output else { return stdout(STARTER_INTENT.as_bytes()) };
    let shown = path.display().to_string();
    let shown = escape(&shown);
    // create_new: an existing file (or a symbolic link, even a dangling one) is refused.
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Usage(format!("{shown} already exists; natc init never overwrites a file"))
        } else {
            Error::Usage(format!("cannot create {shown}: {e}"))
        }
    })?;
    file.write_all(STARTER_INTENT.as_bytes()).map_err(|e| Error::Usage(format!("writing {shown}: {e}")))?;
    eprintln!("wrote {shown}; next: natc check --strict {shown}");
    Ok(())
}

/// `natc import FILE [--from FORMAT] [-o OUT]`: the intent on stdout or in a new OUT, the
/// report of every line not imported on stderr as `FILE:LINE: why` (exit 1 when there is
/// one). A file with nothing to import writes nothing (exit 1).
fn import(path: &Path, from: Option<natc::import::Format>, output: Option<&Path>, json: bool) -> Result<(), Failure> {
    let max = natc::intent::read::max_size_from_env().map_err(Error::Usage)?;
    let bytes = natc::intent::read::read_regular_file(path, max).map_err(Error::Usage)?;
    // Device configurations are not always UTF-8 (an RTX may hold Shift_JIS comments):
    // those bytes become U+FFFD in descriptions rather than refusing the whole file.
    let text = String::from_utf8_lossy(&bytes);
    let shown = path.display().to_string();
    let shown = escape(&shown);
    let format = match from.or_else(|| natc::import::Format::detect(&text)) {
        Some(format) => format,
        None => return Err(Error::Usage(format!("cannot tell the format of {shown}; give --from")).into()),
    };
    let imported = natc::import::import(&path.display().to_string(), &text, format);
    let report = if json {
        natc::import::report_json(&path.display().to_string(), &imported.unexpressed)
    } else {
        let mut report = String::new();
        for u in &imported.unexpressed {
            let (line, code, why, text) = (u.line, u.code, escape(&u.why), escape(&u.text));
            report.push_str(&format!("{shown}:{line}: not imported [{code}]: {why}\n    {text}\n"));
        }
        report
    };
    eprint!("{report}");
    if imported.items == 0 && !imported.unexpressed.is_empty() {
        return Err(Error::Refused(format!(
            "nothing in {shown} could be imported as {}; nothing was written",
            format.name()
        ))
        .into());
    }
    match output {
        None => stdout(imported.intent.as_bytes())?,
        Some(out) => {
            let out_shown = out.display().to_string();
            let out_shown = escape(&out_shown);
            let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(out).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    Error::Usage(format!("{out_shown} already exists; natc import never overwrites a file"))
                } else {
                    Error::Usage(format!("cannot create {out_shown}: {e}"))
                }
            })?;
            file.write_all(imported.intent.as_bytes())
                .map_err(|e| Error::Usage(format!("writing {out_shown}: {e}")))?;
        }
    }
    if imported.unexpressed.is_empty() {
        Ok(())
    } else {
        Err(Error::Refused(format!(
            "{} line(s) of {shown} were not imported (listed above and at the top of the intent)",
            imported.unexpressed.len()
        ))
        .into())
    }
}

/// `--strict`: the warnings as errors, or `None` when there are none.
fn strict_failure(strict: bool, warnings: &[Diagnostic]) -> Option<Vec<Diagnostic>> {
    (strict && !warnings.is_empty()).then(|| natc::pipeline::strict(warnings))
}

/// Each gateway with the target kinds it declares, for `--check` and `--prune` to tell
/// natc's leftovers (`natc::emit::leftovers`).
fn built_gateways(plan: &natc::plan::Plan) -> Vec<(String, Vec<&'static str>)> {
    plan.gateways.iter().map(|g| (g.name.clone(), g.targets.iter().map(|t| t.spec.kind.name()).collect())).collect()
}

/// Where and how `build` puts its files.
struct Layout<'a> {
    dir: Option<&'a Path>,
    check: bool,
    /// `--prune`: after writing, delete natc's files that the intent no longer builds.
    prune: bool,
    packaging: Packaging,
}

fn build(
    reporter: &Reporter,
    path: &Path,
    options: &BuildOptions,
    layout: &Layout,
    strict: bool,
) -> Result<(), Failure> {
    let (input, compiled) = compile_file(path)?;
    let artifacts = match natc::build(&compiled, options) {
        Ok(a) => a,
        Err(error @ Error::Invalid(_)) => {
            reporter.report(&input, &compiled.warnings);
            return Err(input.failure(error));
        }
        Err(error) => return Err(input.failure(error)),
    };
    let mut warnings = compiled.warnings.clone();
    warnings.extend(artifacts.iter().flat_map(|a| a.warnings.iter().cloned()));
    if let Some(errors) = strict_failure(strict, &warnings) {
        return Err(input.failure(Error::Invalid(errors)));
    }
    reporter.report(&input, &warnings);
    let files = natc::package::package(&compiled, &artifacts, layout.packaging)
        .map_err(|diagnostics| input.failure(Error::Invalid(diagnostics)))?;
    let result = deliver(&compiled, &files, layout);
    // The process ends right after this: freeing a big build's model, plan and files one
    // allocation at a time costs more than a tenth of a 100k build (glibc consolidating
    // millions of chunks), and the kernel takes the pages back at exit anyway.
    std::mem::forget((input, compiled, artifacts, files));
    result
}

/// Write, check or print what a build made, as `layout` says.
fn deliver(compiled: &natc::Compiled, files: &[natc::emit::PlannedFile], layout: &Layout) -> Result<(), Failure> {
    match (layout.dir, layout.check) {
        (Some(dir), true) => {
            let gateways = built_gateways(&compiled.plan);
            let built = natc::emit::Built { intent: &compiled.plan.intent, gateways: &gateways };
            let mut stale = natc::emit::stale_files(dir, files);
            stale.extend(natc::emit::leftovers(dir, &built, files));
            for (path, why) in &stale {
                eprintln!("stale: {} ({why})", escape(&path.display().to_string()));
            }
            if stale.is_empty() { Ok(()) } else { Err(Error::Differs.into()) }
        }
        (Some(dir), false) => {
            let written = natc::emit::write_dir(dir, files).map_err(|e| match e {
                natc::emit::WriteError::Refused(why) => {
                    Error::Refused(format!("cannot write into {}: {why}", dir.display()))
                }
                natc::emit::WriteError::Io(why) => Error::Usage(format!("writing into {}: {why}", dir.display())),
            })?;
            for note in written.recovered {
                eprintln!("note: {note}");
            }
            for p in written.paths {
                eprintln!("wrote {}", escape(&p.display().to_string()));
            }
            if layout.prune {
                let gateways = built_gateways(&compiled.plan);
                let built = natc::emit::Built { intent: &compiled.plan.intent, gateways: &gateways };
                for (path, why) in natc::emit::leftovers(dir, &built, files) {
                    let shown = path.display().to_string();
                    let shown = escape(&shown);
                    std::fs::remove_file(&path).map_err(|e| Error::Usage(format!("removing {shown}: {e}")))?;
                    eprintln!("removed {shown} ({why})");
                }
            }
            Ok(())
        }
        (None, _) => {
            stdout(natc::emit::stdout_text(files).as_bytes())?;
            let companions = natc::emit::companions(files);
            if !companions.is_empty() {
                eprintln!(
                    "note: printed the rules only; also generated, and written with -o DIR: {}",
                    companions.join(", ")
                );
            }
            Ok(())
        }
    }
}

fn check(reporter: &Reporter, path: &Path, strict: bool) -> Result<(), Failure> {
    let (input, compiled) = compile_file(path)?;
    let findings = natc::check_declared_targets(&compiled);
    let mut all = compiled.warnings.clone();
    all.extend(findings.iter().cloned());
    let strict_errors = strict.then(|| natc::pipeline::strict(&all));
    let shown = strict_errors.unwrap_or(all);
    if shown.iter().any(Diagnostic::is_error) {
        return Err(input.failure(Error::Invalid(shown)));
    }
    reporter.report(&input, &shown);
    let gateways = compiled.plan.gateways.len();
    let warnings = compiled.warnings.len() + findings.len();
    eprintln!("natc: {} is valid ({gateways} gateway(s), {warnings} warning(s))", escape(&input.name));
    Ok(())
}

fn verify(
    reporter: &Reporter,
    path: &Path,
    targets: Vec<TargetSpec>,
    timeout: f64,
    firewalld_backend: Option<natc::verify::FirewalldBackend>,
) -> Result<(), Failure> {
    let (input, compiled) = compile_file(path)?;
    reporter.report(&input, &compiled.warnings);
    let targets = if targets.is_empty() { natc::verify::default_targets(&compiled) } else { dedup(targets) };
    if targets.is_empty() {
        return Err(Error::Usage(format!(
            "the gateways of {} share no Linux target; name one with --target",
            escape(&input.name)
        ))
        .into());
    }
    natc::verify::netns::remove_on_interrupt();
    let options = natc::verify::VerifyOptions {
        timeout: std::time::Duration::from_secs_f64(timeout),
        intent_dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        firewalld_backend,
    };
    let mut failed = false;
    for spec in &targets {
        let mut progress = |line: &str| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        };
        match natc::verify::verify(&compiled, spec, &options, &mut progress) {
            Ok(result) => {
                print!("{result}");
                failed |= !result.passed();
            }
            Err(Error::Environment(message)) => {
                return Err(Error::Environment(format!("cannot verify {spec}: {message}")).into());
            }
            Err(error) => return Err(input.failure(error)),
        }
    }
    if failed { Err(Error::ExpectationFailed.into()) } else { Ok(()) }
}

/// The targets in the order given, each once (`-t nftables -t nftables` verifies once).
fn dedup(targets: Vec<TargetSpec>) -> Vec<TargetSpec> {
    let mut seen = Vec::new();
    for t in targets {
        if !seen.contains(&t) {
            seen.push(t);
        }
    }
    seen
}

/// Compile and build one side of a diff; diagnostics name that side's file.
/// The unified diffs, then the change scripts as `#` lines; with `--change-script` only the
/// scripts, pasteable (docs/diff.md). Each side is compiled once; natc::diff::compare builds
/// and compares one gateway-target at a time.
fn diff(
    reporter: &Reporter,
    old: &Path,
    new: &Path,
    options: &BuildOptions,
    exit_code: bool,
    scripts_only: bool,
) -> Result<(), Failure> {
    // Both sides are compiled and built, so that both are reported when both are invalid.
    let report = |first: Failure, second: Failure| {
        reporter.fail(&first);
        Err(second)
    };
    let ((old_input, before), (new_input, after)) = match (compile_file(old), compile_file(new)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(failure), Ok(_)) | (Ok(_), Err(failure)) => return Err(failure),
        (Err(first), Err(second)) => return report(first, second),
    };
    let comparison = match natc::diff::compare(&before, &after, options) {
        Ok(c) => c,
        Err(Failed::Old(e)) => return Err(old_input.failure(e)),
        Err(Failed::New(e)) => return Err(new_input.failure(e)),
        Err(Failed::Both(a, b)) => return report(old_input.failure(a), new_input.failure(b)),
    };
    let paint = reporter.color && std::io::stdout().is_terminal();
    for d in comparison.diffs.iter().filter(|_| !scripts_only) {
        let text = if paint { natc::diff::colored(&d.unified) } else { d.unified.clone() };
        stdout(text.as_bytes())?;
    }
    let (scripts, note) = comparison.script_output(scripts_only);
    stdout(scripts.as_bytes())?;
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    if exit_code && !comparison.diffs.is_empty() { Err(Error::Differs.into()) } else { Ok(()) }
}

/// `natc drift INTENT --running FILE -g G -t T`: build INTENT for G and T, read both that
/// output and the capture with the same importer, and compare the items (docs/drift.md).
fn drift(
    reporter: &Reporter,
    intent: &Path,
    running: &Path,
    gateway: String,
    target: TargetSpec,
    from: Option<natc::import::Format>,
) -> Result<(), Failure> {
    use natc::import::Format;
    let format = match from {
        Some(f) => f,
        None => match target.kind {
            natc::backend::TargetKind::Iptables => Format::IptablesSave,
            natc::backend::TargetKind::Nftables => Format::Nft,
            natc::backend::TargetKind::Firewalld => Format::FirewalldDirect,
            natc::backend::TargetKind::Vyos => Format::Vyos,
            natc::backend::TargetKind::Rtx => Format::Rtx,
            natc::backend::TargetKind::Strongswan => {
                return Err(Error::Usage(format!(
                    "natc drift compares rules; target {} has none (give --from)",
                    target.kind.name()
                ))
                .into());
            }
        },
    };
    let max = natc::intent::read::max_size_from_env().map_err(Error::Usage)?;
    let bytes = natc::intent::read::read_regular_file(running, max).map_err(Error::Usage)?;
    let text = String::from_utf8_lossy(&bytes);
    let shown = running.display().to_string();
    // A capture of another format would read as "every rule missing": refuse it instead.
    if from.is_none()
        && let Some(seen) = Format::detect(&text)
        && seen != format
    {
        return Err(Error::Usage(format!(
            "{} looks like {} output, not the {} that target {} runs; give --from if it is",
            escape(&shown),
            seen.name(),
            format.name(),
            target.kind.name()
        ))
        .into());
    }
    let (input, compiled) = compile_file(intent)?;
    let options = BuildOptions { targets: vec![target.clone()], gateways: vec![gateway.clone()], ..Default::default() };
    let artifacts = natc::build(&compiled, &options).map_err(|e| input.failure(e))?;
    let Some(artifact) = artifacts.iter().find(|a| a.gateway == gateway) else {
        return Err(Error::Usage(format!("{} has no gateway {}", input.name, escape(&gateway))).into());
    };
    let Some(built) = artifact.files.iter().find(|f| f.primary) else {
        return Err(Error::Usage(format!("{} builds no configuration file", target.kind.name())).into());
    };
    let mut drift = natc::import::drift::compare(&built.contents, &text, format, &gateway);
    // The intent item each change names, as a line of INTENT: its `[[gateway.KIND]]` header.
    // A netmap item comes back from a device as a dnat and an snat of the same name.
    if let Some(plan) = compiled.plan.gateways.iter().find(|g| g.name == gateway) {
        let origins =
            plan.dnat.iter().chain(&plan.snat).map(|t| &t.origin).chain(plan.filters.rules.iter().map(|f| &f.origin));
        // Line starts once, then a binary search per item: linear in the intent's size.
        let starts: Vec<usize> = std::iter::once(0).chain(input.text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        let mut lines = std::collections::HashMap::new();
        for o in origins {
            let line = starts.partition_point(|&s| s <= o.span.start);
            lines.entry(o.name.clone()).or_insert(line);
        }
        drift.locate(|_, name| lines.get(name).copied());
    }
    let target_name = target.to_string();
    if reporter.format == DiagnosticFormat::Json {
        stdout(drift.json(&shown, &gateway, &target_name).as_bytes())?;
    } else {
        // Names and rule text come from the files: each line is escaped, the newlines kept.
        let human = drift.human(&shown, &input.name, &gateway, &target_name);
        let lines: Vec<String> = human.lines().map(|l| escape(l).into_owned()).collect();
        stdout(format!("{}\n", lines.join("\n")).as_bytes())?;
    }
    if drift.changes.is_empty() {
        Ok(())
    } else {
        Err(Error::Refused(format!("{}: {} rule(s) drifted from {}", escape(&shown), drift.changes.len(), input.name))
            .into())
    }
}

fn trace(reporter: &Reporter, path: &Path, packet: Option<natc::trace::PacketQuery>) -> Result<(), Failure> {
    let (input, compiled) = compile_file(path)?;
    reporter.report(&input, &compiled.warnings);
    let outcome = match &packet {
        Some(query) => natc::trace::trace_packet(&compiled, query).map(|t| {
            if let Some(chosen) = &t.chosen {
                eprintln!("note: {chosen}");
            }
            (t.to_string(), t.passed)
        }),
        None => natc::trace::trace(&compiled).map(|r| (r.to_string(), r.passed())),
    };
    let (text, passed) = outcome.map_err(|e| input.failure(e))?;
    stdout(text.as_bytes())?;
    if passed { Ok(()) } else { Err(Error::ExpectationFailed.into()) }
}

/// `natc man`: natc.1 on stdout, or with `--dir` natc.1 and the page of every subcommand
/// it refers to (natc-build.1, …), so that its SEE-ALSO-style references exist.
fn man(dir: Option<&Path>) -> Result<(), Failure> {
    let command = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    match dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command).render(&mut page).map_err(|_| Error::Stdout)?;
            stdout(&page)
        }
        Some(dir) => {
            let cannot = |e: std::io::Error| Error::Usage(format!("writing the man pages into {}: {e}", dir.display()));
            std::fs::create_dir_all(dir).map_err(cannot)?;
            clap_mangen::generate_to(command, dir).map_err(cannot)?;
            let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(cannot)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("natc")))
                .collect();
            pages.sort();
            for p in pages {
                eprintln!("wrote {}", escape(&p.display().to_string()));
            }
            Ok(())
        }
    }
}
