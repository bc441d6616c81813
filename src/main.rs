//! Thin: parse the command line, call the library, map outcomes to exit codes
//! (0 ok, 1 invalid intent or stale output, 2 usage, 3 a verify or trace expectation failed,
//! 4 verify could not run here: not root, a tool missing, the lab could not be built).

mod cli;

use clap::Parser;
use cli::{Cli, Color, Command, DiagnosticFormat, Format};
use natc::backend::secret::SecretMode;
use natc::diag::{Diagnostic, Severity, render_report};
use natc::{BuildError, BuildOptions};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

const INVALID: u8 = 1;
const USAGE: u8 = 2;
const EXPECTATION_FAILED: u8 = 3;
const CANNOT_VERIFY: u8 = 4;

/// One diagnostic format per process, chosen on the command line; every report uses it.
static FORMAT: std::sync::OnceLock<DiagnosticFormat> = std::sync::OnceLock::new();

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = FORMAT.set(cli.diagnostics.unwrap_or(cli.format.diagnostics()));
    if matches!(cli.format, Format::CloudInit | Format::Ansible) && !matches!(cli.command, Command::Build { .. }) {
        eprintln!("error: --format cloud-init and --format ansible package the output of natc build only");
        return ExitCode::from(USAGE);
    }
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    match cli.command {
        Command::Build { intent, targets, gateways, output, check, strict, secrets } => {
            let secrets = match secrets {
                cli::Secrets::Placeholder => SecretMode::Placeholder,
                // Relative `file` references are read from the intent file's directory.
                cli::Secrets::Inline => {
                    SecretMode::Inline { base: intent.parent().map(Path::to_path_buf).unwrap_or_default() }
                }
            };
            let options = BuildOptions { targets, gateways, secrets };
            let layout = Layout { dir: output.as_deref(), check, packaging: cli.format.packaging() };
            build(&intent, &options, &layout, strict, color)
        }
        Command::Check { intent, strict } => check(&intent, strict, color),
        Command::Verify { intent, targets, timeout } => verify(&intent, targets, timeout, color),
        Command::Diff { old, new, targets, gateways, exit_code, change_script } => {
            let options = BuildOptions { targets, gateways, ..Default::default() };
            diff(&old, &new, &options, exit_code, change_script, color)
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "natc", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Man => {
            let page = clap_mangen::Man::new(<Cli as clap::CommandFactory>::command());
            match page.render(&mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::from(USAGE),
            }
        }
        Command::Schema => match std::io::stdout().write_all(natc::intent::schema_json().as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(USAGE),
        },
        Command::Trace { intent, gateway, from, to, protocol, port, in_interface } => {
            let packet = match (gateway, from, to) {
                (Some(gateway), Some(from), Some(to)) => {
                    let protocol = match protocol {
                        cli::TraceProtocol::Icmp => natc::verify::probe::ProbeProtocol::Icmp,
                        cli::TraceProtocol::Tcp => natc::verify::probe::ProbeProtocol::Tcp,
                        cli::TraceProtocol::Udp => natc::verify::probe::ProbeProtocol::Udp,
                    };
                    Some(natc::trace::PacketQuery { gateway, from, to, protocol, port, in_interface })
                }
                _ => None,
            };
            trace(&intent, packet, color)
        }
    }
}

struct Input {
    name: String,
    text: Arc<str>,
}

fn read(path: &Path) -> Result<Input, ExitCode> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Input { name: path.display().to_string(), text: text.into() }),
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            Err(ExitCode::from(USAGE))
        }
    }
}

/// Read and compile an intent file; its errors are reported here, and a failure is the
/// exit code to return. Warnings are left to the caller (`--strict` treats them apart).
fn compile_file(path: &Path, color: bool) -> Result<(Input, natc::Compiled), ExitCode> {
    let input = read(path)?;
    match natc::compile(&input.text) {
        Ok(compiled) => Ok((input, compiled)),
        Err(diagnostics) => {
            report(&input, &diagnostics, color);
            Err(ExitCode::from(INVALID))
        }
    }
}

