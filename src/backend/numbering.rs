//! Rule numbers that survive edits. VyOS and RTX name rules by number; if numbers came
//! from positions, adding one rule in the middle would renumber every rule after it and
//! turn a one-line change into a diff of the whole chain. Instead each number comes from
//! a hash of the rule's stable key (`dnat/web`), so adding a rule adds only its own lines.
//!
//! Where the device evaluates rules *by number* (VyOS NAT), rules that can match one packet
//! must keep their intent order: a later rule whose hashed number would sort before an
//! earlier overlapping one is moved up to the next free number after it. Rules overlap when
//! their scope prefixes nest (one contains the other) and their classes allow it (the same
//! protocol and single port, or either matches any port); others never constrain each
//! other, so forwarding 100 ports of one public address does not chain them all together.
//!
//! [`layers`] does the same for firewalld, whose direct rules have priorities and no order
//! among equal priorities: a rule's priority is one more than the highest priority of the
//! earlier rules it overlaps, so a new rule that overlaps nothing is priority 0 and moves
//! nothing else.
//!
//! Every pass here is O(n · 33): one hash-map lookup per prefix length, never pairwise.

use crate::plan::Match;
use ipnet::Ipv4Net;
use std::collections::{HashMap, HashSet};
use std::ops::RangeInclusive;

/// One rule to number, in evaluation (intent) order.
#[derive(Debug, Clone)]
pub struct Request {
    /// What the number is derived from; must be unique within one call (`dnat/web`).
    pub key: String,
    /// `Some`: the device evaluates by number, and this rule must come after every earlier
    /// rule it overlaps. `None`: order does not matter.
    pub scope: Option<Ipv4Net>,
    /// What else the rule matches, as far as it tells rules apart: two different classes
    /// never match one packet; `None` (no class) may match anything in its scope.
    pub class: Option<String>,
}

impl Request {
    /// A rule whose order does not matter.
    pub fn unordered(key: impl Into<String>) -> Self {
        Request { key: key.into(), scope: None, class: None }
    }
}

/// The class of a match that names one protocol and a single destination port
/// (`tcp/8443`): a port forward. Anything broader has no class.
pub fn port_class(matcher: &Match) -> Option<String> {
    let protocol = matcher.protocol?;
    let range = matcher.ports.as_ref()?.as_single_range()?;
    (range.first == range.last).then(|| format!("{}/{}", protocol.as_str(), range.first))
}

/// The number space is full, or too small for the order the rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exhausted {
    pub key: String,
}

/// A stable number in `space` for every request, in request order.
pub fn assign(requests: &[Request], space: RangeInclusive<u32>) -> Result<Vec<u32>, Exhausted> {
    let (first, last) = (*space.start(), *space.end());
    let mut taken = HashSet::with_capacity(requests.len());
    let mut earlier = Overlaps::default();
    let mut numbers = Vec::with_capacity(requests.len());
    for r in requests {
        let floor = earlier.highest(r).map_or(first, |n| n.saturating_add(1));
        let preferred = slot(&r.key, first, last);
        let start = preferred.max(floor);
        let n = (start..=last)
            .find(|n| !taken.contains(n))
            // Unordered rules may wrap around; ordered ones may not go below their floor.
            .or_else(|| (floor..start).find(|n| !taken.contains(n)).filter(|_| r.scope.is_none()))
            .ok_or_else(|| Exhausted { key: r.key.clone() })?;
        taken.insert(n);
        earlier.record(r, n);
        numbers.push(n);
    }
    Ok(numbers)
}

/// The lowest priority (from 0) for every request that keeps each after the earlier ones
/// it overlaps; requests that overlap nothing earlier share priority 0.
pub fn layers(requests: &[Request]) -> Vec<u32> {
    let mut earlier = Overlaps::default();
    requests
        .iter()
        .map(|r| {
            let layer = earlier.highest(r).map_or(0, |n| n.saturating_add(1));
            earlier.record(r, layer);
            layer
        })
        .collect()
}

/// For the rules seen so far, the highest value (number or layer) given to a rule with
/// exactly a scope (`exact`) and to any rule inside it (`subtree`): once over all rules,
/// once per class, and once over the rules without a class (`wild`).
#[derive(Default)]
struct Overlaps {
    all: Nesting,
    wild: Nesting,
    by_class: HashMap<String, Nesting>,
}

#[derive(Default)]
struct Nesting {
    exact: HashMap<Ipv4Net, u32>,
    subtree: HashMap<Ipv4Net, u32>,
}

impl Overlaps {
    /// The highest value of an earlier rule that `r` overlaps.
    fn highest(&self, r: &Request) -> Option<u32> {
        let scope = r.scope?;
        match &r.class {
            None => self.all.highest(scope),
            Some(c) => self.wild.highest(scope).max(self.by_class.get(c).and_then(|n| n.highest(scope))),
        }
    }

    fn record(&mut self, r: &Request, n: u32) {
        let Some(scope) = r.scope else { return };
        self.all.record(scope, n);
        match &r.class {
            None => self.wild.record(scope, n),
            Some(c) => self.by_class.entry(c.clone()).or_default().record(scope, n),
        }
    }
}

