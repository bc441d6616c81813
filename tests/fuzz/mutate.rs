//! Mutation of real intents: the examples and the test cases in the repository (and the
//! corpus a run grows). Char-, token- and line-level edits, stacked 1–8 deep, plus
//! crossover of lines between two inputs; quoted values are swapped for hostile ones.

use super::pools;
use super::rng::Rng;
use super::toml_doc;

/// A token: a run of letters/digits/`_`/`-`/`.`, a run of blanks, or one other character.
pub fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut kind = None;
    for (i, c) in text.char_indices() {
        let k = if c.is_alphanumeric() || "_-.".contains(c) {
            1
        } else if c == ' ' || c == '\t' {
            2
        } else {
            3
        };
        if kind != Some(k) || k == 3 {
            if i > start {
                out.push(&text[start..i]);
            }
            start = i;
        }
        kind = Some(k);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

const SYNTAX: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "=",
    "\"",
    "'",
    "'''",
    "\"\"\"",
    "{",
    "}",
    ",",
    "\n",
    "#",
    ".",
    "\\",
    "\\u0000",
    "true",
    "1e400",
    "-0",
    "0x10",
    "1979-05-27T07:32:00Z",
    "inf",
    "nan",
    "[gateway]",
    "[[gateway]]",
    "[lab]",
    "[[expect]]",
];

pub fn mutate(rng: &mut Rng, seed: &str, other: &str) -> String {
    let mut text = seed.to_string();
    for _ in 0..*rng.pick(&[1, 1, 1, 2, 3, 5, 8]) {
        text = once(rng, &text, other);
    }
    text
}

fn once(rng: &mut Rng, text: &str, other: &str) -> String {
    let toks = tokens(text);
    if toks.is_empty() {
        return other.to_string();
    }
    let i = rng.below(toks.len());
    let mut out: Vec<String> = toks.iter().map(|t| t.to_string()).collect();
    // About half the edits keep the TOML valid (values, whole lines), so that mutants get
    // past the parser and reach the checks and targets; the rest break anything.
    match rng.below(20) {
        0..=5 => return hostile_value(rng, text, None),
        6..=8 => return hostile_value(rng, text, Some(other)),
        9..=11 => return lines(rng, text, other),
        12 if toks[i].chars().all(|c| c.is_ascii_digit()) => out[i] = rng.pick(pools::BOUNDARY_INTS).to_string(),
        12 | 13 => {
            out.remove(i);
        }
        14 => out.insert(i, toks[rng.below(toks.len())].to_string()),
        15 => {
            let j = rng.below(toks.len());
            out.swap(i, j);
        }
        16 => out[i] = rng.pick(SYNTAX).to_string(),
        17 => {
            let other_toks = tokens(other);
            if !other_toks.is_empty() {
                out[i] = other_toks[rng.below(other_toks.len())].to_string();
            }
        }
        18 => out[i] = char_edit(rng, &out[i]),
        _ => out[i] = out[i].repeat(rng.range(2, 50)),
    }
    out.concat()
}

/// Replace the contents of one quoted value with a hostile string, a boundary address or
/// target, or (with `other`) a quoted value of another intent; escaped, so the TOML stays
/// valid and natc sees the value itself.
fn hostile_value(rng: &mut Rng, text: &str, other: Option<&str>) -> String {
    let quotes: Vec<usize> = text.match_indices('"').map(|(i, _)| i).collect();
    if quotes.len() < 2 {
        return text.to_string();
    }
    let k = rng.below(quotes.len() / 2) * 2;
    let (open, close) = (quotes[k], quotes[k + 1]);
    let value = match other {
        Some(o) => {
            let theirs: Vec<&str> = o.split('"').skip(1).step_by(2).collect();
            if theirs.is_empty() {
                return text.to_string();
            }
            return format!("{}\"{}\"{}", &text[..open], rng.pick(&theirs), &text[close + 1..]);
        }
        None if rng.chance(5) => rng.pick(&pools::former_defects()).clone(),
        None => match rng.below(4) {
            0 => rng.pick(pools::BOUNDARY_ADDRESSES).to_string(),
            1 => rng.pick(pools::TARGETS).to_string(),
            _ => rng.pick(pools::hostile_strings()).clone(),
        },
    };
    format!("{}{}{}", &text[..open], toml_doc::quote(&value), &text[close + 1..])
}

/// Delete, duplicate or move a line, or take one from the other input (crossover).
fn lines(rng: &mut Rng, text: &str, other: &str) -> String {
    let mut ls: Vec<&str> = text.lines().collect();
    let others: Vec<&str> = other.lines().collect();
    if ls.is_empty() {
        return other.to_string();
    }
    let i = rng.below(ls.len());
    match rng.below(4) {
        0 => {
            ls.remove(i);
        }
        1 => ls.insert(i, ls[rng.below(ls.len())]),
        2 => {
            let line = ls.remove(i);
            let j = rng.below(ls.len() + 1);
            ls.insert(j, line);
        }
        _ if !others.is_empty() => {
            let start = rng.below(others.len());
            let end = (start + rng.range(1, 12)).min(others.len());
            for (k, l) in others[start..end].iter().enumerate() {
                ls.insert(i + k, l);
            }
        }
        _ => {}
    }
    let mut joined = ls.join("\n");
    joined.push('\n');
    joined
}

/// Insert, delete or replace one character (control characters and separators included).
fn char_edit(rng: &mut Rng, token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let c = *rng.pick(&['\0', '\n', '\r', '\u{7}', '\u{1b}', '\u{2028}', '\u{feff}', '"', '\'', '\\', 'é', 'x', '9']);
    let i = rng.below(chars.len() + 1);
    match rng.below(3) {
        0 => chars.insert(i, c),
        1 if i < chars.len() => {
            chars.remove(i);
        }
        _ if i < chars.len() => chars[i] = c,
        _ => chars.push(c),
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_cover_the_text_exactly() {
        let text = "name = \"gw-1\"  # é\n[[gateway.dnat]]\n";
        assert_eq!(tokens(text).concat(), text);
        assert!(tokens(text).contains(&"gw-1"));
        assert!(tokens(text).contains(&"gateway.dnat"));
    }

    #[test]
    fn mutations_change_the_text_and_keep_it_a_string() {
        let mut rng = Rng::new(3);
        let seed = "natc = 1\nname = \"x\"\n[[gateway]]\nname = \"gw\"\n";
        let changed = (0..50).filter(|_| mutate(&mut rng, seed, seed) != seed).count();
        assert!(changed > 40, "only {changed} of 50 mutations changed anything");
    }
}
