//! Resolving one `[[gateway]]`: its interfaces, owned addresses, items and policy.

use super::address::{inner, interface_address};
use super::names::{UniqueNames, check_interface_name, check_name};
use super::rules::{self, Ctx};
use super::targets::{firewalld_version, rtx_model, target, vyos_version};
use super::tunnel;
use super::*;
use crate::diag::{Code, Diagnostic};
use crate::intent::{self, S};
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;

pub fn gateway(raw: &S<intent::Gateway>, nets: &Networks, out: &mut Vec<Diagnostic>) -> Option<Gateway> {
    let g = raw.get_ref();
    let errors_before = out.len();
    check_name(&g.name, "gateway", out);
    let name = g.name.get_ref().clone();

    let targets = g.targets.as_ref().map_or_else(Vec::new, |t| {
        t.get_ref().iter().filter_map(|s| target(s, out).map(|spec| At::new(spec, s.span()))).collect()
    });
    let firewalld =
        g.firewalld.as_ref().and_then(|v| firewalld_version(v, out).map(|version| At::new(version, v.span())));
    let vyos = g.vyos.as_ref().and_then(|v| vyos_version(v, out).map(|version| At::new(version, v.span())));
    let rtx = g.rtx.as_ref().and_then(|m| rtx_model(m, out).map(|model| At::new(model, m.span())));

    let interfaces = interfaces(g.name.get_ref(), &g.interfaces, out);
    let mut known: BTreeSet<String> = interfaces.iter().map(|i| i.name.clone()).collect();
    for t in &g.tunnel {
        if let Some(v) = &t.get_ref().vti {
            let vname = &v.get_ref().name;
            if check_interface_name(vname, out) && !known.insert(vname.get_ref().clone()) {
                out.push(
                    Diagnostic::error(
                        Code::DUPLICATE_NAME,
                        format!("interface `{}` is declared twice", vname.get_ref()),
                    )
                    .label(vname.span(), "a tunnel's VTI declares it again")
                    .help("a VTI is an interface of its own: give it a name no other interface uses"),
                );
            }
        }
    }

    // A policy-based tunnel's name may stand where a translation or filter names an
    // interface (docs/tunnels.md): the traffic its policy takes. So it must not be an
    // interface's name too.
    let mut policy_tunnels: BTreeSet<String> = BTreeSet::new();
    for t in &g.tunnel {
        let r = t.get_ref();
        if r.vti.is_some() || (r.local_networks.is_none() && r.remote_networks.is_none()) {
            continue;
        }
        let tname = r.name.get_ref();
        if known.contains(tname) {
            out.push(
                Diagnostic::error(
                    Code::DUPLICATE_NAME,
                    format!("policy-based tunnel `{tname}` has the name of an interface of this gateway"),
                )
                .label(r.name.span(), "a tunnel name that is also an interface name")
                .help("a policy tunnel's name may stand for an interface in translations and filters, so it must differ from every interface and VTI name: rename the tunnel"),
            );
        } else {
            policy_tunnels.insert(tname.clone());
        }
    }
    let mut cx = Ctx { gateway: &name, nets, interfaces: &known, policy_tunnels: &policy_tunnels, out };
    let addresses = owned_addresses(&mut cx, &g.addresses);

    let mut rule_names = UniqueNames::default();
    fn claim<'a>(names: &mut UniqueNames<'a>, n: &'a S<String>, what: &str, out: &mut Vec<Diagnostic>) {
        if check_name(n, what, out) {
            names.claim(n.get_ref(), n.span(), "rule", out);
        }
    }
    for d in &g.dnat {
        claim(&mut rule_names, &d.get_ref().name, "dnat", cx.out);
    }
    for s in &g.snat {
        claim(&mut rule_names, &s.get_ref().name, "snat", cx.out);
    }
    for n in &g.netmap {
        claim(&mut rule_names, &n.get_ref().name, "netmap", cx.out);
    }
    for a in &g.allow {
        claim(&mut rule_names, &a.get_ref().name, "allow", cx.out);
    }
    let mut tunnel_names = UniqueNames::default();
    for t in &g.tunnel {
        if check_name(&t.get_ref().name, "tunnel", cx.out) {
            tunnel_names.claim(t.get_ref().name.get_ref(), t.get_ref().name.span(), "tunnel", cx.out);
        }
    }
    let mut route_names = UniqueNames::default();
    for r in &g.route {
        if let Some(n) = &r.get_ref().name
            && check_name(n, "route", cx.out)
        {
            route_names.claim(n.get_ref(), n.span(), "route", cx.out);
        }
    }

    // Sized once: a filtered collect grows by doubling, copying 100k items each time.
    let mut dnats = Vec::with_capacity(g.dnat.len());
    let subnets = super::Subnets::new(&interfaces);
    dnats.extend(g.dnat.iter().filter_map(|d| {
        let mut dnat = rules::dnat(&mut cx, d)?;
        dnat.hairpin = super::hairpin::resolve(d.get_ref(), &dnat, &subnets, cx.out).ok()?.map(Box::new);
        Some(dnat)
    }));
    let mut snats = Vec::with_capacity(g.snat.len());
    snats.extend(g.snat.iter().filter_map(|s| rules::snat(&mut cx, s)));
    let mut netmaps = Vec::with_capacity(g.netmap.len());
    netmaps.extend(g.netmap.iter().filter_map(|n| rules::netmap(&mut cx, n)));
    let mut allows = Vec::with_capacity(g.allow.len());
    allows.extend(g.allow.iter().filter_map(|a| rules::allow(&mut cx, a)));
    let routes: Vec<_> = g.route.iter().enumerate().filter_map(|(i, r)| rules::route(&mut cx, r, i)).collect();
    let tunnels: Vec<_> = g.tunnel.iter().filter_map(|t| tunnel::tunnel(&mut cx, t)).collect();
    let bgp = g.bgp.as_ref().and_then(|b| tunnel::bgp(&mut cx, b));
    check_owned_twice(&addresses, &dnats, cx.out);

    let policy = policy(g.policy.as_ref(), raw.span(), out);
    let forwarding = g.forwarding.as_ref().is_none_or(|f| *f.get_ref());
    let accepts = item_accepts(g);
    if out.len() > errors_before {
        return None;
    }
    Some(Gateway {
        name,
        span: raw.span(),
        targets,
        forwarding,
        forwarding_span: g.forwarding.as_ref().map(|f| f.span()),
        counters: g.counters.as_ref().filter(|c| *c.get_ref()).map(|c| c.span()),
        firewalld,
        vyos,
        rtx,
        description: g.description.as_ref().map(|d| At::new(d.get_ref().clone(), d.span())),
        interfaces,
        addresses,
        dnats,
        snats,
        netmaps,
        allows,
        policy,
        routes,
        tunnels,
        bgp,
        accepts,
    })
}

