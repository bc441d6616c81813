//! ICMP redirects on a gateway (issue 17, the hairpin path). Linux marks a forwarded packet
//! for a redirect when it leaves by the interface it came in on, its source is on that
//! link and so is the next hop (`send_redirects = 1`, `__mkroute_input`), and `ip_forward`
//! sends the redirect before the forward filter. The redirect is an ICMP error about the
//! packet, so conntrack makes it RELATED to the packet's flow, and netfilter's NAT hook on
//! output drops it when that flow's NAT is not set up yet (the flow's first packet: the
//! source NAT is decided only in postrouting) or when the flow is translated at all
//! (`nf_nat_icmp_reply_translation`: "Redirects on non-null nats must be dropped, else
//! they'll start talking to each other without our translation").
//!
//! A hairpin is exactly that: the laptop's packet for the public address is DNATed to its
//! neighbour and sent back out of the LAN interface, and so is the server's reply after
//! de-SNAT. Measured in verify's lab (nftables and iptables-nft, this kernel): the
//! gateway's `IcmpOutRedirects` counts two, both are `ct state related` before the NAT
//! hook, none reaches the output filter, and neither host receives one. So trace models
//! the drop. The NAT hooks are there on every gateway natc configures: the nftables
//! target always writes its prerouting and postrouting NAT chains, the iptables target
//! its nat table, and firewalld has its own.
//!
//! Left "not modelled": the redirect about a later packet of an untranslated flow. The
//! same measurement saw those dropped as well (a UDP flow, five packets 300 ms apart:
//! four redirects counted, all RELATED, none past the NAT hook), but the source above
//! does not say why, so trace does not rely on it; and an untracked packet's redirect
//! does leave, and what the sender does with it is beyond a one-flow walk.

use super::conntrack::{Class, Conntrack};
use super::gateway::{Node, State};
use super::net::RouteEntry;
use super::packet::{Kind, Packet};
use super::render::Recorder;
use crate::plan::GatewayPlan;

/// Called where Linux would send a redirect about `p` (the conditions above hold).
pub(super) fn at_forward(
    node: &Node,
    ct: &Conntrack,
    state: State,
    p: &Packet,
    in_iface: &str,
    route: &RouteEntry,
    rec: &mut Recorder,
) {
    let source = p.tuple.source;
    let next_hop = route.next_hop(p.tuple.destination);
    let what = format!(
        "an ICMP redirect: it sends {source}'s packet back out of {in_iface}, so Linux tells {source} to use {next_hop} directly",
    );
    if matches!(p.kind, Kind::Error { .. }) {
        // Linux never answers an ICMP error with another (`__icmp_send`).
        return;
    }
    match dropped_by_nat(node.plan, ct, state) {
        Some(why) => {
            rec.step(&node.name, format!("ICMP redirect to {source} (use {next_hop}) dropped by the NAT hook: {why}"))
        }
        None => rec.unmodelled(&node.name, &what),
    }
}

