//! Interfaces: VyOS names its interface types by name pattern (`eth0` is ethernet, `vti0`
//! a VTI, `lo` the loopback). natc writes addresses and descriptions, the loopback and
//! other owned addresses, proxy ARP, and the VTIs of route-based tunnels.

use super::{Block, NAME, Written};
use crate::backend::cannot_express;
use crate::diag::Diagnostic;
use crate::plan::GatewayPlan;
use crate::vocab::{At, Origin, TcpMss};
use ipnet::Ipv4Net;

/// Where an interface lives in the VyOS tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfPath {
    /// `interfaces ethernet eth0 vif 10`
    pub path: String,
    /// natc writes every setting this interface type needs (ethernet, loopback, VTI,
    /// bonding, bridge, dummy); the others need settings the intent does not have.
    pub complete: bool,
    /// The type has `ip enable-proxy-arp`.
    pub proxy_arp: bool,
}

/// VyOS's interface types whose names natc recognises: (name prefix, node, complete, vif).
const TYPES: &[(&str, &str, bool, bool)] = &[
    ("eth", "ethernet", true, true),
    ("lan", "ethernet", true, true),
    ("bond", "bonding", true, true),
    ("br", "bridge", true, true),
    ("dum", "dummy", true, false),
    ("vti", "vti", true, false),
    ("tun", "tunnel", false, false),
    ("wg", "wireguard", false, false),
    ("vtun", "openvpn", false, false),
    ("peth", "pseudo-ethernet", false, false),
    ("vxlan", "vxlan", false, false),
    ("wlan", "wireless", false, false),
];

