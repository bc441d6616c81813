//! The values the generator draws from: valid ones (so that most intents get past the
//! checks and reach the targets), boundary ones (limits, off-by-one), and hostile ones
//! (what an attacker or a careless paste puts in a string field).
//!
//! [`former_defects`] are the triggers of defects the harness found and issue 12 fixed; they
//! stay in the pools so that the fixes stay fixed.

use std::sync::OnceLock;

/// Hostile strings for every string field: quoting and injection for each output language
/// (shell, nft, iptables, VyOS, RTX, YAML/Jinja, terminal), separators, odd Unicode.
pub fn hostile_strings() -> &'static [String] {
    static POOL: OnceLock<Vec<String>> = OnceLock::new();
    POOL.get_or_init(|| {
        let mut pool: Vec<String> = [
            "",
            " ",
            "-",
            "-rf",
            "--help",
            "-g",
            "a b",
            "A",
            "a_b",
            "a.b",
            "a/b",
            "..",
            "../../etc/passwd",
            "$(reboot)",
            "`id`",
            "${HOME}",
            "'; rm -rf / #",
            "\"",
            "'",
            "\\",
            "\\n",
            "a\nb",
            "a\r\nb",
            "\r",
            "\0",
            "nul\0byte",
            "\u{7}",
            "\u{1b}[2J",
            "\u{1b}]0;pwned\u{7}",
            "\u{7f}",
            "\u{85}",
            "\u{2028}",
            "x\u{2028}no ip lan1 address",
            "\u{2029}",
            "\u{202e}gnp.exe",
            "\u{200b}",
            "\u{feff}",
            "{{ x }}",
            "{% raw %}",
            "{# c #}",
            "{{",
            "}}",
            "#",
            "# comment",
            ";",
            "; reboot",
            "&&",
            "|",
            "*",
            "?",
            "@",
            "@@",
            "@missing",
            "yes",
            "no",
            "null",
            "~",
            "- a",
            ": b",
            "&anchor",
            "!!python/object",
            "%s%n",
            "\t",
            "!",
            "名前",
            "é",
            "🙂",
            "0x41",
            "1e99",
            "-1",
            "nan",
            "inf",
            "0",
            "00",
            "1.2.3.4",
            "eth0",
            "lo",
            "comment \"x\" accept",
            "\" accept comment \"",
            "$ip",
            "'\"'\"'",
            "\\\"",
            "a\u{0}b\u{1}c",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        pool.extend(["a".repeat(40), "a".repeat(41), "a".repeat(64), "é".repeat(64), "x ".repeat(200)]);
        pool.extend(["y".repeat(1024), "z".repeat(4000), "{{ x }}".repeat(100), "\u{2028}".repeat(50)]);
        pool
    })
}

/// Triggers of defects issue 12 fixed: a description longer than iptables-restore's
/// 10 KiB line, an `[[expect]]` name of 65,536 characters (trace and verify panicked), a
/// placeholder in user text (`--secrets inline` substituted it).
pub fn former_defects() -> Vec<String> {
    vec!["d".repeat(10_300), "n".repeat(65_536), "@@natc-secret:env:X@@".to_string()]
}

pub const NAMES: &[&str] = &["a", "gw", "web", "db", "edge", "vm02", "x-1", "office-rtx", "natgw", "n0"];

pub const LINUX_IFACES: &[&str] = &["eth0", "eth1", "eth2", "eth3", "eth0.10", "ens3", "wan", "lan_b", "br-0"];
pub const VYOS_IFACES: &[&str] = &["eth0", "eth1", "eth2", "eth3", "eth0.10", "bond0", "br0"];
/// RTX names; Linux and VyOS accept them too, so a gateway built for every target uses them.
pub const RTX_IFACES: &[&str] = &["lan1", "lan2", "lan3", "lan1.2", "vlan1", "wan1", "bridge1", "loopback1"];
pub const BOUNDARY_IFACES: &[&str] = &[
    "lo",
    "abcdefghijklmno",
    "abcdefghijklmnop",
    "e",
    "eth0:1",
    "eth 0",
    "-eth0",
    "eth0.4095",
    "eth0.4096",
    "vti0",
    "tunnel1",
    "ETH0",
    "eth/0",
];

pub const TARGETS: &[&str] = &[
    "iptables",
    "nftables",
    "firewalld",
    "vyos",
    "vyos@1.4",
    "vyos@1.5",
    "rtx",
    "rtx@RTX830",
    "rtx@rtx1200",
    "rtx@RTX1210",
    "rtx@RTX1220",
    "rtx@RTX1300",
    "rtx@RTX3510",
    "rtx@RTX5000",
    "rtx@RTX840",
    "rtx@RTX3500",
];
pub const BOUNDARY_TARGETS: &[&str] = &["iptable", "vyos@1.3", "rtx@RTX9", "nftables@1", "", "IPTABLES", "rtx@"];

pub const BOUNDARY_ADDRESSES: &[&str] = &[
    "0.0.0.0",
    "0.0.0.0/0",
    "255.255.255.255",
    "255.255.255.255/32",
    "10.0.0.0/8",
    "10.0.0.1/33",
    "10.0.0.1/-1",
    "10.0.0.256",
    "10.0.0",
    "10.0.0.1.2",
    "010.000.000.001",
    " 10.0.0.1 ",
    "10.0.0.1/",
    "/24",
    "10.0.0.0/24/24",
    "::1",
    "fe80::1/64",
    "127.0.0.1",
    "224.0.0.1",
    "169.254.1.1/30",
    "192.168.1.255/24",
    "@",
    "@nope",
    "@@",
    "10.0.0.1-10.0.0.9",
    "1.2.3.4/32",
    "100.64.0.0/10",
    "0x0a000001",
    "4294967295",
];

pub const PROTOCOLS: &[&str] = &["tcp", "udp", "icmp", "esp", "any"];
pub const BOUNDARY_PROTOCOLS: &[&str] = &["TCP", "sctp", "gre", "", "6"];

/// Integers at and around every limit natc has (ports, MTU, lifetimes, ASNs, i64).
pub const BOUNDARY_INTS: &[i64] = &[
    i64::MIN,
    -1,
    0,
    1,
    2,
    29,
    30,
    67,
    68,
    1435,
    9000,
    9001,
    65535,
    65536,
    86400,
    86401,
    4_294_967_294,
    4_294_967_295,
    4_294_967_296,
    i64::MAX,
];

pub const BOUNDARY_PORTS: &[&str] = &[
    "0",
    "1",
    "65535",
    "65536",
    "80-90",
    "90-80",
    "1-65535",
    "80,443",
    "80,,443",
    "http",
    "-1",
    "22-",
    "-22",
    "1-1",
    "80 - 90",
    "",
    "99999999999999999999",
];

/// The warnings an item's `accept` may name; N201 and N231 (errors) are refused with N215.
pub const CODES: &[&str] =
    &["N203", "N204", "N205", "N206", "N208", "N209", "N210", "N211", "N214", "N229", "N230", "N204", "N201", "N231"];
/// What a gateway's `accept` may name: its targets' warnings and its items'.
pub const GATEWAY_CODES: &[&str] = &["N303", "N303", "N204", "N210", "N213"];
