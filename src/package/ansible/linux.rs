//! The play for an iptables, nftables or firewalld gateway: copy natc's files into
//! `natc_config_dir` (default `/etc/natc/<intent>`), keep the kernel settings in a
//! sysctl.d file, and load what changed through handlers, so an unchanged gateway is not
//! touched. A systemd unit applies the same files at boot.

use super::{GatewayOutput, HeaderView, internal};
use crate::Artifact;
use crate::backend::{TargetKind, engine, linux};
use crate::diag::Diagnostic;
use crate::emit::{FileMode, PlannedFile};
use crate::plan::GatewayPlan;
use serde::Serialize;
use std::path::Path;

#[derive(Serialize)]
struct LinuxView<'a> {
    header: &'a HeaderView,
    play: String,
    host: String,
    /// The play's `natc_dir`: the user's `natc_config_dir`, else `/etc/natc/<intent>`.
    config_dir: String,
    copies: Vec<CopyView>,
    sysctl: Option<SysctlView>,
    handlers: Vec<HandlerView>,
    /// nftables and iptables: the setup script's confirmation window instead of handlers.
    confirm: Option<ConfirmView>,
    unit: UnitView,
}

/// Apply with automatic rollback (docs/deploy.md): when a copied file changed, the setup
/// script applies the host state and the rules with `--confirm N`, the play probes the
/// gateway (a new connection, then `natc_health_check` when defined) and confirms; a
/// failed probe rolls back at once (or, if the box is unreachable, when the window ends)
/// and fails the host, which ends the rollout.
#[derive(Serialize)]
struct ConfirmView {
    setup: String,
    /// The `register` names of the copies whose change calls for an apply.
    registers: Vec<String>,
}

/// A file natc wrote next to the playbook, copied to the gateway.
#[derive(Serialize)]
struct CopyView {
    name: String,
    src: String,
    dest: String,
    mode: &'static str,
    validate: Option<String>,
    notify: Option<String>,
    register: Option<String>,
}

/// The sysctl.d file, or its removal when the gateway needs no kernel settings.
#[derive(Serialize)]
struct SysctlView {
    src: Option<String>,
    dir: &'static str,
    dest: String,
}

#[derive(Serialize)]
struct HandlerView {
    name: String,
    argv: Vec<String>,
    /// `NATC_SYSCTL_DIR` for the firewalld script, which writes its own sysctl.d file.
    environment: Vec<(String, String)>,
}

#[derive(Serialize)]
struct UnitView {
    name: String,
    description: String,
    after: String,
    environment: Vec<String>,
    exec: Vec<String>,
}

#[derive(Serialize)]
struct SysctlFileView {
    lines: Vec<linux::SysctlLine>,
}

const DIR: &str = "{{ natc_dir }}";
const SYSCTL_DIR: &str = "{{ natc_sysctl_dir | default('/etc/sysctl.d') }}";

