//! natc's own grammar of the Yamaha RTX commands it writes: the command patterns and model
//! table of `rtx.commands` and the parameter types below, written from Yamaha's RT-series
//! command reference. It reads rtx.conf files and change scripts line by line, with the
//! `tunnel select` context, for one model, and says what is wrong with each line. It
//! knows nothing of src/backend/rtx: it checks it.

use super::values::{host_bits, ipv4, number, with_length};
use std::sync::OnceLock;

const TEXT: &str = include_str!("rtx.commands");

/// A router model and what it has.
#[derive(Debug)]
pub struct Model {
    pub name: String,
    pub tunnels: u64,
    pub lists: usize,
    features: Vec<String>,
}

impl Model {
    fn has(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }
}

#[derive(Debug, Clone)]
enum Alt {
    Keyword { word: String, feature: Option<String> },
    Range(u64, u64),
    Named(String),
}

/// A parameter type: one word matching one alternative.
#[derive(Debug, Clone)]
struct Type {
    text: String,
    alts: Vec<Alt>,
}

impl Type {
    fn parse(text: &str) -> Type {
        let alts = text
            .split('|')
            .map(|a| {
                if let Some(rest) = a.strip_prefix('\'') {
                    let (word, feature) = match rest.split_once("'@") {
                        Some((w, f)) => (w, Some(f.to_string())),
                        None => (rest.strip_suffix('\'').expect("closing quote"), None),
                    };
                    Alt::Keyword { word: word.to_string(), feature }
                } else if let Some((lo, hi)) = a.split_once("..") {
                    Alt::Range(lo.parse().expect("range low"), hi.parse().expect("range high"))
                } else {
                    let probe = Model { name: String::new(), tunnels: 1, lists: 1, features: Vec::new() };
                    assert!(named(a, "", &probe).is_some(), "the RTX grammar names an unknown type `{a}`");
                    Alt::Named(a.to_string())
                }
            })
            .collect();
        Type { text: text.to_string(), alts }
    }

    /// `Ok`, or why not: the value matches nothing, or only a keyword the model lacks.
    fn check(&self, value: &str, model: &Model) -> Result<(), String> {
        let mut missing = None;
        for alt in &self.alts {
            let ok = match alt {
                Alt::Keyword { word, feature } if word == value => match feature {
                    Some(f) if !model.has(f) => {
                        missing = Some(f.clone());
                        false
                    }
                    _ => true,
                },
                Alt::Keyword { .. } => false,
                Alt::Range(lo, hi) => number(value).is_some_and(|n| (*lo..=*hi).contains(&n)),
                Alt::Named(name) => named(name, value, model) == Some(true),
            };
            if ok {
                return Ok(());
            }
        }
        Err(match missing {
            Some(f) => format!("`{value}` needs {f}, which the {} does not have", model.name),
            None => format!("`{value}` is not {}", self.text),
        })
    }
}

#[derive(Debug, Clone)]
enum Token {
    Keyword(String),
    One(Type),
    /// One or more words of the type.
    Many(Type),
    Optional(Vec<Token>),
}

#[derive(Debug)]
struct Command {
    text: String,
    tokens: Vec<Token>,
    in_tunnel: bool,
    feature: Option<String>,
}

/// The commands and models of `rtx.commands`.
#[derive(Debug)]
pub struct Grammar {
    commands: Vec<Command>,
    models: Vec<Model>,
}

fn tokens(words: &mut std::iter::Peekable<std::slice::Iter<&str>>) -> Vec<Token> {
    let mut out = Vec::new();
    while let Some(w) = words.next() {
        out.push(match *w {
            "[" => Token::Optional(tokens(words)),
            "]" => return out,
            w if w.starts_with('<') || w.starts_with('\'') => {
                let (body, many) = match w.strip_suffix("...") {
                    Some(b) => (b, true),
                    None => (w, false),
                };
                let ty = Type::parse(body.trim_start_matches('<').trim_end_matches('>'));
                if many { Token::Many(ty) } else { Token::One(ty) }
            }
            w => Token::Keyword(w.to_string()),
        });
    }
    out
}

