//! The VyOS change script: the `delete` and `set` lines that take a router configured
//! with one `commands.vyos` to the configuration of another (docs/diff.md).
//!
//! Both files are read as trees of path words (`set nat destination rule 5 protocol 'tcp'`
//! is the leaf `nat → destination → rule → 5 → protocol` with the value `'tcp'`; natc
//! quotes every value and never a path word). Then:
//!
//! 1. `delete` what is gone, in reverse order of the old file (natc writes what is referred
//!    to before what refers to it, so the reverse deletes referrers first): a whole subtree
//!    where natc owns it and nothing of it is left (`delete nat destination rule 5`), else
//!    leaf by leaf, and one value at a time on a multi-valued leaf (`delete … address 'A'`);
//! 2. `set` what is new or changed, in the order of the new file: a changed single-valued
//!    leaf is replaced by its `set`, a multi-valued leaf gets the new value added;
//! 3. `delete` what others refer to (interfaces and their addresses, IKE and ESP groups),
//!    after the `set` lines that moved the references away from it.
//!
//! VyOS checks a configuration only at `commit`, so the three steps are one commit; the
//! order keeps every reference resolvable at every line anyway, so the script reads as
//! what it does and survives a `commit` typed too early.

use rustc_hash::FxHashMap as HashMap;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// Leaves that hold several values (`<multi/>` in VyOS's schema), among those natc writes;
/// `*` stands for one tag value. tests/change.rs holds this list to both schemas.
const MULTI: &[&str] = &[
    "interfaces * * address",
    "interfaces * * vif * address",
    "firewall ipv4 * filter rule * state",
    "vpn ipsec interface",
    "vpn ipsec authentication psk * id",
    "vpn ipsec site-to-site peer * remote-address",
    "vpn ipsec site-to-site peer * tunnel * local prefix",
    "vpn ipsec site-to-site peer * tunnel * remote prefix",
];

/// Subtrees natc writes whole: when nothing under one is left, one `delete` removes it.
/// Above them (`nat destination`, a firewall chain, `interfaces ethernet eth0`) live the
/// operator's own rules and settings, so natc deletes only its own leaves there.
/// `protocols bgp` and `vpn ipsec` are instances natc sets up (`system-as`, the IKE
/// interfaces): VyOS refuses to commit an empty BGP instance, so it goes as a whole.
const OWNED: &[&str] = &[
    "nat destination rule *",
    "nat source rule *",
    "firewall ipv4 * filter rule *",
    "interfaces vti *",
    "interfaces * * vif *",
    "protocols static route *",
    "protocols bgp",
    "protocols bgp neighbor *",
    "vpn ipsec",
    "vpn ipsec site-to-site peer *",
    "vpn ipsec authentication psk *",
    "vpn ipsec ike-group *",
    "vpn ipsec esp-group *",
];

/// Where the definitions other lines refer to live: deleted in the last step.
const REFERRED_TO: &[&str] = &["interfaces", "vpn ipsec ike-group", "vpn ipsec esp-group"];

/// A pattern's words, `*` standing for any one word.
type Pattern = Vec<&'static str>;

fn split_patterns(patterns: &[&'static str]) -> Vec<Pattern> {
    patterns.iter().map(|p| p.split(' ').collect()).collect()
}

/// `MULTI` and `OWNED` as words, split once: [`owned`] is asked about every prefix of every
/// line of two 100k-rule files.
static MULTI_WORDS: LazyLock<Vec<Pattern>> = LazyLock::new(|| split_patterns(MULTI));
static OWNED_WORDS: LazyLock<Vec<Pattern>> = LazyLock::new(|| split_patterns(OWNED));

fn matches(pattern: &[&str], path: &[&str]) -> bool {
    pattern.len() == path.len() && pattern.iter().zip(path).all(|(p, w)| *p == "*" || p == w)
}

/// Whether VyOS keeps several values on the leaf at `path` (tag values included).
pub fn is_multi(path: &[&str]) -> bool {
    MULTI_WORDS.iter().any(|p| matches(p, path))
}

fn owned(path: &[&str]) -> bool {
    OWNED_WORDS.iter().any(|p| matches(p, path))
}

fn referred_to(path: &[&str]) -> bool {
    REFERRED_TO
        .iter()
        .any(|p| p.bytes().filter(|b| *b == b' ').count() < path.len() && p.split(' ').zip(path).all(|(a, b)| a == *b))
}

/// One `set` line: the line as written, its path words and its value as written (quoted).
struct SetLine<'a> {
    text: &'a str,
    path: Vec<&'a str>,
    value: Option<&'a str>,
}

