//! The library's front door: compile an intent, then build artifacts for targets.

use crate::backend::secret::{self, SecretMode};
use crate::backend::{self, Header, OutputFile, TargetSpec};
use crate::check;
use crate::diag::{Code, Diagnostic, Severity};
use crate::error::Error;
use crate::model;
use crate::plan::{GatewayPlan, Plan};
use crate::vocab::Span;

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
    let reserved = crate::intent::placeholder_text(text);
    if !reserved.is_empty() {
        return Err(reserved);
    }
    let model = model::resolve(&file).map_err(sorted)?;
    // The spanned TOML tree goes as soon as the model holds what diagnostics need of it
    // (the spans it keeps), and the model once the checks have run: each stage's peak
    // holds two representations of the intent, not three.
    drop(file);
    let plan = crate::lower::lower(&model).map_err(sorted)?;
    let findings = check::run(&model, &plan);
    drop(model);
    let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) = findings.into_iter().partition(Diagnostic::is_error);
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

/// Render every selected gateway for every selected target. All or nothing: any error
/// means no artifact at all, so no partial output can be written.
pub fn build(compiled: &Compiled, options: &BuildOptions) -> Result<Vec<Artifact>, Error> {
    let (jobs, mut errors) = jobs(compiled, options)?;
    let artifacts: Vec<Artifact> = jobs.iter().filter_map(|job| job.build(&mut errors)).collect();
    if errors.is_empty() { Ok(artifacts) } else { Err(Error::Invalid(sorted(errors))) }
}

/// One gateway for one target: what [`build`] renders, one at a time, so that `natc diff`
/// can build, compare and drop each pair before the next (never every file of both sides
/// at once).
pub struct Job<'a> {
    compiled: &'a Compiled,
    header: std::rc::Rc<Header<'a>>,
    options: &'a BuildOptions,
    pub gateway: &'a GatewayPlan,
    pub spec: TargetSpec,
}

/// Every (gateway, target) that [`build`] would render, in its order, and the located
/// errors of choosing the targets (a gateway without targets, two profiles of one kind).
pub fn jobs<'a>(compiled: &'a Compiled, options: &'a BuildOptions) -> Result<(Vec<Job<'a>>, Vec<Diagnostic>), Error> {
    let selected = select_gateways(&compiled.plan, &options.gateways)?;
    let header = std::rc::Rc::new(Header::of(&compiled.plan, matches!(options.secrets, SecretMode::Inline { .. })));
    let mut errors = Vec::new();
    let mut jobs = Vec::new();
    for gw in selected {
        for spec in targets_for(gw, options, &mut errors)? {
            jobs.push(Job { compiled, header: header.clone(), options, gateway: gw, spec });
        }
    }
    Ok((jobs, errors))
}

impl Job<'_> {
    /// The files, or `None` with the reasons added to `errors`.
    pub fn build(&self, errors: &mut Vec<Diagnostic>) -> Option<Artifact> {
        let (gw, spec) = (self.gateway, &self.spec);
        let target = backend::target_for(spec);
        let mut findings = without_accepted(gw, target.check(gw));
        findings.extend(backend::limits::check(spec, &self.compiled.plan, gw));
        if findings.iter().any(Diagnostic::is_error) {
            errors.extend(findings);
            return None;
        }
        match target.render(&self.header, gw).and_then(|files| inline_secrets(gw, spec, &self.options.secrets, files)) {
            Ok(files) => Some(Artifact { gateway: gw.name.clone(), target: spec.clone(), files, warnings: findings }),
            Err(d) => {
                errors.push(d);
                None
            }
        }
    }
}

/// The errors of one side, as [`build`] reports them.
pub fn invalid(errors: Vec<Diagnostic>) -> Error {
    Error::Invalid(sorted(errors))
}

/// `--secrets inline`: the key slots of a target's files filled with the values the
/// gateway's tunnels name, quoted for the target; nothing outside a slot changes. Nothing else ever sees a value: the
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
            let (contents, secrets) = secret::inline(spec.kind, &f.contents, &f.secrets, &values).map_err(|why| {
                Diagnostic::error(Code::SECRET_UNAVAILABLE, format!("cannot inline secrets into {}: {why}", f.name))
                    .help("build without --secrets inline")
            })?;
            Ok(OutputFile { contents, secrets, ..f })
        })
        .collect()
}