impl Grammar {
    pub fn get() -> &'static Grammar {
        static GRAMMAR: OnceLock<Grammar> = OnceLock::new();
        GRAMMAR.get_or_init(Grammar::load)
    }

    fn load() -> Grammar {
        let mut g = Grammar { commands: Vec::new(), models: Vec::new() };
        for line in TEXT.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            if let Some(rest) = line.strip_prefix("model ") {
                let w: Vec<&str> = rest.split_whitespace().collect();
                let [name, "tunnels", tunnels, "lists", lists, features @ ..] = &w[..] else {
                    panic!("rtx.commands: bad model line `{line}`")
                };
                g.models.push(Model {
                    name: name.to_string(),
                    tunnels: tunnels.parse().expect("tunnels"),
                    lists: lists.parse().expect("lists"),
                    features: features.iter().map(|f| f.to_string()).collect(),
                });
                continue;
            }
            let (pattern, feature) = match line.split_once(" ; ") {
                Some((p, f)) => (p, Some(f.trim().to_string())),
                None => (line, None),
            };
            let (pattern, in_tunnel) = match pattern.strip_prefix("in-tunnel:") {
                Some(p) => (p.trim(), true),
                None => (pattern, false),
            };
            // `[`, `]` and `...` may touch their neighbours in the file.
            let spaced = pattern.replace('[', " [ ").replace(']', " ] ");
            let words: Vec<&str> = spaced.split_whitespace().collect();
            let tokens = tokens(&mut words.iter().peekable());
            g.commands.push(Command { text: line.to_string(), tokens, in_tunnel, feature });
        }
        assert!(g.models.len() >= 9 && g.commands.len() > 40, "rtx.commands looks truncated");
        g
    }

    pub fn model(&self, name: &str) -> &Model {
        self.models.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("natc's RTX grammar has no model {name}"))
    }

    /// Every line of an rtx.conf or change script for `model`; `Err` lists the bad lines
    /// as `LINE: text  ==> why`.
    pub fn check(&self, text: &str, model: &str) -> Result<(), String> {
        let model = self.model(model);
        let mut problems = Vec::new();
        let mut tunnel_selected = false;
        for (n, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            match self.check_line(trimmed, model, tunnel_selected) {
                Ok(_) => {
                    if let Some(rest) = trimmed.strip_prefix("tunnel select ") {
                        tunnel_selected = rest != "none";
                    }
                }
                Err(why) => problems.push(format!("{}: {line}  ==> {why}", n + 1)),
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
    }

    /// Every command as written in `rtx.commands`.
    pub fn declared(&self) -> Vec<String> {
        self.commands.iter().map(|c| c.text.clone()).collect()
    }

    /// The declared command of each command line of a config or script for `model`
    /// (lines the grammar refuses are left out).
    pub fn declared_commands_of(&self, text: &str, model: &str) -> Vec<String> {
        let model = self.model(model);
        let mut tunnel_selected = false;
        let mut out = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            if let Ok(i) = self.check_line(line, model, tunnel_selected) {
                out.push(self.commands[i].text.clone());
            }
            if let Some(rest) = line.strip_prefix("tunnel select ") {
                tunnel_selected = rest != "none";
            }
        }
        out
    }

    /// The index of the command a line is, or why it is none.
    fn check_line(&self, line: &str, model: &Model, tunnel_selected: bool) -> Result<usize, String> {
        if line.chars().count() > 4095 {
            return Err("longer than the 4095 characters of an RTX command line".into());
        }
        let words = split(line)?;
        // The command whose keywords match furthest explains a refusal best.
        let mut best: Option<(usize, String)> = None;
        for (i, c) in self.commands.iter().enumerate() {
            match matches(&c.tokens, &words, model) {
                Ok(()) => {
                    if let Some(f) = c.feature.as_ref().filter(|f| !model.has(f)) {
                        return Err(format!("`{}` needs {f}, which the {} does not have", c.text, model.name));
                    }
                    if c.in_tunnel && !tunnel_selected {
                        return Err("this command needs a tunnel chosen with `tunnel select N`".into());
                    }
                    return extra_checks(&words, model).map(|()| i);
                }
                Err((depth, why)) => {
                    if best.as_ref().is_none_or(|(d, _)| depth > *d) {
                        best = Some((depth, format!("{why} (in `{}`)", c.text)));
                    }
                }
            }
        }
        Err(match best {
            Some((0, _)) | None => "not a command natc writes".into(),
            Some((_, why)) => why,
        })
    }
}

