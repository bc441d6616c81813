//! One gateway's connection tracking, as far as NAT and stateful filters need it: a flow's
//! original tuple, the tuple it left with after DNAT and SNAT, and which rules did that.
//! Replies match the inverted tuple and get the reverse translation; ICMP errors match
//! through the header they quote (RELATED) and are translated the way Linux's
//! `nf_nat_icmp_reply_translation` does.

use super::packet::{Kind, Packet, Tuple};

#[derive(Debug, Clone)]
pub struct Entry {
    /// The first packet as it arrived.
    pub original: Tuple,
    /// The same packet after the NAT done so far (after postrouting: as it left).
    pub translated: Tuple,
    /// The DNAT and SNAT rules that set the flow up (their rule comments).
    pub dnat: Option<String>,
    pub snat: Option<String>,
    /// A flow is only in the table once its first packet left the box or was delivered;
    /// before that only an ICMP error raised on the way can refer to it.
    pub confirmed: bool,
    /// A reply was seen: the flow is ESTABLISHED.
    pub replied: bool,
}

impl Entry {
    /// What a reply must look like to belong to this flow.
    pub fn reply(&self) -> Tuple {
        self.translated.inverted()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Original,
    Reply,
}

/// What conntrack makes of a packet (the `ct state` a filter sees, and which entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A packet of a known flow, in this direction.
    Tracked { entry: usize, direction: Direction },
    /// An ICMP error about a known flow; `direction` is the error's own (the opposite of
    /// the quoted packet's).
    Related { entry: usize, direction: Direction },
    /// The first packet of a flow.
    New,
    /// A reply without its flow, or an error about nothing known: no NAT, and no
    /// `established,related` either.
    Invalid,
}

#[derive(Debug, Clone, Default)]
pub struct Conntrack {
    pub entries: Vec<Entry>,
}

impl Conntrack {
    pub fn classify(&self, p: &Packet) -> Class {
        if let Kind::Error { about, .. } = p.kind {
            // The quote is a packet that left this box: after its NAT.
            for (i, e) in self.entries.iter().enumerate() {
                if about == e.translated {
                    return Class::Related { entry: i, direction: Direction::Reply };
                }
                if about == e.original.inverted() {
                    return Class::Related { entry: i, direction: Direction::Original };
                }
            }
            return Class::Invalid;
        }
        for (i, e) in self.entries.iter().enumerate().filter(|(_, e)| e.confirmed) {
            if p.tuple == e.original {
                return Class::Tracked { entry: i, direction: Direction::Original };
            }
            if p.tuple == e.reply() {
                return Class::Tracked { entry: i, direction: Direction::Reply };
            }
        }
        if p.kind.can_start_flow() { Class::New } else { Class::Invalid }
    }

    /// Track a new flow; NAT rules then update `translated`.
    pub fn begin(&mut self, p: &Packet) -> usize {
        self.entries.push(Entry {
            original: p.tuple,
            translated: p.tuple,
            dnat: None,
            snat: None,
            confirmed: false,
            replied: false,
        });
        self.entries.len() - 1
    }

    /// `ct state established,related` matches.
    pub fn established(&self, class: Class) -> bool {
        match class {
            Class::Tracked { entry, direction } => direction == Direction::Reply || self.entries[entry].replied,
            Class::Related { .. } => true,
            Class::New | Class::Invalid => false,
        }
    }
}

/// The destination part of the translation of a tracked packet (prerouting or output):
/// an original-direction packet gets the flow's DNAT again, a reply has its SNAT undone.
pub fn destination_of(e: &Entry, direction: Direction, t: &mut Tuple) {
    let target = match direction {
        Direction::Original => e.translated,
        Direction::Reply => e.original.inverted(),
    };
    t.destination = target.destination;
    t.destination_port = target.destination_port;
}

/// The source part (postrouting): an original-direction packet gets the flow's SNAT, a
/// reply has its DNAT undone.
pub fn source_of(e: &Entry, direction: Direction, t: &mut Tuple) {
    let target = match direction {
        Direction::Original => e.translated,
        Direction::Reply => e.original.inverted(),
    };
    t.source = target.source;
    t.source_port = target.source_port;
}

