//! Both ends of a tunnel, checked against each other (docs/checks.md, N217–N228).
//!
//! A tunnel whose far end is another gateway of the intent forms a pair with that end's
//! tunnel: named by `peer = "<gateway>/<tunnel>"` (one end is enough; both must agree), or
//! recognised from the addresses: A's `remote` is an address B owns (an interface address,
//! a `[[gateway.address]]` or B's tunnel `local_address`), B's `remote` one of A's, and
//! each `local_address` that is written is the other's `remote`. Address recognition pairs
//! only when that makes exactly one tunnel on each side the other's: across a NAT box, B's
//! `remote` is the box's address and no address of A, so the ends are not paired (say
//! `peer` there). The pair's comparisons are in `compare` (proposals, lifetimes, PSK,
//! selectors) and `ends` (identities and NAT traversal, which need the ends' addresses).
//!
//! Linear in the number of tunnels: tunnels are indexed by gateway and name (for `peer`)
//! and by (far gateway, owner of their `remote`) and (far gateway, `remote`) for the
//! addresses, so recognising a tunnel's partner costs a few hash look-ups.

mod compare;
mod ends;

use super::Findings;
use super::facts::Facts;
use crate::diag::{Code, Diagnostic, did_you_mean};
use crate::model::{Gateway, Model, Tunnel};
use rustc_hash::FxHashMap;
use std::net::Ipv4Addr;

/// A tunnel by position: (gateway index, tunnel index); its order is the intent's.
type Ref = (usize, usize);

/// One end of a pair.
pub struct End<'a> {
    pub gw: &'a Gateway,
    pub facts: &'a Facts<'a>,
    pub t: &'a Tunnel,
}

impl End<'_> {
    /// `gateway/tunnel`, as `peer` names it.
    pub fn name(&self) -> String {
        format!("{}/{}", self.gw.name, self.t.origin.name)
    }
}

pub fn check<'a>(model: &'a Model, facts: &'a [Facts<'a>], found: &mut Findings) {
    for (a, b) in pairs(model, found) {
        let end = |(g, i): Ref| End { gw: &model.gateways[g], facts: &facts[g], t: &model.gateways[g].tunnels[i] };
        let (a, b) = (end(a), end(b));
        compare::check(&a, &b, found);
        ends::check(&a, &b, found);
    }
}

fn tunnel(model: &Model, (g, i): Ref) -> &Tunnel {
    &model.gateways[g].tunnels[i]
}

fn name(model: &Model, r: Ref) -> String {
    format!("{}/{}", model.gateways[r.0].name, tunnel(model, r).origin.name)
}

/// Every pair (first end first), in the intent's order: those `peer` names, then those the
/// addresses show among the tunnels left.
fn pairs(model: &Model, found: &mut Findings) -> Vec<(Ref, Ref)> {
    let mut partner: FxHashMap<Ref, Ref> = FxHashMap::default();
    by_peer(model, &mut partner, found);
    by_addresses(model, &mut partner);
    let mut pairs: Vec<(Ref, Ref)> = partner.into_iter().filter(|(a, b)| a < b).collect();
    pairs.sort_unstable();
    pairs
}

