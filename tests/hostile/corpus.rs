//! Hostile strings for every output language: shell, nft, iptables-restore, VyOS, RTX,
//! YAML and the terminal. Each value is here for a reason (the comment says which reader it
//! attacks); tests/hostile.rs puts every one into every string field that reaches an output.

pub fn corpus() -> Vec<String> {
    let mut values: Vec<String> = [
        "plain text",
        "日本語の説明 (拠点間VPN)",
        // Shell: quotes, substitutions, separators, globbing, options.
        "it's",
        "say \"hi\"",
        "$(reboot)",
        "`reboot`",
        "${HOME} $HOME",
        "a; rm -rf / && echo x || true",
        "*.conf ?x [a]",
        "-rf",
        "--help",
        "\\",
        "trailing\\",
        // Line structure: every way a reader may end a line or a string.
        "line\nbreak",
        "two\n\nempty line",
        "cr\rreturn",
        "crlf\r\nx",
        "nul\0x",
        "nel\u{85}x",
        "sep\u{2028}no ip lan1 address",
        "para\u{2029}x",
        "vt\u{b}ff\u{c}",
        // Terminal: escapes, bell, DEL, C1 CSI, bidi and invisible characters.
        "esc\u{1b}]0;title\u{7}\u{1b}[2J",
        "del\u{7f}x",
        "csi\u{9b}31m",
        "bidi \u{202e}evil\u{202c} end",
        "isolate \u{2066}x\u{2069}",
        "zero\u{200b}width\u{feff}bom",
        "tag\u{e0041}",
        "tab\there",
        // Templates: Tera, Jinja (Ansible), printf.
        "{{ x }}",
        "{% if true %}x{% endif %}",
        "{# comment #}",
        "%s %n %%",
        // YAML specials.
        "key: value",
        "# not a comment",
        "&anchor *alias",
        "!tag x",
        "| block",
        "> folded",
        "- item",
        "? key",
        "yes",
        "no",
        "~",
        "null",
        "@at",
        "'single' \"double\"",
        "...",
        "---",
        // nft: comments end at `"`; statements at `;` and `}`.
        "x\"; flush ruleset; \"",
        "} } table ip x {",
        // iptables-restore: a line is a rule; `"` quotes; COMMIT ends a table.
        "x\" -j ACCEPT \"",
        "COMMIT",
        "*filter",
        // VyOS: a value is one word of a vbash line.
        "x' ; delete system ; '",
        // RTX: `#`, `?`, `|`, `>`, `'`, `"`, `\` and spaces are special inside a parameter.
        "a#b ? c | d > e",
        "#start",
        " leading and trailing ",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    values.push("x".repeat(255));
    values.push("é".repeat(128));
    values.push("y".repeat(4_094));
    values.push("z".repeat(10_238));
    values
}

/// `text` as a TOML basic string: every value of the corpus can be written in an intent.
pub fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
