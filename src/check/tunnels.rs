//! Remote networks and IPsec:
//! N206 overlapping remote prefixes through different exits (seed 004, problem 4),
//! N207 policy selectors written with pre-NAT prefixes, N208 a SNAT that catches a policy
//! tunnel's traffic, N209 an input filter that drops IKE/NAT-T/ESP, N214 a tunnel MTU
//! below 1500 without MSS clamping.

use super::facts::Facts;
use super::index::{PrefixIndex, overlap, overlap_opt};
use super::{Findings, head};
use crate::diag::{Code, Diagnostic, Span};
use crate::model::{At, Origin, Protocol, SnatTo, Tunnel, TunnelMode};
use crate::plan::{FilterChain, GatewayPlan, IpsecMatch, Step, Translation};
use crate::vocab::TargetKind;
use ipnet::Ipv4Net;

pub fn check(facts: &Facts, plan: &GatewayPlan, found: &mut Findings) {
    remote_overlaps(facts, found);
    selectors_before_nat(facts, plan, found);
    snat_catches_tunnel(facts, found);
    for t in &facts.gw.tunnels {
        filtered(facts, plan, t, found);
        mtu_without_clamp(t, found);
    }
}

/// A prefix the gateway sends somewhere, and where.
struct Remote<'a> {
    origin: &'a Origin,
    at: &'a At<Ipv4Net>,
    exit: String,
    exit_name: String,
    /// A policy tunnel's packets are routed out of an interface before they are
    /// encrypted: a route or netmap out of that interface is the same way (`*`: the
    /// interface is not known, so any is).
    carrier: Option<&'a str>,
}

impl Remote<'_> {
    fn same_way(&self, other: &Remote) -> bool {
        let carried =
            |a: &Remote, b: &Remote| a.carrier.is_some_and(|c| c == "*" || c == b.exit) && b.carrier.is_none();
        self.exit == other.exit || carried(self, other) || carried(other, self)
    }
}

/// N206: two remote prefixes that overlap, reached through different exits. The longest
/// prefix wins, so part of the shorter one's network is unreachable — and which tunnel
/// gets 10.0.0.1 is a question the intent should not leave open (seed 004). Default
/// routes are left out (every more specific route overlaps them on purpose), and so are
/// routes inside a connected network, which are not remote (N202 has those).
fn remote_overlaps(facts: &Facts, found: &mut Findings) {
    let mut remotes: Vec<Remote> = Vec::new();
    let remote = |net: Ipv4Net| net.prefix_len() > 0 && facts.connected.containing(net).next().is_none();
    for r in facts.gw.routes.iter().filter(|r| remote(r.to.value)) {
        let exit = facts.route_exit(r);
        remotes.push(Remote {
            origin: &r.origin,
            at: &r.to,
            exit_name: facts.describe_exit(&exit),
            exit,
            carrier: None,
        });
    }
    for n in &facts.gw.netmaps {
        // A netmap through a policy tunnel (its name as the interface) leaves the way the
        // tunnel does: the same exit as the tunnel's own remote networks below.
        let through_tunnel = facts
            .gw
            .tunnels
            .iter()
            .any(|t| matches!(t.mode, TunnelMode::Policy { .. }) && t.origin.name == n.interface.value);
        let exit = if through_tunnel { format!("tunnel `{}`", n.interface.value) } else { n.interface.value.clone() };
        let exit_name = if through_tunnel { exit.clone() } else { facts.describe_exit(&exit) };
        remotes.push(Remote { origin: &n.origin, at: &n.remote_as, exit_name, exit, carrier: None });
    }
    for t in &facts.gw.tunnels {
        if let TunnelMode::Policy { remote, .. } = &t.mode {
            for r in remote {
                let name = format!("tunnel `{}`", t.origin.name);
                let carrier = Some(facts.egress(t.remote.value).unwrap_or("*"));
                remotes.push(Remote { origin: &t.origin, at: r, exit: name.clone(), exit_name: name, carrier });
            }
        }
    }
    remotes.sort_by_key(|r| r.at.span.start);
    let mut index: PrefixIndex<usize> = PrefixIndex::default();
    for (i, r) in remotes.iter().enumerate() {
        if let Some((_, &j)) = index.overlapping(r.at.value).find(|(_, j)| !remotes[**j].same_way(r)) {
            let e = &remotes[j];
            let (wide, narrow) = if e.at.value.contains(&r.at.value) { (e, r) } else { (r, e) };
            found.push(
                r.origin,
                Diagnostic::warning(
                    Code::REMOTE_PREFIXES_OVERLAP,
                    format!(
                        "{} through {} overlaps {} through {}",
                        r.at.value, r.exit_name, e.at.value, e.exit_name
                    ),
                )
                .label(r.at.span.clone(), format!("through {}", r.exit_name))
                .label(e.at.span.clone(), format!("through {}", e.exit_name))
                .help(format!(
                    "the longest prefix wins: {} goes through {}, so those addresses of the network behind {} are unreachable; \
                     if they are two networks, translate one of them to another prefix (a netmap), else keep one route",
                    narrow.at.value, narrow.exit_name, wide.exit_name
                )),
            );
        }
        if !index.exact(r.at.value).iter().any(|&j| remotes[j].exit == r.exit) {
            index.insert(r.at.value, i);
        }
    }
}

