//! The systemd units a cloud-config installs, so that the rules and the host state come
//! back at every boot (cloud-init's `runcmd` runs once, at the first boot only).
//!
//! iptables and nftables get two oneshot units: `natc-<intent>-rules.service` loads the
//! rules before the network comes up (as Debian's nftables and netfilter-persistent
//! services do), so a gateway never forwards without its filters; `natc-<intent>.service`
//! runs the setup script once the interfaces are configured, because its addresses and
//! routes need them. firewalld restores its own permanent rules at boot, so its one unit
//! re-runs the script (idempotent by design) after firewalld and the network are up.

use crate::backend::header::{HeaderView, header_view};
use crate::backend::{Header, TargetKind, engine};
use crate::diag::Diagnostic;
use crate::plan::GatewayPlan;
use serde::Serialize;

/// Where units live on the machine.
pub const UNIT_DIR: &str = "/etc/systemd/system";

/// One unit file: its name (`natc-<intent>.service`) and contents.
pub struct Unit {
    pub name: String,
    pub contents: String,
}

/// The files a unit runs, as absolute paths on the machine.
pub struct Installed<'a> {
    /// The rules file (iptables, nftables) or the script (firewalld).
    pub primary: &'a str,
    /// The setup script, for iptables and nftables.
    pub setup: Option<&'a str>,
}

#[derive(Serialize)]
struct UnitView {
    header: HeaderView,
    description: String,
    dependencies: Vec<Line>,
    exec: Vec<Line>,
    wanted_by: &'static str,
}

#[derive(Serialize)]
struct Line {
    key: &'static str,
    value: String,
}

fn line(key: &'static str, value: impl Into<String>) -> Line {
    Line { key, value: value.into() }
}

/// The units for one gateway and target, in the order they start at boot.
pub fn units(header: &Header, gw: &GatewayPlan, kind: TargetKind, files: &Installed) -> Result<Vec<Unit>, Diagnostic> {
    let host = format!("natc-{}.service", header.intent);
    let rules = format!("natc-{}-rules.service", header.intent);
    let mut units = Vec::new();
    if let Some(view) = rules_unit(header, gw, kind, files.primary, &rules) {
        units.push(Unit { name: rules.clone(), contents: engine::render("cloud-init/unit.service.tera", &view)? });
    }
    let view = host_unit(header, gw, kind, files, &host, &rules);
    units.push(Unit { name: host, contents: engine::render("cloud-init/unit.service.tera", &view)? });
    Ok(units)
}

/// iptables and nftables: load the rules early, like the distribution's own firewall
/// service, and after it, since that one replaces the whole ruleset or tables.
fn rules_unit(header: &Header, gw: &GatewayPlan, kind: TargetKind, rules_file: &str, name: &str) -> Option<UnitView> {
    let (loader, exec) = match kind {
        TargetKind::Nftables => ("nftables.service", vec![line("ExecStart", format!("/usr/sbin/nft -f {rules_file}"))]),
        TargetKind::Iptables => (
            "netfilter-persistent.service",
            vec![
                // Parse the whole file first: a restore that fails half-way may leave one table applied.
                line("ExecStartPre", format!("/usr/sbin/iptables-restore --test {rules_file}")),
                line("ExecStart", format!("/usr/sbin/iptables-restore {rules_file}")),
            ],
        ),
        _ => return None,
    };
    Some(UnitView {
        header: unit_header(
            header,
            gw,
            kind,
            name,
            vec![
                "Loads the rules at every boot before the network comes up, after the distribution's own".into(),
                format!("firewall service ({loader}), which would otherwise replace them."),
            ],
        ),
        description: format!("natc {}: {} rules of gateway {}", header.intent, kind.name(), gw.name),
        dependencies: vec![
            line("DefaultDependencies", "no"),
            line("Wants", "network-pre.target"),
            line("Before", "network-pre.target shutdown.target"),
            line("After", format!("local-fs.target {loader}")),
            line("Conflicts", "shutdown.target"),
        ],
        exec,
        wanted_by: "sysinit.target",
    })
}

/// The setup script (iptables, nftables) or firewalld.sh, once the network is configured.
fn host_unit(
    header: &Header,
    gw: &GatewayPlan,
    kind: TargetKind,
    files: &Installed,
    name: &str,
    rules: &str,
) -> UnitView {
    let (description, dependencies, script) = match files.setup {
        Some(setup) => (
            format!("natc {}: host state of gateway {} (sysctls, addresses, routes)", header.intent, gw.name),
            vec![line("Wants", "network-online.target"), line("After", format!("network-online.target {rules}"))],
            setup,
        ),
        None => (
            format!("natc {}: {} rules and host state of gateway {}", header.intent, kind.name(), gw.name),
            vec![
                line("Requires", "firewalld.service"),
                line("Wants", "network-online.target"),
                line("After", "firewalld.service network-online.target"),
            ],
            files.primary,
        ),
    };
    UnitView {
        header: unit_header(
            header,
            gw,
            kind,
            name,
            vec!["Runs at every boot once the network is configured: addresses and routes are runtime state.".into()],
        ),
        description,
        dependencies,
        exec: vec![line("ExecStart", format!("/bin/sh {script}"))],
        wanted_by: "multi-user.target",
    }
}

fn unit_header(header: &Header, gw: &GatewayPlan, kind: TargetKind, name: &str, notes: Vec<String>) -> HeaderView {
    header_view(header, gw, kind.name(), format!("systemctl enable --now {name}"), notes)
}
