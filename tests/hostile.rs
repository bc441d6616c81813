//! The hostile-string corpus (tests/hostile/corpus.rs) in every string field that reaches
//! an output, for every target and packaging. Each value is either refused with a located
//! error, or the device's own reader takes the output and reads back exactly the value:
//! - names: refused unless `[a-z0-9][a-z0-9-]{0,39}` (N006), each at its own line;
//! - descriptions: refused (N122, N301 or N305 for the target, at the description) or they
//!   change nothing but `#` comment lines and the rule comments they belong in (after the
//!   origin: `gw dnat/web: VALUE`): the VyOS `description` leaves, which bash (vbash's
//!   reader) reads back as exactly the value, and the nft and xt_comment comments, which the
//!   kernel lists back exactly (nft loaded and listed as JSON, iptables-restore then
//!   iptables-save, inside `unshare --net`); the files pass `bash -n`, vyos-check and
//!   rtx-check, and the cloud-init and Ansible YAML loads in PyYAML (and Ansible's Jinja
//!   renders back the target's text);
//! - psk references: refused (N116) or bash and the RTX escape rules read the placeholder
//!   back exactly;
//! - `[[expect]]` names: `natc trace` prints each as one escaped line.
//!
//! Everything is batched: one reader process per language, not per value.

mod common;
#[path = "hostile/corpus.rs"]
mod corpus;

use corpus::{corpus, toml_string};
use natc::backend::TargetSpec;
use natc::diag::{Diagnostic, Location};
use natc::package::Packaging;
use natc::{Artifact, BuildOptions, Error};
use std::io::Write;
use std::process::{Command, Stdio};

const BENIGN: &str = "benign";

fn line_of(text: &str, d: &Diagnostic) -> usize {
    d.primary_span().map_or(0, |s| Location::of(text, s.start).line)
}

fn build(text: &str, target: &str) -> Result<(natc::Compiled, Vec<Artifact>), Vec<Diagnostic>> {
    let compiled = natc::compile(text)?;
    let spec: TargetSpec = target.parse().expect("valid target");
    match natc::build(&compiled, &BuildOptions { targets: vec![spec], ..Default::default() }) {
        Ok(a) => Ok((compiled, a)),
        Err(Error::Invalid(d)) => Err(d),
        Err(other) => panic!("not a located error: {other}"),
    }
}

