//! IPsec tunnels (command reference ch. 14–15): one `tunnel select N` block per route-based tunnel, whose
//! VTI is named `tunnelN`. Tunnel number, security gateway id and SA policy id are all N,
//! so they follow the name and never move. Pre-shared keys are placeholders.

use super::{Block, Ctx, IfClass, NAME, classify};
use crate::backend::secret;
use crate::backend::{cannot_express, quote};
use crate::plan::{Tunnel, TunnelMode};
use crate::vocab::{DpdAction, IkeId};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct TunnelView {
    pub comments: Vec<String>,
    pub number: u32,
    pub policy: u32,
    pub gateway: u32,
    pub esp_encryption: &'static str,
    pub esp_auth: &'static str,
    /// `ipsec ike …` lines without the prefix, in the canonical order (§5.4).
    pub ike: Vec<String>,
    /// The key's slot ([`secret::slot_marker`]), written as it is: the placeholder or the
    /// value goes there after rendering, quoted with `rtx_escape`.
    pub psk: String,
    pub address: String,
    /// `ip tunnel tcp mss limit …` (tcp_mss), or none: the router's default.
    pub mss: Option<String>,
    /// `ip tunnel …` lines from NAT and filters (the `{if}` prefix already replaced).
    pub interface: Vec<Block>,
    #[serde(skip)]
    pub interface_name: String,
}

fn encryption(name: &str) -> Option<&'static str> {
    match name {
        "aes128" | "aes" => Some("aes-cbc"),
        "aes256" => Some("aes256-cbc"),
        "3des" => Some("3des-cbc"),
        _ => None,
    }
}

/// (IKE hash, ESP authentication) names.
fn hash(name: &str, cx: &Ctx) -> Option<(&'static str, &'static str)> {
    match name {
        "sha1" | "sha" => Some(("sha", "sha-hmac")),
        "md5" => Some(("md5", "md5-hmac")),
        // Not confirmed for the RTX1200's firmware (docs/rtx.md): treated as absent there.
        "sha256" if !cx.limits.legacy => Some(("sha256", "sha256-hmac")),
        "sha384" if cx.limits.sha2_big => Some(("sha384", "sha384-hmac")),
        "sha512" if cx.limits.sha2_big => Some(("sha512", "sha512-hmac")),
        _ => None,
    }
}

fn group(dh: u32) -> Option<&'static str> {
    match dh {
        1 => Some("modp768"),
        2 => Some("modp1024"),
        5 => Some("modp1536"),
        14 => Some("modp2048"),
        _ => None,
    }
}

pub fn tunnels(cx: &mut Ctx) -> Vec<TunnelView> {
    let gw = cx.gw;
    let mut views: Vec<TunnelView> =
        gw.tunnels.iter().enumerate().filter_map(|(index, t)| tunnel(cx, index, t)).collect();
    views.sort_by_key(|v| v.number);
    views
}

