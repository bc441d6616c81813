//! `--target rtx[@MODEL]`: Yamaha RTX command lines (`rtx.conf`), with the syntax of
//! Yamaha's RT-series command reference only (docs/rtx.md). NAT descriptors (`nat.rs`), IP filters (`filter.rs`) and
//! IPsec tunnels (`ipsec.rs`) each build their part of the view; this file holds the
//! interface names, the model limits, routes, addresses and the assembly. See docs/rtx.md.

mod dynamic;
mod filter;
mod ipsec;
mod keep;
mod nat;
mod own;

use super::header::{HeaderView, header_view};
use super::{Header, OutputFile, Target, TargetKind, cannot_express, engine};
use crate::diag::Diagnostic;
use crate::plan::{GatewayPlan, Nexthop};
use crate::vocab::{Kind, Origin, RtxModel, TcpMss};
use serde::Serialize;
use std::net::Ipv4Addr;

pub const NAME: &str = "rtx";
pub const CONFIG_FILE: &str = "rtx.conf";

/// The number ranges natc owns on the router (docs/rtx.md). They avoid the Web GUI's
/// default filter template (200000–200099) and the small numbers people type by hand.
pub const DESCRIPTOR_IDS: std::ops::RangeInclusive<u32> = 1000..=1999;
pub const ENTRY_IDS: std::ops::RangeInclusive<u32> = 1..=9999;
pub const FILTER_NUMBERS: std::ops::RangeInclusive<u32> = 100_000..=199_999;

pub struct Rtx {
    limits: Limits,
}

impl Rtx {
    pub fn new(model: RtxModel) -> Self {
        Rtx { limits: Limits::of(model.name()) }
    }
}

/// What differs between models (command reference ch. 15 intro, §8.1.25, §15.25; tests/common/grammar/rtx.commands).
#[derive(Debug, Clone)]
pub struct Limits {
    pub model: String,
    /// Highest tunnel number = highest security gateway id.
    pub max_tunnel: u32,
    /// Filters (static + dynamic) in one `secure filter` line.
    pub filters_per_list: usize,
    /// sha384/sha512 in IKE and ESP.
    pub sha2_big: bool,
    /// RTX1200 (Rev.10.01): revision-gated features are UNCONFIRMED there, so treated as absent.
    pub legacy: bool,
}

impl Limits {
    pub fn of(model: &str) -> Self {
        let (max_tunnel, filters_per_list, sha2_big) = match model {
            "RTX830" | "RTX840" => (20, 129, false),
            "RTX1300" => (100, 129, true),
            "RTX3500" => (1000, 300, false),
            "RTX3510" => (1000, 300, true),
            "RTX5000" => (3000, 300, false),
            _ => (100, 129, false), // RTX1200, RTX1210, RTX1220
        };
        Limits { model: model.to_string(), max_tunnel, filters_per_list, sha2_big, legacy: model == "RTX1200" }
    }
}

/// How RTX addresses an interface (command reference §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfClass {
    /// `lanN`, `lanN.M`, `vlanN`, `wanN`: NAT descriptors with `primary`, filters.
    Lan,
    Bridge,
    Loopback,
    /// `tunnelN`: only as a tunnel's VTI; configured inside `tunnel select N`.
    Tunnel(u32),
}

fn digits(s: &str) -> Option<u32> {
    (!s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0'))
        .then(|| s.parse().ok())
        .flatten()
}

pub fn classify(name: &str) -> Option<IfClass> {
    if let Some(rest) = name.strip_prefix("lan") {
        let (n, sub) = rest.split_once('.').map_or((rest, None), |(a, b)| (a, Some(b)));
        return (digits(n).is_some() && sub.is_none_or(|s| digits(s).is_some())).then_some(IfClass::Lan);
    }
    for (prefix, class) in [("vlan", IfClass::Lan), ("wan", IfClass::Lan), ("bridge", IfClass::Bridge)] {
        if let Some(n) = name.strip_prefix(prefix) {
            return digits(n).map(|_| class);
        }
    }
    if let Some(n) = name.strip_prefix("loopback") {
        return digits(n).filter(|n| (1..=9).contains(n)).map(|_| IfClass::Loopback);
    }
    name.strip_prefix("tunnel").and_then(digits).map(IfClass::Tunnel)
}

/// A run of config: the intent items it comes from (as `#` comments), then its lines.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Block {
    pub comments: Vec<String>,
    pub lines: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Section {
    title: &'static str,
    blocks: Vec<Block>,
}

/// Everything the checks and the renderer share for one gateway.
pub struct Ctx<'a> {
    pub gw: &'a GatewayPlan,
    pub limits: &'a Limits,
    pub errors: Vec<Diagnostic>,
}