/// Run `program args…` with `input` on stdin: (success, stdout and stderr).
fn run(program: &str, args: &[&str], input: &str) -> (bool, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    let out = child.wait_with_output().expect("finishes");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn is_name(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 40
        && !v.starts_with('-')
        && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[test]
fn hostile_names_are_refused_where_they_stand() {
    let values = corpus();
    let mut text =
        String::from("natc = 1\nname = \"names\"\n\n[[gateway]]\nname = \"gw\"\ntargets = [\"nftables\"]\n\n");
    text.push_str("[[gateway.interface]]\nname = \"eth0\"\naddress = \"192.168.0.1/24\"\n");
    let mut lines = Vec::new();
    for (i, v) in values.iter().enumerate() {
        text.push_str("\n[[gateway.dnat]]\n");
        lines.push(text.lines().count() + 1);
        text.push_str(&format!(
            "name = {}\ndestination = \"10.0.{}.{}\"\nto = \"192.168.0.2\"\n",
            toml_string(v),
            i / 200,
            i % 200 + 1
        ));
    }
    // The same values as gateway names (a gateway name is also `-g NAME` and `DIR/NAME`).
    for (i, v) in values.iter().enumerate() {
        text.push_str("\n[[gateway]]\n");
        lines.push(text.lines().count() + 1);
        text.push_str(&format!(
            "name = {}\n\n[[gateway.interface]]\nname = \"eth0\"\naddress = \"10.1.{}.1/24\"\n",
            toml_string(v),
            i % 250
        ));
    }
    let values: Vec<&String> = values.iter().chain(&values).collect();
    let errors = natc::compile(&text).expect_err("hostile names are refused");
    for (v, line) in values.iter().zip(&lines) {
        let here: Vec<&Diagnostic> = errors.iter().filter(|d| line_of(&text, d) == *line).collect();
        if is_name(v) {
            assert!(here.is_empty(), "{v:?} is a valid name but got {here:?}");
        } else {
            assert!(here.iter().any(|d| d.code.0 == "N006"), "{v:?} (line {line}) is not refused with N006: {here:?}");
        }
    }
    assert!(errors.iter().all(|d| d.code.0 == "N006"), "only N006: {errors:?}");
}

/// An intent whose every description is `desc`; `target` decides interface names.
fn described(n: usize, desc: &str, target: &str, tunnel: bool) -> String {
    let d = toml_string(desc);
    let (inner, outer) = match target {
        "rtx" => ("lan1".to_string(), "lan2"),
        // VyOS configurations are checked in one load: each value gets its own interface.
        "vyos" => (format!("eth{}", n + 2), "eth1"),
        _ => ("eth0".to_string(), "eth1"),
    };
    // VyOS: and its own rules and peer, whose descriptions hold the value.
    let (web, masq, cloud, vti, inside) = match target {
        "vyos" => (format!("web-{n}"), format!("masq-{n}"), format!("cloud-{n}"), format!("vti{n}"), n),
        "rtx" => ("web".into(), "masq".into(), "cloud".into(), "tunnel1".into(), 10),
        _ => ("web".into(), "masq".into(), "cloud".into(), "vti0".into(), 10),
    };
    let mut text = format!(
        "natc = 1\nname = \"h{n}\"\ndescription = {d}\n\n[[gateway]]\nname = \"gw\"\ndescription = {d}\n\n\
         [[gateway.interface]]\nname = \"{inner}\"\naddress = \"192.168.0.1/24\"\ndescription = {d}\n\n\
         [[gateway.interface]]\nname = \"{outer}\"\naddress = \"198.51.100.2/29\"\n\n\
         [[gateway.dnat]]\nname = \"{web}\"\ndestination = \"198.51.100.2\"\nin_interface = \"{outer}\"\nprotocol = \"tcp\"\nport = 80\nto = \"192.168.0.10\"\ndescription = {d}\n\n\
         [[gateway.snat]]\nname = \"{masq}\"\nsource = \"192.168.0.0/24\"\nout_interface = \"{outer}\"\nto = \"masquerade\"\ndescription = {d}\n"
    );
    if tunnel {
        text.push_str(&format!(
            "\n[[gateway.tunnel]]\nname = \"{cloud}\"\ndescription = {d}\nremote = \"203.0.113.10\"\nlocal_address = \"198.51.100.2\"\n\
             psk = {{ env = \"CLOUD_PSK\" }}\nvti = {{ name = \"{vti}\", address = \"169.254.{inside}.2/30\" }}\n"
        ));
    }
    text
}

/// The lines of a file that are not `#` comments, split the way the widest reader splits
/// lines (Python's `splitlines`: also VT, FF, FS/GS/RS, NEL, U+2028, U+2029), so text that
/// one reader takes for a line break cannot end a comment unnoticed.
fn without_comments(text: &str) -> Vec<&str> {
    let breaks = ['\n', '\r', '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}', '\u{2029}'];
    text.split(breaks).filter(|l| !l.is_empty() && !l.trim_start().starts_with('#')).collect()
}

fn files(artifacts: &[Artifact]) -> Vec<(String, String)> {
    artifacts.iter().flat_map(|a| a.files.iter().map(|f| (f.name.clone(), f.contents.clone()))).collect()
}

/// Every argument vector bash reads from VyOS `set` lines (vbash is bash), one per line.
fn vbash_words(script: &str) -> Vec<Vec<String>> {
    let body: String = script
        .lines()
        .filter(|l| l.starts_with("set ") || l.starts_with("delete "))
        .map(|l| format!("words {l}\n"))
        .collect();
    let program = format!("words() {{ printf '%s\\037' \"$@\"; printf '\\036'; }}\n{body}");
    let (ok, out) = run("bash", &["-c", &program], "");
    assert!(ok, "bash reads the VyOS lines: {out}");
    out.split('\u{1e}')
        .filter(|c| !c.is_empty())
        .map(|c| c.split_terminator('\u{1f}').map(String::from).collect())
        .collect()
}

/// What the built outputs are checked with, once per language, after every value is built.
#[derive(Default)]
struct Batch {
    nft: String,
    iptables: Vec<String>,
    shell: Vec<String>,
    vyos: String,
    rtx: Vec<String>,
    /// (target, value): the nftables and iptables builds whose rule comments must list
    /// back as `gw dnat/web: VALUE` and `gw snat/masq: VALUE`.
    described: Vec<(&'static str, String)>,
    /// JSON items for the YAML/Jinja reader (see `YAML_READER`).
    yaml: Vec<serde_json::Value>,
}

#[test]
fn hostile_descriptions_are_refused_or_read_back_exactly() {
    let values = corpus();
    let mut batch = Batch::default();
    let mut refused = 0;
    for (n, v) in values.iter().enumerate() {
        for target in ["nftables", "iptables", "firewalld", "vyos", "rtx", "strongswan"] {
            let tunnel = matches!(target, "vyos" | "rtx" | "strongswan");
            let text = described(n, v, target, tunnel);
            let hostile = match build(&text, target) {
                Ok(built) => built,
                Err(errors) => {
                    refused += 1;
                    for d in errors.iter().filter(|d| d.severity == natc::diag::Severity::Error) {
                        assert!(matches!(d.code.0, "N122" | "N301" | "N305"), "{v:?} on {target}: {d:?}");
                        let line = text.lines().nth(line_of(&text, d) - 1).unwrap_or_default();
                        assert!(line.starts_with("description = "), "{v:?} on {target}: {d:?} points at {line:?}");
                    }
                    continue;
                }
            };
            let benign = build(&described(n, BENIGN, target, tunnel), target).expect("the benign intent builds");
            let (hostile_files, benign_files) = (files(&hostile.1), files(&benign.1));
            assert_eq!(hostile_files.len(), benign_files.len());
            for ((name, h), (_, b)) in hostile_files.iter().zip(&benign_files) {
                if target == "vyos" && name.ends_with("commands") || name.ends_with(".vyos") {
                    // vbash reads the same commands, the description being exactly the value.
                    let expected: Vec<Vec<String>> = vbash_words(b)
                        .into_iter()
                        .map(|w| w.into_iter().map(|x| with_value(&x, v)).collect())
                        .collect();
                    assert_eq!(vbash_words(h), expected, "{v:?}: {name}");
                } else {
                    let expected = in_rule_comments(b, v, target);
                    assert_eq!(
                        without_comments(h),
                        without_comments(&expected),
                        "{v:?} changed more than comments in {name}"
                    );
                }
                if v.as_str() != "" && matches!(target, "nftables" | "iptables") {
                    batch.described.push((target, v.clone()));
                }
                match (target, name.as_str()) {
                    ("nftables", n) if n.ends_with(".nft") => batch.nft.push_str(h),
                    ("iptables", n) if n.ends_with(".rules") => batch.iptables.push(h.clone()),
                    ("vyos", _) => batch.vyos.push_str(h),
                    ("rtx", _) => batch.rtx.push(h.clone()),
                    (_, n) if n.ends_with(".sh") => batch.shell.push(h.clone()),
                    _ => {}
                }
            }
            let packaging = match target {
                "nftables" => Some(Packaging::CloudInit),
                "iptables" => Some(Packaging::Ansible),
                _ => None,
            };
            if let Some(p) = packaging {
                let h = natc::package::package(&hostile.0, &hostile.1, p).expect("packages");
                let b = natc::package::package(&benign.0, &benign.1, p).expect("packages");
                batch.yaml.push(serde_json::json!({
                    "value": v,
                    "subs": comment_substitutions(v, target),
                    "hostile": h.iter().map(|f| (f.path.display().to_string(), f.contents.clone())).collect::<Vec<_>>(),
                    "benign": b.iter().map(|f| (f.path.display().to_string(), f.contents.clone())).collect::<Vec<_>>(),
                }));
            }
        }
    }
    assert!(refused > 0 && refused < values.len() * 6, "{refused} refusals");
    check_with_readers(&batch);
}

fn check_with_readers(batch: &Batch) {
    // The kernel lists every rule comment back: the descriptions in them are exact.
    let (ok, listed) = run("unshare", &["--net", "sh", "-c", "nft -f - && nft -j list ruleset"], &batch.nft);
    assert!(ok, "nft loads: {listed}");
    let json: serde_json::Value = serde_json::from_str(&listed).expect("nft -j prints JSON");
    let nft: Vec<&str> =
        json["nftables"].as_array().expect("list").iter().filter_map(|o| o["rule"]["comment"].as_str()).collect();
    let mut saved = Vec::new();
    for file in &batch.iptables {
        let (ok, out) = run("unshare", &["--net", "sh", "-c", "iptables-restore && iptables-save"], file);
        assert!(ok, "iptables-restore: {out}\n{}", &file[..file.len().min(2000)]);
        saved.extend(out.lines().flat_map(xt_comments));
    }
    for (target, v) in &batch.described {
        let listed: Vec<&str> =
            if *target == "nftables" { nft.clone() } else { saved.iter().map(String::as_str).collect() };
        for rule in ["gw dnat/web", "gw snat/masq"] {
            let comment = format!("{rule}: {v}");
            assert!(listed.contains(&comment.as_str()), "{target}: the kernel does not list {comment:?}");
        }
    }
    for script in &batch.shell {
        let (ok, out) = run("bash", &["-n"], script);
        assert!(ok, "bash -n: {out}");
    }
    // One load of all configurations: each value describes its own interface (eth<n+2>).
    let (ok, report) = common::vyos_check(&batch.vyos, "1.4");
    assert!(ok, "vyos-check: {report}");
    for config in &batch.rtx {
        common::rtx_check(config, "RTX1210").unwrap_or_else(|e| panic!("rtx-check: {e}"));
    }
    let (ok, out) = run("python3", &["-c", YAML_READER], &serde_json::Value::from(batch.yaml.clone()).to_string());
    assert!(ok, "PyYAML: {out}");
    eprintln!("{out}");
}

/// Loads every YAML file with PyYAML; the hostile and benign packagings must hold the same
/// data once `#` lines inside embedded files are dropped.
const YAML_READER: &str = r##"
import json, sys, yaml
def norm(x, subs=()):
    if isinstance(x, str):
        for b, h in subs:
            x = x.replace(b, h)
        return "\n".join(l for l in x.split("\n") if not l.lstrip().startswith("#"))
    if isinstance(x, list):
        return [norm(i, subs) for i in x]
    if isinstance(x, dict):
        return {k: norm(v, subs) for k, v in x.items()}
    return x
bad, checked = 0, 0
for item in json.load(sys.stdin):
    for (path, h), (_, b) in zip(item["hostile"], item["benign"]):
        if not (path.endswith(".yml") or path.endswith(".yaml") or "cloud" in path):
            continue
        hd, bd = list(yaml.safe_load_all(h)), list(yaml.safe_load_all(b))
        checked += 1
        # The benign rule comments as the hostile build writes them (the kernel checks those).
        if norm(hd) != norm(bd, item["subs"]):
            bad += 1
            print("differs:", repr(item["value"])[:80], path)
print("checked", checked, "YAML files")
sys.exit(1 if bad or checked == 0 else 0)
"##;

/// A word of the benign build as the hostile build writes it: the description itself, or a
/// rule comment ending in it (`gw dnat/web: benign`).
fn with_value(word: &str, v: &str) -> String {
    if word == BENIGN {
        v.to_string()
    } else if let Some(origin) = word.strip_suffix(&format!(": {BENIGN}")) {
        // An empty description adds nothing to the comment.
        if v.is_empty() { origin.to_string() } else { format!("{origin}: {v}") }
    } else {
        word.to_string()
    }
}

/// The benign file with its rule comments holding `v`, quoted as the target quotes a rule
/// comment (checks only that nothing else changed: the kernel checks the value).
fn in_rule_comments(benign: &str, v: &str, target: &str) -> String {
    comment_substitutions(v, target).iter().fold(benign.to_string(), |text, (b, h)| text.replace(b, h))
}

/// (benign, hostile): the end of a rule comment in the benign file and in the hostile one.
fn comment_substitutions(v: &str, target: &str) -> Vec<(String, String)> {
    // The firewalld script carries the nftables target's table too (its nftables backend).
    if target == "firewalld" {
        let mut both = comment_substitutions(v, "firewalld-direct");
        both.extend(comment_substitutions(v, "nftables"));
        return both;
    }
    let (close, quoted) = match target {
        "nftables" => ('"', v.to_string()),
        "iptables" => ('"', v.replace('\\', "\\\\").replace('"', "\\\"")),
        "firewalld-direct" => ('\'', v.replace('\'', "'\\''")),
        _ => return Vec::new(),
    };
    // An empty description adds nothing to the comment.
    let hostile = if v.is_empty() { close.to_string() } else { format!(": {quoted}{close}") };
    vec![(format!(": {BENIGN}{close}"), hostile)]
}

/// The `--comment` values of an iptables-save line, read as iptables-restore reads them:
/// `"…"` with `\` escaping the next character, or a bare word.
fn xt_comments(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("--comment ") {
        rest = &rest[at + "--comment ".len()..];
        let mut value = String::new();
        let mut chars = rest.char_indices();
        if rest.starts_with('"') {
            chars.next();
            while let Some((_, c)) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next().map(|(_, c)| c)),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = rest.split(' ').next().unwrap_or_default().to_string();
        }
        out.push(value);
    }
    out
}

/// One word of an RTX command line as the router reads it (REFERENCE §1): `\x` is `x`, and
/// `"…"` quotes (an empty value is `""`). Returns the words of the line.
fn rtx_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut chars) = (Vec::new(), None::<String>, false, line.chars());
    while let Some(c) = chars.next() {
        match c {
            '\\' => word.get_or_insert_default().extend(chars.next()),
            '"' => {
                quoted = !quoted;
                word.get_or_insert_default();
            }
            ' ' if !quoted => words.extend(word.take()),
            c => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

/// A swanctl.conf value as strongSwan's settings lexer reads it (settings_lexer.l): a `"…"`
/// string where `\n`, `\r`, `\t` are controls and `\x` is `x`; a bare value up to a space
/// or `#`. One word, so it compares like the other readers'.
fn swanctl_value(text: &str) -> Vec<String> {
    let Some(quoted) = text.strip_prefix('"') else {
        return vec![text.split([' ', '#']).next().unwrap_or_default().to_string()];
    };
    let (mut value, mut chars) = (String::new(), quoted.chars());
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                // Anything after the closing quote would be read as more of the value.
                let rest: String = chars.collect();
                return if rest.trim().is_empty() { vec![value] } else { vec![value, rest] };
            }
            '\\' => match chars.next() {
                Some('n') => value.push('\n'),
                Some('r') => value.push('\r'),
                Some('t') => value.push('\t'),
                Some(other) => value.push(other),
                None => break,
            },
            '\r' => {}
            c => value.push(c),
        }
    }
    vec![format!("unterminated: {value}")]
}

