//! The tasks for an iptables, nftables or firewalld gateway: copy natc's files into
//! `natc_config_dir` (default `/etc/natc/<intent>`), keep the kernel settings in a
//! sysctl.d file, and apply what changed with a confirmation window and a health probe,
//! so an unchanged gateway is not touched. A systemd unit applies the same files at boot.
//! The tasks are a file shared by the intent's gateways of one shape (target, and for
//! nftables and iptables whether there are kernel settings): `natc-<shape>.tasks.yml`,
//! which reads each gateway's files from `{{ inventory_hostname }}/`. The gateway's
//! playbook and site.yml's rollout play run it; in the rollout, the gateways of one batch
//! that share a file go through it together (docs/deploy.md, "The rollout").

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
    /// The task file, next to the playbook, and the target it is for.
    tasks: String,
    target: String,
    /// The header of the shared task file (the intent's, not a gateway's).
    tasks_header: &'a HeaderView,
    copies: Vec<CopyView>,
    sysctl: Option<SysctlView>,
    confirm: ConfirmView,
    unit: UnitView,
}

/// Apply with automatic rollback (docs/deploy.md): when a copied file changed, the setup
/// script (nftables, iptables) or firewalld.sh applies with `--confirm N`, the play probes
/// the gateway (a new connection, then `natc_health_check` when defined) and confirms; a
/// failed probe rolls back at once (or, if the box is unreachable, when the window ends)
/// and marks the host, which the play then fails: the rollout ends after this batch.
#[derive(Serialize)]
struct ConfirmView {
    setup: String,
    /// The `register` names of the copies whose change calls for an apply.
    registers: Vec<String>,
    /// Besides NATC_STATE_DIR: firewalld.sh's NATC_SYSCTL_DIR.
    environment: Vec<(String, String)>,
}

/// A file natc wrote next to the playbook, copied to the gateway.
#[derive(Serialize)]
struct CopyView {
    name: String,
    src: String,
    dest: String,
    mode: &'static str,
    validate: Option<String>,
    register: String,
}

/// The sysctl.d file, or its removal when the gateway needs no kernel settings.
#[derive(Serialize)]
struct SysctlView {
    src: Option<String>,
    dir: &'static str,
    dest: String,
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
const HOST: &str = "{{ inventory_hostname }}";
const SYSCTL_DIR: &str = "{{ natc_sysctl_dir | default('/etc/sysctl.d') }}";

pub(super) fn files(
    intent: &str,
    gw: &GatewayPlan,
    artifact: &Artifact,
    header: &HeaderView,
    tasks_header: &HeaderView,
) -> Result<GatewayOutput, Diagnostic> {
    let kind = artifact.target.kind;
    let rules = artifact.files.iter().find(|f| f.primary).ok_or_else(|| internal("no rules file".into()))?;
    let setup = artifact.files.iter().find(|f| !f.primary && f.name.ends_with("-setup.sh"));
    // The task file is shared: each gateway's files are under its host name (the hosts are
    // named like the gateways, as natc's inventory does).
    let src = |name: &str| format!("{HOST}/{name}");
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

    let mut copies = Vec::new();
    let mut exec = Vec::new();
    if let Some(setup) = setup {
        copies.push(CopyView {
            name: setup.name.clone(),
            src: src(&setup.name),
            dest: dest(&setup.name),
            mode: "0755",
            validate: Some("/bin/sh -n %s".into()),
            register: String::new(),
        });
        exec.push(format!("/bin/sh {}", dest(&setup.name)));
    }
    let (mode, validate, boot, environment) = match kind {
        TargetKind::Nftables => ("0644", "nft -c -f %s", format!("/usr/sbin/nft -f {}", dest(&rules.name)), Vec::new()),
        TargetKind::Iptables => (
            "0644",
            "iptables-restore --test %s",
            format!("/usr/sbin/iptables-restore {}", dest(&rules.name)),
            Vec::new(),
        ),
        _ => (
            "0755",
            "/bin/sh -n %s",
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
            register: String::new(),
        },
    );
    exec.push(boot);
    let unit_environment = environment.iter().map(|(k, v)| format!("{k}={v}")).collect();

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

    // Every Linux target applies through a confirmation window: nftables and iptables
    // through their setup script (host state and rules), firewalld through firewalld.sh.
    let window = match kind {
        TargetKind::Firewalld => rules,
        _ => setup.ok_or_else(|| internal("no setup script".into()))?,
    };
    for (i, copy) in copies.iter_mut().enumerate() {
        copy.register = format!("natc_copy_{i}");
    }
    let registers = copies.iter().map(|c| c.register.clone()).collect();
    let confirm = ConfirmView { setup: dest(&window.name), registers, environment };

    // The shape: what makes two gateways' tasks differ.
    let no_sysctl = sysctl.as_ref().is_some_and(|v| v.src.is_none());
    let tasks = format!(
        "natc-{}{}.tasks.yml",
        artifact.target.to_string().replace('@', "-"),
        if no_sysctl { "-no-sysctl" } else { "" }
    );
    let unit = UnitView {
        name: format!("natc-{intent}.service"),
        description: format!("natc {intent}: gateway {HOST} ({})", artifact.target),
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
        config_dir: config_dir(intent),
        tasks: tasks.clone(),
        target: artifact.target.to_string(),
        tasks_header,
        copies,
        sysctl,
        confirm,
        unit,
    };
    files.push(PlannedFile {
        path: tasks.clone().into(),
        contents: engine::render("ansible/linux-tasks.yml.tera", &view)?,
        primary: false,
        mode: FileMode::Readable,
    });
    let playbook = engine::render("ansible/linux.yml.tera", &view)?;
    Ok(GatewayOutput { playbook, files, tasks: Some(tasks) })
}

/// The plays' `natc_dir`: the user's `natc_config_dir`, else `/etc/natc/<intent>`.
pub(super) fn config_dir(intent: &str) -> String {
    format!("{{{{ natc_config_dir | default('/etc/natc/{intent}') }}}}")
}
