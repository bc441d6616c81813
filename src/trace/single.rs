//! `natc trace --gateway G --from A --to B --protocol P [--port N]`: one packet at one
//! gateway, no lab needed. It comes in on the interface that leads back to A (or
//! `--in-interface`), goes through G's netfilter walk, and then the answer of whoever
//! receives it comes back in on the interface the packet left by and walks back.

use super::TraceError;
use super::conntrack::Conntrack;
use super::gateway::{Decision, Node};
use super::net::{Lookup, Net};
use super::packet::{Kind, Packet, Tuple};
use super::render::{self, Recorder, Step};
use crate::lab::probe::ProbeProtocol;
use crate::pipeline::Compiled;
use std::fmt;
use std::net::Ipv4Addr;

/// The source port of the simulated packet (TCP, UDP), from the range verify's probes use.
const SOURCE_PORT: u16 = 50000;

#[derive(Debug, Clone)]
pub struct PacketQuery {
    pub gateway: String,
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
}

pub fn trace_packet(compiled: &Compiled, q: &PacketQuery) -> Result<PacketTrace, TraceError> {
    let plan = compiled.plan.gateways.iter().find(|g| g.name == q.gateway).ok_or_else(|| {
        let known: Vec<&str> = compiled.plan.gateways.iter().map(|g| g.name.as_str()).collect();
        TraceError::Usage(format!("the intent has no gateway `{}` (gateways: {})", q.gateway, known.join(", ")))
    })?;
    match (q.protocol, q.port) {
        (ProbeProtocol::Icmp, Some(_)) => return Err(TraceError::Usage("--port is for tcp and udp, not icmp".into())),
        (ProbeProtocol::Tcp | ProbeProtocol::Udp, None) => {
            return Err(TraceError::Usage("--protocol tcp and udp need --port".into()));
        }
        _ => {}
    }
    let node = Node { name: plan.name.clone(), net: Net::gateway(plan), plan: Some(plan) };
    let in_iface = match &q.in_interface {
        Some(i) if i == "lo" || node.net.interfaces.iter().any(|(n, _)| n == i) => i.clone(),
        Some(i) => return Err(TraceError::Usage(format!("gateway `{}` has no interface `{i}`", plan.name))),
        None => match node.net.lookup(q.from) {
            Lookup::Route(r) => r.dev.clone(),
            Lookup::Local(_) => {
                return Err(TraceError::Usage(format!(
                    "{} is an address of `{}` itself; trace a packet that comes in from elsewhere",
                    q.from, plan.name
                )));
            }
            Lookup::Unreachable => {
                return Err(TraceError::Usage(format!(
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
    request.step(&node.name, format!("{probe} comes in on {in_iface}"));
    let mut trace = PacketTrace {
        gateway: node.name.clone(),
        request: Vec::new(),
        reply: Vec::new(),
        reply_assumes: None,
        passed: false,
        summary: String::new(),
        unmodelled: Vec::new(),
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
