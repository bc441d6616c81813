//! One `[[expect]]`, simulated the way `natc verify` runs it: the probe leaves the sender,
//! is observed where it is delivered, the receiver answers as verify's lab answers (hosts:
//! kernel echo replies, TCP listeners and UDP echo on every port the expectations use;
//! gateways: echo replies, RST, port unreachable), and the answer walks back through the
//! gateways' conntrack. The observations and what the sender learned then go through
//! verify's own `judge`, so a verdict means the same in both.

use super::conntrack::Conntrack;
use super::lab::{End, Lab};
use super::packet::{ErrorKind, Kind, Packet, Tuple};
use super::render::{Recorder, Step};
use crate::lab::judge::{self, Judgement};
use crate::lab::probe::{Observation, ProbeProtocol, SendOutcome, source_port};
use crate::lab::topology::NodeKind;
use crate::plan::{Expect, Outcome};
use crate::vocab::Protocol;
use std::collections::BTreeSet;

/// The ports lab hosts serve: every port an expectation of that protocol uses, as
/// `verify` starts its listeners.
#[derive(Debug, Clone, Default)]
pub struct Listening {
    pub tcp: BTreeSet<u16>,
    pub udp: BTreeSet<u16>,
}

impl Listening {
    pub fn of(expects: &[Expect]) -> Listening {
        let mut l = Listening::default();
        for e in expects {
            let set = match e.protocol {
                Protocol::Tcp => &mut l.tcp,
                Protocol::Udp => &mut l.udp,
                _ => continue,
            };
            set.extend(e.port);
            if let Outcome::Arrives { seen_port: Some(p), .. } = &e.outcome {
                set.insert(p.value);
            }
        }
        l
    }
}

#[derive(Debug, Clone)]
pub struct Simulated {
    pub verdict: Judgement,
    pub request: Vec<Step>,
    pub reply: Vec<Step>,
    /// What the walk met that trace does not model; non-empty means the verdict is a
    /// failure that says "trace cannot tell".
    pub unmodelled: Vec<String>,
}

/// Simulate expectation `e` with probe key `key` (as verify numbers them).
pub fn simulate(lab: &Lab, e: &Expect, key: u32, listening: &Listening) -> Simulated {
    let mut ct = lab.conntrack();
    let mut request = Recorder::default();
    let mut reply = Recorder::default();
    let protocol = judge::probe_protocol(e);
    let mut observations = Vec::new();
    let outcome = match lab.node(&e.from.value) {
        None => SendOutcome::Error(format!("{} is not a lab host", e.from.value)),
        Some(sender) => {
            let run = Run { lab, sender, key, listening };
            run.probe(e, protocol, &mut ct, &mut request, &mut reply, &mut observations)
        }
    };
    let arrivals: Vec<&Observation> = observations.iter().collect();
    let mut verdict = judge::judge(e, &outcome, &arrivals);
    let unmodelled = super::render::merge(request.unmodelled, reply.unmodelled);
    if !unmodelled.is_empty() {
        verdict.pass = false;
        verdict.seen = format!("trace cannot tell, not modelled: {} — {}", unmodelled.join("; "), verdict.seen);
    }
    // Whether a tunnel comes up is what every walk through the lab depends on.
    if !lab.tunnels.unsure.is_empty() {
        verdict.pass = false;
        verdict.seen = format!("trace cannot tell, not modelled: {} — {}", lab.tunnels.unsure.join("; "), verdict.seen);
    }
    Simulated { verdict, request: request.steps, reply: reply.steps, unmodelled }
}

struct Run<'l, 'a> {
    lab: &'l Lab<'a>,
    sender: usize,
    key: u32,
    listening: &'l Listening,
}

impl Run<'_, '_> {
    fn name(&self, node: usize) -> &str {
        &self.lab.nodes[node].name
    }

    /// Send the probe, observe where it lands, and learn what the sender learns.
    fn probe(
        &self,
        e: &Expect,
        protocol: ProbeProtocol,
        ct: &mut [Conntrack],
        request: &mut Recorder,
        reply: &mut Recorder,
        observations: &mut Vec<Observation>,
    ) -> SendOutcome {
        let sender = &self.lab.nodes[self.sender];
        let Some(source) = sender.source_towards(e.to.value) else {
            request.step(&sender.name, format!("has no route to {}: the socket fails at once", e.to.value));
            return SendOutcome::Unreachable { from: None, what: "net unreachable".into() };
        };
        let sport = (protocol != ProbeProtocol::Icmp).then(|| source_port(self.key));
        let tuple = Tuple { protocol, source, destination: e.to.value, source_port: sport, destination_port: e.port };
        let probe = Packet::new(tuple, Kind::request(protocol));
        request.step(&sender.name, format!("sends {probe}"));
        match self.lab.walk(ct, self.sender, probe, request) {
            End::NoRoute => SendOutcome::Unreachable { from: None, what: "net unreachable".into() },
            End::Dropped => SendOutcome::Timeout,
            End::Delivered { node, packet } => {
                request.step(self.name(node), format!("arrives: {}", packet.tuple.seen()));
                observations.push(Observation {
                    node: self.name(node).to_string(),
                    protocol,
                    source: packet.tuple.source,
                    destination: packet.tuple.destination,
                    source_port: packet.tuple.source_port,
                    destination_port: packet.tuple.destination_port,
                    key: Some(self.key),
                });
                match self.answer(node, &packet, request) {
                    Some(answer) => self.back(node, answer, &tuple, ct, reply),
                    None => SendOutcome::Timeout,
                }
            }
            End::Error { node, about, what } => match self.error(node, &about, what, request) {
                Some(error) => self.back(node, error, &tuple, ct, reply),
                None => SendOutcome::Timeout,
            },
        }
    }

