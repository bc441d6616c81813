//! The IR: per gateway, what the box must do, in netfilter's terms. Everything after the
//! lower pass (src/lower.rs) reads only this; this module imports only `vocab`. A
//! translation is one uniform record (after Batfish's Transformation): a match, an address
//! step (a host address with its port step, or a 1:1 prefix shift), the hook it runs in,
//! and its origin.

mod lab;
mod port_step;
mod records;

pub use lab::{Attachment, Expect, Lab, LabHost, LabInterface, LabLink, Outcome};
pub use port_step::{PortShift, PortStep};
pub use records::{
    Accept, Bgp, BgpNeighbor, Dpd, Esp, Ike, Interface, KeySpans, RtxKeep, SecretRef, Tunnel, TunnelMode, TunnelPeer,
    Vti,
};

use crate::vocab::{
    At, FirewalldVersion, Kind, Origin, PortSet, Protocol, RtxModel, Span, TargetKind, TargetProfile, TargetSpec,
    Verdict, VyosVersion,
};
use ipnet::Ipv4Net;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

#[derive(Debug, Clone)]
pub struct Plan {
    pub intent: String,
    /// Free text with its span: headers carry it, targets check its length (backend/limits.rs).
    pub description: Option<At<String>>,
    pub gateways: Vec<GatewayPlan>,
    /// The `[lab]` that `natc trace` and `natc verify` build, if the intent has one.
    pub lab: Option<Lab>,
    /// The `[[expect]]` entries they check, in file order.
    pub expects: Vec<Expect>,
}

#[derive(Debug, Clone)]
pub struct GatewayPlan {
    pub name: String,
    /// The gateway's `[[gateway]]` table, for diagnostics about the gateway as a whole.
    pub span: Span,
    /// Free text with its span: headers carry it, targets check its length (backend/limits.rs).
    pub description: Option<At<String>>,
    /// The gateway's own `targets`, parsed once, each with its profile.
    pub targets: Vec<DeclaredTarget>,
    /// The profile a firewalld target named without one takes (`firewalld = "…"`, default 1).
    pub firewalld_version: FirewalldVersion,
    /// The profile a VyOS target named without one takes (`vyos = "…"`, default 1.4).
    pub vyos_version: VyosVersion,
    /// The profile an RTX target named without one takes (`rtx = "…"`, default RTX1210).
    pub rtx_model: RtxModel,
    /// Destination NAT (prerouting), in intent order: first match wins, as in netfilter.
    pub dnat: Vec<Translation>,
    /// Source NAT (postrouting), in intent order.
    pub snat: Vec<Translation>,
    pub filters: Filters,
    /// `counters = true` and its span: count every NAT and filter rule (targets.md#counters).
    pub counters: Option<Span>,
    pub routes: Vec<Route>,
    pub owned: Vec<OwnedAddress>,
    pub sysctls: Vec<Sysctl>,
    /// Copied from the model (records.rs): only the VyOS and RTX targets render them.
    pub tunnels: Vec<Tunnel>,
    pub bgp: Option<Bgp>,
    pub interfaces: Vec<Interface>,
    /// The `description` of each dnat, snat, netmap and allow item, by kind and name: the
    /// targets add it to that item's rules (backend/describe.rs). Interfaces and tunnels
    /// carry their own.
    pub descriptions: ByItem<At<String>>,
    /// The `log` of each dnat, snat and netmap item, by kind and name: every translation
    /// rule of the item logs (targets.md#logging). Allows carry their own.
    pub translation_logs: ByItem<crate::vocab::Log>,
    /// Every `accept` entry of the gateway and its items, in file order: a target's warning
    /// that the gateway accepts is dropped (check/accept.rs decides which entries count).
    pub accepts: Vec<Accept>,
}

/// Values of items, by kind and name: looked up by an item's origin without copying its
/// name (every rule of every target asks).
pub type ByItem<T> = BTreeMap<Kind, BTreeMap<String, T>>;

