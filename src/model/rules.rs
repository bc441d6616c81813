//! Resolving the translation, filter and route items of one gateway.

use super::address::inner;
use super::ports::{parse_port_range, parse_port_set};
use super::*;
use crate::diag::{Code, Diagnostic, did_you_mean};
use crate::intent::{self, S};
use std::collections::BTreeSet;

/// A rule's protocol and destination ports, both optional.
pub type ProtocolPorts = (Option<At<Protocol>>, Option<At<PortSet>>);

/// What every item resolver needs: the gateway's name, `[networks]`, its interfaces, and
/// where to put diagnostics. Resolvers return `None` when the item had an error.
pub struct Ctx<'a> {
    pub gateway: &'a str,
    pub nets: &'a Networks,
    pub interfaces: &'a BTreeSet<String>,
    /// The names of the policy-based tunnels: they may stand where a translation or filter
    /// names an interface ([`Ctx::traffic_iface`]).
    pub policy_tunnels: &'a BTreeSet<String>,
    pub out: &'a mut Vec<Diagnostic>,
}

impl Ctx<'_> {
    pub fn origin(&self, kind: Kind, name: &str, span: Span) -> Origin {
        Origin { gateway: self.gateway.to_string(), kind, name: name.to_string(), span }
    }

    pub fn addr(&mut self, raw: &S<String>) -> Option<At<Ipv4Net>> {
        self.nets.host_or_prefix(raw).map_err(|d| self.out.push(d)).ok()
    }

    pub fn host(&mut self, raw: &S<String>, what: &str) -> Option<At<Ipv4Addr>> {
        self.nets.host(raw, what).map_err(|d| self.out.push(d)).ok()
    }

    /// An address the gateway owns: a host, `@name`, or an address with its subnet length
    /// (`192.168.82.70/26`, host bits allowed, as on an interface).
    pub fn owned_address(&mut self, raw: &S<String>) -> Option<At<Ipv4Net>> {
        let text = raw.get_ref().trim();
        if text.starts_with('@') || !text.contains('/') {
            return self.addr(raw);
        }
        super::address::interface_address(text, inner(raw.span(), raw.get_ref()))
            .map(|net| At::new(net, raw.span()))
            .map_err(|d| self.out.push(d))
            .ok()
    }

    /// `Some(None)` when absent, `None` when present but wrong.
    pub fn opt_addr(&mut self, raw: Option<&S<String>>) -> Option<Option<At<Ipv4Net>>> {
        match raw {
            None => Some(None),
            Some(r) => self.addr(r).map(Some),
        }
    }

    pub fn iface(&mut self, raw: &S<String>) -> Option<At<String>> {
        let name = raw.get_ref();
        if name == "lo" || self.interfaces.contains(name) {
            return Some(At::new(name.clone(), raw.span()));
        }
        if self.policy_tunnels.contains(name) {
            self.out.push(
                Diagnostic::error(
                    Code::UNKNOWN_INTERFACE,
                    format!("`{name}` is a policy-based tunnel of gateway `{}`, not an interface", self.gateway),
                )
                .label(inner(raw.span(), name), "a policy tunnel has no interface")
                .help("a policy tunnel's name stands for an interface only in a translation's or filter's interface keys; routes and addresses need a real interface (a route-based tunnel has one: its `vti`)"),
            );
            return None;
        }
        let mut d =
            Diagnostic::error(Code::UNKNOWN_INTERFACE, format!("gateway `{}` has no interface `{name}`", self.gateway))
                .label(inner(raw.span(), name), "not declared on this gateway");
        d = match did_you_mean(name, self.interfaces.iter().map(String::as_str)) {
            Some(s) => {
                d.help(format!("did you mean `{s}`? Otherwise declare it with [[gateway.interface]] name = \"{name}\""))
            }
            None => d.help(format!("declare it with [[gateway.interface]] name = \"{name}\"")),
        };
        self.out.push(d);
        None
    }

    /// An interface where a translation or filter matches traffic: a declared interface, or
    /// a policy-based tunnel's name (the traffic the tunnel's policy takes).
    pub fn traffic_iface(&mut self, raw: &S<String>) -> Option<At<String>> {
        if self.policy_tunnels.contains(raw.get_ref()) {
            return Some(At::new(raw.get_ref().clone(), raw.span()));
        }
        self.iface(raw)
    }

    pub fn opt_traffic_iface(&mut self, raw: &Option<S<String>>) -> Option<Option<At<String>>> {
        match raw {
            None => Some(None),
            Some(r) => self.traffic_iface(r).map(Some),
        }
    }

    /// Protocol and ports together: a port needs tcp or udp (N108).
    pub fn protocol_ports(
        &mut self,
        protocol: &Option<S<Protocol>>,
        port: &Option<S<toml::Value>>,
    ) -> Option<ProtocolPorts> {
        let protocol =
            protocol.as_ref().filter(|p| *p.get_ref() != Protocol::Any).map(|p| At::new(*p.get_ref(), p.span()));
        let Some(port) = port else { return Some((protocol, None)) };
        let ports = parse_port_set(port.get_ref(), port.span()).map_err(|d| self.out.push(d)).ok()?;
        match &protocol {
            Some(p) if matches!(p.value, Protocol::Tcp | Protocol::Udp) => {}
            other => {
                let mut d =
                    Diagnostic::error(Code::PORT_WITHOUT_PROTOCOL, "a port match needs protocol \"tcp\" or \"udp\"")
                        .label(port.span(), "port given here");
                if let Some(p) = other {
                    d = d.label(p.span.clone(), "this protocol has no ports");
                }
                self.out.push(d.help("add protocol = \"tcp\" (or \"udp\"), or remove the port"));
                return None;
            }
        }
        Some((protocol, Some(At::new(ports, port.span()))))
    }

    fn prefix_lengths_match(&mut self, from: &At<Ipv4Net>, to: &At<Ipv4Net>, what: &str) -> bool {
        if from.value.prefix_len() == to.value.prefix_len() {
            return true;
        }
        self.out.push(
            Diagnostic::error(
                Code::PREFIX_LENGTH_MISMATCH,
                format!(
                    "a 1:1 map needs prefixes of the same length, but {} is /{} and {} is /{}",
                    from.value,
                    from.value.prefix_len(),
                    to.value,
                    to.value.prefix_len()
                ),
            )
            .label(to.span.clone(), format!("/{} here", to.value.prefix_len()))
            .label(from.span.clone(), format!("/{} here", from.value.prefix_len()))
            .help(if from.value.prefix_len() == 32 {
                format!("{what}; one address maps to one address: write `to` as a single host")
            } else {
                format!("{what}; make both the same length, e.g. {}/{}", to.value.network(), from.value.prefix_len())
            }),
        );
        false
    }
}

