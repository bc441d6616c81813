//! `--package cloud-init`: one `#cloud-config` document per gateway and Linux target,
//! `<gateway>/<target>.cloud-config.yaml`, the user data of a new machine. It carries the
//! target's files exactly as `natc build` writes them (to `/etc/natc/<intent>/`), the
//! persistent sysctl settings, and systemd units that apply everything at every boot;
//! `runcmd` enables and starts the units at the first boot. docs/deploy.md explains it.
//!
//! VyOS and RTX are not configured by cloud-init: they are refused (N304), and then
//! nothing is written at all.

pub mod units;
pub mod yaml;

use crate::Artifact;
use crate::backend::header::header_view;
use crate::backend::quote::yaml_comment;
use crate::backend::{Header, TargetKind, TargetSpec, engine, linux};
use crate::diag::{Code, Diagnostic};
use crate::emit::{FileMode, PlannedFile};
use crate::pipeline::Compiled;
use crate::plan::GatewayPlan;
use crate::vocab::FirewalldVersion;
use serde::Serialize;
use std::path::Path;
use units::{Installed, UNIT_DIR};

/// The documents for every artifact, or one N304 error per artifact of a target that
/// cloud-init does not configure.
pub fn package(compiled: &Compiled, artifacts: &[Artifact]) -> Result<Vec<PlannedFile>, Vec<Diagnostic>> {
    let refused: Vec<Diagnostic> = artifacts
        .iter()
        .filter(|a| !is_linux(a.target.kind))
        .map(|a| match compiled.plan.gateways.iter().find(|g| g.name == a.gateway) {
            Some(gw) if a.target.kind == TargetKind::Strongswan => {
                super::strongswan_refusal("cloud-init", gw, &a.target)
            }
            _ => refusal(compiled, a),
        })
        .collect();
    if !refused.is_empty() {
        return Err(refused);
    }
    artifacts.iter().map(|a| document(compiled, a)).collect::<Result<_, _>>().map_err(|d| vec![d])
}

fn is_linux(kind: TargetKind) -> bool {
    matches!(kind, TargetKind::Iptables | TargetKind::Nftables | TargetKind::Firewalld)
}

/// N304, on the `targets` entry that asked for the target, or on the gateway when
/// `--target` did.
fn refusal(compiled: &Compiled, a: &Artifact) -> Diagnostic {
    let mut d = Diagnostic::error(
        Code::PACKAGING_CANNOT_DEPLOY,
        format!("--package cloud-init cannot deploy gateway `{}` for target {}", a.gateway, a.target),
    );
    if let Some(gw) = compiled.plan.gateways.iter().find(|g| g.name == a.gateway) {
        let declared = gw.targets.iter().find(|t| t.spec.kind == a.target.kind);
        d = match declared {
            Some(t) => d.label(t.span.clone(), "cloud-init does not configure this target"),
            None => d.label(gw.span.clone(), format!("built for {} by --target", a.target)),
        };
    }
    d.help("VyOS and RTX are not configured by cloud-init; use --package ansible or the native files")
}

#[derive(Serialize)]
struct DocumentView {
    header: crate::backend::header::HeaderView,
    dir: String,
    packages: Vec<&'static str>,
    files: Vec<FileView>,
    runcmd: Vec<Vec<String>>,
}

#[derive(Serialize)]
struct FileView {
    path: String,
    permissions: &'static str,
    /// The `content:` lines, already indented for the entry (yaml::content_entry).
    content: String,
}

fn file(path: String, executable: bool, contents: &str) -> FileView {
    FileView { path, permissions: if executable { "0755" } else { "0644" }, content: yaml::content_entry(contents, 4) }
}

