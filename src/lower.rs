//! The lower pass: model → plan. Sugar disappears here: a netmap becomes its two 1:1
//! translations, claims become owned addresses or proxy-ARP settings.

use crate::diag::{Code, Diagnostic};
use crate::model::{At, Claim, Dnat, Gateway, Kind, Model, Netmap, Routes, Snat, SnatTo, Subnets};
use crate::plan::*;
use crate::vocab::PortRange;
use crate::vocab::{FirewalldVersion, Origin, RtxModel, Verdict, VyosVersion};

pub fn lower(model: &Model) -> Result<Plan, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let gateways = model.gateways.iter().filter_map(|g| lower_gateway(g).map_err(|e| errors.push(e)).ok()).collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Plan {
        intent: model.name.clone(),
        description: model.description.clone(),
        gateways,
        lab: model.lab.clone(),
        expects: model.expects.clone(),
    })
}

fn lower_gateway(g: &Gateway) -> Result<GatewayPlan, Diagnostic> {
    // Intent order decides first-match order; dnat, snat and netmap tables may interleave in
    // the file, so sort by where each item was written.
    // Sized once for the hairpin and netmap halves added below (growing would copy every item).
    let hairpins = g.dnats.iter().filter(|d| d.hairpin.is_some()).count();
    let mut dnat: Vec<Translation> = Vec::with_capacity(g.dnats.len() + hairpins + g.netmaps.len());
    for d in &g.dnats {
        dnat.push(dnat_translation(d)?);
    }
    let mut snat: Vec<Translation> = Vec::with_capacity(g.snats.len() + hairpins + g.netmaps.len());
    snat.extend(g.snats.iter().map(snat_translation));
    // `dnat[i]` is `g.dnats[i]` lowered: each hairpin finds its DNAT at once (a search
    // through the list per hairpin made many hairpins quadratic).
    for (i, d) in g.dnats.iter().enumerate().filter(|(_, d)| d.hairpin.is_some()) {
        let (inside_dnat, masquerade) = hairpin_translations(d, &dnat[i])?;
        dnat.extend(inside_dnat);
        snat.push(masquerade);
    }
    for n in &g.netmaps {
        let (out, back) = netmap_translations(n);
        snat.push(out);
        dnat.push(back);
    }
    let tunnels = PolicyTunnels::of(g);
    for t in dnat.iter_mut().chain(snat.iter_mut()) {
        t.matcher = tunnels.apply(std::mem::take(&mut t.matcher));
    }
    dnat.sort_by_key(|t| t.origin.span.start);
    snat.sort_by_key(|t| t.origin.span.start);

    let mut owned: Vec<OwnedAddress> = g
        .addresses
        .iter()
        .map(|a| OwnedAddress {
            origin: a.origin.clone(),
            interface: a.interface.value.clone(),
            address: a.address.value,
        })
        .collect();
    let mut sysctls = Vec::new();
    let mut routes: Vec<Route> = g
        .routes
        .iter()
        .map(|r| Route { origin: r.origin.clone(), to: r.to.value, nexthop: nexthop(&r.nexthop) })
        .collect();
    if g.forwarding {
        let origin =
            Origin { gateway: g.name.clone(), kind: Kind::Gateway, name: g.name.clone(), span: g.span.clone() };
        sysctls.push(Sysctl { origin, key: "net.ipv4.ip_forward".into(), value: "1".into() });
    }
    let (subnets, user_routes) = (Subnets::new(&g.interfaces), Routes::new(&g.routes));
    for d in &g.dnats {
        match d.claim.value {
            Claim::Routed => {}
            Claim::Loopback => owned.push(OwnedAddress {
                origin: d.origin.clone(),
                interface: "lo".into(),
                address: d.destination.value,
            }),
            Claim::ProxyArp => {
                let (sysctl, route) = proxy_arp(&subnets, &user_routes, d)?;
                sysctls.push(sysctl);
                routes.push(route);
            }
        }
    }

    let chain_policy = |name: &str, at: &crate::model::At<crate::model::Verdict>| ChainPolicy {
        verdict: at.value,
        origin: Origin { gateway: g.name.clone(), kind: Kind::Policy, name: name.into(), span: at.span.clone() },
        log: g.policy.log.clone().filter(|_| at.value.closes()),
    };
    let (forward, input) = (chain_policy("forward", &g.policy.forward), chain_policy("input", &g.policy.input));
    let implicit =
        implicit_filters(FilterChain::Input, &input).chain(implicit_filters(FilterChain::Forward, &forward)).collect();
    let rules = g
        .allows
        .iter()
        .map(filter)
        .map(|mut f| {
            f.matcher = tunnels.apply(std::mem::take(&mut f.matcher));
            f
        })
        .collect();
    let filters = Filters { forward, input, rules, implicit };
    let firewalld_version = g.firewalld.as_ref().map_or(FirewalldVersion::DEFAULT, |v| v.value);
    let vyos_version = g.vyos.as_ref().map_or(VyosVersion::DEFAULT, |v| v.value);
    let rtx_model = g.rtx.as_ref().map_or(RtxModel::DEFAULT, |m| m.value);
    let mut gateway = GatewayPlan {
        name: g.name.clone(),
        span: g.span.clone(),
        description: g.description.clone(),
        targets: Vec::new(),
        firewalld_version,
        vyos_version,
        rtx_model,
        dnat,
        snat,
        filters,
        counters: g.counters.clone(),
        routes,
        owned,
        sysctls,
        tunnels: g.tunnels.clone(),
        bgp: g.bgp.clone(),
        interfaces: g.interfaces.clone(),
        descriptions: descriptions(g),
        translation_logs: translation_logs(g),
        accepts: g.accepts.clone(),
    };
    gateway.targets = g
        .targets
        .iter()
        .map(|t| DeclaredTarget { spec: gateway.with_profile(t.value.clone()), span: t.span.clone() })
        .collect();
    Ok(gateway)
}

