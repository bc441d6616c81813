//! N201: 1:1 prefix maps (NETMAP) must stay one-to-one. Two maps whose matched prefixes
//! overlap must shift the shared addresses by the same amount (else an address is mapped
//! two ways and the later map loses part of its block), and two source maps must not put
//! different real addresses onto the same new address (the far side could not tell them
//! apart, and could reach only one). Prefix lengths that differ are N107 already.

use super::Findings;
use super::facts::Facts;
use super::index::PrefixIndex;
use super::matching::{could_both_match, covers};
use crate::diag::{Code, Diagnostic};
use crate::plan::{GatewayPlan, Hook, Step, Translation};
use ipnet::Ipv4Net;

struct PrefixMap<'a> {
    t: &'a Translation,
    from: Ipv4Net,
    to: Ipv4Net,
    /// `to - from`: two maps agree on an address exactly when their shifts are equal.
    shift: u32,
}

impl PrefixMap<'_> {
    fn at(&self, addr: Ipv4Net) -> Ipv4Net {
        let moved = u32::from(addr.network()).wrapping_add(self.shift);
        Ipv4Net::new(moved.into(), addr.prefix_len()).unwrap_or(addr)
    }
}

pub fn check(facts: &Facts, plan: &GatewayPlan, found: &mut Findings) {
    one_to_one(facts, &plan.dnat, Hook::Destination, found);
    one_to_one(facts, &plan.snat, Hook::Source, found);
}

fn one_to_one(facts: &Facts, list: &[Translation], hook: Hook, found: &mut Findings) {
    let maps: Vec<PrefixMap> = list
        .iter()
        .filter_map(|t| {
            let Step::ShiftIntoPrefix(to) = t.step else { return None };
            let from = match hook {
                Hook::Destination => t.matcher.destination,
                Hook::Source => t.matcher.source,
            }?;
            let shift = u32::from(to.network()).wrapping_sub(u32::from(from.network()));
            Some(PrefixMap { t, from, to, shift })
        })
        .collect();
    let (skip_source, skip_destination) = (hook == Hook::Source, hook == Hook::Destination);
    let clash = |a: &PrefixMap, b: &PrefixMap| {
        a.shift != b.shift && could_both_match(&a.t.matcher, &b.t.matcher, skip_source, skip_destination)
    };
    let mut by_from: PrefixIndex<usize> = PrefixIndex::default();
    let mut by_to: PrefixIndex<usize> = PrefixIndex::default();
    for (i, m) in maps.iter().enumerate() {
        // A later map wholly covered by an earlier one is dead, not ambiguous: that is N211.
        let twice = by_from
            .overlapping(m.from)
            .map(|(_, &j)| &maps[j])
            .find(|e| clash(e, m) && !covers(&e.t.matcher, &m.t.matcher));
        let merged = || by_to.overlapping(m.to).map(|(_, &j)| &maps[j]).find(|e| hook == Hook::Source && clash(e, m));
        if let Some(e) = twice {
            found.push(&m.t.origin, mapped_twice(facts, e, m));
        } else if let Some(e) = merged() {
            found.push(&m.t.origin, merged_onto_one(facts, e, m));
        }
        // Identical maps add nothing to compare against (and would make the look-ups quadratic).
        if !by_from.exact(m.from).iter().any(|&j| maps[j].shift == m.shift && maps[j].t.matcher == m.t.matcher) {
            by_from.insert(m.from, i);
            by_to.insert(m.to, i);
        }
    }
}

fn mapped_twice(facts: &Facts, earlier: &PrefixMap, later: &PrefixMap) -> Diagnostic {
    let shared = if earlier.from.contains(&later.from) { later.from } else { earlier.from };
    let (later_from, _) = facts.sides(later.t);
    let (earlier_from, _) = facts.sides(earlier.t);
    Diagnostic::error(
        Code::MAP_NOT_ONE_TO_ONE,
        format!(
            "{shared} is mapped two ways: to {} by `{}` and to {} by `{}`",
            earlier.at(shared),
            earlier.t.comment(),
            later.at(shared),
            later.t.comment()
        ),
    )
    .label(later_from, format!("{} → {} here", later.from, later.to))
    .label(earlier_from, format!("{} → {} first", earlier.from, earlier.to))
    .help(format!(
        "the first match wins, so `{}` loses {shared} and is no longer a 1:1 map; make the prefixes disjoint, or give both the same shift",
        later.t.origin.name
    ))
}

fn merged_onto_one(facts: &Facts, earlier: &PrefixMap, later: &PrefixMap) -> Diagnostic {
    let shared = if earlier.to.contains(&later.to) { later.to } else { earlier.to };
    let (_, later_to) = facts.sides(later.t);
    let (_, earlier_to) = facts.sides(earlier.t);
    let back = |m: &PrefixMap| {
        let back = u32::from(shared.network()).wrapping_sub(m.shift);
        Ipv4Net::new(back.into(), shared.prefix_len()).unwrap_or(shared)
    };
    Diagnostic::error(
        Code::MAP_NOT_ONE_TO_ONE,
        format!(
            "{} (`{}`) and {} (`{}`) both become {shared}",
            back(earlier),
            earlier.t.comment(),
            back(later),
            later.t.comment()
        ),
    )
    .label(later_to, format!("{} → {} here", later.from, later.to))
    .label(earlier_to, format!("{} → {} already", earlier.from, earlier.to))
    .help(
        "two real networks shown under one prefix cannot be told apart, and only one of them can be reached \
         back; give each its own new prefix",
    )
}
