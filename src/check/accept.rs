//! `accept = [{ code = "N2xx", reason = "…" }]`: an item knowingly lives with a warning,
//! and says why. Only warnings can be accepted, only with a reason, and an accept that
//! silences nothing is reported too (N216), so that accepts do not outlive their cause.

use super::{Finding, Owner};
use crate::diag::{CODES, Code, Diagnostic, did_you_mean};
use crate::model::{Accept, Gateway, Kind, Model};
pub use crate::vocab::codes::is_acceptable;
use crate::vocab::codes::{ITEM_WARNINGS, TARGET_WARNINGS};
use rustc_hash::FxHashMap;

fn known(text: &str) -> Option<Code> {
    CODES.iter().map(|(c, _)| *c).find(|c| c.0 == text)
}

fn has_reason(a: &Accept) -> bool {
    a.reason.as_ref().is_some_and(|r| !r.value.trim().is_empty())
}

/// What is wrong with an accept entry, if anything (N215).
fn invalid(a: &Accept) -> Option<Diagnostic> {
    let code = &a.code;
    let problem = match known(&code.value) {
        None => {
            let names: Vec<&str> = ITEM_WARNINGS.iter().chain(TARGET_WARNINGS).map(|c| c.0).collect();
            let help = match did_you_mean(&code.value, names.iter().copied()) {
                Some(s) => format!("did you mean \"{s}\"? Warnings that can be accepted: {}", names.join(", ")),
                None => format!("warnings that can be accepted: {}", names.join(", ")),
            };
            Some((format!("`{}` is not a natc diagnostic code", code.value), "unknown code", help))
        }
        Some(c) if TARGET_WARNINGS.contains(&c) && a.kind != Kind::Gateway => Some((
            format!("{c} is about a gateway's target, not one item"),
            "accepted on an item",
            "move this accept to the [[gateway]] table".to_string(),
        )),
        Some(c) if !is_acceptable(c) => {
            let summary = CODES.iter().find(|(x, _)| *x == c).map_or("", |(_, s)| *s);
            let why = if c == Code::UNUSED_NETWORK {
                "N213 is about [networks], not an item: remove or use the entry".to_string()
            } else {
                format!("{c} ({summary}) is an error or not about an item: fix the intent instead")
            };
            Some((format!("{c} cannot be accepted"), "not an acceptable warning", why))
        }
        Some(_) if !has_reason(a) => Some((
            format!("the accept of {} gives no reason", code.value),
            "accepted without a reason",
            "write accept = [{ code = \"…\", reason = \"why this is right here\" }]: the reason is what a reviewer reads"
                .to_string(),
        )),
        Some(_) => None,
    };
    problem.map(|(message, label, help)| {
        Diagnostic::error(Code::INVALID_ACCEPT, message).label(a.code.span.clone(), label).help(help)
    })
}

/// (gateway, kind, item, code): the valid accepts saying so, as (gateway, accept) indexes.
type AcceptKey<'a> = (&'a str, Kind, &'a str, &'a str);

/// Silence the accepted warnings; report invalid accepts (N215) and accepts of a check's
/// warning that did not occur on their item (N216).
pub fn apply(model: &Model, findings: Vec<Finding>) -> Vec<crate::diag::Diagnostic> {
    let mut out = Vec::new();
    let mut index: FxHashMap<AcceptKey, Vec<(usize, usize)>> = FxHashMap::default();
    for (g, gw) in model.gateways.iter().enumerate() {
        for (i, a) in gw.accepts.iter().enumerate() {
            match invalid(a) {
                Some(d) => out.push(d),
                None => {
                    let key = (gw.name.as_str(), a.kind, a.name.as_str(), a.code.value.as_str());
                    index.entry(key).or_default().push((g, i));
                }
            }
        }
    }
    let mut used = vec![Vec::new(); model.gateways.len()];
    for (g, gw) in model.gateways.iter().enumerate() {
        used[g] = vec![false; gw.accepts.len()];
    }
    for f in findings {
        let hit = match (&f.owner, f.diagnostic.is_error()) {
            (Some(Owner { gateway, kind, name }), false) => {
                let code = f.diagnostic.code.0;
                index
                    .get(&(gateway.as_str(), *kind, name.as_str(), code))
                    .or_else(|| index.get(&(gateway.as_str(), Kind::Gateway, gateway.as_str(), code)))
            }
            _ => None,
        };
        match hit {
            Some(accepts) => accepts.iter().for_each(|&(g, i)| used[g][i] = true),
            None => out.push(f.diagnostic),
        }
    }
    for (g, gw) in model.gateways.iter().enumerate() {
        for (i, a) in gw.accepts.iter().enumerate() {
            let lint = known(&a.code.value).is_some_and(|c| ITEM_WARNINGS.contains(&c));
            if lint && !used[g][i] && invalid(a).is_none() {
                out.push(unused_accept(gw, a));
            }
        }
    }
    out
}

fn unused_accept(gw: &Gateway, a: &Accept) -> Diagnostic {
    let item = if a.kind == Kind::Gateway {
        format!("gateway `{}`", gw.name)
    } else {
        format!("{} `{}`", a.kind.as_str(), a.name)
    };
    Diagnostic::warning(Code::UNUSED_ACCEPT, format!("{} does not occur on {item}", a.code.value))
        .label(a.span.clone(), "accepts a warning that is not there")
        .help("remove this accept: the warning it was written for no longer occurs (or it sits on the wrong item)")
}

/// Is this warning of a target about `gw` accepted on the gateway (with a reason)?
pub fn accepted_by_gateway(accepts: &[Accept], d: &Diagnostic) -> bool {
    !d.is_error() && accepts.iter().any(|a| a.kind == Kind::Gateway && a.code.value == d.code.0 && invalid(a).is_none())
}
