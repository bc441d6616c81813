//! natc's sugar back from its parts. A `[[gateway.netmap]]` lowers to a DNAT and an SNAT
//! (both 1:1 prefix maps) and `hairpin = true` adds a DNAT for the inside and a masquerade;
//! read back, those are separate items (`vpc-a-dnat`/`vpc-a-snat`, `…-hairpin`). They build
//! the same rules, but under other names: VyOS numbers a rule from its item's name, so
//! `natc diff` of the original and the re-imported intent would delete and re-add them.
//! When natc's comments name the parts and the parts are exactly what natc writes for the
//! item, they become the item again (docs/import.md, "What it writes").
//!
//! Order: natc sorts the DNATs by their items' places in the intent, and the SNATs likewise,
//! each list on its own. A folded item stands for one place in each list, so the items are
//! written as a merge of the two lists that keeps both orders (where the two disagree, the
//! DNATs' order wins).

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::draft::{Draft, Item, Kind, Value};

/// Keys a netmap's halves may carry besides the four the netmap is made of.
const LOG_KEYS: [&str; 3] = ["log", "log_prefix", "log_rate"];

pub fn fold(draft: &mut Draft) {
    let mut groups: Vec<Group> = Vec::new();
    netmaps(draft, &mut groups);
    hairpins(draft, &mut groups);
    if groups.is_empty() {
        return;
    }
    // Which group each folded part belongs to, and whether it stands for the group's place.
    let mut member: HashMap<usize, (usize, bool)> = HashMap::new();
    for (g, group) in groups.iter().enumerate() {
        member.insert(group.dnat_at, (g, true));
        member.insert(group.snat_at, (g, true));
        for &at in &group.dropped {
            member.insert(at, (g, false));
        }
    }
    enum Slot {
        Item(usize),
        Group(usize),
    }
    let slots = |kind: Kind| -> Vec<Slot> {
        draft
            .items
            .iter()
            .enumerate()
            .filter(|(_, i)| i.kind == kind)
            .filter_map(|(at, _)| match member.get(&at) {
                None => Some(Slot::Item(at)),
                Some((g, true)) => Some(Slot::Group(*g)),
                Some((_, false)) => None,
            })
            .collect()
    };
    let (dnats, snats) = (slots(Kind::Dnat), slots(Kind::Snat));
    let mut order: Vec<Slot> = Vec::new();
    let mut placed = vec![false; groups.len()];
    let (mut d, mut s) = (0, 0);
    while d < dnats.len() || s < snats.len() {
        let (group, next_d, next_s) = match (dnats.get(d), snats.get(s)) {
            (Some(Slot::Item(at)), _) => {
                order.push(Slot::Item(*at));
                (None, d + 1, s)
            }
            (_, Some(Slot::Item(at))) => {
                order.push(Slot::Item(*at));
                (None, d, s + 1)
            }
            (Some(Slot::Group(a)), Some(Slot::Group(b))) if a == b => (Some(*a), d + 1, s + 1),
            // The lists disagree on the groups' order (VyOS lists rules by number, not by
            // the items' places, so the order is not the intent's anyway): a group the
            // SNATs reach first that the DNATs placed already is passed, else the DNATs'
            // order wins.
            (Some(Slot::Group(_)), Some(Slot::Group(b))) if placed[*b] => (None, d, s + 1),
            (Some(Slot::Group(a)), _) => (Some(*a), d + 1, s),
            (None, Some(Slot::Group(b))) => (Some(*b), d, s + 1),
            (None, None) => break,
        };
        if let Some(g) = group.filter(|g| !placed[*g]) {
            placed[g] = true;
            order.push(Slot::Group(g));
        }
        (d, s) = (next_d, next_s);
    }
    let mut items: Vec<Option<Item>> = std::mem::take(&mut draft.items).into_iter().map(Some).collect();
    let mut out: Vec<Item> = Vec::with_capacity(items.len());
    for slot in order {
        match slot {
            Slot::Item(at) => out.extend(items[at].take()),
            Slot::Group(g) => {
                let group = &mut groups[g];
                for at in
                    std::iter::once(group.dnat_at).chain(std::iter::once(group.snat_at)).chain(group.dropped.clone())
                {
                    if let Some(part) = items[at].take() {
                        draft.names.remove(&part.name);
                    }
                }
                let Some(item) = group.item.take() else { continue };
                draft.names.insert(item.name.clone());
                out.push(item);
            }
        }
    }
    // The allows (and anything else) after the translations, in their own order.
    out.extend(items.into_iter().flatten());
    draft.items = out;
}

/// Parts that become one item: the DNAT part standing for its place among the DNATs, the
/// SNAT part for its place among the SNATs, and parts that go without a place.
struct Group {
    dnat_at: usize,
    snat_at: usize,
    dropped: Vec<usize>,
    item: Option<Item>,
}

fn origin_of<'a>(item: &'a Item, kind: &str, part: Option<&str>) -> Option<&'a str> {
    let o = item.origin.as_ref()?;
    (o.kind == kind && o.part.as_deref() == part).then_some(o.name.as_str())
}

