//! TCP MSS clamping (`tcp_mss` on an interface or a tunnel) for the Linux packet-filter
//! targets: which handshakes to clamp, and how nftables and iptables say it. firewalld
//! writes the iptables form as direct rules.
//!
//! Meaning (docs/intent.md): every TCP handshake packet (SYN, SYN-ACK) the gateway forwards
//! through the interface or tunnel, in either direction, leaves with an MSS of at most the
//! given size; "auto" clamps to the MTU of the route the packet takes, minus 40. A
//! route-based tunnel is its VTI/XFRM interface; a policy-based tunnel is the traffic its
//! selectors take, matched by the remote selectors (destination on the way in, source on
//! the way back): the local selectors are post-NAT and the forward hook sees pre-SNAT
//! sources, so they cannot be matched there.
//!
//! Clamping only ever lowers the MSS: iptables' TCPMSS never raises it, and the nft rules
//! test the size first, so a host that announces less keeps its value.

use super::quote;
use crate::plan::{GatewayPlan, TunnelMode};
use crate::vocab::TcpMss;
use ipnet::Ipv4Net;

/// One clamping rule: the packets it matches, the size, and the intent item it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clamp {
    pub side: Side,
    pub mss: TcpMss,
    /// `origin.describe()` of the interface or tunnel.
    pub comment: String,
}

/// Which forwarded packets a clamp takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    /// Leaving through the interface.
    Out(String),
    /// Arriving through the interface.
    In(String),
    /// Addressed into a policy tunnel's remote selector.
    To(Ipv4Net),
    /// Coming from a policy tunnel's remote selector.
    From(Ipv4Net),
}

/// The clamps of a gateway, interfaces first, then tunnels, each in intent order; for each
/// item the way out before the way in.
pub fn clamps(gw: &GatewayPlan) -> Vec<Clamp> {
    let mut out = Vec::new();
    for i in &gw.interfaces {
        if let Some(m) = &i.tcp_mss {
            let comment = i.origin.describe();
            for side in [Side::Out(i.name.clone()), Side::In(i.name.clone())] {
                out.push(Clamp { side, mss: m.value, comment: comment.clone() });
            }
        }
    }
    for t in &gw.tunnels {
        let Some(m) = &t.tcp_mss else { continue };
        let comment = t.origin.describe();
        let sides: Vec<Side> = match &t.mode {
            TunnelMode::Vti(v) => vec![Side::Out(v.name.value.clone()), Side::In(v.name.value.clone())],
            TunnelMode::Policy { remote, .. } => {
                let to = remote.iter().map(|r| Side::To(r.value.trunc()));
                let from = remote.iter().map(|r| Side::From(r.value.trunc()));
                to.chain(from).collect()
            }
        };
        out.extend(sides.into_iter().map(|side| Clamp { side, mss: m.value, comment: comment.clone() }));
    }
    out
}

/// A host without `/32`, as nft lists it back.
fn nft_address(net: &Ipv4Net) -> String {
    if net.prefix_len() == 32 { net.addr().to_string() } else { net.to_string() }
}

/// The rule of a clamp in nft's language, for a `type filter hook forward priority mangle` chain.
pub fn nft_rule(c: &Clamp) -> String {
    let side = match &c.side {
        Side::Out(i) => format!("oifname {}", quote::nft_string(i)),
        Side::In(i) => format!("iifname {}", quote::nft_string(i)),
        Side::To(n) => format!("ip daddr {}", nft_address(n)),
        Side::From(n) => format!("ip saddr {}", nft_address(n)),
    };
    // SYN without RST: the handshake packets (SYN and SYN-ACK), as iptables' `SYN,RST SYN`.
    let syn = "tcp flags & (syn | rst) == syn";
    let set = match c.mss {
        TcpMss::Auto => "tcp option maxseg size set rt mtu".to_string(),
        // Only larger values are lowered; a smaller announcement stays as it is.
        TcpMss::Fixed(n) => format!("tcp option maxseg size > {n} tcp option maxseg size set {n}"),
    };
    format!("{side} {syn} {set} comment {}", quote::nft_string(&c.comment))
}

/// The match and target of a clamp as iptables arguments (mangle FORWARD): ` -o eth1 -p tcp …`
/// and `TCPMSS --clamp-mss-to-pmtu`.
pub fn iptables_parts(c: &Clamp) -> (String, String) {
    let side = match &c.side {
        Side::Out(i) => format!(" -o {i}"),
        Side::In(i) => format!(" -i {i}"),
        Side::To(n) => format!(" -d {n}"),
        Side::From(n) => format!(" -s {n}"),
    };
    let target = match c.mss {
        TcpMss::Auto => "TCPMSS --clamp-mss-to-pmtu".to_string(),
        TcpMss::Fixed(n) => format!("TCPMSS --set-mss {n}"),
    };
    (format!("{side} -p tcp -m tcp --tcp-flags SYN,RST SYN"), target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clamp(side: Side, mss: TcpMss) -> Clamp {
        Clamp { side, mss, comment: "gw interface/eth1".into() }
    }

    #[test]
    fn nft_rules_lower_only_and_match_handshakes() {
        let out = nft_rule(&clamp(Side::Out("eth1".into()), TcpMss::Fixed(1396)));
        assert_eq!(
            out,
            "oifname \"eth1\" tcp flags & (syn | rst) == syn tcp option maxseg size > 1396 tcp option maxseg size set 1396 comment \"gw interface/eth1\""
        );
        let auto = nft_rule(&clamp(Side::From("10.1.0.0/16".parse().unwrap()), TcpMss::Auto));
        assert!(
            auto.starts_with("ip saddr 10.1.0.0/16 tcp flags & (syn | rst) == syn tcp option maxseg size set rt mtu")
        );
        let host = nft_rule(&clamp(Side::To("10.1.0.9/32".parse().unwrap()), TcpMss::Auto));
        assert!(host.starts_with("ip daddr 10.1.0.9 "), "{host}");
    }

    #[test]
    fn iptables_parts_name_the_side_and_the_size() {
        let (m, t) = iptables_parts(&clamp(Side::In("xfrm1".into()), TcpMss::Fixed(1300)));
        assert_eq!(m, " -i xfrm1 -p tcp -m tcp --tcp-flags SYN,RST SYN");
        assert_eq!(t, "TCPMSS --set-mss 1300");
        let (m, t) = iptables_parts(&clamp(Side::To("10.1.0.0/16".parse().unwrap()), TcpMss::Auto));
        assert_eq!(m, " -d 10.1.0.0/16 -p tcp -m tcp --tcp-flags SYN,RST SYN");
        assert_eq!(t, "TCPMSS --clamp-mss-to-pmtu");
    }
}
