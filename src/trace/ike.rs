//! Bringing a lab's IPsec tunnels up before any probe, as charon would: each end, in
//! intent order, sends IKE (udp 500, then 4500: libipsec always floats to NAT-T) from
//! its local address to `remote`, walked through the lab and answered back; the far end
//! is the gateway it arrives at, with a policy-based tunnel whose `remote` is the
//! address it arrives from. Then the pair must agree: what certainly keeps it down is
//! said (`TUNNEL DOWN`), what IKE would make of a disagreement is "not modelled"
//! (`TUNNEL ?`). The IKE flows stay in the lab's conntrack for every probe.

use super::conntrack::Conntrack;
use super::lab::{End, Lab};
use super::packet::{Kind, Packet, Tuple};
use super::render::Recorder;
use super::tunnel::{Sa, TunnelEnd, Tunnels, describe, short};
use crate::lab::probe::ProbeProtocol;
use crate::lab::topology::NodeKind;
use crate::plan::{SecretRef, Tunnel, TunnelMode};
use crate::vocab::ipsec::IkeId;
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

const IKE_PORT: u16 = 500;
const NATT_PORT: u16 = 4500;

impl<'a> Tunnels<'a> {
    /// Bring every policy-based tunnel of the lab up, or say why it does not come up.
    pub fn establish(lab: &Lab<'a>) -> Tunnels<'a> {
        let mut ends = Vec::new();
        for (n, node) in lab.nodes.iter().enumerate() {
            for t in node.plan.map(|p| p.tunnels.as_slice()).unwrap_or_default() {
                if let TunnelMode::Policy { local, remote } = &t.mode {
                    let nets = |v: &[crate::vocab::At<Ipv4Net>]| v.iter().map(|n| n.value).collect();
                    ends.push(TunnelEnd { node: n, tunnel: t, local: nets(local), remote: nets(remote), sa: None });
                }
            }
        }
        let mut tunnels = Tunnels { conntrack: vec![Conntrack::default(); lab.nodes.len()], ..Tunnels::default() };
        // Each end initiates in intent order; one that gets through pairs both ends. A
        // failed attempt leaves no conntrack state (retransmissions are not modelled).
        let mut failed: Vec<Option<String>> = vec![None; ends.len()];
        let mut settled = vec![false; ends.len()];
        for i in 0..ends.len() {
            if settled[i] {
                continue;
            }
            let mut ct = tunnels.conntrack.clone();
            match initiate(lab, &mut ct, &ends, i) {
                Err(why) => failed[i] = Some(why),
                Ok((j, sends, arrives)) if !settled[j] => {
                    settled[i] = true;
                    settled[j] = true;
                    let (certain, unsure) = disagreements(lab, &ends[i], &ends[j], sends.source, arrives.destination);
                    let pair = format!("{}  ↔  {}", short(&ends[i]), short(&ends[j]));
                    if !certain.is_empty() {
                        let why = certain.into_iter().chain(unsure).collect::<Vec<_>>().join("; ");
                        tunnels.summary.push(format!("TUNNEL DOWN  {pair}  {why}"));
                        tunnels.down.push(format!("{pair}: {why}"));
                    } else if !unsure.is_empty() {
                        let why = unsure.join("; ");
                        tunnels.summary.push(format!("TUNNEL ?  {pair}  not modelled: {why}"));
                        tunnels.unsure.push(format!("tunnel {pair}: {why}"));
                    } else {
                        tunnels.conntrack = ct;
                        ends[i].sa = Some(Sa { peer: j, sends, arrives });
                        ends[j].sa = Some(Sa { peer: i, sends: arrives.inverted(), arrives: sends.inverted() });
                        let how = if sends != arrives { ", NAT on the way" } else { "" };
                        tunnels.summary.push(format!(
                            "TUNNEL UP  {pair}  IKE from {}; ESP in UDP 4500 {} ⇄ {}{how}",
                            lab.nodes[ends[i].node].name, sends.source, sends.destination
                        ));
                    }
                }
                Ok((j, ..)) => {
                    failed[i] =
                        Some(format!("its IKE packets reach {}, whose far end is already paired", short(&ends[j])));
                }
            }
        }
        for (i, why) in failed.into_iter().enumerate() {
            if let (Some(why), false) = (why, settled[i]) {
                tunnels.summary.push(format!("TUNNEL DOWN  {}  did not come up: {why}", short(&ends[i])));
                tunnels.down.push(format!("{} did not come up: {why}", short(&ends[i])));
            }
        }
        tunnels.ends = ends;
        tunnels
    }
}

/// End `i` initiates: IKE on udp 500, then (after the NAT-T float libipsec always does)
/// on udp 4500, each answered by the far end. Gives the far end and the 4500 packet as
/// sent and as it arrives.
fn initiate(lab: &Lab, ct: &mut [Conntrack], ends: &[TunnelEnd], i: usize) -> Result<(usize, Tuple, Tuple), String> {
    let e = &ends[i];
    let node = &lab.nodes[e.node];
    let remote = e.tunnel.remote.value;
    let source = match &e.tunnel.local_address {
        Some(a) if node.net.local(a.value).is_none() => {
            return Err(format!("local_address {} is not an address of {}", a.value, node.name));
        }
        Some(a) => a.value,
        None => node.source_towards(remote).ok_or_else(|| format!("{} has no route to {remote}", node.name))?,
    };
    let udp = |port| Tuple {
        protocol: ProbeProtocol::Udp,
        source,
        destination: remote,
        source_port: Some(port),
        destination_port: Some(port),
    };
    let (far, _) = exchange(lab, ct, e.node, udp(IKE_PORT))?;
    let (far_natt, arrives) = exchange(lab, ct, e.node, udp(NATT_PORT))?;
    if far != far_natt {
        return Err(format!(
            "its udp 500 and 4500 packets reach different nodes ({} and {})",
            lab.nodes[far].name, lab.nodes[far_natt].name
        ));
    }
    let far_name = &lab.nodes[far].name;
    let j = ends.iter().position(|f| {
        f.node == far
            && f.tunnel.remote.value == arrives.source
            && f.tunnel.local_address.as_ref().is_none_or(|a| a.value == arrives.destination)
    });
    j.map(|j| (j, udp(NATT_PORT), arrives)).ok_or_else(|| {
        format!(
            "no tunnel at the far end: its IKE packets reach {far_name} as {arrives}, and {far_name} has no policy-based tunnel with remote = {} (not modelled)",
            arrives.source
        )
    })
}

/// One IKE packet there and its answer back. Gives the node that took it and the packet
/// as it arrived there.
fn exchange(lab: &Lab, ct: &mut [Conntrack], from: usize, t: Tuple) -> Result<(usize, Tuple), String> {
    let port = t.destination_port.unwrap_or(0);
    let what = format!("its IKE packets (udp {port} {} → {})", t.source, t.destination);
    let last = |rec: &Recorder| rec.steps.last().map(|s| format!("{}: {}", s.node, s.text)).unwrap_or_default();
    let mut rec = Recorder::default();
    let end = lab.walk(ct, from, Packet::new(t, Kind::Datagram), &mut rec);
    if !rec.unmodelled.is_empty() {
        return Err(format!("{what} meet what trace does not model: {}", rec.unmodelled.join("; ")));
    }
    let (far, arrived) = match end {
        End::Delivered { node, packet } if lab.kinds[node] == NodeKind::Gateway => (node, packet),
        End::Delivered { node, .. } => {
            return Err(format!("{what} arrive at {}, a lab host that runs no IKE", lab.nodes[node].name));
        }
        _ => return Err(format!("{what} do not reach the far end (last: {})", last(&rec))),
    };
    let mut back = Recorder::default();
    let answer = Packet::new(arrived.tuple.inverted(), Kind::Answer);
    match lab.walk(ct, far, answer, &mut back) {
        End::Delivered { node, packet }
            if node == from && packet.tuple == t.inverted() && back.unmodelled.is_empty() =>
        {
            Ok((far, arrived.tuple))
        }
        _ => Err(format!("the answers to {what} do not get back (last: {})", last(&back))),
    }
}

/// What keeps a pair from coming up, certainly (identities that do not match fail
/// authentication; selectors with nothing in common are TS_UNACCEPTABLE), and what trace
/// cannot tell about (IKE may narrow overlapping selectors; proposals and PSK references
/// that differ may still agree; a `peer` naming another tunnel is natc's word, which
/// charon does not read).
fn disagreements(
    lab: &Lab,
    a: &TunnelEnd,
    b: &TunnelEnd,
    a_source: Ipv4Addr,
    b_source: Ipv4Addr,
) -> (Vec<String>, Vec<String>) {
    let (mut certain, mut unsure) = (Vec::new(), Vec::new());
    // Without local_id (or local_address) IKE proves the address it sends from (the
    // responder: the address it was reached at).
    for (x, y, source) in [(a, b, a_source), (b, a, b_source)] {
        let proves = x.tunnel.local_identity().map_or(IkeId::Address(source), |i| i.value);
        let expects = y.tunnel.remote_identity().value;
        if proves != expects {
            certain.push(format!(
                "identities differ: {} proves {proves}, {} expects {expects} (authentication fails)",
                describe(x),
                describe(y)
            ));
        }
    }
    let sorted = |v: &[Ipv4Net]| {
        let mut v = v.to_vec();
        v.sort();
        v.dedup();
        v
    };
    let overlap = |x: &[Ipv4Net], y: &[Ipv4Net]| x.iter().any(|n| y.iter().any(|m| n.contains(m) || m.contains(n)));
    if sorted(&a.local) != sorted(&b.remote) || sorted(&a.remote) != sorted(&b.local) {
        let nets = |v: &[Ipv4Net]| v.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ");
        let both = format!(
            "{} has local [{}] remote [{}], {} has local [{}] remote [{}]",
            describe(a),
            nets(&a.local),
            nets(&a.remote),
            describe(b),
            nets(&b.local),
            nets(&b.remote)
        );
        if overlap(&a.local, &b.remote) && overlap(&a.remote, &b.local) {
            unsure.push(format!("selectors do not mirror: {both} (IKE would narrow them)"));
        } else {
            certain.push(format!("selectors do not mirror: {both} (nothing in common: TS_UNACCEPTABLE)"));
        }
    }
    for (x, y) in [(a, b), (b, a)] {
        if let Some(p) = &x.tunnel.peer {
            let (gw, name) = (&lab.nodes[y.node].name, &y.tunnel.origin.name);
            if (&p.value.gateway, &p.value.tunnel) != (gw, name) {
                unsure.push(format!(
                    "{} says peer = \"{}/{}\", but its IKE partner is {}",
                    describe(x),
                    p.value.gateway,
                    p.value.tunnel,
                    describe(y)
                ));
            }
        }
    }
    let (ta, tb) = (a.tunnel, b.tunnel);
    let ike = |t: &Tunnel| {
        format!(
            "IKEv{} {}-{}-dh{}, ESP {}-{}{}",
            t.ike.version,
            t.ike.encryption,
            t.ike.hash,
            t.ike.dh_group,
            t.esp.encryption,
            t.esp.hash,
            if t.esp.pfs { " pfs" } else { "" }
        )
    };
    if ike(ta) != ike(tb) {
        unsure.push(format!(
            "proposals differ ({}: {}; {}: {}): whether IKE still agrees",
            describe(a),
            ike(ta),
            describe(b),
            ike(tb)
        ));
    }
    if ta.psk.value != tb.psk.value {
        let psk = |t: &Tunnel| match &t.psk.value {
            SecretRef::Env(name) => format!("env {name}"),
            SecretRef::File(path) => format!("file {path}"),
        };
        unsure.push(format!("the PSK references differ ({}, {}): whether the keys match", psk(ta), psk(tb)));
    }
    (certain, unsure)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = include_str!("../../tests/trace/tunnel-policy.toml");
    const NATT: &str = include_str!("../../tests/trace/tunnel-natt.toml");

    /// Loaded and lowered without the field checks: the disagreements below are what
    /// `natc check` may refuse, and trace must still not pass them.
    fn unchecked(text: &str) -> crate::Compiled {
        let file = crate::intent::parse(text).expect("TOML");
        let model = crate::model::resolve(&file).expect("resolves");
        let plan = crate::lower::lower(&model).expect("lowers");
        crate::Compiled { plan, warnings: Vec::new() }
    }

    /// The lab's tunnels: (the report's tunnel lines, those certainly down, those trace
    /// cannot tell about).
    fn brought_up(text: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
        let c = unchecked(text);
        let lab = Lab::new(&c.plan.gateways, c.plan.lab.as_ref().expect("a lab"));
        (lab.tunnels.summary.clone(), lab.tunnels.down.clone(), lab.tunnels.unsure.clone())
    }

    fn edit(text: &str, from: &str, to: &str) -> String {
        assert!(text.contains(from), "{from}");
        text.replacen(from, to, 1)
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn a_pair_comes_up_with_each_end_knowing_the_outer_packet_both_ways() {
        let c = unchecked(POLICY);
        let lab = Lab::new(&c.plan.gateways, c.plan.lab.as_ref().unwrap());
        assert!(lab.tunnels.down.is_empty(), "{:?}", lab.tunnels.down);
        let [a, b] = [&lab.tunnels.ends[0], &lab.tunnels.ends[1]];
        let (sa, sb) = (a.sa.expect("up"), b.sa.expect("up"));
        assert_eq!((sa.peer, sb.peer), (1, 0));
        assert_eq!((sa.sends.source, sa.sends.destination), (ip("203.0.113.10"), ip("203.0.113.20")));
        assert_eq!((sa.sends.source_port, sa.sends.destination_port), (Some(4500), Some(4500)));
        assert_eq!(sb.sends, sa.arrives.inverted());
        assert!(!sa.behind_nat());
        // utm-b drops input but for its tunnel's IKE, NAT-T and ESP from utm-a: so utm-a's
        // own initiation gets in (GatewayPlan::tunnel_input).
        assert!(lab.tunnels.summary[0].contains("IKE from utm-a;"), "{:?}", lab.tunnels.summary);
    }

    #[test]
    fn behind_a_masquerade_the_far_end_sees_the_nat_address_and_conntrack_keeps_the_mapping() {
        let c = unchecked(NATT);
        let lab = Lab::new(&c.plan.gateways, c.plan.lab.as_ref().unwrap());
        assert!(lab.tunnels.down.is_empty(), "{:?}", lab.tunnels.down);
        let ini = lab.tunnels.ends[0].sa.expect("up");
        assert_eq!(ini.sends.source, ip("192.168.30.2"));
        assert_eq!(ini.arrives.source, ip("198.18.1.1"), "masqueraded");
        assert!(ini.behind_nat());
        let nat = lab.node("nat").unwrap();
        let flows: Vec<(Option<u16>, Ipv4Addr)> =
            lab.tunnels.conntrack[nat].entries.iter().map(|e| (e.original.source_port, e.translated.source)).collect();
        assert_eq!(flows, vec![(Some(500), ip("198.18.1.1")), (Some(4500), ip("198.18.1.1"))]);
        assert!(lab.tunnels.summary[0].contains("NAT on the way"), "{:?}", lab.tunnels.summary);
        // Up, charon's routes are live: the remote selector goes into ipsec0.
        let ini_net = &lab.nodes[lab.node("ini").unwrap()].net;
        assert_eq!(ini_net.tunnel_routes.len(), 1);
        assert!(ini_net.idle_tunnel_routes.is_empty());
    }

    #[test]
    fn without_the_nat_boxs_allow_the_ike_packets_never_arrive() {
        let text = edit(NATT, "port = [500, 4500]", "port = [501]");
        let (summary, down, unsure) = brought_up(&text);
        assert_eq!((down.len(), unsure.len()), (2, 0), "{down:?}");
        assert!(down[0].starts_with("ini/to-rsp did not come up: its IKE packets (udp 500"), "{down:?}");
        assert!(down[0].contains("nat: forward: drop (nat policy/forward)"), "{down:?}");
        // rsp's own attempt reaches nat itself, which runs no tunnel back.
        assert!(down[1].starts_with("rsp/to-ini did not come up: no tunnel at the far end"), "{down:?}");
        assert!(summary.iter().all(|l| l.starts_with("TUNNEL DOWN  ")), "{summary:?}");
        // Down, charon installed no route: the packets go by the main table.
        let c = unchecked(&text);
        let lab = Lab::new(&c.plan.gateways, c.plan.lab.as_ref().unwrap());
        let ini = &lab.nodes[lab.node("ini").unwrap()];
        assert!(ini.net.tunnel_routes.is_empty() && ini.net.idle_tunnel_routes.len() == 1);
        let mut rec = Recorder::default();
        super::super::tunnel::note_idle(&ini.net, "ini", ip("192.168.32.10"), &mut rec);
        assert_eq!(
            rec.steps[0].text,
            "routing: tunnel to-rsp is not up, so charon's route for 192.168.32.0/24 is not there"
        );
    }

    #[test]
    fn a_far_end_without_a_tunnel_pointing_back_is_named() {
        let text = edit(POLICY, "remote = \"203.0.113.10\"", "remote = \"203.0.113.99\"");
        // utm-b's input policy lets IKE in from its own remote only.
        let (_, down, _) = brought_up(&text);
        assert!(
            down[0].ends_with("do not reach the far end (last: utm-b: input: drop (utm-b policy/input))"),
            "{down:?}"
        );
        let text = edit(&text, "[gateway.policy]\ninput = \"drop\"\n", "");
        let (_, down, _) = brought_up(&text);
        assert!(
            down.iter().any(|d| d.starts_with("utm-a/to-utm-b did not come up: no tunnel at the far end: its IKE packets reach utm-b as 203.0.113.10:4500 → 203.0.113.20:4500")),
            "{down:?}"
        );
        assert!(down.iter().any(|d| d.starts_with("utm-b/to-utm-a did not come up:")), "{down:?}");
    }

    #[test]
    fn each_disagreement_of_a_pair_keeps_it_down_or_says_trace_cannot_tell() {
        // (edited intent, certainly down?, what is said)
        let cases = [
            (
                edit(POLICY, "remote_networks = [\"@vpca\"]", "remote_networks = [\"192.168.30.0/24\"]"),
                true,
                "selectors do not mirror: utm-a tunnel/to-utm-b has local [192.168.10.0/24] remote [192.168.20.0/24], utm-b tunnel/to-utm-a has local [192.168.20.0/24] remote [192.168.30.0/24] (nothing in common: TS_UNACCEPTABLE)",
            ),
            (
                edit(POLICY, "remote_networks = [\"@vpca\"]", "remote_networks = [\"192.168.10.0/25\"]"),
                false,
                "(IKE would narrow them)",
            ),
            (
                edit(POLICY, "remote = \"203.0.113.10\"", "remote = \"203.0.113.10\"\nremote_id = \"a.example\""),
                true,
                "identities differ: utm-a tunnel/to-utm-b proves 203.0.113.10, utm-b tunnel/to-utm-a expects a.example (authentication fails)",
            ),
            (edit(NATT, "remote_id = \"ini.example\"", "remote_id = \"198.18.1.1\""), true, "proves ini.example"),
            (edit(POLICY, "{ file = \"tunnel.psk\" }", "{ env = \"OTHER_PSK\" }"), false, "the PSK references differ"),
            (
                edit(POLICY, "remote = \"203.0.113.10\"", "remote = \"203.0.113.10\"\nike = { version = 1 }"),
                false,
                "proposals differ",
            ),
            (
                edit(POLICY, "remote = \"203.0.113.20\"", "remote = \"203.0.113.20\"\npeer = \"utm-a/to-utm-b\""),
                false,
                "utm-a tunnel/to-utm-b says peer = \"utm-a/to-utm-b\", but its IKE partner is utm-b tunnel/to-utm-a",
            ),
        ];
        for (text, certain, said) in cases {
            let (summary, down, unsure) = brought_up(&text);
            let (lines, other, mark) =
                if certain { (down, unsure, "TUNNEL DOWN  ") } else { (unsure, down, "TUNNEL ?  ") };
            assert_eq!((lines.len(), other.len()), (1, 0), "{said}: {lines:?} {other:?}");
            assert!(lines[0].contains(said), "{said}: {lines:?}");
            assert!(
                lines[0].contains("utm-a/to-utm-b  ↔  utm-b/to-utm-a")
                    || lines[0].contains("ini/to-rsp  ↔  rsp/to-ini")
            );
            assert!(summary.len() == 1 && summary[0].starts_with(mark), "{summary:?}");
        }
        // Without the identities, the NAT-T pair would prove its private address.
        let text = NATT.replace("local_id = \"ini.example\"\nremote_id = \"rsp.example\"\n", "");
        let text = text.replace("local_id = \"rsp.example\"\nremote_id = \"ini.example\"\n", "");
        let (_, down, _) = brought_up(&text);
        assert!(
            down[0].contains("ini tunnel/to-rsp proves 192.168.30.2, rsp tunnel/to-ini expects 198.18.1.1"),
            "{down:?}"
        );
    }

    #[test]
    fn a_route_based_tunnel_is_not_modelled() {
        let text = edit(
            POLICY,
            "local_networks = [\"@vpca\"]\nremote_networks = [\"@vpcb\"]",
            "vti = { name = \"vti0\", address = \"169.254.0.1/30\" }",
        );
        let text = edit(&text, "interface = \"to-utm-b\"", "interface = \"vti0\"");
        let c = unchecked(&text);
        let net = super::super::net::Net::gateway(&c.plan.gateways[0]);
        assert!(net.unmodelled.iter().any(|u| u.contains("route-based IPsec tunnel utm-a tunnel/to-utm-b")), "{net:?}");
    }
}