#[cfg(test)]
fn parse(text: &str) -> Vec<SetLine<'_>> {
    text.lines().filter_map(parse_line).collect()
}

/// A line's text (trimmed), its path words and its value, if it is a `set` line with a path.
fn split_line(line: &str) -> Option<(&str, impl Iterator<Item = &str>, Option<&str>)> {
    let line = line.trim_end();
    let rest = line.strip_prefix("set ")?;
    let (path, value) = match rest.find(" '") {
        Some(i) => (rest.get(..i)?, rest.get(i + 1..)),
        None => (rest, None),
    };
    Some((line, path.split(' ').filter(|w| !w.is_empty()), value))
}

fn parse_line(line: &str) -> Option<SetLine<'_>> {
    let (text, path, value) = split_line(line)?;
    let path: Vec<&str> = path.collect();
    (!path.is_empty()).then_some(SetLine { text, path, value })
}

/// The most words an `OWNED` pattern has: a unit is a prefix of at most this many words.
const UNIT_WORDS: usize = 6;

/// What a line is to [`relevant_lines`], found without allocating: not a `set` line, a
/// `set` line outside every unit, or one inside the unit with these path words.
enum Kind<'a> {
    NotSet,
    Free,
    In([&'a str; UNIT_WORDS], usize),
}

fn kind(line: &str) -> Kind<'_> {
    let Some((_, path, _)) = split_line(line) else { return Kind::NotSet };
    let mut words = [""; UNIT_WORDS];
    let mut n = 0;
    for w in path.take(UNIT_WORDS) {
        words[n] = w;
        n += 1;
    }
    if n == 0 {
        return Kind::NotSet;
    }
    match unit(&words[..n]) {
        Some(u) => Kind::In(words, u.len()),
        None => Kind::Free,
    }
}

#[derive(Default)]
struct Node<'a> {
    children: BTreeMap<&'a str, Node<'a>>,
    /// The values as written, each with the number of its line.
    values: Vec<(&'a str, usize)>,
    /// The first line at or below this node.
    first: usize,
}

fn tree<'a>(lines: &[SetLine<'a>]) -> Node<'a> {
    let mut root = Node::default();
    for (i, line) in lines.iter().enumerate() {
        let mut node = &mut root;
        for word in &line.path {
            node = node.children.entry(word).or_insert_with(|| Node { first: i, ..Node::default() });
        }
        if let Some(v) = line.value
            && !node.values.iter().any(|(x, _)| *x == v)
        {
            node.values.push((v, i));
        }
    }
    root
}

fn find<'t, 'a>(root: &'t Node<'a>, path: &[&str]) -> Option<&'t Node<'a>> {
    path.iter().try_fold(root, |node, word| node.children.get(*word))
}

/// A `delete` line, where its node sits in the old file, and whether others refer to it.
struct Delete {
    text: String,
    line: usize,
    referred_to: bool,
}

fn delete(path: &[&str], value: Option<&str>, line: usize) -> Delete {
    let text = match value {
        Some(v) => format!("delete {} {v}", path.join(" ")),
        None => format!("delete {}", path.join(" ")),
    };
    Delete { text, line, referred_to: referred_to(path) }
}

