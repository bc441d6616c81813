//! What the two Linux kernel targets share: their capability limits and the host setup
//! script. (The implicit filter lines of a drop policy are the plan's: `Filters::lines`.)

use super::header::{HeaderView, header_view};
use super::{Header, OutputFile, cannot_express, engine, quote};
use crate::diag::{Code, Diagnostic};
use crate::plan::{GatewayPlan, Nexthop, TunnelMode};
use crate::vocab::TargetKind;
use serde::Serialize;

/// Linux targets render NAT, filters and host state. Tunnels run in strongSwan: a gateway
/// with tunnels must also declare the `strongswan` target, which writes them, while this
/// target writes what they need from the packet filter and the host (input allows, XFRM
/// interfaces). BGP runs in FRR, which natc does not configure.
pub fn check_common(target: &str, gw: &GatewayPlan) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    if let Some(t) = gw.tunnels.first()
        && !gw.targets.iter().any(|d| d.spec.kind == TargetKind::Strongswan)
    {
        let here = gw.targets.iter().find(|d| d.spec.kind.name() == target);
        let mut d = Diagnostic::error(
            Code::MISSING_DEPENDENCY,
            format!(
                "gateway `{}` has tunnels and is built for {target}, which writes no IPsec: it must also declare the strongswan target",
                gw.name
            ),
        );
        d = match here {
            Some(h) => d.label(h.span.clone(), format!("{target} writes the NAT and filters only")),
            None => d.label(header(&gw.span, "[[gateway]]"), "this gateway"),
        };
        errors.push(
            d.label(header(&t.origin.span, "[[gateway.tunnel]]"), format!("tunnel `{}`", t.origin.name)).help(format!(
                "add \"strongswan\" to the gateway's targets, e.g. targets = [\"{target}\", \"strongswan\"]: it writes the tunnels as swanctl.conf"
            )),
        );
    }
    errors.extend(policy_tunnel_matches(target, gw));
    if let Some(b) = &gw.bgp {
        errors.push(cannot_express(
            target,
            &b.origin,
            "it renders NAT and filter rules, not BGP",
            "build this gateway for vyos, or configure BGP in FRR by hand",
        ));
    }
    for f in gw.filters.rules.iter().filter(|f| !f.stateful && gw.filters.policy(f.chain).closes()) {
        errors.push(cannot_express(target, &f.origin,
            "under a drop policy the kernel targets accept replies of every tracked flow, so a stateless rule would behave as a stateful one",
            "remove `stateful = false` (replies are then let back in), or use the rtx target, whose filters can be stateless"));
    }
    errors
}

/// A policy tunnel's name where an interface goes is rendered without an interface match
/// (docs/tunnels.md): the addresses must then say which traffic is the tunnel's. That holds
/// when the traffic's far side lies inside the tunnel's remote networks: the kernel's IPsec
/// policy only lets such packets in decrypted, and takes every such packet out. Otherwise
/// the rule would also match other traffic: N301.
fn policy_tunnel_matches(target: &str, gw: &GatewayPlan) -> Vec<Diagnostic> {
    // Tunnels by name, the first of a name as a scan would find it: one look-up per rule
    // side instead of a scan of every tunnel.
    let mut by_name: rustc_hash::FxHashMap<&str, &crate::plan::Tunnel> = rustc_hash::FxHashMap::default();
    for t in &gw.tunnels {
        by_name.entry(t.origin.name.as_str()).or_insert(t);
    }
    let remote_of = |name: &str| {
        by_name.get(name).and_then(|t| match &t.mode {
            TunnelMode::Policy { remote, .. } => Some(remote.iter().map(|r| r.value).collect::<Vec<_>>()),
            TunnelMode::Vti(_) => None,
        })
    };
    let inside = |net: Option<ipnet::Ipv4Net>, remote: &[ipnet::Ipv4Net]| {
        net.is_some_and(|n| remote.iter().any(|r| r.contains(&n)))
    };
    let translations = gw.dnat.iter().chain(&gw.snat).map(|t| (&t.origin, &t.matcher));
    let filters = gw.filters.rules.iter().map(|f| (&f.origin, &f.matcher));
    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut refused: rustc_hash::FxHashSet<&crate::vocab::Span> = rustc_hash::FxHashSet::default();
    for (origin, m) in translations.chain(filters) {
        let sides = [
            (&m.in_policy_tunnel, m.source, "in_interface", "from/source"),
            (&m.out_policy_tunnel, m.destination, "out_interface", "to/destination"),
        ];
        for (tunnel, far, key, address_key) in sides {
            let Some(tunnel) = tunnel else { continue };
            let remote = remote_of(tunnel).unwrap_or_default();
            if inside(far, &remote) || refused.contains(&&origin.span) {
                continue;
            }
            refused.insert(&origin.span);
            let nets: Vec<String> = remote.iter().map(ToString::to_string).collect();
            errors.push(cannot_express(
                target,
                origin,
                &format!(
                    "its {key} is policy-based tunnel `{tunnel}`, which Linux matches by addresses only, and its far side is not inside the tunnel's remote networks ({})",
                    nets.join(", ")
                ),
                &format!("give it a {address_key} inside {}: then the addresses select the tunnel's traffic exactly", nets.join(", ")),
            ));
        }
    }
    errors
}

