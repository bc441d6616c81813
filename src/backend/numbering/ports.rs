//! The port side of numbering's overlap indexes: per scope prefix, the highest value given
//! to a rule whose destination ports meet a set of ranges ([`PortIndex`], a segment tree
//! over the 65,536 ports), so rules of one address with disjoint ports never constrain
//! each other.

use super::{PrefixMap, truncate};
use crate::vocab::PortRange;
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
/// ranges" in O(17) node visits per range, whatever was recorded. A segment tree over the
/// ports 0–65535, allocated sparsely: node 1 spans every port, node `i`'s halves are `2i`
/// and `2i + 1`. A recorded range raises `cover` on the O(log) nodes it spans whole and
/// `within` on those and every node above them; a query range meets a recorded one exactly
/// when one of its whole nodes lies under (`within`) or on top of (`cover` of the nodes on
/// the way down) one of the recorded range's.
#[derive(Default)]
struct PortIndex {
    // Node numbers below 2^17: no input can make them collide badly, so the fast hash.
    nodes: rustc_hash::FxHashMap<u32, Cell>,
}

#[derive(Default, Clone, Copy)]
struct Cell {
    cover: Option<u32>,
    within: Option<u32>,
}

const PORTS_LAST: u32 = u16::MAX as u32;

impl PortIndex {
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

    #[test]
    fn the_port_index_agrees_with_comparing_every_pair() {
        // A fixed pseudo-random sequence (xorshift), checked against the quadratic answer.
        let mut next = super::super::tests::xorshift(0x9e37_79b9);
        let mut index = PortIndex::default();
        let mut seen: Vec<(Vec<PortRange>, u32)> = Vec::new();
        for n in 0..400 {
            let ranges: Vec<PortRange> = (0..1 + next(3))
                .map(|_| {
                    let first = next(65_536) as u16;
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
            assert_eq!(index.highest(&ranges), naive, "query {n}: {ranges:?}");
            let value = next(1000);
            index.record(&ranges, value);
            seen.push((ranges, value));
        }
    }
}
