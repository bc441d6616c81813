//! IPsec tunnels and BGP, read from the intent. Their records are the plan's own
//! (plan/records.rs): there is nothing to lower, so resolve builds them directly.

use super::address::{inner, interface_address};
use super::rules::Ctx;
use super::*;
use crate::diag::{Code, Diagnostic};
use crate::intent::{self, S};
use crate::plan::{KeySpans, TunnelPeer};
use crate::vocab::{IkeId, TcpMss};

/// A number from the intent within `lo..=hi`, or a located N118.
fn ranged(cx: &mut Ctx, v: &Option<S<i64>>, default: u32, lo: i64, hi: i64, what: &str) -> Option<u32> {
    let Some(v) = v else { return Some(default) };
    let n = *v.get_ref();
    if (lo..=hi).contains(&n) {
        return u32::try_from(n).ok();
    }
    cx.out.push(
        Diagnostic::error(Code::INVALID_RANGE, format!("{what} must be between {lo} and {hi}, not {n}"))
            .label(v.span(), "out of range")
            .help(format!("write a value from {lo} to {hi}")),
    );
    None
}

fn word(v: &Option<S<String>>, default: &str) -> String {
    v.as_ref().map_or_else(|| default.to_string(), |s| s.get_ref().clone())
}

pub fn secret(cx: &mut Ctx, raw: &S<toml::Value>) -> Option<At<SecretRef>> {
    let span = raw.span();
    let refused = |d: Diagnostic| {
        d.help("write psk = { env = \"NAME\" } or psk = { file = \"/path/to/psk\" }; the build writes a placeholder unless --secrets inline is given")
    };
    match raw.get_ref() {
        toml::Value::String(_) => {
            cx.out.push(refused(
                Diagnostic::error(Code::LITERAL_SECRET, "the pre-shared key is written into the intent file")
                    .label(span, "a secret in plain text"),
            ));
            None
        }
        toml::Value::Table(t) if t.len() == 1 => {
            let reference = match t.iter().next() {
                Some((k, toml::Value::String(v))) if k == "env" && is_env_name(v) => Some(SecretRef::Env(v.clone())),
                Some((k, toml::Value::String(v))) if k == "file" && is_path(v) => Some(SecretRef::File(v.clone())),
                _ => None,
            };
            if reference.is_none() {
                cx.out.push(refused(not_a_reference(span.clone())));
            }
            reference.map(|r| At::new(r, span))
        }
        _ => {
            cx.out.push(refused(not_a_reference(span)));
            None
        }
    }
}

/// A POSIX environment variable name (`[A-Za-z_][A-Za-z0-9_]*`): what a shell can export,
/// and text that every target's placeholder carries as it is.
fn is_env_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A path without characters that would act instead of being text where the placeholder
/// is written (controls, line separators, bidi and other format characters).
fn is_path(path: &str) -> bool {
    !path.is_empty() && !path.chars().any(crate::diag::terminal::is_hidden)
}

fn not_a_reference(span: Span) -> Diagnostic {
    Diagnostic::error(
        Code::INVALID_SECRET_REF,
        "a secret reference is { env = \"NAME\" } (a variable name, [A-Za-z_][A-Za-z0-9_]*) or { file = \"path\" } (no control or format characters)",
    )
        .label(span, "not a secret reference")
}

