//! The Yamaha RTX change script: the lines that take a router configured with one
//! `rtx.conf` to the configuration of another (docs/diff.md).
//!
//! An RTX configuration is a flat list of settings. Entering a command replaces the
//! setting with the same identity — the command and its key parameters: `ip filter 100…`
//! is keyed by 100, `nat descriptor static 1000 5 …` by 1000 and 5, `ip lan3 secure filter
//! out …` by the interface and direction, `ip tunnel address …` by the tunnel selected with
//! `tunnel select N` — and `no <command> <key>` removes it. So a change is: `no` for every
//! identity that is gone, and the new line for every identity that is new or changed.
//!
//! RTX applies each line at once, so the order matters. Settings that are used by others
//! (definitions: interface addresses, filters, NAT descriptors, a tunnel's IKE, SA and
//! tunnel settings) and settings that use them (references: filter lists and NAT
//! bindings on interfaces, `tunnel enable`, `ipsec auto refresh`, routes) go in five steps:
//!
//! 1. remove references that are gone: routes, `tunnel disable N`, unbound lists;
//! 2. remove the settings a NAT descriptor or tunnel that stays no longer has, and the
//!    entries whose port or addresses another entry takes over (before the new ones are
//!    entered, so that two entries never claim one port or address, even when they swap);
//! 3. enter new and changed definitions, what others use first;
//! 4. enter new and changed references: a list or binding never names a filter or
//!    descriptor before it exists, and a changed binding moves straight to its new target;
//! 5. remove definitions that are gone, now that nothing uses them: a descriptor is never
//!    deleted while an interface is bound to it.
//!
//! Tunnel commands go inside `tunnel select N` … `tunnel select none`.

use std::collections::{BTreeMap, BTreeSet};

/// What a setting is for, in the order definitions are entered (references after).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    Address,
    Filter,
    DynamicFilter,
    Descriptor,
    Ike,
    SaPolicy,
    TunnelSetting,
    TunnelPolicy,
    Binding,
    Enable,
    AutoRefresh,
    Route,
    /// A command this module does not know: keyed by its whole line, entered last.
    Other,
}

impl Layer {
    fn is_definition(self) -> bool {
        self <= Layer::TunnelPolicy
    }
}

/// One setting of a configuration.
struct Setting<'a> {
    line: &'a str,
    /// The command and its key parameters (without the tunnel of a per-tunnel command).
    key: String,
    layer: Layer,
    /// The `tunnel select` block the line is in.
    block: Option<u32>,
    /// What the setting belongs to: its NAT descriptor or tunnel, or itself.
    group: String,
    /// Its line number in the file.
    at: usize,
}

impl Setting<'_> {
    /// Where it goes in a step: LAN settings, then tunnel blocks, then what builds on both.
    fn zone(&self) -> u8 {
        match self.block {
            Some(_) => 1,
            None if self.layer <= Layer::Binding => 0,
            None => 2,
        }
    }

    fn removal(&self) -> String {
        match self.key.strip_prefix("tunnel enable ") {
            Some(n) => format!("tunnel disable {n}"),
            None => format!("no {}", self.key),
        }
    }
}

fn number(word: &str) -> bool {
    !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit())
}

/// The words up to and including the first number (a descriptor or gateway id).
fn through_first_number(words: &[&str]) -> Option<String> {
    let n = words.iter().position(|w| number(w))?;
    Some(words.get(..=n)?.join(" "))
}

/// The identity and layer of one command, and the descriptor it belongs to.
fn classify(words: &[&str], line: &str) -> (String, Layer, Option<String>) {
    let first = |n: usize| words.get(..n).map(|w| w.join(" ")).unwrap_or_else(|| line.to_string());
    let other = (line.to_string(), Layer::Other, None);
    match words {
        ["ip", "filter", "dynamic", n, ..] if number(n) => (first(4), Layer::DynamicFilter, None),
        ["ip", "filter", n, ..] if number(n) => (first(3), Layer::Filter, None),
        ["ip", "route", _, ..] => (first(3), Layer::Route, None),
        ["ip", "tunnel", "address", ..] => (first(3), Layer::TunnelSetting, None),
        ["ip", "tunnel", "tcp", "mss", "limit", ..] => (first(5), Layer::TunnelSetting, None),
        ["ip", _, "tcp", "mss", "limit", ..] => (first(5), Layer::Address, None),
        ["ip", _, "address", ..] => (first(3), Layer::Address, None),
        ["ip", _, "nat", "descriptor", ..] => (first(4), Layer::Binding, None),
        ["ip", _, "secure", "filter", "in" | "out", ..] => (first(5), Layer::Binding, None),
        ["nat", "descriptor", "masquerade", "static", d, e, ..] if number(d) && number(e) => {
            (first(6), Layer::Descriptor, Some(d.to_string()))
        }
        ["nat", "descriptor", "static", d, e, ..] if number(d) && number(e) => {
            (first(5), Layer::Descriptor, Some(d.to_string()))
        }
        ["nat", "descriptor", ..] => match through_first_number(words) {
            Some(key) => {
                let d = key.rsplit(' ').next().unwrap_or_default().to_string();
                (key, Layer::Descriptor, Some(d))
            }
            None => other,
        },
        ["tunnel", "encapsulation", ..] => (first(2), Layer::TunnelSetting, None),
        ["tunnel", "enable", n] if number(n) => (first(3), Layer::Enable, None),
        ["ipsec", "tunnel", _] => (first(2), Layer::TunnelPolicy, None),
        ["ipsec", "sa", "policy", p, ..] if number(p) => (first(4), Layer::SaPolicy, None),
        ["ipsec", "ike", ..] => match through_first_number(words) {
            Some(key) => (key, Layer::Ike, None),
            None => other,
        },
        ["ipsec", "auto", "refresh", g, _] if number(g) => (first(4), Layer::AutoRefresh, None),
        ["ipsec", "auto", "refresh", ..] => (first(3), Layer::AutoRefresh, None),
        _ => other,
    }
}