/// Why netfilter's NAT drops the redirect, if it does: on a gateway natc configures. (A
/// lab host has no netfilter; the negative control's gateways have natc's config removed,
/// `ip_forward = 0` included, so they never forward a packet to get here.)
fn dropped_by_nat(plan: Option<&GatewayPlan>, ct: &Conntrack, state: State) -> Option<&'static str> {
    plan?;
    match state.class {
        Class::New => Some("its flow's NAT is not set up yet (the first packet)"),
        Class::Tracked { entry, .. } => {
            let e = &ct.entries[entry];
            (e.dnat.is_some() || e.snat.is_some()).then_some("its flow is translated")
        }
        Class::Related { .. } | Class::Invalid => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::gateway::Decision;
    use super::super::net::Net;
    use super::super::packet::Tuple;
    use super::*;
    use crate::lab::probe::ProbeProtocol;

    /// A LAN with a server, and a route to 10.9.0.0/16 via a router on that same LAN: a
    /// packet for it from the LAN goes back out where it came in.
    fn intent(nat: &str) -> String {
        format!(
            r#"
natc = 1
name = "t"
[[gateway]]
name = "gw"
targets = ["nftables"]
[[gateway.interface]]
name = "eth0"
address = "198.51.100.2/24"
[[gateway.interface]]
name = "eth1"
address = "10.0.0.1/24"
[[gateway.route]]
to = "10.9.0.0/16"
via = "10.0.0.254"
{nat}
"#
        )
    }

    const HAIRPIN: &str = r#"
[[gateway.dnat]]
name = "web"
in_interface = "eth0"
destination = "198.51.100.2"
protocol = "tcp"
port = 8443
to = "10.0.0.10"
to_port = 443
hairpin = true
"#;

    fn walk(text: &str, ct: &mut Conntrack, tuple: Tuple, kind: Kind) -> (Decision, Recorder) {
        let compiled = crate::compile(text).expect("a valid intent");
        let plan = &compiled.plan.gateways[0];
        let node = Node { name: plan.name.clone(), net: Net::gateway(plan), plan: Some(plan) };
        let mut rec = Recorder::default();
        let d = node.receive(ct, Packet::new(tuple, kind), "eth1", &mut rec);
        (d, rec)
    }

    fn tcp(source: &str, destination: &str, port: u16) -> Tuple {
        Tuple {
            protocol: ProbeProtocol::Tcp,
            source: source.parse().unwrap(),
            destination: destination.parse().unwrap(),
            source_port: Some(50001),
            destination_port: Some(port),
        }
    }

    #[test]
    fn the_hairpin_redirects_are_dropped_by_nat_both_ways() {
        let text = intent(HAIRPIN);
        let mut ct = Conntrack::default();
        let (d, rec) = walk(&text, &mut ct, tcp("10.0.0.20", "198.51.100.2", 8443), Kind::Syn);
        let Decision::Send { packet, .. } = d else { panic!("{rec:?}") };
        assert!(rec.unmodelled.is_empty(), "{rec:?}");
        assert!(rec.steps.iter().any(|s| s.text.contains("dropped by the NAT hook: its flow's NAT is not set up yet")));
        ct.entries.iter_mut().for_each(|e| e.confirmed = true);
        let (_, rec) = walk(&text, &mut ct, packet.tuple.inverted(), Kind::SynAck);
        assert!(rec.unmodelled.is_empty(), "{rec:?}");
        assert!(
            rec.steps.iter().any(|s| s.text
                == "ICMP redirect to 10.0.0.10 (use 10.0.0.20) dropped by the NAT hook: its flow is translated"),
            "{rec:?}"
        );
    }

    #[test]
    fn only_the_first_packet_and_translated_flows_are_modelled() {
        // No translations: natc still writes the NAT chains, so the first packet's
        // redirect is dropped.
        let (_, rec) = walk(&intent(""), &mut Conntrack::default(), tcp("10.0.0.20", "10.9.0.1", 80), Kind::Syn);
        assert!(rec.unmodelled.is_empty(), "{rec:?}");
        assert!(rec.steps.iter().any(|s| s.text.contains("dropped by the NAT hook: its flow's NAT is not set up yet")));
        // An untranslated flow's later packet: not modelled (see the module comment).
        let text = intent(HAIRPIN);
        let mut ct = Conntrack::default();
        let (_, first) = walk(&text, &mut ct, tcp("10.0.0.20", "10.9.0.1", 80), Kind::Syn);
        assert!(first.unmodelled.is_empty(), "{first:?}");
        ct.entries.iter_mut().for_each(|e| e.confirmed = true);
        let (_, again) = walk(&text, &mut ct, tcp("10.0.0.20", "10.9.0.1", 80), Kind::Syn);
        assert_eq!(again.unmodelled.len(), 1, "{again:?}");
        assert!(again.unmodelled[0].contains("ICMP redirect"), "{again:?}");
    }
}
