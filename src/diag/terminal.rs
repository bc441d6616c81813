//! Text for a terminal: every user string that natc prints for a person (diagnostics,
//! `trace` and `verify` lines, `diff` headers) goes through [`escape`], so a value can
//! neither forge a second line nor drive the terminal (ESC, BEL) nor reorder what is shown
//! (bidi overrides). The same [`is_hidden`] decides which characters a description may not
//! hold at all (model/text.rs), so the two never disagree.

use std::borrow::Cow;
use std::fmt::Write;

/// A character that changes how text is displayed or where a line ends rather than being
/// text: C0 controls, DEL, C1 controls, the line and paragraph separators U+2028/U+2029,
/// Unicode format characters (category Cf: bidi embeddings, overrides and isolates,
/// zero-width characters, the BOM, invisible operators, tags) and the noncharacters
/// U+FFFE/U+FFFF.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FFFE}' | '\u{FFFF}') || is_format(c)
}

/// Unicode general category Cf (Unicode 15.1), which std does not expose.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// `text` with every [`is_hidden`] character written as an escape: `\n`, `\r`, `\t`, and
/// `\u{…}` for the rest. Borrowed when there is nothing to escape (the common case).
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// One character as [`escape`] writes it.
pub(super) fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if is_hidden(c) => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// `text` escaped and padded with spaces to `width` characters, for a column of a table.
/// The width is whatever the caller measured with [`display_width`]; text already wider is
/// written whole, never cut and never a reason to fail.
pub fn padded(text: &str, width: usize) -> String {
    let shown = escape(text);
    let len = shown.chars().count();
    let mut out = String::with_capacity(shown.len() + width.saturating_sub(len));
    out.push_str(&shown);
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(len)));
    out
}

/// How many characters `text` takes once escaped.
pub fn display_width(text: &str) -> usize {
    escape(text).chars().count()
}

/// The widest a table column grows before a longer cell just overflows its own line.
pub const MAX_COLUMN: usize = 60;

/// The width of a table column: its widest cell, but at most `cap`, so that one very long
/// value does not push every other line as far right (it overflows its own line instead).
pub fn column_width<'a>(cells: impl IntoIterator<Item = &'a str>, cap: usize) -> usize {
    cells.into_iter().map(display_width).max().unwrap_or(0).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_shows_what_would_act_on_the_terminal() {
        assert_eq!(escape("to-vm03 日本語 é"), "to-vm03 日本語 é");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(escape("a\nPASS b"), "a\\nPASS b");
        assert_eq!(escape("x\u{1b}]0;t\u{7}\u{1b}[2J"), "x\\u{1b}]0;t\\u{7}\\u{1b}[2J");
        assert_eq!(escape("\r\t\u{7f}\u{85}\u{9b}"), "\\r\\t\\u{7f}\\u{85}\\u{9b}");
        assert_eq!(escape("a\u{2028}b\u{2029}"), "a\\u{2028}b\\u{2029}");
        assert_eq!(
            escape("\u{202e}evil\u{2066}\u{200b}\u{feff}\u{e0041}"),
            "\\u{202e}evil\\u{2066}\\u{200b}\\u{feff}\\u{e0041}"
        );
    }

    #[test]
    fn every_escaped_text_is_one_line_of_visible_characters() {
        let all: String = (0u32..0x11_0000).filter_map(char::from_u32).collect();
        let shown = escape(&all);
        assert!(!shown.chars().any(is_hidden));
        assert_eq!(shown.lines().count(), 1);
    }

    #[test]
    fn padding_is_computed_for_any_length() {
        assert_eq!(padded("ab", 4), "ab  ");
        assert_eq!(padded("a\nb", 5), "a\\nb ");
        let long = "x".repeat(70_000);
        assert_eq!(padded(&long, 10), long);
        assert_eq!(column_width(["ab", long.as_str()], 60), 60);
        assert_eq!(column_width([], 60), 0);
    }
}
