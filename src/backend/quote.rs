//! Quoting for every place a string reaches an output. Each target's templates use these
//! through named filters; rule text built in Rust uses them directly.

/// A comment inside an iptables-restore line: `"…"` with `\` and `"` escaped (tested: the
/// restore parser unescapes both; a bare `"` would swallow the rest of the line).
/// iptables silently truncates comments past 255 bytes, so we cut first, on a char boundary.
pub fn iptables_comment(text: &str) -> String {
    let clean = single_line(text);
    let cut = truncate_bytes(&clean, 255);
    format!("\"{}\"", cut.replace('\\', "\\\\").replace('"', "\\\""))
}

/// An nft string: nft 1.0.6 has no escape for `"` and refuses comments over 128 bytes, so
/// `"` becomes `'` and the text is cut to 128 bytes (tested in a throwaway namespace).
pub fn nft_string(text: &str) -> String {
    let clean = single_line(text).replace('"', "'");
    format!("\"{}\"", truncate_bytes(&clean, 128))
}

/// A POSIX shell word: single quotes, with `'` written as `'\''`.
pub fn shell_quote(text: &str) -> String {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_".contains(&b)) {
        return text.to_string();
    }
    single_quoted(text)
}

/// A VyOS `set` value: always single-quoted, as `show configuration commands` prints
/// them. The line is read by vbash (bash), so a `'` inside is written `'\''` (close,
/// escaped quote, reopen): one word whatever the text, and nothing in it is expanded.
/// Control characters (line breaks) become spaces: a set line is one line.
pub fn vyos_quote(text: &str) -> String {
    single_quoted(&single_line(text))
}