    /// What the receiving node sends back, as verify's lab answers.
    fn answer(&self, node: usize, p: &Packet, rec: &mut Recorder) -> Option<Packet> {
        let name = self.name(node);
        let host = self.lab.kinds[node] == NodeKind::Host;
        let port = p.tuple.destination_port.unwrap_or(0);
        let reply = |kind| Some(Packet::new(p.tuple.inverted(), kind));
        match p.tuple.protocol {
            ProbeProtocol::Icmp => {
                rec.step(name, "the kernel answers: icmp echo reply");
                reply(Kind::EchoReply)
            }
            ProbeProtocol::Tcp if host && self.listening.tcp.contains(&port) => {
                rec.step(name, format!("a listener on tcp port {port} answers: SYN-ACK"));
                reply(Kind::SynAck)
            }
            ProbeProtocol::Tcp => {
                rec.step(name, format!("nothing listens on tcp port {port}: RST"));
                reply(Kind::Rst)
            }
            ProbeProtocol::Udp if host && self.listening.udp.contains(&port) => {
                // The echo server's socket is bound to 0.0.0.0: the kernel picks the source.
                let source = self.lab.nodes[node].source_towards(p.tuple.source);
                rec.step(name, format!("the udp echo server on port {port} answers"));
                let Some(source) = source else {
                    rec.step(name, format!("has no route back to {}: no answer", p.tuple.source));
                    return None;
                };
                let mut tuple = p.tuple.inverted();
                tuple.source = source;
                Some(Packet::new(tuple, Kind::Answer))
            }
            ProbeProtocol::Udp => {
                rec.step(name, format!("nothing listens on udp port {port}: port unreachable"));
                Some(p.error(ErrorKind::PortUnreachable, p.tuple.destination))
            }
        }
    }

    /// The ICMP error a router sends about a packet it could not forward.
    fn error(&self, node: usize, about: &Packet, what: ErrorKind, rec: &mut Recorder) -> Option<Packet> {
        let name = self.name(node);
        match self.lab.nodes[node].source_towards(about.tuple.source) {
            Some(source) => {
                rec.step(name, format!("sends icmp {} to {}", what.text(), about.tuple.source));
                Some(about.error(what, source))
            }
            None => {
                rec.step(name, format!("would send icmp {}, but has no route to {}", what.text(), about.tuple.source));
                None
            }
        }
    }

    /// Walk what came back and say what the sender learns from it.
    fn back(&self, from: usize, p: Packet, probe: &Tuple, ct: &mut [Conntrack], rec: &mut Recorder) -> SendOutcome {
        let sent = p.kind;
        match self.lab.walk(ct, from, p, rec) {
            End::Delivered { node, packet } if node == self.sender => {
                let outcome = learned(&packet, probe);
                let what = match &outcome {
                    SendOutcome::Reply => "reply came back".to_string(),
                    SendOutcome::Refused => "refused".to_string(),
                    SendOutcome::Unreachable { from, what } => {
                        format!("{what}{}", from.map(|f| format!(" (from {f})")).unwrap_or_default())
                    }
                    _ => format!("not for the probe's socket ({} is not {})", packet.tuple, probe.inverted()),
                };
                rec.step(self.name(node), format!("arrives: {}: {what}", packet.tuple));
                outcome
            }
            End::Delivered { node, packet } => {
                rec.step(self.name(node), format!("arrives: {} — not at the sender", packet.tuple));
                SendOutcome::Timeout
            }
            End::Error { node, what, .. } => {
                let about = if matches!(sent, Kind::Error { .. }) { "an ICMP error" } else { "the answer" };
                rec.step(self.name(node), format!("drops {about} ({}; no error about it is followed)", what.text()));
                SendOutcome::Timeout
            }
            End::Dropped | End::NoRoute => SendOutcome::Timeout,
        }
    }
}

/// What the probe's socket makes of a packet delivered to the sender: only a packet of
/// its own flow counts (an echo reply from the address it pinged, a SYN-ACK or UDP answer
/// from the address and port it connected to, an ICMP error quoting its probe).
fn learned(p: &Packet, probe: &Tuple) -> SendOutcome {
    let own_flow = p.tuple == probe.inverted();
    match p.kind {
        Kind::EchoReply | Kind::SynAck | Kind::Answer if own_flow => SendOutcome::Reply,
        Kind::Rst if own_flow => SendOutcome::Refused,
        // A raw ICMP socket recognises its echo by the payload, the others by the quote.
        Kind::Error { what, about }
            if about == *probe || (about.protocol, probe.protocol) == (ProbeProtocol::Icmp, ProbeProtocol::Icmp) =>
        {
            match (what, probe.protocol) {
                (ErrorKind::PortUnreachable, ProbeProtocol::Tcp | ProbeProtocol::Udp) => SendOutcome::Refused,
                _ => SendOutcome::Unreachable { from: Some(p.tuple.source), what: what.text().into() },
            }
        }
        _ => SendOutcome::Timeout,
    }
}
