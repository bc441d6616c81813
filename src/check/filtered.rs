//! N229: a DNAT whose forwarded flow the gateway's own forward filter drops. Under
//! `forward = "drop"` a port forward only works if some `allow` of the forward chain
//! accepts the flow *after* DNAT (allow.to is the real host, docs/intent.md): port 80
//! forwarded while only 443 is allowed passes `natc check` and then drops every packet.
//!
//! The forward chain is the implied reply line, then the allows in order, then the policy;
//! every allow accepts, so a new flow survives iff one allow matches it. For each DNAT the
//! check builds the translated flow (its `in_interface` and `source`, the destination its
//! `to`, the port its `to_port` or the matched port, its protocol) and asks which allows
//! could match it. With explicit ports it reasons per port: the ports (after `to_port`)
//! that no such allow takes are reported, mapped back to the public ports. Without ports
//! (every port, or every protocol, forwarded on purpose and filtered by the allows) it
//! warns only when no allow could match any of the flow. An allow that could match part of
//! the flow on another field (a wider `source`, no `in_interface`) counts as letting it
//! through: a lint must not cry wolf over what it cannot see.
//!
//! Cost: allows are indexed once by destination (PrefixIndex), so each DNAT reads only the
//! allows whose `to` overlaps its real host plus (at most 64 of) those without `to`:
//! O((n + m) log m + Σk) for n DNATs, m allows and k the allows each DNAT can meet, never
//! all n × m pairs.

use super::facts::Facts;
use super::index::{PrefixIndex, overlap_opt};
use super::ports::Ports;
use super::{Findings, head, show};
use crate::diag::{Code, Diagnostic};
use crate::model::{Dnat, Kind, PortRange, Verdict};
use crate::plan::{FilterChain, GatewayPlan, Match, PortStep, Step, Translation};
use ipnet::Ipv4Net;
use rustc_hash::{FxHashMap, FxHashSet};

/// Allows without `to` have no prefix to index by: each DNAT asks only the first 64, and
/// past that stays quiet rather than report a drop one of the others might have prevented.
const ANYWHERE_ASKED: usize = 64;

pub fn check(facts: &Facts, plan: &GatewayPlan, found: &mut Findings) {
    if plan.filters.policy(FilterChain::Forward) == Verdict::Accept {
        return;
    }
    let mut by_destination: PrefixIndex<&Match> = PrefixIndex::default();
    let mut anywhere: Vec<&Match> = Vec::new();
    for f in plan.filters.in_chain(FilterChain::Forward) {
        match f.matcher.destination {
            Some(d) => by_destination.insert(d, &f.matcher),
            None => anywhere.push(&f.matcher),
        }
    }
    let dnats: FxHashMap<&str, &Dnat> = facts.gw.dnats.iter().map(|d| (d.origin.name.as_str(), d)).collect();
    let mut reported = FxHashSet::default();
    for t in plan.dnat.iter().filter(|t| t.origin.kind == Kind::Dnat) {
        let Some(d) = dnats.get(t.origin.name.as_str()) else { continue };
        // The translation as written (its in_interface, or the policy tunnel standing for
        // it): a copy lowered for other clients (a hairpin) has its own filter path.
        let written = d.in_interface.as_ref().map(|i| i.value.as_str());
        let matched = t.matcher.in_interface.as_deref().or(t.matcher.in_policy_tunnel.as_deref());
        if matched != written || reported.contains(t.origin.name.as_str()) {
            continue;
        }
        let Some(flow) = Flow::of(facts, t) else { continue };
        let allows = by_destination
            .overlapping(flow.destination)
            .map(|(_, m)| *m)
            .chain(anywhere.iter().take(ANYWHERE_ASKED).copied());
        let candidates: Vec<&Match> = allows.filter(|a| flow.could_match(a)).collect();
        if let Some(dropped) = flow.dropped(&candidates)
            && anywhere.len() <= ANYWHERE_ASKED
        {
            found.push(&t.origin, warning(plan, d, &flow, &dropped));
            reported.insert(t.origin.name.as_str());
        }
    }
}

/// A DNAT's packets as the forward chain sees them.
struct Flow<'a> {
    t: &'a Translation,
    destination: Ipv4Net,
    /// The interface the translated packet leaves by, if known.
    out: Option<&'a str>,
    /// The destination ports after the translation (`None`: no port match, all ports).
    ports: Option<Ports>,
}

/// What the forward filter drops of a flow.
enum Dropped {
    /// Everything: no allow could match it.
    All,
    /// These translated ports, which are these public ports.
    Ports { real: Ports, public: Ports },
}

