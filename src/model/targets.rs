//! The intent's target words (`targets`, `vyos`, `rtx`) checked against the vocabulary,
//! each refusal located at the word.

use crate::diag::{Code, Diagnostic, did_you_mean};
use crate::intent::S;
use crate::vocab::targets::{SpecError, TargetKind, TargetSpec};

pub fn check_target_name(raw: &S<String>, out: &mut Vec<Diagnostic>) -> bool {
    match raw.get_ref().parse::<TargetSpec>() {
        Ok(_) => true,
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
            false
        }
    }
}

fn check_profile(raw: &S<String>, kind: TargetKind, out: &mut Vec<Diagnostic>) -> bool {
    let known = kind.profiles();
    if known.iter().any(|k| k.eq_ignore_ascii_case(raw.get_ref())) {
        return true;
    }
    let mut d =
        Diagnostic::error(Code::UNKNOWN_PROFILE, format!("unknown {} profile `{}`", kind.name(), raw.get_ref()))
            .label(super::inner_span(raw.span(), raw.get_ref()), "not a known profile");
    d = match did_you_mean(raw.get_ref(), known.iter().copied()) {
        Some(s) => d.help(format!("did you mean \"{s}\"? (known: {})", known.join(", "))),
        None => d.help(format!("known: {}", known.join(", "))),
    };
    out.push(d);
    false
}

pub fn check_vyos_version(raw: &S<String>, out: &mut Vec<Diagnostic>) -> bool {
    check_profile(raw, TargetKind::Vyos, out)
}

pub fn check_rtx_model(raw: &S<String>, out: &mut Vec<Diagnostic>) -> bool {
    check_profile(raw, TargetKind::Rtx, out)
}
