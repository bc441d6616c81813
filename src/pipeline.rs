//! The library's front door: compile an intent, then build artifacts for targets.

use crate::backend::secret::{self, SecretMode};
use crate::backend::{self, Header, OutputFile, TargetSpec};
use crate::check;
use crate::diag::{Code, Diagnostic, Severity};
use crate::model;
use crate::plan::{GatewayPlan, Plan};

/// A loaded, resolved, lowered and checked intent. It holds the plan and not the model:
/// every stage after `compile` reads the plan only.
#[derive(Debug)]
pub struct Compiled {
    pub plan: Plan,
    pub warnings: Vec<Diagnostic>,
}

/// Load → resolve → lower → check (docs/checks.md). Errors are every problem found, sorted
/// by position; the checks' warnings that no `accept` silenced travel on in `warnings`.
pub fn compile(text: &str) -> Result<Compiled, Vec<Diagnostic>> {
    let file = crate::intent::parse(text).map_err(|d| vec![d])?;
    let model = model::resolve(&file).map_err(sorted)?;
    let plan = crate::lower::lower(&model).map_err(sorted)?;
    let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
        check::run(&model, &plan).into_iter().partition(Diagnostic::is_error);
    if !errors.is_empty() {
        return Err(sorted(errors));
    }
    Ok(Compiled { plan, warnings: sorted(warnings) })
}

/// `--strict`: every warning becomes an error (an `accept` with a reason is the way to keep
/// a warning that is right where it is).
pub fn strict(diagnostics: &[Diagnostic]) -> Vec<Diagnostic> {
    diagnostics
        .iter()
        .map(|d| {
            let mut d = d.clone();
            d.severity = Severity::Error;
            d
        })
        .collect()
}

fn sorted(mut d: Vec<Diagnostic>) -> Vec<Diagnostic> {
    d.sort_by_key(|d| d.primary_span().map_or(0, |s| s.start));
    d
}

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Empty: each gateway's own `targets`.
    pub targets: Vec<TargetSpec>,
    /// Empty: every gateway.
    pub gateways: Vec<String>,
    /// Placeholders (default) or the values themselves.
    pub secrets: SecretMode,
}

/// The files for one gateway and target.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub gateway: String,
    pub target: TargetSpec,
    pub files: Vec<OutputFile>,
    /// What the target wants the user to know about these files (they were still built).
    pub warnings: Vec<Diagnostic>,
}

#[derive(Debug)]
pub enum BuildError {
    /// The intent cannot be built as asked: located diagnostics, exit 1.
    Invalid(Vec<Diagnostic>),
    /// The command line asks for something that does not exist: exit 2.
    Usage(String),
}

/// Render every selected gateway for every selected target. All or nothing: any error
/// means no artifact at all, so no partial output can be written.
pub fn build(compiled: &Compiled, options: &BuildOptions) -> Result<Vec<Artifact>, BuildError> {
    let selected = select_gateways(&compiled.plan, &options.gateways)?;
    let header = Header::of(&compiled.plan, matches!(options.secrets, SecretMode::Inline { .. }));
    let mut errors = Vec::new();
    let mut artifacts = Vec::new();
    for gw in selected {
        for spec in targets_for(gw, options, &mut errors) {
            let target = backend::target_for(&spec);
            let findings = without_accepted(gw, target.check(gw));
            if findings.iter().any(Diagnostic::is_error) {
                errors.extend(findings);
                continue;
            }
            match target.render(&header, gw).and_then(|files| inline_secrets(gw, &spec, &options.secrets, files)) {
                Ok(files) => artifacts.push(Artifact {
                    gateway: gw.name.clone(),
                    target: spec.clone(),
                    files,
                    warnings: findings,
                }),
                Err(d) => errors.push(d),
            }
        }
    }
    if errors.is_empty() { Ok(artifacts) } else { Err(BuildError::Invalid(sorted(errors))) }
}