/// Limits that span parameters: a `secure filter` line holds at most the model's number of
/// filters; a static NAT range does not run past 255.255.255.255.
fn extra_checks(words: &[&str], model: &Model) -> Result<(), String> {
    if let Some(at) = words.windows(2).position(|w| w == ["secure", "filter"]) {
        let count = words[at + 3..].iter().filter(|w| number(w).is_some()).count();
        if count > model.lists {
            return Err(format!("{count} filters in one list; the {} takes {}", model.name, model.lists));
        }
    }
    if let ["nat", "descriptor", "static", _, _, map, rest @ ..] = words {
        let count = rest.first().and_then(|c| number(c)).unwrap_or(1);
        let highest = map.split('=').filter_map(ipv4).map(|a| u64::from(u32::from(a))).max().unwrap_or(0);
        if highest + count - 1 > u64::from(u32::MAX) {
            return Err("the static NAT range runs past 255.255.255.255".into());
        }
    }
    Ok(())
}

/// Matches tokens against all the words; `Err` holds how many words matched and why not.
fn matches(tokens: &[Token], words: &[&str], model: &Model) -> Result<(), (usize, String)> {
    fn go(tokens: &[Token], words: &[&str], at: usize, model: &Model) -> Result<(), (usize, String)> {
        let Some((token, rest)) = tokens.split_first() else {
            return match words.get(at) {
                None => Ok(()),
                Some(w) => Err((at, format!("`{w}` and what follows are more than the command takes"))),
            };
        };
        let word = words.get(at);
        match token {
            Token::Keyword(k) => match word {
                Some(w) if w == k => go(rest, words, at + 1, model),
                Some(w) => Err((at, format!("`{w}` where `{k}` belongs"))),
                None => Err((at, format!("`{k}` is missing"))),
            },
            Token::One(ty) => match word {
                Some(w) => ty.check(w, model).map_err(|e| (at + 1, e)).and_then(|()| go(rest, words, at + 1, model)),
                None => Err((at, format!("a parameter ({}) is missing", ty.text))),
            },
            Token::Many(ty) => {
                let Some(w) = word else { return Err((at, format!("a parameter ({}) is missing", ty.text))) };
                ty.check(w, model).map_err(|e| (at + 1, e))?;
                // Take as many as match, then give back until the rest matches.
                let mut end = at + 1;
                while words.get(end).is_some_and(|w| ty.check(w, model).is_ok()) {
                    end += 1;
                }
                let mut deepest = None;
                for stop in (at + 1..=end).rev() {
                    match go(rest, words, stop, model) {
                        Ok(()) => return Ok(()),
                        Err(e) => {
                            if deepest.as_ref().is_none_or(|(d, _)| e.0 > *d) {
                                deepest = Some(e);
                            }
                        }
                    }
                }
                Err(deepest.expect("one try at least"))
            }
            Token::Optional(inner) => {
                let with: Vec<Token> = inner.iter().chain(rest).cloned().collect();
                match go(&with, words, at, model) {
                    Ok(()) => Ok(()),
                    Err(a) => go(rest, words, at, model).map_err(|b| if a.0 >= b.0 { a } else { b }),
                }
            }
        }
    }
    go(tokens, words, 0, model)
}