/// Everything under `old` that `new` does not have.
fn deletes<'a>(old: &Node<'a>, new: Option<&Node<'a>>, path: &mut Vec<&'a str>, out: &mut Vec<Delete>) {
    let multi = is_multi(path) || old.values.len() > 1 || new.is_some_and(|n| n.values.len() > 1);
    match new {
        None if path.is_empty() => {}
        // Gone: natc's whole subtree, a bare node (a tag entry such as `next-hop X`, a
        // valueless leaf) or a single-valued leaf goes with one line.
        None if owned(path) || old.children.is_empty() && (old.values.is_empty() || !multi) => {
            out.push(delete(path, None, old.first));
            return;
        }
        // A multi-valued leaf natc does not own whole: only natc's values.
        None => {
            for (v, i) in &old.values {
                out.push(delete(path, Some(v), *i));
            }
        }
        Some(new) => {
            for (v, i) in &old.values {
                // A single-valued leaf that changes is replaced by its `set`.
                if !new.values.iter().any(|(x, _)| x == v) && (multi || new.values.is_empty()) {
                    out.push(delete(path, Some(v), *i));
                }
            }
        }
    }
    for (word, child) in &old.children {
        path.push(word);
        deletes(child, new.and_then(|n| n.children.get(word)), path, out);
        path.pop();
    }
}

/// The change script from one `commands.vyos` to another, with `#` lines naming its
/// steps; empty when the two configure the same.
pub fn change_script(old: &str, new: &str) -> Vec<String> {
    let (old_lines, new_lines) = relevant_lines(old, new);
    let (old_lines, new_lines) = without_equal_units(old_lines, new_lines);
    script(old_lines, new_lines)
}

/// The `set` lines of both files without those of the units no differing line touches.
/// The files' common first and last lines are set aside (two 100k-rule files that differ
/// in one rule differ in a few lines in the middle); a unit none of whose lines is in
/// either middle has the same lines, in the same order, on both sides (its lines in the
/// common head, then those in the common tail), so it is equal and
/// [`without_equal_units`] would leave it out. Only the lines of the units the middles
/// touch, and the lines outside every unit, are parsed into [`SetLine`]s; the rest are
/// scanned without allocating.
fn relevant_lines<'a>(old: &'a str, new: &'a str) -> (Vec<SetLine<'a>>, Vec<SetLine<'a>>) {
    use rustc_hash::FxHashSet;
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..].iter().rev().zip(b[head..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (a_middle, b_middle) = (head..a.len() - tail, head..b.len() - tail);
    let mut touched: FxHashSet<Vec<&str>> = FxHashSet::default();
    for line in a[a_middle.clone()].iter().chain(&b[b_middle.clone()]) {
        if let Kind::In(words, n) = kind(line) {
            touched.insert(words[..n].to_vec());
        }
    }
    let keep = |lines: &[&'a str], middle: std::ops::Range<usize>| -> Vec<SetLine<'a>> {
        lines
            .iter()
            .enumerate()
            .filter(|(i, line)| match kind(line) {
                Kind::NotSet => false,
                Kind::Free => true,
                Kind::In(words, n) => middle.contains(i) || touched.contains(&words[..n]),
            })
            .filter_map(|(_, line)| parse_line(line))
            .collect()
    };
    (keep(&a, a_middle), keep(&b, b_middle))
}

/// The shortest owned prefix of a path (`nat destination rule 5`, `vpn ipsec`): natc's
/// subtrees, disjoint, each written whole.
fn unit<'p, 'a>(path: &'p [&'a str]) -> Option<&'p [&'a str]> {
    (1..=path.len().min(UNIT_WORDS)).map(|n| &path[..n]).find(|p| owned(p))
}

