//! Secrets in the Ansible output: each `@@natc-secret:…@@` placeholder becomes a Jinja
//! reference to a variable the user keeps in Ansible Vault, quoted for the device by a
//! filter natc ships next to the playbooks (`filter_plugins/natc.py`). No value ever
//! passes through natc here: only the references' names.

use super::yaml::jinja_literal;
use crate::backend::quote::{rtx_escape, vyos_quote};
use crate::backend::secret::{describe, placeholder};
use crate::backend::{OutputFile, TargetKind};
use crate::diag::{Code, Diagnostic};
use crate::plan::GatewayPlan;
use crate::plan::SecretRef;
use serde::Serialize;
use std::collections::BTreeMap;

/// The Ansible variable for a reference: `env = "VPC_TUNNEL1_PSK"` is
/// `natc_secret_vpc_tunnel1_psk`, `file = "/etc/natc/psk1"` is
/// `natc_secret_file_etc_natc_psk1`: lowercase ASCII letters and digits kept, every run
/// of anything else one `_`.
pub fn variable(secret: &SecretRef) -> String {
    match secret {
        SecretRef::Env(name) => format!("natc_secret_{}", identifier(name)),
        SecretRef::File(path) => format!("natc_secret_file_{}", identifier(path)),
    }
}

fn identifier(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches('_');
    if trimmed.is_empty() { "unnamed".into() } else { trimmed.into() }
}

/// One variable the playbooks need, for the example vars file and the checks.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SecretVar {
    pub name: String,
    /// `env:VPC_TUNNEL1_PSK` or `file:/etc/natc/psk1`, as the intent names it.
    pub reference: String,
    pub gateways: Vec<String>,
}

/// Every variable of the selected gateways, by name; two references that would share a
/// variable are an error (natc does not rename one silently).
pub fn variables(gateways: &[&GatewayPlan]) -> Result<Vec<SecretVar>, Vec<Diagnostic>> {
    let mut by_name: BTreeMap<String, (SecretRef, SecretVar)> = BTreeMap::new();
    let mut errors = Vec::new();
    for gw in gateways {
        for t in &gw.tunnels {
            let secret = &t.psk.value;
            let name = variable(secret);
            match by_name.get_mut(&name) {
                Some((known, var)) if known == secret => {
                    if !var.gateways.contains(&gw.name) {
                        var.gateways.push(gw.name.clone());
                    }
                }
                Some((known, _)) => errors.push(
                    Diagnostic::error(
                        Code::PACKAGING_CANNOT_DEPLOY,
                        format!(
                            "--package ansible cannot tell {} from {}: both would be the Ansible variable {name}",
                            describe(secret),
                            describe(known)
                        ),
                    )
                    .label(t.psk.span.clone(), "this secret reference")
                    .help("rename one of the environment variables or files so that they differ in letters or digits"),
                ),
                None => {
                    let var =
                        SecretVar { name: name.clone(), reference: reference(secret), gateways: vec![gw.name.clone()] };
                    by_name.insert(name, (secret.clone(), var));
                }
            }
        }
    }
    if errors.is_empty() { Ok(by_name.into_values().map(|(_, v)| v).collect()) } else { Err(errors) }
}

fn reference(secret: &SecretRef) -> String {
    match secret {
        SecretRef::Env(name) => format!("env:{name}"),
        SecretRef::File(path) => format!("file:{path}"),
    }
}

/// The quoted placeholder as it stands in a target's file after [`jinja_literal`] (what
/// [`left_in`] looks for), and the Jinja that stands in a key slot instead.
fn substitution(kind: TargetKind, secret: &SecretRef) -> (String, String) {
    let (quoted, filter) = match kind {
        TargetKind::Rtx => (rtx_escape(&placeholder(secret)), "natc_rtx_escape"),
        _ => (vyos_quote(&placeholder(secret)), "natc_vyos_quote"),
    };
    (jinja_literal(&quoted), format!("{{{{ {} | {filter} }}}}", variable(secret)))
}

/// One line of a target's file (without its line break) and the same line as Jinja text.
pub struct TemplateLine<'a> {
    pub raw: &'a str,
    /// Through [`jinja_literal`], with each key slot a reference to its variable through
    /// the target's quoting filter.
    pub jinja: String,
    /// The variables the line uses.
    pub variables: Vec<String>,
}

/// Every line of `file` as a [`TemplateLine`], in one pass over the file and its slots.
/// Only the slots natc put there become variables: text that merely looks like a
/// placeholder stays literal.
pub fn template_lines(kind: TargetKind, file: &OutputFile) -> Result<Vec<TemplateLine<'_>>, String> {
    let text = &file.contents;
    let mut slots = file.secrets.iter().peekable();
    let mut lines = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let raw = text[start..end].strip_suffix('\r').unwrap_or(&text[start..end]);
        let line_end = start + raw.len();
        let (mut jinja, mut variables, mut at) = (String::new(), Vec::new(), start);
        while let Some(slot) = slots.next_if(|s| s.range.start < line_end) {
            if slot.inlined || slot.range.start < at || slot.range.end > line_end {
                return Err(format!("a key slot in {} natc cannot turn into a variable", file.name));
            }
            jinja.push_str(&jinja_literal(&text[at..slot.range.start]));
            jinja.push_str(&jinja_reference(kind, &slot.secret));
            variables.push(variable(&slot.secret));
            at = slot.range.end;
        }
        jinja.push_str(&jinja_literal(&text[at..line_end]));
        lines.push(TemplateLine { raw, jinja, variables });
        start = end + 1;
    }
    match slots.next() {
        Some(_) => Err(format!("a key slot past the end of {}", file.name)),
        None => Ok(lines),
    }
}

/// The Jinja that stands where a key goes: the variable through the target's quoting filter.
fn jinja_reference(kind: TargetKind, secret: &SecretRef) -> String {
    substitution(kind, secret).1
}

/// Is `secret`'s placeholder still in `text`, in any of the forms a target writes it?
pub fn left_in(secret: &SecretRef, text: &str) -> bool {
    let raw = placeholder(secret);
    [raw.clone(), substitution(TargetKind::Vyos, secret).0, substitution(TargetKind::Rtx, secret).0, rtx_escape(&raw)]
        .iter()
        .any(|form| text.contains(form.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_identifiers_derived_from_the_reference() {
        assert_eq!(variable(&SecretRef::Env("VPC_TUNNEL1_PSK".into())), "natc_secret_vpc_tunnel1_psk");
        assert_eq!(variable(&SecretRef::File("/etc/natc/psk1".into())), "natc_secret_file_etc_natc_psk1");
        assert_eq!(variable(&SecretRef::Env("a--b..c".into())), "natc_secret_a_b_c");
        assert_eq!(variable(&SecretRef::Env("{{ x }}'\n".into())), "natc_secret_x");
        assert_eq!(variable(&SecretRef::Env("@@".into())), "natc_secret_unnamed");
    }

    #[test]
    fn placeholders_become_filtered_references() {
        let s = SecretRef::Env("PSK1".into());
        assert_eq!(
            substitution(TargetKind::Vyos, &s),
            ("'@@natc-secret:env:PSK1@@'".to_string(), "{{ natc_secret_psk1 | natc_vyos_quote }}".to_string())
        );
        let odd = SecretRef::Env("A{B C".into());
        assert_eq!(
            substitution(TargetKind::Rtx, &odd),
            (
                "@@natc-secret:env:A{{ '{' }}B\\ C@@".to_string(),
                "{{ natc_secret_a_b_c | natc_rtx_escape }}".to_string()
            )
        );
    }
}
