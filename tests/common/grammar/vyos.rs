//! natc's own grammar of the VyOS configuration lines it writes: the node tree of
//! `vyos-<version>.nodes` (paths, tag nodes, leaf kinds, value types) and the value types
//! below, written from vyos-1x's interface definitions and validators. It reads `set` and
//! `delete` lines (commands.vyos and change scripts) as VyOS's vbash does and says what is
//! wrong with each line. It knows nothing of src/backend/vyos: it checks it.

use super::values::{host_bits, ipv4, number, with_length};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Node,
    /// A tag node without its tag value (`nat destination rule`).
    Tag,
    /// A tag node's entry (`nat destination rule 5`).
    Entry,
    Leaf {
        multi: bool,
        valueless: bool,
    },
}

/// One alternative of a value type.
#[derive(Debug, Clone)]
enum Alt {
    Literal(String),
    Range(u64, u64),
    Named(String),
}

/// A value type: the value must match one alternative.
#[derive(Debug, Clone)]
pub struct Type {
    text: String,
    alts: Vec<Alt>,
}

impl Type {
    fn parse(text: &str) -> Type {
        let alts = text
            .split('|')
            .map(|a| {
                if let Some(lit) = a.strip_prefix('\'').and_then(|a| a.strip_suffix('\'')) {
                    Alt::Literal(lit.to_string())
                } else if let Some((lo, hi)) = a.split_once("..") {
                    Alt::Range(lo.parse().expect("range low"), hi.parse().expect("range high"))
                } else {
                    assert!(named(a, "").is_some(), "the VyOS grammar names an unknown type `{a}`");
                    Alt::Named(a.to_string())
                }
            })
            .collect();
        Type { text: text.to_string(), alts }
    }

    pub fn accepts(&self, value: &str) -> bool {
        self.alts.iter().any(|alt| match alt {
            Alt::Literal(l) => l == value,
            Alt::Range(lo, hi) => number(value).is_some_and(|n| (*lo..=*hi).contains(&n)),
            Alt::Named(name) => named(name, value) == Some(true),
        })
    }
}

/// A network prefix: host bits zero (VyOS's ipv4-prefix validator).
fn ipv4_prefix(s: &str) -> bool {
    with_length(s).is_some_and(|(a, l)| host_bits(a, l) == 0)
}

/// An interface address (ip-host): not the network address of its prefix, except /31, /32.
fn ipv4_host(s: &str) -> bool {
    with_length(s).is_some_and(|(a, l)| l >= 31 || host_bits(a, l) != 0)
}

fn ipv4_range(s: &str) -> bool {
    s.split_once('-').and_then(|(a, b)| Some(u32::from(ipv4(a)?) <= u32::from(ipv4(b)?))).unwrap_or(false)
}

fn port(s: &str) -> bool {
    number(s).is_some_and(|p| (1..=65535).contains(&p))
}

/// `80` or `8000-8099` (VyOS's port-range; natc writes numbers, never service names).
fn port_range(s: &str) -> bool {
    match s.split_once('-') {
        Some((a, b)) => port(a) && port(b) && number(a) <= number(b),
        None => port(s),
    }
}

/// Every interface name prefix VyOS's interface regexes know (firewall, NAT, routes).
const INTERFACE_PREFIXES: &[&str] = &[
    "bond", "br", "dum", "en", "ersp", "eth", "gnv", "ifb", "ipoe", "lan", "l2tp", "l2tpeth", "macsec", "peth", "ppp",
    "pppoe", "pptp", "sstp", "sstpc", "tun", "veth", "vti", "vtun", "vxlan", "wg", "wlan", "wwan",
];

/// `eth1`, `eth1.20`, `lo`: `(prefix)[0-9]+(.\d+)?|lo`.
fn interface_name(s: &str) -> bool {
    s == "lo"
        || INTERFACE_PREFIXES.iter().any(|p| {
            s.strip_prefix(p).is_some_and(|rest| {
                let (n, vlan) = match rest.split_once('.') {
                    Some((n, v)) => (n, Some(v)),
                    None => (rest, None),
                };
                digits(n) && vlan.is_none_or(digits)
            })
        })
}

