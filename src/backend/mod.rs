//! Targets: one module each behind [`Target`]. A target first checks what it can express
//! (an error names the intent item and the target, never a silent approximation), then
//! builds a small view model and hands it to its embedded Tera templates.

pub(crate) mod describe;
pub(crate) mod engine;
mod firewalld;
pub(crate) mod header;
mod iptables;
mod iptables_tree;
pub mod limits;
pub mod linux;
pub(crate) mod log;
pub mod mss;
mod nftables;
pub mod numbering;
pub mod quote;
pub(crate) mod rollback;
mod rtx;
pub mod secret;
pub mod strongswan;
mod vyos;

use crate::diag::{Code, Diagnostic};
use crate::plan::GatewayPlan;
pub use crate::vocab::targets::{TargetKind, TargetSpec};

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub name: String,
    pub contents: String,
    /// The file `natc build` prints to stdout (the rules); the others are companions.
    pub primary: bool,
    /// Where the pre-shared keys stand in `contents`, in file order (VyOS, RTX, strongSwan).
    pub secrets: Vec<secret::SecretSlot>,
}

impl OutputFile {
    /// A file without pre-shared keys.
    pub fn new(name: impl Into<String>, contents: String, primary: bool) -> Self {
        OutputFile { name: name.into(), contents, primary, secrets: Vec::new() }
    }

    /// A file whose text holds [`secret::slot_marker`]s for `gw`'s tunnels: each becomes the
    /// quoted placeholder, and its place a slot.
    pub fn with_secret_slots(
        kind: TargetKind,
        gw: &GatewayPlan,
        name: impl Into<String>,
        text: String,
        primary: bool,
    ) -> Result<Self, Diagnostic> {
        // Without a slot the text is the file as it is (a 100k-rule commands.vyos is not
        // copied once more).
        if !secret::has_slot_markers(&text) {
            return Ok(OutputFile { name: name.into(), contents: text, primary, secrets: Vec::new() });
        }
        let keys: Vec<&crate::plan::SecretRef> = gw.tunnels.iter().map(|t| &t.psk.value).collect();
        let (contents, secrets) = secret::place(kind, &keys, &text).map_err(|why| {
            Diagnostic::error(
                Code::TARGET_CANNOT_EXPRESS,
                format!("internal error while placing the pre-shared keys: {why}"),
            )
            .help("this is a bug in natc; please report it with the intent file")
        })?;
        Ok(OutputFile { name: name.into(), contents, primary, secrets })
    }

    /// The file holds pre-shared keys themselves (`--secrets inline`), not placeholders.
    pub fn holds_keys(&self) -> bool {
        self.secrets.iter().any(|s| s.inlined)
    }
}

/// What every rendered file's header says.
pub struct Header<'a> {
    pub intent: &'a str,
    pub description: Option<&'a str>,
    /// `--secrets inline`: the file will hold pre-shared keys, and its header says so.
    pub inline_secrets: bool,
}

impl<'a> Header<'a> {
    /// The header of every file built from `plan`.
    pub fn of(plan: &'a crate::plan::Plan, inline_secrets: bool) -> Self {
        Header {
            intent: &plan.intent,
            description: plan.description.as_ref().map(|d| d.value.as_str()),
            inline_secrets,
        }
    }

    /// What the header says about the pre-shared keys of a gateway with tunnels.
    pub fn secrets_note(&self) -> &'static str {
        if self.inline_secrets {
            "This file holds pre-shared keys (--secrets inline): natc writes it mode 0600; keep it out of version control."
        } else {
            "Pre-shared keys are placeholders (@@natc-secret:...@@): fill them in before loading."
        }
    }
}

pub trait Target {
    /// Everything in the plan this target cannot express exactly, as N301 errors, and
    /// what the user should know about the output (warnings, which do not stop a build).
    fn check(&self, gateway: &GatewayPlan) -> Vec<Diagnostic>;
    fn render(&self, header: &Header, gateway: &GatewayPlan) -> Result<Vec<OutputFile>, Diagnostic>;
}

/// The target for a spec.
pub fn target_for(spec: &TargetSpec) -> Box<dyn Target> {
    match spec.kind {
        TargetKind::Iptables => Box::new(iptables::Iptables { shape: spec.iptables_shape() }),
        TargetKind::Nftables => Box::new(nftables::Nftables),
        TargetKind::Firewalld => Box::new(firewalld::Firewalld { version: spec.firewalld_version() }),
        TargetKind::Vyos => Box::new(vyos::Vyos::new(vyos::Profile::of(spec))),
        TargetKind::Rtx => Box::new(rtx::Rtx::new(spec.rtx_model())),
        TargetKind::Strongswan => Box::new(strongswan::Strongswan),
    }
}

/// N301 for every translation and filter that names a policy-based tunnel where an
/// interface goes (plan `Match::in_policy_tunnel`/`out_policy_tunnel`), for the targets
/// that only match real interfaces (VyOS, RTX).
pub(crate) fn policy_tunnel_interfaces(target: &str, gw: &GatewayPlan, help: &str) -> Vec<Diagnostic> {
    let translations = gw.dnat.iter().chain(&gw.snat).map(|t| (&t.origin, &t.matcher));
    let filters = gw.filters.rules.iter().map(|f| (&f.origin, &f.matcher));
    let mut seen: Vec<&crate::vocab::Origin> = Vec::new();
    let mut out = Vec::new();
    for (origin, m) in translations.chain(filters) {
        let Some(tunnel) = m.in_policy_tunnel.as_ref().or(m.out_policy_tunnel.as_ref()) else { continue };
        // A netmap's two halves are one item: one error.
        if seen.iter().any(|o| o.span == origin.span) {
            continue;
        }
        seen.push(origin);
        out.push(cannot_express(
            target,
            origin,
            &format!("it names policy-based tunnel `{tunnel}` as an interface, and {target} matches traffic by real interfaces only"),
            help,
        ));
    }
    out
}

/// N301 for an item the target cannot express.
pub(crate) fn cannot_express(target: &str, origin: &crate::vocab::Origin, what: &str, help: &str) -> Diagnostic {
    Diagnostic::error(
        Code::TARGET_CANNOT_EXPRESS,
        format!("target {target} cannot express {} exactly: {what}", origin.describe()),
    )
    .label(origin.span.clone(), format!("this {}", origin.kind.as_str()))
    .help(help.to_string())
}