/// [`vyos_quote`] written onto the end of `out`, without a `String` of its own (a 100k-rule
/// commands.vyos quotes half a million values).
pub fn push_vyos_quoted(out: &mut String, text: &str) {
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("'\\''"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('\'');
}

/// `'…'`, with `'` written as `'\''` (close, escaped quote, reopen): one shell word.
fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// A quoted value in swanctl.conf (strongSwan's settings syntax, `settings_lexer.l`): inside
/// `"…"` a backslash escapes the next character and only `"` ends the string, so `\` and
/// `"` are escaped; a carriage return would be dropped silently and a line break kept, so
/// control characters become spaces. `#`, `{`, `}` and `=` are text inside the quotes.
/// (Pre-shared keys never get here with a control character: `secret::quoted` refuses them.)
pub fn swanctl_string(text: &str) -> String {
    let clean = single_line(text);
    format!("\"{}\"", clean.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One parameter of a Yamaha RTX command line (command reference §1.4): `#`, `?`, `|`, `>`, `'`, `"`,
/// `\` and spaces inside a parameter are escaped with `\`, so the value stays one word and
/// cannot start a comment or end the line. RTX has no escape for a line break: control
/// characters become escaped spaces. An empty value becomes `""`.
pub fn rtx_escape(text: &str) -> String {
    if text.is_empty() {
        return "\"\"".into();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if matches!(c, '#' | '?' | '|' | '>' | '\'' | '"' | '\\' | ' ') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A YAML double-quoted scalar (cloud-config paths, packages, commands): `"` and `\`
/// escaped, and every character a YAML 1.1 reader refuses or reads as a line break
/// (controls, NEL, U+2028/9, BOM, U+FFFE/F) written as an escape, so the value is exact.
pub fn yaml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if yaml_printable(c) => out.push(c),
            c if u32::from(c) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push_str(&format!("\\U{:08X}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

/// A character a YAML 1.1 reader (PyYAML, libyaml) takes as it is inside a line: tab and
/// printable text. Line breaks (`\n`, `\r`, NEL, U+2028, U+2029) and what the readers refuse
/// (other controls, the BOM, U+FFFE, U+FFFF) are not.
pub fn yaml_printable(c: char) -> bool {
    matches!(c, '\t' | ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// A `#` comment line in YAML: what YAML would read as a line break or refuse becomes a
/// space, so no text can end the comment and become a key.
pub fn yaml_comment(line: &str) -> String {
    line.chars().map(|c| if yaml_printable(c) { c } else { ' ' }).collect()
}

/// Free text as `#` comment lines: every line break starts a new comment line, so no text
/// can end a comment early and smuggle in a command or a rule.
pub fn comment_lines(text: &str) -> Vec<String> {
    text.lines().map(|l| single_line(l).trim_end().to_string()).collect()
}

/// Control characters (newlines, tabs, escapes) become spaces.
/// Control characters as spaces; borrowed when there is none (every name and comment natc
/// writes at scale), so quoting 100k comments does not copy each one first.
fn single_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn truncate_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vyos_quote_pushed_is_vyos_quote() {
        for text in ["", "web", "it's", "''", "a\nb\tc\r", "\u{7f}é'\u{0}", "x'y'z", "ab\\'c"] {
            let mut out = String::from("set x ");
            push_vyos_quoted(&mut out, text);
            assert_eq!(out, format!("set x {}", vyos_quote(text)), "{text:?}");
        }
    }

    #[test]
    fn iptables_comment_escapes() {
        assert_eq!(iptables_comment(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(iptables_comment("x\ny"), "\"x y\"");
        assert!(iptables_comment(&"é".repeat(200)).len() <= 257);
    }

    #[test]
    fn nft_string_has_no_double_quote_inside() {
        let q = nft_string("say \"hi\"\n-- x");
        assert_eq!(q, "\"say 'hi' -- x\"");
        assert_eq!(nft_string(&"a".repeat(300)).len(), 130);
    }

    #[test]
    fn shell_quote_survives_single_quotes() {
        assert_eq!(shell_quote("eth0"), "eth0");
        assert_eq!(shell_quote("it's; rm -rf /"), "'it'\\''s; rm -rf /'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn comment_lines_split_breaks() {
        assert_eq!(comment_lines("a\nb\r\nc"), vec!["a", "b", "c"]);
    }

    #[test]
    fn vyos_quote_keeps_hostile_text_in_one_word() {
        assert_eq!(vyos_quote("eth0"), "'eth0'");
        assert_eq!(vyos_quote("it's'; delete system"), "'it'\\''s'\\''; delete system'");
        assert_eq!(vyos_quote("a\nset x"), "'a set x'");
        assert_eq!(vyos_quote("$(reboot) `x` \"q\" !1"), "'$(reboot) `x` \"q\" !1'");
    }

    #[test]
    fn yaml_string_escapes_what_yaml_would_not_read_back() {
        assert_eq!(yaml_string("/etc/natc/x/nftables.nft"), "\"/etc/natc/x/nftables.nft\"");
        assert_eq!(yaml_string("a\"b\\c\nd\te"), r#""a\"b\\c\nd\te""#);
        assert_eq!(yaml_string("\u{85}\u{2028}\u{FEFF}\u{7F}"), r#""\u0085\u2028\uFEFF\u007F""#);
        assert_eq!(yaml_string("é日本"), "\"é日本\"");
    }

    #[test]
    fn yaml_comment_cannot_break_the_line() {
        assert_eq!(yaml_comment("a\u{2028}b: c\rd\u{85}"), "a b: c d ");
        assert_eq!(yaml_comment("tab\tok é"), "tab\tok é");
    }

    #[test]
    fn swanctl_string_keeps_one_value() {
        assert_eq!(swanctl_string("vpn.example.com"), "\"vpn.example.com\"");
        assert_eq!(swanctl_string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(swanctl_string("x\n}\r# y"), "\"x } # y\"");
    }

    #[test]
    fn rtx_escape_keeps_one_word_on_one_line() {
        assert_eq!(rtx_escape("@@natc-secret:env:PSK1@@"), "@@natc-secret:env:PSK1@@");
        assert_eq!(rtx_escape("a#b c"), "a\\#b\\ c");
        assert_eq!(rtx_escape(r#"x"y'z\w|v>u?t"#), r#"x\"y\'z\\w\|v\>u\?t"#);
        assert_eq!(rtx_escape("line\nbreak"), "line\\ break");
        assert_eq!(rtx_escape(""), "\"\"");
    }
}
