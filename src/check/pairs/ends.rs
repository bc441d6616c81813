//! What depends on where the two ends sit: their IKE identities (N224) and NAT between
//! them (N228). Both need the address an end's IKE packets leave from: its
//! `local_address`, else the address of the interface its route towards `remote` leaves
//! through (a connected subnet, or a route's `via` on one); where the intent does not say
//! (no such route, or an interface with several addresses), natc does not guess and
//! compares nothing that depends on it.

use super::End;
use crate::check::{Findings, head};
use crate::diag::{Code, Diagnostic, Span};
use crate::model::{At, Nexthop};
use crate::vocab::{IkeId, TargetKind};
use std::net::Ipv4Addr;

pub fn check(a: &End, b: &End, found: &mut Findings) {
    identity(a, b, found);
    identity(b, a, found);
    nat_traversal(a, b, found);
}

/// The address an end's IKE packets leave from, and where the intent says so.
struct Outer {
    address: At<Ipv4Addr>,
    /// The interface it was found on (`None`: written as `local_address`).
    interface: Option<String>,
}

fn outer(e: &End) -> Option<Outer> {
    if let Some(l) = &e.t.local_address {
        return Some(Outer { address: l.clone(), interface: None });
    }
    let remote = e.t.remote.value;
    let found = match e.facts.subnet_of(remote) {
        Some(c) => Some((c.interface.to_string(), c.address.clone())),
        None => match &e.facts.route_for(remote)?.nexthop {
            Nexthop::Via(v) => e.facts.subnet_of(v.value).map(|c| (c.interface.to_string(), c.address.clone())),
            Nexthop::Interface(i) => {
                let declared = e.gw.interfaces.iter().find(|x| x.name == i.value)?;
                match declared.addresses.as_slice() {
                    [one] => Some((i.value.clone(), one.clone())),
                    _ => None,
                }
            }
        },
    };
    let (interface, net) = found?;
    Some(Outer { address: At::new(net.value.addr(), net.span), interface: Some(interface) })
}

fn same_id(a: &IkeId, b: &IkeId) -> bool {
    match (a, b) {
        (IkeId::Address(x), IkeId::Address(y)) => x == y,
        // strongSwan compares names without regard to case, as DNS does.
        (IkeId::Fqdn(x), IkeId::Fqdn(y)) | (IkeId::UserFqdn(x), IkeId::UserFqdn(y)) => x.eq_ignore_ascii_case(y),
        _ => false,
    }
}

/// N224: the identity `x` proves is the one `y` expects.
fn identity(x: &End, y: &End, found: &mut Findings) {
    let (proved, label) = match (&x.t.local_id, outer(x)) {
        (Some(id), _) => (id.value.clone(), (id.span.clone(), format!("`{}` proves local_id {}", x.name(), id.value))),
        (None, Some(Outer { address, interface: None })) => (
            IkeId::Address(address.value),
            (address.span, format!("`{}` proves its local_address {} (no local_id)", x.name(), address.value)),
        ),
        (None, Some(Outer { address, interface: Some(i) })) => (
            IkeId::Address(address.value),
            (
                address.span,
                format!(
                    "`{}` has no local_id or local_address: IKE proves the address it leaves from, {} on {i}",
                    x.name(),
                    address.value
                ),
            ),
        ),
        // Not known from the intent: no guess (docs/checks.md, N224).
        (None, None) => return,
    };
    let expected = y.t.remote_identity();
    if same_id(&proved, &expected.value) {
        return;
    }
    let wants = match &y.t.remote_id {
        Some(_) => format!("`{}` expects remote_id {}", y.name(), expected.value),
        None => format!("`{}` expects its remote, {} (no remote_id)", y.name(), expected.value),
    };
    found.push(
        &x.t.origin,
        Diagnostic::error(
            Code::IDENTITY_MISMATCH,
            format!(
                "tunnel `{}` proves the IKE identity {proved}, but its far end `{}` expects {}",
                x.name(),
                y.name(),
                expected.value
            ),
        )
        .label(label.0, label.1)
        .label(expected.span.clone(), wants)
        .help(format!(
            "IKE authentication fails (no peer configuration matches the identity); behind 1:1 NAT an end proves its private address: write remote_id = \"{proved}\" on `{}`, or local_id = \"{}\" on `{}`",
            y.name(),
            expected.value,
            x.name()
        )),
    );
}

