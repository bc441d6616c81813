//! N202: address space claimed twice. A virtual prefix (netmap `local_as`, a 1:1 SNAT
//! `to`, a DNAT destination), a remote prefix (netmap `remote_as`, a policy tunnel's
//! `remote_networks`) or a route must not lie in a network the gateway is connected to:
//! the hosts there deliver those addresses on their own segment, the local route always
//! wins (seed 002). Nor may one of our virtual prefixes be a remote prefix at the same time.
//!
//! Not a clash: a DNAT destination the gateway owns, claims on `lo`, or answers ARP for
//! on the segment of its `in_interface` (proxy-arp); a routed destination on its own
//! `in_interface`'s segment is N203's question, not this one. Nor a virtual prefix (a 1:1
//! SNAT `to`, a netmap `local_as`, a DNAT destination) made of spare addresses of a
//! connected subnet that the gateway answers for on that segment, every one of them:
//! owned (`[[gateway.address]]`) or claimed by a proxy-arp DNAT there (issue 17: an
//! internal /28 mapped 1:1 onto spare addresses of the ISP subnet). Hosts there ARP for
//! them, the gateway answers, and its local route is the right one.

use super::facts::{Connected, Facts};
use super::index::PrefixIndex;
use super::{Findings, show};
use crate::diag::{Code, Diagnostic, Span};
use crate::model::{At, Claim, Nexthop, Origin, SnatTo, TunnelMode};
use ipnet::Ipv4Net;

const LOCAL_ROUTE_WINS: &str = "hosts on a connected network deliver its addresses on their own segment (the local route always wins), so these packets never reach the gateway's translation";

pub fn check(facts: &Facts, found: &mut Findings) {
    virtual_and_remote_prefixes(facts, found);
    dnat_destinations(facts, found);
    routes(facts, found);
    virtual_is_remote(facts, found);
}

fn first_connected<'f>(facts: &'f Facts, net: Ipv4Net) -> Option<&'f Connected<'f>> {
    facts.connected.overlapping(net).map(|(_, c)| c).next()
}

/// For a virtual prefix (ours): the first connected network whose segment would deliver
/// addresses of `net` that the gateway does not answer for there.
fn first_unanswered<'f>(facts: &'f Facts, net: Ipv4Net) -> Option<&'f Connected<'f>> {
    facts.connected.overlapping(net).map(|(_, c)| c).find(|c| !answered(facts, net, c))
}

/// Does the gateway answer on `c`'s segment for every address of `net` that lies in it?
fn answered(facts: &Facts, net: Ipv4Net, c: &Connected) -> bool {
    c.subnet().contains(&net) && facts.answers_for(net, c.interface)
}

/// `remote_as of netmap/vpc-a`, `this route`.
fn role(origin: &Origin, what: &str) -> String {
    if origin.kind == crate::model::Kind::Route {
        "this route".into()
    } else {
        format!("{what} of {}/{}", origin.kind.as_str(), origin.name)
    }
}

fn clash(origin: &Origin, what: &str, at: &At<Ipv4Net>, c: &Connected, help: String) -> Diagnostic {
    let (net, subnet) = (at.value, c.subnet());
    let relation = if net == subnet {
        String::from("is")
    } else if subnet.contains(&net) {
        format!("lies in {subnet},")
    } else {
        format!("overlaps {subnet},")
    };
    Diagnostic::error(
        Code::ADDRESS_SPACE_CLASH,
        format!("{what} {} {relation} the network of interface `{}`", show(net), c.interface),
    )
    .label(at.span.clone(), role(origin, what))
    .label(c.address.span.clone(), format!("`{}` is connected to {}", c.interface, c.subnet()))
    .help(help)
}

/// Netmap prefixes, 1:1 SNAT prefixes and policy selectors for the far side.
fn virtual_and_remote_prefixes(facts: &Facts, found: &mut Findings) {
    for n in &facts.gw.netmaps {
        for (what, at) in [("local_as", &n.local_as), ("remote_as", &n.remote_as)] {
            let c =
                if what == "local_as" { first_unanswered(facts, at.value) } else { first_connected(facts, at.value) };
            if let Some(c) = c {
                let help = format!(
                    "{LOCAL_ROUTE_WINS}; pick a {what} outside every connected network (seed 002 used 192.168.10.0/24 and 192.168.20.0/24 for two VPCs on 192.168.1.0/24)"
                );
                found.push(&n.origin, clash(&n.origin, what, at, c, help));
            }
        }
    }
    for s in &facts.gw.snats {
        if let SnatTo::Prefix(p) = &s.to.value
            && let Some(c) = first_unanswered(facts, *p)
        {
            let at = At::new(*p, s.to.span.clone());
            let help = format!(
                "replies to {p} are delivered on `{}`'s segment, where no host answers for them; map to a prefix outside every connected network and route it to this gateway, or make the gateway answer for each of them there ([[gateway.address]], or a DNAT of them with claim = \"proxy-arp\")",
                c.interface
            );
            found.push(&s.origin, clash(&s.origin, "the new source", &at, c, help));
        }
    }
    for t in &facts.gw.tunnels {
        if let TunnelMode::Policy { remote, .. } = &t.mode {
            for r in remote {
                if let Some(c) = first_connected(facts, r.value) {
                    let help = format!(
                        "the tunnel would capture traffic for `{}`'s own segment; write the far side's (post-NAT) prefix, which must differ from every connected network",
                        c.interface
                    );
                    found.push(&t.origin, clash(&t.origin, "remote network", r, c, help));
                }
            }
        }
    }
}

