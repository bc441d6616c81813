//! Site-to-site IPsec, VyOS 1.4 style: named peers (the tunnel's name), the PSK under
//! `vpn ipsec authentication psk`, one ike-group and one esp-group per tunnel (named
//! after it, so editing one tunnel never touches another), VTI binding for route-based
//! tunnels and `tunnel 1` traffic selectors for policy-based ones.

use super::{Block, NAME, Written};
use crate::backend::cannot_express;
use crate::diag::{Code, Diagnostic};
use crate::plan::GatewayPlan;
use crate::plan::{Tunnel, TunnelMode};
use crate::vocab::DpdAction;
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// VyOS's `proposal N encryption` and `hash` words (schema 1.4 and 1.5 alike).
const ENCRYPTIONS: &[&str] = &[
    "null",
    "aes128",
    "aes192",
    "aes256",
    "aes128ctr",
    "aes192ctr",
    "aes256ctr",
    "aes128ccm64",
    "aes192ccm64",
    "aes256ccm64",
    "aes128ccm96",
    "aes192ccm96",
    "aes256ccm96",
    "aes128ccm128",
    "aes192ccm128",
    "aes256ccm128",
    "aes128gcm64",
    "aes192gcm64",
    "aes256gcm64",
    "aes128gcm96",
    "aes192gcm96",
    "aes256gcm96",
    "aes128gcm128",
    "aes192gcm128",
    "aes256gcm128",
    "aes128gmac",
    "aes192gmac",
    "aes256gmac",
    "3des",
    "blowfish128",
    "blowfish192",
    "blowfish256",
    "camellia128",
    "camellia192",
    "camellia256",
    "camellia128ctr",
    "camellia192ctr",
    "camellia256ctr",
    "camellia128ccm64",
    "camellia192ccm64",
    "camellia256ccm64",
    "camellia128ccm96",
    "camellia192ccm96",
    "camellia256ccm96",
    "camellia128ccm128",
    "camellia192ccm128",
    "camellia256ccm128",
    "serpent128",
    "serpent192",
    "serpent256",
    "twofish128",
    "twofish192",
    "twofish256",
    "cast128",
    "chacha20poly1305",
];
const HASHES: &[&str] = &[
    "md5",
    "md5_128",
    "sha1",
    "sha1_160",
    "sha256",
    "sha256_96",
    "sha384",
    "sha512",
    "aesxcbc",
    "aescmac",
    "aes128gmac",
    "aes192gmac",
    "aes256gmac",
];
/// Diffie-Hellman groups VyOS offers (1, 2, 5, 14-32).
fn dh_group_known(g: u32) -> bool {
    matches!(g, 1 | 2 | 5 | 14..=32)
}

pub fn blocks(gw: &GatewayPlan, findings: &mut Vec<Diagnostic>) -> Vec<Written> {
    if gw.tunnels.is_empty() {
        return Vec::new();
    }
    let mut blocks = Vec::new();
    let mut listen: BTreeSet<String> = BTreeSet::new();
    let owners = Owners::of(gw);
    for (index, t) in gw.tunnels.iter().enumerate() {
        if let Some(b) = tunnel(gw, index, t, &owners, &mut listen, findings) {
            blocks.push(b.written());
        }
    }
    let mut global = Block::new(format!("{} tunnels (IKE interfaces, options)", gw.name), (0, String::new()));
    for i in &listen {
        global.leaf("vpn ipsec interface", i);
    }
    if gw.tunnels.iter().any(|t| t.vti().is_some()) {
        // Routes into a VTI come from the intent (routes, BGP), not from strongSwan.
        global.node("vpn ipsec options disable-route-autoinstall");
    }
    if !global.is_empty() {
        blocks.push(global.written());
    }
    blocks
}

/// Which interface owns each address of the gateway, indexed once so that each tunnel
/// looks its local address up instead of scanning every interface.
struct Owners<'a>(FxHashMap<Ipv4Addr, &'a str>);