/// The policy tunnels' selectors, by remote prefix: (tunnel, its local selectors).
fn policy_tunnels<'f>(facts: &'f Facts) -> PrefixIndex<(&'f Tunnel, &'f [At<Ipv4Net>])> {
    let mut index = PrefixIndex::default();
    for t in &facts.gw.tunnels {
        if let TunnelMode::Policy { local, remote } = &t.mode {
            for r in remote {
                index.insert(r.value, (t, local.as_slice()));
            }
        }
    }
    index
}

/// The address a translation writes, as a prefix (`None`: masquerade, or no rewrite).
fn new_address(t: &Translation) -> Option<Ipv4Net> {
    match &t.step {
        Step::SetAddress(a, _) => Some(Ipv4Net::from(*a)),
        Step::ShiftIntoPrefix(p) => Some(*p),
        Step::Masquerade | Step::NoNat => None,
    }
}

/// N207: traffic selectors are matched after NAT, so they name the translated prefixes.
/// A local selector that covers the real side of a translation on the tunnel's path (a
/// SNAT towards, or a DNAT from, its remote networks) but not the translated side never
/// matches that traffic.
fn selectors_before_nat(facts: &Facts, plan: &GatewayPlan, found: &mut Findings) {
    let tunnels = policy_tunnels(facts);
    let mut reported: Vec<(Span, Span)> = Vec::new();
    let candidates = plan
        .snat
        .iter()
        .filter(|t| t.matcher.ipsec == IpsecMatch::Any)
        .map(|t| (t, t.matcher.destination, t.matcher.source, new_address(t)))
        .chain(plan.dnat.iter().map(|t| (t, t.matcher.source, new_address(t), t.matcher.destination)));
    for (t, path, real, translated) in candidates {
        let (Some(path), Some(real), Some(translated)) = (path, real, translated) else { continue };
        for (_, (tunnel, local)) in tunnels.overlapping(path) {
            for l in local.iter().filter(|l| overlap(l.value, real) && !l.value.contains(&translated)) {
                let key = (tunnel.origin.span.clone(), l.span.clone());
                if reported.contains(&key) {
                    continue;
                }
                reported.push(key);
                found.push(
                    &tunnel.origin,
                    Diagnostic::error(
                        Code::SELECTOR_BEFORE_NAT,
                        format!(
                            "tunnel `{}` selects {} as a local network, but `{}` translates it to {} on this path",
                            tunnel.origin.name,
                            l.value,
                            t.comment(),
                            translated
                        ),
                    )
                    .label(l.span.clone(), "the real (pre-NAT) prefix")
                    .label(facts.sides(t).1, format!("becomes {translated} here"))
                    .help(format!(
                        "IPsec policies match after NAT, so this traffic carries {translated} and never matches; write local_networks with the translated prefix ({translated})"
                    )),
                );
            }
        }
    }
}