/// The first `len(text)` bytes of a table's span: its `[[…]]` header line.
fn header(span: &crate::vocab::Span, text: &str) -> crate::vocab::Span {
    span.start..(span.start + text.len()).min(span.end)
}

#[derive(Serialize)]
struct SetupView {
    header: HeaderView,
    name: String,
    rules_file: String,
    host: HostState,
    rollback: RollbackView,
}

/// What `<target>-setup.sh --confirm N` saves before it applies, so that the timer can put
/// it back exactly (docs/deploy.md#rollback): the tables the rules file replaces, and the
/// host state the script changes, item by item.
#[derive(Serialize)]
pub(super) struct RollbackView {
    /// `nftables` or `iptables`: how the ruleset is saved, checked and loaded.
    tool: &'static str,
    /// The window's directory under the state directory: one per intent and target.
    state: String,
    /// The tables the rules file replaces: read from the file itself, so the saved set is
    /// exactly what loading it changes.
    tables: Vec<Table>,
    sysctls: Vec<String>,
    /// Removed again unless they were there before.
    addresses: Vec<Address>,
    /// Destinations whose main-table routes are saved and put back.
    routes: Vec<String>,
    /// XFRM interfaces: deleted again unless they existed before.
    links: Vec<String>,
}

/// A table as the tool names it: `ip natc_x` for nft (family and name), `nat` for
/// iptables-save and iptables-restore (name only).
#[derive(Serialize, PartialEq)]
struct Table {
    family: String,
    name: String,
}

#[derive(Serialize)]
struct Address {
    address: String,
    interface: String,
}

/// The tables a rules file replaces when loaded: `*nat` lines for iptables-restore, the
/// `table ip NAME` lines (without a body) that start natc's nft file.
fn replaced_tables(tool: &str, rules: &str) -> Vec<Table> {
    let mut tables: Vec<Table> = Vec::new();
    for line in rules.lines() {
        let table = match tool {
            "iptables" => line.strip_prefix('*').map(|t| Table { family: String::new(), name: t.trim().to_string() }),
            _ => line.strip_prefix("table ").filter(|rest| !rest.contains('{')).and_then(|rest| {
                let (family, name) = rest.trim().split_once(' ')?;
                Some(Table { family: family.to_string(), name: name.trim().to_string() })
            }),
        };
        if let Some(table) = table
            && !tables.contains(&table)
        {
            tables.push(table);
        }
    }
    tables
}

pub(super) fn rollback_view(header: &Header, gw: &GatewayPlan, target: &'static str, rules: &str) -> RollbackView {
    RollbackView {
        tool: target,
        state: format!("{}-{target}", header.intent),
        tables: replaced_tables(target, rules),
        sysctls: gw.sysctls.iter().map(|s| sysctl_key(&s.key)).collect(),
        addresses: gw
            .owned
            .iter()
            .map(|a| Address { address: a.address.to_string(), interface: a.interface.clone() })
            .collect(),
        routes: gw.routes.iter().map(|r| r.to.to_string()).collect(),
        links: gw.tunnels.iter().filter_map(|t| t.vti()).map(|v| v.name.value.clone()).collect(),
    }
}

/// The host state the rules rely on: forwarding and proxy-ARP settings, addresses the
/// gateway must own, static routes. Shared by the setup script and the firewalld script.
#[derive(Serialize)]
pub struct HostState {
    pub sysctls: Vec<SysctlLine>,
    /// Route-based tunnels' XFRM interfaces, their addresses and MTUs: before the routes
    /// that name them.
    pub links: Vec<SetupLine>,
    pub addresses: Vec<SetupLine>,
    pub routes: Vec<SetupLine>,
}

/// One kernel setting, written as sysctl(8) reads it.
#[derive(Serialize)]
pub struct SysctlLine {
    pub key: String,
    pub value: String,
    pub origin: String,
}

/// A shell command and the intent item it comes from.
#[derive(Serialize)]
pub struct SetupLine {
    pub command: String,
    pub origin: String,
}

/// sysctl keys are dotted, but an interface name may contain dots (eth0.10); then the
/// key must be written with slashes, which sysctl(8) reads without translating dots.
fn sysctl_key(key: &str) -> String {
    let parts: Vec<&str> = key.splitn(4, '.').collect();
    match parts.as_slice() {
        ["net", "ipv4", "conf", rest] if rest.matches('.').count() > 1 => {
            let (iface, setting) = rest.rsplit_once('.').unwrap_or((rest, ""));
            format!("net/ipv4/conf/{iface}/{setting}")
        }
        _ => key.to_string(),
    }
}