/// The rule items' descriptions, keyed as `GatewayPlan::description_of` looks them up.
fn descriptions(g: &Gateway) -> ByItem<At<String>> {
    let dnats = g.dnats.iter().map(|d| (&d.origin, d.description.as_deref()));
    let snats = g.snats.iter().map(|s| (&s.origin, s.description.as_deref()));
    let netmaps = g.netmaps.iter().map(|n| (&n.origin, n.description.as_deref()));
    let allows = g.allows.iter().map(|a| (&a.origin, a.description.as_deref()));
    by_item(dnats.chain(snats).chain(netmaps).chain(allows))
}

/// The translation items' logs, keyed as `GatewayPlan::log_of` looks them up.
fn translation_logs(g: &Gateway) -> ByItem<crate::vocab::Log> {
    let dnats = g.dnats.iter().map(|d| (&d.origin, d.log.as_deref()));
    let snats = g.snats.iter().map(|s| (&s.origin, s.log.as_deref()));
    let netmaps = g.netmaps.iter().map(|n| (&n.origin, n.log.as_deref()));
    by_item(dnats.chain(snats).chain(netmaps))
}

/// The items that have a value, by kind and name.
fn by_item<'a, T: Clone + 'a>(items: impl Iterator<Item = (&'a Origin, Option<&'a T>)>) -> ByItem<T> {
    let mut map = ByItem::new();
    for (origin, value) in items {
        if let Some(v) = value {
            map.entry(origin.kind).or_default().insert(origin.name.clone(), v.clone());
        }
    }
    map
}

fn value<T: Clone>(v: &Option<crate::model::At<T>>) -> Option<T> {
    v.as_ref().map(|a| a.value.clone())
}

/// The names of a gateway's policy-based tunnels (model/rules.rs lets them stand for an
/// interface in translations and filters), as a set: every interface key of every rule
/// asks it.
struct PolicyTunnels(rustc_hash::FxHashSet<String>);