/// `--secrets inline`: the placeholders in a target's files replaced by the values the
/// gateway's tunnels name, quoted for the target. Nothing else ever sees a value: the
/// errors name the reference, never what it holds.
fn inline_secrets(
    gw: &GatewayPlan,
    spec: &TargetSpec,
    mode: &SecretMode,
    files: Vec<OutputFile>,
) -> Result<Vec<OutputFile>, Diagnostic> {
    let SecretMode::Inline { base } = mode else { return Ok(files) };
    let mut values = Vec::new();
    for t in &gw.tunnels {
        let psk = &t.psk;
        let value = secret::read(&psk.value, base).map_err(|why| {
            Diagnostic::error(Code::SECRET_UNAVAILABLE, format!("cannot inline the pre-shared key: {why}"))
                .label(psk.span.clone(), "the secret --secrets inline reads")
                .help(format!(
                    "provide {} where natc build runs, or build without --secrets inline to get a placeholder",
                    secret::describe(&psk.value)
                ))
        })?;
        secret::quoted(spec.kind, &value).map_err(|why| {
            Diagnostic::error(
                Code::TARGET_CANNOT_EXPRESS,
                format!("target {spec} cannot express the pre-shared key of {} exactly: {why}", t.origin.describe()),
            )
            .label(psk.span.clone(), format!("{} holds a key {spec} cannot carry", secret::describe(&psk.value)))
            .help("use a key the target can carry, or build without --secrets inline and fill the placeholder in when deploying")
        })?;
        values.push((psk.value.clone(), value));
    }
    files
        .into_iter()
        .map(|f| {
            let contents = secret::inline(spec.kind, &f.contents, &values).map_err(|why| {
                Diagnostic::error(Code::SECRET_UNAVAILABLE, format!("cannot inline secrets into {}: {why}", f.name))
                    .help("build without --secrets inline")
            })?;
            Ok(OutputFile { contents, ..f })
        })
        .collect()
}

/// What `natc check` adds to compiling: every gateway's declared targets are asked what
/// they cannot express (errors and warnings, sorted together).
pub fn check_declared_targets(compiled: &Compiled) -> Vec<Diagnostic> {
    let mut findings = Vec::new();
    for gw in &compiled.plan.gateways {
        for spec in targets_for(gw, &BuildOptions::default(), &mut findings) {
            findings.extend(without_accepted(gw, backend::target_for(&spec).check(gw)));
        }
    }
    sorted(findings)
}

/// A target's warnings that the gateway accepts (`accept = [{ code = "N303", … }]`) are dropped.
fn without_accepted(gw: &GatewayPlan, findings: Vec<Diagnostic>) -> Vec<Diagnostic> {
    findings.into_iter().filter(|d| !check::accepted_by_gateway(&gw.accepts, d)).collect()
}

fn select_gateways<'a>(plan: &'a Plan, names: &[String]) -> Result<Vec<&'a GatewayPlan>, BuildError> {
    if names.is_empty() {
        return Ok(plan.gateways.iter().collect());
    }
    names
        .iter()
        .map(|n| {
            plan.gateways.iter().find(|g| &g.name == n).ok_or_else(|| {
                let known: Vec<&str> = plan.gateways.iter().map(|g| g.name.as_str()).collect();
                BuildError::Usage(format!("the intent has no gateway `{n}` (gateways: {})", known.join(", ")))
            })
        })
        .collect()
}

/// The targets a gateway is built for: the command line's, or else the gateway's own.
fn targets_for(gw: &GatewayPlan, options: &BuildOptions, errors: &mut Vec<Diagnostic>) -> Vec<TargetSpec> {
    let requested: Vec<TargetSpec> = if options.targets.is_empty() {
        gw.targets.iter().map(|t| t.spec.clone()).collect()
    } else {
        options.targets.clone()
    };
    if requested.is_empty() {
        errors.push(
            Diagnostic::error(Code::MISSING_KEY, format!("gateway `{}` has no targets", gw.name))
                .label(gw.span.clone(), "built for which target?")
                .help("add targets = [\"nftables\"] to the gateway, or pass --target"),
        );
    }
    // A target without a profile takes the gateway's (`vyos = "1.5"`, `rtx = "RTX830"`), then the default.
    requested.into_iter().map(|spec| gw.with_profile(spec)).collect()
}