#[test]
fn hostile_secret_references_are_refused_or_read_back_exactly() {
    let mut accepted = 0;
    for v in corpus() {
        for (key, kind) in [("env", "env"), ("file", "file")] {
            for target in ["vyos", "rtx", "strongswan"] {
                let text = described(0, BENIGN, target, true)
                    .replace("psk = { env = \"CLOUD_PSK\" }", &format!("psk = {{ {key} = {} }}", toml_string(&v)));
                let placeholder = format!("@@natc-secret:{kind}:{v}@@");
                let (_, artifacts) = match build(&text, target) {
                    Ok(built) => built,
                    Err(errors) => {
                        // N116: not a reference; N301: RTX keys (and so placeholders) are at
                        // most 128 ASCII characters, said at the tunnel.
                        for d in &errors {
                            assert!(matches!(d.code.0, "N116" | "N301"), "{v:?} as {key} on {target}: {d:?}");
                            assert!(line_of(&text, d) > 0, "{v:?}: not located: {d:?}");
                        }
                        let first = text.lines().nth(line_of(&text, &errors[0]) - 1).unwrap_or_default();
                        assert!(
                            errors[0].code.0 != "N116" || first.starts_with("psk = "),
                            "{v:?}: points at {first:?}"
                        );
                        continue;
                    }
                };
                accepted += 1;
                let config = common::primary(&artifacts[0]);
                let read: Vec<Vec<String>> = if target == "vyos" {
                    vbash_words(config).into_iter().filter(|w| w.contains(&"secret".to_string())).collect()
                } else if target == "strongswan" {
                    config.lines().filter_map(|l| l.trim().strip_prefix("secret = ")).map(swanctl_value).collect()
                } else {
                    config.lines().filter(|l| l.contains("pre-shared-key")).map(rtx_words).collect()
                };
                assert_eq!(read.len(), 1, "{v:?} as {key} on {target}: {read:?}");
                assert_eq!(read[0].last(), Some(&placeholder), "{v:?} as {key} on {target}");
            }
        }
    }
    assert!(accepted > 0);
}