fn report(input: &Input, diagnostics: &[Diagnostic], color: bool) {
    let mut err = std::io::stderr().lock();
    match FORMAT.get().copied().unwrap_or(DiagnosticFormat::Human) {
        DiagnosticFormat::Json => {
            let _ = write!(err, "{}", natc::diag::to_json_lines(diagnostics, &input.name, &input.text));
            return;
        }
        DiagnosticFormat::Github => {
            let _ = write!(err, "{}", natc::diag::to_github(diagnostics, &input.name, &input.text));
        }
        DiagnosticFormat::Human => {
            for d in diagnostics {
                let _ = write!(err, "{}", render_report(d, &input.name, &input.text, color).text);
            }
        }
    }
    let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = diagnostics.len() - errors;
    if errors > 0 {
        let _ =
            writeln!(err, "natc: {} has {errors} error(s) and {warnings} warning(s); nothing was written", input.name);
    }
}

/// `--strict`: the warnings as errors, or `None` when there are none.
fn strict_failure(strict: bool, warnings: &[Diagnostic]) -> Option<Vec<Diagnostic>> {
    (strict && !warnings.is_empty()).then(|| natc::pipeline::strict(warnings))
}

/// Where and how `build` puts its files.
struct Layout<'a> {
    dir: Option<&'a Path>,
    check: bool,
    packaging: natc::package::Packaging,
}

fn build(path: &Path, options: &BuildOptions, layout: &Layout, strict: bool, color: bool) -> ExitCode {
    let (input, compiled) = match compile_file(path, color) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let artifacts = match natc::build(&compiled, options) {
        Ok(a) => a,
        Err(BuildError::Invalid(diagnostics)) => {
            report(&input, &compiled.warnings, color);
            report(&input, &diagnostics, color);
            return ExitCode::from(INVALID);
        }
        Err(BuildError::Usage(message)) => {
            eprintln!("error: {message}");
            return ExitCode::from(USAGE);
        }
    };
    let mut warnings = compiled.warnings.clone();
    warnings.extend(artifacts.iter().flat_map(|a| a.warnings.iter().cloned()));
    if let Some(errors) = strict_failure(strict, &warnings) {
        report(&input, &errors, color);
        return ExitCode::from(INVALID);
    }
    report(&input, &warnings, color);
    let files = match natc::package::package(&compiled, &artifacts, layout.packaging) {
        Ok(files) => files,
        Err(diagnostics) => {
            report(&input, &diagnostics, color);
            return ExitCode::from(INVALID);
        }
    };
    match (layout.dir, layout.check) {
        (Some(dir), true) => {
            let stale = natc::emit::stale_files(dir, &files);
            for (path, why) in &stale {
                eprintln!("stale: {} ({why})", path.display());
            }
            if stale.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(INVALID) }
        }
        (Some(dir), false) => match natc::emit::write_dir(dir, &files) {
            Ok(paths) => {
                for p in paths {
                    eprintln!("wrote {}", p.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: writing into {}: {e}", dir.display());
                ExitCode::from(USAGE)
            }
        },
        (None, _) => {
            let mut out = std::io::stdout().lock();
            if out.write_all(natc::emit::stdout_text(&files).as_bytes()).is_err() {
                return ExitCode::from(USAGE);
            }
            let companions = natc::emit::companions(&files);
            if !companions.is_empty() {
                eprintln!(
                    "note: printed the rules only; also generated, and written with -o DIR: {}",
                    companions.join(", ")
                );
            }
            ExitCode::SUCCESS
        }
    }
}

fn check(path: &Path, strict: bool, color: bool) -> ExitCode {
    let input = match read(path) {
        Ok(i) => i,
        Err(code) => return code,
    };
    match natc::compile(&input.text) {
        Ok(compiled) => {
            let findings = natc::check_declared_targets(&compiled);
            let mut all = compiled.warnings.clone();
            all.extend(findings.iter().cloned());
            let strict_errors = strict.then(|| natc::pipeline::strict(&all));
            report(&input, strict_errors.as_deref().unwrap_or(&all), color);
            if all.iter().any(Diagnostic::is_error) || strict_errors.is_some_and(|e| !e.is_empty()) {
                return ExitCode::from(INVALID);
            }
            let gateways = compiled.plan.gateways.len();
            let warnings = compiled.warnings.len() + findings.len();
            eprintln!("natc: {} is valid ({gateways} gateway(s), {warnings} warning(s))", input.name);
            ExitCode::SUCCESS
        }
        Err(diagnostics) => {
            report(&input, &diagnostics, color);
            ExitCode::from(INVALID)
        }
    }
}

fn verify(path: &Path, targets: Vec<natc::backend::TargetSpec>, timeout: f64, color: bool) -> ExitCode {
    use natc::verify::{VerifyError, VerifyOptions};
    let (input, compiled) = match compile_file(path, color) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    report(&input, &compiled.warnings, color);
    let targets = if targets.is_empty() { natc::verify::default_targets(&compiled) } else { targets };
    if targets.is_empty() {
        eprintln!("error: the gateways of {} share no Linux target; name one with --target", input.name);
        return ExitCode::from(USAGE);
    }
    natc::verify::netns::remove_on_interrupt();
    let options = VerifyOptions { timeout: std::time::Duration::from_secs_f64(timeout) };
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
            Err(VerifyError::Invalid(diagnostics)) => {
                report(&input, &diagnostics, color);
                return ExitCode::from(INVALID);
            }
            Err(VerifyError::Usage(message)) => {
                eprintln!("error: {message}");
                return ExitCode::from(USAGE);
            }
            Err(VerifyError::Environment(message)) => {
                eprintln!("error: cannot verify {spec}: {message}");
                return ExitCode::from(CANNOT_VERIFY);
            }
        }
    }
    if failed { ExitCode::from(EXPECTATION_FAILED) } else { ExitCode::SUCCESS }
}

