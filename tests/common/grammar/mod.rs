//! natc's own grammars of the device configurations it writes, as data and code of the
//! test suite: the VyOS configuration nodes (`vyos-<version>.nodes`, read by `vyos.rs`)
//! and the Yamaha RTX commands (`rtx.commands`, read by `rtx.rs`). Written from the public
//! facts (vyos-1x's interface definitions, Yamaha's RT-series command reference), apart
//! from src/backend, so that they check the renderers rather than repeat them. Every
//! VyOS and RTX output of the tests goes through them (tests/common/mod.rs).

pub mod rtx;
mod values;
pub mod vyos;

/// One shell word of a VyOS line and whether any part of it was in single quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexed {
    pub text: String,
    pub quoted: bool,
}

/// Splits a line into words as vbash does, for the lines natc writes: single quotes and
/// backslash escapes; characters the shell would act on (`;`, `|`, `$`, globs, `#`, `!`,
/// double quotes, …) are an error outside single quotes, since natc quotes every value.
pub fn lex_shell(line: &str) -> Result<Vec<Lexed>, String> {
    let mut words = Vec::new();
    let (mut word, mut in_word, mut quoted, mut in_quotes) = (String::new(), false, false, false);
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' if in_quotes => in_quotes = false,
            _ if in_quotes => word.push(c),
            '\'' => (in_quotes, quoted, in_word) = (true, true, true),
            '\\' => {
                word.push(chars.next().ok_or("the line ends in a backslash")?);
                in_word = true;
            }
            ' ' | '\t' => {
                if in_word {
                    words.push(Lexed { text: std::mem::take(&mut word), quoted });
                    (in_word, quoted) = (false, false);
                }
            }
            ';' | '&' | '|' | '<' | '>' | '(' | ')' | '$' | '`' | '"' | '*' | '?' | '[' | ']' | '{' | '}' | '~'
            | '!' | '#' => return Err(format!("`{c}` outside single quotes: the shell would act on it")),
            _ => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_quotes {
        return Err("a single quote is not closed".into());
    }
    if in_word {
        words.push(Lexed { text: word, quoted });
    }
    Ok(words)
}