/// A description with its span: backends point at it when a target cannot carry it.
/// Boxed, as an item's log is: most items have neither, and a box takes 8 bytes where the
/// value takes 40 (a description) or 72 (a log) in every item of a 100k-item list.
fn text(d: Option<&S<String>>) -> Option<Box<At<String>>> {
    d.map(|s| Box::new(At::new(s.get_ref().clone(), s.span())))
}

pub fn dnat(cx: &mut Ctx, raw: &S<intent::Dnat>) -> Option<Dnat> {
    let r = raw.get_ref();
    let origin = cx.origin(Kind::Dnat, r.name.get_ref(), raw.span());
    let destination = cx.addr(&r.destination);
    let to = cx.addr(&r.to);
    let in_interface = cx.opt_traffic_iface(&r.in_interface);
    let source = cx.opt_addr(r.source.as_deref());
    let pp = cx.protocol_ports(&r.protocol, &r.port);
    let (destination, to, in_interface, source, (protocol, ports)) = (destination?, to?, in_interface?, source?, pp?);
    // A host `to` takes a whole virtual prefix many-to-one; a prefix `to` is a 1:1 map.
    if to.value.prefix_len() != 32
        && !cx.prefix_lengths_match(&destination, &to, "`to` is a prefix, so this is a 1:1 block map (NETMAP)")
    {
        return None;
    }
    let to_port = match &r.to_port {
        None => None,
        Some(tp) => Some(to_port(cx, tp, ports.as_ref(), &protocol)?),
    };
    // A block map keeps each host's ports; the IR has no step that maps a prefix and
    // changes ports, since no target could say it (NETMAP, `ip prefix to`, RTX static NAT).
    if let (Some(tp), true) = (&to_port, to.value.prefix_len() != 32) {
        cx.out.push(
            Diagnostic::error(Code::CONFLICTING_KEYS, "a 1:1 prefix map keeps ports, it cannot also change them")
                .label(tp.span.clone(), "a new port")
                .label(to.span.clone(), "a prefix: a 1:1 block map")
                .help("split the port translation into host mappings, or drop `to_port`"),
        );
        return None;
    }
    let claim = r.claim.as_ref().map_or(At::new(Claim::Routed, raw.span()), |c| At::new(*c.get_ref(), c.span()));
    if claim.value == Claim::ProxyArp && in_interface.is_none() {
        cx.out.push(
            Diagnostic::error(Code::MISSING_DEPENDENCY, "claim = \"proxy-arp\" needs `in_interface`")
                .label(claim.span.clone(), "answers ARP on which interface?")
                .help("add in_interface = \"…\": the interface where clients ask for the virtual address"),
        );
        return None;
    }
    Some(Dnat {
        origin,
        destination,
        to,
        in_interface,
        source,
        protocol,
        ports,
        to_port,
        claim,
        return_route: r.return_route.as_ref().map(|b| At::new(*b.get_ref(), b.span())),
        // Needs the interfaces' subnets: model/hairpin.rs, called by gateway.rs.
        hairpin: None,
        description: text(r.description.as_deref()),
        log: super::log::log(r.log.as_deref(), r.log_prefix.as_deref(), r.log_rate.as_deref(), cx.out).map(Box::new),
    })
}