/// Splits a command line at spaces that are not escaped with `\`; words keep their escapes.
fn split(line: &str) -> Result<Vec<&str>, String> {
    let mut words = Vec::new();
    let (mut start, mut escaped) = (None, false);
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => {
                escaped = true;
                start.get_or_insert(i);
            }
            ' ' | '\t' => {
                if let Some(s) = start.take() {
                    words.push(&line[s..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if escaped {
        return Err("the line ends in a backslash".into());
    }
    if let Some(s) = start {
        words.push(&line[s..]);
    }
    Ok(words)
}

fn port(s: &str) -> bool {
    number(s).is_some_and(|p| (1..=65535).contains(&p))
}

/// `a.b.c.d-e.f.g.h`, low to high.
fn range(s: &str) -> bool {
    s.split_once('-').and_then(|(a, b)| Some(u32::from(ipv4(a)?) <= u32::from(ipv4(b)?))).unwrap_or(false)
}

/// An interface the `ip <interface> …` commands name, as the model has it: lanN, lanN.M
/// and vlanN (port-based division), wanN, bridgeN, loopback1..loopback9.
fn interface(s: &str, model: &Model) -> bool {
    let n = |p: &str| s.strip_prefix(p).and_then(number).is_some_and(|n| n >= 1);
    if let Some(rest) = s.strip_prefix("lan")
        && let Some((a, b)) = rest.split_once('.')
    {
        return model.has("lan-division") && number(a).is_some_and(|n| n >= 1) && number(b).is_some_and(|n| n >= 1);
    }
    n("lan")
        || n("bridge")
        || (n("vlan") && model.has("lan-division"))
        || (n("wan") && model.has("wan"))
        || s.strip_prefix("loopback").and_then(number).is_some_and(|n| (1..=9).contains(&n))
}

/// A filter address: `*`, or a comma list of `a.b.c.d` (octets may be `*`), a network
/// `a.b.c.d/len` (host bits zero) or a range `a-b`.
fn filter_address(s: &str) -> bool {
    s == "*"
        || s.split(',').all(|item| {
            let octets = || {
                item.split('.').count() == 4 && item.split('.').all(|o| o == "*" || number(o).is_some_and(|n| n <= 255))
            };
            with_length(item).is_some_and(|(a, l)| host_bits(a, l) == 0)
                || range(item)
                || (!item.contains('/') && octets())
        })
}

/// Filter protocols: `*`, or a comma list of mnemonics and numbers 0..255.
fn filter_protocol(s: &str) -> bool {
    const NAMES: &[&str] = &["icmp", "tcp", "udp", "ipv6", "gre", "esp", "ah", "icmp6"];
    s == "*" || s.split(',').all(|p| NAMES.contains(&p) || number(p).is_some_and(|n| n <= 255))
}

/// Filter ports: `*`, or a comma list of at most 10 of `N`, `a-b`, `-a`, `a-` (numbers:
/// natc never writes the mnemonics).
fn filter_ports(s: &str) -> bool {
    let item = |p: &str| match p.split_once('-') {
        Some(("", b)) => port(b),
        Some((a, "")) => port(a),
        Some((a, b)) => port(a) && port(b) && number(a) <= number(b),
        None => port(p),
    };
    s == "*" || (s.split(',').count() <= 10 && s.split(',').all(item))
}

/// `ipsec ike pre-shared-key G text KEY`: ASCII, at most 128 characters once unescaped, with
/// `#`, `?`, `|`, `>`, `'`, `"`, `\` and spaces escaped by `\`.
fn psk_text(s: &str) -> bool {
    let mut chars = s.chars();
    let mut length = 0;
    while let Some(c) = chars.next() {
        let c = match c {
            '\\' => match chars.next() {
                Some(e) => e,
                None => return false,
            },
            '#' | '?' | '|' | '>' | '\'' | '"' => return false,
            c => c,
        };
        if !c.is_ascii() || c.is_ascii_control() {
            return false;
        }
        length += 1;
    }
    (1..=128).contains(&length)
}

/// The named parameter types: `Some(accepted)`, or `None` for an unknown name.
fn named(name: &str, v: &str, model: &Model) -> Option<bool> {
    Some(match name {
        "interface" => interface(v, model),
        "ipv4-address" => ipv4(v).is_some(),
        // `ip <if> address`: an address with its prefix length.
        "ipv4-interface-address" => with_length(v).is_some_and(|(_, l)| l >= 1),
        // `ip route`: `default`, a network `a.b.c.d/len` or a host.
        "route-destination" => {
            v == "default" || with_length(v).is_some_and(|(a, l)| host_bits(a, l) == 0) || ipv4(v).is_some()
        }
        "descriptor-id" => number(v).is_some_and(|n| (1..=2_147_483_647).contains(&n)),
        "filter-number" => number(v).is_some_and(|n| (1..=21_474_836).contains(&n)),
        "tunnel-number" | "gateway-id" => number(v).is_some_and(|n| (1..=model.tunnels).contains(&n)),
        "address-or-range" => ipv4(v).is_some() || range(v),
        // `OUTER=INNER`: the first addresses of two blocks.
        "static-map" => v.split_once('=').is_some_and(|(a, b)| ipv4(a).is_some() && ipv4(b).is_some()),
        // `PORT` or `OUTER=INNER`.
        "port-map" => match v.split_once('=') {
            Some((a, b)) => port(a) && port(b),
            None => port(v),
        },
        "filter-action" => {
            ["pass", "reject", "restrict"].iter().any(|a| [*a, &format!("{a}-log"), &format!("{a}-nolog")].contains(&v))
        }
        "filter-address" => filter_address(v),
        "filter-protocol" => filter_protocol(v),
        "filter-ports" => filter_ports(v),
        "ipsec-encryption" => ["3des-cbc", "des-cbc", "aes-cbc", "aes256-cbc"].contains(&v),
        "dh-group" => ["modp768", "modp1024", "modp1536", "modp2048"].contains(&v),
        "psk-text" => psk_text(v),
        // `ipsec ike local name` / `remote name`: at most 256 characters, none the command
        // line would take for a separator or comment.
        "ike-name" => {
            (1..=256).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic() && !b"#?|>'\"\\".contains(&b))
        }
        _ => return None,
    })
}
