//! Rule numbers that survive edits. VyOS and RTX name rules by number; if numbers came
//! from positions, adding one rule in the middle would renumber every rule after it and
//! turn a one-line change into a diff of the whole chain. Instead each number comes from
//! a hash of the rule's stable key (`dnat/web`), so adding a rule adds only its own lines.
//!
//! Where the device evaluates rules *by number* (VyOS NAT), rules that can match one packet
//! must keep their intent order: a later rule whose hashed number would sort before an
//! earlier overlapping one is moved up to the next free number after it. Rules overlap when
//! their scope prefixes nest (one contains the other) and their classes can meet: a rule
//! without a class meets everything; two classes meet when they name the same protocol and
//! their destination port sets intersect (single ports, lists and ranges alike). Rules of
//! different protocols, or of disjoint ports, never constrain each other, so forwarding
//! 100 ports of one public address does not chain them all together.
//!
//! [`layers`] does the same for firewalld, whose direct rules have priorities and no order
//! among equal priorities: a rule's priority is one more than the highest priority of the
//! earlier rules it overlaps, so a new rule that overlaps nothing is priority 0 and moves
//! nothing else.
//!
//! Every pass here is O(n · 33 · k · 17), never pairwise: one hash-map lookup per prefix
//! length, and within one (protocol, prefix) bucket a port interval index (`PortIndex` in
//! `ports.rs`, a segment tree over the 65,536 ports) that answers "the highest value of an
//! earlier rule whose ports meet these" in O(17) per port range (k ranges a rule).

use crate::plan::Match;
use crate::vocab::prefix::truncate;
use crate::vocab::{PortRange, Protocol};
use ipnet::Ipv4Net;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::BuildHasherDefault;
use std::ops::RangeInclusive;

mod ports;
use ports::PortNesting;

/// One rule to number, in evaluation (intent) order.
#[derive(Debug, Clone)]
pub struct Request {
    /// What the number is derived from; must be unique within one call (`dnat/web`).
    pub key: String,
    /// `Some`: the device evaluates by number, and this rule must come after every earlier
    /// rule it overlaps. `None`: order does not matter.
    pub scope: Option<Ipv4Net>,
    /// What else the rule matches, as far as it tells rules apart (see [`Class`]); `None`
    /// (no class) may match anything in its scope.
    pub class: Option<Class>,
}

/// A rule's protocol and destination ports. Two rules whose classes have different
/// protocols, or disjoint port sets, never match one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    pub protocol: Protocol,
    /// The destination ports the rule matches; every port when the match names none.
    pub ports: Vec<PortRange>,
}

impl Class {
    /// A protocol with its ports (`Class::new(Protocol::Tcp, &[PortRange::single(443)])`);
    /// no ranges means every port.
    pub fn new(protocol: Protocol, ports: &[PortRange]) -> Self {
        let ports = if ports.is_empty() { vec![EVERY_PORT] } else { ports.to_vec() };
        Class { protocol, ports }
    }
}

const EVERY_PORT: PortRange = PortRange { first: 0, last: u16::MAX };

impl Request {
    /// A rule whose order does not matter.
    pub fn unordered(key: impl Into<String>) -> Self {
        Request { key: key.into(), scope: None, class: None }
    }
}

/// The class of a match that names a protocol: the protocol and its destination ports
/// (every port when it names none). A match of any protocol has no class.
pub fn port_class(matcher: &Match) -> Option<Class> {
    let protocol = matcher.protocol.filter(|p| *p != Protocol::Any)?;
    Some(Class::new(protocol, matcher.ports.as_ref().map_or(&[][..], |p| &p.ranges)))
}

/// The number space is full, or too small for the order the rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exhausted {
    pub key: String,
}

/// A stable number in `space` for every request, in request order.
pub fn assign(requests: &[Request], space: RangeInclusive<u32>) -> Result<Vec<u32>, Exhausted> {
    let (first, last) = (*space.start(), *space.end());
    let mut taken = Free::with_capacity(requests.len());
    let mut earlier = Overlaps::for_requests(requests);
    let mut numbers = Vec::with_capacity(requests.len());
    for r in requests {
        let floor = earlier.highest(r).map_or(first, |n| n.saturating_add(1));
        let preferred = slot(&r.key, first, last);
        let start = preferred.max(floor);
        let n = taken
            .next_free(start)
            .filter(|n| *n <= last)
            // Unordered rules may wrap around; ordered ones may not go below their floor.
            // Nothing in start..=last is free here, so a free number from floor is below start.
            .or_else(|| taken.next_free(floor).filter(|n| *n < start && r.scope.is_none()))
            .ok_or_else(|| Exhausted { key: r.key.clone() })?;
        taken.take(n);
        earlier.record(r, n);
        numbers.push(n);
    }
    Ok(numbers)
}

