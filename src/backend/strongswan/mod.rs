//! `--target strongswan`: the gateway's IPsec tunnels as one swanctl.conf for strongSwan
//! ≥ 5.9 (the vici interface), installed as `/etc/swanctl/conf.d/natc-<intent>.conf` and
//! loaded with `swanctl --load-all`. It is the companion of the Linux packet-filter
//! targets: NAT, filters and host state stay with iptables, nftables or firewalld.
//!
//! One connection per tunnel (named after it, so editing one tunnel never touches
//! another), one child SA in it (same name), and one `ike-<tunnel>` secret. The key is a
//! secret slot (backend/secret.rs): the placeholder, or the value with `--secrets inline`.

mod connection;
mod proposals;
pub mod xfrm;

use super::header::{HeaderView, header_view};
use super::{Header, OutputFile, Target, TargetKind, cannot_express, engine};
use crate::diag::{Code, Diagnostic};
use crate::plan::GatewayPlan;
use serde::Serialize;

pub const NAME: &str = "strongswan";
/// Where swanctl reads extra configuration from (the stock swanctl.conf includes conf.d/*.conf).
pub const CONF_DIR: &str = "/etc/swanctl/conf.d";

pub struct Strongswan;

/// The file's name: `natc-<intent>.conf`, the name it is installed under.
pub fn file_name(intent: &str) -> String {
    format!("natc-{intent}.conf")
}

impl Target for Strongswan {
    fn check(&self, gw: &GatewayPlan) -> Vec<Diagnostic> {
        let mut findings = Vec::new();
        if let Some(b) = &gw.bgp {
            findings.push(cannot_express(
                NAME,
                &b.origin,
                "it renders IPsec tunnels, not BGP",
                "build this gateway for vyos, or configure BGP in FRR by hand",
            ));
        }
        for t in &gw.tunnels {
            connection::check(t, &mut findings);
        }
        findings.extend(xfrm::check_ids(gw));
        findings.extend(shared_identities(gw));
        findings
    }

    fn render(&self, header: &Header, gw: &GatewayPlan) -> Result<Vec<OutputFile>, Diagnostic> {
        let name = file_name(header.intent);
        let mut notes = vec![
            "natc writes no strongswan.conf: charon's own settings stay as they are (docs/tunnels.md).".to_string(),
        ];
        if !gw.tunnels.is_empty() {
            notes.push(header.secrets_note().to_string());
        }
        let mut connections = Vec::new();
        let mut secrets = Vec::new();
        for (index, t) in gw.tunnels.iter().enumerate() {
            let (c, s) = connection::view(index, t).ok_or_else(|| {
                Diagnostic::error(
                    Code::INTERNAL,
                    format!("internal error: {} passed the strongswan check but has no view", t.origin.describe()),
                )
                .help("this is a bug in natc; please report it with the intent file")
            })?;
            connections.push(c);
            secrets.push(s);
        }
        let view = ConfView {
            header: header_view(
                header,
                gw,
                NAME,
                format!("install as {CONF_DIR}/{name} (mode 0600), then swanctl --load-all"),
                notes,
            ),
            connections,
            secrets,
        };
        let text = engine::render("strongswan/swanctl.conf.tera", &view)?;
        Ok(vec![OutputFile::with_secret_slots(TargetKind::Strongswan, gw, name, text, true)?])
    }
}

/// charon picks a pre-shared key by the two identities alone: two tunnels with the same
/// pair and different keys would get one of the two keys. Refused at the later tunnel.
fn shared_identities(gw: &GatewayPlan) -> Vec<Diagnostic> {
    use std::collections::hash_map::Entry;
    // The first tunnel of each pair of identities, looked up rather than scanned for.
    let mut seen: rustc_hash::FxHashMap<(Option<crate::vocab::IkeId>, crate::vocab::IkeId), &crate::plan::Tunnel> =
        rustc_hash::FxHashMap::default();
    let mut out = Vec::new();
    for t in &gw.tunnels {
        let key = (t.local_identity().map(|i| i.value), t.remote_identity().value);
        match seen.entry(key) {
            Entry::Occupied(e) if e.get().psk.value != t.psk.value => {
                let (other, (local, remote)) = (e.get(), e.key());
                out.push(cannot_express(
                    NAME,
                    &t.origin,
                    &format!(
                        "it has the identities of tunnel `{}` (local {}, remote {remote}) and another key, and strongSwan selects a key by the identities alone",
                        other.origin.name,
                        local.as_ref().map_or_else(|| "its address".to_string(), ToString::to_string)
                    ),
                    "give one of the tunnels its own local_id or remote_id, or the same psk",
                ));
            }
            Entry::Occupied(_) => {}
            Entry::Vacant(e) => {
                e.insert(t);
            }
        }
    }
    out
}

#[derive(Serialize)]
struct ConfView {
    header: HeaderView,
    connections: Vec<connection::ConnectionView>,
    secrets: Vec<connection::SecretView>,
}
