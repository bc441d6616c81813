//! Will the packets of a DNAT reach the gateway, and will the replies come back through it?
//! (seed 003, steps 1 and 2.)
//!
//! N203: a `claim = "routed"` destination inside the subnet of its `in_interface` (or, with
//! no `in_interface`, of any interface): the clients there ARP for it and nobody answers.
//! Quiet when the gateway owns the address, or the intent's `[lab]` shows a host on that
//! segment with a route for it via the gateway (the seed's `ip route add … via vm02`).
//!
//! N204: replies from the real host go to its own default gateway unless a SNAT rewrites
//! the flow's source on the way out towards it, or the host routes back via this gateway
//! (`return_route = true` on the dnat, or the `[lab]` host's gateway/route says so).

use super::facts::Facts;
use super::index::{PrefixIndex, overlap};
use super::{Findings, show};
use crate::diag::{Code, Diagnostic};
use crate::model::{Claim, Dnat};
use crate::plan::{GatewayPlan, Match, Step};
use ipnet::Ipv4Net;
use rustc_hash::FxHashSet;

pub fn check(facts: &Facts, plan: &GatewayPlan, found: &mut Findings) {
    let snats = Snats::new(plan);
    for d in &facts.gw.dnats {
        attracted(facts, d, found);
        returns(facts, &snats, d, found);
    }
}

/// The gateway's SNATs, indexed so that each DNAT asks in about log n.
#[derive(Default)]
struct Snats<'a> {
    /// Out-interfaces (`None`: any) with a SNAT that matches neither source nor destination.
    blanket: FxHashSet<Option<&'a str>>,
    by_source: PrefixIndex<&'a Match>,
    /// Those with a destination but no source, by destination.
    by_destination: PrefixIndex<&'a Match>,
    /// Is there any SNAT with a source match (for clients that are not known)?
    any_with_source: Vec<&'a Match>,
}

impl<'a> Snats<'a> {
    fn new(plan: &'a GatewayPlan) -> Self {
        let mut s = Snats::default();
        for t in plan.snat.iter().filter(|t| t.step != Step::NoNat) {
            let m = &t.matcher;
            match (m.source, m.destination) {
                (None, None) => {
                    s.blanket.insert(m.out_interface.as_deref());
                }
                (Some(src), _) => {
                    s.by_source.insert(src, m);
                    if s.any_with_source.len() < 64 {
                        s.any_with_source.push(m);
                    }
                }
                (None, Some(dst)) => s.by_destination.insert(dst, m),
            }
        }
        s
    }

    /// Does some SNAT rewrite flows from `clients` (empty: not known) to `real` leaving
    /// through `out` (`None`: not known)? Generous on purpose: a lint must not cry wolf over
    /// a flow it cannot see in full.
    fn cover(&self, clients: &[Ipv4Net], real: Ipv4Net, out: Option<&str>) -> bool {
        let fits = |m: &Match| {
            (m.out_interface.is_none() || out.is_none() || m.out_interface.as_deref() == out)
                && m.destination.is_none_or(|x| overlap(x, real))
        };
        let blanket = self.blanket.contains(&None)
            || match out {
                Some(o) => self.blanket.contains(&Some(o)),
                None => !self.blanket.is_empty(),
            };
        blanket
            || self.by_destination.overlapping(real).any(|(_, m)| fits(m))
            || if clients.is_empty() {
                self.any_with_source.iter().any(|m| fits(m))
            } else {
                clients.iter().any(|c| self.by_source.overlapping(*c).any(|(_, m)| fits(m)))
            }
    }
}

fn attracted(facts: &Facts, d: &Dnat, found: &mut Findings) {
    let dest = d.destination.value;
    if d.claim.value != Claim::Routed || facts.owns(dest) || dest == d.to.value {
        return;
    }
    let in_if = d.in_interface.as_ref().map(|i| i.value.as_str());
    let Some(c) = facts.connected.overlapping(dest).map(|(_, c)| c).find(|c| in_if.is_none_or(|i| i == c.interface))
    else {
        return;
    };
    if facts.lab_routes_here(c.interface, dest) {
        return;
    }
    let shown = show(dest);
    let mut diag = Diagnostic::warning(
        Code::DESTINATION_NOT_ATTRACTED,
        format!(
            "nothing sends {shown} to the gateway: it lies in {}, so hosts on `{}` ARP for it and nobody answers",
            c.subnet(),
            c.interface
        ),
    )
    .label(d.destination.span.clone(), format!("on `{}`'s segment", c.interface))
    .label(c.address.span.clone(), format!("`{}` is connected to {}", c.interface, c.subnet()));
    if d.claim.span != d.origin.span {
        diag = diag.label(d.claim.span.clone(), "routed: natc emits nothing to attract it");
    }
    let via = c.address.value.addr();
    let hint =
        if d.in_interface.is_none() { format!(" (with in_interface = \"{}\")", c.interface) } else { String::new() };
    found.push(
        &d.origin,
        diag.help(format!(
            "write claim = \"proxy-arp\"{hint} so that the gateway answers ARP for it, or give the clients a host route \
             (ip route add {shown} via {via}) and show it in the [lab]"
        )),
    );
}

fn returns(facts: &Facts, snats: &Snats, d: &Dnat, found: &mut Findings) {
    let real = d.to.value;
    if facts.owns(real) || d.return_route.as_ref().is_some_and(|r| r.value) {
        return;
    }
    let out = facts.egress(real.network());
    // Who the clients are: the DNAT's source, else the subnets of its in_interface.
    let clients: Vec<Ipv4Net> = match (&d.source, &d.in_interface) {
        (Some(s), _) => vec![s.value],
        (None, Some(i)) => facts.declared_on(&i.value).map(|a| a.value.trunc()).collect(),
        (None, None) => Vec::new(),
    };
    // A SNAT (masquerade, a host or a prefix map) on the way out towards the real host,
    // for some of these clients, brings the replies back.
    if snats.cover(&clients, real, out) || facts.lab_returns_here(real, &clients) {
        return;
    }
    let shown = show(real);
    let towards = out.map_or_else(String::new, |o| format!(" out of `{o}`"));
    let source_hint = match (&d.source, clients.first()) {
        (Some(s), _) => format!("source = \"{}\", ", s.value),
        (None, Some(c)) => format!("source = \"{c}\", "),
        (None, None) => String::new(),
    };
    let out_hint = out.map_or_else(String::new, |o| format!("out_interface = \"{o}\", "));
    found.push(
        &d.origin,
        Diagnostic::warning(
            Code::REPLIES_BYPASS_GATEWAY,
            format!("the replies of {shown} will not come back through `{}`", facts.gw.name),
        )
        .label(d.to.span.clone(), format!("{shown} answers the client directly or via its own default gateway"))
        .help(format!(
            "no SNAT rewrites these flows{towards} and nothing says {shown} routes back via this gateway: add a \
             [[gateway.snat]] with {source_hint}{out_hint}to = \"masquerade\" (seed 003, step 2), or write \
             return_route = true on this dnat if {shown}'s route back points here"
        )),
    );
}