fn dnat_destinations(facts: &Facts, found: &mut Findings) {
    for d in &facts.gw.dnats {
        let dest = d.destination.value;
        if d.claim.value == Claim::Loopback || facts.owns(dest) || dest == d.to.value {
            continue;
        }
        let in_if = d.in_interface.as_ref().map(|i| i.value.as_str());
        let Some(c) = facts.connected.overlapping(dest).map(|(_, c)| c).find(|c| {
            !answered(facts, dest, c)
                && match d.claim.value {
                    Claim::ProxyArp => Some(c.interface) != in_if,
                    _ => in_if.is_some_and(|i| i != c.interface),
                }
        }) else {
            continue;
        };
        let help = match d.claim.value {
            Claim::ProxyArp => format!(
                "proxy ARP answers on `{}`, but {} belongs to `{}`'s segment, where a real host may own it; use an address of `{}`'s own subnet, or claim = \"loopback\"",
                in_if.unwrap_or("?"),
                show(dest),
                c.interface,
                in_if.unwrap_or("?")
            ),
            _ => format!(
                "hosts on `{}` reach {} directly and never through this DNAT, and a real host there may own it; use an address outside `{}`'s subnet {}",
                c.interface,
                show(dest),
                c.interface,
                c.subnet()
            ),
        };
        found.push(&d.origin, clash(&d.origin, "the destination", &d.destination, c, help));
    }
}

/// A route inside a connected network: the segment's hosts treat those addresses as
/// on-link and never use it. A route that contains a connected network is normal (the
/// connected route is more specific), and one out of the same interface only repeats it.
fn routes(facts: &Facts, found: &mut Findings) {
    for r in &facts.gw.routes {
        let exit = match &r.nexthop {
            Nexthop::Interface(i) => Some(i.value.as_str()),
            Nexthop::Via(v) => facts.subnet_of(v.value).map(|c| c.interface),
        };
        let inside = facts.connected.containing(r.to.value).map(|(_, c)| c).find(|c| Some(c.interface) != exit);
        if let Some(c) = inside {
            let help = format!(
                "{LOCAL_ROUTE_WINS}; if {} is elsewhere, renumber one of the two (or translate it with a netmap)",
                r.to.value
            );
            found.push(&r.origin, clash(&r.origin, "route", &r.to, c, help));
        }
    }
}

/// One of our virtual prefixes that is also the far side's: every packet for it is both
/// "ours, translate it back" and "theirs, send it away".
fn virtual_is_remote(facts: &Facts, found: &mut Findings) {
    let mut remote: PrefixIndex<(&Origin, &At<Ipv4Net>)> = PrefixIndex::default();
    for n in &facts.gw.netmaps {
        remote.insert(n.remote_as.value, (&n.origin, &n.remote_as));
    }
    for t in &facts.gw.tunnels {
        if let TunnelMode::Policy { remote: nets, .. } = &t.mode {
            for r in nets {
                remote.insert(r.value, (&t.origin, r));
            }
        }
    }
    let mut ours: Vec<(&Origin, &str, At<Ipv4Net>)> = Vec::new();
    for n in &facts.gw.netmaps {
        ours.push((&n.origin, "local_as", n.local_as.clone()));
    }
    for d in &facts.gw.dnats {
        ours.push((&d.origin, "destination", d.destination.clone()));
    }
    for s in &facts.gw.snats {
        if let SnatTo::Prefix(p) = &s.to.value {
            ours.push((&s.origin, "to", At::new(*p, s.to.span.clone())));
        }
    }
    for (origin, what, at) in ours {
        if let Some((_, (far, far_at))) = remote.overlapping(at.value).next() {
            found.push(origin, both_ours_and_theirs(origin, what, &at, far, far_at));
        }
    }
}

fn both_ours_and_theirs(
    origin: &Origin,
    what: &str,
    at: &At<Ipv4Net>,
    far: &Origin,
    far_at: &At<Ipv4Net>,
) -> Diagnostic {
    let far_span: Span = far_at.span.clone();
    let far_role = if far.kind == crate::model::Kind::Netmap { "remote_as" } else { "remote network" };
    Diagnostic::error(
        Code::ADDRESS_SPACE_CLASH,
        format!(
            "{} is both a virtual {what} of this gateway and the far side's {} ({far_role} of {}/{})",
            at.value,
            far_at.value,
            far.kind.as_str(),
            far.name
        ),
    )
    .label(at.span.clone(), role(origin, what))
    .label(far_span, role(far, far_role))
    .help("a virtual prefix stands for hosts behind this gateway and must differ from every remote (far-side) prefix; give one of them another range")
}