/// A `targets` entry: the target with its profile, and where it was written (N304 points
/// at it).
#[derive(Debug, Clone)]
pub struct DeclaredTarget {
    pub spec: TargetSpec,
    pub span: Span,
}

impl GatewayPlan {
    /// The description of the item `origin` names, if it has one.
    pub fn description_of(&self, origin: &Origin) -> Option<&At<String>> {
        self.descriptions.get(&origin.kind)?.get(&origin.name)
    }

    /// The log of the translation item `origin` names, if it has `log = true`.
    pub fn log_of(&self, origin: &Origin) -> Option<&crate::vocab::Log> {
        self.translation_logs.get(&origin.kind)?.get(&origin.name)
    }

    /// Each interface address's interface, the first that declares it in the intent's
    /// order: what scanning the interfaces for an address finds, as one look-up.
    pub fn interface_of_address(&self) -> rustc_hash::FxHashMap<Ipv4Addr, &str> {
        let mut owner = rustc_hash::FxHashMap::default();
        for i in &self.interfaces {
            for a in &i.addresses {
                owner.entry(a.value.addr()).or_insert(i.name.as_str());
            }
        }
        owner
    }

    /// `spec` with this gateway's profile when it names none (`vyos` → `vyos@1.5`).
    pub fn with_profile(&self, mut spec: TargetSpec) -> TargetSpec {
        if spec.profile.is_none() {
            spec.profile = match spec.kind {
                TargetKind::Firewalld => Some(TargetProfile::Firewalld(self.firewalld_version)),
                TargetKind::Vyos => Some(TargetProfile::Vyos(self.vyos_version)),
                TargetKind::Rtx => Some(TargetProfile::Rtx(self.rtx_model)),
                _ => None,
            };
        }
        spec
    }
}

/// One accept line the Linux packet-filter targets add to the input chain under
/// `input = "drop"` for a tunnel: IKE (udp/500), NAT-T (udp/4500) or ESP from the tunnel's
/// `remote` only. Both ends of a tunnel initiate, rekey and send DPD, so the peer's own
/// exchanges must get in, not just the replies to ours. RTX renders them too (on its
/// in lists under `input = "drop"`); VyOS does not.
#[derive(Debug, Clone)]
pub struct TunnelInput<'a> {
    pub origin: &'a Origin,
    /// `IKE`, `NAT-T` or `ESP`: the comment's suffix.
    pub what: &'static str,
    pub matcher: Match,
}

impl TunnelInput<'_> {
    /// `gw tunnel/to-b (IKE)`.
    pub fn comment(&self) -> String {
        format!("{} ({})", self.origin.describe(), self.what)
    }
}

impl GatewayPlan {
    /// The input lines each tunnel needs under `input = "drop"` (none under accept), in
    /// tunnel order; they come after the implied lines and before the `allow` rules.
    pub fn tunnel_input(&self) -> Vec<TunnelInput<'_>> {
        if !self.filters.policy(FilterChain::Input).closes() {
            return Vec::new();
        }
        let mut lines = Vec::new();
        for t in &self.tunnels {
            let from = Some(Ipv4Net::from(t.remote.value));
            let udp = |port: u16| Match {
                source: from,
                protocol: Some(Protocol::Udp),
                ports: Some(PortSet { ranges: vec![crate::vocab::PortRange::single(port)] }),
                ..Match::default()
            };
            lines.push(TunnelInput { origin: &t.origin, what: "IKE", matcher: udp(500) });
            lines.push(TunnelInput { origin: &t.origin, what: "NAT-T", matcher: udp(4500) });
            lines.push(TunnelInput {
                origin: &t.origin,
                what: "ESP",
                matcher: Match { source: from, protocol: Some(Protocol::Esp), ..Match::default() },
            });
        }
        lines
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// Rewrites the destination before routing (PREROUTING).
    Destination,
    /// Rewrites the source after routing (POSTROUTING).
    Source,
}

