//! The values both ends must agree on, compared as written: IKE version (N219), IKE
//! proposal (N220), ESP proposal (N221), PFS (N222), lifetimes (N223, a warning), PSK
//! references (N225), route- or policy-based (N227) and the traffic selectors (N226).
//! `a` is the end that comes first in the intent; each diagnostic labels both ends.

use super::End;
use crate::check::{Findings, head, show};
use crate::diag::{Code, Diagnostic, Span};
use crate::model::{At, SecretRef, TunnelMode};
use crate::plan::KeySpans;
use ipnet::Ipv4Net;
use std::collections::BTreeSet;

pub fn check(a: &End, b: &End, found: &mut Findings) {
    let modes = mode(a, b, found);
    version(a, b, found);
    ike_proposal(a, b, found);
    esp_proposal(a, b, found);
    pfs(a, b, found);
    lifetimes(a, b, found);
    psk(a, b, found);
    if modes {
        selectors(a, b, found);
    }
}

/// Where an `ike`/`esp` key's value is written, or (its default) the table, or the tunnel.
fn key(end: &End, spans: &KeySpans, table: &str, key: &str, value: impl std::fmt::Display) -> (Span, String) {
    match spans.key(key) {
        Some(s) => (s.clone(), format!("`{}`: {table}.{key} = {value}", end.name())),
        None => (
            spans.table.clone().unwrap_or_else(|| head(&end.t.origin)),
            format!("`{}`: {table}.{key} is {value} (the default)", end.name()),
        ),
    }
}

/// A mismatch, labelled at both ends (N223 is the one warning).
fn both(code: Code, message: String, la: (Span, String), lb: (Span, String), help: String) -> Diagnostic {
    let d = if code == Code::LIFETIMES_DIFFER {
        Diagnostic::warning(code, message)
    } else {
        Diagnostic::error(code, message)
    };
    d.label(la.0, la.1).label(lb.0, lb.1).help(help)
}

/// N227: a route-based end and a policy-based end. Returns whether both are policy-based
/// (then their selectors are compared).
fn mode(a: &End, b: &End, found: &mut Findings) -> bool {
    let describe = |e: &End| -> (Span, String, bool) {
        match &e.t.mode {
            TunnelMode::Vti(v) => {
                (v.name.span.clone(), format!("`{}` is route-based (vti {})", e.name(), v.name.value), false)
            }
            TunnelMode::Policy { local, .. } => (
                local.first().map_or_else(|| head(&e.t.origin), |l| l.span.clone()),
                format!("`{}` is policy-based (traffic selectors)", e.name()),
                true,
            ),
        }
    };
    let (sa, ta, pa) = describe(a);
    let (sb, tb, pb) = describe(b);
    if pa != pb {
        found.push(
            &a.t.origin,
            both(
                Code::TUNNEL_MODE_MISMATCH,
                format!("tunnel `{}` and its far end `{}` are not the same kind: one route-based, one policy-based", a.name(), b.name()),
                (sa, ta),
                (sb, tb),
                "a vti end negotiates 0.0.0.0/0 both ways and routes into the tunnel, a policy end only its selectors: IKEv1 refuses selectors that differ, IKEv2 narrows them, so what comes up depends on which end starts; make both ends vti or both policy-based".into(),
            ),
        );
    }
    pa && pb
}

/// N219.
fn version(a: &End, b: &End, found: &mut Findings) {
    let (va, vb) = (a.t.ike.version, b.t.ike.version);
    if va != vb {
        found.push(
            &a.t.origin,
            both(
                Code::IKE_VERSION_MISMATCH,
                format!("tunnel `{}` speaks IKEv{va} and its far end `{}` IKEv{vb}", a.name(), b.name()),
                key(a, &a.t.ike.spans, "ike", "version", va),
                key(b, &b.t.ike.spans, "ike", "version", vb),
                "an IKEv1 and an IKEv2 end never agree on an IKE SA (each ignores or refuses the other's first message); write the same ike.version at both ends (2 unless a device only speaks IKEv1)".into(),
            ),
        );
    }
}

