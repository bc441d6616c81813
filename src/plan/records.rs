//! The plan's records for what the intent states and no pass rewrites: interfaces,
//! IPsec tunnels, BGP and `accept` entries. resolve (model/) builds them directly, lower copies them into each
//! [`super::GatewayPlan`], the VyOS and RTX targets render them. Values keep their spans
//! (`At`), since targets point at them when they cannot express one.

use crate::vocab::{At, DpdAction, IkeId, Kind, Origin, Span, TcpMss};
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

#[derive(Debug, Clone)]
pub struct Interface {
    /// The device's name (also `origin.name`).
    pub name: String,
    /// `gateway interface/NAME` and the `[[gateway.interface]]` table.
    pub origin: Origin,
    /// Address with prefix length, host bits as configured (192.168.82.4/26).
    pub addresses: Vec<At<Ipv4Net>>,
    /// Clamp the MSS of TCP SYNs leaving through this interface.
    pub tcp_mss: Option<At<TcpMss>>,
    pub description: Option<At<String>>,
    /// `rtx_keep`: the RTX's own numbers natc's lists on this interface keep (docs/rtx.md).
    pub rtx_keep: Option<RtxKeep>,
}

/// The RTX's own numbers on one interface, and where `rtx_keep` was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RtxKeep {
    pub nat_descriptors: Vec<u32>,
    pub filters_in: Vec<u32>,
    pub filters_out: Vec<u32>,
    pub dynamic_in: Vec<u32>,
    pub dynamic_out: Vec<u32>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    Env(String),
    File(String),
}

#[derive(Debug, Clone)]
pub struct Tunnel {
    pub origin: Origin,
    pub remote: At<Ipv4Addr>,
    pub local_address: Option<At<Ipv4Addr>>,
    /// `local_id` as written; see [`Tunnel::local_identity`] for the one IKE uses.
    pub local_id: Option<At<IkeId>>,
    /// `remote_id` as written; see [`Tunnel::remote_identity`].
    pub remote_id: Option<At<IkeId>>,
    /// The far end in this intent (`peer = "gateway/tunnel"`), checked against this one.
    pub peer: Option<At<TunnelPeer>>,
    pub psk: At<SecretRef>,
    pub ike: Ike,
    pub esp: Esp,
    pub dpd: Option<Dpd>,
    pub nat_traversal: bool,
    /// Where `nat_traversal` is written (`None`: not written, off).
    pub nat_traversal_span: Option<Span>,
    /// Clamp the MSS of TCP SYNs through the tunnel.
    pub tcp_mss: Option<At<TcpMss>>,
    pub mode: TunnelMode,
    pub description: Option<At<String>>,
}

/// `peer = "<gateway>/<tunnel>"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelPeer {
    pub gateway: String,
    pub tunnel: String,
}

#[derive(Debug, Clone)]
pub struct Ike {
    pub version: u8,
    pub encryption: String,
    pub hash: String,
    pub dh_group: u32,
    pub lifetime: u32,
    /// Where the `ike` keys are written: the cross-end check points at them.
    pub spans: KeySpans,
}

#[derive(Debug, Clone)]
pub struct Esp {
    pub encryption: String,
    pub hash: String,
    pub pfs: bool,
    pub lifetime: u32,
    /// Where the `esp` keys are written.
    pub spans: KeySpans,
}

/// Where the keys of an `ike` or `esp` table are written; a key that is not written has
/// its default. Diagnostics about a value point at its key, else at the table.
#[derive(Debug, Clone, Default)]
pub struct KeySpans {
    /// The table itself (`None`: not written, every key has its default).
    pub table: Option<Span>,
    /// (key, its value's span) for the keys written.
    pub keys: Vec<(&'static str, Span)>,
}

impl KeySpans {
    pub fn key(&self, name: &str) -> Option<&Span> {
        self.keys.iter().find(|(k, _)| *k == name).map(|(_, s)| s)
    }
}

#[derive(Debug, Clone)]
pub struct Dpd {
    pub action: DpdAction,
    pub interval: u32,
    pub timeout: u32,
}

#[derive(Debug, Clone)]
pub struct Vti {
    pub name: At<String>,
    pub address: At<Ipv4Net>,
    pub mtu: Option<At<u32>>,
}

#[derive(Debug, Clone)]
pub enum TunnelMode {
    /// Route-based: traffic is routed into a VTI.
    Vti(Vti),
    /// Policy-based: traffic selectors, written with the post-NAT prefixes.
    Policy { local: Vec<At<Ipv4Net>>, remote: Vec<At<Ipv4Net>> },
}

impl Tunnel {
    /// The identity this end proves: `local_id`, else `local_address`; `None` when neither
    /// is given (then IKE uses the address its packets leave from).
    pub fn local_identity(&self) -> Option<At<IkeId>> {
        self.local_id
            .clone()
            .or_else(|| self.local_address.as_ref().map(|a| At::new(IkeId::Address(a.value), a.span.clone())))
    }

    /// The identity the peer must prove: `remote_id`, else the peer's address `remote`.
    pub fn remote_identity(&self) -> At<IkeId> {
        self.remote_id.clone().unwrap_or_else(|| At::new(IkeId::Address(self.remote.value), self.remote.span.clone()))
    }

    pub fn vti(&self) -> Option<&Vti> {
        match &self.mode {
            TunnelMode::Vti(v) => Some(v),
            TunnelMode::Policy { .. } => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Bgp {
    pub origin: Origin,
    pub asn: At<u32>,
    pub networks: Vec<At<Ipv4Net>>,
    pub neighbors: Vec<BgpNeighbor>,
}

#[derive(Debug, Clone)]
pub struct BgpNeighbor {
    pub address: At<Ipv4Addr>,
    pub remote_as: At<u32>,
    pub holdtime: Option<u32>,
    pub keepalive: Option<u32>,
}

/// `accept = [{ code, reason }]` on an item: that item knowingly lives with a warning.
#[derive(Debug, Clone)]
pub struct Accept {
    /// The accepting item: its kind and name (`Kind::Gateway` and the gateway's name: all of it).
    pub kind: Kind,
    pub name: String,
    pub code: At<String>,
    pub reason: Option<At<String>>,
    /// The whole `{ … }` entry.
    pub span: Span,
}
