//! A file's contents as the `content:` of a cloud-config `write_files` entry, exact for
//! any text: a literal block scalar (`|`) where YAML reads it back byte for byte, so the
//! rules review as they are, else base64 (`encoding: b64`).

use crate::backend::quote::{yaml_printable, yaml_string};

/// The `content:` key (and `encoding:` when needed) of a `write_files` entry, every line
/// indented by `indent` spaces, the block's lines by two more.
pub fn content_entry(contents: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    match literal_header(contents) {
        Some(header) => {
            let mut out = format!("{pad}content: {header}\n");
            for line in contents.split_terminator('\n') {
                // An empty line stays empty; every other line is indented, spaces and all.
                if !line.is_empty() {
                    out.push_str(&pad);
                    out.push_str("  ");
                    out.push_str(line);
                }
                out.push('\n');
            }
            out
        }
        None if contents.is_empty() => format!("{pad}content: \"\"\n"),
        None => format!("{pad}encoding: b64\n{pad}content: {}\n", yaml_string(&base64(contents.as_bytes()))),
    }
}

/// `|`, `|-`, `|+` (with `2` when the first line starts with a space, which would
/// otherwise be taken for indentation), or `None` when a block scalar cannot hold the text
/// exactly: a character YAML reads as a line break or refuses, or no line with text at all.
fn literal_header(contents: &str) -> Option<String> {
    if !contents.chars().all(|c| c == '\n' || yaml_printable(c)) {
        return None;
    }
    let body = contents.trim_end_matches('\n');
    if body.is_empty() {
        return None;
    }
    // Clip keeps one final line break, strip none, keep all of them.
    let chomp = match contents.len() - body.len() {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let first = body.split('\n').find(|l| !l.is_empty()).unwrap_or_default();
    let indentation = if first.starts_with(' ') { "2" } else { "" };
    Some(format!("|{indentation}{chomp}"))
}

/// Standard base64 with padding (RFC 4648 §4), as cloud-init's `b64` decodes it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk.first().copied(), chunk.get(1).copied(), chunk.get(2).copied()];
        let n =
            (u32::from(b[0].unwrap_or(0)) << 16) | (u32::from(b[1].unwrap_or(0)) << 8) | u32::from(b[2].unwrap_or(0));
        let sextets = [n >> 18, n >> 12, n >> 6, n];
        for (i, s) in sextets.into_iter().enumerate() {
            // Sextet i needs input byte i - 1 (the first two need the first byte).
            let present = i < 2 || b[i - 1].is_some();
            out.push(if present { char::from(ALPHABET[(s & 63) as usize]) } else { '=' });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let vectors =
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE=")];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn rules_files_become_literal_blocks() {
        let entry = content_entry("#!/usr/sbin/nft -f\n\ttable ip x\n\n# end\n", 4);
        assert_eq!(entry, "    content: |\n      #!/usr/sbin/nft -f\n      \ttable ip x\n\n      # end\n");
    }

    #[test]
    fn chomping_follows_the_final_line_breaks() {
        assert!(content_entry("a", 0).starts_with("content: |-\n"));
        assert!(content_entry("a\n", 0).starts_with("content: |\n"));
        assert!(content_entry("a\n\n", 0).starts_with("content: |+\n"));
        assert!(content_entry("  a\n", 0).starts_with("content: |2\n"));
        assert!(content_entry("\n  a", 0).starts_with("content: |2-\n"));
    }

    #[test]
    fn what_a_block_cannot_hold_is_base64() {
        assert_eq!(content_entry("", 4), "    content: \"\"\n");
        assert_eq!(content_entry("\n", 0), "encoding: b64\ncontent: \"Cg==\"\n");
        assert!(content_entry("a\r\nb\n", 0).starts_with("encoding: b64\n"));
        assert!(content_entry("a\u{2028}b\n", 0).starts_with("encoding: b64\n"));
    }
}
