//! NAT: `nat destination rule N` and `nat source rule N`. VyOS evaluates each list by
//! rule number and the first match translates, as netfilter does with rule order; so the
//! numbers come from `numbering` with a scope (the address the rule keys on) that keeps
//! every pair of rules that can match one packet in intent order.

use super::{Block, HASHED_RULES, NAME, Written, address, interfaces};
use crate::backend::numbering::{self, Request};
use crate::backend::{cannot_express, describe};
use crate::diag::Diagnostic;
use crate::plan::{GatewayPlan, Hook, IpsecMatch, PortStep, Step, Translation};
use crate::vocab::{PortSet, Protocol};
use std::borrow::Cow;

pub fn destination(gw: &GatewayPlan, findings: &mut Vec<Diagnostic>) -> Vec<Written> {
    // Once for both trees (a netmap has rules in each): VyOS writes its own log prefix.
    findings.extend(crate::backend::log::refuse_translations_where(
        super::NAME,
        gw,
        |l| l.prefix.is_some(),
        "its log_prefix: VyOS writes its own log prefix (the NAT tree and rule) and has no node for another",
        "remove `log_prefix` for the vyos target (`log = true` alone is written as the rule's `log`)",
    ));
    rules(gw, &gw.dnat, Hook::Destination, findings)
}

pub fn source(gw: &GatewayPlan, findings: &mut Vec<Diagnostic>) -> Vec<Written> {
    rules(gw, &gw.snat, Hook::Source, findings)
}

/// The stable key of a translation's number: `dnat/web`, `netmap/vpc-a`, and
/// `dnat/web/hairpin` for a hairpin's rules (a second destination rule of the same DNAT).
fn key(t: &Translation) -> String {
    let suffix = if t.hairpin { "/hairpin" } else { "" };
    format!("{}/{}{suffix}", t.origin.kind.as_str(), t.origin.name)
}

fn rules(gw: &GatewayPlan, list: &[Translation], hook: Hook, findings: &mut Vec<Diagnostic>) -> Vec<Written> {
    let requests: Vec<Request> = list
        .iter()
        .map(|t| Request { key: key(t), scope: Some(t.scope()), class: numbering::port_class(&t.matcher) })
        .collect();
    let numbers = match numbering::assign(&requests, HASHED_RULES) {
        Ok(n) => n,
        Err(e) => {
            if let Some(t) = list.iter().find(|t| key(t) == e.key) {
                findings.push(cannot_express(
                    NAME,
                    &t.origin,
                    &format!(
                        "no rule number is left in {}-{} that keeps this rule after the earlier rules it overlaps",
                        HASHED_RULES.start(),
                        HASHED_RULES.end()
                    ),
                    "rename the rule (its number derives from its name), or give it a narrower match",
                ));
            }
            return Vec::new();
        }
    };
    list.iter().zip(numbers).filter_map(|(t, n)| rule(gw, t, n, hook, findings)).map(Block::written).collect()
}

fn rule(gw: &GatewayPlan, t: &Translation, number: u32, hook: Hook, findings: &mut Vec<Diagnostic>) -> Option<Block> {
    let tree = match hook {
        Hook::Destination => "destination",
        Hook::Source => "source",
    };
    if let Some(refusal) = refusal(t) {
        findings.push(refusal);
        return None;
    }
    let path = format!("nat {tree} rule {number}");
    let m = &t.matcher;
    let mut b = Block::new(t.comment(), (number, String::new()));
    b.leaf(format_args!("{path} description"), describe::rule_comment(gw, &t.origin, t.comment()));
    for (iface, dir) in [(&m.in_interface, "inbound-interface"), (&m.out_interface, "outbound-interface")] {
        if let Some(i) = iface {
            // An interface VyOS has no name for is refused in the interfaces section.
            interfaces::classify(i)?;
            b.leaf(format_args!("{path} {dir} name"), i);
        }
    }
    if let Some(s) = &m.source {
        b.leaf(format_args!("{path} source address"), address(s));
    }
    if let Some(d) = &m.destination {
        b.leaf(format_args!("{path} destination address"), address(d));
    }
    if let Some(p) = m.protocol.and_then(protocol) {
        b.leaf(format_args!("{path} protocol"), p);
    }
    if let Some(ports) = &m.ports {
        b.leaf(format_args!("{path} destination port"), port_list(ports));
    }
    match &t.step {
        Step::SetAddress(a, _) => b.leaf(format_args!("{path} translation address"), a),
        // With `source/destination address` set, VyOS writes a prefix translation as
        // `ip prefix to ip daddr map { FROM : TO }`: a 1:1 block map, like NETMAP.
        Step::ShiftIntoPrefix(p) => b.leaf(format_args!("{path} translation address"), p),
        Step::Masquerade => b.leaf(format_args!("{path} translation address"), "masquerade"),
        Step::NoNat => b.node(format_args!("{path} exclude")),
    }
    if let Some(p) = t.port_step() {
        b.leaf(format_args!("{path} translation port"), p.onto().first);
    }
    if gw.log_of(&t.origin).is_some() {
        b.node(format_args!("{path} log"));
    }
    Some(b)
}

/// What VyOS's NAT rule cannot say exactly.
fn refusal(t: &Translation) -> Option<Diagnostic> {
    if t.matcher.ipsec == IpsecMatch::NotIpsec {
        return Some(cannot_express(
            NAME,
            &t.origin,
            "VyOS NAT rules have no IPsec policy match, so `except_ipsec` cannot be honoured",
            "build this gateway for iptables or nftables, which match the IPsec policy, or remove except_ipsec",
        ));
    }
    if let Some(PortStep::Shift(shift)) = t.port_step() {
        let p = shift.onto();
        return Some(cannot_express(
            NAME,
            &t.origin,
            &format!(
                "VyOS writes `translation port {}-{}` as a port pool (any port of the range), not a 1:1 shift of the matched range",
                p.first, p.last
            ),
            "translate to a single port, or split the range into one dnat per port",
        ));
    }
    None
}

/// VyOS's `protocol` leaf takes a name of /etc/protocols (VyOS ships the file) or 0-255.
pub fn protocol(p: Protocol) -> Option<Cow<'static, str>> {
    match p {
        Protocol::Any => None,
        p => Some(p.as_str()),
    }
}

/// `22`, `8000-8099`, `80,443,8000-8099` (VyOS's port-multi).
pub fn port_list(ports: &PortSet) -> String {
    ports
        .ranges
        .iter()
        .map(|r| if r.is_single() { r.first.to_string() } else { format!("{}-{}", r.first, r.last) })
        .collect::<Vec<_>>()
        .join(",")
}
