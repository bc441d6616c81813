//! The destinations that are the router itself, and what is left of an address block
//! without them. Under `input = "drop"` an RTX `secure filter in` list is both netfilter's
//! INPUT and FORWARD for the packets arriving on that interface, so a forward allow may
//! pass only destinations that are not the router's, and an input allow only destinations
//! that are (docs/rtx.md, "input = drop"). RTX filter addresses take `a-b` ranges in a
//! comma list (command reference §8.1.10), which is how the rest of a block is written.

use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

/// An inclusive range of addresses, as integers.
pub type Span = (u32, u32);

fn span(net: Ipv4Net) -> Span {
    (u32::from(net.network()), u32::from(net.broadcast()))
}

/// Sorted, merged spans of `nets`.
pub fn merged(nets: &[Ipv4Net]) -> Vec<Span> {
    let mut spans: Vec<Span> = nets.iter().map(|n| span(*n)).collect();
    spans.sort_unstable();
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for (lo, hi) in spans {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// `within` (all of IPv4 when `None`) minus the sorted, merged `excluded` spans.
pub fn minus(within: Option<Ipv4Net>, excluded: &[Span]) -> Vec<Span> {
    let (lo, hi) = within.map_or((0, u32::MAX), span);
    let mut out = Vec::new();
    let mut next = Some(lo);
    for &(a, b) in excluded {
        let Some(from) = next else { break };
        if b < from || a > hi {
            continue;
        }
        if a > from {
            out.push((from, a - 1));
        }
        next = b.checked_add(1).filter(|n| *n <= hi);
    }
    if let Some(from) = next {
        out.push((from, hi));
    }
    out
}

/// `within` (all of IPv4 when `None`) intersected with the `included` spans.
pub fn within(within: Option<Ipv4Net>, included: &[Span]) -> Vec<Span> {
    let (lo, hi) = within.map_or((0, u32::MAX), span);
    included.iter().filter(|(a, b)| *b >= lo && *a <= hi).map(|(a, b)| ((*a).max(lo), (*b).min(hi))).collect()
}

/// A filter address field: a prefix when the spans are exactly `net`, else a comma list of
/// addresses and `a-b` ranges; `*` for all of IPv4.
pub fn field(spans: &[Span], net: Option<Ipv4Net>) -> String {
    if spans.len() == 1 && spans[0] == net.map_or((0, u32::MAX), span) {
        return match net {
            None => "*".into(),
            Some(n) if n.prefix_len() == 32 => n.addr().to_string(),
            Some(n) => n.to_string(),
        };
    }
    spans
        .iter()
        .map(|&(a, b)| {
            if a == b { Ipv4Addr::from(a).to_string() } else { format!("{}-{}", Ipv4Addr::from(a), Ipv4Addr::from(b)) }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().expect("net")
    }

    #[test]
    fn the_rest_of_ipv4_without_the_router() {
        let router =
            merged(&[net("198.51.100.2/32"), net("192.168.0.1/32"), net("198.51.100.3/32"), net("224.0.0.0/4")]);
        assert_eq!(
            router,
            vec![
                (u32::from(Ipv4Addr::new(192, 168, 0, 1)), u32::from(Ipv4Addr::new(192, 168, 0, 1))),
                (u32::from(Ipv4Addr::new(198, 51, 100, 2)), u32::from(Ipv4Addr::new(198, 51, 100, 3))),
                (u32::from(Ipv4Addr::new(224, 0, 0, 0)), u32::from(Ipv4Addr::new(239, 255, 255, 255)))
            ]
        );
        let rest = minus(None, &router);
        assert_eq!(
            field(&rest, None),
            "0.0.0.0-192.168.0.0,192.168.0.2-198.51.100.1,198.51.100.4-223.255.255.255,240.0.0.0-255.255.255.255"
        );
        // A block without router addresses stays the block; one with them is cut.
        let lan = net("10.0.0.0/24");
        assert_eq!(field(&minus(Some(lan), &router), Some(lan)), "10.0.0.0/24");
        let office = net("192.168.0.0/24");
        assert_eq!(field(&minus(Some(office), &router), Some(office)), "192.168.0.0,192.168.0.2-192.168.0.255");
        // And the router's own part of a block.
        assert_eq!(field(&within(Some(office), &router), Some(office)), "192.168.0.1");
        assert!(within(Some(lan), &router).is_empty());
        assert_eq!(field(&within(None, &merged(&[net("0.0.0.0/0")])), None), "*");
    }

    #[test]
    fn edges_of_the_address_space() {
        let all = merged(&[net("0.0.0.0/0")]);
        assert!(minus(None, &all).is_empty());
        let top = merged(&[net("255.255.255.255/32")]);
        assert_eq!(minus(None, &top), vec![(0, u32::MAX - 1)]);
        let bottom = merged(&[net("0.0.0.0/32")]);
        assert_eq!(minus(None, &bottom), vec![(1, u32::MAX)]);
        // Adjacent spans merge.
        assert_eq!(merged(&[net("10.0.0.0/25"), net("10.0.0.128/25")]), merged(&[net("10.0.0.0/24")]));
    }
}