/// Pairs named by `peer`; N217 for a name that is not there, N218 for a peer that is this
/// tunnel, on this gateway, or a tunnel that names (or already is) another's far end.
fn by_peer(model: &Model, partner: &mut FxHashMap<Ref, Ref>, found: &mut Findings) {
    let gateways: FxHashMap<&str, usize> =
        model.gateways.iter().enumerate().map(|(g, gw)| (gw.name.as_str(), g)).collect();
    let tunnels: FxHashMap<(usize, &str), usize> = model
        .gateways
        .iter()
        .enumerate()
        .flat_map(|(g, gw)| gw.tunnels.iter().enumerate().map(move |(i, t)| ((g, t.origin.name.as_str()), i)))
        .collect();
    let mut suggested = 0;
    for (g, gw) in model.gateways.iter().enumerate() {
        for (i, t) in gw.tunnels.iter().enumerate() {
            let Some(peer) = &t.peer else { continue };
            let me = (g, i);
            let (wanted_gw, wanted_tunnel) = (peer.value.gateway.as_str(), peer.value.tunnel.as_str());
            let Some(&h) = gateways.get(wanted_gw) else {
                // Its own gateway is never the far end (N218), so it is no suggestion.
                let names = model.gateways.iter().map(|x| x.name.as_str()).filter(|n| *n != gw.name);
                let help = match suggest(&mut suggested, wanted_gw, names.clone()) {
                    Some(s) => format!("did you mean peer = \"{s}/{wanted_tunnel}\"?"),
                    None => format!(
                        "peer names a gateway of this intent and one of its tunnels; the gateways are: {}",
                        some(names)
                    ),
                };
                found.push(
                    &t.origin,
                    Diagnostic::error(
                        Code::TUNNEL_PEER_UNKNOWN,
                        format!(
                            "tunnel `{}` names its peer on gateway `{wanted_gw}`, which the intent does not have",
                            name(model, me)
                        ),
                    )
                    .label(peer.span.clone(), format!("no gateway `{wanted_gw}`"))
                    .help(help),
                );
                continue;
            };
            let Some(&j) = tunnels.get(&(h, wanted_tunnel)) else {
                let names = model.gateways[h].tunnels.iter().map(|x| x.origin.name.as_str());
                let help = match suggest(&mut suggested, wanted_tunnel, names.clone()) {
                    Some(s) => format!("did you mean peer = \"{wanted_gw}/{s}\"?"),
                    None if model.gateways[h].tunnels.is_empty() => {
                        format!(
                            "gateway `{wanted_gw}` has no tunnel: give it the far end's [[gateway.tunnel]], or remove peer"
                        )
                    }
                    None => {
                        format!("the tunnels of gateway `{wanted_gw}` are: {}", some(names))
                    }
                };
                found.push(
                    &t.origin,
                    Diagnostic::error(
                        Code::TUNNEL_PEER_UNKNOWN,
                        format!("tunnel `{}` names `{wanted_gw}/{wanted_tunnel}` as its peer, but gateway `{wanted_gw}` has no tunnel `{wanted_tunnel}`", name(model, me)),
                    )
                    .label(peer.span.clone(), format!("no tunnel `{wanted_tunnel}` on `{wanted_gw}`"))
                    .help(help),
                );
                continue;
            };
            let far = (h, j);
            let refuse = |found: &mut Findings,
                          message: String,
                          label: &str,
                          more: Option<(crate::diag::Span, String)>,
                          help: &str| {
                let mut d = Diagnostic::error(Code::TUNNEL_PEER_NOT_MUTUAL, message).label(peer.span.clone(), label);
                if let Some((span, text)) = more {
                    d = d.label(span, text);
                }
                found.push(&t.origin, d.help(help));
            };
            if h == g {
                let what = if far == me { "itself" } else { "a tunnel of its own gateway" };
                refuse(
                    found,
                    format!("tunnel `{}` names {what} as its peer", name(model, me)),
                    "the far end must be another gateway",
                    None,
                    "peer names the tunnel at the other end, on the far gateway: peer = \"<far gateway>/<its tunnel>\" (or remove peer)",
                );
                continue;
            }
            let far_tunnel = tunnel(model, far);
            // A far end whose own peer names no tunnel has its N217; this end is not to blame.
            let resolves = |p: &crate::plan::TunnelPeer| {
                gateways.get(p.gateway.as_str()).is_some_and(|&x| tunnels.contains_key(&(x, p.tunnel.as_str())))
            };
            if let Some(back) = &far_tunnel.peer
                && (back.value.gateway.as_str(), back.value.tunnel.as_str())
                    != (gw.name.as_str(), t.origin.name.as_str())
            {
                if !resolves(&back.value) {
                    continue;
                }
                refuse(
                    found,
                    format!(
                        "tunnel `{}` names `{}` as its peer, but `{}` names `{}/{}`",
                        name(model, me),
                        name(model, far),
                        name(model, far),
                        back.value.gateway,
                        back.value.tunnel
                    ),
                    "this end's peer",
                    Some((back.span.clone(), "the far end's peer is another tunnel".to_string())),
                    "the two ends must name each other: fix the peer of one of them",
                );
                continue;
            }
            match (partner.get(&far), partner.get(&me)) {
                (Some(&other), _) if other != me => refuse(
                    found,
                    format!(
                        "tunnel `{}` names `{}` as its peer, which is already the far end of `{}`",
                        name(model, me),
                        name(model, far),
                        name(model, other)
                    ),
                    "this end's peer",
                    tunnel(model, other)
                        .peer
                        .as_ref()
                        .map(|p| (p.span.clone(), format!("`{}` names it too", name(model, other)))),
                    "a tunnel has one far end: each of the two tunnels needs its own tunnel on the far gateway",
                ),
                (Some(_), _) | (None, Some(_)) => {}
                (None, None) => {
                    partner.insert(me, far);
                    partner.insert(far, me);
                }
            }
        }
    }
}

