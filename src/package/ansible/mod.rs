//! `--package ansible`: a playbook per gateway, a `site.yml` that imports them all, an
//! inventory with a group per platform, and the files the playbooks deploy (docs/deploy.md).
//!
//! Layout under `-o DIR` (every path is relative to DIR, so the tree can be moved):
//! - `inventory.yml`: groups `natc_linux`, `natc_vyos`, `natc_rtx` with their connection
//!   settings, and `natc_<intent>` with every gateway;
//! - `site.yml`: `import_playbook` of every gateway's playbook;
//! - `gateway-<name>.yml`: one play for `hosts: <name>`; a Linux gateway's tasks are in
//!   `natc-<shape>.tasks.yml`, shared by the gateways of one target (and kernel-settings
//!   shape), which site.yml's rollout play runs too;
//! - `<name>/…`: the files a Linux gateway's play copies, an RTX gateway's config template;
//! - `requirements.yml`: the collections the playbooks use;
//! - `filter_plugins/natc.py` and `group_vars/all/natc_secrets.example.yml` when tunnels
//!   need pre-shared keys.
//!
//! The gateway playbooks sit next to `site.yml` so that Ansible resolves their relative
//! paths from the same directory whichever playbook is run.

mod linux;
mod network;
pub mod secrets;
pub mod yaml;

use crate::Artifact;
use crate::backend::{TargetKind, engine, quote};
use crate::diag::{Code, Diagnostic};
use crate::emit::{FileMode, PlannedFile};
use crate::pipeline::Compiled;
use crate::plan::GatewayPlan;
use serde::Serialize;
use std::path::PathBuf;

/// How the control node reaches a gateway: the inventory group and its variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Platform {
    Linux,
    Vyos,
    Rtx,
}

impl Platform {
    fn of(kind: TargetKind) -> Platform {
        match kind {
            TargetKind::Iptables | TargetKind::Nftables | TargetKind::Firewalld | TargetKind::Strongswan => {
                Platform::Linux
            }
            TargetKind::Vyos => Platform::Vyos,
            TargetKind::Rtx => Platform::Rtx,
        }
    }

    fn group(self) -> &'static str {
        match self {
            Platform::Linux => "natc_linux",
            Platform::Vyos => "natc_vyos",
            Platform::Rtx => "natc_rtx",
        }
    }

    /// The group's connection variables, as YAML values (the user adds `ansible_host` and
    /// credentials). The RTX needs administrator mode for its configuration commands.
    fn vars(self) -> Vec<(&'static str, String)> {
        let quoted = |v: &str| yaml::quote(v);
        match self {
            Platform::Linux => vec![("ansible_connection", quoted("ansible.builtin.ssh"))],
            Platform::Vyos => vec![
                ("ansible_connection", quoted("ansible.netcommon.network_cli")),
                ("ansible_network_os", quoted("vyos.vyos.vyos")),
            ],
            Platform::Rtx => vec![
                ("ansible_connection", quoted("ansible.netcommon.network_cli")),
                ("ansible_network_os", quoted("yamaha_network.rtx.rtx")),
                ("ansible_become", "true".into()),
                ("ansible_become_method", quoted("ansible.netcommon.enable")),
            ],
        }
    }

    /// The collections its plays use, beyond ansible.builtin.
    fn collections(self) -> &'static [&'static str] {
        match self {
            Platform::Linux => &[],
            Platform::Vyos => &["ansible.netcommon", "vyos.vyos"],
            Platform::Rtx => &["ansible.netcommon", "yamaha_network.rtx"],
        }
    }
}

/// One gateway and the one target its hosts run.
struct Deployed<'a> {
    plan: &'a GatewayPlan,
    artifact: &'a Artifact,
    platform: Platform,
}

/// A gateway's playbook and the files it deploys.
struct GatewayOutput {
    playbook: String,
    files: Vec<PlannedFile>,
    /// A Linux gateway's task file, which site.yml's rollout play runs for it.
    tasks: Option<String>,
}

/// What every generated YAML file says first.
#[derive(Serialize)]
struct HeaderView {
    version: &'static str,
    intent: String,
    /// `for gateway "x" (nftables)`, or empty for the shared files.
    subject: String,
    description: Vec<String>,
    run: String,
}