impl Ctx<'_> {
    pub fn refuse(&mut self, origin: &Origin, what: &str, help: &str) {
        self.errors.push(cannot_express(NAME, origin, what, help));
    }

    /// The interfaces the router forwards through: declared ones and tunnel VTIs, in order.
    pub fn forwarding_interfaces(&self) -> Vec<String> {
        let declared = self.gw.interfaces.iter().map(|i| i.name.clone());
        let vtis = self.gw.tunnels.iter().filter_map(|t| t.vti().map(|v| v.name.value.clone()));
        declared
            .chain(vtis)
            .filter(|n| matches!(classify(n), Some(IfClass::Lan | IfClass::Bridge | IfClass::Tunnel(_))))
            .collect()
    }

    /// The first address of an interface (its `primary` address), VTIs included.
    pub fn primary_address(&self, name: &str) -> Option<ipnet::Ipv4Net> {
        let declared =
            self.gw.interfaces.iter().find(|i| i.name == name).and_then(|i| i.addresses.first()).map(|a| a.value);
        declared.or_else(|| {
            self.gw.tunnels.iter().filter_map(|t| t.vti()).find(|v| v.name.value == name).map(|v| v.address.value)
        })
    }

    /// Every address the router itself owns (interfaces, VTIs, loopbacks), in order.
    pub fn own_addresses(&self) -> Vec<Ipv4Addr> {
        let mut out: Vec<Ipv4Addr> = Vec::new();
        let interfaces = self.gw.interfaces.iter().flat_map(|i| i.addresses.iter().map(|a| a.value.addr()));
        let vtis = self.gw.tunnels.iter().filter_map(|t| t.vti()).map(|v| v.address.value.addr());
        let owned = self.gw.owned.iter().filter(|o| o.origin.kind == Kind::Address).map(|o| o.address.addr());
        for a in interfaces.chain(vtis).chain(owned) {
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }
}

/// `ip <if> tcp mss limit` (command reference §8.1.21): 536..1460 or `auto` (from the
/// interface's MTU). It limits the MSS of the TCP handshakes passing the interface, in
/// both directions.
pub fn mss_limit(m: TcpMss) -> String {
    match m {
        TcpMss::Auto => "auto".into(),
        TcpMss::Fixed(n) => n.to_string(),
    }
}