/// Does this translation apply to traffic that will be IPsec-protected?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IpsecMatch {
    #[default]
    Any,
    /// Only traffic that no IPsec policy takes (`except_ipsec`).
    NotIpsec,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Match {
    pub in_interface: Option<String>,
    pub out_interface: Option<String>,
    pub source: Option<Ipv4Net>,
    pub destination: Option<Ipv4Net>,
    pub protocol: Option<Protocol>,
    /// Destination ports; only with tcp or udp.
    pub ports: Option<PortSet>,
    pub ipsec: IpsecMatch,
    /// The intent named this policy-based tunnel where `in_interface` goes: the traffic its
    /// policy takes (decrypted traffic from its remote selectors). `in_interface` is then
    /// `None`: the Linux targets match by addresses only; VyOS and RTX refuse it (N301).
    pub in_policy_tunnel: Option<String>,
    /// The same for `out_interface`: traffic the tunnel's policy will encrypt.
    pub out_policy_tunnel: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Replace the address with this one (DNAT/SNAT to a host); a DNAT may also change the
    /// destination port (SNAT never does).
    SetAddress(Ipv4Addr, Option<PortStep>),
    /// Keep the host part, replace the network part (NETMAP, 1:1 block map). A block map
    /// keeps ports, so this step has no port change: the model refuses `to_port` with it.
    ShiftIntoPrefix(Ipv4Net),
    /// Source becomes the outgoing interface's address.
    Masquerade,
    /// Leave the address alone (an exemption).
    NoNat,
}

#[derive(Debug, Clone)]
pub struct Translation {
    pub origin: Origin,
    /// For a netmap, which of its two halves this is.
    pub half: Option<NetmapHalf>,
    /// Made by lower from a DNAT's `hairpin = true` (docs/intent.md, "Hairpin"): the DNAT
    /// for the inside interface, or the masquerade that brings the reply back. The origin
    /// stays the DNAT's, so comments and diagnostics name it.
    pub hairpin: bool,
    pub hook: Hook,
    pub matcher: Match,
    pub step: Step,
}

/// A netmap lowers to two translations: the SNAT out towards `remote_as` and the DNAT back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetmapHalf {
    Snat,
    Dnat,
}

impl NetmapHalf {
    pub fn as_str(self) -> &'static str {
        match self {
            NetmapHalf::Snat => "snat",
            NetmapHalf::Dnat => "dnat",
        }
    }
}

impl Translation {
    /// The addresses that tell this translation's packets from others: two translations
    /// can match one packet only if their scopes nest. DNAT always matches a destination;
    /// SNAT is scoped by source (no source: everything).
    pub fn scope(&self) -> Ipv4Net {
        let any = Ipv4Net::default();
        match self.hook {
            Hook::Destination => self.matcher.destination.unwrap_or(any),
            Hook::Source => self.matcher.source.unwrap_or(any),
        }
    }

    /// The comment every rendered rule carries: `natgw dnat/aix-tmgw01`, `utm-a netmap/vpc-a (dnat)`,
    /// `edge dnat/web (hairpin)`.
    pub fn comment(&self) -> String {
        match (self.half, self.hairpin) {
            (Some(half), _) => format!("{} ({})", self.origin.describe(), half.as_str()),
            (None, true) => format!("{} (hairpin)", self.origin.describe()),
            (None, false) => self.origin.describe(),
        }
    }