fn to_port(
    cx: &mut Ctx,
    raw: &S<toml::Value>,
    ports: Option<&At<PortSet>>,
    protocol: &Option<At<Protocol>>,
) -> Option<At<PortRange>> {
    let range = parse_port_range(raw.get_ref(), raw.span()).map_err(|d| cx.out.push(d)).ok()?;
    if !matches!(protocol.as_ref().map(|p| p.value), Some(Protocol::Tcp | Protocol::Udp)) {
        cx.out.push(
            Diagnostic::error(Code::PORT_WITHOUT_PROTOCOL, "`to_port` needs protocol \"tcp\" or \"udp\"")
                .label(raw.span(), "new port given here")
                .help("add protocol = \"tcp\" (or \"udp\") and the `port` to translate"),
        );
        return None;
    }
    if range.is_single() {
        return Some(At::new(range, raw.span()));
    }
    // A range is a 1:1 shift, so it needs exactly one matched range of the same width.
    let matched = ports.and_then(|p| p.value.as_single_range().map(|r| (r, p.span.clone())));
    match matched {
        Some((m, _)) if m.width() == range.width() => Some(At::new(range, raw.span())),
        Some((m, span)) => {
            // Suggest a range of the right width that still ends at a valid port.
            let start = u32::from(range.first).min(65536 - m.width());
            let help = if m.width() == 1 {
                format!("one port is matched, so give one new port: to_port = {}", range.first)
            } else {
                format!(
                    "a port range is shifted 1:1, so both must be equally wide: e.g. to_port = \"{start}-{}\"",
                    start + m.width() - 1
                )
            };
            cx.out.push(
                Diagnostic::error(
                    Code::PORT_WIDTH_MISMATCH,
                    format!("`to_port` {} but `port` {}", describe_range(range), describe_range(m)),
                )
                .label(raw.span(), ports_count(range.width()))
                .label(span, ports_count(m.width()))
                .help(help),
            );
            None
        }
        None => {
            cx.out.push(
                Diagnostic::error(
                    Code::PORT_WIDTH_MISMATCH,
                    "a `to_port` range needs `port` to be one range of the same width",
                )
                .label(raw.span(), "a range here")
                .help("write port = \"8000-8099\" with to_port = \"9000-9099\", or give a single to_port"),
            );
            None
        }
    }
}

fn ports_count(n: u32) -> String {
    if n == 1 { "1 port".into() } else { format!("{n} ports") }
}

fn describe_range(r: PortRange) -> String {
    if r.is_single() {
        format!("is the single port {}", r.first)
    } else {
        format!("{}-{} holds {} ports", r.first, r.last, r.width())
    }
}

pub fn snat(cx: &mut Ctx, raw: &S<intent::Snat>) -> Option<Snat> {
    let r = raw.get_ref();
    let origin = cx.origin(Kind::Snat, r.name.get_ref(), raw.span());
    let out_interface = cx.opt_traffic_iface(&r.out_interface);
    let source = cx.opt_addr(r.source.as_ref());
    let destination = cx.opt_addr(r.destination.as_ref());
    let pp = cx.protocol_ports(&r.protocol, &r.port);
    let to = if r.to.get_ref().trim() == "masquerade" {
        Some(At::new(SnatTo::Masquerade, r.to.span()))
    } else {
        cx.addr(&r.to).map(|net| {
            let value = if net.value.prefix_len() == 32 {
                SnatTo::Address(net.value.addr())
            } else {
                SnatTo::Prefix(net.value)
            };
            At::new(value, net.span)
        })
    };
    let (out_interface, source, destination, (protocol, ports), to) = (out_interface?, source?, destination?, pp?, to?);
    if let SnatTo::Prefix(prefix) = &to.value {
        let Some(src) = &source else {
            cx.out.push(
                Diagnostic::error(
                    Code::MISSING_DEPENDENCY,
                    format!("`to` = {prefix} is a 1:1 block map and needs `source`"),
                )
                .label(to.span.clone(), "a prefix here")
                .help(format!(
                    "add source = \"…/{}\" (the real prefix), or give `to` a single address",
                    prefix.prefix_len()
                )),
            );
            return None;
        };
        if !cx.prefix_lengths_match(
            src,
            &At::new(*prefix, to.span.clone()),
            "`to` is a prefix, so this is a 1:1 block map (NETMAP)",
        ) {
            return None;
        }
    }
    let except_ipsec = r.except_ipsec.as_ref().is_some_and(|b| *b.get_ref());
    Some(Snat {
        origin,
        out_interface,
        source,
        destination,
        protocol,
        ports,
        to,
        except_ipsec,
        description: text(r.description.as_deref()),
        log: super::log::log(r.log.as_deref(), r.log_prefix.as_deref(), r.log_rate.as_deref(), cx.out).map(Box::new),
    })
}

