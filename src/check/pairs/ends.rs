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
use crate::vocab::IkeId;
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

/// N228: with a NAT between the ends, both must set `nat_traversal`.
fn nat_traversal(a: &End, b: &End, found: &mut Findings) {
    let missing: Vec<&End> = [a, b].into_iter().filter(|e| !e.t.nat_traversal).collect();
    if missing.is_empty() {
        return;
    }
    let Some((x, y, why)) = behind(a, b).map(|w| (a, b, w)).or_else(|| behind(b, a).map(|w| (b, a, w))) else {
        return;
    };
    let mut d = Diagnostic::error(
        Code::NAT_TRAVERSAL_ONE_SIDED,
        format!(
            "a NAT sits between tunnel `{}` and its far end `{}`, but {}",
            a.name(),
            b.name(),
            match missing.as_slice() {
                [one] => format!("`{}` does not set nat_traversal", one.name()),
                _ => "neither end sets nat_traversal".to_string(),
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
    for e in &missing {
        d = d.label(head(&e.t.origin), format!("`{}`: no nat_traversal", e.name()));
    }
    found.push(
        &a.t.origin,
        d.help(
            "write nat_traversal = true at both ends: RTX speaks NAT-T only with `ipsec ike nat-traversal … on` at each end, VyOS and strongSwan then encapsulate ESP in UDP 4500 from the start, and natc's input-filter check (N209) asks for udp/4500 only where the key is set",
        ),
    );
}
