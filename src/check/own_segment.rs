//! N230: a SNAT (masquerade, an address, a 1:1 map) whose `out_interface` is the interface
//! its `source` network sits on: the LAN masqueraded out of the LAN. `out_interface` names
//! where the translated packets leave; the LAN's own interface only carries traffic back to
//! the LAN's segment, so the rule rewrites LAN-to-LAN traffic through the gateway (clients
//! see each other as the gateway) and never the traffic it was written for, which leaves by
//! the WAN untranslated.
//!
//! Quiet where going out of the source's own interface is the point: a `destination` that
//! is reached through that interface (hairpin NAT: LAN clients to a LAN server through the
//! public address, whose replies must come back through the gateway); a one-armed gateway
//! (its only interface, or the intent's default route leaves through it, as a cloud NAT
//! instance sends the internet out of the subnet it serves). A source that merely *contains* the
//! interface's subnet (10.0.0.0/8 out of a WAN in 10.255.0.0/30) is not this mistake.
//!
//! Cost: one connected-subnet look-up per SNAT (PrefixIndex), and one pass over the routes.

use super::facts::Facts;
use super::{Findings, show};
use crate::diag::{Code, Diagnostic};
use rustc_hash::FxHashSet;

pub fn check(facts: &Facts, found: &mut Findings) {
    let gw = facts.gw;
    // Interfaces the default route leaves by: a one-armed gateway's internet side.
    let routed: FxHashSet<String> =
        gw.routes.iter().filter(|r| r.to.value.prefix_len() == 0).map(|r| facts.route_exit(r)).collect();
    let interfaces: FxHashSet<&str> =
        gw.interfaces.iter().filter(|i| !i.addresses.is_empty()).map(|i| i.name.as_str()).collect();
    for s in &gw.snats {
        let (Some(out), Some(source)) = (&s.out_interface, &s.source) else { continue };
        let o = out.value.as_str();
        let Some(c) = facts.connected.containing(source.value).map(|(_, c)| c).find(|c| c.interface == o) else {
            continue;
        };
        if facts.owns(source.value) || routed.contains(o) || interfaces.iter().all(|i| *i == o) {
            continue;
        }
        if s.destination.as_ref().is_some_and(|d| facts.egress(d.value.network()).is_none_or(|e| e == o)) {
            continue;
        }
        let wan = facts.egress(std::net::Ipv4Addr::UNSPECIFIED).filter(|e| *e != o);
        let instead = wan.map_or_else(
            || "the interface towards the network that must see the new source (the WAN)".to_string(),
            |w| format!("out_interface = \"{w}\" (where the default route leaves)"),
        );
        found.push(
            &s.origin,
            Diagnostic::warning(
                Code::SNAT_OWN_SEGMENT,
                format!(
                    "SNAT `{}` translates {} out of `{o}`, the interface it sits on",
                    s.origin.name,
                    show(source.value)
                ),
            )
            .label(out.span.clone(), format!("{} leaves `{o}` only towards its own segment", show(source.value)))
            .label(source.span.clone(), format!("on `{o}`'s network {}", c.subnet()))
            .label(c.address.span.clone(), format!("`{o}` is connected to {}", c.subnet()))
            .help(format!(
                "out_interface is where the translated packets leave: write {instead}; for hairpin NAT (clients reaching a server on their own segment through a public address) add destination = the server"
            )),
        );
    }
}