pub fn tunnel(cx: &mut Ctx, raw: &S<intent::Tunnel>) -> Option<Tunnel> {
    let r = raw.get_ref();
    let origin = cx.origin(Kind::Tunnel, r.name.get_ref(), raw.span());
    let remote = cx.host(&r.remote, "a tunnel's `remote`");
    let local_address = match &r.local_address {
        None => Some(None),
        Some(l) => cx.host(l, "a tunnel's `local_address`").map(Some),
    };
    let psk = secret(cx, &r.psk);
    let ike = ike(cx, r.ike.as_ref());
    let esp = esp(cx, r.esp.as_ref());
    let dpd = match &r.dpd {
        None => Some(None),
        Some(d) => {
            let d = d.get_ref();
            let interval = ranged(cx, &d.interval, 30, 2, 86400, "dpd interval");
            let timeout = ranged(cx, &d.timeout, 120, 10, 86400, "dpd timeout");
            interval
                .zip(timeout)
                .map(|(interval, timeout)| Some(Dpd { action: *d.action.get_ref(), interval, timeout }))
        }
    };
    let mode = mode(cx, raw);
    let local_id = optional(r.local_id.as_ref().map(|v| ike_id(cx, v, "local_id")));
    let remote_id = optional(r.remote_id.as_ref().map(|v| ike_id(cx, v, "remote_id")));
    let peer = optional(r.peer.as_ref().map(|v| peer(cx, v)));
    let tcp_mss = optional(r.tcp_mss.as_ref().map(|v| tcp_mss(cx, v)));
    let (remote, local_address, psk, ike, esp, dpd, mode) = (remote?, local_address?, psk?, ike?, esp?, dpd?, mode?);
    let (local_id, remote_id, peer, tcp_mss) = (local_id?, remote_id?, peer?, tcp_mss?);
    let nat_traversal = r.nat_traversal.as_ref().is_some_and(|b| *b.get_ref());
    let nat_traversal_span = r.nat_traversal.as_ref().map(|b| b.span());
    let description = r.description.as_ref().map(|d| At::new(d.get_ref().clone(), d.span()));
    Some(Tunnel {
        origin,
        remote,
        local_address,
        local_id,
        remote_id,
        peer,
        psk,
        ike,
        esp,
        dpd,
        nat_traversal,
        nat_traversal_span,
        tcp_mss,
        mode,
        description,
    })
}

/// An optional key's value: absent is fine (`Some(None)`), present and refused is not (`None`).
fn optional<T>(value: Option<Option<T>>) -> Option<Option<T>> {
    match value {
        None => Some(None),
        Some(v) => v.map(Some),
    }
}

fn ike_id(cx: &mut Ctx, raw: &S<String>, key: &str) -> Option<At<IkeId>> {
    match IkeId::parse(raw.get_ref()) {
        Ok(id) => Some(At::new(id, raw.span())),
        Err(why) => {
            cx.out.push(
                Diagnostic::error(Code::INVALID_VALUE, format!("`{key}` is not an IKE identity: {why}"))
                    .label(raw.span(), "not an address, DNS name or user@fqdn")
                    .help(format!("write {key} = \"192.0.2.1\", \"vpn.example.com\" or \"vpn@example.com\"")),
            );
            None
        }
    }
}

