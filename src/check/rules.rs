//! Checks of single rules and of rule order:
//! N205 a SNAT that rewrites everything, N211 a rule that an earlier one always beats,
//! N212 translations on a gateway that does not forward, N213 unused `[networks]` entries.

use super::facts::Facts;
use super::matching::{absent_or_same, lengths, wider_prefixes};
use super::{Findings, head};
use crate::diag::{Code, Diagnostic};
use crate::model::{Model, Origin, PortSet, Protocol};
use crate::plan::{FilterChain, GatewayPlan, IpsecMatch, Match, Step, Translation};
use ipnet::Ipv4Net;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::hash_map::Entry;

/// `conflicting`: the DNATs (indices in `plan.dnat`) that N231 already reported.
pub fn check(facts: &Facts, plan: &GatewayPlan, conflicting: &FxHashSet<usize>, found: &mut Findings) {
    rewrites_everything(facts, found);
    shadowed(&translations(&plan.dnat), "DNAT", conflicting, found);
    shadowed(&translations(&plan.snat), "SNAT", &FxHashSet::default(), found);
    for chain in [FilterChain::Forward, FilterChain::Input] {
        let rules: Vec<Rule> = plan
            .filters
            .in_chain(chain)
            .map(|f| Rule {
                origin: &f.origin,
                label: Label::Origin(&f.origin),
                matcher: &f.matcher,
                effect: Effect::Accept(f.stateful),
            })
            .collect();
        let what = if chain == FilterChain::Forward { "forward filter" } else { "input filter" };
        shadowed(&rules, what, &FxHashSet::default(), found);
    }
    needs_forwarding(facts, plan, found);
}

fn translations(list: &[Translation]) -> Vec<Rule<'_>> {
    list.iter()
        .map(|t| Rule {
            origin: &t.origin,
            label: Label::Comment(t),
            matcher: &t.matcher,
            effect: Effect::Nat(&t.step),
        })
        .collect()
}

/// N205: no `out_interface`, `source` or `destination`: every flow the gateway forwards or
/// sends gets the new source, including traffic between its own inside networks.
fn rewrites_everything(facts: &Facts, found: &mut Findings) {
    for s in &facts.gw.snats {
        if s.out_interface.is_none() && s.source.is_none() && s.destination.is_none() {
            found.push(
                &s.origin,
                Diagnostic::warning(
                    Code::SNAT_REWRITES_EVERYTHING,
                    format!("SNAT `{}` rewrites the source of every flow, in every direction", s.origin.name),
                )
                .label(s.to.span.clone(), "every packet leaving the gateway gets this source")
                .help("add out_interface = \"…\" (the interface towards the network that must see this address), and source = \"…\" for the hosts it is meant for"),
            );
        }
    }
}

/// How a finding names a rule: made only when there is a finding (a translation's
/// comment is a `format!`, which per rule was a measurable share of a 100k build).
#[derive(Clone, Copy)]
enum Label<'a> {
    Comment(&'a Translation),
    Origin(&'a Origin),
}

impl Label<'_> {
    fn text(self) -> String {
        match self {
            Label::Comment(t) => t.comment(),
            Label::Origin(o) => o.describe(),
        }
    }
}

#[derive(PartialEq)]
enum Effect<'a> {
    Nat(&'a Step),
    Accept(bool),
}

struct Rule<'a> {
    origin: &'a Origin,
    label: Label<'a>,
    matcher: &'a Match,
    effect: Effect<'a>,
}

/// The exact-match key of an earlier rule that may cover a later one: every address is
/// the later rule's or a supernet of it, every other field the later rule's or absent.
type Key<'a> = (Option<Ipv4Net>, Option<Ipv4Net>, Option<&'a str>, Option<&'a str>, Option<Protocol>);
/// Within a key: the first rule for each (IPsec exemption, port set) (`None` ports: all ports).
type Within<'a> = (bool, Option<&'a PortSet>);