/// Why natc sees a NAT in front of `x` (its packets reach `y` from another address).
enum Behind {
    /// `nat_traversal = true` is written at `x`.
    Declared(Span),
    /// `x` leaves from an address that is not the one `y` sends to, and `y`'s remote is no
    /// address of `x`'s gateway.
    Addresses(Outer),
}

fn behind(x: &End, y: &End) -> Option<Behind> {
    if x.t.nat_traversal {
        return Some(Behind::Declared(x.t.nat_traversal_span.clone().unwrap_or_else(|| head(&x.t.origin))));
    }
    let o = outer(x)?;
    let remote = y.t.remote.value;
    (o.address.value != remote && !x.facts.own.contains(&remote)).then_some(Behind::Addresses(o))
}

/// Why an end must write `nat_traversal` to speak NAT-T (`None`: its device detects NAT
/// by itself). RTX speaks it only with `ipsec ike nat-traversal … on`, which natc writes
/// from the key; strongSwan (the `strongswan` target, VyOS) detects NAT in IKE and then
/// encapsulates, and natc's Linux packet filters let udp/4500 in for every tunnel. A
/// gateway that declares no targets may be built for any, so it needs the key too.
fn needs_key(e: &End) -> Option<&'static str> {
    if e.t.nat_traversal {
        return None;
    }
    if e.gw.targets.is_empty() {
        return Some("declares no targets, so it may be built for RTX, which speaks NAT-T only with the key");
    }
    e.gw.targets
        .iter()
        .any(|t| t.value.kind == TargetKind::Rtx)
        .then_some("is built for RTX, which speaks NAT-T only with `ipsec ike nat-traversal … on` (the key)")
}

/// N228: with a NAT between the ends, each end whose device needs `nat_traversal` to speak
/// NAT-T must set it.
fn nat_traversal(a: &End, b: &End, found: &mut Findings) {
    let missing: Vec<(&End, &str)> = [a, b].into_iter().filter_map(|e| needs_key(e).map(|why| (e, why))).collect();
    if missing.is_empty() {
        return;
    }
    let Some((x, y, why)) = behind(a, b).map(|w| (a, b, w)).or_else(|| behind(b, a).map(|w| (b, a, w))) else {
        return;
    };
    let mut d = Diagnostic::error(
        Code::NAT_TRAVERSAL_ONE_SIDED,
        format!(
            "a NAT sits between tunnel `{}` and its far end `{}`, but {} nat_traversal",
            a.name(),
            b.name(),
            match missing.as_slice() {
                [(one, _)] => format!("`{}` does not set", one.name()),
                _ => "neither end sets".to_string(),
            }
        ),
    );
    d = match why {
        Behind::Declared(span) => d.label(span, format!("`{}` is behind NAT", x.name())),
        Behind::Addresses(o) => d
            .label(
                o.address.span.clone(),
                format!(
                    "`{}`'s IKE leaves from {}{}",
                    x.name(),
                    o.address.value,
                    o.interface.map_or(String::new(), |i| format!(" ({i})"))
                ),
            )
            .label(
                y.t.remote.span.clone(),
                format!(
                    "`{}` sends to {}, which is not `{}`'s: a NAT in between",
                    y.name(),
                    y.t.remote.value,
                    x.gw.name
                ),
            ),
    };
    for (e, _) in &missing {
        d = d.label(head(&e.t.origin), format!("`{}`: no nat_traversal", e.name()));
    }
    let whys: Vec<String> = missing.iter().map(|(e, why)| format!("`{}` {why}", e.gw.name)).collect();
    found.push(
        &a.t.origin,
        d.help(format!(
            "{}: write nat_traversal = true there (at both ends is clearest: strongSwan and VyOS then encapsulate ESP in UDP 4500 from the start)",
            whys.join("; ")
        )),
    );
}