/// N208: a SNAT on a policy tunnel's path that leaves the tunnel traffic with a source
/// outside the local selectors: the policy no longer matches and the packets leave in the
/// clear. The classic fix is the IPsec exemption, `except_ipsec = true`.
fn snat_catches_tunnel(facts: &Facts, found: &mut Findings) {
    struct Policy<'t> {
        tunnel: &'t Tunnel,
        local: &'t [At<Ipv4Net>],
        remote: &'t [At<Ipv4Net>],
        egress: Option<&'t str>,
    }
    let policy: Vec<Policy> = facts
        .gw
        .tunnels
        .iter()
        .filter_map(|tunnel| match &tunnel.mode {
            TunnelMode::Policy { local, remote } => {
                Some(Policy { tunnel, local, remote, egress: facts.egress(tunnel.remote.value) })
            }
            TunnelMode::Vti(_) => None,
        })
        .collect();
    // By local selector, so that a SNAT with a source looks at the tunnels it can touch only.
    let mut by_local: PrefixIndex<usize> = PrefixIndex::default();
    for (i, p) in policy.iter().enumerate() {
        for l in p.local {
            by_local.insert(l.value, i);
        }
    }
    for s in facts.gw.snats.iter().filter(|s| !s.except_ipsec && !policy.is_empty()) {
        let out = s.out_interface.as_ref().map(|o| o.value.as_str());
        let destination = s.destination.as_ref().map(|x| x.value);
        let candidates: Vec<usize> = match &s.source {
            Some(src) => by_local.overlapping(src.value).map(|(_, &i)| i).collect(),
            None => (0..policy.len()).collect(),
        };
        let caught = candidates.into_iter().map(|i| &policy[i]).find(|p| {
            let new_inside = match &s.to.value {
                SnatTo::Address(a) => p.local.iter().any(|l| l.value.contains(a)),
                SnatTo::Prefix(x) => p.local.iter().any(|l| l.value.contains(x)),
                SnatTo::Masquerade => false,
            };
            // Out of the tunnel's exit, or out of the tunnel itself (its name as out_interface).
            (out.is_none() || p.egress.is_none() || out == p.egress || out == Some(p.tunnel.origin.name.as_str()))
                && p.remote.iter().any(|r| overlap_opt(destination, Some(r.value)))
                && !new_inside
        });
        if let Some(Policy { tunnel, .. }) = caught {
            found.push(
                &s.origin,
                Diagnostic::warning(
                    Code::SNAT_CATCHES_TUNNEL,
                    format!("SNAT `{}` also rewrites the traffic of tunnel `{}`", s.origin.name, tunnel.origin.name),
                )
                .label(s.to.span.clone(), "also rewrites the source of traffic between the tunnel's networks")
                .label(head(&tunnel.origin), "policy-based tunnel")
                .help("after this SNAT the source is outside local_networks, so no IPsec policy matches and the packets leave unencrypted; add except_ipsec = true to the SNAT (or narrow its destination)"),
            );
        }
    }
}

