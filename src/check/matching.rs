//! Comparing two rule matches: can one packet match both, and does one match every packet
//! the other does.

use super::index::overlap_opt;
use crate::model::PortSet;
use crate::plan::{IpsecMatch, Match};
use ipnet::Ipv4Net;

fn same_or_any<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

fn ports_overlap(a: &Option<PortSet>, b: &Option<PortSet>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.ranges.iter().any(|x| b.ranges.iter().any(|y| x.first <= y.last && y.first <= x.last)),
        _ => true,
    }
}

/// Can a packet match both, ignoring the addresses a translation rewrites (`skip_source`,
/// `skip_destination`)?
pub fn could_both_match(a: &Match, b: &Match, skip_source: bool, skip_destination: bool) -> bool {
    same_or_any(&a.in_interface, &b.in_interface)
        && same_or_any(&a.out_interface, &b.out_interface)
        && (skip_source || overlap_opt(a.source, b.source))
        && (skip_destination || overlap_opt(a.destination, b.destination))
        && same_or_any(&a.protocol, &b.protocol)
        && ports_overlap(&a.ports, &b.ports)
}

fn wider<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
    a.is_none() || a == b
}

fn wider_prefix(a: Option<Ipv4Net>, b: Option<Ipv4Net>) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(a), Some(b)) => a.contains(&b),
        (Some(_), None) => false,
    }
}

/// Does `a` match every packet that `b` matches? (Ports: `a` has none or the same set.)
pub fn covers(a: &Match, b: &Match) -> bool {
    wider(&a.in_interface, &b.in_interface)
        && wider(&a.out_interface, &b.out_interface)
        && wider_prefix(a.source, b.source)
        && wider_prefix(a.destination, b.destination)
        && wider(&a.protocol, &b.protocol)
        && wider(&a.ports, &b.ports)
        && (a.ipsec == IpsecMatch::Any || a.ipsec == b.ipsec)
}

/// The prefix lengths that `pick` finds among the matches: the only lengths at which an
/// earlier, covering prefix can exist (N211, N231 look those up instead of comparing pairs).
pub(super) fn lengths<'a>(
    matchers: impl Iterator<Item = &'a Match>,
    pick: impl Fn(&Match) -> Option<Ipv4Net>,
) -> Vec<u8> {
    let mut present = [false; 33];
    for m in matchers {
        if let Some(n) = pick(m) {
            present[usize::from(n.prefix_len())] = true;
        }
    }
    (0..=32u8).filter(|&l| present[usize::from(l)]).collect()
}

/// The candidates for an earlier, covering value: absent, or one of the supernets present.
pub(super) fn wider_prefixes(net: Option<Ipv4Net>, lengths: &[u8]) -> Vec<Option<Ipv4Net>> {
    let mut out = vec![None];
    if let Some(n) = net {
        out.extend(
            lengths
                .iter()
                .filter(|&&l| l <= n.prefix_len())
                .filter_map(|&l| Ipv4Net::new(n.network(), l).ok())
                .map(|s| Some(s.trunc())),
        );
    }
    out
}

/// The candidates for an earlier, covering exact key: absent (matches anything), or the same.
/// An iterator, not a Vec: it runs in the innermost loops, several times per rule.
pub(super) fn absent_or_same<T: Copy>(v: Option<T>) -> impl Iterator<Item = Option<T>> {
    std::iter::once(None).chain(v.map(Some))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PortRange, Protocol};

    fn m(dst: &str, proto: Option<Protocol>, port: Option<u16>) -> Match {
        Match {
            destination: Some(dst.parse().unwrap()),
            protocol: proto,
            ports: port.map(|p| PortSet { ranges: vec![PortRange::single(p)] }),
            ..Match::default()
        }
    }

    #[test]
    fn coverage_and_overlap() {
        let all = m("10.0.0.0/24", None, None);
        let web = m("10.0.0.5/32", Some(Protocol::Tcp), Some(80));
        let ssh = m("10.0.0.5/32", Some(Protocol::Tcp), Some(22));
        assert!(covers(&all, &web));
        assert!(!covers(&web, &all));
        assert!(!covers(&web, &ssh));
        assert!(could_both_match(&all, &web, false, false));
        assert!(!could_both_match(&web, &ssh, false, false));
        let other_if = Match { in_interface: Some("eth1".into()), ..web.clone() };
        let eth0 = Match { in_interface: Some("eth0".into()), ..web.clone() };
        assert!(!could_both_match(&other_if, &eth0, false, false));
        assert!(covers(&web, &eth0), "no interface covers every interface");
    }
}
