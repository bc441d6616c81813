//! The port side of numbering's overlap indexes: per scope prefix, the highest value given
//! to a rule whose destination ports meet a set of ranges ([`PortIndex`], a segment tree
//! over the 65,536 ports), so rules of one address with disjoint ports never constrain
//! each other.

use super::PrefixMap;
use crate::vocab::PortRange;
use crate::vocab::prefix::truncate;
use ipnet::Ipv4Net;

/// [`Nesting`](super::Nesting) with a port index in place of each value.
pub(super) struct PortNesting {
    exact: PrefixMap<PortIndex>,
    subtree: PrefixMap<PortIndex>,
    lengths: u64,
    /// Bit `len` set: some request's scope has that length. A subtree index is only ever
    /// asked at the asker's own scope, so it is kept at those lengths alone: 20k host dnats
    /// of 3 ports each recorded their ports 33 times (every length from /0 to /32) where
    /// only the /32 index is ever asked.
    asked: u64,
}

impl PortNesting {
    pub(super) fn asked_at(asked: u64) -> Self {
        PortNesting { exact: PrefixMap::default(), subtree: PrefixMap::default(), lengths: 0, asked }
    }

    /// The highest value among rules whose scope contains `scope` or lies inside it and
    /// whose ports meet `ports`.
    pub(super) fn highest(&self, scope: Ipv4Net, ports: &[PortRange]) -> Option<u32> {
        let inside = self.subtree.get(&scope).and_then(|i| i.highest(ports));
        let around = (0..scope.prefix_len())
            .filter(|len| self.lengths & (1 << len) != 0)
            .filter_map(|len| self.exact.get(&truncate(scope, len)).and_then(|i| i.highest(ports)))
            .max();
        inside.max(around)
    }

    pub(super) fn record(&mut self, scope: Ipv4Net, ports: &[PortRange], n: u32) {
        self.lengths |= 1 << scope.prefix_len();
        self.exact.entry(scope).or_default().record(ports, n);
        for len in (0..=scope.prefix_len()).filter(|len| self.asked & (1 << len) != 0) {
            self.subtree.entry(truncate(scope, len)).or_default().record(ports, n);
        }
    }
}

/// Port ranges with values: "the highest value of a recorded range that meets these
/// ranges". A list while the ranges are few, a [`PortTree`] from [`FEW_RANGES`] on: most
/// indexes belong to one host's forwards, a range or three, and for those a list is a few
/// bytes and a scan of it a few comparisons, where the tree takes about 17 hashed nodes
/// per range (100k host dnats of 3 ports each held 200k such trees).
enum PortIndex {
    Few(Vec<(PortRange, u32)>),
    Tree(PortTree),
}

const FEW_RANGES: usize = 16;

impl Default for PortIndex {
    fn default() -> Self {
        PortIndex::Few(Vec::new())
    }
}

impl PortIndex {
    fn record(&mut self, ports: &[PortRange], n: u32) {
        if let PortIndex::Few(list) = self {
            if list.len() + ports.len() <= FEW_RANGES {
                list.extend(ports.iter().map(|r| (*r, n)));
                return;
            }
            let mut tree = PortTree::default();
            for (r, v) in std::mem::take(list) {
                tree.record(&[r], v);
            }
            *self = PortIndex::Tree(tree);
        }
        if let PortIndex::Tree(tree) = self {
            tree.record(ports, n);
        }
    }

    fn highest(&self, ports: &[PortRange]) -> Option<u32> {
        match self {
            PortIndex::Few(list) => list
                .iter()
                .filter(|(r, _)| ports.iter().any(|p| p.first <= r.last && r.first <= p.last))
                .map(|&(_, v)| v)
                .max(),
            PortIndex::Tree(tree) => tree.highest(ports),
        }
    }
}

/// Port ranges with values, as [`PortIndex`], in O(17) node visits per range, whatever
/// was recorded. A segment tree over the
/// ports 0–65535, allocated sparsely: node 1 spans every port, node `i`'s halves are `2i`
/// and `2i + 1`. A recorded range raises `cover` on the O(log) nodes it spans whole and
/// `within` on those and every node above them; a query range meets a recorded one exactly
/// when one of its whole nodes lies under (`within`) or on top of (`cover` of the nodes on
/// the way down) one of the recorded range's.
#[derive(Default)]
struct PortTree {
    // Node numbers below 2^17: no input can make them collide badly, so the fast hash.
    nodes: rustc_hash::FxHashMap<u32, Cell>,
}