fn key<'a>(item: &'a Item, key: &str) -> Option<&'a str> {
    match item.get(key)? {
        Value::Address(a) | Value::Text(a) => Some(a),
        _ => None,
    }
}

/// A netmap's halves, as lower.rs writes them: DNAT `local_as → local` in from `interface`
/// from `remote_as`, SNAT `local → local_as` out of `interface` to `remote_as`.
fn netmaps(draft: &Draft, groups: &mut Vec<Group>) {
    let snats: HashMap<&str, usize> = draft
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.kind == Kind::Snat)
        .filter_map(|(at, i)| Some((origin_of(i, "netmap", Some("snat"))?, at)))
        .collect();
    for (d_at, d) in draft.items.iter().enumerate().filter(|(_, i)| i.kind == Kind::Dnat) {
        let Some(name) = origin_of(d, "netmap", Some("dnat")) else { continue };
        let Some(&s_at) = snats.get(name) else { continue };
        let s = &draft.items[s_at];
        let only = |item: &Item, keys: [&str; 4]| {
            item.keys.iter().all(|(k, _)| keys.contains(k) || LOG_KEYS.contains(k))
                && keys.iter().all(|k| key(item, k).is_some())
        };
        let logs_alike = LOG_KEYS.iter().all(|k| d.get(k) == s.get(k));
        let (Some(interface), Some(remote_as), Some(local_as), Some(local)) =
            (key(d, "in_interface"), key(d, "source"), key(d, "destination"), key(d, "to"))
        else {
            continue;
        };
        let mirrored = key(s, "out_interface") == Some(interface)
            && key(s, "source") == Some(local)
            && key(s, "destination") == Some(remote_as)
            && key(s, "to") == Some(local_as);
        let free = !draft.names.contains(name);
        if !(only(d, ["in_interface", "source", "destination", "to"])
            && only(s, ["out_interface", "source", "destination", "to"])
            && logs_alike
            && mirrored
            && free)
        {
            continue;
        }
        let mut item = Item::new(Kind::Netmap, d.line);
        item.name = name.to_string();
        item.description = d.description.clone();
        item.set("local", Value::Address(local.to_string()));
        item.set("local_as", Value::Address(local_as.to_string()));
        item.set("remote_as", Value::Address(remote_as.to_string()));
        item.set("interface", Value::Text(interface.to_string()));
        for k in LOG_KEYS {
            if let Some(v) = d.get(k) {
                item.set(k, v.clone());
            }
        }
        groups.push(Group { dnat_at: d_at, snat_at: s_at, dropped: Vec::new(), item: Some(item) });
    }
}

/// A hairpin's parts (docs/intent.md, "Hairpin"): the masquerade out of the inside
/// interface from its subnet to the DNAT's `to` and translated ports, and (when the DNAT
/// names another in_interface) the DNAT once more from the inside. The inside interface is
/// the one whose subnet holds `to`, so this needs the interfaces' addresses (VyOS and RTX
/// configurations carry them; Linux rule files do not, and their parts stay items).
fn hairpins(draft: &Draft, groups: &mut Vec<Group>) {
    let parts: HashMap<(&str, Kind), usize> = draft
        .items
        .iter()
        .enumerate()
        .filter_map(|(at, i)| Some(((origin_of(i, "dnat", Some("hairpin"))?, i.kind), at)))
        .collect();
    for (m_at, m) in draft.items.iter().enumerate().filter(|(_, i)| i.kind == Kind::Dnat) {
        let Some(name) = origin_of(m, "dnat", None) else { continue };
        let Some(&s_at) = parts.get(&(name, Kind::Snat)) else { continue };
        let (s, inside_dnat) = (&draft.items[s_at], parts.get(&(name, Kind::Dnat)).copied());
        let (Some(inside), Some(subnet), Some(to)) = (key(s, "out_interface"), key(s, "source"), key(m, "to")) else {
            continue;
        };
        let Some(connected) = connected_subnet(draft, inside) else { continue };
        let ports = m.get("to_port").or_else(|| m.get("port"));
        let masquerade_ok = connected == subnet
            && holds(subnet, to)
            && key(s, "destination") == Some(to)
            && key(s, "to") == Some("masquerade")
            && s.get("protocol") == m.get("protocol")
            && s.get("port") == ports
            && s.keys.iter().all(|(k, _)| {
                ["out_interface", "source", "destination", "to", "protocol", "port"].contains(k) || LOG_KEYS.contains(k)
            })
            && LOG_KEYS.iter().all(|k| s.get(k) == m.get(k))
            && m.get("source").is_none()
            && m.get("hairpin").is_none();
        let needs_inside_dnat = key(m, "in_interface").is_some_and(|i| i != inside);
        let inside_ok = match inside_dnat {
            None => !needs_inside_dnat,
            Some(h_at) => {
                let h = &draft.items[h_at];
                needs_inside_dnat
                    && key(h, "in_interface") == Some(inside)
                    && key(h, "source") == Some(subnet)
                    && m.keys
                        .iter()
                        .filter(|(k, _)| *k != "in_interface" && *k != "claim")
                        .all(|(k, v)| h.get(k) == Some(v))
                    && h.keys.len() == m.keys.iter().filter(|(k, _)| *k != "claim").count() + 1
            }
        };
        if !(masquerade_ok && inside_ok) {
            continue;
        }
        let mut item = m.clone();
        item.set("hairpin", Value::Bool(true));
        groups.push(Group {
            dnat_at: m_at,
            snat_at: s_at,
            dropped: inside_dnat.into_iter().collect(),
            item: Some(item),
        });
    }
}