/// Every `accept` entry on the gateway and its items, tagged with the accepting item.
fn item_accepts(g: &intent::Gateway) -> Vec<Accept> {
    let mut all = Vec::new();
    let mut add = |kind: Kind, name: &str, raw: Option<&S<Vec<S<intent::Accept>>>>| {
        for a in raw.iter().flat_map(|l| l.get_ref()) {
            let entry = a.get_ref();
            all.push(Accept {
                kind,
                name: name.to_string(),
                code: At::new(entry.code.get_ref().trim().to_string(), entry.code.span()),
                reason: entry.reason.as_ref().map(|r| At::new(r.get_ref().clone(), r.span())),
                span: a.span(),
            });
        }
    };
    add(Kind::Gateway, g.name.get_ref(), g.accept.as_ref());
    for d in &g.dnat {
        add(Kind::Dnat, d.get_ref().name.get_ref(), d.get_ref().accept.as_deref());
    }
    for s in &g.snat {
        add(Kind::Snat, s.get_ref().name.get_ref(), s.get_ref().accept.as_deref());
    }
    for n in &g.netmap {
        add(Kind::Netmap, n.get_ref().name.get_ref(), n.get_ref().accept.as_deref());
    }
    for a in &g.allow {
        add(Kind::Allow, a.get_ref().name.get_ref(), a.get_ref().accept.as_deref());
    }
    for (i, r) in g.route.iter().enumerate() {
        let name = r.get_ref().name.as_ref().map_or_else(|| format!("{}", i + 1), |n| n.get_ref().clone());
        add(Kind::Route, &name, r.get_ref().accept.as_ref());
    }
    for t in &g.tunnel {
        add(Kind::Tunnel, t.get_ref().name.get_ref(), t.get_ref().accept.as_ref());
    }
    all.sort_by_key(|a| a.span.start);
    all
}