/// N209: with `input = "drop"`, the peer's IKE (udp/500), NAT-T (udp/4500) or ESP must be
/// allowed in, or only this side can ever start the tunnel (its own exchanges come back as
/// replies), and the peer's rekeying and restarts fail.
fn filtered(facts: &Facts, plan: &GatewayPlan, t: &Tunnel, found: &mut Findings) {
    if !plan.filters.input.verdict.closes() {
        return;
    }
    // The Linux packet-filter targets and RTX let each tunnel's IKE, NAT-T and ESP in
    // themselves (GatewayPlan::tunnel_input): nothing to warn about when they are all it is
    // built for.
    let linux_only = !plan.targets.is_empty()
        && plan
            .targets
            .iter()
            .all(|d| d.spec.kind.is_linux_filter() || matches!(d.spec.kind, TargetKind::Strongswan | TargetKind::Rtx));
    if linux_only {
        return;
    }
    let egress = facts.egress(t.remote.value);
    let needed: Vec<(Protocol, Option<u16>, &str)> = if t.nat_traversal {
        vec![(Protocol::Udp, Some(500), "IKE (udp/500)"), (Protocol::Udp, Some(4500), "NAT-T (udp/4500)")]
    } else {
        vec![(Protocol::Udp, Some(500), "IKE (udp/500)"), (Protocol::Esp, None, "ESP")]
    };
    let allowed = |protocol: Protocol, port: Option<u16>| {
        plan.filters.in_chain(FilterChain::Input).any(|f| {
            let m = &f.matcher;
            m.protocol.is_none_or(|p| p == protocol)
                && m.ports
                    .as_ref()
                    .is_none_or(|ps| port.is_some_and(|p| ps.ranges.iter().any(|r| r.first <= p && p <= r.last)))
                && m.source.is_none_or(|s| s.contains(&t.remote.value))
                && (m.in_interface.is_none() || egress.is_none() || m.in_interface.as_deref() == egress)
        })
    };
    let missing: Vec<&str> =
        needed.iter().filter(|(p, port, _)| !allowed(*p, *port)).map(|(_, _, name)| *name).collect();
    if missing.is_empty() {
        return;
    }
    let ports: Vec<String> = needed.iter().filter_map(|(_, p, _)| p.map(|p| p.to_string())).collect();
    let fix = if t.nat_traversal {
        format!("chain = \"input\", from = \"{}\", protocol = \"udp\", port = [{}]", t.remote.value, ports.join(", "))
    } else {
        format!(
            "chain = \"input\", from = \"{}\", protocol = \"udp\", port = 500 (and one with protocol = \"esp\")",
            t.remote.value
        )
    };
    found.push(
        &t.origin,
        Diagnostic::warning(
            Code::TUNNEL_FILTERED,
            format!("the input filter drops {} from the peer of tunnel `{}`", missing.join(" and "), t.origin.name),
        )
        .label(t.remote.span.clone(), format!("peer {}", t.remote.value))
        .label(plan.filters.input.origin.span.clone(), "input = \"drop\"")
        .help(format!("only this side could start the tunnel, and the peer's rekeying would fail; add a [[gateway.allow]] with {fix}")),
    );
}

/// N214: a tunnel MTU below 1500 makes TCP depend on path-MTU discovery (ICMP "fragmentation
/// needed" reaching every sender) unless the MSS is clamped: `tcp_mss` on the tunnel silences
/// it (a VTI cannot also be a `[[gateway.interface]]`, N105, so the tunnel is the one place).
fn mtu_without_clamp(t: &Tunnel, found: &mut Findings) {
    let Some(vti) = t.vti() else { return };
    let Some(mtu) = vti.mtu.as_ref() else { return };
    if mtu.value >= 1500 {
        return;
    }
    if t.tcp_mss.is_some() {
        return;
    }
    let mss = mtu.value.saturating_sub(40);
    found.push(
        &t.origin,
        Diagnostic::warning(
            Code::MTU_WITHOUT_MSS_CLAMP,
            format!("tunnel `{}` has MTU {} but nothing clamps the TCP MSS", t.origin.name, mtu.value),
        )
        .label(mtu.span.clone(), format!("TCP segments above {mss} bytes depend on path-MTU discovery"))
        .help(format!(
            "clamp it on this tunnel: tcp_mss = {mss} (its MTU minus 40) or tcp_mss = \"auto\" (the route's MTU); docs/intent.md"
        )),
    );
}
