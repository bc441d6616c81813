//! Splitting a configuration line into words as the device's own reader does: spaces
//! separate, `"…"` (and for shells `'…'`) groups, `\` escapes the next character inside
//! double quotes (iptables-save writes `\"` and `\\` there).

/// The words of `line`; `None` when a quote is not closed (the line is reported).
pub fn words(line: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => word.push(chars.next()?),
                        c => word.push(c),
                    }
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            // A shell's `\x` outside quotes (natc's firewalld script writes `'\''`).
            '\\' => {
                in_word = true;
                word.push(chars.next()?);
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        out.push(word);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn quotes_group_and_escape() {
        assert_eq!(
            words(r#"-A X --comment "a \"b\" c\\" -j Y"#).unwrap(),
            ["-A", "X", "--comment", "a \"b\" c\\", "-j", "Y"]
        );
        assert_eq!(words("set x 'a b' \"\"").unwrap(), ["set", "x", "a b", ""]);
        assert_eq!(words("x \"open"), None);
        assert_eq!(words("x \"a\\"), None);
        assert_eq!(words(r"'web'\''s 443' y").unwrap(), ["web's 443", "y"]);
    }
}
