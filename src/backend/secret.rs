//! Secrets in generated files. An intent holds only references (`psk = { env = "X" }`);
//! a file meant for review gets a placeholder that a deployment tool replaces, never the
//! value itself (INTENT.md §2.6).

use crate::backend::TargetKind;
use crate::backend::quote::{rtx_escape, vyos_quote};
use crate::plan::SecretRef;
use std::path::{Path, PathBuf};

/// What a build writes where a pre-shared key goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SecretMode {
    /// `@@natc-secret:…@@`, for a deployment tool to fill in (the default).
    #[default]
    Placeholder,
    /// The value itself (`--secrets inline`); relative `file` paths are read from `base`,
    /// the intent file's directory.
    Inline { base: PathBuf },
}

/// The placeholder for a secret reference: `@@natc-secret:env:VPC_TUNNEL1_PSK@@`,
/// `@@natc-secret:file:/etc/natc/psk1@@`. One fixed shape in every target, so one
/// `sed`/Ansible `replace` finds them all; targets quote it like any other value.
pub fn placeholder(secret: &SecretRef) -> String {
    match secret {
        SecretRef::Env(name) => format!("@@natc-secret:env:{name}@@"),
        SecretRef::File(path) => format!("@@natc-secret:file:{path}@@"),
    }
}

/// The value a reference names: the environment variable, or the file's contents without
/// its final line break. The error says which reference and why, never any part of a value.
pub fn read(secret: &SecretRef, base: &Path) -> Result<String, String> {
    let value = match secret {
        SecretRef::Env(name) => match std::env::var(name) {
            Ok(v) => v,
            Err(std::env::VarError::NotPresent) => return Err(format!("the environment variable {name} is not set")),
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(format!("the environment variable {name} is not valid UTF-8"));
            }
        },
        SecretRef::File(path) => {
            let full = base.join(path);
            let text = std::fs::read_to_string(&full).map_err(|e| format!("cannot read {}: {e}", full.display()))?;
            let text = text.strip_suffix('\n').unwrap_or(&text);
            text.strip_suffix('\r').unwrap_or(text).to_string()
        }
    };
    if value.is_empty() {
        return Err(format!("{} is empty", describe(secret)));
    }
    Ok(value)
}

/// `environment variable NAME` or `file PATH`, for messages.
pub fn describe(secret: &SecretRef) -> String {
    match secret {
        SecretRef::Env(name) => format!("the environment variable {name}"),
        SecretRef::File(path) => format!("the file {path}"),
    }
}

/// How a target writes a secret value, or why it cannot write this one exactly (the reason
/// names no part of the value). Placeholders are written the same way, so inlining is
/// replacing the quoted placeholder with the quoted value.
pub fn quoted(kind: TargetKind, value: &str) -> Result<String, &'static str> {
    if value.chars().any(char::is_control) {
        return Err(
            "the value contains a line break or another control character, which no set or command line can carry",
        );
    }
    match kind {
        TargetKind::Vyos => Ok(vyos_quote(value)),
        TargetKind::Rtx if !value.is_ascii() || value.len() > 128 => {
            Err("RTX takes `ipsec ike pre-shared-key N text` with at most 128 ASCII characters")
        }
        TargetKind::Rtx => Ok(rtx_escape(value)),
        TargetKind::Iptables | TargetKind::Nftables | TargetKind::Firewalld => {
            Err("the Linux targets write no pre-shared keys")
        }
    }
}

/// Every quoted placeholder in `contents` replaced by its quoted value.
pub fn inline(kind: TargetKind, contents: &str, values: &[(SecretRef, String)]) -> Result<String, &'static str> {
    let mut out = contents.to_string();
    for (secret, value) in values {
        let from = quoted(kind, &placeholder(secret))?;
        out = out.replace(&from, &quoted(kind, value)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_name_their_reference() {
        assert_eq!(placeholder(&SecretRef::Env("PSK1".into())), "@@natc-secret:env:PSK1@@");
        assert_eq!(placeholder(&SecretRef::File("/etc/psk".into())), "@@natc-secret:file:/etc/psk@@");
    }

    #[test]
    fn inlining_quotes_the_value_for_each_target() {
        let psk = SecretRef::Env("PSK1".into());
        let values = [(psk.clone(), "it's a secret".to_string())];
        let vyos = format!("set vpn ipsec authentication psk t secret {}\n", vyos_quote(&placeholder(&psk)));
        assert_eq!(
            inline(TargetKind::Vyos, &vyos, &values),
            Ok("set vpn ipsec authentication psk t secret 'it'\\''s a secret'\n".to_string())
        );
        let rtx = format!("ipsec ike pre-shared-key 1 text {}\n", rtx_escape(&placeholder(&psk)));
        assert_eq!(
            inline(TargetKind::Rtx, &rtx, &values),
            Ok("ipsec ike pre-shared-key 1 text it\\'s\\ a\\ secret\n".to_string())
        );
    }

    #[test]
    fn values_a_target_cannot_carry_are_refused() {
        assert!(quoted(TargetKind::Vyos, "two\nlines").is_err());
        assert!(quoted(TargetKind::Rtx, &"x".repeat(129)).is_err());
        assert!(quoted(TargetKind::Rtx, "schlüssel").is_err());
        assert!(quoted(TargetKind::Rtx, &"x".repeat(128)).is_ok());
    }
}