/// "Did you mean": a scan of every name, so only for the first [`SUGGESTIONS`] wrong
/// peers (an intent with thousands of them stays linear; the rest get the list).
const SUGGESTIONS: usize = 64;

fn suggest<'a>(count: &mut usize, word: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    *count += 1;
    if *count > SUGGESTIONS {
        return None;
    }
    did_you_mean(word, names)
}

/// The first few names, for a help line.
fn some<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut shown: Vec<&str> = names.take(9).collect();
    if shown.len() == 9 {
        shown[8] = "…";
    }
    shown.join(", ")
}

/// Pairs the addresses show, among the tunnels that neither have nor are a `peer`: both
/// ends must find each other and only each other.
fn by_addresses(model: &Model, partner: &mut FxHashMap<Ref, Ref>) {
    let mut owners: FxHashMap<Ipv4Addr, Vec<usize>> = FxHashMap::default();
    for (g, gw) in model.gateways.iter().enumerate() {
        let interfaces = gw.interfaces.iter().flat_map(|i| &i.addresses).map(|a| a.value.addr());
        let owned = gw.addresses.iter().map(|a| a.address.value.addr());
        let local = gw.tunnels.iter().filter_map(|t| t.local_address.as_ref()).map(|a| a.value);
        for address in interfaces.chain(owned).chain(local) {
            let list = owners.entry(address).or_default();
            if list.last() != Some(&g) {
                list.push(g);
            }
        }
    }
    let no = Vec::new();
    let owners_of = |a: Ipv4Addr| owners.get(&a).unwrap_or(&no);
    let free: Vec<Ref> = model
        .gateways
        .iter()
        .enumerate()
        .flat_map(|(g, gw)| (0..gw.tunnels.len()).map(move |i| (g, i)))
        .filter(|r| tunnel(model, *r).peer.is_none() && !partner.contains_key(r))
        .collect();
    // (gateway, owner of the tunnel's remote, its local_address) and (gateway, remote, local_address).
    let mut by_owner: FxHashMap<(usize, usize, Option<Ipv4Addr>), Vec<Ref>> = FxHashMap::default();
    let mut by_remote: FxHashMap<(usize, Ipv4Addr, Option<Ipv4Addr>), Vec<Ref>> = FxHashMap::default();
    for &r in &free {
        let t = tunnel(model, r);
        let local = t.local_address.as_ref().map(|a| a.value);
        by_remote.entry((r.0, t.remote.value, local)).or_default().push(r);
        for &g in owners_of(t.remote.value).iter().filter(|&&g| g != r.0) {
            by_owner.entry((r.0, g, local)).or_default().push(r);
        }
    }
    // The one tunnel whose addresses fit this one's (None: none, or more than one).
    let candidate = |r: Ref| -> Option<Ref> {
        let t = tunnel(model, r);
        let remote = t.remote.value;
        let mut found: Option<Ref> = None;
        for &h in owners_of(remote).iter().filter(|&&h| h != r.0) {
            // The far end's remote is this end's local_address (else any address of this
            // gateway), and its local_address, when written, is this end's remote.
            let lists = match &t.local_address {
                Some(l) => [by_remote.get(&(h, l.value, None)), by_remote.get(&(h, l.value, Some(remote)))],
                None => [by_owner.get(&(h, r.0, None)), by_owner.get(&(h, r.0, Some(remote)))],
            };
            for &c in lists.into_iter().flatten().flatten() {
                if found.is_some_and(|f| f != c) {
                    return None;
                }
                found = Some(c);
            }
        }
        found
    };
    let chosen: FxHashMap<Ref, Ref> = free.iter().filter_map(|&r| candidate(r).map(|c| (r, c))).collect();
    for (&a, &b) in &chosen {
        if chosen.get(&b) == Some(&a) {
            partner.insert(a, b);
        }
    }
}