/// Interface names, addresses and owned addresses: what `ip <if> address` can say.
fn interfaces(cx: &mut Ctx) -> Vec<Block> {
    let gw = cx.gw;
    let mut blocks = Vec::new();
    for i in &gw.interfaces {
        let origin = i.origin.clone();
        match classify(&i.name) {
            None => {
                cx.refuse(
                    &origin,
                    &format!("`{}` is not an RTX interface name", i.name),
                    "name the interface as the router does: lan1, lan1.1, vlan1, wan1, bridge1 or loopback1..loopback9",
                );
                continue;
            }
            Some(IfClass::Tunnel(_)) => {
                cx.refuse(
                    &origin,
                    "a tunnel interface exists only with its IPsec settings",
                    "declare it as a [[gateway.tunnel]] with vti = { name = \"tunnel1\", address = \"…\" }",
                );
                continue;
            }
            Some(_) => {}
        }
        if i.addresses.len() > 1 {
            cx.refuse(&origin, "natc emits one `ip <if> address` per interface; secondary addresses are outside the RTX reference it follows",
                "keep one address on the interface");
            continue;
        }
        let mut block = Block { comments: vec![format!("{} interface/{}", gw.name, i.name)], lines: Vec::new() };
        if let Some(d) = &i.description {
            block.comments.extend(super::quote::comment_lines(&d.value));
        }
        if let Some(a) = i.addresses.first() {
            block.lines.push(format!("ip {} address {}", i.name, a.value));
        }
        if let Some(m) = &i.tcp_mss {
            if classify(&i.name) == Some(IfClass::Lan) {
                block.lines.push(format!("ip {} tcp mss limit {}", i.name, mss_limit(m.value)));
            } else {
                cx.refuse(
                    &origin,
                    &format!("the RTX reference natc follows limits the TCP MSS on LAN, WAN, PP and tunnel interfaces, not on `{}`", i.name),
                    "set tcp_mss on the LAN interface or the tunnel the traffic leaves through",
                );
            }
        }
        blocks.push(block);
    }
    for o in &gw.owned {
        if o.origin.kind == Kind::Dnat {
            cx.refuse(&o.origin, "claim = \"loopback\" makes the box own the address on every interface; an RTX answers ARP for a static NAT address only on the descriptor's interface",
                "use claim = \"proxy-arp\" (what the RTX does for NAT outer addresses on a LAN) or claim = \"routed\"");
            continue;
        }
        let declared = gw.interfaces.iter().find(|i| i.name == o.interface);
        if classify(&o.interface) != Some(IfClass::Loopback) || declared.is_some_and(|i| !i.addresses.is_empty()) {
            cx.refuse(
                &o.origin,
                &format!(
                    "RTX gives `{}` one address, and secondary addresses are outside the reference natc follows",
                    o.interface
                ),
                "declare a loopback interface (name = \"loopback1\") with this address instead",
            );
            continue;
        }
        blocks.push(Block {
            comments: vec![o.origin.describe()],
            lines: vec![format!("ip {} address {}", o.interface, o.address)],
        });
    }
    blocks
}

fn routes(cx: &mut Ctx) -> Vec<Block> {
    let gw = cx.gw;
    let mut blocks = Vec::new();
    for r in &gw.routes {
        if r.origin.kind == Kind::Dnat {
            // The proxy-ARP host route is Linux mechanics; the RTX answers ARP for NAT
            // outer addresses on the descriptor's LAN by itself (command reference §23.2).
            blocks.push(Block {
                comments: vec![format!(
                    "{}: claim = \"proxy-arp\" needs no route on RTX (it answers ARP for NAT outer addresses)",
                    r.origin.describe()
                )],
                lines: Vec::new(),
            });
            continue;
        }
        let to = if r.to.prefix_len() == 0 { "default".to_string() } else { r.to.to_string() };
        let gateway = match &r.nexthop {
            Nexthop::Via(v) => v.to_string(),
            Nexthop::Interface(i) => match classify(i) {
                Some(IfClass::Tunnel(n)) => format!("tunnel {n}"),
                _ => {
                    cx.refuse(&r.origin, &format!("an RTX route out of `{i}` needs a next-hop address"),
                        "write via = \"<next hop>\" instead of interface, or route into a tunnel (interface = \"tunnel1\")");
                    continue;
                }
            },
        };
        blocks.push(Block {
            comments: vec![r.origin.describe()],
            lines: vec![format!("ip route {to} gateway {gateway}")],
        });
    }
    blocks
}

/// `counters = true`: the command reference gives RTX filters and NAT entries no counter
/// to switch on, so the key cannot be honoured.
fn refuse_counters(gw: &GatewayPlan) -> Option<Diagnostic> {
    let span = gw.counters.clone()?;
    Some(
        Diagnostic::error(
            crate::diag::Code::TARGET_CANNOT_EXPRESS,
            format!("target rtx cannot express gateway `{}`'s counters exactly: the RTX command reference gives filters and NAT entries no counter to switch on", gw.name),
        )
        .label(span, "counters asked for here")
        .help("leave counters out for the rtx target"),
    )
}