impl PolicyTunnels {
    fn of(g: &Gateway) -> Self {
        PolicyTunnels(
            g.tunnels
                .iter()
                .filter(|t| matches!(t.mode, TunnelMode::Policy { .. }))
                .map(|t| t.origin.name.clone())
                .collect(),
        )
    }

    /// An interface key as (interface, policy tunnel): a tunnel's name leaves no interface.
    fn split(&self, name: Option<String>) -> (Option<String>, Option<String>) {
        match name {
            Some(n) if self.0.contains(&n) => (None, Some(n)),
            other => (other, None),
        }
    }

    /// Moves the interface names of `m` that are policy tunnels to their tunnel fields.
    fn apply(&self, mut m: Match) -> Match {
        let (i, t) = self.split(m.in_interface.take());
        (m.in_interface, m.in_policy_tunnel) = (i, t);
        let (o, t) = self.split(m.out_interface.take());
        (m.out_interface, m.out_policy_tunnel) = (o, t);
        m
    }
}

/// A host `to` sets the address (and maybe the port); a prefix `to` is a 1:1 block map,
/// which the model only lets through without `to_port`.
fn dnat_step(d: &Dnat) -> Result<Step, Diagnostic> {
    let to = d.to.value;
    match (to.prefix_len() == 32, &d.to_port) {
        (true, None) => Ok(Step::SetAddress(to.addr(), None)),
        (true, Some(port)) => Ok(Step::SetAddress(to.addr(), Some(port_step(d, port)?))),
        (false, None) => Ok(Step::ShiftIntoPrefix(to)),
        (false, Some(port)) => Err(broken(&d.origin, port.span.clone(), "a 1:1 prefix map with a to_port")),
    }
}

/// One new port, or the one matched range shifted onto `to_port` (model/rules.rs proved the
/// widths equal and the protocol tcp or udp).
fn port_step(d: &Dnat, to_port: &At<PortRange>) -> Result<PortStep, Diagnostic> {
    if to_port.value.is_single() {
        return Ok(PortStep::Set(to_port.value.first));
    }
    let matched = d.ports.as_ref().and_then(|p| p.value.as_single_range());
    let protocol = d.protocol.as_ref().map(|p| p.value);
    match (protocol, matched) {
        (Some(protocol), Some(matched)) => PortShift::new(protocol, matched, to_port.value),
        _ => None,
    }
    .map(PortStep::Shift)
    .ok_or_else(|| broken(&d.origin, to_port.span.clone(), "a to_port range that is no 1:1 shift"))
}

/// N901: the model let through what it promises to refuse.
fn broken(origin: &Origin, span: crate::vocab::Span, what: &str) -> Diagnostic {
    Diagnostic::error(Code::INTERNAL, format!("internal error while lowering {}: {what}", origin.describe()))
        .label(span, "here")
        .help("this is a bug in natc; please report it with the intent file")
}

fn dnat_translation(d: &Dnat) -> Result<Translation, Diagnostic> {
    Ok(Translation {
        origin: d.origin.clone(),
        half: None,
        hairpin: false,
        hook: Hook::Destination,
        matcher: Match {
            in_interface: value(&d.in_interface),
            source: value(&d.source),
            destination: Some(d.destination.value),
            protocol: d.protocol.as_ref().map(|p| p.value),
            ports: value(&d.ports),
            ..Match::default()
        },
        step: dnat_step(d)?,
    })
}

fn snat_translation(s: &Snat) -> Translation {
    Translation {
        origin: s.origin.clone(),
        half: None,
        hairpin: false,
        hook: Hook::Source,
        matcher: Match {
            out_interface: value(&s.out_interface),
            source: value(&s.source),
            destination: value(&s.destination),
            protocol: s.protocol.as_ref().map(|p| p.value),
            ports: value(&s.ports),
            ipsec: if s.except_ipsec { IpsecMatch::NotIpsec } else { IpsecMatch::Any },
            ..Match::default()
        },
        step: match &s.to.value {
            SnatTo::Masquerade => Step::Masquerade,
            SnatTo::Address(a) => Step::SetAddress(*a, None),
            SnatTo::Prefix(p) => Step::ShiftIntoPrefix(*p),
        },
    }
}