/// Nearly every key holds one rule: that one inline, a map only from the second on (a map
/// per key was one allocation per rule, and freeing them a measurable share of a 100k run).
enum Bucket<'a> {
    One(Within<'a>, usize),
    Many(FxHashMap<Within<'a>, usize>),
}

impl<'a> Bucket<'a> {
    fn get(&self, k: &Within<'a>) -> Option<usize> {
        match self {
            Bucket::One(first, j) => (first == k).then_some(*j),
            Bucket::Many(map) => map.get(k).copied(),
        }
    }

    /// The first rule for `k` stays.
    fn insert(&mut self, k: Within<'a>, i: usize) {
        match self {
            Bucket::One(first, _) if *first == k => {}
            Bucket::One(first, j) => {
                let map = FxHashMap::from_iter([(*first, *j), (k, i)]);
                *self = Bucket::Many(map);
            }
            Bucket::Many(map) => {
                map.entry(k).or_insert(i);
            }
        }
    }
}

/// N211: a rule never matches when an earlier rule of the same hook or chain matches all
/// its packets (first match wins). Exact look-ups of the possible covering keys keep this
/// n·log n; a covering rule is found when its ports are absent or the same set. A DNAT that
/// an earlier one beats towards another host is N231's (forwards.rs), an error: `skip`.
fn shadowed(rules: &[Rule], what: &str, skip: &FxHashSet<usize>, found: &mut Findings) {
    let matchers = || rules.iter().map(|r| r.matcher);
    let (src_lengths, dst_lengths) = (lengths(matchers(), |m| m.source), lengths(matchers(), |m| m.destination));
    // Presized: one key per rule at most, so the table never rehashes while it grows.
    let mut seen: FxHashMap<Key, Bucket> = FxHashMap::with_capacity_and_hasher(rules.len(), Default::default());
    for (i, r) in rules.iter().enumerate() {
        let m = r.matcher;
        let mut cover = None;
        // The source candidates once per rule, not once per destination candidate.
        let srcs = wider_prefixes(m.source, &src_lengths);
        'search: for dst in wider_prefixes(m.destination, &dst_lengths) {
            for &src in &srcs {
                for in_if in absent_or_same(m.in_interface.as_deref()) {
                    for out_if in absent_or_same(m.out_interface.as_deref()) {
                        for proto in absent_or_same(m.protocol) {
                            let Some(bucket) = seen.get(&(dst, src, in_if, out_if, proto)) else { continue };
                            let ipsecs = [false, m.ipsec == IpsecMatch::NotIpsec];
                            let ports = [None, m.ports.as_ref()];
                            let hit = ipsecs
                                .iter()
                                .flat_map(|ip| ports.iter().map(move |p| (*ip, *p)))
                                .filter_map(|k| bucket.get(&k))
                                .min();
                            if let Some(j) = hit {
                                cover = Some(cover.map_or(j, |c: usize| c.min(j)));
                                if j == 0 {
                                    break 'search;
                                }
                            }
                        }
                    }
                }
            }
        }
        if let Some(j) = cover.filter(|_| !skip.contains(&i)) {
            found.push(r.origin, never_matches(&rules[j], r, what));
        }
        let key = (m.destination, m.source, m.in_interface.as_deref(), m.out_interface.as_deref(), m.protocol);
        let within = (m.ipsec == IpsecMatch::NotIpsec, m.ports.as_ref());
        match seen.entry(key) {
            Entry::Occupied(mut e) => e.get_mut().insert(within, i),
            Entry::Vacant(e) => {
                e.insert(Bucket::One(within, i));
            }
        }
    }
}

fn never_matches(earlier: &Rule, later: &Rule, what: &str) -> Diagnostic {
    let duplicate = earlier.matcher == later.matcher && earlier.effect == later.effect;
    let (message, help) = if duplicate {
        (
            format!("`{}` repeats `{}`", later.label.text(), earlier.label.text()),
            "remove one of the two: they match the same packets and do the same".to_string(),
        )
    } else {
        (
            format!(
                "`{}` never matches: the earlier `{}` matches all its packets",
                later.label.text(),
                earlier.label.text()
            ),
            format!(
                "the first matching {what} rule wins; move `{}` before `{}`, narrow `{}`, or remove the one that is not meant",
                later.origin.name, earlier.origin.name, earlier.origin.name
            ),
        )
    };
    Diagnostic::warning(Code::SHADOWED_RULE, message)
        .label(head(later.origin), if duplicate { "the same again" } else { "never reached" })
        .label(head(earlier.origin), "matches first")
        .help(help)
}

/// N212: with `forwarding = false` natc does not enable forwarding, but these translations
/// only work on a box that forwards: a DNAT to another host, a netmap, a SNAT of other
/// hosts' traffic.
fn needs_forwarding(facts: &Facts, plan: &GatewayPlan, found: &mut Findings) {
    if facts.gw.forwarding {
        return;
    }
    let dnat_elsewhere = plan.dnat.iter().find(|t| match &t.step {
        Step::SetAddress(a, _) => !facts.own.contains(a),
        _ => true,
    });
    let snat_others = plan.snat.iter().find(|t| t.matcher.source.is_some_and(|s| !facts.owns(s)));
    let Some(first) = dnat_elsewhere.or(snat_others) else { return };
    let count = plan.dnat.len() + plan.snat.len();
    let span = facts.gw.forwarding_span.clone().unwrap_or_else(|| facts.gw.span.clone());
    let origin = Origin {
        gateway: facts.gw.name.clone(),
        kind: crate::model::Kind::Gateway,
        name: facts.gw.name.clone(),
        span: facts.gw.span.clone(),
    };
    found.push(
        &origin,
        Diagnostic::error(
            Code::NEEDS_FORWARDING,
            format!("gateway `{}` does not forward, but `{}` translates traffic for other hosts", facts.gw.name, first.comment()),
        )
        .label(span, "forwarding = false")
        .label(head(&first.origin), "needs forwarding")
        .help(format!(
            "remove forwarding = false (natc then enables IPv4 forwarding), or remove the translations ({count} on this gateway) from a box that does not route"
        )),
    );
}

/// N213: a `[networks]` entry that no `@name` refers to is either dead or a typo away from
/// the one that should have been used.
pub fn unused_networks(model: &Model, found: &mut Findings) {
    for (name, net, span) in model.networks.unused() {
        found.push_unowned(
            Diagnostic::warning(Code::UNUSED_NETWORK, format!("network `{name}` ({}) is never used", net.value))
                .label(span.clone(), "defined here, referred to nowhere")
                .help(format!("refer to it as \"@{name}\" where it is meant, or remove it")),
        );
    }
}
