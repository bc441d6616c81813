//! Names of gateways and intent items: `[a-z0-9-]+`, at most 40 characters so that
//! `gateway kind/name` fits in a 128-byte nft comment, and not starting with `-`: a gateway
//! name is a command-line argument (`-g NAME`) and a directory (`-o DIR` writes DIR/NAME),
//! and a leading dash would read as an option there (`-g -rf`). Interface names follow
//! devices (and start with a letter or digit).

use crate::diag::{Code, Diagnostic, Span};
use crate::intent::S;
use rustc_hash::FxHashMap;

use crate::vocab::limits::{MAX_INTERFACE, MAX_NAME};

pub fn check_name(name: &S<String>, what: &str, out: &mut Vec<Diagnostic>) -> bool {
    let text = name.get_ref();
    let ok = !text.is_empty()
        && text.len() <= MAX_NAME
        && !text.starts_with('-')
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        let suggestion: String = text
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .skip_while(|&c| c == '-')
            .take(MAX_NAME)
            .collect();
        out.push(
            Diagnostic::error(Code::INVALID_NAME, format!("{what} name `{text}` is not allowed"))
                .label(name.span(), format!("names are [a-z0-9-]+, 1 to {MAX_NAME} characters, not starting with `-`"))
                .help(format!(
                    "names end up in table names, comments, file names and command lines; try \"{}\"",
                    if suggestion.is_empty() { "rule-1" } else { &suggestion }
                )),
        );
    }
    ok
}

pub fn check_interface_name(name: &S<String>, out: &mut Vec<Diagnostic>) -> bool {
    let text = name.get_ref();
    let ok = !text.is_empty()
        && text.len() <= MAX_INTERFACE
        && text.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !ok {
        out.push(
            Diagnostic::error(Code::INVALID_NAME, format!("interface name `{text}` is not allowed"))
                .label(name.span(), format!("letters, digits, `.`, `_`, `-`; at most {MAX_INTERFACE} characters"))
                .help("write the device's own interface name, e.g. eth0, eth0.10, lan3, vti0"),
        );
    }
    ok
}

/// Finds second uses of a name within one namespace, in one pass. The names are borrowed
/// from the intent (no copy per item).
#[derive(Default)]
pub struct UniqueNames<'a> {
    seen: FxHashMap<&'a str, Span>,
}

impl<'a> UniqueNames<'a> {
    pub fn claim(&mut self, name: &'a str, span: Span, what: &str, out: &mut Vec<Diagnostic>) {
        if let Some(first) = self.seen.get(name) {
            out.push(
                Diagnostic::error(Code::DUPLICATE_NAME, format!("{what} name `{name}` is used twice"))
                    .label(span, "used again here")
                    .label(first.clone(), "first used here")
                    .help("names must be unique: rename one of them"),
            );
        } else {
            self.seen.insert(name, span);
        }
    }
}