/// An ICMP error about a tracked flow, where the destination is rewritten: the quoted
/// header goes back to what the other side of this box saw, and the error is sent to
/// the flow's real peer if this box translated that peer's address.
pub fn related_destination(e: &Entry, direction: Direction, p: &mut Packet) {
    let Kind::Error { what, .. } = p.kind else { return };
    let (quote, peer, translated) = match direction {
        // The error travels like a reply: the quote was an original packet.
        Direction::Reply => (e.original, e.original.source, e.snat.is_some()),
        Direction::Original => (e.reply(), e.reply().source, e.dnat.is_some()),
    };
    if translated {
        p.tuple.destination = peer;
    }
    p.kind = Kind::Error { what, about: quote };
}

/// The source part: the error seems to come from the address the peer talked to if this
/// box translated it (Linux rewrites the outer header too).
pub fn related_source(e: &Entry, direction: Direction, p: &mut Packet) {
    let (peer, translated) = match direction {
        Direction::Reply => (e.original.destination, e.dnat.is_some()),
        Direction::Original => (e.reply().destination, e.snat.is_some()),
    };
    if translated {
        p.tuple.source = peer;
    }
}

#[cfg(test)]
mod tests {
    use super::super::packet::ErrorKind;
    use super::*;
    use crate::lab::probe::ProbeProtocol;
    use std::net::Ipv4Addr;

    fn tuple(s: &str, d: &str) -> Tuple {
        Tuple {
            protocol: ProbeProtocol::Tcp,
            source: s.parse().unwrap(),
            destination: d.parse().unwrap(),
            source_port: Some(50001),
            destination_port: Some(22),
        }
    }

    /// 10.0.0.1 → 10.0.0.100 DNATed to 10.1.0.5 and SNATed to 10.1.0.1.
    fn natted() -> Conntrack {
        let mut ct = Conntrack::default();
        let i = ct.begin(&Packet::new(tuple("10.0.0.1", "10.0.0.100"), Kind::Syn));
        let e = &mut ct.entries[i];
        e.translated = tuple("10.1.0.1", "10.1.0.5");
        e.dnat = Some("gw dnat/d".into());
        e.snat = Some("gw snat/s".into());
        ct
    }

    #[test]
    fn unconfirmed_flows_match_nothing_but_errors() {
        let mut ct = natted();
        // What the real host answers to the translated SYN.
        let reply = Packet::new(tuple("10.1.0.1", "10.1.0.5").inverted(), Kind::SynAck);
        assert_eq!(reply.tuple, ct.entries[0].reply());
        assert_eq!(ct.classify(&reply), Class::Invalid, "a SYN-ACK without its flow");
        ct.entries[0].confirmed = true;
        let class = ct.classify(&reply);
        assert_eq!(class, Class::Tracked { entry: 0, direction: Direction::Reply });
        assert!(ct.established(class));
        let again = Packet::new(tuple("10.0.0.1", "10.0.0.100"), Kind::Syn);
        let class = ct.classify(&again);
        assert_eq!(class, Class::Tracked { entry: 0, direction: Direction::Original });
        assert!(!ct.established(class), "no reply seen yet");
    }

    #[test]
    fn a_reply_is_translated_back_in_two_halves() {
        let ct = natted();
        let e = &ct.entries[0];
        let mut t = e.reply();
        destination_of(e, Direction::Reply, &mut t);
        assert_eq!(t.destination, Ipv4Addr::new(10, 0, 0, 1), "SNAT undone before routing");
        assert_eq!(t.source, Ipv4Addr::new(10, 1, 0, 5));
        source_of(e, Direction::Reply, &mut t);
        assert_eq!(t, tuple("10.0.0.1", "10.0.0.100").inverted(), "DNAT undone after routing");
    }

    #[test]
    fn an_error_about_a_natted_flow_reaches_the_real_source_quoting_what_it_sent() {
        let ct = natted();
        let about = Packet::new(ct.entries[0].translated, Kind::Syn);
        let mut error = about.error(ErrorKind::NetUnreachable, "10.1.0.254".parse().unwrap());
        let class = ct.classify(&error);
        assert_eq!(class, Class::Related { entry: 0, direction: Direction::Reply });
        related_destination(&ct.entries[0], Direction::Reply, &mut error);
        related_source(&ct.entries[0], Direction::Reply, &mut error);
        assert_eq!(error.tuple.destination, Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(error.tuple.source, Ipv4Addr::new(10, 0, 0, 100), "the DNAT is undone on the outer header too");
        assert_eq!(error.kind, Kind::Error { what: ErrorKind::NetUnreachable, about: tuple("10.0.0.1", "10.0.0.100") });
    }
}