fn refuse_unsupported(cx: &mut Ctx) {
    // RTX IPsec is route-based (ipsec.rs refuses policy tunnels): a policy tunnel's name
    // as an interface has nothing to stand for.
    cx.errors.extend(crate::backend::policy_tunnel_interfaces(
        NAME,
        cx.gw,
        "make the tunnel route-based (vti = { name = \"tunnel1\", … }) and name its tunnel interface",
    ));
    // One refusal per DNAT (its masquerade half carries the same origin).
    let hairpins: Vec<_> = cx.gw.snat.iter().filter(|t| t.hairpin).map(|t| t.origin.clone()).collect();
    for origin in hairpins {
        cx.refuse(
            &origin,
            "an RTX reflects NAT only with `nat descriptor type … hairpin=on`, which the reference does not define as natc's hairpin (which source the server sees), and which RTX1210, RTX5000 and RTX3500 lack",
            "build this gateway for vyos or a Linux target, or configure hairpin on the RTX by hand and drop `hairpin`",
        );
    }
    if let Some(b) = &cx.gw.bgp {
        let origin = b.origin.clone();
        cx.refuse(&origin, "RTX BGP exports routes with `bgp import` filters and sets no keepalive timer, which is not what `networks` and `keepalive` say",
            "configure BGP on the RTX by hand, or build this gateway for vyos");
    }
    for s in &cx.gw.sysctls {
        let tunnel_claim = s.origin.kind == Kind::Dnat
            && s.key
                .strip_prefix("net.ipv4.conf.")
                .and_then(|k| k.strip_suffix(".proxy_arp"))
                .is_some_and(|i| classify(i) != Some(IfClass::Lan));
        if tunnel_claim {
            let origin = s.origin.clone();
            cx.refuse(
                &origin,
                "an RTX answers ARP for NAT outer addresses only on a LAN interface",
                "use claim = \"routed\", or put the dnat on a LAN interface",
            );
        }
    }
}

#[derive(Serialize)]
struct ConfigView {
    header: HeaderView,
    sections: Vec<Section>,
    has_tunnels: bool,
    tunnels: Vec<ipsec::TunnelView>,
    after_tunnels: Vec<Section>,
}

/// Builds the whole view; every problem found on the way is in `cx.errors`.
fn layout(cx: &mut Ctx, header: &Header) -> ConfigView {
    refuse_unsupported(cx);
    cx.errors.extend(refuse_counters(cx.gw));
    // The policy's drop is the filter list's end, which has no log switch of its own.
    cx.errors.extend(crate::backend::log::refuse_translations(
        "rtx",
        cx.gw,
        "the RTX command reference gives NAT descriptors no log switch",
    ));
    cx.errors.extend(crate::backend::log::refuse(
        "rtx",
        cx.gw,
        false,
        true,
        "an RTX filter list drops what no filter passes without a log switch of its own (only `pass-log`/`reject-log` filters log)",
    ));
    cx.errors.extend(crate::backend::log::refuse_rates(
        "rtx",
        cx.gw,
        crate::backend::log::Written { allows: true, policies: false, translations: false },
        |_| true,
        "its log_rate: `pass-log` switches a filter's syslog line on, with no rate ([CR] §8.1.10)",
        "remove `log_rate` for the rtx target (`log = true` alone is written as `pass-log`)",
    ));
    let interface_blocks = interfaces(cx);
    let nat = nat::descriptors(cx);
    let filters = filter::filters(cx, &nat::interfaces_with_nat(cx.gw));
    let mut tunnels = ipsec::tunnels(cx);
    let route_blocks = routes(cx);

    let mut lan_nat = Vec::new();
    let mut lan_filters = filters.definitions;
    let mut bind = |iface: String, block: Block, lan: &mut Vec<Block>| match tunnels
        .iter_mut()
        .find(|t| t.interface_name == iface)
    {
        Some(t) => t.interface.push(block.with_interface("ip tunnel")),
        None => lan.push(block.with_interface(&format!("ip {iface}"))),
    };
    // Each binding line replaces the interface's whole list on the router (keep.rs).
    keep::check(cx);
    let mut replaced: Vec<String> = Vec::new();
    for (iface, block) in nat.bindings.into_iter().chain(filters.applications) {
        let is_tunnel = matches!(classify(&iface), Some(IfClass::Tunnel(_)));
        let block = if is_tunnel { block } else { keep::merge(cx, &iface, block) };
        if !is_tunnel {
            for l in &block.lines {
                if let Some(rest) = l.strip_prefix("{if} ") {
                    let what = rest.split(' ').take(if rest.starts_with("secure") { 3 } else { 2 }).collect::<Vec<_>>();
                    replaced.push(format!("ip {iface} {}", what.join(" ")));
                }
            }
        }
        let target =
            if block.lines.iter().any(|l| l.starts_with("{if} nat ")) { &mut lan_nat } else { &mut lan_filters };
        bind(iface, block, target);
    }
    lan_nat.extend(nat.definitions);

    let mut notes = vec![
        format!(
            "Model {}. natc owns NAT descriptors {}-{}, their entries {}-{},",
            cx.limits.model,
            DESCRIPTOR_IDS.start(),
            DESCRIPTOR_IDS.end(),
            ENTRY_IDS.start(),
            ENTRY_IDS.end()
        ),
        format!(
            "and ip filter / ip filter dynamic numbers {}-{}: delete stale ones with `no ...`.",
            FILTER_NUMBERS.start(),
            FILTER_NUMBERS.end()
        ),
    ];
    notes.extend(filters.notes);
    if !replaced.is_empty() {
        notes.push(format!(
            "Each of these lines replaces that whole list on the router (what it had there stops, unless the interface's rtx_keep lists it): {}.",
            replaced.join(", ")
        ));
    }
    notes.extend(super::rollback::RTX_NOTES.map(String::from));
    if !tunnels.is_empty() {
        notes.push(header.secrets_note().into());
    }
    let sections: Vec<Section> =
        [("Interfaces", interface_blocks), ("NAT descriptors", lan_nat), ("IP filters", lan_filters)]
            .into_iter()
            .filter(|(_, b)| !b.is_empty())
            .map(|(title, blocks)| Section { title, blocks })
            .collect();
    let after_tunnels = [("Routes", route_blocks)]
        .into_iter()
        .filter(|(_, b)| !b.is_empty())
        .map(|(title, blocks)| Section { title, blocks })
        .collect();
    ConfigView {
        header: header_view(
            header,
            cx.gw,
            NAME,
            "enter these lines in the RTX console (administrator mode), check `show config`, then `save`".into(),
            notes,
        ),
        sections,
        has_tunnels: !tunnels.is_empty(),
        tunnels,
        after_tunnels,
    }
}