/// Commands whose identity includes the selected tunnel.
fn per_tunnel(key: &str) -> bool {
    key.starts_with("ip tunnel ") || key == "tunnel encapsulation" || key == "ipsec tunnel"
}

/// Identity (tunnel of a per-tunnel command, key) → setting; a later line replaces an
/// earlier one, as on the router.
type Config<'a> = BTreeMap<(Option<u32>, String), Setting<'a>>;

fn parse(text: &str) -> Config<'_> {
    let mut config = Config::new();
    let mut block = None;
    for (at, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if let ["tunnel", "select", n] = words[..] {
            block = n.parse::<u32>().ok();
            continue;
        }
        let (key, layer, descriptor) = classify(&words, line);
        let group = match (descriptor, block) {
            (Some(d), _) => format!("nat descriptor {d}"),
            (None, Some(n)) if layer.is_definition() => format!("tunnel {n}"),
            _ => key.clone(),
        };
        let identity = (block.filter(|_| per_tunnel(&key)), key.clone());
        config.insert(identity, Setting { line, key, layer, block, group, at });
    }
    config
}

/// What a NAT descriptor entry claims, which no other entry of the descriptor may claim
/// too: a protocol and outer port (`masquerade static`), or an outer or inner address
/// range (`static`).
#[derive(Debug, PartialEq, Eq)]
enum Claim<'a> {
    Port { descriptor: &'a str, protocol: &'a str, port: &'a str },
    Range { descriptor: &'a str, inner: bool, first: u64, last: u64 },
}

fn address(text: &str) -> Option<u64> {
    text.parse::<std::net::Ipv4Addr>().ok().map(|a| u64::from(u32::from(a)))
}

fn claims<'a>(setting: &Setting<'a>) -> Vec<Claim<'a>> {
    let words: Vec<&'a str> = setting.line.split_whitespace().collect();
    match words[..] {
        ["nat", "descriptor", "masquerade", "static", descriptor, _, _, protocol, ref rest @ ..] => {
            let port = rest.first().and_then(|p| p.split('=').next()).unwrap_or_default();
            vec![Claim::Port { descriptor, protocol, port }]
        }
        ["nat", "descriptor", "static", descriptor, _, map, ref rest @ ..] => {
            let count = rest.first().and_then(|c| c.parse::<u64>().ok()).unwrap_or(1).max(1);
            let Some((outer, inner)) = map.split_once('=') else { return Vec::new() };
            [(false, outer), (true, inner)]
                .into_iter()
                .filter_map(|(inner, text)| {
                    let first = address(text)?;
                    Some(Claim::Range { descriptor, inner, first, last: first.saturating_add(count - 1) })
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

fn collide(a: &Claim, b: &Claim) -> bool {
    match (a, b) {
        (Claim::Port { .. }, Claim::Port { .. }) => a == b,
        (
            Claim::Range { descriptor: d1, inner: i1, first: f1, last: l1 },
            Claim::Range { descriptor: d2, inner: i2, first: f2, last: l2 },
        ) => d1 == d2 && i1 == i2 && f1 <= l2 && f2 <= l1,
        _ => false,
    }
}

/// The lines of one step, with `tunnel select` around the commands of each tunnel.
fn step(out: &mut Vec<String>, title: &str, settings: &[(&Setting, String)]) {
    if settings.is_empty() {
        return;
    }
    out.push(format!("# {title}"));
    let mut selected = None;
    for (setting, text) in settings {
        if setting.block != selected {
            out.push(match setting.block {
                Some(n) => format!("tunnel select {n}"),
                None => "tunnel select none".into(),
            });
            selected = setting.block;
        }
        out.push(if selected.is_some() { format!(" {text}") } else { text.clone() });
    }
    if selected.is_some() {
        out.push("tunnel select none".into());
    }
}

/// The change script from one `rtx.conf` to another, with `#` lines naming its steps;
/// empty when the two configure the same.
pub fn change_script(old: &str, new: &str) -> Vec<String> {
    let (old, new) = (parse(old), parse(new));
    let new_groups: BTreeSet<&str> = new.values().map(|s| s.group.as_str()).collect();

    let gone: Vec<&Setting> = old.iter().filter(|(id, _)| !new.contains_key(*id)).map(|(_, s)| s).collect();
    let entered: Vec<&Setting> =
        new.iter().filter(|(id, s)| old.get(*id).is_none_or(|o| o.line != s.line)).map(|(_, s)| s).collect();

    // An entry whose old port or addresses another entry takes over is removed in step 2
    // and entered again in step 3, so that entries which swap never collide.
    let moved: Vec<&Setting> = old
        .iter()
        .filter(|(id, s)| new.get(*id).is_some_and(|n| n.line != s.line))
        .filter(|(_, s)| {
            let mine = claims(s);
            entered
                .iter()
                .filter(|e| e.key != s.key)
                .any(|e| claims(e).iter().any(|c| mine.iter().any(|m| collide(m, c))))
        })
        .map(|(_, s)| s)
        .collect();
    let removals = |keep: &dyn Fn(&Setting) -> bool| {
        let mut list: Vec<(&Setting, String)> =
            gone.iter().chain(&moved).filter(|s| keep(s)).map(|s| (*s, s.removal())).collect();
        list.sort_by(|(a, _), (b, _)| (b.zone(), a.block, b.layer, b.at).cmp(&(a.zone(), b.block, a.layer, a.at)));
        list
    };
    let entries = |definitions: bool| {
        let mut list: Vec<(&Setting, String)> = entered
            .iter()
            .filter(|s| s.layer.is_definition() == definitions)
            .map(|s| (*s, s.line.to_string()))
            .collect();
        list.sort_by_key(|(s, _)| (s.zone(), s.block, s.layer, s.at));
        list
    };

    let mut script = Vec::new();
    step(
        &mut script,
        "1. remove what uses something and is gone (routes, tunnel enables, filter lists, NAT bindings)",
        &removals(&|s| !s.layer.is_definition()),
    );
    step(
        &mut script,
        "2. remove the settings that NAT descriptors and tunnels which stay no longer have, and entries that move",
        &removals(&|s| s.layer.is_definition() && new_groups.contains(s.group.as_str())),
    );
    step(
        &mut script,
        "3. define what is new or changed (addresses, filters, NAT descriptors, tunnel settings)",
        &entries(true),
    );
    step(&mut script, "4. use it: filter lists, NAT bindings, tunnel enables, routes", &entries(false));
    step(
        &mut script,
        "5. delete definitions nothing uses any more",
        &removals(&|s| s.layer.is_definition() && !new_groups.contains(s.group.as_str())),
    );
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "\
# header
ip lan1 address 192.168.0.1/24
ip lan3 address 198.51.100.2/30
ip lan3 nat descriptor 1797
nat descriptor type 1797 masquerade
nat descriptor address outer 1797 198.51.100.2
nat descriptor address inner 1797 192.168.0.0-192.168.0.255
ip filter 120291 pass 192.168.0.0/24 * udp * 4500
ip filter dynamic 120291 192.168.0.0/24 * filter 120291
ip lan3 secure filter out 120291 dynamic 120291
ip route default gateway 198.51.100.1
";

    fn commands(script: &[String]) -> Vec<&str> {
        script.iter().map(String::as_str).filter(|l| !l.starts_with('#')).collect()
    }

    #[test]
    fn the_same_configuration_needs_no_script() {
        assert!(change_script(BASE, BASE).is_empty());
    }

    #[test]
    fn a_changed_setting_is_entered_again() {
        let new = BASE.replace("* udp * 4500", "* udp * 4501");
        assert_eq!(commands(&change_script(BASE, &new)), ["ip filter 120291 pass 192.168.0.0/24 * udp * 4501"]);
    }

    #[test]
    fn a_filter_is_defined_before_the_list_names_it_and_deleted_after_the_list_drops_it() {
        let new = BASE
            .replace("ip filter 120291 pass", "ip filter 140962 pass")
            .replace("dynamic 120291 192.168.0.0/24 * filter 120291", "dynamic 140962 192.168.0.0/24 * filter 140962")
            .replace("out 120291 dynamic 120291", "out 140962 dynamic 140962");
        assert_eq!(
            commands(&change_script(BASE, &new)),
            [
                "ip filter 140962 pass 192.168.0.0/24 * udp * 4500",
                "ip filter dynamic 140962 192.168.0.0/24 * filter 140962",
                "ip lan3 secure filter out 140962 dynamic 140962",
                "no ip filter dynamic 120291",
                "no ip filter 120291",
            ]
        );
    }

    #[test]
    fn a_descriptor_is_unbound_before_it_is_deleted() {
        let new: String = BASE.lines().filter(|l| !l.contains("nat descriptor")).map(|l| format!("{l}\n")).collect();
        assert_eq!(
            commands(&change_script(BASE, &new)),
            [
                "no ip lan3 nat descriptor",
                "no nat descriptor address inner 1797",
                "no nat descriptor address outer 1797",
                "no nat descriptor type 1797",
            ]
        );
    }

    #[test]
    fn a_new_tunnel_is_set_up_in_its_block_and_enabled_before_routes_use_it() {
        let new = format!(
            "{BASE}tunnel select 1\n tunnel encapsulation ipsec\n ipsec tunnel 1\n  ipsec sa policy 1 1 esp aes-cbc sha-hmac\n  \
             ipsec ike remote address 1 203.0.113.1\n  ipsec ike pre-shared-key 1 text x\n ip tunnel address 169.254.0.1/30\n \
             tunnel enable 1\ntunnel select none\nipsec auto refresh on\nip route 10.0.0.0/8 gateway tunnel 1\n"
        );
        let script = change_script(BASE, &new);
        assert_eq!(
            commands(&script),
            [
                "tunnel select 1",
                " ipsec ike remote address 1 203.0.113.1",
                " ipsec ike pre-shared-key 1 text x",
                " ipsec sa policy 1 1 esp aes-cbc sha-hmac",
                " tunnel encapsulation ipsec",
                " ip tunnel address 169.254.0.1/30",
                " ipsec tunnel 1",
                "tunnel select none",
                "tunnel select 1",
                " tunnel enable 1",
                "tunnel select none",
                "ipsec auto refresh on",
                "ip route 10.0.0.0/8 gateway tunnel 1",
            ],
            "{script:#?}"
        );
        // And back: the route and the enable go first, the settings last.
        let back = change_script(&new, BASE);
        assert_eq!(
            commands(&back),
            [
                "no ip route 10.0.0.0/8",
                "no ipsec auto refresh",
                "tunnel select 1",
                " tunnel disable 1",
                "tunnel select none",
                "tunnel select 1",
                " no ipsec tunnel",
                " no ip tunnel address",
                " no tunnel encapsulation",
                " no ipsec sa policy 1",
                " no ipsec ike pre-shared-key 1",
                " no ipsec ike remote address 1",
                "tunnel select none",
            ],
            "{back:#?}"
        );
    }

    #[test]
    fn port_forwards_that_swap_ports_never_claim_one_port_twice() {
        let old = "nat descriptor type 1 masquerade\n\
                   nat descriptor masquerade static 1 10 192.168.0.10 tcp 80\n\
                   nat descriptor masquerade static 1 20 192.168.0.20 tcp 443\n";
        let new = old.replace("0.10 tcp 80", "0.10 tcp 443").replace("0.20 tcp 443", "0.20 tcp 80");
        assert_eq!(
            commands(&change_script(old, &new)),
            [
                "no nat descriptor masquerade static 1 20",
                "no nat descriptor masquerade static 1 10",
                "nat descriptor masquerade static 1 10 192.168.0.10 tcp 443",
                "nat descriptor masquerade static 1 20 192.168.0.20 tcp 80",
            ]
        );
        // A forward that keeps its port is entered again in place.
        let new = old.replace("192.168.0.10 tcp 80", "192.168.0.11 tcp 80");
        assert_eq!(commands(&change_script(old, &new)), ["nat descriptor masquerade static 1 10 192.168.0.11 tcp 80"]);
    }

    #[test]
    fn odd_input_does_not_panic() {
        let huge = "nat descriptor static 1 1 255.255.255.255=1.2.3.4 18446744073709551615\n\
                    nat descriptor masquerade static 1 2 1.2.3.4 tcp\nnat descriptor static 1 3 x=y\n";
        assert!(!change_script(huge, &huge.replace("=1.2.3.4 ", "=1.2.3.5 ")).is_empty());
        let odd =
            ["", "no", "ip", "ip filter", "tunnel select", "tunnel select x\n ip tunnel address", "nat descriptor"];
        for text in odd.into_iter().chain([huge]) {
            let _ = change_script(text, BASE);
            let _ = change_script(BASE, text);
        }
    }
}
