//! The plays for the network devices: VyOS through `vyos.vyos.vyos_config` with the set
//! lines inline (so each keeps its intent comment), the RTX through
//! `yamaha_network.rtx.rtx_config` with natc's config file as its `src` template. Both
//! modules compare with the running configuration and send only the missing lines.

use super::{GatewayOutput, HeaderView, internal, secrets};
use crate::Artifact;
use crate::backend::{TargetKind, engine};
use crate::diag::Diagnostic;
use crate::emit::{FileMode, PlannedFile};
use crate::plan::GatewayPlan;
use serde::Serialize;
use std::path::Path;

/// One line of the `lines:` list: a set line, or a comment or blank line between them.
#[derive(Serialize)]
struct ItemView {
    comment: Option<String>,
    line: Option<String>,
}

#[derive(Serialize)]
struct VyosView<'a> {
    header: &'a HeaderView,
    play: String,
    host: String,
    items: Vec<ItemView>,
    /// The secret variables the lines use: checked first, and the task is `no_log`.
    secrets: Vec<String>,
    commit_comment: String,
}

pub(super) fn vyos_files(
    gw: &GatewayPlan,
    artifact: &Artifact,
    header: &HeaderView,
) -> Result<GatewayOutput, Diagnostic> {
    let file = artifact.files.iter().find(|f| f.primary).ok_or_else(|| internal("no VyOS commands file".into()))?;
    refuse_inlined_keys(gw, file)?;
    let mut items = Vec::new();
    let mut secrets = Vec::new();
    let lines = secrets::template_lines(TargetKind::Vyos, file).map_err(internal)?;
    // The file's own header (up to its first blank line) says how to paste it by hand;
    // the playbook has its own.
    for template in lines.into_iter().skip_while(|l| !l.raw.trim().is_empty()) {
        let line = template.raw;
        if line.trim().is_empty() {
            items.push(ItemView { comment: None, line: None });
        } else if let Some(comment) = line.strip_prefix('#') {
            items.push(ItemView { comment: Some(super::yaml::comment(comment.trim_start())), line: None });
        } else if line.starts_with("set ") || line.starts_with("delete ") {
            for name in template.variables {
                if !secrets.contains(&name) {
                    secrets.push(name);
                }
            }
            items.push(ItemView { comment: None, line: Some(template.jinja) });
        } else {
            return Err(internal(format!("unexpected VyOS line in {}: {line}", file.name)));
        }
    }
    while items.first().is_some_and(|i| i.comment.is_none() && i.line.is_none()) {
        items.remove(0);
    }
    while items.last().is_some_and(|i| i.comment.is_none() && i.line.is_none()) {
        items.pop();
    }
    check_every_secret_used(gw, &secrets, &file.name)?;
    let view = VyosView {
        header,
        play: play_name(header, gw, artifact),
        host: gw.name.clone(),
        items,
        secrets,
        commit_comment: format!("natc {}", header.intent),
    };
    Ok(GatewayOutput { playbook: engine::render("ansible/vyos.yml.tera", &view)?, files: Vec::new(), tasks: None })
}

#[derive(Serialize)]
struct RtxView<'a> {
    header: &'a HeaderView,
    play: String,
    host: String,
    src: String,
    after: Vec<String>,
    secrets: Vec<String>,
}

#[derive(Serialize)]
struct RtxTemplateView<'a> {
    header: &'a HeaderView,
    host: String,
    items: Vec<ItemView>,
}

/// The line that leaves a tunnel's context: the RTX never shows it in `show config`, so in
/// the `src` it would always look missing; rtx_config sends it `after` any change instead.
const LEAVE_TUNNEL: &str = "tunnel select none";

/// `<gateway>/rtx.conf.j2`: natc's rtx.conf as a Jinja template that the play renders on the
/// control node (ansible.netcommon deprecates templating `src` itself). Its comments become
/// Jinja comments, so the rendered file holds only command lines, none with a brace: a
/// netcommon that still templates `src` a second time finds nothing to change.
pub(super) fn rtx_files(
    gw: &GatewayPlan,
    artifact: &Artifact,
    header: &HeaderView,
) -> Result<GatewayOutput, Diagnostic> {
    let file = artifact.files.iter().find(|f| f.primary).ok_or_else(|| internal("no RTX config file".into()))?;
    refuse_inlined_keys(gw, file)?;
    let mut after = Vec::new();
    let mut items = Vec::new();
    let mut secrets: Vec<String> = Vec::new();
    for template in secrets::template_lines(TargetKind::Rtx, file).map_err(internal)? {
        let line = template.raw;
        if line == LEAVE_TUNNEL {
            if after.is_empty() {
                after.push(LEAVE_TUNNEL.to_string());
            }
        } else if let Some(comment) = line.strip_prefix('#') {
            items.push(ItemView { comment: Some(jinja_comment(comment.trim())), line: None });
        } else if !line.trim().is_empty() {
            for name in template.variables {
                if !secrets.contains(&name) {
                    secrets.push(name);
                }
            }
            items.push(ItemView { comment: None, line: Some(template.jinja) });
        }
    }
    check_every_secret_used(gw, &secrets, &file.name)?;
    let src = format!("{}/{}.j2", gw.name, file.name);
    let template =
        engine::render("ansible/rtx.conf.j2.tera", &RtxTemplateView { header, host: gw.name.clone(), items })?;
    let view = RtxView {
        header,
        play: play_name(header, gw, artifact),
        host: gw.name.clone(),
        src: src.clone(),
        after,
        secrets,
    };
    Ok(GatewayOutput {
        tasks: None,
        playbook: engine::render("ansible/rtx.yml.tera", &view)?,
        files: vec![PlannedFile {
            path: Path::new(&src).to_path_buf(),
            contents: template,
            primary: false,
            mode: FileMode::Readable,
        }],
    })
}

/// Text inside `{# … #}`: only `#}` could end it early.
fn jinja_comment(text: &str) -> String {
    super::yaml::comment(text).replace("#}", "# }")
}

fn play_name(header: &HeaderView, gw: &GatewayPlan, artifact: &Artifact) -> String {
    format!("natc {}: gateway {} ({})", header.intent, gw.name, artifact.target)
}

/// The playbooks take keys from Ansible variables (Vault), never from natc: a file that
/// holds keys (`--secrets inline`) is refused before any of it is packaged.
fn refuse_inlined_keys(gw: &GatewayPlan, file: &crate::backend::OutputFile) -> Result<(), Diagnostic> {
    match gw.tunnels.first() {
        Some(t) if file.holds_keys() => Err(no_placeholder(t, &file.name)),
        _ => Ok(()),
    }
}

fn no_placeholder(t: &crate::plan::Tunnel, file: &str) -> Diagnostic {
    Diagnostic::error(
        crate::diag::Code::TARGET_CANNOT_EXPRESS,
        format!("--package ansible found no placeholder for the pre-shared key of {} in {file}", t.origin.describe()),
    )
    .label(t.psk.span.clone(), "this key")
    .help("build without --secrets inline: the playbooks take keys from Ansible variables (Vault), never from natc")
}

/// Every tunnel's key must have become a variable: a missing slot would leave a tunnel
/// without its key.
fn check_every_secret_used(gw: &GatewayPlan, used: &[String], file: &str) -> Result<(), Diagnostic> {
    for t in &gw.tunnels {
        let name = secrets::variable(&t.psk.value);
        if !used.contains(&name) {
            return Err(no_placeholder(t, file));
        }
    }
    Ok(())
}
