//! N231: two DNATs of one address, protocol and port to different destinations. The first
//! in the hook wins (netfilter order), so the later one's hosts never see those packets:
//! a port forward that silently goes to the wrong server. It is an error, because which
//! server answers is the point of a port forward and no build should guess it. A later
//! DNAT that an earlier one beats *to the same place* is only dead code: N211 (rules.rs).
//!
//! "The same packets": the earlier rule matches every packet of the later one on every
//! field (its destination contains the later's, its `source`, `in_interface` and
//! `protocol` are the later's or absent), and their ports overlap where the later names
//! ports (with no ports, the earlier must take every port too). An exception written first
//! (port 22 to one host, then the whole address to another) is the usual way to carve
//! out a port and stays quiet: the later rule still gets every other port.
//!
//! Cost: like N211, each rule looks up only the keys that could cover it (the supernets
//! of its destination and source present, with and without interface and protocol), and
//! within a key the ports already taken are disjoint ranges in a BTreeMap: n·log n in the
//! DNATs, plus the ranges a rule overlaps.

use super::facts::Facts;
use super::matching::{absent_or_same, lengths, wider_prefixes};
use super::ports::Ports;
use super::{Findings, head, show};
use crate::diag::{Code, Diagnostic};
use crate::model::{PortRange, Protocol};
use crate::plan::{GatewayPlan, Match, PortStep, Step, Translation};
use ipnet::Ipv4Net;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

type Key<'a> = (Option<Ipv4Net>, Option<Ipv4Net>, Option<&'a str>, Option<&'a str>, Option<Protocol>);

/// The first DNAT to take each port under one key.
#[derive(Default)]
struct Taken {
    /// The first rule without a port match.
    all: Option<usize>,
    /// first port → (last port, rule): disjoint.
    ranges: BTreeMap<u16, (u16, usize)>,
}

impl Taken {
    /// (ports, rule) for each earlier rule that takes some of `ports`.
    fn meets(&self, ports: Option<&Ports>, out: &mut Vec<(Ports, usize)>) {
        if let Some(j) = self.all {
            out.push((ports.cloned().unwrap_or_else(Ports::all), j));
        }
        if let Some(ports) = ports {
            self.ranges_meeting(ports, out);
        }
    }

    /// The taken ranges that overlap `ports`, cut to them: the one starting at or before
    /// each range, and those starting inside it.
    fn ranges_meeting(&self, ports: &Ports, out: &mut Vec<(Ports, usize)>) {
        for r in ports.ranges() {
            let before = self.ranges.range(..=r.first).next_back();
            let inside = (r.first < r.last).then(|| self.ranges.range(r.first + 1..=r.last)).into_iter().flatten();
            for (&first, &(last, j)) in before.into_iter().chain(inside) {
                let (f, l) = (first.max(r.first), last.min(r.last));
                if f <= l {
                    out.push((Ports::from_ranges([PortRange { first: f, last: l }]), j));
                }
            }
        }
    }

    fn take(&mut self, ports: Option<&Ports>, i: usize) {
        let Some(ports) = ports else {
            self.all.get_or_insert(i);
            return;
        };
        // Only the ports nobody took yet: the first rule keeps each port.
        let mut held = Vec::new();
        self.ranges_meeting(ports, &mut held);
        let held = held.iter().fold(Ports::default(), |acc, (p, _)| acc.union(p));
        for r in ports.minus(&held).ranges() {
            self.ranges.insert(r.first, (r.last, i));
        }
    }
}

fn in_key(m: &Match) -> (Option<&str>, Option<&str>) {
    (m.in_interface.as_deref(), m.in_policy_tunnel.as_deref())
}

/// Where a DNAT sends a packet for `destination` (a host of its matched prefix): the
/// address and the port step.
fn sends(t: &Translation, destination: Ipv4Net) -> Option<(Ipv4Addr, Option<PortStep>)> {
    match &t.step {
        Step::SetAddress(a, p) => Some((*a, *p)),
        Step::ShiftIntoPrefix(p) if destination.prefix_len() == 32 => {
            let from = t.matcher.destination.filter(|f| f.contains(&destination))?;
            let offset = u32::from(destination.addr()).checked_sub(u32::from(from.network()))?;
            Some((Ipv4Addr::from(u32::from(p.network()).checked_add(offset)?), None))
        }
        _ => None,
    }
}

