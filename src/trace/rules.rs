//! natc's rules applied to one packet on a gateway: the DNAT chain (first match), the
//! input and forward filters (the targets' own filter lines), the SNAT chain, and the
//! matching and address arithmetic they share.

use super::conntrack::{self, Class, Conntrack, Direction};
use super::gateway::{Decision, Node, State};
use super::net::RouteEntry;
use super::packet::{Packet, Tuple, change, shift};
use super::render::Recorder;
use crate::lab::probe::ProbeProtocol;
use crate::plan::{FilterChain, FilterLine, GatewayPlan, Match, Step};
use crate::vocab::{Protocol, Verdict};

impl Node<'_> {
    /// The DNAT rules in order; the first that matches decides. Returns the rule's
    /// comment if it translated.
    pub(super) fn dnat(
        &self,
        plan: &GatewayPlan,
        p: &mut Packet,
        in_iface: &str,
        rec: &mut Recorder,
    ) -> Option<String> {
        let Some(t) = plan.dnat.iter().find(|t| matches(&t.matcher, &p.tuple, Some(in_iface), None)) else {
            if !plan.dnat.is_empty() {
                rec.step(&self.name, "prerouting: no DNAT rule matches");
            }
            return None;
        };
        let before = p.tuple;
        match t.step {
            Step::SetAddress(a, _) => p.tuple.destination = a,
            Step::ShiftIntoPrefix(net) => p.tuple.destination = shift(p.tuple.destination, net),
            Step::NoNat => {
                rec.step(&self.name, format!("prerouting: {}: no NAT (exemption)", t.comment()));
                return None;
            }
            Step::Masquerade => {
                rec.unmodelled(&self.name, &format!("masquerade in prerouting ({})", t.comment()));
                return None;
            }
        }
        if let Some(step) = t.port_step() {
            match step.apply(p.tuple.destination_port) {
                Some(port) => p.tuple.destination_port = Some(port),
                None => {
                    rec.unmodelled(&self.name, &format!("a port range without a 1:1 matched range ({})", t.comment()))
                }
            }
        }
        rec.step(&self.name, format!("DNAT {}: {}", t.comment(), change(&before, &p.tuple)));
        Some(t.comment())
    }

    /// INPUT: the input filter, then the packet is delivered (the flow is confirmed).
    pub(super) fn input(
        &self,
        ct: &mut Conntrack,
        state: State,
        p: Packet,
        in_iface: &str,
        rec: &mut Recorder,
    ) -> Decision {
        if !self.filter(ct, state, FilterChain::Input, &p.tuple, Some(in_iface), None, rec) {
            return Decision::Drop;
        }
        if let Some(entry) = state.new_entry {
            ct.entries[entry].confirmed = true;
        }
        Decision::Deliver(p)
    }

    /// A filter chain as `Filters::lines` gives it to the targets: loopback and replies
    /// first under a drop policy, then the allows, then the policy. `false` = dropped.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn filter(
        &self,
        ct: &Conntrack,
        state: State,
        chain: FilterChain,
        t: &Tuple,
        in_iface: Option<&str>,
        out_iface: Option<&str>,
        rec: &mut Recorder,
    ) -> bool {
        let Some(plan) = self.plan else { return true };
        let name = match chain {
            FilterChain::Forward => "forward",
            FilterChain::Input => "input",
        };
        // Under input = "drop" the Linux targets let each tunnel's IKE, NAT-T and ESP in
        // from its remote, after the implied lines and before the allows.
        let tunnels = if chain == FilterChain::Input { plan.tunnel_input() } else { Vec::new() };
        let tunnel_line = |rec: &mut Recorder| match tunnels.iter().find(|l| matches(&l.matcher, t, in_iface, None)) {
            Some(l) => {
                rec.step(&self.name, format!("{name}: accept ({})", l.comment()));
                true
            }
            None => false,
        };
        let mut tunnels_seen = false;
        for line in plan.filters.lines(chain) {
            if !tunnels_seen && matches!(line, FilterLine::Allow(_)) {
                tunnels_seen = true;
                if tunnel_line(rec) {
                    return true;
                }
            }
            let hit = match &line {
                FilterLine::Loopback(_) => in_iface == Some("lo"),
                FilterLine::Replies(_) => ct.established(state.class),
                FilterLine::Allow(f) => matches(&f.matcher, t, in_iface, out_iface),
            };
            if hit {
                rec.step(&self.name, format!("{name}: accept ({})", line.comment()));
                return true;
            }
        }
        if !tunnels_seen && tunnel_line(rec) {
            return true;
        }
        let policy = plan.filters.chain_policy(chain);
        match policy.verdict {
            Verdict::Accept => {
                rec.step(&self.name, format!("{name}: accept ({})", policy.origin.describe()));
                true
            }
            Verdict::Drop => {
                rec.step(&self.name, format!("{name}: drop ({})", policy.origin.describe()));
                false
            }
            // The packet goes no further, as under drop; the answer the gateway sends back
            // (a TCP reset or ICMP port unreachable) is not walked, so trace says so.
            Verdict::Reject => {
                rec.step(&self.name, format!("{name}: reject ({})", policy.origin.describe()));
                rec.unmodelled(&self.name, "the answer of a reject policy (a TCP reset or ICMP port unreachable)");
                false
            }
        }
    }

    /// POSTROUTING: conntrack first; a new flow meets the SNAT rules, first match wins,
    /// and is confirmed as it leaves.
    pub(super) fn postrouting(
        &self,
        ct: &mut Conntrack,
        state: State,
        p: &mut Packet,
        route: &RouteEntry,
        rec: &mut Recorder,
    ) -> Decision {
        let next_hop = route.next_hop(p.tuple.destination);
        let send = |p: &Packet| Decision::Send { packet: *p, dev: route.dev.clone(), next_hop };
        let Some(plan) = self.plan else { return send(p) };
        match state.class {
            Class::Tracked { entry, direction } => {
                let before = p.tuple;
                conntrack::source_of(&ct.entries[entry], direction, &mut p.tuple);
                let e = &ct.entries[entry];
                match (direction, &e.dnat, &e.snat) {
                    (Direction::Reply, Some(rule), _) => {
                        rec.step(
                            &self.name,
                            format!("conntrack: reply, de-DNAT {rule}: {}", change(&before, &p.tuple)),
                        );
                    }
                    (Direction::Original, _, Some(rule)) => {
                        rec.step(
                            &self.name,
                            format!("conntrack: known flow, SNAT {rule}: {}", change(&before, &p.tuple)),
                        );
                    }
                    _ => {}
                }
            }
            Class::Related { entry, direction } => {
                let before = p.tuple;
                conntrack::related_source(&ct.entries[entry], direction, p);
                if before != p.tuple {
                    rec.step(&self.name, format!("conntrack: related, source {}", change(&before, &p.tuple)));
                }
            }
            Class::New => {
                match plan.snat.iter().find(|t| matches(&t.matcher, &p.tuple, None, Some(&route.dev))) {
                    None if !plan.snat.is_empty() => rec.step(&self.name, "postrouting: no SNAT rule matches"),
                    None => {}
                    Some(t) => {
                        let before = p.tuple;
                        let how = match t.step {
                            Step::SetAddress(a, _) => {
                                p.tuple.source = a;
                                ""
                            }
                            Step::ShiftIntoPrefix(net) => {
                                p.tuple.source = shift(p.tuple.source, net);
                                " (1:1 map)"
                            }
                            Step::Masquerade => match self.net.source_towards(&route.dev, next_hop) {
                                Some(a) => {
                                    p.tuple.source = a;
                                    " (masquerade)"
                                }
                                None => {
                                    rec.step(&self.name, format!("masquerade: {} has no address: dropped", route.dev));
                                    return Decision::Drop;
                                }
                            },
                            Step::NoNat => {
                                rec.step(&self.name, format!("postrouting: {}: no NAT (exemption)", t.comment()));
                                ""
                            }
                        };
                        if before != p.tuple {
                            rec.step(&self.name, format!("SNAT {}: {}{how}", t.comment(), change(&before, &p.tuple)));
                            if let Some(entry) = state.new_entry {
                                ct.entries[entry].snat = Some(t.comment());
                            }
                        }
                    }
                }
                if let Some(entry) = state.new_entry {
                    ct.entries[entry].translated = p.tuple;
                    ct.entries[entry].confirmed = true;
                }
            }
            Class::Invalid => {}
        }
        send(p)
    }
}