/// The numbers taken so far, answering "the first free number at or after n" in amortised
/// near-constant time: each taken number points at a later candidate (a disjoint-set
/// forest over runs of taken numbers, with path halving). Probing number by number would
/// cost the length of the run of taken numbers, which grows with n as the space fills
/// (9,999 RTX entries in 1-9999 took seconds).
struct Free {
    next: rustc_hash::FxHashMap<u32, u32>,
}

impl Free {
    fn with_capacity(n: usize) -> Self {
        Free { next: rustc_hash::FxHashMap::with_capacity_and_hasher(n, Default::default()) }
    }

    /// The first number at or after `n` not taken; `None` past u32::MAX.
    fn next_free(&mut self, n: u32) -> Option<u32> {
        let mut at = n;
        loop {
            match self.next.get(&at) {
                None => return Some(at),
                // u32::MAX taken points at itself (see take): nothing free above it.
                Some(&up) if up == at => return None,
                Some(&up) => {
                    // Path halving: point `at` two steps on, so later walks are shorter.
                    if let Some(&further) = self.next.get(&up) {
                        self.next.insert(at, further);
                    }
                    at = up;
                }
            }
        }
    }

    fn take(&mut self, n: u32) {
        self.next.insert(n, n.saturating_add(1));
    }
}

/// The lowest priority (from 0) for every request that keeps each after the earlier ones
/// it overlaps; requests that overlap nothing earlier share priority 0.
pub fn layers<R: Borrow<Request>>(requests: &[R]) -> Vec<u32> {
    let mut earlier = Overlaps::for_requests(requests);
    // A run of equal requests (the iptables rules one translation is split into, 15 ports
    // of its list each, share its scope and class) is not recorded rule by rule: each rule
    // of the run overlaps the one before it, so it takes the next layer, and recording only
    // raises values, so recording the run's last layer alone leaves the index as recording
    // every rule would. One dnat of 5,000 ports recorded its 5,000 ports 334 times.
    let mut run: Option<(&Request, u32)> = None;
    let mut out = Vec::with_capacity(requests.len());
    for r in requests.iter().map(Borrow::borrow) {
        let layer = match run {
            Some((last, layer)) if same(last, r) && meets_itself(r) => layer.saturating_add(1),
            _ => {
                if let Some((last, layer)) = run {
                    earlier.record(last, layer);
                }
                earlier.highest(r).map_or(0, |n| n.saturating_add(1))
            }
        };
        run = Some((r, layer));
        out.push(layer);
    }
    out
}

/// Equal scope and class; the same request (a translation's rules share one) at once.
fn same(a: &Request, b: &Request) -> bool {
    std::ptr::eq(a, b) || (a.scope == b.scope && a.class == b.class)
}

/// Does a rule overlap another rule equal to it: it has a scope, and no class or a class
/// with some port (a rule without a scope overlaps nothing).
fn meets_itself(r: &Request) -> bool {
    r.scope.is_some() && r.class.as_ref().is_none_or(|c| c.ports.iter().any(|p| p.first <= p.last))
}

/// For the rules seen so far, the highest value (number or layer) given to a rule with
/// exactly a scope (`exact`) and to any rule inside it (`subtree`): once over all rules,
/// once over the rules without a class (`wild`), and per protocol with the ports of each
/// rule (`by_protocol`).
struct Overlaps {
    all: Nesting,
    wild: Nesting,
    by_protocol: HashMap<Protocol, PortNesting>,
    /// The scope lengths of the requests with a class (see [`PortNesting::asked`]).
    classed_lengths: u64,
    /// Only rules without a class ask `all`, and only rules with one ask `wild`: an index
    /// nobody will ask is not kept (100k host DNATs, none with a protocol, never ask
    /// `wild`, and keeping it was a quarter of numbering them).
    keep_all: bool,
    keep_wild: bool,
}

