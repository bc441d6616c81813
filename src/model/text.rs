//! Free text (`description`) that reaches output comments and device descriptions. natc
//! refuses what no output can carry exactly instead of escaping it differently per place:
//! control characters other than tab and line breaks, U+2028/U+2029, and format characters
//! (bidi overrides and isolates, zero-width characters, the BOM) — the set the terminal
//! escape shows escaped (diag/terminal.rs `is_hidden`). Line breaks split a comment into
//! `#` lines; an interface description is a device's one-line label, so it has none.
//! How long a text may be depends on the target (backend/limits.rs).

use crate::diag::terminal::{escape, is_hidden};
use crate::diag::{Code, Diagnostic};
use crate::intent::{IntentFile, S};

/// Every description of the intent, checked in file order.
pub fn check_descriptions(file: &IntentFile, out: &mut Vec<Diagnostic>) {
    check(file.description.as_ref(), "the intent's", Lines::Many, out);
    for g in &file.gateways {
        let g = g.get_ref();
        check(g.description.as_ref(), "a gateway", Lines::Many, out);
        for i in &g.interfaces {
            check(i.get_ref().description.as_ref(), "an interface", Lines::One, out);
        }
        let rules = g.dnat.iter().map(|r| r.get_ref().description.as_deref());
        let rules = rules.chain(g.snat.iter().map(|r| r.get_ref().description.as_deref()));
        let rules = rules.chain(g.netmap.iter().map(|r| r.get_ref().description.as_deref()));
        let rules = rules.chain(g.allow.iter().map(|r| r.get_ref().description.as_deref()));
        let rules = rules.chain(g.tunnel.iter().map(|r| r.get_ref().description.as_ref()));
        for d in rules {
            check(d, "an item", Lines::Many, out);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lines {
    One,
    Many,
}

fn check(text: Option<&S<String>>, whose: &str, lines: Lines, out: &mut Vec<Diagnostic>) {
    let Some(text) = text else { return };
    let value = text.get_ref();
    let mut chars = value.chars().enumerate().peekable();
    while let Some((n, c)) = chars.next() {
        let line_break = c == '\n' || (c == '\r' && chars.peek().is_some_and(|&(_, next)| next == '\n'));
        // A tab is text in a `#` comment, but a one-line label's readers (VyOS) take it
        // as a separator.
        let allowed = !is_hidden(c) || ((c == '\t' || line_break) && lines == Lines::Many);
        if !allowed {
            out.push(refused(text, whose, n + 1, c, lines));
            return;
        }
    }
}

fn refused(text: &S<String>, whose: &str, position: usize, c: char, lines: Lines) -> Diagnostic {
    let what = match c {
        '\n' | '\r' => "a line break",
        '\t' => "a tab",
        '\u{2028}' | '\u{2029}' => "a line or paragraph separator",
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}' => {
            "a bidirectional control (it reorders how the text is shown)"
        }
        c if c.is_control() => "a control character",
        _ => "an invisible format character",
    };
    let help = if lines == Lines::One {
        "an interface description is the device's one-line label (VyOS `description`, an RTX comment): write it on one line, without control or format characters"
    } else {
        "descriptions become `#` comments and device descriptions: write plain text (tabs and line breaks are fine)"
    };
    Diagnostic::error(
        Code::INVALID_TEXT,
        format!("{whose} description holds {what}, `{}`, at character {position}", escape(&c.to_string())),
    )
    .label(text.span(), "no output can carry this character exactly")
    .help(help)
}
