//! `log = true` where a target cannot write it (docs/targets.md#logging): one N301 per
//! logged allow or policy, naming the item, instead of a rule that silently logs nothing.

use super::cannot_express;
use crate::diag::Diagnostic;
use crate::plan::{FilterChain, GatewayPlan};
use crate::vocab::{Log, LogRate};

/// N301 for every logged allow rule if `allows`, and for the logged policies if `policies`.
pub fn refuse(target: &str, gw: &GatewayPlan, allows: bool, policies: bool, why: &str) -> Vec<Diagnostic> {
    let help = format!("leave `log` out for the {target} target");
    let allows = gw.filters.rules.iter().filter(|f| allows && f.log.is_some()).map(|f| &f.origin);
    let chains = [FilterChain::Forward, FilterChain::Input].map(|c| gw.filters.chain_policy(c));
    let logged = chains.into_iter().filter(|p| policies && p.log.is_some()).map(|p| &p.origin);
    allows.chain(logged).map(|origin| cannot_express(target, origin, &format!("its log: {why}"), &help)).collect()
}

/// N301 for every logged dnat, snat and netmap item, once per item (its translations share
/// the item's origin).
pub fn refuse_translations(target: &str, gw: &GatewayPlan, why: &str) -> Vec<Diagnostic> {
    let help = format!("leave `log` out for the {target} target");
    refuse_translations_where(target, gw, |_| true, &format!("its log: {why}"), &help)
}

/// N301 for every dnat, snat and netmap item whose log `refused` picks, once per item.
pub fn refuse_translations_where(
    target: &str,
    gw: &GatewayPlan,
    refused: impl Fn(&Log) -> bool,
    what: &str,
    help: &str,
) -> Vec<Diagnostic> {
    let mut seen = std::collections::BTreeSet::new();
    gw.dnat
        .iter()
        .chain(&gw.snat)
        .filter(|t| gw.log_of(&t.origin).is_some_and(&refused) && seen.insert((t.origin.kind, t.origin.name.clone())))
        .map(|t| cannot_express(target, &t.origin, what, help))
        .collect()
}

/// Which logs [`refuse_rates`] looks at: the ones a target writes at all (a log it refuses
/// whole is refused once, for the log).
#[derive(Clone, Copy)]
pub struct Written {
    pub allows: bool,
    pub policies: bool,
    pub translations: bool,
}

impl Written {
    pub const ALL: Written = Written { allows: true, policies: true, translations: true };
}

/// N301 for every written log whose `log_rate` `refused` picks, naming the item (a
/// translation item once): `what` says why the target cannot write that rate.
pub fn refuse_rates(
    target: &str,
    gw: &GatewayPlan,
    written: Written,
    refused: impl Fn(&LogRate) -> bool,
    what: &str,
    help: &str,
) -> Vec<Diagnostic> {
    let picked = |l: &Log| l.rate.as_ref().is_some_and(&refused);
    let allows = gw.filters.rules.iter().filter(|f| written.allows && f.log.as_ref().is_some_and(picked));
    let chains = [FilterChain::Forward, FilterChain::Input].map(|c| gw.filters.chain_policy(c));
    let policies = chains.into_iter().filter(|p| written.policies && p.log.as_ref().is_some_and(picked));
    let mut found: Vec<Diagnostic> = allows
        .map(|f| &f.origin)
        .chain(policies.map(|p| &p.origin))
        .map(|origin| cannot_express(target, origin, what, help))
        .collect();
    if written.translations {
        found.extend(refuse_translations_where(target, gw, picked, what, help));
    }
    found
}
