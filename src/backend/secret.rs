//! Secrets in generated files. An intent holds only references (`psk = { env = "X" }`);
//! a file meant for review gets a placeholder that a deployment tool replaces, never the
//! value itself (docs/intent.md §2.6).

use crate::backend::TargetKind;
use crate::backend::quote::{rtx_escape, swanctl_string, vyos_quote};
use crate::intent::PLACEHOLDER_PREFIX;
use crate::plan::SecretRef;
use std::ops::Range;
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
        SecretRef::Env(name) => format!("{PLACEHOLDER_PREFIX}env:{name}@@"),
        SecretRef::File(path) => format!("{PLACEHOLDER_PREFIX}file:{path}@@"),
    }
}

/// The largest key file natc reads: devices take keys of at most a few hundred bytes.
pub const MAX_KEY_FILE_SIZE: u64 = 64 * 1024;

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
            // The same rules as for an intent: a regular file only (`/dev/zero` or a FIFO
            // would never end), and far more than any device takes as a key.
            let bytes = crate::intent::read::read_regular_file(&full, MAX_KEY_FILE_SIZE)?;
            let text = String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", full.display()))?;
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
        TargetKind::Strongswan => Ok(swanctl_string(value)),
        TargetKind::Iptables | TargetKind::Nftables | TargetKind::Firewalld => {
            Err("the Linux targets write no pre-shared keys")
        }
    }
}

/// Where a pre-shared key stands in a rendered file: the byte range of what is written
/// there (the quoted placeholder, or with `--secrets inline` the quoted value) and whose key
/// it is. Only these ranges are ever filled in, so text elsewhere in the file that looks
/// like a placeholder is never replaced (and the intent refuses such text anyway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSlot {
    pub range: Range<usize>,
    pub secret: SecretRef,
    /// The range holds the value itself (`--secrets inline`), not the placeholder.
    pub inlined: bool,
}

/// What a target's view holds where tunnel `index`'s key goes (`gw.tunnels[index]`); the
/// template writes it as it is, unquoted, and [`place`] turns it into the quoted placeholder
/// and a [`SecretSlot`]. The NUL bytes make it unforgeable: every quoting natc applies to
/// intent text turns control characters into spaces.
pub fn slot_marker(index: usize) -> String {
    format!("{MARKER_START}{index}{MARKER_END}")
}

const MARKER_START: &str = "\0natc-secret-slot:";

/// Whether `text` holds a slot marker for [`place`] to replace.
pub fn has_slot_markers(text: &str) -> bool {
    text.contains(MARKER_START)
}
const MARKER_END: char = '\0';

/// The rendered `text` with each slot marker replaced by the quoted placeholder of that
/// tunnel's key, and the slots in file order. A marker that names no tunnel or appears
/// twice is natc's bug (or intent text forging one), reported instead of written.
pub fn place(kind: TargetKind, secrets: &[&SecretRef], text: &str) -> Result<(String, Vec<SecretSlot>), String> {
    let mut out = String::with_capacity(text.len());
    let mut slots = Vec::new();
    let mut seen = vec![false; secrets.len()];
    let mut rest = text;
    while let Some(at) = rest.find(MARKER_START) {
        out.push_str(&rest[..at]);
        let after = &rest[at + MARKER_START.len()..];
        let end = after.find(MARKER_END).ok_or("an unterminated secret slot")?;
        let index: usize = after[..end].parse().map_err(|_| "a secret slot without a tunnel number")?;
        let secret = *secrets.get(index).ok_or("a secret slot for a tunnel the gateway does not have")?;
        if std::mem::replace(&mut seen[index], true) {
            return Err("two secret slots for one tunnel (does an intent string hold a NUL byte?)".into());
        }
        let start = out.len();
        out.push_str(&quoted_placeholder(kind, secret));
        slots.push(SecretSlot { range: start..out.len(), secret: secret.clone(), inlined: false });
        rest = &after[end + MARKER_END.len_utf8()..];
    }
    out.push_str(rest);
    Ok((out, slots))
}

/// The placeholder as a target writes it in a key's place.
fn quoted_placeholder(kind: TargetKind, secret: &SecretRef) -> String {
    match kind {
        TargetKind::Rtx => rtx_escape(&placeholder(secret)),
        TargetKind::Strongswan => swanctl_string(&placeholder(secret)),
        _ => vyos_quote(&placeholder(secret)),
    }
}