/// `peer = "<gateway>/<tunnel>"`: its form here; whether it names a tunnel of this
/// intent is the cross-end check's (check/, which sees every gateway).
fn peer(cx: &mut Ctx, raw: &S<String>) -> Option<At<TunnelPeer>> {
    let text = raw.get_ref();
    let parsed = text.split_once('/').filter(|(g, t)| {
        [g, t].iter().all(|n| {
            !n.is_empty()
                && n.len() <= crate::vocab::limits::MAX_NAME
                && !n.starts_with('-')
                && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
    });
    match parsed {
        Some((gateway, tunnel)) => {
            Some(At::new(TunnelPeer { gateway: gateway.to_string(), tunnel: tunnel.to_string() }, raw.span()))
        }
        None => {
            cx.out.push(
                Diagnostic::error(Code::INVALID_VALUE, "`peer` names the far end as \"<gateway>/<tunnel>\"")
                    .label(raw.span(), "not <gateway>/<tunnel>")
                    .help("write the far gateway's name and its tunnel's name, e.g. peer = \"utm-b/to-utm-a\""),
            );
            None
        }
    }
}

/// `tcp_mss`: a size in MSS_MIN..=MSS_MAX or "auto". Shared with `[[gateway.interface]]`.
pub fn tcp_mss(cx: &mut Ctx, raw: &S<toml::Value>) -> Option<At<TcpMss>> {
    tcp_mss_value(raw, cx.out)
}

pub fn tcp_mss_value(raw: &S<toml::Value>, out: &mut Vec<Diagnostic>) -> Option<At<TcpMss>> {
    use crate::vocab::ipsec::{MSS_MAX, MSS_MIN};
    let value = match raw.get_ref() {
        toml::Value::String(s) if s == "auto" => Some(TcpMss::Auto),
        toml::Value::Integer(n) => {
            u16::try_from(*n).ok().filter(|n| (MSS_MIN..=MSS_MAX).contains(n)).map(TcpMss::Fixed)
        }
        _ => None,
    };
    if value.is_none() {
        let (code, what) = match raw.get_ref() {
            toml::Value::Integer(n) => {
                (Code::INVALID_RANGE, format!("tcp_mss must be between {MSS_MIN} and {MSS_MAX}, not {n}"))
            }
            _ => (Code::INVALID_VALUE, "tcp_mss is a size (a number) or \"auto\"".to_string()),
        };
        out.push(Diagnostic::error(code, what).label(raw.span(), "not an MSS").help(format!(
            "write tcp_mss = \"auto\" (clamp to the path MTU) or a size from {MSS_MIN} to {MSS_MAX} (MTU minus 40)"
        )));
    }
    value.map(|v| At::new(v, raw.span()))
}

fn ike(cx: &mut Ctx, raw: Option<&S<intent::Ike>>) -> Option<Ike> {
    let empty = intent::Ike { version: None, encryption: None, hash: None, dh_group: None, lifetime: None };
    let r = raw.map_or(&empty, |r| r.get_ref());
    let version = ranged(cx, &r.version, 2, 1, 2, "IKE version");
    let dh_group = ranged(cx, &r.dh_group, 14, 1, 32, "IKE dh_group");
    let lifetime = ranged(cx, &r.lifetime, 28800, 30, 86400, "IKE lifetime");
    Some(Ike {
        version: u8::try_from(version?).ok()?,
        encryption: word(&r.encryption, "aes128"),
        hash: word(&r.hash, "sha256"),
        dh_group: dh_group?,
        lifetime: lifetime?,
        spans: KeySpans {
            table: raw.map(|r| r.span()),
            keys: written(&[
                ("version", r.version.as_ref().map(|v| v.span())),
                ("encryption", r.encryption.as_ref().map(|v| v.span())),
                ("hash", r.hash.as_ref().map(|v| v.span())),
                ("dh_group", r.dh_group.as_ref().map(|v| v.span())),
                ("lifetime", r.lifetime.as_ref().map(|v| v.span())),
            ]),
        },
    })
}

fn esp(cx: &mut Ctx, raw: Option<&S<intent::Esp>>) -> Option<Esp> {
    let empty = intent::Esp { encryption: None, hash: None, pfs: None, lifetime: None };
    let r = raw.map_or(&empty, |r| r.get_ref());
    let lifetime = ranged(cx, &r.lifetime, 3600, 30, 86400, "ESP lifetime")?;
    Some(Esp {
        encryption: word(&r.encryption, "aes128"),
        hash: word(&r.hash, "sha256"),
        pfs: r.pfs.as_ref().is_none_or(|b| *b.get_ref()),
        lifetime,
        spans: KeySpans {
            table: raw.map(|r| r.span()),
            keys: written(&[
                ("encryption", r.encryption.as_ref().map(|v| v.span())),
                ("hash", r.hash.as_ref().map(|v| v.span())),
                ("pfs", r.pfs.as_ref().map(|v| v.span())),
                ("lifetime", r.lifetime.as_ref().map(|v| v.span())),
            ]),
        },
    })
}

/// The keys of a table that are written, with their values' spans.
fn written(keys: &[(&'static str, Option<Span>)]) -> Vec<(&'static str, Span)> {
    keys.iter().filter_map(|(k, s)| s.clone().map(|s| (*k, s))).collect()
}

fn mode(cx: &mut Ctx, raw: &S<intent::Tunnel>) -> Option<TunnelMode> {
    let r = raw.get_ref();
    let has_selectors = r.local_networks.is_some() || r.remote_networks.is_some();
    match (&r.vti, has_selectors) {
        (Some(v), false) => {
            let v = v.get_ref();
            let address = interface_address(v.address.get_ref(), inner(v.address.span(), v.address.get_ref()))
                .map_err(|d| cx.out.push(d))
                .ok();
            let mtu = match &v.mtu {
                None => Some(None),
                Some(m) => ranged(cx, &Some(m.clone()), 1500, 68, 9000, "VTI mtu").map(|n| Some(At::new(n, m.span()))),
            };
            Some(TunnelMode::Vti(Vti {
                name: At::new(v.name.get_ref().clone(), v.name.span()),
                address: At::new(address?, v.address.span()),
                mtu: mtu?,
            }))
        }
        (None, true) => {
            let mut list = |l: &Option<S<Vec<S<String>>>>, key: &str| -> Option<Vec<At<Ipv4Net>>> {
                let Some(l) = l else {
                    cx.out.push(
                        Diagnostic::error(Code::MISSING_KEY, format!("a policy-based tunnel needs `{key}`"))
                            .label(raw.span(), "this tunnel")
                            .help("give both local_networks and remote_networks (the post-NAT prefixes)"),
                    );
                    return None;
                };
                let nets: Vec<_> = l.get_ref().iter().filter_map(|s| cx.addr(s)).collect();
                (nets.len() == l.get_ref().len()).then_some(nets)
            };
            let local = list(&r.local_networks, "local_networks");
            let remote = list(&r.remote_networks, "remote_networks");
            Some(TunnelMode::Policy { local: local?, remote: remote? })
        }
        (Some(v), true) => {
            cx.out.push(
                Diagnostic::error(
                    Code::CONFLICTING_KEYS,
                    "a tunnel is route-based (`vti`) or policy-based (`local_networks`/`remote_networks`), not both",
                )
                .label(v.span(), "vti here")
                .help("drop the traffic selectors to route into the VTI, or drop `vti` for a policy-based tunnel"),
            );
            None
        }
        (None, false) => {
            cx.out.push(
                Diagnostic::error(Code::MISSING_KEY, "a tunnel needs `vti` or `local_networks` + `remote_networks`")
                    .label(raw.span(), "what goes into this tunnel?")
                    .help("add vti = { name = \"vti0\", address = \"169.254.0.2/30\" } for a route-based tunnel"),
            );
            None
        }
    }
}

pub fn bgp(cx: &mut Ctx, raw: &S<intent::Bgp>) -> Option<Bgp> {
    let r = raw.get_ref();
    let origin = cx.origin(Kind::Bgp, "bgp", raw.span());
    let asn = ranged(cx, &Some(r.asn.clone()), 0, 1, 4_294_967_294, "the AS number").map(|a| At::new(a, r.asn.span()));
    let networks: Vec<_> = r.networks.iter().filter_map(|n| cx.addr(n)).collect();
    let mut neighbors = Vec::new();
    let mut ok = networks.len() == r.networks.len();
    for n in &r.neighbor {
        let n = n.get_ref();
        let address = cx.host(&n.address, "a BGP neighbour's address");
        let remote_as = ranged(cx, &Some(n.remote_as.clone()), 0, 1, 4_294_967_294, "remote_as");
        let holdtime = n.holdtime.as_ref().map(|h| ranged(cx, &Some(h.clone()), 0, 3, 65535, "holdtime"));
        let keepalive = n.keepalive.as_ref().map(|k| ranged(cx, &Some(k.clone()), 0, 1, 65535, "keepalive"));
        match (address, remote_as, holdtime.unwrap_or(Some(0)), keepalive.unwrap_or(Some(0))) {
            (Some(address), Some(remote), Some(_), Some(_)) => neighbors.push(BgpNeighbor {
                address,
                remote_as: At::new(remote, n.remote_as.span()),
                holdtime: holdtime.flatten(),
                keepalive: keepalive.flatten(),
            }),
            _ => ok = false,
        }
    }
    let asn = asn?;
    ok.then_some(Bgp { origin, asn, networks, neighbors })
}