pub fn netmap(cx: &mut Ctx, raw: &S<intent::Netmap>) -> Option<Netmap> {
    let r = raw.get_ref();
    let origin = cx.origin(Kind::Netmap, r.name.get_ref(), raw.span());
    let (local, local_as, remote_as, interface) =
        (cx.addr(&r.local), cx.addr(&r.local_as), cx.addr(&r.remote_as), cx.traffic_iface(&r.interface));
    let (local, local_as, remote_as, interface) = (local?, local_as?, remote_as?, interface?);
    if !cx.prefix_lengths_match(&local, &local_as, "`local_as` is how the far side sees `local`, address for address") {
        return None;
    }
    let log = super::log::log(r.log.as_deref(), r.log_prefix.as_deref(), r.log_rate.as_deref(), cx.out).map(Box::new);
    Some(Netmap { origin, local, local_as, remote_as, interface, description: text(r.description.as_deref()), log })
}

pub fn allow(cx: &mut Ctx, raw: &S<intent::Allow>) -> Option<Allow> {
    let r = raw.get_ref();
    let origin = cx.origin(Kind::Allow, r.name.get_ref(), raw.span());
    let from = cx.opt_addr(r.from.as_ref());
    let to = cx.opt_addr(r.to.as_ref());
    let in_interface = cx.opt_traffic_iface(&r.in_interface);
    let out_interface = cx.opt_traffic_iface(&r.out_interface);
    let pp = cx.protocol_ports(&r.protocol, &r.port);
    let chain = r.chain.as_ref().map_or(Chain::Forward, |c| *c.get_ref());
    if let (Chain::Input, Some(o)) = (chain, &r.out_interface) {
        cx.out.push(
            Diagnostic::error(Code::CONFLICTING_KEYS, "an `input` rule has no `out_interface`")
                .label(o.span(), "traffic to the gateway itself leaves through no interface")
                .help("remove out_interface, or use chain = \"forward\" for traffic through the gateway"),
        );
        return None;
    }
    let (from, to, in_interface, out_interface, (protocol, ports)) = (from?, to?, in_interface?, out_interface?, pp?);
    let stateful = r.stateful.as_ref().is_none_or(|b| *b.get_ref());
    let log = super::log::log(r.log.as_deref(), r.log_prefix.as_deref(), r.log_rate.as_deref(), cx.out).map(Box::new);
    Some(Allow {
        origin,
        from,
        to,
        protocol,
        ports,
        in_interface,
        out_interface,
        chain,
        stateful,
        description: text(r.description.as_deref()),
        log,
    })
}

pub fn route(cx: &mut Ctx, raw: &S<intent::Route>, index: usize) -> Option<Route> {
    let r = raw.get_ref();
    let name = r.name.as_ref().map_or_else(|| format!("{}", index + 1), |n| n.get_ref().clone());
    let origin = cx.origin(Kind::Route, &name, raw.span());
    let to = cx.addr(&r.to)?;
    let nexthop = match (&r.via, &r.interface) {
        (Some(via), None) => Nexthop::Via(cx.host(via, "a route's `via`")?),
        (None, Some(i)) => Nexthop::Interface(cx.iface(i)?),
        (Some(via), Some(i)) => {
            cx.out.push(
                Diagnostic::error(Code::CONFLICTING_KEYS, "a route has either `via` or `interface`, not both")
                    .label(i.span(), "interface here")
                    .label(via.span(), "via here")
                    .help("keep `via` for a next hop on a connected subnet, `interface` for a point-to-point link or tunnel"),
            );
            return None;
        }
        (None, None) => {
            cx.out.push(
                Diagnostic::error(Code::MISSING_KEY, "a route needs `via` or `interface`")
                    .label(raw.span(), "this route goes nowhere")
                    .help("add via = \"next-hop address\" or interface = \"vti0\""),
            );
            return None;
        }
    };
    Some(Route { origin, to, nexthop })
}