pub fn package(compiled: &Compiled, artifacts: &[Artifact]) -> Result<Vec<PlannedFile>, Vec<Diagnostic>> {
    let deployed = deployed(compiled, artifacts)?;
    let refused: Vec<Diagnostic> = deployed
        .iter()
        .filter(|d| d.artifact.target.kind == TargetKind::Strongswan)
        .map(|d| super::strongswan_refusal("ansible", d.plan, &d.artifact.target))
        .collect();
    if !refused.is_empty() {
        return Err(refused);
    }
    let plans: Vec<&GatewayPlan> = deployed.iter().map(|d| d.plan).collect();
    let secret_vars = secrets::variables(&plans)?;
    let intent = &compiled.plan.intent;
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut rollout = Vec::new();
    let tasks_header = header(compiled, None, "ansible-playbook -i inventory.yml site.yml".into());
    for d in &deployed {
        let header = header(compiled, Some(d), format!("ansible-playbook -i inventory.yml {}", playbook_name(d)));
        let rendered = match d.platform {
            Platform::Linux => linux::files(intent, d.plan, d.artifact, &header, &tasks_header),
            Platform::Vyos => network::vyos_files(d.plan, d.artifact, &header),
            Platform::Rtx => network::rtx_files(d.plan, d.artifact, &header),
        };
        match rendered {
            Ok(out) => {
                // A shared task file comes once per gateway of its shape, the same each time.
                for f in out.files {
                    match files.iter().find(|g: &&PlannedFile| g.path == f.path) {
                        Some(g) if g.contents == f.contents => {}
                        Some(_) => errors.push(internal(format!("{} differs between gateways", f.path.display()))),
                        None => files.push(f),
                    }
                }
                if let Some(tasks) = out.tasks {
                    rollout.push(RolloutHost { name: d.plan.name.clone(), tasks });
                }
                files.push(render_file(playbook_name(d), out.playbook, true));
            }
            Err(d) => errors.push(d),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    files.push(shared(compiled, "inventory.yml", "ansible/inventory.yml.tera", &inventory_view(compiled, &deployed))?);
    files.push(shared(compiled, "site.yml", "ansible/site.yml.tera", &site_view(intent, &deployed, rollout))?);
    files.push(shared(compiled, "requirements.yml", "ansible/requirements.yml.tera", &requirements_view(&deployed))?);
    if !secret_vars.is_empty() {
        files.push(PlannedFile {
            path: PathBuf::from("filter_plugins/natc.py"),
            contents: FILTERS.to_string(),
            primary: false,
            mode: FileMode::Readable,
        });
        let view = SecretsView { variables: secret_vars };
        files.push(shared(
            compiled,
            "group_vars/all/natc_secrets.example.yml",
            "ansible/natc_secrets.example.yml.tera",
            &view,
        )?);
    }
    for t in plans.iter().flat_map(|g| &g.tunnels) {
        if let Some(f) = files.iter().find(|f| secrets::left_in(&t.psk.value, &f.contents)) {
            return Err(vec![internal(format!("a secret placeholder is left in {}", f.path.display()))]);
        }
    }
    Ok(files)
}

/// The filters that quote a secret for the device, shipped with the playbooks.
const FILTERS: &str = include_str!("../../../templates/ansible/filter_plugins/natc.py");

/// `gateway-<name>.yml`: the prefix keeps a gateway called `site` from replacing `site.yml`.
fn playbook_name(d: &Deployed) -> String {
    format!("gateway-{}.yml", d.plan.name)
}

/// Each selected gateway with its one target. Ansible deploys one configuration per
/// host, so a gateway built for several targets is an error that says how to choose.
fn deployed<'a>(compiled: &'a Compiled, artifacts: &'a [Artifact]) -> Result<Vec<Deployed<'a>>, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for a in artifacts {
        if seen.contains(&a.gateway.as_str()) {
            continue;
        }
        seen.push(&a.gateway);
        let Some(plan) = compiled.plan.gateways.iter().find(|g| g.name == a.gateway) else {
            errors.push(internal(format!("gateway {} has files but no plan", a.gateway)));
            continue;
        };
        let all: Vec<String> =
            artifacts.iter().filter(|b| b.gateway == a.gateway).map(|b| b.target.to_string()).collect();
        if all.len() > 1 {
            errors.push(
                Diagnostic::error(
                    Code::PACKAGING_CANNOT_DEPLOY,
                    format!(
                        "--package ansible deploys one target per gateway, and gateway `{}` is built for {}",
                        a.gateway,
                        all.join(", ")
                    ),
                )
                .label(plan.span.clone(), "this gateway")
                .help(format!(
                    "choose the one its hosts run: --target {} (for every gateway), or list only that target in the gateway's `targets`",
                    all.first().map(String::as_str).unwrap_or("nftables")
                )),
            );
            continue;
        }
        out.push(Deployed { plan, artifact: a, platform: Platform::of(a.target.kind) });
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn header(compiled: &Compiled, d: Option<&Deployed>, run: String) -> HeaderView {
    let mut description: Vec<String> =
        compiled.plan.description.as_ref().map(|d| quote::comment_lines(&d.value)).unwrap_or_default();
    let subject = match d {
        Some(d) => {
            if let Some(text) = &d.plan.description {
                description.extend(quote::comment_lines(&text.value));
            }
            format!(" for gateway \"{}\" ({})", d.plan.name, d.artifact.target)
        }
        None => String::new(),
    };
    HeaderView {
        version: env!("CARGO_PKG_VERSION"),
        intent: compiled.plan.intent.clone(),
        subject,
        description: description.iter().map(|l| yaml::comment(l)).collect(),
        run,
    }
}

fn render_file(path: impl Into<PathBuf>, contents: String, primary: bool) -> PlannedFile {
    PlannedFile { path: path.into(), contents, primary, mode: FileMode::Readable }
}

fn shared(
    compiled: &Compiled,
    path: &str,
    template: &str,
    view: &impl Serialize,
) -> Result<PlannedFile, Vec<Diagnostic>> {
    #[derive(Serialize)]
    struct WithHeader<'a, V: Serialize> {
        header: HeaderView,
        #[serde(flatten)]
        view: &'a V,
    }
    let run = "ansible-playbook -i inventory.yml site.yml".to_string();
    let contents =
        engine::render(template, &WithHeader { header: header(compiled, None, run), view }).map_err(|d| vec![d])?;
    Ok(render_file(path, contents, false))
}

#[derive(Serialize)]
struct InventoryView {
    intent_group: String,
    /// Every gateway, in intent order.
    hosts: Vec<String>,
    groups: Vec<GroupView>,
}

#[derive(Serialize)]
struct GroupView {
    name: &'static str,
    vars: Vec<(&'static str, String)>,
    hosts: Vec<HostView>,
}

#[derive(Serialize)]
struct HostView {
    name: String,
    target: String,
}

fn inventory_view(compiled: &Compiled, deployed: &[Deployed]) -> InventoryView {
    let mut platforms: Vec<Platform> = deployed.iter().map(|d| d.platform).collect();
    platforms.sort();
    platforms.dedup();
    InventoryView {
        intent_group: format!("natc_{}", compiled.plan.intent.replace('-', "_")),
        hosts: deployed.iter().map(|d| d.plan.name.clone()).collect(),
        groups: platforms
            .into_iter()
            .map(|p| GroupView {
                name: p.group(),
                vars: p.vars(),
                hosts: deployed
                    .iter()
                    .filter(|d| d.platform == p)
                    .map(|d| HostView { name: d.plan.name.clone(), target: d.artifact.target.to_string() })
                    .collect(),
            })
            .collect(),
    }
}

/// `site.yml`: one play over the Linux gateways, `natc_serial` at a time, each running its
/// own task file; then the VyOS and RTX gateways' playbooks, one gateway each.
#[derive(Serialize)]
struct SiteView {
    rollout: Option<RolloutView>,
    playbooks: Vec<String>,
}

#[derive(Serialize)]
struct RolloutView {
    play: String,
    config_dir: String,
    /// The Linux gateways in intent order, each with its task file.
    hosts: Vec<RolloutHost>,
}

#[derive(Serialize)]
struct RolloutHost {
    name: String,
    tasks: String,
}

fn site_view(intent: &str, deployed: &[Deployed], hosts: Vec<RolloutHost>) -> SiteView {
    let rollout = (!hosts.is_empty()).then(|| RolloutView {
        play: format!("natc {intent}: Linux gateways, natc_serial at a time"),
        config_dir: linux::config_dir(intent),
        hosts,
    });
    let playbooks = deployed.iter().filter(|d| d.platform != Platform::Linux).map(playbook_name).collect();
    SiteView { rollout, playbooks }
}

#[derive(Serialize)]
struct RequirementsView {
    collections: Vec<&'static str>,
}

fn requirements_view(deployed: &[Deployed]) -> RequirementsView {
    let mut collections: Vec<&'static str> =
        deployed.iter().flat_map(|d| d.platform.collections().iter().copied()).collect();
    collections.sort();
    collections.dedup();
    RequirementsView { collections }
}

#[derive(Serialize)]
struct SecretsView {
    variables: Vec<secrets::SecretVar>,
}

fn internal(message: String) -> Diagnostic {
    super::internal("Ansible", message)
}