#[derive(Default, Clone, Copy)]
struct Cell {
    cover: Option<u32>,
    within: Option<u32>,
}

const PORTS_LAST: u32 = u16::MAX as u32;

impl PortTree {
    fn record(&mut self, ports: &[PortRange], n: u32) {
        for r in ports {
            self.raise(1, 0, PORTS_LAST, u32::from(r.first), u32::from(r.last), n);
        }
    }

    fn raise(&mut self, node: u32, lo: u32, hi: u32, first: u32, last: u32, n: u32) {
        if last < lo || hi < first {
            return;
        }
        let cell = self.nodes.entry(node).or_default();
        cell.within = cell.within.max(Some(n));
        if first <= lo && hi <= last {
            cell.cover = cell.cover.max(Some(n));
            return;
        }
        let mid = lo + (hi - lo) / 2;
        self.raise(2 * node, lo, mid, first, last, n);
        self.raise(2 * node + 1, mid + 1, hi, first, last, n);
    }

    fn highest(&self, ports: &[PortRange]) -> Option<u32> {
        ports.iter().filter_map(|r| self.find(1, 0, PORTS_LAST, u32::from(r.first), u32::from(r.last))).max()
    }

    fn find(&self, node: u32, lo: u32, hi: u32, first: u32, last: u32) -> Option<u32> {
        if last < lo || hi < first {
            return None;
        }
        let cell = self.nodes.get(&node)?;
        if first <= lo && hi <= last {
            return cell.within;
        }
        let mid = lo + (hi - lo) / 2;
        cell.cover.max(self.find(2 * node, lo, mid, first, last)).max(self.find(2 * node + 1, mid + 1, hi, first, last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten indexes of 40 records each: every one answers as a list first, then as a tree
    /// from the record that passes FEW_RANGES ranges, each answer checked against the
    /// quadratic one.
    #[test]
    fn the_port_index_agrees_with_comparing_every_pair() {
        let mut next = super::super::tests::xorshift(0x9e37_79b9);
        for round in 0..10 {
            let mut index = PortIndex::default();
            let mut seen: Vec<(Vec<PortRange>, u32)> = Vec::new();
            for n in 0..40 {
                let ranges: Vec<PortRange> = (0..1 + next(3))
                    .map(|_| {
                        // Half of them among 64 ports, where ranges touch end to end.
                        let first = [next(65_536), next(64)][next(2) as usize] as u16;
                        let width = [0, 1, 10, 5000, 65_535][next(5) as usize];
                        PortRange { first, last: first.saturating_add(width) }
                    })
                    .collect();
                let meets = |a: &PortRange, b: &PortRange| a.first <= b.last && b.first <= a.last;
                let naive = seen
                    .iter()
                    .filter(|(r, _)| r.iter().any(|a| ranges.iter().any(|b| meets(a, b))))
                    .map(|&(_, v)| v)
                    .max();
                assert_eq!(index.highest(&ranges), naive, "round {round}, query {n}: {ranges:?}");
                let value = next(1000);
                index.record(&ranges, value);
                seen.push((ranges, value));
            }
            assert!(matches!(index, PortIndex::Tree(_)), "round {round} never grew into a tree");
        }
    }

    /// Ranges that share an end port meet; ranges one port apart do not: as a list and as
    /// a tree.
    #[test]
    fn ranges_that_touch_meet_and_neighbours_do_not() {
        let one = |first: u16, last: u16| [PortRange { first, last }];
        for grown in [false, true] {
            let mut index = PortIndex::default();
            if grown {
                for i in 0..FEW_RANGES as u16 {
                    index.record(&one(1000 + 2 * i, 1000 + 2 * i), 0);
                }
            }
            index.record(&one(80, 90), 7);
            assert_eq!(matches!(index, PortIndex::Tree(_)), grown);
            assert_eq!(index.highest(&one(90, 95)), Some(7));
            assert_eq!(index.highest(&one(70, 80)), Some(7));
            assert_eq!(index.highest(&one(91, 95)), None);
            assert_eq!(index.highest(&one(70, 79)), None);
        }
    }
}