impl<'a> Flow<'a> {
    fn of(facts: &'a Facts, t: &'a Translation) -> Option<Flow<'a>> {
        let destination = match &t.step {
            // To the gateway itself: the input chain's business, not the forward chain's.
            Step::SetAddress(a, _) if facts.own.contains(a) => return None,
            Step::SetAddress(a, _) => Ipv4Net::from(*a),
            Step::ShiftIntoPrefix(p) => *p,
            Step::Masquerade | Step::NoNat => return None,
        };
        let out = facts.egress(destination.network());
        let ports = match (t.port_step(), &t.matcher.ports) {
            (Some(step), _) => Some(Ports::from_ranges([step.onto()])),
            (None, Some(set)) => Some(Ports::of(Some(set))),
            (None, None) => None,
        };
        Some(Flow { t, destination, out, ports })
    }

    /// Could `allow` accept some packet of this flow, ports aside? Fields the flow leaves
    /// open count as matching (generous: only a certain drop is reported).
    fn could_match(&self, allow: &Match) -> bool {
        let m = &self.t.matcher;
        let same = |a: Option<&str>, b: Option<&str>| a.is_none() || b.is_none() || a == b;
        same(allow.in_interface.as_deref(), m.in_interface.as_deref())
            && same(allow.out_interface.as_deref(), self.out)
            && overlap_opt(allow.source, m.source)
            && overlap_opt(allow.destination, Some(self.destination))
            && (allow.protocol.is_none() || m.protocol.is_none() || allow.protocol == m.protocol)
    }

    /// `candidates`: the allows that could match the flow on every field but its port.
    fn dropped(&self, candidates: &[&Match]) -> Option<Dropped> {
        // Made only where ports are compared (a DNAT of all ports asks only whether any allow matches).
        let allowed = || candidates.iter().fold(Ports::default(), |acc, a| acc.union(&Ports::of(a.ports.as_ref())));
        // Per port only where the DNAT names its ports: a DNAT of every port (or protocol)
        // filtered down by the allows is a choice, not a mistake.
        let (Some(ports), Some(_)) = (&self.ports, &self.t.matcher.ports) else {
            let reached = self.ports.as_ref().map_or(!candidates.is_empty(), |p| !p.intersect(&allowed()).is_empty());
            return (!reached).then_some(Dropped::All);
        };
        let real = ports.minus(&allowed());
        if real.is_empty() {
            return None;
        }
        let public = match self.t.port_step() {
            None => real.clone(),
            // Every public port goes to the one port that is dropped.
            Some(PortStep::Set(_)) => Ports::of(self.t.matcher.ports.as_ref()),
            Some(PortStep::Shift(s)) => {
                let back = |p: u16| p - s.onto().first + s.matched().first;
                Ports::from_ranges(real.ranges().iter().map(|r| PortRange { first: back(r.first), last: back(r.last) }))
            }
        };
        Some(Dropped::Ports { real, public })
    }
}

fn warning(plan: &GatewayPlan, d: &Dnat, flow: &Flow, dropped: &Dropped) -> Diagnostic {
    let to = show(flow.destination);
    let proto = flow.t.matcher.protocol.map_or_else(|| "any".to_string(), |p| p.as_str().into_owned());
    // The hint's value as the intent writes it: a word in quotes, a number bare (`protocol = 47`).
    let proto_toml = match flow.t.matcher.protocol.and_then(|p| p.word()) {
        Some(word) => format!("\"{word}\""),
        None if flow.t.matcher.protocol.is_some() => proto.clone(),
        None => "\"any\"".to_string(),
    };
    let policy = &plan.filters.forward.origin;
    let (message, what, port_hint) = match dropped {
        Dropped::All => (
            format!("the forward filter drops everything `{}` forwards to {to}: no allow matches it", d.origin.name),
            "no allow of the forward chain matches this flow".to_string(),
            match &flow.ports {
                Some(p) => format!(", protocol = {proto_toml}, port = {}", p.as_toml()),
                None if flow.t.matcher.protocol.is_some() => format!(", protocol = {proto_toml}"),
                None => String::new(),
            },
        ),
        Dropped::Ports { real, public } => {
            let shown = if real == public {
                format!("{proto} port {real}")
            } else {
                format!("{proto} port {public} (to {real})")
            };
            (
                format!("the forward filter drops {shown} that `{}` forwards to {to}", d.origin.name),
                format!("{proto} port {public} is forwarded, and no allow takes it"),
                format!(", protocol = {proto_toml}, port = {}", real.as_toml()),
            )
        }
    };
    let at = d.ports.as_ref().map_or_else(|| head(&d.origin), |p| p.span.clone());
    Diagnostic::warning(Code::DNAT_FILTERED, message)
        .label(at, what)
        .label(policy.span.clone(), "the forward policy: what no allow accepts goes no further")
        .help(format!(
            "the forward filter runs after DNAT, so allow the real host: add a [[gateway.allow]] with chain = \"forward\", to = \"{to}\"{port_hint}; or remove the port forward if it is not meant"
        ))
}