#[derive(Default)]
struct Nesting {
    exact: PrefixMap<u32>,
    subtree: PrefixMap<u32>,
    /// Bit `len` is set when `exact` holds a prefix of that length: the look-ups for the
    /// prefixes around a scope skip the lengths nothing has (100k host rules: all but one).
    lengths: u64,
}

impl Overlaps {
    fn for_requests<R: Borrow<Request>>(requests: &[R]) -> Self {
        let classless = requests.iter().map(Borrow::borrow).any(|r| r.scope.is_some() && r.class.is_none());
        let classed_lengths = requests
            .iter()
            .map(Borrow::borrow)
            .filter(|r| r.class.is_some())
            .filter_map(|r| r.scope)
            .fold(0u64, |lengths, scope| lengths | 1 << scope.prefix_len());
        let classed = classed_lengths != 0;
        Overlaps {
            all: Nesting::default(),
            wild: Nesting::default(),
            by_protocol: HashMap::new(),
            classed_lengths,
            keep_all: classless,
            keep_wild: classless && classed,
        }
    }

    /// The highest value of an earlier rule that `r` overlaps.
    fn highest(&self, r: &Request) -> Option<u32> {
        let scope = r.scope?;
        match &r.class {
            None => self.all.highest(scope),
            Some(c) => {
                self.wild.highest(scope).max(self.by_protocol.get(&c.protocol).and_then(|n| n.highest(scope, &c.ports)))
            }
        }
    }

    fn record(&mut self, r: &Request, n: u32) {
        let Some(scope) = r.scope else { return };
        if self.keep_all {
            self.all.record(scope, n);
        }
        match &r.class {
            None if self.keep_wild => self.wild.record(scope, n),
            None => {}
            Some(c) => self
                .by_protocol
                .entry(c.protocol)
                .or_insert_with(|| PortNesting::asked_at(self.classed_lengths))
                .record(scope, &c.ports, n),
        }
    }
}

impl Nesting {
    /// The highest value among rules whose scope contains `scope` or lies inside it.
    fn highest(&self, scope: Ipv4Net) -> Option<u32> {
        let inside = self.subtree.get(&scope).copied();
        let around = (0..scope.prefix_len())
            .filter(|len| self.lengths & (1 << len) != 0)
            .filter_map(|len| self.exact.get(&truncate(scope, len)).copied())
            .max();
        inside.max(around)
    }

    fn record(&mut self, scope: Ipv4Net, n: u32) {
        raise(&mut self.exact, scope, n);
        self.lengths |= 1 << scope.prefix_len();
        // From the scope outwards. A prefix's subtree value is at least that of any prefix
        // inside it, so once one already holds n or more, every prefix around it does too.
        // (A prefix is only ever added together with every prefix around it.)
        for len in (0..=scope.prefix_len()).rev() {
            match self.subtree.entry(truncate(scope, len)) {
                Entry::Vacant(e) => {
                    e.insert(n);
                }
                Entry::Occupied(e) if *e.get() >= n => break,
                Entry::Occupied(mut e) => *e.get_mut() = n,
            }
        }
    }
}

/// "The first item (lowest index) whose prefix nests with this one" (contains it or lies
/// inside it; for CIDR prefixes that is exactly overlapping), in O(33) hash look-ups per
/// question instead of a scan of every earlier item: `exact` holds each prefix's first
/// index, `subtree` the first index of any prefix inside each prefix, `any` the first item
/// that matches every address.
#[derive(Default)]
pub struct FirstNesting {
    exact: PrefixMap<usize>,
    subtree: PrefixMap<usize>,
    any: Option<usize>,
    /// Bit `len` set: `exact` holds a prefix of that length (as in [`Nesting`]).
    lengths: u64,
}

impl FirstNesting {
    /// `None` as the prefix: the item matches every address. Record in increasing index.
    pub fn record(&mut self, net: Option<Ipv4Net>, index: usize) {
        let Some(net) = net else {
            self.any = self.any.or(Some(index));
            return;
        };
        self.exact.entry(net.trunc()).or_insert(index);
        self.lengths |= 1 << net.prefix_len();
        // From the prefix outwards: a prefix already there has every prefix around it
        // there too, each with an index no higher (indexes come in increasing order).
        for len in (0..=net.prefix_len()).rev() {
            match self.subtree.entry(truncate(net, len)) {
                Entry::Occupied(_) => break,
                Entry::Vacant(e) => {
                    e.insert(index);
                }
            }
        }
    }