    /// The DNAT's port change, if it has one.
    pub fn port_step(&self) -> Option<&PortStep> {
        match &self.step {
            Step::SetAddress(_, port) => port.as_ref(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterChain {
    Forward,
    Input,
}

#[derive(Debug, Clone)]
pub struct Filter {
    pub origin: Origin,
    pub chain: FilterChain,
    pub matcher: Match,
    /// Replies are let back in (conntrack established/related).
    pub stateful: bool,
    /// `log = true`: log what this rule accepts (targets.md#logging).
    pub log: Option<crate::vocab::Log>,
}

/// A chain's default verdict, and the `[gateway.policy]` key it comes from.
#[derive(Debug, Clone)]
pub struct ChainPolicy {
    pub verdict: Verdict,
    /// `gateway policy/forward` or `gateway policy/input`.
    pub origin: Origin,
    /// `log = true` on the policy, on a chain whose policy drops or rejects: its last rule
    /// logs what the policy is about to drop or reject (targets.md#logging).
    pub log: Option<crate::vocab::Log>,
}

/// An accept line the intent implies rather than states, made in lower: under a drop
/// policy the replies of allowed flows come back (docs/intent.md, policies), and under an input drop
/// policy the gateway still talks to itself. Its origin is the policy that implies it.
#[derive(Debug, Clone)]
pub struct ImplicitFilter {
    pub origin: Origin,
    pub chain: FilterChain,
    pub accepts: Implicit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implicit {
    /// Packets arriving on `lo`.
    Loopback,
    /// Conntrack established and related packets.
    Replies,
}

/// One line of a filter chain, in the order the chain evaluates them.
pub enum FilterLine<'a> {
    Loopback(&'a Origin),
    Replies(&'a Origin),
    Allow(&'a Filter),
}

impl FilterLine<'_> {
    /// The rule comment: `natgw policy/forward (replies)`, `natgw allow/ssh-to-aix`.
    pub fn comment(&self) -> String {
        match self {
            FilterLine::Loopback(origin) => format!("{} (loopback)", origin.describe()),
            FilterLine::Replies(origin) => format!("{} (replies)", origin.describe()),
            FilterLine::Allow(f) => f.origin.describe(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Filters {
    pub forward: ChainPolicy,
    pub input: ChainPolicy,
    /// The `[[gateway.allow]]` rules, in intent order.
    pub rules: Vec<Filter>,
    /// The implied lines, which every chain evaluates before its rules.
    pub implicit: Vec<ImplicitFilter>,
}

impl Filters {
    /// A chain's lines as every target writes them and `trace` evaluates them: the implied
    /// lines first, then the rules.
    pub fn lines(&self, chain: FilterChain) -> Vec<FilterLine<'_>> {
        let implied = self.implicit.iter().filter(|i| i.chain == chain).map(|i| match i.accepts {
            Implicit::Loopback => FilterLine::Loopback(&i.origin),
            Implicit::Replies => FilterLine::Replies(&i.origin),
        });
        implied.chain(self.in_chain(chain).map(FilterLine::Allow)).collect()
    }

    pub fn in_chain(&self, chain: FilterChain) -> impl Iterator<Item = &Filter> {
        self.rules.iter().filter(move |f| f.chain == chain)
    }

    pub fn chain_policy(&self, chain: FilterChain) -> &ChainPolicy {
        match chain {
            FilterChain::Forward => &self.forward,
            FilterChain::Input => &self.input,
        }
    }

    pub fn policy(&self, chain: FilterChain) -> Verdict {
        self.chain_policy(chain).verdict
    }

    /// A chain whose policy is accept and that has no rules does nothing; targets may omit it.
    pub fn is_inert(&self, chain: FilterChain) -> bool {
        self.policy(chain) == Verdict::Accept && self.in_chain(chain).next().is_none()
    }
}

#[derive(Debug, Clone)]
pub enum Nexthop {
    Via(Ipv4Addr),
    Interface(String),
}

#[derive(Debug, Clone)]
pub struct Route {
    pub origin: Origin,
    pub to: Ipv4Net,
    pub nexthop: Nexthop,
}

/// An address the gateway must own so that packets for it are delivered or attracted.
#[derive(Debug, Clone)]
pub struct OwnedAddress {
    pub origin: Origin,
    pub interface: String,
    pub address: Ipv4Net,
}

/// A kernel setting the rules rely on.
#[derive(Debug, Clone)]
pub struct Sysctl {
    pub origin: Origin,
    pub key: String,
    pub value: String,
}