/// Both files without the owned subtrees whose lines are the same on both sides (a 100k-rule
/// file that changes one rule keeps that rule's lines): such a subtree yields no `delete`
/// and no `set`, and the nodes around it still exist wherever another line needs them,
/// so the script is the same, from trees a fraction of the size.
fn without_equal_units<'a>(old: Vec<SetLine<'a>>, new: Vec<SetLine<'a>>) -> (Vec<SetLine<'a>>, Vec<SetLine<'a>>) {
    // Each line's unit is found once (the length of its owned prefix), and the units are
    // keyed by the path words the lines already hold: no key is built twice.
    let units =
        |lines: &[SetLine<'a>]| lines.iter().map(|l| unit(&l.path).map_or(0, <[&str]>::len)).collect::<Vec<_>>();
    let (old_units, new_units) = (units(&old), units(&new));
    /// Each unit's lines as written, keyed by its path words.
    fn group<'l, 'a>(lines: &'l [SetLine<'a>], units: &[usize]) -> HashMap<&'l [&'a str], Vec<&'a str>> {
        let mut groups: HashMap<&[&str], Vec<&str>> =
            HashMap::with_capacity_and_hasher(lines.len() / 4, Default::default());
        for (l, n) in lines.iter().zip(units).filter(|(_, n)| **n > 0) {
            groups.entry(&l.path[..*n]).or_default().push(l.text);
        }
        groups
    }
    let equal: Vec<Vec<bool>> = {
        let (before, after) = (group(&old, &old_units), group(&new, &new_units));
        let marks = |lines: &[SetLine<'a>], units: &[usize]| {
            lines
                .iter()
                .zip(units)
                .map(|(l, n)| {
                    let key = &l.path[..*n];
                    *n > 0 && before.get(key).is_some_and(|b| after.get(key) == Some(b))
                })
                .collect()
        };
        vec![marks(&old, &old_units), marks(&new, &new_units)]
    };
    let keep = |lines: Vec<SetLine<'a>>, equal: &[bool]| {
        lines.into_iter().zip(equal).filter(|(_, e)| !**e).map(|(l, _)| l).collect::<Vec<_>>()
    };
    (keep(old, &equal[0]), keep(new, &equal[1]))
}

