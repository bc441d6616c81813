//! Where a record came from: the intent item (gateway, kind, name) and its place in the
//! file. Every stage carries it, every rendered rule names it, every diagnostic points at it.

/// A byte range into the intent file's text.
pub type Span = std::ops::Range<usize>;

/// What kind of intent item something came from; appears in output comments as `kind/name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Gateway,
    Interface,
    Address,
    Dnat,
    Snat,
    Netmap,
    Allow,
    Policy,
    Route,
    Tunnel,
    Bgp,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Gateway => "gateway",
            Kind::Interface => "interface",
            Kind::Address => "address",
            Kind::Dnat => "dnat",
            Kind::Snat => "snat",
            Kind::Netmap => "netmap",
            Kind::Allow => "allow",
            Kind::Policy => "policy",
            Kind::Route => "route",
            Kind::Tunnel => "tunnel",
            Kind::Bgp => "bgp",
        }
    }
}

/// The intent item a record came from: every rendered rule names it, every diagnostic points at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub gateway: String,
    pub kind: Kind,
    pub name: String,
    /// The item's table header (`[[gateway.dnat]]`) or value.
    pub span: Span,
}

impl Origin {
    /// `natgw dnat/aix-tmgw01`: the text every output comment carries.
    pub fn describe(&self) -> String {
        format!("{} {}/{}", self.gateway, self.kind.as_str(), self.name)
    }
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At<T> {
    pub value: T,
    pub span: Span,
}

impl<T> At<T> {
    pub fn new(value: T, span: Span) -> Self {
        At { value, span }
    }
}