pub(super) fn files(
    intent: &str,
    gw: &GatewayPlan,
    artifact: &Artifact,
    header: &HeaderView,
) -> Result<GatewayOutput, Diagnostic> {
    let kind = artifact.target.kind;
    let rules = artifact.files.iter().find(|f| f.primary).ok_or_else(|| internal("no rules file".into()))?;
    let setup = artifact.files.iter().find(|f| !f.primary && f.name.ends_with("-setup.sh"));
    let src = |name: &str| format!("{}/{name}", gw.name);
    let dest = |name: &str| format!("{DIR}/{name}");

    let mut files: Vec<PlannedFile> = artifact
        .files
        .iter()
        .map(|f| PlannedFile {
            path: Path::new(&gw.name).join(&f.name),
            contents: f.contents.clone(),
            primary: false,
            mode: FileMode::of(f),
        })
        .collect();

    // firewalld.sh is a script that also loads the rules; the others are loaded by a tool.
    let verb = if kind == TargetKind::Firewalld { "run" } else { "load" };
    let load = format!("natc: {verb} {}", rules.name);
    let run_setup = setup.map(|s| format!("natc: run {}", s.name));
    let mut copies = Vec::new();
    let mut handlers = Vec::new();
    let mut exec = Vec::new();
    if let (Some(setup), Some(run_setup)) = (setup, &run_setup) {
        copies.push(CopyView {
            name: setup.name.clone(),
            src: src(&setup.name),
            dest: dest(&setup.name),
            mode: "0755",
            validate: Some("/bin/sh -n %s".into()),
            notify: Some(run_setup.clone()),
            register: None,
        });
        // Handlers run in the order they are listed: host state before the rules.
        handlers.push(HandlerView {
            name: run_setup.clone(),
            argv: vec!["/bin/sh".into(), dest(&setup.name)],
            environment: Vec::new(),
        });
        exec.push(format!("/bin/sh {}", dest(&setup.name)));
    }
    let (mode, validate, argv, boot, environment) = match kind {
        TargetKind::Nftables => (
            "0644",
            "nft -c -f %s",
            vec!["nft".to_string(), "-f".into(), dest(&rules.name)],
            format!("/usr/sbin/nft -f {}", dest(&rules.name)),
            Vec::new(),
        ),
        TargetKind::Iptables => (
            "0644",
            "iptables-restore --test %s",
            vec!["iptables-restore".to_string(), dest(&rules.name)],
            format!("/usr/sbin/iptables-restore {}", dest(&rules.name)),
            Vec::new(),
        ),
        _ => (
            "0755",
            "/bin/sh -n %s",
            vec!["/bin/sh".to_string(), dest(&rules.name)],
            format!("/bin/sh {}", dest(&rules.name)),
            vec![("NATC_SYSCTL_DIR".to_string(), SYSCTL_DIR.to_string())],
        ),
    };
    copies.insert(
        0,
        CopyView {
            name: rules.name.clone(),
            src: src(&rules.name),
            dest: dest(&rules.name),
            mode,
            validate: Some(validate.into()),
            notify: Some(load.clone()),
            register: None,
        },
    );
    exec.push(boot);
    let unit_environment = environment.iter().map(|(k, v)| format!("{k}={v}")).collect();
    handlers.push(HandlerView { name: load, argv, environment });

    // firewalld.sh writes its own sysctl.d file; the other targets' setup scripts set the
    // values at runtime only, so the play keeps them across reboots.
    let sysctl = if kind == TargetKind::Firewalld {
        None
    } else {
        let name = format!("90-natc-{intent}.conf");
        let host = linux::host_state(gw);
        let view = if host.sysctls.is_empty() {
            SysctlView { src: None, dir: SYSCTL_DIR, dest: format!("{SYSCTL_DIR}/{name}") }
        } else {
            let contents = engine::render("ansible/sysctl.conf.tera", &SysctlFileView { lines: host.sysctls })?;
            files.push(PlannedFile {
                path: Path::new(&gw.name).join(&name),
                contents,
                primary: false,
                mode: FileMode::Readable,
            });
            SysctlView { src: Some(src(&name)), dir: SYSCTL_DIR, dest: format!("{SYSCTL_DIR}/{name}") }
        };
        Some(view)
    };

    // nftables and iptables apply through the setup script's confirmation window; firewalld
    // keeps its handlers (its rollback would go through the runtime/permanent split).
    let confirm = match (kind, setup) {
        (TargetKind::Nftables | TargetKind::Iptables, Some(setup)) => {
            for (i, copy) in copies.iter_mut().enumerate() {
                copy.notify = None;
                copy.register = Some(format!("natc_copy_{i}"));
            }
            handlers.clear();
            let registers = copies.iter().filter_map(|c| c.register.clone()).collect();
            Some(ConfirmView { setup: dest(&setup.name), registers })
        }
        _ => None,
    };

    let unit = UnitView {
        name: format!("natc-{intent}.service"),
        description: format!("natc {intent}: gateway {} ({})", gw.name, artifact.target),
        after: if kind == TargetKind::Firewalld {
            "network-online.target firewalld.service".into()
        } else {
            "network-online.target".into()
        },
        environment: unit_environment,
        exec,
    };
    let view = LinuxView {
        header,
        play: format!("natc {intent}: gateway {} ({})", gw.name, artifact.target),
        host: gw.name.clone(),
        config_dir: format!("{{{{ natc_config_dir | default('/etc/natc/{intent}') }}}}"),
        copies,
        sysctl,
        handlers,
        confirm,
        unit,
    };
    let playbook = engine::render("ansible/linux.yml.tera", &view)?;
    Ok(GatewayOutput { playbook, files })
}