fn script(old_lines: Vec<SetLine<'_>>, new_lines: Vec<SetLine<'_>>) -> Vec<String> {
    let (old_tree, new_tree) = (tree(&old_lines), tree(&new_lines));

    let mut gone = Vec::new();
    deletes(&old_tree, Some(&new_tree), &mut Vec::new(), &mut gone);
    gone.sort_by(|a, b| b.line.cmp(&a.line).then_with(|| a.text.cmp(&b.text)));
    let (last, first): (Vec<Delete>, Vec<Delete>) = gone.into_iter().partition(|d| d.referred_to);

    let mut seen = BTreeSet::new();
    let sets: Vec<&str> = new_lines
        .iter()
        .filter(|l| match (find(&old_tree, &l.path), l.value) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(node), Some(v)) => !node.values.iter().any(|(x, _)| *x == v),
        })
        .map(|l| l.text)
        .filter(|t| seen.insert(*t))
        .collect();

    let mut script = Vec::new();
    let mut step = |title: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            script.push(format!("# {title}"));
            script.extend(lines);
        }
    };
    step(
        "1. delete what is gone (what refers to something before what it refers to)",
        first.into_iter().map(|d| d.text).collect(),
    );
    step("2. set what is new or changed (what is referred to first)", sets.into_iter().map(str::to_string).collect());
    step(
        "3. delete interfaces, addresses and IKE/ESP groups nothing refers to any more",
        last.into_iter().map(|d| d.text).collect(),
    );
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(script: &[String]) -> Vec<&str> {
        script.iter().map(String::as_str).filter(|l| !l.starts_with('#')).collect()
    }

    const BASE: &str = "\
# header
set interfaces ethernet eth0 address '192.0.2.1/24'
set interfaces ethernet eth0 description 'wan'
set nat destination rule 1234 description 'gw dnat/web'
set nat destination rule 1234 destination port '80'
set nat destination rule 1234 protocol 'tcp'
set nat destination rule 1234 translation address '10.0.0.1'
set protocols static route 0.0.0.0/0 next-hop 192.0.2.254
";

    #[test]
    fn the_same_configuration_needs_no_script() {
        assert!(change_script(BASE, BASE).is_empty());
        assert!(change_script(BASE, &BASE.replace("# header", "# another header")).is_empty());
    }

    #[test]
    fn a_changed_single_valued_leaf_is_one_set() {
        let new = BASE.replace("port '80'", "port '8080'");
        assert_eq!(commands(&change_script(BASE, &new)), ["set nat destination rule 1234 destination port '8080'"]);
    }

    #[test]
    fn a_rule_gone_whole_is_one_delete_and_a_new_rule_is_all_its_lines() {
        let new = BASE.replace("rule 1234", "rule 5678");
        let script = change_script(BASE, &new);
        let lines = commands(&script);
        assert_eq!(lines[0], "delete nat destination rule 1234");
        assert_eq!(lines.len(), 5, "{script:#?}");
        assert!(lines[1..].iter().all(|l| l.starts_with("set nat destination rule 5678 ")), "{script:#?}");
    }

    #[test]
    fn a_multi_valued_leaf_loses_one_value_after_the_new_one_is_set() {
        let new = BASE.replace("address '192.0.2.1/24'", "address '192.0.2.2/24'");
        assert_eq!(
            commands(&change_script(BASE, &new)),
            [
                "set interfaces ethernet eth0 address '192.0.2.2/24'",
                "delete interfaces ethernet eth0 address '192.0.2.1/24'"
            ]
        );
    }

    #[test]
    fn an_interface_natc_does_not_own_loses_only_natcs_leaves() {
        let new = BASE
            .replace("set interfaces ethernet eth0 address '192.0.2.1/24'\n", "")
            .replace("set interfaces ethernet eth0 description 'wan'\n", "");
        assert_eq!(
            commands(&change_script(BASE, &new)),
            ["delete interfaces ethernet eth0 description", "delete interfaces ethernet eth0 address '192.0.2.1/24'"]
        );
    }

    #[test]
    fn a_changed_next_hop_is_a_tag_entry_deleted_and_one_set() {
        let new = BASE.replace("next-hop 192.0.2.254", "next-hop 192.0.2.253");
        assert_eq!(
            commands(&change_script(BASE, &new)),
            [
                "delete protocols static route 0.0.0.0/0 next-hop 192.0.2.254",
                "set protocols static route 0.0.0.0/0 next-hop 192.0.2.253"
            ]
        );
    }

    #[test]
    fn deletes_run_backwards_through_the_old_file_and_groups_go_last() {
        let old = "\
set vpn ipsec esp-group t esp 'x'
set vpn ipsec ike-group t key-exchange 'ikev2'
set vpn ipsec site-to-site peer t ike-group 't'
set vpn ipsec interface 'eth0'
set protocols bgp system-as '65000'
";
        let new = "set vpn ipsec interface 'eth0'\n";
        assert_eq!(
            commands(&change_script(old, new)),
            [
                "delete protocols bgp",
                "delete vpn ipsec site-to-site peer t",
                "delete vpn ipsec ike-group t",
                "delete vpn ipsec esp-group t"
            ]
        );
    }

    /// Lines of `set` paths natc writes, in a fixed pseudo-random mix: rules that stay,
    /// change, go or come, multi-valued leaves, nested owned subtrees.
    fn mixed(seed: u64) -> String {
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut next = |m: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        let mut text = String::new();
        for _ in 0..40 {
            let line = match next(6) {
                0 => format!("set nat destination rule {} translation address '10.0.0.{}'", 1000 + next(8), next(3)),
                1 => format!("set nat destination rule {} description 'r{}'", 1000 + next(8), next(2)),
                2 => format!("set interfaces ethernet eth{} address '192.0.2.{}/24'", next(2), next(3)),
                3 => format!("set vpn ipsec site-to-site peer p{} remote-address '198.51.100.{}'", next(2), next(3)),
                4 => format!("set vpn ipsec esp-group g{} proposal 1 encryption 'aes{}'", next(2), 128 * (1 + next(2))),
                _ => format!("set protocols static route 10.{}.0.0/16 next-hop 192.0.2.{}", next(3), next(3)),
            };
            text.push_str(&line);
            text.push('\n');
        }
        text
    }

    #[test]
    fn leaving_out_equal_subtrees_gives_the_script_of_the_whole_files() {
        for seed in 0..400 {
            let (a, b) = (mixed(seed), mixed(seed / 3 * 7 + 1));
            // b shares a's first lines, so that many units are equal on both sides.
            let b = format!("{}\n{b}", a.lines().take(25).collect::<Vec<_>>().join("\n"));
            // c shares a's first and last lines: the common head and tail are set aside,
            // and units with lines in both and in the middle are compared whole.
            let c = format!(
                "{}\n{}{}\n",
                a.lines().take(12).collect::<Vec<_>>().join("\n"),
                mixed(seed + 7).lines().take(3 + seed as usize % 5).map(|l| format!("{l}\n")).collect::<String>(),
                a.lines().skip(12 + seed as usize % 7).collect::<Vec<_>>().join("\n")
            );
            for (old, new) in [(&a, &b), (&b, &a), (&a, &c), (&c, &a), (&a, &a)] {
                let whole = script(parse(old), parse(new));
                assert_eq!(change_script(old, new), whole, "seed {seed}\n{old}\n---\n{new}");
            }
        }
    }

    /// Setting aside the common head and tail gives the script of the whole files for an
    /// insert or a delete at the start, in the middle and at the end, a changed line next
    /// to either edge, and lines of one unit on both sides of the change.
    #[test]
    fn head_and_tail_set_aside_give_the_whole_files_script() {
        let base: Vec<String> = (0..12)
            .flat_map(|r| {
                [
                    format!("set nat destination rule {r} description 'r{r}'"),
                    format!("set nat destination rule {r} translation address '10.0.0.{r}'"),
                ]
            })
            .collect();
        let text = |lines: &[String]| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        let extra = "set nat destination rule 99 translation address '10.9.9.9'".to_string();
        let moved = "set nat destination rule 3 translation address '10.0.0.33'".to_string();
        let mut edits: Vec<Vec<String>> = Vec::new();
        for at in [0, 1, 11, 12, base.len() - 1, base.len()] {
            let mut inserted = base.clone();
            inserted.insert(at, extra.clone());
            edits.push(inserted);
            let mut changed = base.clone();
            changed.insert(at, moved.clone());
            edits.push(changed);
            if at < base.len() {
                let mut deleted = base.clone();
                deleted.remove(at);
                edits.push(deleted);
            }
        }
        // Rule 3's lines sit in the head and, after the edit, in the middle too.
        let mut split = base.clone();
        split[20] = moved.clone();
        edits.push(split);
        let old = text(&base);
        for edit in &edits {
            let new = text(edit);
            for (a, b) in [(&old, &new), (&new, &old)] {
                assert_eq!(change_script(a, b), script(parse(a), parse(b)), "{a}\n---\n{b}");
            }
        }
        assert!(change_script(&old, &old).is_empty());
    }

    #[test]
    fn a_unit_has_at_most_unit_words_words() {
        assert!(OWNED_WORDS.iter().all(|p| p.len() <= UNIT_WORDS));
        assert!(OWNED_WORDS.iter().any(|p| p.len() == UNIT_WORDS), "UNIT_WORDS is the longest pattern's length");
    }

    #[test]
    fn odd_input_does_not_panic() {
        for text in
            ["", "set", "set ", "set '", "set a '", "set  a  b 'c'", "delete x", "set a b 'c' 'd'", "\u{feff}set ä 'ö'"]
        {
            let _ = change_script(text, BASE);
            let _ = change_script(BASE, text);
            let _ = change_script(text, text);
        }
    }
}
