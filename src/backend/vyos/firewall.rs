//! Filters: `firewall ipv4 forward filter` and `firewall ipv4 input filter`, VyOS 1.4's
//! base chains, with the policy as `default-action`. Every allow is an accept, so their
//! order does not matter and their numbers are hashed without scope; the implicit lines
//! (replies, loopback) take fixed numbers below the hashed space, so they come first.

use super::{Block, HASHED_RULES, NAME, Written, address, interfaces, nat};
use crate::backend::cannot_express;
use crate::backend::numbering::{self, Request};
use crate::diag::Diagnostic;
use crate::plan::{FilterChain, FilterLine, GatewayPlan};
use crate::vocab::Verdict;

#[derive(Debug, Clone, Copy)]
pub enum Chain {
    Forward,
    Input,
}

/// Fixed numbers of the implicit lines.
const REPLIES: u32 = 1;
const LOOPBACK: u32 = 2;

pub fn chain(gw: &GatewayPlan, chain: Chain, findings: &mut Vec<Diagnostic>) -> Vec<Written> {
    let (ir, base) = match chain {
        Chain::Forward => (FilterChain::Forward, "firewall ipv4 forward filter"),
        Chain::Input => (FilterChain::Input, "firewall ipv4 input filter"),
    };
    if gw.filters.is_inert(ir) {
        return Vec::new();
    }
    let policy = gw.filters.chain_policy(ir);
    for f in gw.filters.in_chain(ir).filter(|f| !f.stateful && policy.verdict.closes()) {
        findings.push(cannot_express(NAME, &f.origin,
            "under a drop policy the rule accepting `state established/related` lets the replies of every flow back in, so a stateless rule would behave as a stateful one",
            "remove `stateful = false` (replies are then let back in), or use the rtx target, whose filters can be stateless"));
    }
    if policy.verdict == Verdict::Reject {
        findings.push(cannot_express(NAME, &policy.origin,
            "a VyOS base chain's `default-action` is drop or accept (firewall.xml, default-action-base-chains), and a catch-all `action reject` rule would need the last rule number, which natc's stable numbers do not reserve",
            "use \"drop\" for the vyos target"));
    }
    refuse_prefixes(gw, ir, findings);
    let mut blocks = Vec::new();
    let mut head = Block::new(policy.origin.describe(), (0, String::new()));
    head.leaf(
        format!("{base} default-action"),
        match policy.verdict {
            Verdict::Accept => "accept",
            // Refused above: a base chain's default-action is drop or accept.
            Verdict::Drop | Verdict::Reject => "drop",
        },
    );
    if policy.log.is_some() {
        // `default-log`: VyOS logs what the base chain's default action drops.
        head.node(format!("{base} default-log"));
    }
    blocks.push(head.written());

    let lines = gw.filters.lines(ir);
    let allows: Vec<Request> = lines
        .iter()
        .filter_map(|l| match l {
            FilterLine::Allow(f) => Some(Request::unordered(format!("allow/{}", f.origin.name))),
            _ => None,
        })
        .collect();
    let mut numbers = match numbering::assign(&allows, HASHED_RULES) {
        Ok(n) => n.into_iter(),
        Err(_) => {
            // Unscoped requests wrap around: only a space smaller than the rule count fails.
            findings.push(cannot_express(
                NAME,
                &policy.origin,
                "more allow rules than firewall rule numbers",
                "merge allow rules",
            ));
            return Vec::new();
        }
    };
    for line in &lines {
        let number = match line {
            FilterLine::Replies(_) => REPLIES,
            FilterLine::Loopback(_) => LOOPBACK,
            FilterLine::Allow(_) => numbers.next().unwrap_or_default(),
        };
        let path = format!("{base} rule {number}");
        let mut b = Block::new(line.comment(), (number, String::new()));
        b.leaf(format_args!("{path} action"), "accept");
        b.leaf(format_args!("{path} description"), crate::backend::describe::line_comment(gw, line));
        match line {
            FilterLine::Replies(_) => {
                b.leaf(format_args!("{path} state"), "established");
                b.leaf(format_args!("{path} state"), "related");
            }
            FilterLine::Loopback(_) => b.leaf(format_args!("{path} inbound-interface name"), "lo"),
            FilterLine::Allow(f) => {
                let m = &f.matcher;
                for (iface, dir) in [(&m.in_interface, "inbound-interface"), (&m.out_interface, "outbound-interface")] {
                    if let Some(i) = iface {
                        if interfaces::classify(i).is_none() {
                            continue; // refused by name in the interfaces section
                        }
                        b.leaf(format_args!("{path} {dir} name"), i);
                    }
                }
                if let Some(s) = &m.source {
                    b.leaf(format_args!("{path} source address"), address(s));
                }
                if let Some(d) = &m.destination {
                    b.leaf(format_args!("{path} destination address"), address(d));
                }
                if let Some(p) = m.protocol.and_then(nat::protocol) {
                    b.leaf(format_args!("{path} protocol"), p);
                }
                if let Some(ports) = &m.ports {
                    b.leaf(format_args!("{path} destination port"), nat::port_list(ports));
                }
                if f.log.is_some() {
                    b.node(format_args!("{path} log"));
                }
            }
        }
        blocks.push(b.written());
    }
    blocks
}

/// VyOS writes its own log prefix (`[ipv4-FWD-filter-10-A]`, the chain, rule and action) and
/// has no node for another one: a `log_prefix` is refused, `log` alone is written.
fn refuse_prefixes(gw: &GatewayPlan, ir: FilterChain, findings: &mut Vec<Diagnostic>) {
    let policy = gw.filters.chain_policy(ir);
    let allows = gw.filters.in_chain(ir).filter(|f| f.log.as_ref().is_some_and(|l| l.prefix.is_some()));
    let origins =
        allows.map(|f| &f.origin).chain(policy.log.iter().filter(|l| l.prefix.is_some()).map(|_| &policy.origin));
    for origin in origins {
        findings.push(cannot_express(
            NAME,
            origin,
            "its log_prefix: VyOS writes its own log prefix (chain, rule and action) and has no node for another",
            "remove `log_prefix` for the vyos target (`log = true` alone is written as VyOS `log`)",
        ));
    }
}