impl Nesting {
    /// The highest value among rules whose scope contains `scope` or lies inside it.
    fn highest(&self, scope: Ipv4Net) -> Option<u32> {
        let inside = self.subtree.get(&scope).copied();
        let around = (0..scope.prefix_len()).filter_map(|len| self.exact.get(&truncate(scope, len)).copied()).max();
        inside.max(around)
    }

    fn record(&mut self, scope: Ipv4Net, n: u32) {
        raise(&mut self.exact, scope, n);
        for len in 0..=scope.prefix_len() {
            raise(&mut self.subtree, truncate(scope, len), n);
        }
    }
}

fn truncate(net: Ipv4Net, len: u8) -> Ipv4Net {
    // `len` never exceeds the prefix length it came from, so this cannot fail.
    Ipv4Net::new(net.network(), len).map(|n| n.trunc()).unwrap_or(net)
}

fn raise(map: &mut HashMap<Ipv4Net, u32>, key: Ipv4Net, n: u32) {
    let e = map.entry(key).or_insert(n);
    *e = (*e).max(n);
}

/// FNV-1a of the key, folded into the space: the same key gives the same number on every
/// machine and every version of natc (std's hasher promises neither).
fn slot(key: &str, first: u32, last: u32) -> u32 {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let width = u64::from(last - first) + 1;
    first + (hash % width) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(key: &str, scope: Option<&str>) -> Request {
        Request { key: key.into(), scope: scope.map(|s| s.parse().unwrap()), class: None }
    }

    fn forward(key: &str, scope: &str, port: u16) -> Request {
        Request { key: key.into(), scope: Some(scope.parse().unwrap()), class: Some(format!("tcp/{port}")) }
    }

    #[test]
    fn port_forwards_of_one_address_do_not_constrain_each_other() {
        let before: Vec<Request> =
            (0..50).map(|i| forward(&format!("dnat/p{i}"), "198.51.100.2/32", 8000 + i)).collect();
        let mut after = before.clone();
        after.insert(0, forward("dnat/new", "198.51.100.2/32", 9999));
        let a = assign(&before, 100..=9999).unwrap();
        let mut b = assign(&after, 100..=9999).unwrap();
        b.remove(0);
        assert_eq!(a, b);
        assert_eq!(layers(&after), vec![0; 51]);
    }

    #[test]
    fn a_rule_without_a_class_stays_ordered_against_every_class() {
        let rules = [
            forward("dnat/web", "198.51.100.2/32", 443),
            req("dnat/all", Some("198.51.100.2/32")),
            forward("dnat/late", "198.51.100.2/32", 22),
            forward("dnat/web-again", "198.51.100.0/24", 443),
        ];
        for space in [100..=199, 1..=1_000_000] {
            let n = assign(&rules, space.clone()).unwrap();
            assert!(n[0] < n[1] && n[1] < n[2] && n[1] < n[3], "{space:?}: {n:?}");
        }
        assert_eq!(layers(&rules), vec![0, 1, 2, 2]);
        let two_ports = [forward("dnat/a", "198.51.100.2/32", 443), forward("dnat/b", "198.51.100.0/24", 22)];
        assert_eq!(layers(&two_ports), vec![0, 0]);
    }

    #[test]
    fn a_new_rule_leaves_the_others_numbers_alone() {
        let before: Vec<Request> =
            (0..50).map(|i| req(&format!("dnat/web-{i}"), Some(&format!("10.0.{i}.0/24")))).collect();
        let mut after = before.clone();
        after.insert(25, req("dnat/new", Some("10.1.0.0/24")));
        let a = assign(&before, 100..=9999).unwrap();
        let mut b = assign(&after, 100..=9999).unwrap();
        b.remove(25);
        assert_eq!(a, b);
    }

    #[test]
    fn nested_rules_keep_intent_order_whatever_their_hashes() {
        // Each later rule nests with the first: all must number above it, in order.
        let rules = [
            req("snat/exempt", Some("192.168.0.0/24")),
            req("snat/masq", Some("0.0.0.0/0")),
            req("snat/host", Some("192.168.0.5/32")),
        ];
        for space in [100..=199, 100..=9999, 1..=1_000_000] {
            let n = assign(&rules, space.clone()).unwrap();
            assert!(n[0] < n[1] && n[1] < n[2], "{space:?}: {n:?}");
            assert!(n.iter().all(|x| space.contains(x)));
        }
    }

    #[test]
    fn disjoint_rules_are_not_reordered() {
        let rules = [req("dnat/a", Some("10.0.0.1/32")), req("dnat/b", Some("10.0.0.2/32"))];
        let n = assign(&rules, 100..=9999).unwrap();
        assert_eq!(n, vec![slot("dnat/a", 100, 9999), slot("dnat/b", 100, 9999)]);
    }

    #[test]
    fn collisions_take_the_next_free_number_and_a_full_space_is_an_error() {
        let rules: Vec<Request> = (0..10).map(|i| req(&format!("allow/{i}"), None)).collect();
        let n = assign(&rules, 1..=10).unwrap();
        let mut sorted = n.clone();
        sorted.sort();
        assert_eq!(sorted, (1..=10).collect::<Vec<_>>());
        let eleven: Vec<Request> = (0..11).map(|i| req(&format!("allow/{i}"), None)).collect();
        assert_eq!(assign(&eleven, 1..=10), Err(Exhausted { key: "allow/10".into() }));
    }
}
