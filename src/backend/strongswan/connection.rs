//! One tunnel as a swanctl `connections.<name>` section and its `secrets.ike-<name>`.
//! Every value written from intent text is a swanctl quoted string (quote::swanctl_string),
//! so an identity or a description can never end its value or its section; names are
//! `[a-z0-9-]` by the intent's rules and need no quoting.

use super::{NAME, proposals, xfrm};
use crate::backend::{cannot_express, quote, secret};
use crate::diag::{Code, Diagnostic};
use crate::plan::{Tunnel, TunnelMode};
use crate::vocab::DpdAction;
use serde::Serialize;

/// `key = value`, the value as swanctl reads it (already quoted where it is text).
#[derive(Debug, Serialize)]
pub struct Setting {
    pub key: &'static str,
    pub value: String,
}

fn set(key: &'static str, value: impl ToString) -> Setting {
    Setting { key, value: value.to_string() }
}

#[derive(Debug, Serialize)]
pub struct ConnectionView {
    pub name: String,
    pub comments: Vec<String>,
    pub settings: Vec<Setting>,
    pub local: Vec<Setting>,
    pub remote: Vec<Setting>,
    pub child: Vec<Setting>,
}

#[derive(Debug, Serialize)]
pub struct SecretView {
    pub name: String,
    pub comment: String,
    pub ids: Vec<Setting>,
    /// The key's slot ([`secret::slot_marker`]), written as it is.
    pub secret: String,
}

/// The proposals of a tunnel, or why strongSwan has no exact word for a part of them.
struct Proposals {
    ike: String,
    esp: String,
}

fn proposals(t: &Tunnel) -> Result<Proposals, Vec<String>> {
    let mut missing = Vec::new();
    let ike_cipher = proposals::cipher(&t.ike.encryption);
    let esp_cipher = proposals::cipher(&t.esp.encryption);
    let ike_hash = proposals::hash(&t.ike.hash);
    let esp_hash = proposals::hash(&t.esp.hash);
    let group = proposals::dh_group(t.ike.dh_group);
    for (ok, what, word) in [
        (ike_cipher.is_some(), "IKE encryption", &t.ike.encryption),
        (esp_cipher.is_some(), "ESP encryption", &t.esp.encryption),
        (ike_hash.is_some(), "IKE hash", &t.ike.hash),
        (esp_hash.is_some(), "ESP hash", &t.esp.hash),
    ] {
        if !ok {
            missing.push(format!("strongSwan has no {what} `{word}`"));
        }
    }
    if group.is_none() {
        missing.push(format!("strongSwan has no Diffie-Hellman group {}", t.ike.dh_group));
    }
    match (ike_cipher, esp_cipher, ike_hash, esp_hash, group) {
        (Some(ic), Some(ec), Some(ih), Some(eh), Some(g)) if missing.is_empty() => {
            Ok(Proposals { ike: proposals::ike(ic, ih, g), esp: proposals::esp(ec, eh, t.esp.pfs.then_some(g)) })
        }
        _ => Err(missing),
    }
}

/// What strongSwan cannot express of `t` (N301), and what it writes only in part (warnings).
pub fn check(t: &Tunnel, findings: &mut Vec<Diagnostic>) {
    if let Err(missing) = proposals(t) {
        for what in missing {
            findings.push(cannot_express(
                NAME,
                &t.origin,
                &what,
                "use strongSwan's words: aes128, aes256, aes256gcm128 (encryption), sha1, sha256, sha384 (hash), dh_group 14-24 or 31",
            ));
        }
    }
    if let TunnelMode::Policy { local, remote } = &t.mode
        && t.ike.version == 1
        && (local.len() > 1 || remote.len() > 1)
    {
        // swanctl.conf(5), local_ts: "When IKEv1 is used only the first selector is interpreted".
        findings.push(cannot_express(
            NAME,
            &t.origin,
            "with IKEv1 strongSwan negotiates only the first traffic selector of each side, and this tunnel has several",
            "use ike.version = 2, or one tunnel per pair of networks",
        ));
    }
    if let Some(d) = &t.dpd
        && t.ike.version == 2
    {
        findings.push(
            Diagnostic::warning(
                Code::TARGET_CANNOT_EXPRESS,
                format!(
                    "target {NAME}: {} sets a DPD timeout ({} s), which strongSwan uses only with IKEv1; with IKEv2 a peer is declared dead after the retransmission sequence",
                    t.origin.describe(),
                    d.timeout
                ),
            )
            .label(t.origin.span.clone(), "this tunnel")
            .help("accept strongSwan's retransmission timing (accept N301 on the gateway), or use IKEv1"),
        );
    }
}