    /// The first item whose prefix contains `net` (or matches everything).
    pub fn first_around(&self, net: Ipv4Net) -> Option<usize> {
        let around = (0..=net.prefix_len())
            .filter(|len| self.lengths & (1 << len) != 0)
            .filter_map(|len| self.exact.get(&truncate(net, len)).copied())
            .min();
        around.into_iter().chain(self.any).min()
    }

    /// The first item that overlaps `net`.
    pub fn first(&self, net: Ipv4Net) -> Option<usize> {
        self.first_around(net).into_iter().chain(self.subtree.get(&net.trunc()).copied()).min()
    }
}

/// A map keyed by prefix, hashed by [`PrefixHasher`].
type PrefixMap<V> = HashMap<Ipv4Net, V, BuildHasherDefault<PrefixHasher>>;

/// A multiply-rotate hash (as rustc's FxHash) for the few integers an `Ipv4Net` hashes
/// (its address and length): the indexes here make tens of hash look-ups per rule, and
/// std's SipHash was the largest part of numbering 100k rules. The keys come from the
/// user's own intent, so flooding resistance buys nothing here.
#[derive(Default)]
struct PrefixHasher(u64);

impl PrefixHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl std::hash::Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        // The product's high bits depend on every input bit, its low bits only on the low
        // input bits (all zero for a short prefix); the table indexes by the low bits.
        self.0.rotate_left(26)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.add(u64::from(*b));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
}

