//! The intent's target words (`targets`, `vyos`, `rtx`) parsed once, here, into the
//! vocabulary's types; each refusal is located at the word.

use crate::diag::{Code, Diagnostic, did_you_mean};
use crate::intent::S;
use crate::vocab::targets::{FirewalldVersion, RtxModel, SpecError, TargetKind, TargetSpec, VyosVersion};

pub fn target(raw: &S<String>, out: &mut Vec<Diagnostic>) -> Option<TargetSpec> {
    match raw.get_ref().parse::<TargetSpec>() {
        Ok(spec) => Some(spec),
        Err(e) => {
            let span = super::inner_span(raw.span(), raw.get_ref());
            out.push(match &e {
                SpecError::UnknownTarget { .. } => Diagnostic::error(Code::UNKNOWN_TARGET, e.to_string())
                    .label(span, "not a target natc knows")
                    .help(format!("targets: {}", TargetKind::ALL.map(TargetKind::name).join(", "))),
                SpecError::UnknownProfile { target, known: [], .. } => {
                    Diagnostic::error(Code::UNKNOWN_PROFILE, e.to_string())
                        .label(span, format!("{target} takes no profile"))
                        .help(format!("write \"{target}\" without a profile"))
                }
                SpecError::UnknownProfile { target, known, .. } => {
                    Diagnostic::error(Code::UNKNOWN_PROFILE, e.to_string())
                        .label(span, format!("not a {target} profile"))
                        .help(format!("profiles of {target}: {}", known.join(", ")))
                }
            });
            None
        }
    }
}

/// N113 for a word that is not one of `kind`'s profiles.
fn unknown_profile(raw: &S<String>, kind: TargetKind, out: &mut Vec<Diagnostic>) {
    let known = kind.profiles();
    let mut d =
        Diagnostic::error(Code::UNKNOWN_PROFILE, format!("unknown {} profile `{}`", kind.name(), raw.get_ref()))
            .label(super::inner_span(raw.span(), raw.get_ref()), "not a known profile");
    d = match did_you_mean(raw.get_ref(), known.iter().copied()) {
        Some(s) => d.help(format!("did you mean \"{s}\"? (known: {})", known.join(", "))),
        None => d.help(format!("known: {}", known.join(", "))),
    };
    out.push(d);
}

pub fn firewalld_version(raw: &S<String>, out: &mut Vec<Diagnostic>) -> Option<FirewalldVersion> {
    let version = FirewalldVersion::parse(raw.get_ref());
    if version.is_none() {
        unknown_profile(raw, TargetKind::Firewalld, out);
    }
    version
}

pub fn vyos_version(raw: &S<String>, out: &mut Vec<Diagnostic>) -> Option<VyosVersion> {
    let version = VyosVersion::parse(raw.get_ref());
    if version.is_none() {
        unknown_profile(raw, TargetKind::Vyos, out);
    }
    version
}

pub fn rtx_model(raw: &S<String>, out: &mut Vec<Diagnostic>) -> Option<RtxModel> {
    let model = RtxModel::parse(raw.get_ref());
    if model.is_none() {
        unknown_profile(raw, TargetKind::Rtx, out);
    }
    model
}
