//! Text that reaches the generated YAML and the Jinja that Ansible evaluates in it.
//! Every user string goes through one of these: a YAML value is always a double-quoted
//! scalar (the one YAML style that can carry any text), a comment is one printable line,
//! and literal text that Ansible will template has its `{` written as a Jinja expression.

/// A YAML double-quoted scalar holding exactly `text`: `\` and `"` escaped, and every
/// character that YAML does not allow raw (controls, DEL, C1, surrogate-free non-characters)
/// or that it reads as a line break (U+0085, U+2028, U+2029) written as an escape.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if printable(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02X}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// The text of one `#` comment line: YAML ends a comment at any line break (including
/// U+0085, U+2028 and U+2029) and refuses non-printable characters even in comments, so
/// those become spaces. Nothing in a comment can start a new YAML line.
pub fn comment(text: &str) -> String {
    text.chars().map(|c| if c == '\t' || (printable(c) && !breaks_line(c)) { c } else { ' ' }).collect()
}

/// Literal text inside a string Ansible templates: every `{` becomes the Jinja expression
/// `{{ '{' }}`, so no `{{`, `{%` or `{#` in the text can start a Jinja construct, and the
/// text renders back exactly as it was.
pub fn jinja_literal(text: &str) -> String {
    text.replace('{', "{{ '{' }}")
}

/// The characters YAML 1.1 (PyYAML, which Ansible uses) accepts raw in a stream, less
/// U+FEFF (a byte order mark is only meaningful at the start).
fn printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

fn breaks_line(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_what_yaml_would_read_differently() {
        assert_eq!(quote("set x 'a'"), "\"set x 'a'\"");
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
        assert_eq!(quote("\u{85}\u{2028}\u{2029}"), "\"\\N\\L\\P\"");
        assert_eq!(quote("\u{7f}\u{9b}\u{1}"), "\"\\x7F\\x9B\\x01\"");
        assert_eq!(quote("\u{feff}\u{fffe}"), "\"\\uFEFF\\uFFFE\"");
        assert_eq!(
            quote("é 日本 🦀 : # - [x] {y} &a *b !c %d @e `f` |g >h"),
            "\"é 日本 🦀 : # - [x] {y} &a *b !c %d @e `f` |g >h\""
        );
        assert_eq!(quote(""), "\"\"");
    }

    #[test]
    fn comments_stay_on_one_line() {
        assert_eq!(comment("a\nb\u{2028}c\u{85}d\re\u{7}f\tg"), "a b c d e f\tg");
        assert_eq!(comment("plain: text # more"), "plain: text # more");
    }

    #[test]
    fn jinja_literal_disarms_every_delimiter() {
        assert_eq!(jinja_literal("set a 'b'"), "set a 'b'");
        assert_eq!(jinja_literal("{{ x }} {% y %} {# z #}"), "{{ '{' }}{{ '{' }} x }} {{ '{' }}% y %} {{ '{' }}# z #}");
    }
}