fn raise(map: &mut PrefixMap<u32>, key: Ipv4Net, n: u32) {
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

    /// A fixed pseudo-random sequence (xorshift) from `seed`: each call gives a number below
    /// its argument. The tests check the indexes against quadratic answers on its inputs.
    pub(super) fn xorshift(seed: u32) -> impl FnMut(u32) -> u32 {
        let mut x = seed;
        move |m| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x % m
        }
    }

    fn req(key: &str, scope: Option<&str>) -> Request {
        Request { key: key.into(), scope: scope.map(|s| s.parse().unwrap()), class: None }
    }

    fn forward(key: &str, scope: &str, port: u16) -> Request {
        ports(key, scope, Protocol::Tcp, &[(port, port)])
    }

    fn ports(key: &str, scope: &str, protocol: Protocol, ranges: &[(u16, u16)]) -> Request {
        let ranges: Vec<PortRange> = ranges.iter().map(|&(first, last)| PortRange { first, last }).collect();
        Request { key: key.into(), scope: Some(scope.parse().unwrap()), class: Some(Class::new(protocol, &ranges)) }
    }

    /// 60 forwards of one address with disjoint ports: single ports, lists, ranges and a
    /// list of ranges, each rule's ports in 100 ports of its own.
    fn disjoint_forwards() -> Vec<Request> {
        (0..60u16)
            .map(|i| {
                let base = 10_000 + 100 * i;
                let ranges: &[(u16, u16)] = match i % 4 {
                    0 => &[(base, base)],
                    1 => &[(base, base), (base + 7, base + 7), (base + 50, base + 50)],
                    2 => &[(base, base + 99)],
                    _ => &[(base + 10, base + 19), (base + 3, base + 3), (base + 60, base + 89)],
                };
                ports(&format!("dnat/p{i}"), "198.51.100.2/32", Protocol::Tcp, ranges)
            })
            .collect()
    }

    #[test]
    fn disjoint_ports_of_one_address_never_push_each_other() {
        let before = disjoint_forwards();
        // Every rule keeps its hashed number: nothing was moved above an earlier rule.
        let hashed: Vec<u32> = before.iter().map(|r| slot(&r.key, 1000, 999_999)).collect();
        assert_eq!(assign(&before, 1000..=999_999).unwrap(), hashed);
        assert_eq!(layers(&before), vec![0; before.len()]);
        // Adding one at the start, removing one in the middle, both at once: the others stay.
        let mut after = before.clone();
        after.remove(30);
        after.insert(0, ports("dnat/new", "198.51.100.2/32", Protocol::Tcp, &[(20_000, 20_999), (40_000, 40_000)]));
        let b = assign(&after, 1000..=999_999).unwrap();
        let mut expected = hashed.clone();
        expected.remove(30);
        assert_eq!(b[1..], expected[..]);
        // The same ports under another protocol, and a protocol without ports, meet nothing.
        let mut mixed = before.clone();
        mixed.push(ports("dnat/udp", "198.51.100.0/24", Protocol::Udp, &[(10_000, 16_000)]));
        mixed.push(ports("dnat/ping", "198.51.100.2/32", Protocol::Icmp, &[]));
        let n = assign(&mixed, 1000..=999_999).unwrap();
        assert_eq!(n[60..], [slot("dnat/udp", 1000, 999_999), slot("dnat/ping", 1000, 999_999)]);
    }

    #[test]
    fn overlapping_port_sets_keep_first_match_order() {
        // Each later rule meets an earlier one in exactly one port, or in a whole range.
        let rules = [
            ports("dnat/range", "198.51.100.2/32", Protocol::Tcp, &[(8000, 8099)]),
            ports("dnat/list", "198.51.100.2/32", Protocol::Tcp, &[(22, 22), (8099, 8099)]),
            ports("dnat/wider", "198.51.100.0/24", Protocol::Tcp, &[(7000, 7010), (8050, 8098)]),
            ports("dnat/any-port", "198.51.100.2/32", Protocol::Tcp, &[]),
            ports("dnat/beside", "198.51.100.2/32", Protocol::Tcp, &[(8100, 8199)]),
        ];
        for space in [100..=199, 100..=9999, 1..=1_000_000] {
            let n = assign(&rules, space.clone()).unwrap();
            assert!(n[0] < n[1] && n[0] < n[2] && n[1] < n[3] && n[2] < n[3], "{space:?}: {n:?}");
            assert!(n[2] < n[4] && n[3] < n[4], "{space:?}: {n:?}");
        }
        assert_eq!(layers(&rules), vec![0, 1, 1, 2, 3]);
        // Touching ranges meet only when they share a port.
        let touching = [
            ports("dnat/a", "198.51.100.2/32", Protocol::Tcp, &[(8000, 8099)]),
            ports("dnat/b", "198.51.100.2/32", Protocol::Tcp, &[(8100, 8199)]),
            ports("dnat/c", "198.51.100.2/32", Protocol::Tcp, &[(7000, 8000)]),
        ];
        assert_eq!(layers(&touching), vec![0, 0, 1]);
    }

    #[test]
    fn layers_of_runs_of_equal_rules_agree_with_recording_every_rule() {
        let mut next = xorshift(0x3c6e_f372);
        let mut requests = Vec::new();
        while requests.len() < 600 {
            let scope = match next(4) {
                0 => None,
                _ => Some(Ipv4Net::new(std::net::Ipv4Addr::from(0x0a00_0000 | next(1 << 8) << 8), 24 + next(9) as u8)),
            }
            .map(|n| n.unwrap().trunc());
            let class = match next(3) {
                0 => None,
                _ => Some(Class::new(
                    [Protocol::Tcp, Protocol::Udp][next(2) as usize],
                    &(0..next(4))
                        .map(|_| {
                            let first = next(200) as u16;
                            PortRange { first, last: first + next(20) as u16 }
                        })
                        .collect::<Vec<_>>(),
                )),
            };
            // Runs of 1 to 5 equal rules, as a translation split into several rules.
            for _ in 0..1 + next(5) {
                requests.push(Request { key: String::new(), scope, class: class.clone() });
            }
        }
        let mut earlier = Overlaps::for_requests(&requests);
        let every: Vec<u32> = requests
            .iter()
            .map(|r| {
                let layer = earlier.highest(r).map_or(0, |n| n.saturating_add(1));
                earlier.record(r, layer);
                layer
            })
            .collect();
        assert_eq!(layers(&requests), every);
    }

    /// The overlap indexes (kept only at the scope lengths some request asks at) give the
    /// layers that comparing every pair of rules gives, for scopes of many lengths nesting
    /// each other, with and without a class.
    #[test]
    fn layers_agree_with_comparing_every_pair() {
        let mut next = xorshift(0x6a09_e667);
        let requests: Vec<Request> = (0..500)
            .map(|_| {
                let len = [8, 16, 22, 24, 30, 32][next(6) as usize];
                let address = std::net::Ipv4Addr::from(0x0a00_0000 | next(1 << 10) << 6);
                let scope = (next(8) != 0).then(|| Ipv4Net::new(address, len).unwrap().trunc());
                let class = (next(3) != 0).then(|| {
                    let ranges: Vec<PortRange> = (0..next(3))
                        .map(|_| {
                            let first = next(100) as u16;
                            PortRange { first, last: first + next(10) as u16 }
                        })
                        .collect();
                    Class::new([Protocol::Tcp, Protocol::Udp][next(2) as usize], &ranges)
                });
                Request { key: String::new(), scope, class }
            })
            .collect();
        let overlap = |a: &Request, b: &Request| {
            let (Some(s), Some(t)) = (a.scope, b.scope) else { return false };
            let nest = s.contains(&t) || t.contains(&s);
            let meet = match (&a.class, &b.class) {
                (Some(c), Some(d)) => {
                    c.protocol == d.protocol
                        && c.ports.iter().any(|p| d.ports.iter().any(|q| p.first <= q.last && q.first <= p.last))
                }
                _ => true,
            };
            nest && meet
        };
        let mut naive: Vec<u32> = Vec::new();
        for (i, r) in requests.iter().enumerate() {
            let layer = (0..i).filter(|&j| overlap(&requests[j], r)).map(|j| naive[j] + 1).max().unwrap_or(0);
            naive.push(layer);
        }
        assert_eq!(layers(&requests), naive);
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

    /// The number the old linear probe gives: the first free one from `start`, else (for an
    /// unordered rule) from `floor`.
    fn probe(taken: &std::collections::HashSet<u32>, floor: u32, start: u32, last: u32, wrap: bool) -> Option<u32> {
        (start..=last)
            .find(|n| !taken.contains(n))
            .or_else(|| (floor..start).find(|n| !taken.contains(n)).filter(|_| wrap))
    }

    #[test]
    fn the_free_list_agrees_with_probing_number_by_number() {
        let mut next = xorshift(0x2545_f491);
        let (first, last) = (10, 300);
        let mut free = Free::with_capacity(0);
        let mut taken = std::collections::HashSet::new();
        // Fill the space to the last number, and past it: both must agree on every answer.
        for _ in 0..400 {
            let floor = first + next(last - first + 1);
            let start = floor.max(first + next(last - first + 1));
            let wrap = next(2) == 0;
            let fast = free
                .next_free(start)
                .filter(|n| *n <= last)
                .or_else(|| free.next_free(floor).filter(|n| *n < start && wrap));
            assert_eq!(fast, probe(&taken, floor, start, last, wrap), "floor {floor} start {start}");
            if let Some(n) = fast {
                free.take(n);
                taken.insert(n);
            }
        }
        // Fill what is left from the first number: every number once, then nothing free.
        while let Some(n) = free.next_free(first).filter(|n| *n <= last) {
            assert!(taken.insert(n), "{n} given twice");
            free.take(n);
        }
        assert_eq!(taken.len() as u32, last - first + 1);
        assert_eq!(free.next_free(first), Some(last + 1));
        free.take(u32::MAX);
        assert_eq!(free.next_free(u32::MAX), None);
        assert_eq!(free.next_free(u32::MAX - 1), Some(u32::MAX - 1));
    }

    #[test]
    fn first_nesting_agrees_with_scanning_every_earlier_prefix() {
        let mut next = xorshift(0x1234_5677);
        // Prefixes of 10.0.0.0/16 of every length, so that many nest; some match everything.
        let mut index = FirstNesting::default();
        let mut seen: Vec<Option<Ipv4Net>> = Vec::new();
        let nests = |a: Ipv4Net, b: Ipv4Net| a.contains(&b.network()) || b.contains(&a.network());
        for i in 0..600 {
            let len = 16 + next(17) as u8;
            let net = Ipv4Net::new(std::net::Ipv4Addr::from(0x0a00_0000 | next(1 << 16)), len).unwrap();
            let naive_first = seen.iter().position(|s| s.is_none_or(|s| nests(s, net)));
            let naive_around =
                seen.iter().position(|s| s.is_none_or(|s| s.contains(&net.network()) && s.prefix_len() <= len));
            assert_eq!(index.first(net), naive_first, "{i}: {net}");
            assert_eq!(index.first_around(net), naive_around, "{i}: {net}");
            let recorded = if next(50) == 0 { None } else { Some(net) };
            index.record(recorded, i);
            seen.push(recorded);
        }
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
