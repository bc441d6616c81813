//! Prefix look-ups that keep the checks n·log n. Two prefixes overlap only when one
//! contains the other, so the entries overlapping a prefix are its supernets that are
//! present (at most 33 exact look-ups) plus the entries inside it (one range in start order).

use ipnet::Ipv4Net;
use std::collections::BTreeMap;

pub struct PrefixIndex<T> {
    /// (network address, length) → values, so that a prefix's subnets are one range.
    entries: BTreeMap<(u32, u8), Vec<T>>,
    /// The lengths present: only those supernets are looked up.
    lengths: [bool; 33],
}

impl<T> Default for PrefixIndex<T> {
    fn default() -> Self {
        PrefixIndex { entries: BTreeMap::new(), lengths: [false; 33] }
    }
}

fn key(net: Ipv4Net) -> (u32, u8) {
    (u32::from(net.network()), net.prefix_len())
}

fn prefix((start, len): (u32, u8)) -> Ipv4Net {
    Ipv4Net::new(start.into(), len).unwrap_or_default()
}

fn mask(len: u8) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) }
}

impl<T> PrefixIndex<T> {
    pub fn insert(&mut self, net: Ipv4Net, value: T) {
        self.lengths[usize::from(net.prefix_len())] = true;
        self.entries.entry(key(net)).or_default().push(value);
    }

    /// The values stored under exactly this prefix.
    pub fn exact(&self, net: Ipv4Net) -> &[T] {
        self.entries.get(&key(net)).map_or(&[], Vec::as_slice)
    }

    /// Entries whose prefix contains `net` (or equals it), longest prefix first.
    pub fn containing(&self, net: Ipv4Net) -> impl Iterator<Item = (Ipv4Net, &T)> {
        let start = u32::from(net.network());
        (0..=net.prefix_len())
            .rev()
            .filter(|&len| self.lengths[usize::from(len)])
            .filter_map(move |len| {
                let k = (start & mask(len), len);
                self.entries.get(&k).map(|values| (prefix(k), values))
            })
            .flat_map(|(p, values)| values.iter().map(move |v| (p, v)))
    }

    /// Entries strictly inside `net`, in address order.
    pub fn inside(&self, net: Ipv4Net) -> impl Iterator<Item = (Ipv4Net, &T)> {
        let (start, end) = (u32::from(net.network()), u32::from(net.broadcast()));
        let range = if net.prefix_len() == 32 { None } else { Some((start, net.prefix_len() + 1)..=(end, 32)) };
        range
            .into_iter()
            .flat_map(|r| self.entries.range(r))
            .filter(move |(k, _)| k.1 > net.prefix_len())
            .flat_map(|(k, values)| values.iter().map(move |v| (prefix(*k), v)))
    }

    /// Every entry that overlaps `net`: containing it, equal to it, or inside it.
    pub fn overlapping(&self, net: Ipv4Net) -> impl Iterator<Item = (Ipv4Net, &T)> {
        self.containing(net).chain(self.inside(net))
    }

    /// The longest prefix containing `addr` and its values (a route look-up).
    pub fn longest_match(&self, net: Ipv4Net) -> Option<(Ipv4Net, &T)> {
        self.containing(net).next()
    }
}

/// Do two prefixes share an address?
pub fn overlap(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// `None` is "any": it overlaps everything.
pub fn overlap_opt(a: Option<Ipv4Net>, b: Option<Ipv4Net>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => overlap(a, b),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn finds_supernets_equals_and_subnets_only() {
        let mut index = PrefixIndex::default();
        for (i, p) in ["10.0.0.0/8", "10.0.0.0/24", "10.0.0.128/25", "10.0.1.0/24", "10.0.0.5/32", "11.0.0.0/8"]
            .into_iter()
            .enumerate()
        {
            index.insert(net(p), i);
        }
        let mut found: Vec<usize> = index.overlapping(net("10.0.0.0/24")).map(|(_, v)| *v).collect();
        found.sort();
        assert_eq!(found, vec![0, 1, 2, 4]);
        let containing: Vec<usize> = index.containing(net("10.0.0.200/32")).map(|(_, v)| *v).collect();
        assert_eq!(containing, vec![2, 1, 0], "longest first");
        assert_eq!(index.longest_match(net("10.0.1.9/32")).map(|(p, _)| p), Some(net("10.0.1.0/24")));
        assert!(index.overlapping(net("12.0.0.0/8")).next().is_none());
        assert_eq!(index.overlapping(net("0.0.0.0/0")).count(), 6);
    }

    #[test]
    fn overlap_is_containment_either_way() {
        assert!(overlap(net("10.0.0.0/24"), net("10.0.0.0/25")));
        assert!(overlap(net("10.0.0.0/25"), net("10.0.0.0/24")));
        assert!(!overlap(net("10.0.0.0/25"), net("10.0.0.128/25")));
        assert!(overlap_opt(None, Some(net("1.2.3.4/32"))));
    }
}
