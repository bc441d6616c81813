//! Text the intent may not hold: natc's key placeholder (`@@natc-secret:…@@`) is written
//! only where a pre-shared key goes, so that a deployment tool (or `--secrets inline`) can
//! fill in every key and nothing else. A string in the intent that held the same text
//! would be filled in too wherever a tool replaces placeholders by text (`sed`, Ansible
//! `replace`), so every string and key of the file is checked, with no exception.

use crate::diag::{Code, Diagnostic};
use toml::de::{DeTable, DeValue};

/// What every placeholder starts with (`crate::backend::secret::placeholder`).
pub const PLACEHOLDER_PREFIX: &str = "@@natc-secret:";

/// One error per string or key of `source` (valid TOML) that holds [`PLACEHOLDER_PREFIX`],
/// in file order. The walk keeps its own stack: nesting depth costs no recursion.
pub fn placeholder_text(source: &str) -> Vec<Diagnostic> {
    if !could_spell_the_prefix(source) {
        return Vec::new();
    }
    let Ok(document) = DeTable::parse(source) else { return Vec::new() };
    let mut found = Vec::new();
    let mut tables = vec![document.into_inner()];
    let mut values = Vec::new();
    while let Some(table) = tables.pop() {
        for (key, value) in table {
            if key.get_ref().contains(PLACEHOLDER_PREFIX) {
                found.push(refused(key.span(), "this key"));
            }
            values.push(value);
        }
        while let Some(value) = values.pop() {
            let span = value.span();
            match value.into_inner() {
                DeValue::String(text) if text.contains(PLACEHOLDER_PREFIX) => found.push(refused(span, "this string")),
                DeValue::Array(items) => values.extend(items),
                DeValue::Table(table) => tables.push(table),
                _ => {}
            }
        }
    }
    found.sort_by_key(|d| d.primary_span().map_or(0, |s| s.start));
    found
}

/// Whether any string or key of `source` could hold the prefix: the text itself, or an
/// escape that can spell a character of it (`\u0040`, `\U…`, TOML 1.1's `\x40`) or join two lines of a
/// multi-line string (a backslash before whitespace). When none is there, no string can
/// hold it and the second parse of the whole document (the largest allocation of a
/// large build) is skipped.
fn could_spell_the_prefix(source: &str) -> bool {
    source.contains(PLACEHOLDER_PREFIX)
        || source
            .as_bytes()
            .windows(2)
            .any(|w| w[0] == b'\\' && matches!(w[1], b'u' | b'U' | b'x' | b' ' | b'\t' | b'\r' | b'\n'))
}

fn refused(span: std::ops::Range<usize>, what: &str) -> Diagnostic {
    Diagnostic::error(
        Code::INVALID_VALUE,
        format!("`{PLACEHOLDER_PREFIX}` is reserved for the pre-shared key placeholders natc writes"),
    )
    .label(span, format!("{what} holds `{PLACEHOLDER_PREFIX}`"))
    .help("natc writes @@natc-secret:…@@ only where a key goes, so that every one of them can be filled in; write this text another way (e.g. `natc secret`)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_and_key_is_checked() {
        let source = "a = \"x\"\n[t]\nd = \"@@natc-secret:env:K@@\"\nl = [1, { f = \"y@@natc-secret:z\" }]\n\"@@natc-secret:\" = 1\n";
        let spans: Vec<&str> =
            placeholder_text(source).iter().map(|d| &source[d.primary_span().expect("located").clone()]).collect();
        assert_eq!(spans, ["\"@@natc-secret:env:K@@\"", "\"y@@natc-secret:z\"", "\"@@natc-secret:\""]);
        assert!(placeholder_text("a = \"@@natc secret\"\nb = '@@'").is_empty());
        // An escape spells the prefix too, and so does a line joined in a multi-line string.
        assert_eq!(placeholder_text("a = \"\\u0040@natc-secret:env:K@@\"").len(), 1);
        assert_eq!(placeholder_text("a = \"\\U00000040@natc-secret:env:K@@\"").len(), 1);
        assert_eq!(placeholder_text("a = \"\"\"@@natc-\\\n   secret:x\"\"\"").len(), 1);
        assert_eq!(placeholder_text("a = \"\"\"@@natc-\\   \n   secret:x\"\"\"").len(), 1);
    }
}