/// N220: each part of the IKE proposal that differs.
fn ike_proposal(a: &End, b: &End, found: &mut Findings) {
    let (ia, ib) = (&a.t.ike, &b.t.ike);
    let pfs = if ia.dh_group != ib.dh_group && (a.t.esp.pfs || b.t.esp.pfs) {
        " (natc's targets use the IKE group for PFS too, so the CHILD SAs' rekeying would fail as well)"
    } else {
        ""
    };
    let parts = [
        ("encryption", ia.encryption.clone(), ib.encryption.clone(), !same_word(&ia.encryption, &ib.encryption)),
        ("hash", ia.hash.clone(), ib.hash.clone(), !same_word(&ia.hash, &ib.hash)),
        ("dh_group", ia.dh_group.to_string(), ib.dh_group.to_string(), ia.dh_group != ib.dh_group),
    ];
    for (k, va, vb, differ) in parts {
        if !differ {
            continue;
        }
        let extra = if k == "dh_group" { pfs } else { "" };
        found.push(
            &a.t.origin,
            both(
                Code::IKE_PROPOSAL_MISMATCH,
                format!("tunnel `{}` and its far end `{}` propose a different IKE {k}: {va} and {vb}", a.name(), b.name()),
                key(a, &ia.spans, "ike", k, &va),
                key(b, &ib.spans, "ike", k, &vb),
                format!(
                    "no IKE proposal matches, so the IKE SA is never made (NO_PROPOSAL_CHOSEN){extra}; write the same ike.{k} at both ends"
                ),
            ),
        );
    }
}