/// Compile and build one side of a diff; diagnostics name that side's file.
fn build_side(path: &Path, options: &BuildOptions, color: bool) -> Result<Vec<natc::Artifact>, ExitCode> {
    let (input, compiled) = compile_file(path, color)?;
    natc::build(&compiled, options).map_err(|e| match e {
        BuildError::Invalid(diagnostics) => {
            report(&input, &diagnostics, color);
            ExitCode::from(INVALID)
        }
        BuildError::Usage(message) => {
            eprintln!("error: {message}");
            ExitCode::from(USAGE)
        }
    })
}

/// The unified diffs, then the change scripts as `#` lines; with `--change-script` only the
/// scripts, pasteable (docs/diff.md).
fn diff(old: &Path, new: &Path, options: &BuildOptions, exit_code: bool, scripts_only: bool, color: bool) -> ExitCode {
    let (before, after) = match (build_side(old, options, color), build_side(new, options, color)) {
        (Ok(b), Ok(a)) => (b, a),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let diffs = natc::diff::diff_artifacts(&before, &after);
    let paint = color && std::io::stdout().is_terminal();
    let mut out = std::io::stdout().lock();
    for d in diffs.iter().filter(|_| !scripts_only) {
        let text = if paint { natc::diff::colored(&d.unified) } else { d.unified.clone() };
        if out.write_all(text.as_bytes()).is_err() {
            return ExitCode::from(USAGE);
        }
    }
    let (scripts, note) = natc::diff::change_script_output(&before, &after, &diffs, scripts_only);
    if out.write_all(scripts.as_bytes()).is_err() {
        return ExitCode::from(USAGE);
    }
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    if exit_code && !diffs.is_empty() { ExitCode::from(INVALID) } else { ExitCode::SUCCESS }
}

fn trace(path: &Path, packet: Option<natc::trace::PacketQuery>, color: bool) -> ExitCode {
    use natc::trace::TraceError;
    let (input, compiled) = match compile_file(path, color) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    report(&input, &compiled.warnings, color);
    let outcome = match &packet {
        Some(query) => natc::trace::trace_packet(&compiled, query).map(|t| (t.to_string(), t.passed)),
        None => natc::trace::trace(&compiled).map(|r| (r.to_string(), r.passed())),
    };
    match outcome {
        Ok((text, passed)) => {
            let mut out = std::io::stdout().lock();
            if out.write_all(text.as_bytes()).is_err() {
                return ExitCode::from(USAGE);
            }
            if passed { ExitCode::SUCCESS } else { ExitCode::from(EXPECTATION_FAILED) }
        }
        Err(TraceError::Invalid(diagnostics)) => {
            report(&input, &diagnostics, color);
            ExitCode::from(INVALID)
        }
        Err(TraceError::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(USAGE)
        }
    }
}