/// The VyOS path of an interface name, if VyOS has such an interface: `eth0`, `lan3`,
/// `enp1s0`, `eth0.10` (a VLAN: `vif 10`), `vti1`, `lo`, `tun0`, ...
pub fn classify(name: &str) -> Option<IfPath> {
    if name == "lo" {
        return Some(IfPath { path: "interfaces loopback lo".into(), complete: true, proxy_arp: false });
    }
    let (base, vlan) = match name.split_once('.') {
        Some((b, v)) => (b, Some(v)),
        None => (name, None),
    };
    let vlan = match vlan {
        Some(v) if is_number(v) && v.parse::<u16>().is_ok_and(|n| n <= 4094) => Some(v),
        Some(_) => return None,
        None => None,
    };
    // Predictable names (enp1s0, ens3, eno1, enx…) are ethernet in VyOS too.
    let predictable = ["eno", "ens", "enp", "enx"].iter().any(|p| {
        base.strip_prefix(p).is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
    });
    let (node, complete, vif) = if predictable {
        ("ethernet", true, true)
    } else {
        // Longest prefix first: `vtun0` is openvpn, not `vti`; `wlan0` is wireless, not `lan`.
        let mut types: Vec<_> = TYPES.iter().filter(|(p, ..)| base.strip_prefix(p).is_some_and(is_number)).collect();
        types.sort_by_key(|(p, ..)| std::cmp::Reverse(p.len()));
        let (_, node, complete, vif) = types.first()?;
        (*node, *complete, *vif)
    };
    match vlan {
        None => Some(IfPath { path: format!("interfaces {node} {base}"), complete, proxy_arp: vif }),
        Some(v) if vif => Some(IfPath { path: format!("interfaces {node} {base} vif {v}"), complete, proxy_arp: true }),
        Some(_) => None,
    }
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// VyOS takes an interface address only if it is a host address (ip-host): not the
/// network address of its prefix, except for /31 and /32.
pub fn is_host_address(net: &Ipv4Net) -> bool {
    net.prefix_len() >= 31 || net.addr() != net.network()
}

fn order(path: &str) -> (u32, String) {
    (0, path.to_string())
}

pub fn blocks(gw: &GatewayPlan, findings: &mut Vec<Diagnostic>) -> Vec<Written> {
    let mut blocks = Vec::new();
    for iface in &gw.interfaces {
        let origin = &iface.origin;
        let Some(at) = classify(&iface.name) else {
            findings.push(cannot_express(
                NAME,
                origin,
                &format!("`{}` is not a VyOS interface name", iface.name),
                "use the name VyOS gives the interface: ethN or lanN (ethernet, ethN.VLAN for a VLAN), vtiN, bondN, brN, dumN, tunN, wgN, lo",
            ));
            continue;
        };
        if iface.addresses.is_empty() && iface.description.is_none() && iface.tcp_mss.is_none() {
            continue;
        }
        let mut block = Block::new(origin.describe(), order(&at.path));
        for a in &iface.addresses {
            if is_host_address(&a.value) {
                block.leaf(format!("{} address", at.path), a.value);
            } else {
                findings.push(network_address(origin, &a.value));
            }
        }
        if let Some(d) = &iface.description {
            // Written as it is: the intent refuses what a one-line label cannot hold (N122) and
            // the target what is longer than `.{0,255}` (N305), so nothing is cut or trimmed.
            block.leaf(format!("{} description", at.path), d.value.clone());
        }
        if let Some(m) = &iface.tcp_mss {
            adjust_mss(&mut block, &at, &iface.name, m, origin, findings);
        }
        if !at.complete {
            findings.push(
                Diagnostic::warning(
                    crate::diag::Code::TARGET_CANNOT_EXPRESS,
                    format!(
                        "target {NAME}: natc writes only the address and description of {} (`{}`); the rest of its settings are yours",
                        origin.describe(),
                        at.path
                    ),
                )
                .label(iface.origin.span.clone(), "this interface")
                .help("configure the interface type's own settings (encapsulation, remote, keys...) on the router; natc does not know them"),
            );
        }
        blocks.push(block.written());
    }
    for owned in &gw.owned {
        let Some(at) = classify(&owned.interface) else {
            findings.push(cannot_express(
                NAME,
                &owned.origin,
                &format!("`{}` is not a VyOS interface name", owned.interface),
                "own the address on lo or on an interface with a VyOS name (ethN, vtiN, ...)",
            ));
            continue;
        };
        if !is_host_address(&owned.address) {
            findings.push(cannot_express(
                NAME,
                &owned.origin,
                &format!(
                    "owning the whole prefix {} on {} needs the network address as an interface address, which VyOS refuses",
                    owned.address, owned.interface
                ),
                "claim host addresses (one dnat per address), or route the prefix to the gateway (claim = \"routed\")",
            ));
            continue;
        }
        let mut block = Block::new(owned.origin.describe(), order(&at.path));
        block.leaf(format!("{} address", at.path), owned.address);
        blocks.push(block.written());
    }
    for sysctl in &gw.sysctls {
        if let Some(b) = sysctl_block(sysctl, findings) {
            blocks.push(b.written());
        }
    }
    for t in &gw.tunnels {
        let Some(vti) = t.vti() else { continue };
        if !vti.name.value.strip_prefix("vti").is_some_and(is_number) {
            findings.push(cannot_express(
                NAME,
                &t.origin,
                &format!("a VTI is named vtiN in VyOS, not `{}`", vti.name.value),
                "name the VTI vti0, vti1, ...",
            ));
            continue;
        }
        let path = format!("interfaces vti {}", vti.name.value);
        let mut block = Block::new(t.origin.describe(), order(&path));
        if is_host_address(&vti.address.value) {
            block.leaf(format!("{path} address"), vti.address.value);
        } else {
            findings.push(network_address(&t.origin, &vti.address.value));
        }
        block.leaf(format!("{path} description"), t.origin.describe());
        if let Some(mtu) = &vti.mtu {
            block.leaf(format!("{path} mtu"), mtu.value);
        }
        if let Some(m) = &t.tcp_mss {
            let at = IfPath { path: path.clone(), complete: true, proxy_arp: false };
            adjust_mss(&mut block, &at, &vti.name.value, m, &t.origin, findings);
        }
        blocks.push(block.written());
    }
    blocks
}

/// `tcp_mss` as `ip adjust-mss`, on the interface types natc writes whole and that forward
/// (ethernet, bonding, bridge, their VLANs, VTI). VyOS clamps the handshake packets that
/// leave the interface only (vyos-1x: an `oifname` rule), while natc's meaning is both
/// directions (docs/intent.md): the warning says so, and the far end clamps the other way.
fn adjust_mss(
    block: &mut Block,
    at: &IfPath,
    name: &str,
    mss: &At<TcpMss>,
    origin: &Origin,
    findings: &mut Vec<Diagnostic>,
) {
    let writes = at.proxy_arp || at.path.starts_with("interfaces vti ");
    if !writes {
        findings.push(cannot_express(
            NAME,
            origin,
            &format!(
                "natc writes `ip adjust-mss` only on ethernet, bonding, bridge and VTI interfaces, not on `{}`",
                at.path
            ),
            "set tcp_mss on the ethernet or VTI interface the traffic leaves through",
        ));
        return;
    }
    let value = match mss.value {
        TcpMss::Auto => "clamp-mss-to-pmtu".to_string(),
        TcpMss::Fixed(n) => n.to_string(),
    };
    block.leaf(format!("{} ip adjust-mss", at.path), value);
    findings.push(
        Diagnostic::warning(
            crate::diag::Code::TARGET_CANNOT_EXPRESS,
            format!(
                "target {NAME}: `ip adjust-mss` clamps the TCP handshakes that leave `{name}` ({}); those that arrive through it keep the MSS the far end lets through",
                origin.describe()
            ),
        )
        .label(mss.span.clone(), "both directions on the Linux targets and RTX")
        .help("clamp on the far end too (tcp_mss there; a cloud VPN gateway usually does), then accept N301 on this gateway with that reason"),
    );
}

fn network_address(origin: &Origin, net: &Ipv4Net) -> Diagnostic {
    cannot_express(
        NAME,
        origin,
        &format!("{net} is the network address of its prefix, which VyOS does not accept as an interface address"),
        "give the interface a host address of the prefix, e.g. the first usable one",
    )
}

/// The kernel settings of the plan: forwarding is VyOS's default (natc never turns it off,
/// docs/intent.md), proxy ARP is `ip enable-proxy-arp` on the interface.
fn sysctl_block(sysctl: &crate::plan::Sysctl, findings: &mut Vec<Diagnostic>) -> Option<Block> {
    if sysctl.key == "net.ipv4.ip_forward" && sysctl.value == "1" {
        return None;
    }
    let iface = sysctl.key.strip_prefix("net.ipv4.conf.").and_then(|k| k.strip_suffix(".proxy_arp"));
    match (iface.and_then(|i| classify(i).map(|p| (i, p))), sysctl.value.as_str()) {
        (Some((_, at)), "1") if at.proxy_arp => {
            let mut block = Block::new(sysctl.origin.describe(), order(&at.path));
            block.node(format!("{} ip enable-proxy-arp", at.path));
            Some(block)
        }
        (Some((i, _)), "1") => {
            findings.push(cannot_express(
                NAME,
                &sysctl.origin,
                &format!("proxy ARP on `{i}`: VyOS has `ip enable-proxy-arp` only on ethernet, bonding and bridge interfaces and their VLANs"),
                "answer ARP on an ethernet interface, or use claim = \"loopback\" or \"routed\"",
            ));
            None
        }
        _ => {
            findings.push(cannot_express(
                NAME,
                &sysctl.origin,
                &format!("the kernel setting {}={}", sysctl.key, sysctl.value),
                "this is a bug in natc's VyOS target; please report it with the intent file",
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_their_vyos_types() {
        let path = |n: &str| classify(n).map(|p| p.path);
        assert_eq!(path("eth0").as_deref(), Some("interfaces ethernet eth0"));
        assert_eq!(path("lan3").as_deref(), Some("interfaces ethernet lan3"));
        assert_eq!(path("enp1s0").as_deref(), Some("interfaces ethernet enp1s0"));
        assert_eq!(path("eth0.10").as_deref(), Some("interfaces ethernet eth0 vif 10"));
        assert_eq!(path("vti3").as_deref(), Some("interfaces vti vti3"));
        assert_eq!(path("vtun0").as_deref(), Some("interfaces openvpn vtun0"));
        assert_eq!(path("wlan0").as_deref(), Some("interfaces wireless wlan0"));
        assert_eq!(path("lo").as_deref(), Some("interfaces loopback lo"));
        assert!(classify("tun0").is_some_and(|p| !p.complete));
        for bad in ["wan", "ppp0x", "eth", "eth0.x", "eth0.5000", "vti0.1", "docker0", "ens"] {
            assert_eq!(classify(bad), None, "{bad}");
        }
    }

    #[test]
    fn network_addresses_are_not_host_addresses() {
        assert!(is_host_address(&"192.168.0.9/24".parse().unwrap()));
        assert!(is_host_address(&"192.168.82.70/32".parse().unwrap()));
        assert!(is_host_address(&"10.0.0.0/31".parse().unwrap()));
        assert!(!is_host_address(&"192.168.82.0/24".parse().unwrap()));
    }
}