fn same_word(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// An AEAD cipher authenticates by itself: its ESP `hash` is not negotiated.
fn aead(cipher: &str) -> bool {
    let c = cipher.to_ascii_lowercase();
    c.contains("gcm") || c.contains("ccm") || c.contains("poly1305")
}

/// N221: the ESP proposal's encryption and hash.
fn esp_proposal(a: &End, b: &End, found: &mut Findings) {
    let (ea, eb) = (&a.t.esp, &b.t.esp);
    let same_aead = same_word(&ea.encryption, &eb.encryption) && aead(&ea.encryption);
    let parts = [
        ("encryption", &ea.encryption, &eb.encryption, !same_word(&ea.encryption, &eb.encryption)),
        ("hash", &ea.hash, &eb.hash, !same_aead && !same_word(&ea.hash, &eb.hash)),
    ];
    for (k, va, vb, differ) in parts {
        if !differ {
            continue;
        }
        found.push(
            &a.t.origin,
            both(
                Code::ESP_PROPOSAL_MISMATCH,
                format!("tunnel `{}` and its far end `{}` propose a different ESP {k}: {va} and {vb}", a.name(), b.name()),
                key(a, &ea.spans, "esp", k, va),
                key(b, &eb.spans, "esp", k, vb),
                format!(
                    "the IKE SA comes up but no CHILD SA does (NO_PROPOSAL_CHOSEN in IKE_AUTH or quick mode), so no traffic passes; write the same esp.{k} at both ends"
                ),
            ),
        );
    }
}

/// N222: PFS on at one end and off at the other.
fn pfs(a: &End, b: &End, found: &mut Findings) {
    let (pa, pb) = (a.t.esp.pfs, b.t.esp.pfs);
    if pa == pb {
        return;
    }
    let word = |on: bool| if on { "on" } else { "off" };
    let when = if a.t.ike.version == 2 && b.t.ike.version == 2 {
        "IKEv2 makes the first CHILD SA without a key exchange, so the tunnel comes up and then fails at its first rekey (after the shorter esp.lifetime), when one end insists on a DH group the other does not offer"
    } else {
        "IKEv1 quick mode carries the PFS group in its proposal, so no CHILD SA is made"
    };
    found.push(
        &a.t.origin,
        both(
            Code::PFS_MISMATCH,
            format!("PFS is {} at tunnel `{}` and {} at its far end `{}`", word(pa), a.name(), word(pb), b.name()),
            key(a, &a.t.esp.spans, "esp", "pfs", pa),
            key(b, &b.t.esp.spans, "esp", "pfs", pb),
            format!("{when}; write the same esp.pfs at both ends (on: the IKE dh_group is the PFS group)"),
        ),
    );
}

/// N223 (a warning): lifetimes that differ. IKEv2 does not negotiate them (RFC 7296
/// §2.8): each end rekeys on its own clock, the shorter one first, and nothing fails.
/// IKEv1 carries them in the proposal and strongSwan (VyOS) takes the initiator's, so the
/// SA's lifetime depends on which end starts. Nothing breaks either way in natc's
/// targets, hence a warning that says who rekeys.
fn lifetimes(a: &End, b: &End, found: &mut Findings) {
    let v2 = a.t.ike.version == 2 && b.t.ike.version == 2;
    for (table, la, lb, sa, sb) in [
        ("ike", a.t.ike.lifetime, b.t.ike.lifetime, &a.t.ike.spans, &b.t.ike.spans),
        ("esp", a.t.esp.lifetime, b.t.esp.lifetime, &a.t.esp.spans, &b.t.esp.spans),
    ] {
        if la == lb {
            continue;
        }
        let first = if la < lb { a.name() } else { b.name() };
        let what = if table == "ike" { "IKE SA" } else { "CHILD SA (ESP)" };
        let how = if v2 {
            format!(
                "IKEv2 does not negotiate lifetimes: each end rekeys on its own clock, so `{first}` does every rekey of the {what} and nothing fails"
            )
        } else {
            format!(
                "IKEv1 carries the lifetime in the proposal and strongSwan (VyOS) takes the initiator's value, so the {what}'s lifetime depends on which end starts"
            )
        };
        found.push(
            &a.t.origin,
            both(
                Code::LIFETIMES_DIFFER,
                format!(
                    "tunnel `{}` and its far end `{}` have different {what} lifetimes: {la} s and {lb} s; `{first}` rekeys first",
                    a.name(),
                    b.name()
                ),
                key(a, sa, table, "lifetime", la),
                key(b, sb, table, "lifetime", lb),
                format!(
                    "{how}; write the same {table}.lifetime at both ends, or accept N223 on `{}` with the reason",
                    a.name()
                ),
            ),
        );
    }
}

fn secret(r: &SecretRef) -> String {
    match r {
        SecretRef::Env(n) => format!("env {n}"),
        SecretRef::File(p) => format!("file {p}"),
    }
}

/// N225: the two ends must authenticate with the same key, so they reference the same one.
fn psk(a: &End, b: &End, found: &mut Findings) {
    if a.t.psk.value == b.t.psk.value {
        return;
    }
    found.push(
        &a.t.origin,
        both(
            Code::PSK_MISMATCH,
            format!(
                "tunnel `{}` and its far end `{}` reference different pre-shared keys: {} and {}",
                a.name(),
                b.name(),
                secret(&a.t.psk.value),
                secret(&b.t.psk.value)
            ),
            (a.t.psk.span.clone(), format!("`{}` authenticates with {}", a.name(), secret(&a.t.psk.value))),
            (b.t.psk.span.clone(), format!("`{}` with {}", b.name(), secret(&b.t.psk.value))),
            "both ends must hold the same key or IKE authentication fails (AUTHENTICATION_FAILED); natc cannot see the values, so the two ends reference the same variable or file: write the same psk at both ends".into(),
        ),
    );
}

/// N226: each end's local_networks are the other's remote_networks, as written.
fn selectors(a: &End, b: &End, found: &mut Findings) {
    let (TunnelMode::Policy { local: al, remote: ar }, TunnelMode::Policy { local: bl, remote: br }) =
        (&a.t.mode, &b.t.mode)
    else {
        return;
    };
    for (mine, theirs, key_a, key_b) in
        [(al, br, "local_networks", "remote_networks"), (ar, bl, "remote_networks", "local_networks")]
    {
        let set = |l: &[At<Ipv4Net>]| l.iter().map(|x| x.value).collect::<BTreeSet<_>>();
        let (sa, sb) = (set(mine), set(theirs));
        if sa == sb {
            continue;
        }
        let only = |l: &[At<Ipv4Net>], other: &BTreeSet<Ipv4Net>| -> Vec<At<Ipv4Net>> {
            let mut seen = BTreeSet::new();
            l.iter().filter(|x| !other.contains(&x.value) && seen.insert(x.value)).cloned().collect()
        };
        let (oa, ob) = (only(mine, &sb), only(theirs, &sa));
        let list = |l: &[At<Ipv4Net>]| l.iter().map(|x| show(x.value)).collect::<Vec<_>>().join(", ");
        let mut parts = Vec::new();
        if !oa.is_empty() {
            parts.push(format!("{} only at `{}`", list(&oa), a.name()));
        }
        if !ob.is_empty() {
            parts.push(format!("{} only at `{}`", list(&ob), b.name()));
        }
        let at = |e: &End, only: &[At<Ipv4Net>], all: &[At<Ipv4Net>], k: &str| -> (Span, String) {
            match only.first().or(all.first()) {
                Some(x) if !only.is_empty() => {
                    (x.span.clone(), format!("`{}`'s {k}: {} is not in the other end's", e.name(), show(x.value)))
                }
                Some(x) => (x.span.clone(), format!("`{}`'s {k}", e.name())),
                None => (head(&e.t.origin), format!("`{}`'s {k} are empty", e.name())),
            }
        };
        found.push(
            &a.t.origin,
            both(
                Code::SELECTORS_NOT_MIRRORED,
                format!(
                    "the {key_a} of tunnel `{}` are not the {key_b} of its far end `{}`: {}",
                    a.name(),
                    b.name(),
                    parts.join("; ")
                ),
                at(a, &oa, mine, key_a),
                at(b, &ob, theirs, key_b),
                format!(
                    "each end's local_networks are the other's remote_networks (post-NAT, as written): IKEv1 refuses selectors that differ, IKEv2 narrows them to what both allow, so part of the traffic has no SA; write the same prefixes in `{}`'s {key_a} and `{}`'s {key_b}",
                    a.name(),
                    b.name()
                ),
            ),
        );
    }
}
