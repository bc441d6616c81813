//! What a DNAT does to the destination port. A `to_port` means one of two things, and the
//! IR keeps which (after Batfish's `AssignPortFromPool` and `ShiftIpAddressIntoSubnet`):
//! every matched port becomes one port, or the one matched range moves 1:1 onto a range of
//! the same width. Targets and `trace` read the step; none of them redoes the arithmetic.

use crate::vocab::{PortRange, Protocol};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortStep {
    /// Every matched port becomes this one (a pool of one port).
    Set(u16),
    /// The matched range, shifted 1:1.
    Shift(PortShift),
}

/// A 1:1 shift of one port range onto another of the same width, for tcp or udp. Its
/// fields are private so that no shift of unequal widths can be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortShift {
    protocol: Protocol,
    matched: PortRange,
    onto: PortRange,
}

impl PortShift {
    /// The shift of `matched` onto `onto`, if it is one: equal widths of more than one
    /// port, and a protocol that has ports.
    pub fn new(protocol: Protocol, matched: PortRange, onto: PortRange) -> Option<PortShift> {
        let shifts = matched.width() == onto.width() && !onto.is_single();
        (shifts && matches!(protocol, Protocol::Tcp | Protocol::Udp)).then_some(PortShift { protocol, matched, onto })
    }

    /// tcp or udp.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The destination ports the translation matches.
    pub fn matched(&self) -> PortRange {
        self.matched
    }

    /// Where they go: `matched.first` becomes `onto.first`, and so on.
    pub fn onto(&self) -> PortRange {
        self.onto
    }

    /// Every (matched port, new port) pair, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (u16, u16)> {
        (self.matched.first..=self.matched.last).zip(self.onto.first..=self.onto.last)
    }
}

impl PortStep {
    /// The new port range: one port for `Set`.
    pub fn onto(&self) -> PortRange {
        match self {
            PortStep::Set(port) => PortRange::single(*port),
            PortStep::Shift(shift) => shift.onto,
        }
    }

    /// The port a packet to `port` leaves with, or `None` when the step does not say (a
    /// shift of a port outside its matched range, or a packet without a port).
    pub fn apply(&self, port: Option<u16>) -> Option<u16> {
        match self {
            PortStep::Set(new) => Some(*new),
            PortStep::Shift(shift) => {
                let port = port?;
                let m = shift.matched;
                (m.first..=m.last).contains(&port).then(|| shift.onto.first + (port - m.first))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(first: u16, last: u16) -> PortRange {
        PortRange { first, last }
    }

    #[test]
    fn a_shift_needs_equal_widths_and_a_port_protocol() {
        assert!(PortShift::new(Protocol::Tcp, range(8000, 8099), range(9000, 9099)).is_some());
        assert!(PortShift::new(Protocol::Tcp, range(8000, 8099), range(9000, 9098)).is_none());
        assert!(PortShift::new(Protocol::Tcp, range(80, 80), range(8080, 8080)).is_none());
        assert!(PortShift::new(Protocol::Icmp, range(8000, 8001), range(9000, 9001)).is_none());
    }

    #[test]
    fn a_shift_moves_each_port_and_leaves_others_undefined() {
        let shift = PortShift::new(Protocol::Udp, range(8000, 8099), range(9000, 9099)).expect("a shift");
        let step = PortStep::Shift(shift);
        assert_eq!(step.apply(Some(8001)), Some(9001));
        assert_eq!(step.apply(Some(8099)), Some(9099));
        assert_eq!(step.apply(Some(7999)), None);
        assert_eq!(step.apply(None), None);
        assert_eq!(shift.pairs().nth(2), Some((8002, 9002)));
        assert_eq!(PortStep::Set(443).apply(Some(8443)), Some(443));
    }
}