fn document(compiled: &Compiled, a: &Artifact) -> Result<PlannedFile, Diagnostic> {
    let gw = compiled.plan.gateways.iter().find(|g| g.name == a.gateway).ok_or_else(|| internal(a, "no plan"))?;
    let header = Header::of(&compiled.plan, false);
    let dir = format!("/etc/natc/{}", header.intent);
    let installed = |name: &str| format!("{dir}/{name}");
    let primary = a.files.iter().find(|f| f.primary).ok_or_else(|| internal(a, "no primary file"))?;
    let setup = a.files.iter().find(|f| !f.primary && f.name.ends_with("-setup.sh"));
    if (a.target.kind == TargetKind::Firewalld) != setup.is_none() {
        return Err(internal(a, "unexpected files"));
    }

    // The target's files first, exactly as natc build writes them.
    let mut files: Vec<FileView> =
        a.files.iter().map(|f| file(installed(&f.name), f.name.ends_with(".sh"), &f.contents)).collect();
    // firewalld.sh writes the same sysctl.d file itself.
    let sysctls = linux::host_state(gw).sysctls;
    if setup.is_some() && !sysctls.is_empty() {
        let view = SysctlView { header: sysctl_header(&header, gw, a.target.kind), sysctls };
        let contents = engine::render("cloud-init/sysctl.conf.tera", &view)?;
        files.push(file(sysctl_path(header.intent), false, &contents));
    }
    let (primary_path, setup_path) = (installed(&primary.name), setup.map(|s| installed(&s.name)));
    let units =
        units::units(&header, gw, a.target.kind, &Installed { primary: &primary_path, setup: setup_path.as_deref() })?;
    files.extend(units.iter().map(|u| file(format!("{UNIT_DIR}/{}", u.name), false, &u.contents)));

    let mut enable = vec!["systemctl".to_string(), "enable".into(), "--now".into()];
    enable.extend(units.iter().map(|u| u.name.clone()));
    let path = Path::new(&a.gateway).join(format!("{}.cloud-config.yaml", a.target.kind.name()));
    let mut view = DocumentView {
        header: header_view(
            &header,
            gw,
            a.target.kind.name(),
            "the user data of a new machine; cloud-init applies it at the first boot".into(),
            boot_notes(header.intent, a.target.kind, &path),
        ),
        dir,
        packages: packages(&a.target),
        files,
        runcmd: vec![vec!["systemctl".into(), "daemon-reload".into()], enable],
    };
    // The header's free text is a YAML comment: nothing in it may end the line.
    view.header.description = view.header.description.iter().map(|l| yaml_comment(l)).collect();
    let contents = engine::render("cloud-init/cloud-config.tera", &view)?;
    Ok(PlannedFile { path, contents, primary: true, mode: FileMode::Readable })
}

/// The header's word on what happens at boot, and how to check the document.
fn boot_notes(intent: &str, kind: TargetKind, path: &Path) -> Vec<String> {
    let boot = if kind == TargetKind::Firewalld {
        vec![
            "firewalld restores its permanent rules at every boot; natc-INTENT.service runs".into(),
            "firewalld.sh again after it for the addresses and routes (runtime state).".into(),
        ]
    } else {
        vec![
            "At every boot natc-INTENT-rules.service loads the rules before the network comes up,".into(),
            "and natc-INTENT.service re-applies the host state once it is up.".into(),
        ]
    };
    let mut notes: Vec<String> = boot.into_iter().map(|l: String| l.replace("INTENT", intent)).collect();
    notes.push("runcmd enables and starts the units at the first boot (docs/deploy.md).".into());
    notes.push(format!("Check: cloud-init schema --config-file {}", path.display()));
    notes
}

/// What the files call: the target's tool, `ip` and `sysctl` (firewalld.sh also checks its
/// rules with `iptables-restore`, which firewalld only recommends, and loads natc's table
/// with `nft` on firewalld's nftables backend: Debian's firewalld needs only the library).
/// A `firewalld@0.6` script carries no nftables copy (0.6 has only its iptables backend),
/// so CentOS 7 is not asked for a package its script never calls.
fn packages(spec: &TargetSpec) -> Vec<&'static str> {
    match spec.kind {
        TargetKind::Nftables => vec!["iproute2", "nftables", "procps"],
        TargetKind::Firewalld if spec.firewalld_version() == FirewalldVersion::V0_6 => {
            vec!["firewalld", "iproute2", "iptables", "procps"]
        }
        TargetKind::Firewalld => vec!["firewalld", "iproute2", "iptables", "nftables", "procps"],
        _ => vec!["iproute2", "iptables", "procps"],
    }
}

/// The same file the firewalld target's script writes: one per intent.
fn sysctl_path(intent: &str) -> String {
    format!("/etc/sysctl.d/90-natc-{intent}.conf")
}

#[derive(Serialize)]
struct SysctlView {
    header: crate::backend::header::HeaderView,
    sysctls: Vec<linux::SysctlLine>,
}

fn sysctl_header(header: &Header, gw: &GatewayPlan, kind: TargetKind) -> crate::backend::header::HeaderView {
    header_view(
        header,
        gw,
        kind.name(),
        format!("sysctl -p {}   (systemd-sysctl reads it at every boot)", sysctl_path(header.intent)),
        Vec::new(),
    )
}

/// A target handed over files of another shape than its module renders: natc's bug.
fn internal(a: &Artifact, what: &str) -> Diagnostic {
    super::internal("cloud-init", format!("{}: {what}", a.gateway))
}

#[cfg(test)]
mod tests {
    use super::packages;

    /// nftables only where a file calls `nft`: not for a firewalld 0.6 script, which carries
    /// the direct rules alone.
    #[test]
    fn nftables_is_a_package_only_where_the_files_call_nft() {
        let of = |spec: &str| packages(&spec.parse().expect("a target spec"));
        assert!(of("firewalld").contains(&"nftables"));
        assert!(of("firewalld@0.9").contains(&"nftables"));
        assert!(!of("firewalld@0.6").contains(&"nftables"));
        assert!(of("firewalld@0.6").contains(&"iptables"));
        assert!(of("nftables").contains(&"nftables"));
        assert!(!of("iptables").contains(&"nftables"));
    }
}
