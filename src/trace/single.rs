//! `natc trace --from A --to B [--gateway G] --protocol P [--port N]`: one packet at one
//! gateway G (named, the only one, or the one the lab routes the packet through:
//! [`choose_gateway`]; only the last needs the lab). It comes in on the interface that
//! leads back to A (or `--in-interface`), goes through G's netfilter walk, and then the
//! answer of whoever receives it comes back in on the interface the packet left by and
//! walks back.

use super::conntrack::Conntrack;
use super::gateway::{Decision, Node};
use super::lab::Lab;
use super::net::{Lookup, Net};
use super::packet::{Kind, Packet, Tuple};
use super::render::{self, Recorder, Step};
use crate::error::Error;
use crate::lab::probe::ProbeProtocol;
use crate::lab::topology::NodeKind;
use crate::pipeline::Compiled;
use crate::plan::GatewayPlan;
use std::fmt;
use std::net::Ipv4Addr;

/// The source port of the simulated packet (TCP, UDP), from the range verify's probes use.
const SOURCE_PORT: u16 = 50000;

#[derive(Debug, Clone)]
pub struct PacketQuery {
    /// Default: the intent's only gateway, or the one the lab routes the packet through
    /// ([`choose_gateway`]).
    pub gateway: Option<String>,
    pub from: Ipv4Addr,
    pub to: Ipv4Addr,
    pub protocol: ProbeProtocol,
    /// The destination port: required for tcp and udp, refused for icmp.
    pub port: Option<u16>,
    /// Where the packet enters; default: the interface G routes `from` out of.
    pub in_interface: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PacketTrace {
    pub gateway: String,
    pub request: Vec<Step>,
    /// The answer's way back, after `reply_assumes`.
    pub reply: Vec<Step>,
    pub reply_assumes: Option<String>,
    /// The packet got through G (forwarded or delivered) and its answer went back out
    /// towards the sender with the addresses the sender expects.
    pub passed: bool,
    pub summary: String,
    pub unmodelled: Vec<String>,
    /// How the gateway was chosen when `--gateway` was not given and the lab chose it.
    pub chosen: Option<String>,
}

pub fn trace_packet(compiled: &Compiled, q: &PacketQuery) -> Result<PacketTrace, Error> {
    let (plan, chosen) = choose_gateway(compiled, q)?;
    match (q.protocol, q.port) {
        (ProbeProtocol::Icmp, Some(_)) => return Err(Error::Usage("--port is for tcp and udp, not icmp".into())),
        (ProbeProtocol::Tcp | ProbeProtocol::Udp, None) => {
            return Err(Error::Usage("--protocol tcp and udp need --port".into()));
        }
        _ => {}
    }
    let mut node = Node { name: plan.name.clone(), net: Net::gateway(plan), plan: Some(plan) };
    // Without the lab nothing says whether a tunnel comes up: assumed up, and said.
    let tunnels_assumed = super::tunnel::assume_up(&mut node.net);
    let in_iface = match &q.in_interface {
        Some(i) if i == "lo" || node.net.interfaces.iter().any(|(n, _)| n == i) => i.clone(),
        Some(i) => return Err(Error::Usage(format!("gateway `{}` has no interface `{i}`", plan.name))),
        None => match node.net.lookup(q.from) {
            Lookup::Route(r) => r.dev.clone(),
            Lookup::Local(_) => {
                return Err(Error::Usage(format!(
                    "{} is an address of `{}` itself; trace a packet that comes in from elsewhere",
                    q.from, plan.name
                )));
            }
            Lookup::Unreachable => {
                return Err(Error::Usage(format!(
                    "`{}` has no route back to {}, so which interface it comes in on is unclear; name it with --in-interface",
                    plan.name, q.from
                )));
            }
        },
    };
    let sport = (q.protocol != ProbeProtocol::Icmp).then_some(SOURCE_PORT);
    let tuple =
        Tuple { protocol: q.protocol, source: q.from, destination: q.to, source_port: sport, destination_port: q.port };
    let mut ct = Conntrack::default();
    let mut request = Recorder::default();
    let mut reply = Recorder::default();
    let probe = Packet::new(tuple, Kind::request(q.protocol));
    if let Some(names) = tunnels_assumed {
        request.step(&node.name, format!("assuming its IPsec tunnels are up ({names}): charon's routes into ipsec0"));
    }
    request.step(&node.name, format!("{probe} comes in on {in_iface}"));
    let mut trace = PacketTrace {
        gateway: node.name.clone(),
        request: Vec::new(),
        reply: Vec::new(),
        reply_assumes: None,
        passed: false,
        summary: String::new(),
        unmodelled: Vec::new(),
        chosen,
    };
    let answer_kind = match q.protocol {
        ProbeProtocol::Icmp => Kind::EchoReply,
        ProbeProtocol::Tcp => Kind::SynAck,
        ProbeProtocol::Udp => Kind::Answer,
    };
    let mut forwarded = None;
    let back = match node.receive(&mut ct, probe, &in_iface, &mut request) {
        Decision::Deliver(p) => {
            request.step(&node.name, format!("delivered to {} itself: {}", node.name, p.tuple));
            trace.reply_assumes = Some(format!("{} answers from {}", node.name, p.tuple.destination));
            let answer = Packet::new(p.tuple.inverted(), answer_kind);
            reply.step(&node.name, format!("sends {answer}"));
            node.output(&mut ct, answer, &mut reply)
        }
        Decision::Send { packet, dev, next_hop } => {
            request.step(&node.name, format!("leaves by {dev} for {next_hop}: {packet}"));
            if dev == super::tunnel::TUN && !super::tunnel::taken_alone(plan, &packet.tuple, &mut request) {
                trace.summary = format!("{tuple}: no tunnel of {} takes it", node.name);
                return Ok(finish(trace, request, reply));
            }
            forwarded = Some(packet.tuple);
            trace.reply_assumes = Some(format!(
                "{} answers and its answer comes back to {} on {dev}",
                packet.tuple.destination, node.name
            ));
            let answer = Packet::new(packet.tuple.inverted(), answer_kind);
            reply.step(&node.name, format!("{answer} comes in on {dev}"));
            node.receive(&mut ct, answer, &dev, &mut reply)
        }
        Decision::Error { about, what } => {
            request.step(&node.name, format!("answers {} with icmp {}", about.tuple.source, what.text()));
            trace.summary = format!("{}: icmp {} at {}", tuple, what.text(), node.name);
            return Ok(finish(trace, request, reply));
        }
        Decision::Drop | Decision::NoRoute => {
            trace.summary = format!("{tuple}: dropped at {}", node.name);
            return Ok(finish(trace, request, reply));
        }
    };
    let expected = tuple.inverted();
    trace.summary = match back {
        Decision::Send { packet, dev, next_hop } => {
            reply.step(&node.name, format!("leaves by {dev} for {next_hop}: {packet}"));
            trace.passed = packet.tuple == expected;
            if trace.passed {
                let through = match &forwarded {
                    Some(t) => format!("leaves {} as {}", node.name, t.seen()),
                    None => format!("is delivered to {}", node.name),
                };
                format!("{} {through}; the answer goes back as {}", tuple.seen(), packet.tuple)
            } else {
                format!(
                    "{tuple}: the answer leaves {} as {}, which the sender does not expect (it waits for {expected})",
                    node.name, packet.tuple
                )
            }
        }
        Decision::Deliver(p) => {
            reply.step(&node.name, format!("delivered to {} itself: {}", node.name, p.tuple));
            format!("{tuple}: the answer stays at {} instead of going back to {}", node.name, tuple.source)
        }
        Decision::Error { .. } | Decision::Drop | Decision::NoRoute => {
            format!("{tuple}: the answer does not get back through {}", node.name)
        }
    };
    Ok(finish(trace, request, reply))
}

/// The gateway a packet is traced at: `--gateway`; without it the intent's only gateway;
/// without that the first gateway the lab routes the packet through, when `from` is the
/// address of exactly one lab host and the packet, walked through the lab from there,
/// reaches a gateway (where it still has the addresses asked about). With the gateway
/// comes, when the lab chose it, a sentence saying so. Anything else is a usage error
/// that names the gateways.
pub fn choose_gateway<'c>(compiled: &'c Compiled, q: &PacketQuery) -> Result<(&'c GatewayPlan, Option<String>), Error> {
    let gateways = &compiled.plan.gateways;
    let known = || gateways.iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join(", ");
    if let Some(name) = &q.gateway {
        return match gateways.iter().find(|g| &g.name == name) {
            Some(g) => Ok((g, None)),
            None => Err(Error::Usage(format!("the intent has no gateway `{name}` (gateways: {})", known()))),
        };
    }
    if let [only] = gateways.as_slice() {
        return Ok((only, None));
    }
    let ask = |why: String| Error::Usage(format!("{why}; name one with --gateway (gateways: {})", known()));
    let packet = format!("{} → {}", q.from, q.to);
    let Some(lab_model) = &compiled.plan.lab else {
        return Err(ask(format!("the intent has {} gateways and no [lab] to route {packet} through", gateways.len())));
    };
    let lab = Lab::new(gateways, lab_model);
    let senders: Vec<usize> = (0..lab.nodes.len())
        .filter(|&n| lab.kinds[n] == NodeKind::Host && lab.nodes[n].net.local(q.from).is_some())
        .collect();
    let sender = match senders.as_slice() {
        [one] => *one,
        [] => {
            return Err(ask(format!(
                "{} is no lab host's address, so the lab cannot tell which gateway {packet} crosses",
                q.from
            )));
        }
        several => {
            let names: Vec<&str> = several.iter().map(|&n| lab.nodes[n].name.as_str()).collect();
            return Err(ask(format!("{} is an address of several lab hosts ({})", q.from, names.join(", "))));
        }
    };
    let sport = (q.protocol != ProbeProtocol::Icmp).then_some(SOURCE_PORT);
    let tuple =
        Tuple { protocol: q.protocol, source: q.from, destination: q.to, source_port: sport, destination_port: q.port };
    let mut ct = lab.conntrack();
    let mut rec = Recorder::default();
    lab.walk(&mut ct, sender, Packet::new(tuple, Kind::request(q.protocol)), &mut rec);
    let mut crossed: Vec<usize> = Vec::new();
    for &n in rec.reached.iter().filter(|&&n| lab.kinds[n] == NodeKind::Gateway) {
        if !crossed.contains(&n) {
            crossed.push(n);
        }
    }
    let names: Vec<&str> = crossed.iter().map(|&n| lab.nodes[n].name.as_str()).collect();
    let Some(&first) = crossed.first() else {
        return Err(ask(format!("the lab routes {packet} from {} through no gateway", lab.nodes[sender].name)));
    };
    let then = if names.len() > 1 { format!(" (then {})", names[1..].join(", ")) } else { String::new() };
    let why = format!(
        "tracing at {}: the gateway the lab routes {packet} from {} through{}{then}",
        names[0],
        lab.nodes[sender].name,
        if names.len() > 1 { " first" } else { "" }
    );
    Ok((&gateways[first], Some(why)))
}

fn finish(mut trace: PacketTrace, request: Recorder, reply: Recorder) -> PacketTrace {
    trace.unmodelled = render::merge(request.unmodelled, reply.unmodelled);
    if !trace.unmodelled.is_empty() {
        trace.passed = false;
    }
    trace.request = request.steps;
    trace.reply = reply.steps;
    trace
}

impl fmt::Display for PacketTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "natc trace: one packet at {} (the compiled rules, simulated)", self.gateway)?;
        write!(f, "{}", render::steps(&self.request, "  "))?;
        if let Some(assumes) = &self.reply_assumes {
            writeln!(f, "back (assuming {assumes}):")?;
            write!(f, "{}", render::steps(&self.reply, "  "))?;
        }
        if !self.unmodelled.is_empty() {
            writeln!(f, "trace cannot tell, not modelled: {}", self.unmodelled.join("; "))?;
        }
        let mark = if self.passed { "PASS" } else { "FAIL" };
        writeln!(f, "{mark}  {}", self.summary)
    }
}