/// `natc trace` prints every `[[expect]]` name, whatever it holds, as one escaped line.
#[test]
fn hostile_expectation_names_print_as_one_line_each() {
    let values = corpus();
    let mut text = std::fs::read_to_string(common::root().join("tests/hardening/two-hosts.toml")).expect("fixture");
    for v in &values {
        text.push_str(&format!(
            "\n[[expect]]\nname = {}\nfrom = \"a\"\nto = \"10.0.1.2\"\nprotocol = \"icmp\"\narrives_at = \"b\"\n",
            toml_string(v)
        ));
    }
    // Names must be unique: the corpus is.
    let compiled = natc::compile(&text).unwrap_or_else(|d| panic!("{d:?}"));
    let report = natc::trace::trace(&compiled).unwrap_or_else(|_| panic!("traces")).to_string();
    let marks = report.lines().filter(|l| l.starts_with("PASS ") || l.starts_with("FAIL ")).count();
    assert_eq!(marks, values.len(), "{report}");
    assert!(!report.chars().any(|c| natc::diag::terminal::is_hidden(c) && c != '\n'));
}

/// The longest comments natc writes (40-character gateway and item names, the longest kind
/// and part) load into the kernel and read back unchanged: nft's 128-byte and xt_comment's
/// 255-byte limits hold by construction (backend/limits.rs), checked here with the real
/// readers in a throwaway namespace.
#[test]
fn the_longest_rule_comments_load_and_read_back() {
    common::require_root_and(&["unshare", "nft", "iptables-restore", "iptables-save"]);
    let g = "g".repeat(40);
    let n = |c: char| c.to_string().repeat(40);
    let text = format!(
        "natc = 1\nname = \"{}\"\n\n[[gateway]]\nname = \"{g}\"\n\n[[gateway.interface]]\nname = \"eth0\"\naddress = \"192.168.0.1/24\"\n\n\
         [[gateway.interface]]\nname = \"eth1\"\naddress = \"198.51.100.2/29\"\n\n[gateway.policy]\nforward = \"drop\"\ninput = \"drop\"\n\n\
         [[gateway.dnat]]\nname = \"{}\"\ndestination = \"198.51.100.3\"\nin_interface = \"eth1\"\nto = \"192.168.0.10\"\n\n\
         [[gateway.snat]]\nname = \"{}\"\nsource = \"192.168.0.0/24\"\nout_interface = \"eth1\"\nto = \"masquerade\"\n\n\
         [[gateway.allow]]\nname = \"{}\"\nto = \"192.168.0.10\"\nprotocol = \"tcp\"\nport = 22\n",
        "i".repeat(40),
        n('d'),
        n('s'),
        n('a')
    );
    let comments_in = |file: &str, pattern: &str| -> Vec<String> {
        let mut found: Vec<String> = file
            .lines()
            .filter_map(|l| l.split_once(pattern).map(|(_, rest)| rest.trim_start_matches('"').to_string()))
            .map(|rest| rest.split('"').next().unwrap_or_default().to_string())
            .collect();
        found.sort();
        found
    };
    let nft = build(&text, "nftables").expect("builds").1;
    let nft = common::primary(&nft[0]);
    let written = comments_in(nft, "comment \"");
    assert!(written.iter().any(|c| c.ends_with("(loopback)")) && written.iter().all(|c| c.len() <= 128), "{written:?}");
    let (ok, listed) = run("unshare", &["--net", "sh", "-c", "nft -f - && nft -j list ruleset"], nft);
    assert!(ok, "nft loads: {listed}");
    let json: serde_json::Value = serde_json::from_str(&listed).expect("nft -j prints JSON");
    let mut read: Vec<String> = json["nftables"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|o| o["rule"]["comment"].as_str().map(String::from))
        .collect();
    read.sort();
    assert_eq!(read, written);

    let ipt = build(&text, "iptables").expect("builds").1;
    let ipt = common::primary(&ipt[0]);
    let written = comments_in(ipt, "--comment ");
    assert!(written.iter().any(|c| c.ends_with("(loopback)")), "{written:?}");
    let (ok, saved) = run("unshare", &["--net", "sh", "-c", "iptables-restore && iptables-save"], ipt);
    assert!(ok, "iptables-restore loads: {saved}");
    assert_eq!(comments_in(&saved, "--comment "), written);
}