/// Do the two send the later one's packets to the same place?
fn same_place(earlier: &Translation, later: &Translation) -> bool {
    if earlier.step == later.step {
        return true;
    }
    let Some(dst) = later.matcher.destination else { return false };
    match (sends(earlier, dst), sends(later, dst)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Report N231; returns the indices (in `plan.dnat`) of the DNATs it reported, which N211
/// then leaves alone.
pub fn check(facts: &Facts, plan: &GatewayPlan, found: &mut Findings) -> FxHashSet<usize> {
    let list = &plan.dnat;
    let matchers = || list.iter().map(|t| &t.matcher);
    let (src_lengths, dst_lengths) = (lengths(matchers(), |m| m.source), lengths(matchers(), |m| m.destination));
    // Presized: one key per DNAT at most, so the table never rehashes while it grows.
    let mut seen: FxHashMap<Key, Taken> = FxHashMap::with_capacity_and_hasher(list.len(), Default::default());
    let mut reported = FxHashSet::default();
    let mut named = FxHashSet::default();
    for (i, t) in list.iter().enumerate() {
        let m = &t.matcher;
        let ports = m.ports.as_ref().map(|p| Ports::of(Some(p)));
        let (in_if, in_tunnel) = in_key(m);
        let mut pieces = Vec::new();
        let srcs = wider_prefixes(m.source, &src_lengths);
        for dst in wider_prefixes(m.destination, &dst_lengths) {
            for &src in &srcs {
                for i_if in absent_or_same(in_if) {
                    for i_tun in absent_or_same(in_tunnel) {
                        for proto in absent_or_same(m.protocol) {
                            if let Some(taken) = seen.get(&(dst, src, i_if, i_tun, proto)) {
                                taken.meets(ports.as_ref(), &mut pieces);
                            }
                        }
                    }
                }
            }
        }
        // Per port the first rule wins: walk the earlier rules in order.
        pieces.sort_by_key(|(_, j)| *j);
        let mut covered = Ports::default();
        for (piece, j) in pieces {
            let lost = piece.minus(&covered);
            if !lost.is_empty() && !same_place(&list[j], t) {
                // Once per item: copies of a DNAT for other clients repeat the same conflict.
                if named.insert((t.origin.kind, t.origin.name.as_str())) {
                    found.push(&t.origin, conflict(facts, &list[j], t, &lost));
                }
                reported.insert(i);
                break;
            }
            covered = covered.union(&piece);
        }
        seen.entry((m.destination, m.source, in_if, in_tunnel, m.protocol)).or_default().take(ports.as_ref(), i);
    }
    reported
}

fn place(t: &Translation, dst: Option<Ipv4Net>) -> String {
    match dst.and_then(|d| sends(t, d)) {
        Some((a, None)) => a.to_string(),
        Some((a, Some(p))) => format!("{a} port {}", Ports::from_ranges([p.onto()])),
        None => match &t.step {
            Step::ShiftIntoPrefix(p) => format!("{p} (1:1)"),
            _ => "another address".into(),
        },
    }
}

fn conflict(facts: &Facts, earlier: &Translation, later: &Translation, lost: &Ports) -> Diagnostic {
    let m = &later.matcher;
    let what = match (m.protocol, &m.ports) {
        (Some(p), Some(_)) => format!("{} port {lost}", p.as_str()),
        (Some(p), None) => format!("all of {}", p.as_str()),
        (None, _) => "all traffic".into(),
    };
    let dst = m.destination.map_or_else(|| "its destination".into(), show);
    let (there, here) = (place(earlier, m.destination), place(later, m.destination));
    let mut diag = Diagnostic::error(
        Code::DNAT_CONFLICT,
        format!(
            "`{}` forwards {what} of {dst} to {here}, but the earlier `{}` already sends it to {there}",
            later.comment(),
            earlier.comment()
        ),
    )
    .label(head(&later.origin), format!("never gets {what}"))
    .label(head(&earlier.origin), format!("takes {what} first, to {there}"));
    let (_, later_to) = facts.sides(later);
    if later_to != later.origin.span {
        diag = diag.label(later_to, "this host never sees them");
    }
    diag.help(format!(
        "one public address and port reach one host: remove one of the two, give one another public port or address, or narrow `{}` (a source or in_interface); if `{}` is a catch-all, write it after the specific forwards",
        earlier.origin.name, earlier.origin.name
    ))
}