/// `contents` with each of `slots` holding its key's value (from `values`), quoted for the
/// target, and the slots where the values now stand. Nothing outside the slots changes.
pub fn inline(
    kind: TargetKind,
    contents: &str,
    slots: &[SecretSlot],
    values: &[(SecretRef, String)],
) -> Result<(String, Vec<SecretSlot>), &'static str> {
    let mut out = String::with_capacity(contents.len());
    let mut placed = Vec::with_capacity(slots.len());
    let mut last = 0;
    for slot in slots {
        let (_, value) = values.iter().find(|(s, _)| s == &slot.secret).ok_or("a key natc did not read")?;
        out.push_str(contents.get(last..slot.range.start).ok_or("secret slots out of order")?);
        let start = out.len();
        out.push_str(&quoted(kind, value)?);
        placed.push(SecretSlot { range: start..out.len(), secret: slot.secret.clone(), inlined: true });
        last = slot.range.end;
    }
    out.push_str(contents.get(last..).ok_or("a secret slot past the end of the file")?);
    Ok((out, placed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_name_their_reference() {
        assert_eq!(placeholder(&SecretRef::Env("PSK1".into())), "@@natc-secret:env:PSK1@@");
        assert_eq!(placeholder(&SecretRef::File("/etc/psk".into())), "@@natc-secret:file:/etc/psk@@");
    }

    /// A file with tunnel 0's slot, tunnel 1's slot and, in between, text that looks like
    /// tunnel 0's quoted placeholder: (contents, slots).
    fn two_slots(kind: TargetKind, secrets: &[&SecretRef]) -> (String, Vec<SecretSlot>) {
        let decoy = quoted_placeholder(kind, secrets[0]);
        let text = format!("key {}\ndescription {decoy}\nkey {}\n", slot_marker(0), slot_marker(1));
        place(kind, secrets, &text).expect("placed")
    }

    #[test]
    fn inlining_fills_the_slots_only_quoted_for_each_target() {
        let env = SecretRef::Env("PSKA".into());
        // A file path that holds the other key's placeholder: with a text replace, inlining
        // the first key broke the second one's placeholder.
        let file = SecretRef::File(placeholder(&env));
        let values = [(env.clone(), "it's a secret".to_string()), (file.clone(), "filekey".to_string())];
        let (vyos, slots) = two_slots(TargetKind::Vyos, &[&env, &file]);
        assert_eq!(&vyos[slots[0].range.clone()], "'@@natc-secret:env:PSKA@@'");
        let (inlined, placed) = inline(TargetKind::Vyos, &vyos, &slots, &values).expect("inlined");
        assert_eq!(inlined, "key 'it'\\''s a secret'\ndescription '@@natc-secret:env:PSKA@@'\nkey 'filekey'\n");
        assert_eq!(&inlined[placed[1].range.clone()], "'filekey'");
        assert!(placed.iter().all(|s| s.inlined));
        let (rtx, slots) = two_slots(TargetKind::Rtx, &[&env, &file]);
        let (inlined, _) = inline(TargetKind::Rtx, &rtx, &slots, &values).expect("inlined");
        assert_eq!(inlined, "key it\\'s\\ a\\ secret\ndescription @@natc-secret:env:PSKA@@\nkey filekey\n");
    }

    #[test]
    fn a_marker_twice_or_for_no_tunnel_is_refused() {
        let env = SecretRef::Env("PSKA".into());
        let twice = format!("{} {}", slot_marker(0), slot_marker(0));
        assert!(place(TargetKind::Vyos, &[&env], &twice).is_err());
        assert!(place(TargetKind::Vyos, &[&env], &slot_marker(1)).is_err());
        assert_eq!(place(TargetKind::Vyos, &[&env], "no slot \0 here"), Ok(("no slot \0 here".into(), vec![])));
    }

    #[test]
    fn values_a_target_cannot_carry_are_refused() {
        assert!(quoted(TargetKind::Vyos, "two\nlines").is_err());
        assert!(quoted(TargetKind::Rtx, &"x".repeat(129)).is_err());
        assert!(quoted(TargetKind::Rtx, "schlüssel").is_err());
        assert!(quoted(TargetKind::Rtx, &"x".repeat(128)).is_ok());
    }
}