/// A firewall or NAT interface match: `[!]prefix…` (wildcards allowed) or `[!]lo`.
fn interface_match(s: &str) -> bool {
    let s = s.strip_prefix('!').unwrap_or(s);
    s == "lo" || INTERFACE_PREFIXES.iter().any(|p| s.starts_with(p))
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn prefixed_number(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(digits)
}

/// `ip-protocol`: a name from /etc/protocols, `tcp_udp`, `all` or 0-255, maybe negated.
const PROTOCOLS: &[&str] = &[
    "all",
    "ip",
    "hopopt",
    "icmp",
    "igmp",
    "ggp",
    "ipencap",
    "st",
    "tcp",
    "egp",
    "igp",
    "pup",
    "udp",
    "tcp_udp",
    "hmp",
    "xns-idp",
    "rdp",
    "iso-tp4",
    "dccp",
    "xtp",
    "ddp",
    "idpr-cmtp",
    "ipv6",
    "ipv6-route",
    "ipv6-frag",
    "idrp",
    "rsvp",
    "gre",
    "esp",
    "ah",
    "skip",
    "ipv6-icmp",
    "ipv6-nonxt",
    "ipv6-opts",
    "rspf",
    "vmtp",
    "eigrp",
    "ospf",
    "ax.25",
    "ipip",
    "etherip",
    "encap",
    "pim",
    "ipcomp",
    "vrrp",
    "l2tp",
    "isis",
    "sctp",
    "fc",
    "mobility-header",
    "udplite",
    "mpls-in-ip",
    "manet",
    "hip",
    "shim6",
    "wesp",
    "rohc",
];

/// The encryption words of `proposal N encryption` (vpn-ipsec-encryption.xml.i).
const ENCRYPTIONS: &str = "null aes128 aes192 aes256 aes128ctr aes192ctr aes256ctr aes128ccm64 aes192ccm64 \
    aes256ccm64 aes128ccm96 aes192ccm96 aes256ccm96 aes128ccm128 aes192ccm128 aes256ccm128 aes128gcm64 aes192gcm64 \
    aes256gcm64 aes128gcm96 aes192gcm96 aes256gcm96 aes128gcm128 aes192gcm128 aes256gcm128 aes128gmac aes192gmac \
    aes256gmac 3des blowfish128 blowfish192 blowfish256 camellia128 camellia192 camellia256 camellia128ctr \
    camellia192ctr camellia256ctr camellia128ccm64 camellia192ccm64 camellia256ccm64 camellia128ccm96 \
    camellia192ccm96 camellia256ccm96 camellia128ccm128 camellia192ccm128 camellia256ccm128 serpent128 serpent192 \
    serpent256 twofish128 twofish192 twofish256 cast128 chacha20poly1305";

/// The hash words of `proposal N hash` (vpn-ipsec-hash.xml.i).
const HASHES: &str = "md5 md5_128 sha1 sha1_160 sha256 sha256_96 sha384 sha512 aesxcbc aescmac aes128gmac \
    aes192gmac aes256gmac";

/// Diffie-Hellman groups VyOS offers.
fn dh_group(s: &str) -> bool {
    number(s).is_some_and(|g| matches!(g, 1 | 2 | 5 | 14..=32))
}

/// The named types of the node files: `Some(accepted)`, or `None` for an unknown name.
fn named(name: &str, v: &str) -> Option<bool> {
    Some(match name {
        // Free text: `.{0,255}`, one line.
        "description" => v.chars().count() <= 255 && !v.contains(['\n', '\r']),
        // No constraint in the schema: any one value (group and PSK names, ids, secrets).
        "name" | "text" => !v.is_empty() && !v.contains(['\n', '\r']),
        "ipv4-address" => ipv4(v).is_some(),
        "ipv4-prefix" => ipv4_prefix(v),
        "ipv4-host" => ipv4_host(v),
        "ipv4-range" => ipv4_range(v),
        // Source and destination matches: address, prefix or range, maybe negated.
        "address-match" => {
            let v = v.strip_prefix('!').unwrap_or(v);
            ipv4(v).is_some() || ipv4_prefix(v) || ipv4_range(v)
        }
        "port-range" => port_range(v),
        // port-multi: a comma list of ports and ranges.
        "port-list" => v.split(',').all(port_range),
        "ip-protocol" => {
            let v = v.strip_prefix('!').unwrap_or(v);
            PROTOCOLS.contains(&v) || number(v).is_some_and(|n| n <= 255)
        }
        "firewall-action" => {
            ["accept", "continue", "jump", "reject", "return", "drop", "queue", "offload", "synproxy"].contains(&v)
        }
        "interface-name" => interface_name(v),
        "interface-match" => interface_match(v),
        "ethernet-name" => {
            prefixed_number(v, "eth")
                || prefixed_number(v, "lan")
                || ["eno", "ens", "enp", "enx"].iter().any(|p| v.strip_prefix(p).is_some_and(|r| !r.is_empty()))
        }
        "bonding-name" => prefixed_number(v, "bond"),
        "bridge-name" => prefixed_number(v, "br"),
        "dummy-name" => prefixed_number(v, "dum"),
        "vti-name" => prefixed_number(v, "vti"),
        "tunnel-name" => prefixed_number(v, "tun"),
        "wireguard-name" => prefixed_number(v, "wg"),
        "openvpn-name" => prefixed_number(v, "vtun"),
        "pseudo-ethernet-name" => prefixed_number(v, "peth"),
        "vxlan-name" => prefixed_number(v, "vxlan"),
        "wireless-name" => prefixed_number(v, "wlan"),
        // `[-_a-zA-Z0-9|@]+`
        "peer-name" => !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_|@".contains(&b)),
        "dh-group" => dh_group(v),
        "esp-pfs" => ["enable", "disable"].contains(&v) || v.strip_prefix("dh-group").is_some_and(dh_group),
        "ipsec-encryption" => ENCRYPTIONS.split_whitespace().any(|w| w == v),
        "ipsec-hash" => HASHES.split_whitespace().any(|w| w == v),
        _ => return None,
    })
}

#[derive(Debug)]
struct Node {
    kind: Kind,
    /// Children by name; a tag node has exactly one child, its entry, under "".
    children: BTreeMap<String, usize>,
    /// A tag node's tag value type, a leaf's value type.
    value: Option<Type>,
    /// natc may end a `set` here (a leaf, or a node or entry declared bare).
    settable: bool,
    /// The declared path (with tag types) of a settable node.
    declared: String,
}

/// The VyOS configuration tree natc writes, for one release.
#[derive(Debug)]
pub struct Grammar {
    pub version: &'static str,
    nodes: Vec<Node>,
}

/// The node files, by the name an `include` line uses.
const FILES: &[(&str, &str)] =
    &[("vyos-1.4.nodes", include_str!("vyos-1.4.nodes")), ("vyos-1.5.nodes", include_str!("vyos-1.5.nodes"))];

/// One declared node: its path (with tag types) and its kind.
fn declarations(file: &str) -> Vec<(Vec<String>, String)> {
    let text = FILES.iter().find(|(n, _)| *n == file).unwrap_or_else(|| panic!("no grammar file {file}")).1;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some(other) = line.strip_prefix("include ") {
            out.extend(declarations(other.trim()));
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let at = words
            .iter()
            .position(|w| matches!(*w, "leaf" | "multi" | "valueless" | "node" | "entry"))
            .unwrap_or_else(|| panic!("{file}: no kind in `{line}`"));
        out.push((words[..at].iter().map(|w| w.to_string()).collect(), words[at..].join(" ")));
    }
    out
}

impl Grammar {
    /// The grammar of a release: "1.4", or "1.5" / "current".
    pub fn of(version: &str) -> &'static Grammar {
        static V14: OnceLock<Grammar> = OnceLock::new();
        static V15: OnceLock<Grammar> = OnceLock::new();
        match version {
            "1.4" => V14.get_or_init(|| Grammar::load("1.4", "vyos-1.4.nodes")),
            "1.5" | "current" => V15.get_or_init(|| Grammar::load("1.5", "vyos-1.5.nodes")),
            other => panic!("natc's VyOS grammar covers 1.4 and 1.5, not {other}"),
        }
    }

    fn load(version: &'static str, file: &str) -> Grammar {
        let root =
            Node { kind: Kind::Node, children: BTreeMap::new(), value: None, settable: false, declared: String::new() };
        let mut g = Grammar { version, nodes: vec![root] };
        for (path, kind) in declarations(file) {
            let mut at = 0;
            let mut words = path.iter().peekable();
            while let Some(word) = words.next() {
                let tag = words.next_if(|w| w.starts_with('<')).map(|t| t.trim_matches(['<', '>']).to_string());
                at = g.child(at, word, if tag.is_some() { Kind::Tag } else { Kind::Node });
                if let Some(tag) = tag {
                    g.nodes[at].value = Some(Type::parse(&tag));
                    at = g.child(at, "", Kind::Entry);
                }
            }
            let (head, ty) = kind.split_once(' ').unwrap_or((kind.as_str(), ""));
            let node = &mut g.nodes[at];
            node.settable = true;
            node.declared = path.join(" ");
            match head {
                "leaf" | "multi" => {
                    node.kind = Kind::Leaf { multi: head == "multi", valueless: false };
                    node.value = Some(Type::parse(ty));
                }
                "valueless" => node.kind = Kind::Leaf { multi: false, valueless: true },
                "node" => assert_eq!(node.kind, Kind::Node, "{path:?} is declared a node"),
                "entry" => assert_eq!(node.kind, Kind::Entry, "{path:?} is declared an entry"),
                other => panic!("unknown kind {other}"),
            }
        }
        g
    }

    fn child(&mut self, parent: usize, name: &str, kind: Kind) -> usize {
        if let Some(&i) = self.nodes[parent].children.get(name) {
            assert_eq!(self.nodes[i].kind, kind, "`{name}` is declared both as {:?} and {kind:?}", self.nodes[i].kind);
            return i;
        }
        self.nodes.push(Node {
            kind,
            children: BTreeMap::new(),
            value: None,
            settable: false,
            declared: String::new(),
        });
        let i = self.nodes.len() - 1;
        self.nodes[parent].children.insert(name.to_string(), i);
        i
    }

    /// Walks path words (tag values included) to what they name: the words of the path,
    /// the node's kind, and a leaf's value. Checks every tag value's type.
    pub fn walk(&self, words: &[String]) -> Result<(Vec<String>, Kind, Option<String>), String> {
        self.walk_to(words).map(|(path, node, value)| (path, self.nodes[node].kind, value))
    }

    fn walk_to(&self, words: &[String]) -> Result<(Vec<String>, usize, Option<String>), String> {
        let (mut node, mut i, mut path) = (0usize, 0usize, Vec::new());
        while i < words.len() {
            let word = &words[i];
            let Some(&child) = self.nodes[node].children.get(word.as_str()).filter(|_| !word.is_empty()) else {
                let known: Vec<&String> = self.nodes[node].children.keys().collect();
                return Err(format!(
                    "`{word}` is not a node natc writes under `{}` (VyOS {}: {known:?})",
                    path.join(" "),
                    self.version
                ));
            };
            path.push(word.clone());
            node = child;
            i += 1;
            match self.nodes[child].kind {
                Kind::Tag => {
                    let Some(tag) = words.get(i) else { return Ok((path, child, None)) };
                    let ty = self.nodes[child].value.as_ref().expect("a tag node has a type");
                    if !ty.accepts(tag) {
                        return Err(format!("`{word} {tag}`: the tag value is not {}", ty.text));
                    }
                    path.push(tag.clone());
                    node = self.nodes[child].children[""];
                    i += 1;
                }
                Kind::Leaf { .. } => {
                    if words.len() > i + 1 {
                        return Err(format!("`{}` takes one value, not {:?}", path.join(" "), &words[i..]));
                    }
                    return Ok((path, child, words.get(i).cloned()));
                }
                Kind::Node | Kind::Entry => {}
            }
        }
        Ok((path, node, None))
    }

    /// The kind of the node a path (with tag values) ends on.
    pub fn kind(&self, path: &[&str]) -> Option<Kind> {
        let words: Vec<String> = path.iter().map(|w| w.to_string()).collect();
        self.walk(&words).ok().filter(|(p, _, v)| p.len() == path.len() && v.is_none()).map(|(_, k, _)| k)
    }

    /// One `set` or `delete` line as natc writes it: path words bare, a leaf's value in
    /// single quotes, every value of its type.
    pub fn check_line(&self, line: &str) -> Result<(), String> {
        let words = super::lex_shell(line)?;
        let Some((command, rest)) = words.split_first() else { return Ok(()) };
        let set = match command.text.as_str() {
            "set" => true,
            "delete" => false,
            other => return Err(format!("`{other}`: natc writes only set and delete lines")),
        };
        let texts: Vec<String> = rest.iter().map(|w| w.text.clone()).collect();
        let (path, node, value) = self.walk_to(&texts)?;
        let n = &self.nodes[node];
        for (i, w) in rest.iter().enumerate() {
            let is_value = value.is_some() && i == rest.len() - 1;
            if is_value && !w.quoted {
                return Err(format!("the value `{}` is not in single quotes (natc quotes every value)", w.text));
            }
            if !is_value && w.quoted {
                return Err(format!("the path word `{}` is quoted (natc writes path words bare)", w.text));
            }
        }
        match (n.kind, &value) {
            (Kind::Leaf { valueless: true, .. }, Some(v)) => {
                return Err(format!("`{}` takes no value, not `{v}`", path.join(" ")));
            }
            (Kind::Leaf { valueless: false, .. }, None) if set => {
                return Err(format!("`{}` needs a value", path.join(" ")));
            }
            (Kind::Leaf { valueless: false, .. }, Some(v)) => {
                let ty = n.value.as_ref().expect("a leaf has a type");
                if !ty.accepts(v) {
                    return Err(format!("`{}`: `{v}` is not {}", path.join(" "), ty.text));
                }
            }
            (Kind::Tag, _) if set => return Err(format!("`{}` needs its tag value", path.join(" "))),
            (_, _) if set && !n.settable => {
                return Err(format!("`{}` is not a node natc sets without a leaf under it", path.join(" ")));
            }
            _ => {}
        }
        Ok(())
    }

    /// Every node a `set` may end on, as declared (`nat source rule <1..999999> description`).
    pub fn declared(&self) -> Vec<String> {
        self.nodes.iter().filter(|n| n.settable).map(|n| n.declared.clone()).collect()
    }

    /// The declared node a valid `set` line ends on.
    pub fn declared_node_of(&self, line: &str) -> Option<String> {
        self.check_line(line).ok()?;
        let words: Vec<String> = super::lex_shell(line).ok()?.into_iter().skip(1).map(|w| w.text).collect();
        let (_, node, _) = self.walk_to(&words).ok()?;
        Some(self.nodes[node].declared.clone()).filter(|d| !d.is_empty())
    }

    /// Every line of a commands.vyos file or change script; `Err` lists the bad lines as
    /// `LINE: text  ==> why`. Within one input a single-valued leaf set twice to different
    /// values is an error too (VyOS would silently keep the second); a `delete` clears it.
    pub fn check(&self, text: &str) -> Result<(), String> {
        let mut problems = Vec::new();
        let mut single: BTreeMap<Vec<String>, String> = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let mut result = self.check_line(line);
            if result.is_ok() {
                let words: Vec<String> =
                    super::lex_shell(line).expect("lexed above").into_iter().skip(1).map(|w| w.text).collect();
                let (path, kind, value) = self.walk(&words).expect("walked above");
                if line.starts_with("delete ") {
                    single.retain(|p, _| !p.starts_with(&path));
                } else if let (Kind::Leaf { multi: false, valueless: false }, Some(v)) = (kind, value)
                    && let Some(old) = single.insert(path.clone(), v.clone()).filter(|old| *old != v)
                {
                    result = Err(format!("`{}` was set to `{old}` before: VyOS keeps one value", path.join(" ")));
                }
            }
            if let Err(why) = result {
                problems.push(format!("{}: {line}  ==> {why}", n + 1));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
    }
}