impl<'a> Owners<'a> {
    fn of(gw: &'a GatewayPlan) -> Self {
        // The first interface with the address, in order; else the first owned address.
        let mut map = gw.interface_of_address();
        for o in &gw.owned {
            map.entry(o.address.addr()).or_insert(o.interface.as_str());
        }
        Owners(map)
    }

    /// The interface that owns the tunnel's local address: IKE listens there.
    fn owner(&self, local: Ipv4Addr) -> Option<String> {
        self.0.get(&local).map(|i| (*i).to_string())
    }
}

/// The set lines of `gw.tunnels[index]`.
fn tunnel(
    gw: &GatewayPlan,
    index: usize,
    t: &Tunnel,
    owners: &Owners,
    listen: &mut BTreeSet<String>,
    findings: &mut Vec<Diagnostic>,
) -> Option<Block> {
    let errors = findings.len();
    for (what, word, known) in [
        ("IKE encryption", &t.ike.encryption, ENCRYPTIONS),
        ("IKE hash", &t.ike.hash, HASHES),
        ("ESP encryption", &t.esp.encryption, ENCRYPTIONS),
        ("ESP hash", &t.esp.hash, HASHES),
    ] {
        if !known.contains(&word.as_str()) {
            findings.push(cannot_express(
                NAME,
                &t.origin,
                &format!("VyOS has no {what} `{word}`"),
                "use one of VyOS's words, e.g. aes128, aes256, aes256gcm128 (encryption) or sha1, sha256 (hash)",
            ));
        }
    }
    if !dh_group_known(t.ike.dh_group) {
        findings.push(cannot_express(
            NAME,
            &t.origin,
            &format!("VyOS has no Diffie-Hellman group {}", t.ike.dh_group),
            "use group 1, 2, 5 or 14-32 (14 or higher is advised)",
        ));
    }
    if let (Some(m), TunnelMode::Policy { .. }) = (&t.tcp_mss, &t.mode) {
        findings.push(
            cannot_express(
                NAME,
                &t.origin,
                "VyOS clamps the MSS per interface (`ip adjust-mss`), and a policy-based tunnel has none",
                "make the tunnel route-based (vti = { … }), or set tcp_mss on the interface its traffic leaves through",
            )
            .label(m.span.clone(), "tcp_mss"),
        );
    }
    if findings.len() > errors {
        return None;
    }
    let name = &t.origin.name;
    let peer = format!("vpn ipsec site-to-site peer {name}");
    let ike = format!("vpn ipsec ike-group {name}");
    let esp = format!("vpn ipsec esp-group {name}");
    let psk = format!("vpn ipsec authentication psk {name}");
    let mut b = Block::new(t.origin.describe(), (0, name.clone()));

    b.leaf(format!("{ike} key-exchange"), if t.ike.version == 1 { "ikev1" } else { "ikev2" });
    b.leaf(format!("{ike} lifetime"), t.ike.lifetime);
    b.leaf(format!("{ike} proposal 1 dh-group"), t.ike.dh_group);
    b.leaf(format!("{ike} proposal 1 encryption"), &t.ike.encryption);
    b.leaf(format!("{ike} proposal 1 hash"), &t.ike.hash);
    if let Some(dpd) = &t.dpd {
        b.leaf(
            format!("{ike} dead-peer-detection action"),
            match dpd.action {
                DpdAction::Restart => "restart",
                DpdAction::Clear => "clear",
                // strongSwan's `hold` is swanctl's `trap`; VyOS 1.4 renamed it so.
                DpdAction::Hold => "trap",
            },
        );
        b.leaf(format!("{ike} dead-peer-detection interval"), dpd.interval);
        b.leaf(format!("{ike} dead-peer-detection timeout"), dpd.timeout);
        if t.ike.version == 2 {
            findings.push(
                Diagnostic::warning(
                    Code::TARGET_CANNOT_EXPRESS,
                    format!(
                        "target {NAME}: {} sets a DPD timeout, which strongSwan uses only with IKEv1; with IKEv2 a peer is declared dead after the retransmission sequence",
                        t.origin.describe()
                    ),
                )
                .label(t.origin.span.clone(), "this tunnel")
                .help("drop `timeout` from dpd for IKEv2 tunnels, or accept strongSwan's retransmission timing"),
            );
        }
    }

    b.leaf(format!("{esp} lifetime"), t.esp.lifetime);
    b.leaf(format!("{esp} mode"), "tunnel");
    b.leaf(format!("{esp} pfs"), if t.esp.pfs { "enable" } else { "disable" });
    b.leaf(format!("{esp} proposal 1 encryption"), &t.esp.encryption);
    b.leaf(format!("{esp} proposal 1 hash"), &t.esp.hash);

    // The ids select the secret: our address (when we have one) and the peer's, and the
    // IKE identities when they are other than these (strongSwan looks the key up by them).
    for id in psk_ids(t) {
        b.leaf(format!("{psk} id"), id);
    }
    b.secret(format!("{psk} secret"), index);

    b.leaf(format!("{peer} authentication mode"), "pre-shared-secret");
    // Without local_id, VyOS proves the address the tunnel leaves from: local_identity()'s default.
    if let Some(id) = &t.local_id {
        b.leaf(format!("{peer} authentication local-id"), &id.value);
    }
    b.leaf(format!("{peer} authentication remote-id"), t.remote_identity().value);
    b.leaf(format!("{peer} connection-type"), "initiate");
    let description = crate::backend::describe::with_description(t.origin.describe(), t.description.as_ref());
    b.leaf(format!("{peer} description"), description);
    b.leaf(format!("{peer} ike-group"), name);
    b.leaf(format!("{peer} remote-address"), t.remote.value);
    match &t.local_address {
        Some(local) => {
            b.leaf(format!("{peer} local-address"), local.value);
            match owners.owner(local.value) {
                Some(i) => {
                    listen.insert(i);
                }
                None => findings.push(
                    Diagnostic::warning(
                        Code::TARGET_CANNOT_EXPRESS,
                        format!(
                            "target {NAME}: no interface of {} has the address {}, so natc cannot name the interface IKE listens on",
                            gw.name, local.value
                        ),
                    )
                    .label(local.span.clone(), "local_address")
                    .help("declare the interface that owns this address, so that `vpn ipsec interface` names it"),
                ),
            }
        }
        None => b.leaf(format!("{peer} local-address"), "any"),
    }
    if t.nat_traversal {
        // Detection is automatic in 1.4; behind NAT it always chooses UDP encapsulation,
        // so forcing it changes nothing there and makes the intent visible in review.
        b.node(format!("{peer} force-udp-encapsulation"));
    }
    match &t.mode {
        TunnelMode::Vti(vti) => {
            b.leaf(format!("{peer} vti bind"), &vti.name.value);
            b.leaf(format!("{peer} vti esp-group"), name);
        }
        TunnelMode::Policy { local, remote } => {
            b.leaf(format!("{peer} tunnel 1 esp-group"), name);
            for l in local {
                b.leaf(format!("{peer} tunnel 1 local prefix"), address_prefix(&l.value));
            }
            for r in remote {
                b.leaf(format!("{peer} tunnel 1 remote prefix"), address_prefix(&r.value));
            }
        }
    }
    Some(b)
}

/// The `authentication psk … id` values: the addresses, then identities that differ from them.
fn psk_ids(t: &Tunnel) -> Vec<String> {
    let mut ids: Vec<String> = t.local_address.iter().map(|a| a.value.to_string()).collect();
    ids.push(t.remote.value.to_string());
    for id in [t.local_id.as_ref(), t.remote_id.as_ref()].into_iter().flatten() {
        let id = id.value.to_string();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// Traffic selectors are prefixes: a host is `/32` here.
fn address_prefix(net: &ipnet::Ipv4Net) -> String {
    net.to_string()
}