/// Idempotent commands (`replace`) for the addresses and routes, so they can run at every
/// boot and after every change.
pub fn host_state(gw: &GatewayPlan) -> HostState {
    HostState {
        sysctls: gw
            .sysctls
            .iter()
            .map(|s| SysctlLine { key: sysctl_key(&s.key), value: s.value.clone(), origin: s.origin.describe() })
            .collect(),
        links: xfrm_links(gw),
        addresses: gw
            .owned
            .iter()
            .map(|a| SetupLine {
                command: format!("ip address replace {} dev {}", a.address, quote::shell_quote(&a.interface)),
                origin: a.origin.describe(),
            })
            .collect(),
        routes: gw
            .routes
            .iter()
            .map(|r| SetupLine {
                command: match &r.nexthop {
                    Nexthop::Via(v) => format!("ip route replace {} via {v}", r.to),
                    Nexthop::Interface(i) => format!("ip route replace {} dev {}", r.to, quote::shell_quote(i)),
                },
                origin: r.origin.describe(),
            })
            .collect(),
    }
}

/// A route-based tunnel's interface: an XFRM interface whose `if_id` is the one the
/// strongswan target writes for the tunnel's CHILD_SA (strongswan/xfrm.rs), on the device
/// IKE leaves through (the owner of `local_address`, when the gateway declares it). Created
/// only when missing, then its address and MTU set, so the script stays idempotent.
fn xfrm_links(gw: &GatewayPlan) -> Vec<SetupLine> {
    let owner = gw.interface_of_address();
    let mut lines = Vec::new();
    for t in &gw.tunnels {
        let Some(v) = t.vti() else { continue };
        let name = quote::shell_quote(&v.name.value);
        let dev = t
            .local_address
            .as_ref()
            .and_then(|local| owner.get(&local.value))
            .map(|i| format!(" dev {}", quote::shell_quote(i)))
            .unwrap_or_default();
        let id = super::strongswan::xfrm::if_id(&v.name.value);
        let origin = t.origin.describe();
        let line = |command: String| SetupLine { command, origin: origin.clone() };
        lines
            .push(line(format!("ip link show {name} >/dev/null 2>&1 || ip link add {name} type xfrm{dev} if_id {id}")));
        lines.push(line(format!("ip address replace {} dev {name}", v.address.value)));
        let mtu = v.mtu.as_ref().map(|m| format!(" mtu {}", m.value)).unwrap_or_default();
        lines.push(line(format!("ip link set {name}{mtu} up")));
    }
    lines
}

/// `<target>-setup.sh`: the host state as runtime commands (`sysctl -w`), and with
/// `--confirm N` the host state and the rules with a rollback window.
fn setup_file(
    header: &Header,
    gw: &GatewayPlan,
    target: &'static str,
    rules_file: &str,
    rules: &str,
) -> Result<OutputFile, Diagnostic> {
    let name = format!("{target}-setup.sh");
    let view = SetupView {
        header: header_view(
            header,
            gw,
            target,
            format!("sh {name}   (as root, before loading {rules_file})"),
            vec![format!(
                "Remote box: sh {name} --confirm 120 applies it and {rules_file}, and restores both unless confirmed within 120 s (see below)."
            )],
        ),
        name: name.clone(),
        rules_file: rules_file.to_string(),
        host: host_state(gw),
        rollback: rollback_view(header, gw, target, rules),
    };
    let contents = engine::render("linux/setup.sh.tera", &view)?;
    Ok(OutputFile::new(name, contents, false))
}

/// What a Linux target hands back: its rules file, rendered from `template`, and the setup
/// script the rules rely on.
pub fn rules_and_setup(
    template: &str,
    view: &impl Serialize,
    header: &Header,
    gw: &GatewayPlan,
    target: &'static str,
    rules_file: &str,
    fills: Vec<engine::Fill>,
) -> Result<Vec<OutputFile>, Diagnostic> {
    let rules = engine::render_spliced(template, view, fills)?;
    let setup = setup_file(header, gw, target, rules_file, &rules)?;
    Ok(vec![OutputFile::new(rules_file, rules, true), setup])
}

#[cfg(test)]
mod tests {
    use super::{replaced_tables, sysctl_key};

    #[test]
    fn the_saved_tables_are_those_the_rules_file_replaces() {
        let names = |tool, text| {
            replaced_tables(tool, text).into_iter().map(|t| format!("{} {}", t.family, t.name)).collect::<Vec<_>>()
        };
        assert_eq!(
            names("iptables", "# *x\n*nat\n-A X\nCOMMIT\n*filter\nCOMMIT\n*mangle\nCOMMIT\n"),
            [" nat", " filter", " mangle"]
        );
        let nft = "table ip natc_a\ndelete table ip natc_a\n\ntable ip natc_a {\n}\n";
        assert_eq!(names("nftables", nft), ["ip natc_a"]);
    }

    #[test]
    fn sysctl_keys_with_dotted_interfaces_use_slashes() {
        assert_eq!(sysctl_key("net.ipv4.ip_forward"), "net.ipv4.ip_forward");
        assert_eq!(sysctl_key("net.ipv4.conf.eth0.proxy_arp"), "net.ipv4.conf.eth0.proxy_arp");
        assert_eq!(sysctl_key("net.ipv4.conf.eth0.10.proxy_arp"), "net/ipv4/conf/eth0.10/proxy_arp");
    }
}