/// Does a rule's match take this packet? `ipsec = NotIpsec` (`except_ipsec`) always
/// holds: in the lab no packet meets a kernel IPsec policy, libipsec being userspace (so a
/// policy-based tunnel's name, which lower turns into no interface match, matches by the
/// addresses alone, as the Linux targets render it).
pub fn matches(m: &Match, t: &Tuple, in_iface: Option<&str>, out_iface: Option<&str>) -> bool {
    let protocol = |p: Protocol| match p {
        Protocol::Any => true,
        Protocol::Tcp => t.protocol == ProbeProtocol::Tcp,
        Protocol::Udp => t.protocol == ProbeProtocol::Udp,
        Protocol::Icmp => t.protocol == ProbeProtocol::Icmp,
        // A probe is icmp, tcp or udp (`Protocol::Number` is never 1, 6 or 17).
        Protocol::Esp | Protocol::Gre | Protocol::Ah | Protocol::Number(_) => false,
    };
    m.in_interface.as_deref().is_none_or(|i| in_iface == Some(i))
        && m.out_interface.as_deref().is_none_or(|o| out_iface == Some(o))
        && m.source.is_none_or(|s| s.contains(&t.source))
        && m.destination.is_none_or(|d| d.contains(&t.destination))
        && m.protocol.is_none_or(protocol)
        && m.ports.as_ref().is_none_or(|set| {
            t.destination_port.is_some_and(|port| set.ranges.iter().any(|r| (r.first..=r.last).contains(&port)))
        })
}