/// The subnet (`10.0.0.0/24`) of the first address of `interface`, when the draft has it.
fn connected_subnet(draft: &Draft, interface: &str) -> Option<String> {
    let keys = draft.interface_keys.get(interface)?;
    let address = match &keys.iter().find(|(k, _)| *k == "address")?.1 {
        Value::Address(a) | Value::Text(a) => a.clone(),
        // A list as TOML text: its first quoted string.
        Value::Raw(list) => list.split('"').nth(1)?.to_string(),
        _ => return None,
    };
    let (host, len) = address.split_once('/')?;
    let (host, len): (Ipv4Addr, u32) = (host.parse().ok()?, len.parse().ok().filter(|l| *l <= 32)?);
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    Some(format!("{}/{len}", Ipv4Addr::from(u32::from(host) & mask)))
}

/// Whether the prefix `subnet` holds the host `address`.
fn holds(subnet: &str, address: &str) -> bool {
    let Some((net, len)) = subnet.split_once('/') else { return false };
    let (Ok(net), Ok(len), Ok(host)) = (net.parse::<Ipv4Addr>(), len.parse::<u32>(), address.parse::<Ipv4Addr>())
    else {
        return false;
    };
    if len > 32 {
        return false;
    }
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    u32::from(host) & mask == u32::from(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn half(kind: Kind, line: usize, comment: &str, keys: &[(&'static str, &str)], d: &mut Draft) {
        let mut item = Item::new(kind, line);
        for (k, v) in keys {
            let value =
                if k.ends_with("interface") { Value::Text(v.to_string()) } else { Value::Address(v.to_string()) };
            item.set(k, value);
        }
        d.push(item, Some(comment));
    }

    fn netmap_draft(snat_to: &str) -> Draft {
        let mut d = Draft::default();
        half(Kind::Dnat, 3, "gw dnat/web", &[("destination", "192.0.2.1"), ("to", "10.0.0.10")], &mut d);
        let dnat = [
            ("in_interface", "tun0"),
            ("source", "10.2.0.0/24"),
            ("destination", "10.9.0.0/24"),
            ("to", "10.1.0.0/24"),
        ];
        half(Kind::Dnat, 4, "gw netmap/vpc (dnat)", &dnat, &mut d);
        half(Kind::Snat, 7, "gw snat/lan", &[("out_interface", "eth0"), ("to", "masquerade")], &mut d);
        let snat =
            [("out_interface", "tun0"), ("source", "10.1.0.0/24"), ("destination", "10.2.0.0/24"), ("to", snat_to)];
        half(Kind::Snat, 8, "gw netmap/vpc (snat)", &snat, &mut d);
        d
    }

    #[test]
    fn a_netmaps_halves_become_the_netmap_at_its_place_in_both_lists() {
        let mut d = netmap_draft("10.9.0.0/24");
        fold(&mut d);
        let names: Vec<&str> = d.items.iter().map(|i| i.name.as_str()).collect();
        // After `web` among the DNATs and after `lan` among the SNATs.
        assert_eq!(names, ["web", "lan", "vpc"]);
        let n = &d.items[2];
        assert_eq!(n.kind, Kind::Netmap);
        assert_eq!(key(n, "local"), Some("10.1.0.0/24"));
        assert_eq!(key(n, "local_as"), Some("10.9.0.0/24"));
        assert_eq!(key(n, "remote_as"), Some("10.2.0.0/24"));
        assert_eq!(key(n, "interface"), Some("tun0"));
        assert!(d.names.contains("vpc") && !d.names.contains("vpc-dnat"));
    }

    #[test]
    fn halves_that_are_not_what_a_netmap_writes_stay_items() {
        // The SNAT half maps to another prefix than the DNAT half came from.
        let mut d = netmap_draft("10.8.0.0/24");
        fold(&mut d);
        let names: Vec<&str> = d.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["web", "vpc-dnat", "lan", "vpc-snat"]);
    }

    #[test]
    fn subnets_of_interface_addresses() {
        let mut d = Draft::default();
        d.interface_keys.insert("eth1".into(), vec![("address", Value::Raw("[\"10.0.0.1/24\"]".into()))]);
        assert_eq!(connected_subnet(&d, "eth1").as_deref(), Some("10.0.0.0/24"));
        assert!(holds("10.0.0.0/24", "10.0.0.10") && !holds("10.0.0.0/24", "10.0.1.10"));
    }
}