/// `hairpin = true` (docs/intent.md, "Hairpin"): the DNAT once more for clients on the
/// inside interface (unless the DNAT already matches every interface), and the masquerade
/// out of the inside interface, for flows from the inside subnet to the DNAT's `to` and
/// translated ports, so the server answers the gateway and conntrack undoes both.
/// Both sort next to the DNAT (its span): after it among the DNATs, and in the SNAT list
/// where the DNAT was written.
fn hairpin_translations(d: &Dnat, original: &Translation) -> Result<(Option<Translation>, Translation), Diagnostic> {
    let Some(h) = &d.hairpin else { return Err(broken(&d.origin, d.origin.span.clone(), "a hairpin without one")) };
    if original.origin != d.origin {
        return Err(broken(&d.origin, h.span.clone(), "a hairpin of a DNAT that was not lowered"));
    }
    let inside_dnat = match &original.matcher.in_interface {
        Some(i) if *i != h.interface => Some(Translation {
            hairpin: true,
            matcher: Match {
                in_interface: Some(h.interface.clone()),
                source: Some(h.subnet),
                ..original.matcher.clone()
            },
            ..original.clone()
        }),
        // Without in_interface the DNAT matches inside clients already; on the inside
        // interface itself only the masquerade is missing.
        _ => None,
    };
    // The ports the server sees: the DNAT's `to_port` (one port or the shifted range),
    // else the matched ones.
    let ports = match &d.to_port {
        Some(p) => Some(crate::vocab::PortSet { ranges: vec![p.value] }),
        None => value(&d.ports),
    };
    let masquerade = Translation {
        origin: d.origin.clone(),
        half: None,
        hairpin: true,
        hook: Hook::Source,
        matcher: Match {
            out_interface: Some(h.interface.clone()),
            source: Some(h.subnet),
            destination: Some(d.to.value),
            protocol: d.protocol.as_ref().map(|p| p.value),
            ports,
            ..Match::default()
        },
        step: Step::Masquerade,
    };
    Ok((inside_dnat, masquerade))
}

/// docs/intent.md §2.3: SNAT local → local_as towards remote_as, DNAT local_as → local from remote_as.
fn netmap_translations(n: &Netmap) -> (Translation, Translation) {
    let out = Translation {
        origin: n.origin.clone(),
        half: Some(NetmapHalf::Snat),
        hairpin: false,
        hook: Hook::Source,
        matcher: Match {
            out_interface: Some(n.interface.value.clone()),
            source: Some(n.local.value),
            destination: Some(n.remote_as.value),
            ..Match::default()
        },
        step: Step::ShiftIntoPrefix(n.local_as.value),
    };
    let back = Translation {
        origin: n.origin.clone(),
        half: Some(NetmapHalf::Dnat),
        hairpin: false,
        hook: Hook::Destination,
        matcher: Match {
            in_interface: Some(n.interface.value.clone()),
            source: Some(n.remote_as.value),
            destination: Some(n.local_as.value),
            ..Match::default()
        },
        step: Step::ShiftIntoPrefix(n.local.value),
    };
    (out, back)
}

/// Under a drop policy: loopback first (input only), then replies.
fn implicit_filters(chain: FilterChain, policy: &ChainPolicy) -> impl Iterator<Item = ImplicitFilter> + use<> {
    let implied: &[Implicit] = match (policy.verdict, chain) {
        (Verdict::Accept, _) => &[],
        (Verdict::Drop | Verdict::Reject, FilterChain::Input) => &[Implicit::Loopback, Implicit::Replies],
        (Verdict::Drop | Verdict::Reject, FilterChain::Forward) => &[Implicit::Replies],
    };
    let origin = policy.origin.clone();
    implied.iter().map(move |&accepts| ImplicitFilter { origin: origin.clone(), chain, accepts })
}