impl Block {
    /// Lines written as `{if} …` get the interface prefix (`ip lan3`, or `ip tunnel` in a block).
    fn with_interface(mut self, prefix: &str) -> Block {
        for l in &mut self.lines {
            if let Some(rest) = l.strip_prefix("{if} ") {
                *l = format!("{prefix} {rest}");
            }
        }
        self
    }
}

impl Target for Rtx {
    fn check(&self, gw: &GatewayPlan) -> Vec<Diagnostic> {
        let mut cx = Ctx { gw, limits: &self.limits, errors: Vec::new() };
        let header = Header { intent: "", description: None, inline_secrets: false };
        layout(&mut cx, &header);
        cx.errors
    }

    fn render(&self, header: &Header, gw: &GatewayPlan) -> Result<Vec<OutputFile>, Diagnostic> {
        let mut cx = Ctx { gw, limits: &self.limits, errors: Vec::new() };
        let view = layout(&mut cx, header);
        if let Some(e) = cx.errors.into_iter().find(Diagnostic::is_error) {
            return Err(e);
        }
        let text = engine::render("rtx/config.tera", &view)?;
        Ok(vec![OutputFile::with_secret_slots(TargetKind::Rtx, gw, CONFIG_FILE, text, true)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtx_interface_names() {
        for ok in ["lan1", "lan3", "lan1.2", "vlan4", "wan1", "bridge1", "loopback9"] {
            assert!(classify(ok).is_some_and(|c| !matches!(c, IfClass::Tunnel(_))), "{ok}");
        }
        assert_eq!(classify("tunnel12"), Some(IfClass::Tunnel(12)));
        for bad in ["eth0", "lan", "lan01", "loopback0", "loopback10", "tunnel", "vti0", "lan1.", "pp1", "lo"] {
            assert_eq!(classify(bad), None, "{bad}");
        }
    }
}