fn interfaces(gateway: &str, raw: &[S<intent::Interface>], out: &mut Vec<Diagnostic>) -> Vec<Interface> {
    let mut names = UniqueNames::default();
    let mut result = Vec::new();
    for i in raw {
        let r = i.get_ref();
        if !check_interface_name(&r.name, out) {
            continue;
        }
        names.claim(r.name.get_ref(), r.name.span(), "interface", out);
        let mut addresses = Vec::new();
        if let Some(a) = &r.address {
            let items: Vec<(&str, Span)> = match a.get_ref() {
                intent::OneOrMany::One(text) => vec![(text.as_str(), inner(a.span(), text))],
                intent::OneOrMany::Many(list) => {
                    list.iter().map(|t| (t.get_ref().as_str(), inner(t.span(), t.get_ref()))).collect()
                }
            };
            for (text, span) in items {
                match interface_address(text, span) {
                    Ok(net) => addresses.push(At::new(net, a.span())),
                    Err(d) => out.push(d),
                }
            }
        }
        let tcp_mss = r.tcp_mss.as_ref().and_then(|m| super::tunnel::tcp_mss_value(m, out));
        result.push(Interface {
            name: r.name.get_ref().clone(),
            tcp_mss,
            origin: Origin {
                gateway: gateway.to_string(),
                kind: Kind::Interface,
                name: r.name.get_ref().clone(),
                span: i.span(),
            },
            addresses,
            description: r.description.as_ref().map(|d| At::new(d.get_ref().clone(), d.span())),
            rtx_keep: r.rtx_keep.as_ref().map(|k| {
                let v = k.get_ref();
                crate::plan::RtxKeep {
                    nat_descriptors: v.nat_descriptors.clone(),
                    filters_in: v.filters_in.clone(),
                    filters_out: v.filters_out.clone(),
                    dynamic_in: v.dynamic_in.clone(),
                    dynamic_out: v.dynamic_out.clone(),
                    span: k.span(),
                }
            }),
        });
    }
    result
}

fn owned_addresses(cx: &mut Ctx, raw: &[S<intent::OwnedAddress>]) -> Vec<OwnedAddress> {
    let mut result = Vec::new();
    for (index, a) in raw.iter().enumerate() {
        let r = a.get_ref();
        let interface = cx.iface(&r.interface);
        let address = cx.owned_address(&r.address);
        if let (Some(interface), Some(address)) = (interface, address) {
            let origin = cx.origin(Kind::Address, &format!("{}", index + 1), a.span());
            result.push(OwnedAddress { origin, interface, address });
        }
    }
    result
}

/// The same address owned twice (an `[[gateway.address]]` and a `claim = "loopback"`, say)
/// would be added twice by the setup script; one of them is a mistake.
fn check_owned_twice(addresses: &[OwnedAddress], dnats: &[Dnat], out: &mut Vec<Diagnostic>) {
    let claimed = dnats.iter().filter(|d| d.claim.value == Claim::Loopback).map(|d| &d.destination);
    let mut all: Vec<&At<Ipv4Net>> = addresses.iter().map(|a| &a.address).chain(claimed).collect();
    // "first" and "again" must follow the file, whichever table each is in.
    all.sort_by_key(|a| a.span.start);
    let mut seen: FxHashMap<Ipv4Addr, Span> = FxHashMap::default();
    for at in all {
        if let Some(first) = seen.get(&at.value.addr()) {
            out.push(
                Diagnostic::error(
                    Code::DUPLICATE_ADDRESS,
                    format!("{} is owned twice on this gateway", at.value.addr()),
                )
                .label(at.span.clone(), "owned again here")
                .label(first.clone(), "first owned here")
                .help("keep one: a dnat with claim = \"loopback\" already adds its destination to lo"),
            );
        } else {
            seen.insert(at.value.addr(), at.span.clone());
        }
    }
}

fn policy(raw: Option<&S<intent::Policy>>, gateway_span: Span, out: &mut Vec<Diagnostic>) -> Policy {
    let span = raw.map_or(gateway_span, |p| p.span());
    let pick =
        |v: Option<&S<Verdict>>| v.map_or(At::new(Verdict::Accept, span.clone()), |v| At::new(*v.get_ref(), v.span()));
    let p = raw.map(|p| p.get_ref());
    let (forward, input) = (pick(p.and_then(|p| p.forward.as_ref())), pick(p.and_then(|p| p.input.as_ref())));
    let log = p.and_then(|p| super::log::log(p.log.as_ref(), p.log_prefix.as_ref(), p.log_rate.as_ref(), out));
    if let Some(l) = &log
        && !forward.value.closes()
        && !input.value.closes()
    {
        // An accept policy drops nothing: a log with nothing to log is a mistake, not a no-op.
        out.push(
            Diagnostic::error(
                Code::MISSING_DEPENDENCY,
                "the policy's `log = true` needs a policy that drops or rejects",
            )
            .label(l.span.clone(), "nothing to log: forward and input both accept")
            .help("set `forward` or `input` to \"drop\" or \"reject\", or remove `log`"),
        );
    }
    Policy { forward, input, log }
}