/// What `natc check` adds to compiling: every gateway's declared targets are asked what
/// they cannot express (errors and warnings, sorted together).
pub fn check_declared_targets(compiled: &Compiled) -> Vec<Diagnostic> {
    let mut findings = Vec::new();
    for gw in &compiled.plan.gateways {
        // Without command-line targets there is no usage error to give: conflicts are findings.
        let specs = targets_for(gw, &BuildOptions::default(), &mut findings).unwrap_or_default();
        for spec in specs {
            findings.extend(without_accepted(gw, backend::target_for(&spec).check(gw)));
            findings.extend(backend::limits::check(&spec, &compiled.plan, gw));
        }
    }
    sorted(findings)
}

/// A target's warnings that the gateway accepts (`accept = [{ code = "N303", … }]`) are dropped.
fn without_accepted(gw: &GatewayPlan, findings: Vec<Diagnostic>) -> Vec<Diagnostic> {
    findings.into_iter().filter(|d| !check::accepted_by_gateway(&gw.accepts, d)).collect()
}

fn select_gateways<'a>(plan: &'a Plan, names: &[String]) -> Result<Vec<&'a GatewayPlan>, Error> {
    if names.is_empty() {
        return Ok(plan.gateways.iter().collect());
    }
    // `-g a -g a` builds `a` once.
    let names: Vec<&String> =
        names.iter().enumerate().filter(|(i, n)| !names[..*i].contains(n)).map(|(_, n)| n).collect();
    names
        .into_iter()
        .map(|n| {
            plan.gateways.iter().find(|g| &g.name == n).ok_or_else(|| {
                let known: Vec<&str> = plan.gateways.iter().map(|g| g.name.as_str()).collect();
                Error::Usage(format!("the intent has no gateway `{n}` (gateways: {})", known.join(", ")))
            })
        })
        .collect()
}

/// The targets a gateway is built for: the command line's, or else the gateway's own, each
/// with its profile and each once: `-t nftables -t nftables` builds nftables once, and
/// `-t vyos@1.4 -t vyos` builds VyOS once when the gateway's VyOS profile is 1.4. Two
/// profiles of one kind would write the same files, so they are refused: a usage error on
/// the command line, a located error (N114) in the gateway's `targets`.
fn targets_for(
    gw: &GatewayPlan,
    options: &BuildOptions,
    errors: &mut Vec<Diagnostic>,
) -> Result<Vec<TargetSpec>, Error> {
    let requested: Vec<(TargetSpec, Option<Span>)> = if options.targets.is_empty() {
        gw.targets.iter().map(|t| (t.spec.clone(), Some(t.span.clone()))).collect()
    } else {
        options.targets.iter().map(|spec| (spec.clone(), None)).collect()
    };
    if requested.is_empty() {
        errors.push(
            Diagnostic::error(Code::MISSING_KEY, format!("gateway `{}` has no targets", gw.name))
                .label(gw.span.clone(), "built for which target?")
                .help("add targets = [\"nftables\"] to the gateway, or pass --target"),
        );
    }
    let mut chosen: Vec<(TargetSpec, String)> = Vec::new();
    for (asked, declared) in requested {
        // A target without a profile takes the gateway's (`vyos = "1.5"`, `rtx = "RTX830"`), then the default.
        let spec = gw.with_profile(asked.clone());
        let Some((first, first_asked)) = chosen.iter().find(|(c, _)| c.kind == spec.kind) else {
            chosen.push((spec, asked.to_string()));
            continue;
        };
        if *first == spec {
            continue;
        }
        let as_written = |asked: &str, spec: &TargetSpec| {
            if asked == spec.to_string() { asked.to_string() } else { format!("{asked} (here {spec})") }
        };
        let (one, other) = (as_written(first_asked, first), as_written(&asked.to_string(), &spec));
        match declared {
            None => {
                return Err(Error::Usage(format!(
                    "-t {one} and -t {other} both write gateway `{}`'s {} files; build one profile at a time",
                    gw.name,
                    spec.kind.name()
                )));
            }
            Some(span) => errors.push(
                Diagnostic::error(
                    Code::CONFLICTING_KEYS,
                    format!("gateway `{}` is built for {one} and {other}, which write the same files", gw.name),
                )
                .label(span, "a second profile of the same target")
                .help("keep one profile per target; build another with natc build -t … -o into a directory of its own"),
            ),
        }
    }
    Ok(chosen.into_iter().map(|(spec, _)| spec).collect())
}
