//! Rule numbers that survive edits. VyOS and RTX name rules by number; if numbers came
//! from positions, adding one rule in the middle would renumber every rule after it and
//! turn a one-line change into a diff of the whole chain. Instead each number comes from
//! a hash of the rule's stable key (`dnat/web`), so adding a rule adds only its own lines.
//!
//! Where the device evaluates rules *by number* (VyOS NAT), rules whose scope prefixes nest
//! (one contains the other, so both can match one packet) must keep their intent order:
//! a later rule whose hashed number would sort before an earlier nested one is moved up
//! to the next free number after it. Disjoint rules never constrain each other.
//!
//! Every pass here is O(n · 33): one hash-map lookup per prefix length, never pairwise.

use ipnet::Ipv4Net;
use std::collections::{HashMap, HashSet};
use std::ops::RangeInclusive;

/// One rule to number, in evaluation (intent) order.
#[derive(Debug, Clone)]
pub struct Request {
    /// What the number is derived from; must be unique within one call (`dnat/web`).
    pub key: String,
    /// `Some`: the device evaluates by number, and this rule must come after every earlier
    /// rule whose scope nests with this one. `None`: order does not matter.
    pub scope: Option<Ipv4Net>,
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
    // Highest number given to a rule with exactly this scope, and to any rule inside it.
    let mut exact_max: HashMap<Ipv4Net, u32> = HashMap::new();
    let mut subtree_max: HashMap<Ipv4Net, u32> = HashMap::new();
    let mut numbers = Vec::with_capacity(requests.len());
    for r in requests {
        let floor = match r.scope {
            Some(scope) => highest_nesting(scope, &exact_max, &subtree_max).map_or(first, |n| n.saturating_add(1)),
            None => first,
        };
        let preferred = slot(&r.key, first, last);
        let start = preferred.max(floor);
        let n = (start..=last)
            .find(|n| !taken.contains(n))
            // Unordered rules may wrap around; ordered ones may not go below their floor.
            .or_else(|| (floor..start).find(|n| !taken.contains(n)).filter(|_| r.scope.is_none()))
            .ok_or_else(|| Exhausted { key: r.key.clone() })?;
        taken.insert(n);
        if let Some(scope) = r.scope {
            raise(&mut exact_max, scope, n);
            for len in 0..=scope.prefix_len() {
                raise(&mut subtree_max, truncate(scope, len), n);
            }
        }
        numbers.push(n);
    }
    Ok(numbers)
}

/// The highest number among earlier rules whose scope contains `scope` or lies inside it.
fn highest_nesting(
    scope: Ipv4Net,
    exact_max: &HashMap<Ipv4Net, u32>,
    subtree_max: &HashMap<Ipv4Net, u32>,
) -> Option<u32> {
    let inside = subtree_max.get(&scope).copied();
    let around = (0..scope.prefix_len()).filter_map(|len| exact_max.get(&truncate(scope, len)).copied()).max();
    inside.max(around)
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
        Request { key: key.into(), scope: scope.map(|s| s.parse().unwrap()) }
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