/// Seconds as swanctl writes a time.
fn seconds(n: u32) -> String {
    format!("{n}s")
}

/// The view of `gw.tunnels[index]`; `None` when `check` refused it.
pub fn view(index: usize, t: &Tunnel) -> Option<(ConnectionView, SecretView)> {
    let p = proposals(t).ok()?;
    let name = t.origin.name.clone();
    let mut comments = vec![t.origin.describe()];
    if let Some(d) = &t.description {
        comments.extend(quote::comment_lines(&d.value));
    }

    let mut settings = vec![set("version", t.ike.version)];
    if let Some(local) = &t.local_address {
        settings.push(set("local_addrs", local.value));
    }
    settings.push(set("remote_addrs", t.remote.value));
    settings.push(set("proposals", p.ike));
    // Keep trying until the peer answers (the default gives up after one retransmission
    // sequence): a tunnel whose peer is not up yet comes up when it is (docs/tunnels.md).
    settings.push(set("keyingtries", 0));
    if t.nat_traversal {
        // Always UDP-encapsulate ESP, also when no NAT is detected (the intent says so).
        settings.push(set("encap", "yes"));
    }
    // The SA never outlives `lifetime`: rekeyed (IKEv1: reauthenticated) at 90 %, hard
    // expiry after the remaining 10 % (docs/tunnels.md).
    let (rekey, over) = split_lifetime(t.ike.lifetime);
    settings.push(set("rekey_time", seconds(rekey)));
    settings.push(set("over_time", seconds(over)));
    if let Some(d) = &t.dpd {
        settings.push(set("dpd_delay", seconds(d.interval)));
        if t.ike.version == 1 {
            settings.push(set("dpd_timeout", seconds(d.timeout)));
        }
    }

    let local_id = t.local_identity().map(|id| quote::swanctl_string(&id.value.to_string()));
    let remote_id = quote::swanctl_string(&t.remote_identity().value.to_string());
    let mut local = vec![set("auth", "psk")];
    if let Some(id) = &local_id {
        local.push(set("id", id));
    }
    let remote = vec![set("auth", "psk"), set("id", &remote_id)];

    let mut child = Vec::new();
    match &t.mode {
        TunnelMode::Policy { local, remote } => {
            let list = |nets: &[crate::vocab::At<ipnet::Ipv4Net>]| {
                nets.iter().map(|n| n.value.to_string()).collect::<Vec<_>>().join(", ")
            };
            child.push(set("local_ts", list(local)));
            child.push(set("remote_ts", list(remote)));
        }
        TunnelMode::Vti(v) => {
            // Everything may enter the SA: the routes into the XFRM interface decide.
            child.push(set("local_ts", "0.0.0.0/0"));
            child.push(set("remote_ts", "0.0.0.0/0"));
            let id = xfrm::if_id(&v.name.value);
            child.push(set("if_id_in", id));
            child.push(set("if_id_out", id));
        }
    }
    child.push(set("esp_proposals", p.esp));
    let (rekey, _) = split_lifetime(t.esp.lifetime);
    child.push(set("rekey_time", seconds(rekey)));
    child.push(set("life_time", seconds(t.esp.lifetime)));
    if let Some(d) = &t.dpd {
        child.push(set(
            "dpd_action",
            match d.action {
                DpdAction::Restart => "restart",
                DpdAction::Clear => "clear",
                DpdAction::Hold => "trap",
            },
        ));
    }
    // Both ends initiate as soon as the file is loaded: the tunnel comes up by itself, also
    // from behind a NAT that lets nothing in first (docs/tunnels.md, "start_action").
    child.push(set("start_action", "start"));

    let mut ids = Vec::new();
    if let Some(id) = local_id {
        ids.push(set("id-1", id));
    }
    ids.push(set(if ids.is_empty() { "id-1" } else { "id-2" }, remote_id));
    let secret = SecretView {
        name: format!("ike-{name}"),
        comment: format!("{} ({})", t.origin.describe(), secret::describe(&t.psk.value)),
        ids,
        secret: secret::slot_marker(index),
    };
    Some((ConnectionView { name, comments, settings, local, remote, child }, secret))
}

/// (rekey, over) seconds: rekey at 90 % of the lifetime, the rest is the margin.
fn split_lifetime(lifetime: u32) -> (u32, u32) {
    let rekey = lifetime / 10 * 9;
    (rekey, lifetime - rekey)
}