/// The view of `gw.tunnels[index]`, or `None` when RTX cannot express it.
fn tunnel(cx: &mut Ctx, index: usize, t: &Tunnel) -> Option<TunnelView> {
    let mut ok = true;
    let mut refuse = |cx: &mut Ctx, what: &str, help: &str| {
        cx.refuse(&t.origin, what, help);
        ok = false;
    };
    let vti = match &t.mode {
        TunnelMode::Vti(v) => v,
        TunnelMode::Policy { .. } => {
            refuse(
                cx,
                "RTX IPsec is route-based (a tunnel interface plus routes); natc does not turn traffic selectors into routes",
                "use vti = { name = \"tunnel1\", address = \"169.254.0.2/30\" } and [[gateway.route]] items with interface = \"tunnel1\"",
            );
            return None;
        }
    };
    let number = match classify(&vti.name.value) {
        Some(IfClass::Tunnel(n)) if n <= cx.limits.max_tunnel => n,
        Some(IfClass::Tunnel(n)) => {
            refuse(
                cx,
                &format!("{} has tunnels 1..{}, not {n}", cx.limits.model, cx.limits.max_tunnel),
                &format!("name the VTI tunnel1..tunnel{}", cx.limits.max_tunnel),
            );
            return None;
        }
        _ => {
            refuse(
                cx,
                &format!("its VTI `{}` is not an RTX tunnel interface name", vti.name.value),
                "name the VTI tunnelN (tunnel1, tunnel2, …): N is the RTX tunnel number",
            );
            return None;
        }
    };
    if vti.mtu.is_some() {
        refuse(cx, "the RTX reference natc follows sets no tunnel MTU", "remove `mtu` from the tunnel built for rtx");
    }
    let v2 = t.ike.version == 2;
    if v2 && cx.limits.legacy {
        refuse(cx, "IKEv2 is not confirmed on RTX1200 (Rev.10.01)", "use ike.version = 1, or a newer model profile");
    }
    if t.nat_traversal && !v2 && cx.limits.legacy {
        refuse(
            cx,
            "NAT traversal in IKEv1 main mode is not confirmed on RTX1200",
            "use a newer model profile (RTX1210 or later)",
        );
    }
    let ike_enc = encryption(&t.ike.encryption);
    let esp_enc = encryption(&t.esp.encryption);
    let ike_hash = hash(&t.ike.hash, cx);
    let esp_hash = hash(&t.esp.hash, cx);
    for (value, known, what) in [
        (&t.ike.encryption, ike_enc.is_some(), "IKE encryption"),
        (&t.esp.encryption, esp_enc.is_some(), "ESP encryption"),
        (&t.ike.hash, ike_hash.is_some(), "IKE hash"),
        (&t.esp.hash, esp_hash.is_some(), "ESP hash"),
    ] {
        if !known {
            refuse(
                cx,
                &format!("{} has no {what} `{value}` that natc can confirm from its reference", cx.limits.model),
                "use aes128, aes256 or 3des, and sha1, sha256 (not RTX1200) or md5; sha384/sha512 on RTX1300 and RTX3510",
            );
        }
    }
    let dh = group(t.ike.dh_group);
    if dh.is_none() {
        refuse(cx, &format!("RTX has no DH group {}", t.ike.dh_group), "use dh_group 1, 2, 5 or 14");
    }
    for (seconds, what) in [(t.ike.lifetime, "IKE lifetime"), (t.esp.lifetime, "ESP lifetime")] {
        if !(300..=691_200).contains(&seconds) {
            refuse(
                cx,
                &format!("the {what} must be 300..691200 seconds on RTX, not {seconds}"),
                "use a lifetime of at least 300 seconds",
            );
        }
    }
    let n = number;
    let mut ike = Vec::new();
    if v2 {
        ike.push(format!("version {n} 2"));
    }
    ike.push(format!("encryption {n} {}", ike_enc.unwrap_or_default()));
    ike.push(format!("hash {n} {}", ike_hash.map(|h| h.0).unwrap_or_default()));
    ike.push(format!("group {n} {}", dh.unwrap_or_default()));
    ike.push(format!("pfs {n} {}", if t.esp.pfs { "on" } else { "off" }));
    let (phase1, phase2) = if v2 { ("ike-sa", "child-sa") } else { ("isakmp-sa", "ipsec-sa") };
    ike.push(format!("duration {phase1} {n} {}", t.ike.lifetime));
    ike.push(format!("duration {phase2} {n} {}", t.esp.lifetime));
    match &t.dpd {
        None => ike.push(format!("keepalive use {n} off")),
        Some(d) => {
            let count = d.timeout / d.interval;
            if d.action != DpdAction::Restart {
                refuse(
                    cx,
                    "after a failed keepalive RTX drops the SA and, with `ipsec auto refresh on`, negotiates again: that is dpd action restart",
                    "use dpd.action = \"restart\"",
                );
            } else if d.timeout % d.interval != 0 || !(1..=600).contains(&d.interval) || !(1..=50).contains(&count) {
                refuse(
                    cx,
                    "RTX sets DPD as an interval (1..600 s) and a count (1..50), so the timeout must be a multiple of the interval",
                    "e.g. interval = 15, timeout = 30 (two probes)",
                );
            }
            ike.push(format!("keepalive use {n} on {} {} {count}", if v2 { "rfc4306" } else { "dpd" }, d.interval));
        }
    }
    if let Some(local) = &t.local_address {
        ike.push(format!("local address {n} {}", local.value));
    }
    ike.extend(identities(cx, t, n));
    ike.push(format!("remote address {n} {}", t.remote.value));
    if t.nat_traversal {
        ike.push(format!("nat-traversal {n} on"));
    }
    let psk = secret::placeholder(&t.psk.value);
    if psk.len() > 128 || psk.chars().any(char::is_control) {
        refuse(
            cx,
            "RTX takes a pre-shared key of at most 128 characters on one line, and the placeholder for this reference does not fit",
            "use a shorter env name or file path",
        );
    }
    let mut comments = vec![t.origin.describe()];
    if let Some(d) = &t.description {
        comments.extend(crate::backend::quote::comment_lines(&d.value));
    }
    ok.then(|| TunnelView {
        comments,
        number: n,
        policy: n,
        gateway: n,
        esp_encryption: esp_enc.unwrap_or_default(),
        esp_auth: esp_hash.map(|h| h.1).unwrap_or_default(),
        ike,
        psk: secret::slot_marker(index),
        address: vti.address.value.to_string(),
        mss: t.tcp_mss.as_ref().map(|m| super::mss_limit(m.value)),
        interface: Vec::new(),
        interface_name: vti.name.value.clone(),
    })
}

/// The IKE identities (`local_id`, `remote_id`) as `ipsec ike local name` / `remote name`
/// (command reference §15.17, §15.14). Those names are IKEv2 identities, and in IKEv1 they
/// switch the router to aggressive mode; natc writes IKEv1 in main mode, where each end is
/// known by its address, so there an identity other than the address is N301.
fn identities(cx: &mut Ctx, t: &Tunnel, n: u32) -> Vec<String> {
    let mut lines = Vec::new();
    let address = |id: &IkeId, a: Option<std::net::Ipv4Addr>| matches!(id, IkeId::Address(x) if Some(*x) == a);
    for (side, id, own) in [
        ("local", &t.local_id, t.local_address.as_ref().map(|a| a.value)),
        ("remote", &t.remote_id, Some(t.remote.value)),
    ] {
        let Some(id) = id else { continue };
        if t.ike.version == 2 {
            let kind = match id.value {
                IkeId::Address(_) => "ipv4-addr",
                IkeId::Fqdn(_) => "fqdn",
                IkeId::UserFqdn(_) => "user-fqdn",
            };
            lines.push(format!("{side} name {n} {} {kind}", quote::rtx_escape(&id.value.to_string())));
        } else if !address(&id.value, own) {
            let key = if side == "local" { "local_address" } else { "remote" };
            cx.errors.push(
                cannot_express(
                    NAME,
                    &t.origin,
                    &format!(
                        "with IKEv1 natc writes main mode, where each end is known by its address, so the {side} identity must be `{key}`, not `{}`",
                        id.value
                    ),
                    "use ike.version = 2 (the RTX sends and checks names there), or drop the identity",
                )
                .label(id.span.clone(), "this identity"),
            );
        }
    }
    lines
}