fn filter(a: &crate::model::Allow) -> Filter {
    Filter {
        origin: a.origin.clone(),
        chain: match a.chain {
            crate::model::Chain::Forward => FilterChain::Forward,
            crate::model::Chain::Input => FilterChain::Input,
        },
        matcher: Match {
            in_interface: value(&a.in_interface),
            out_interface: value(&a.out_interface),
            source: value(&a.from),
            destination: value(&a.to),
            protocol: a.protocol.as_ref().map(|p| p.value),
            ports: value(&a.ports),
            ..Match::default()
        },
        stateful: a.stateful,
        log: a.log.as_deref().cloned(),
    }
}

fn nexthop(n: &crate::model::Nexthop) -> Nexthop {
    match n {
        crate::model::Nexthop::Via(v) => Nexthop::Via(v.value),
        crate::model::Nexthop::Interface(i) => Nexthop::Interface(i.value.clone()),
    }
}

/// Proxy ARP answers for an address only if the kernel routes it out of *another*
/// interface, so the virtual address gets a host route towards the real one
/// (tested recipe: linux-kernel-testing.md, pitfalls, "ARP for a DNAT address").
fn proxy_arp(subnets: &Subnets, routes: &Routes, d: &Dnat) -> Result<(Sysctl, Route), Diagnostic> {
    let in_if = d.in_interface.as_ref().map(|i| i.value.clone()).unwrap_or_default();
    let real = d.to.value.addr();
    // The first interface whose subnet holds the real host, else the longest route to it.
    let towards = subnets
        .containing(ipnet::Ipv4Net::from(real))
        .map(|(i, _)| Nexthop::Interface(i.name.clone()))
        .or_else(|| routes.longest(real).map(|r| nexthop(&r.nexthop)));
    let Some(towards) = towards else {
        return Err(Diagnostic::error(
            Code::MISSING_DEPENDENCY,
            format!("claim = \"proxy-arp\" needs to know how {} is reached", d.to.value),
        )
        .label(d.claim.span.clone(), "proxy ARP here")
        .label(d.to.span.clone(), "reached through which interface?")
        .help("give the interface towards it an address on its subnet, or add a [[gateway.route]] covering it"));
    };
    if matches!(&towards, Nexthop::Interface(i) if *i == in_if) {
        return Err(Diagnostic::error(Code::MISSING_DEPENDENCY, format!("proxy ARP cannot work: {} is reached through `{in_if}`, where the clients are", d.to.value))
            .label(d.claim.span.clone(), "proxy ARP here")
            .help("the kernel only answers ARP for addresses routed out of another interface; use claim = \"loopback\" or a route on the clients"));
    }
    let sysctl =
        Sysctl { origin: d.origin.clone(), key: format!("net.ipv4.conf.{in_if}.proxy_arp"), value: "1".into() };
    let route = Route { origin: d.origin.clone(), to: d.destination.value, nexthop: towards };
    Ok((sysctl, route))
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTENT: &str = r#"
natc = 1
name = "lower-test"

[[gateway]]
name = "gw"
targets = ["nftables"]
policy = { forward = "drop", input = "drop" }

[[gateway.interface]]
name = "eth0"
address = "192.168.100.2/24"

[[gateway.interface]]
name = "eth1"
address = "192.168.200.2/24"

[[gateway.dnat]]
name = "range"
destination = "192.168.100.10"
to = "192.168.200.10"
protocol = "udp"
port = "8000-8099"
to_port = "9000-9099"

[[gateway.dnat]]
name = "one"
destination = "192.168.100.11"
to = "192.168.200.11"
protocol = "tcp"
port = 8443
to_port = 443
"#;

    fn plan() -> GatewayPlan {
        let file = crate::intent::parse(INTENT).expect("TOML");
        let model = crate::model::resolve(&file).expect("resolves");
        lower(&model).expect("lowers").gateways.remove(0)
    }

    #[test]
    fn a_to_port_becomes_a_set_or_a_shift() {
        let gw = plan();
        let steps: Vec<Option<&PortStep>> = gw.dnat.iter().map(Translation::port_step).collect();
        let Some(PortStep::Shift(shift)) = steps[0] else { panic!("a range is a shift: {steps:?}") };
        assert_eq!(
            (shift.protocol(), shift.matched().first, shift.onto().last),
            (crate::vocab::Protocol::Udp, 8000, 9099)
        );
        assert_eq!(steps[1], Some(&PortStep::Set(443)));
    }

    #[test]
    fn a_drop_policy_implies_loopback_then_replies_on_input_and_replies_on_forward() {
        let gw = plan();
        let comments = |chain| gw.filters.lines(chain).iter().map(FilterLine::comment).collect::<Vec<_>>();
        assert_eq!(comments(FilterChain::Input), ["gw policy/input (loopback)", "gw policy/input (replies)"]);
        assert_eq!(comments(FilterChain::Forward), ["gw policy/forward (replies)"]);
    }

    /// `hairpin = true`: with an `in_interface` the DNAT is repeated for the inside
    /// interface (its subnet as source) right after itself; the masquerade out of the
    /// inside interface matches the server and the ports it sees (the shifted range).
    /// Without `in_interface` the DNAT already matches the inside: only the masquerade.
    #[test]
    fn a_hairpin_is_an_inside_dnat_and_a_masquerade_with_the_dnats_origin() {
        let text = INTENT
            .replace("to_port = \"9000-9099\"", "to_port = \"9000-9099\"\nin_interface = \"eth0\"\nhairpin = true")
            .replace("to_port = 443", "to_port = 443\nhairpin = true");
        let file = crate::intent::parse(&text).expect("TOML");
        let gw = lower(&crate::model::resolve(&file).expect("resolves")).expect("lowers").gateways.remove(0);
        let comments: Vec<String> = gw.dnat.iter().map(Translation::comment).collect();
        assert_eq!(comments, ["gw dnat/range", "gw dnat/range (hairpin)", "gw dnat/one"]);
        let inside = &gw.dnat[1].matcher;
        assert_eq!(
            (inside.in_interface.as_deref(), inside.source, inside.destination),
            (Some("eth1"), "192.168.200.0/24".parse().ok(), gw.dnat[0].matcher.destination)
        );
        assert_eq!(gw.dnat[1].step, gw.dnat[0].step);
        let snats: Vec<(String, &Match, &Step)> = gw.snat.iter().map(|t| (t.comment(), &t.matcher, &t.step)).collect();
        assert_eq!(snats.len(), 2);
        let (comment, m, step) = &snats[0];
        assert_eq!((comment.as_str(), *step), ("gw dnat/range (hairpin)", &Step::Masquerade));
        assert_eq!(
            (m.out_interface.as_deref(), m.source, m.destination),
            (Some("eth1"), "192.168.200.0/24".parse().ok(), "192.168.200.10/32".parse().ok())
        );
        let range = &m.ports.as_ref().expect("ports").ranges[0];
        assert_eq!((range.first, range.last), (9000, 9099), "the ports the server sees");
        assert_eq!(snats[1].0, "gw dnat/one (hairpin)");
        assert_eq!(snats[1].1.ports.as_ref().map(|p| p.ranges[0].first), Some(443));
    }

    /// The model refuses a prefix map with `to_port` (N114); were one to reach lower, it is
    /// natc's bug (N901), not a plan with the port silently dropped.
    #[test]
    fn a_broken_model_promise_is_an_internal_error() {
        let file = crate::intent::parse(INTENT).expect("TOML");
        let mut model = crate::model::resolve(&file).expect("resolves");
        let dnat = &mut model.gateways[0].dnats[1];
        dnat.destination.value = "192.168.100.0/24".parse().expect("a prefix");
        dnat.to.value = "192.168.200.0/24".parse().expect("a prefix");
        let errors = lower(&model).expect_err("a prefix map with a port change has no step");
        assert_eq!(errors.iter().map(|d| d.code).collect::<Vec<_>>(), [Code::INTERNAL]);
    }
}
