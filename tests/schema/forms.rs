//! Value forms, value by value: what natc accepts and what the schema accepts must agree,
//! including the odd spellings natc's parsers let through (blanks that are trimmed, leading
//! zeros that ipnet reads in prefixes, a `+` that `u8::from_str` reads). Each case replaces
//! one line of a valid intent; `natc check` and Taplo must both give the stated verdict.

/// A valid intent with every key natc reads, that every case starts from. Its accepts accept
/// nothing that occurs (N216 warnings): they are here for their form.
pub const BASE: &str = r#"natc = 1
name = "forms"
description = "one of each key natc reads"

[networks]
lan = "10.0.0.0/24"

[[gateway]]
name = "gw"
description = "the NAT gateway"
targets = ["nftables"]
rtx = "RTX1210"
accept = [{ code = "N301", reason = "this gateway is only a form" }]

[[gateway.interface]]
name = "eth0"
address = "192.168.1.1/24"

[[gateway.interface]]
name = "eth1"
address = "192.168.2.1/24"
tcp_mss = 1360

[[gateway.address]]
interface = "lo"
address = "10.9.9.9/32"

[[gateway.dnat]]
name = "web"
description = "the web server"
destination = "@lan"
to = "192.168.1.10"
protocol = "tcp"
port = 443
to_port = 8443
return_route = true
accept = [{ code = "N211", reason = "the dnat is only a form" }]

[[gateway.snat]]
name = "out"
description = "the LAN goes out"
out_interface = "eth0"
to = "masquerade"
except_ipsec = true

[[gateway.netmap]]
name = "peer"
description = "the peer's overlapping network"
local = "192.168.2.0/24"
local_as = "192.168.20.0/24"
remote_as = "192.168.30.0/24"
interface = "eth1"
accept = [{ code = "N206", reason = "the netmap is only a form" }]

[[gateway.allow]]
name = "ssh"
description = "ssh to the server"
to = "192.168.1.10"
protocol = "tcp"
port = 22
accept = [{ code = "N211", reason = "the allow is only a form" }]

[gateway.policy]
input = "drop"
log = true
log_prefix = "natc input: "
log_rate = "10/minute"

[[gateway.route]]
to = "0.0.0.0/0"
via = "192.168.1.254"
accept = [{ code = "N206", reason = "the route is only a form" }]

[[gateway]]
name = "vpn"
targets = ["vyos"]

[[gateway.interface]]
name = "eth0"
address = "198.51.100.2/24"

[[gateway.tunnel]]
name = "t"
remote = "203.0.113.1"
psk = { env = "PSK" }
local_id = "gw.example.com"
remote_id = "203.0.113.1"
tcp_mss = "auto"
vti = { name = "vti0", address = "169.254.0.1/30" }
ike = { version = 2, dh_group = 14 }

# A pair whose ends name each other: natc compares them (N217-N228), so the forms above
# vary tunnel `t`, whose far end is not in this intent.
[[gateway.tunnel]]
name = "u"
remote = "203.0.113.7"
psk = { env = "PSK_U" }
peer = "vpn-b/u"
vti = { name = "vti1", address = "169.254.1.1/30" }

[[gateway]]
name = "vpn-b"
targets = ["vyos"]

[[gateway.interface]]
name = "eth0"
address = "203.0.113.7/24"

[[gateway.tunnel]]
name = "u"
remote = "198.51.100.2"
psk = { env = "PSK_U" }
peer = "vpn/u"
vti = { name = "vti0", address = "169.254.1.2/30" }
"#;

/// One form: the line of [`BASE`] it replaces, the replacement with `{}` for the value, and
/// values as TOML with whether natc accepts them.
pub struct Form {
    pub line: &'static str,
    pub template: &'static str,
    pub values: &'static [(&'static str, bool)],
}

pub const FORMS: &[Form] = &[
    Form { line: "natc = 1", template: "natc = {}", values: &[("1", true), ("2", false), ("\"1\"", false)] },
    Form {
        line: "name = \"forms\"",
        template: "name = {}",
        values: &[
            ("\"a-b-0\"", true),
            ("\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", true),
            ("\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", false),
            ("\"Forms\"", false),
            ("\"a_b\"", false),
            ("\"\"", false),
        ],
    },
    // A [networks] entry: its name and its literal value (no @name there).
    Form {
        line: "lan = \"10.0.0.0/24\"",
        template: "lan = \"10.0.0.0/24\"\n{}",
        values: &[
            ("other_net-2 = \"10.1.0.0/16\"", true),
            ("other = \" 10.1.0.0/16 \"", true),
            ("other = \"010.001.0.0/16\"", true),
            ("other = \"11.0.0.0/08\"", true),
            ("other = \"10.1.0.0/008\"", false),
            ("other = \"10.1.0.0/33\"", false),
            ("other = \"10.1.0.300\"", false),
            ("other = \"@lan\"", false),
            ("Other = \"10.1.0.0/16\"", false),
            ("\"other net\" = \"10.1.0.0/16\"", false),
        ],
    },
    // A host or prefix, literal or @name (Networks::host_or_prefix).
    Form {
        line: "destination = \"@lan\"",
        template: "destination = {}",
        values: &[
            ("\"10.0.0.5\"", true),
            ("\"10.0.0.0/24\"", true),
            ("\" 10.0.0.5 \"", true),
            ("\"010.0.0.0/24\"", true),
            ("\"10.0.0.0/08\"", true),
            ("\"10.0.0.5/32\"", true),
            ("\"010.0.0.5\"", false),
            ("\"10.0.0.5/032\"", false),
            ("\"10.0.0.300/32\"", false),
            ("\"10.0.0.0/33\"", false),
            ("\"10.0.0\"", false),
            ("\"fd00::5\"", false),
            ("\"@\"", false),
            ("\"\"", false),
            ("[\"10.0.0.5\"]", false),
        ],
    },
    // One host (Networks::host): a prefix is refused.
    Form {
        line: "via = \"192.168.1.254\"",
        template: "via = {}",
        values: &[
            ("\"192.168.1.254/32\"", true),
            ("\" 192.168.1.254\"", true),
            ("\"192.168.1.0/24\"", false),
            ("\"192.168.1.254/032\"", false),
            ("\"192.168.1.256\"", false),
        ],
    },
    // An interface address (interface_address): length required, host bits allowed, no trim.
    Form {
        line: "address = \"192.168.1.1/24\"",
        template: "address = {}",
        values: &[
            ("[\"192.168.1.1/24\", \"192.168.2.1/24\"]", true),
            ("\"192.168.1.1/024\"", true),
            ("\"192.168.1.1/+24\"", true),
            ("\"192.168.1.1\"", false),
            ("\"192.168.1.1/33\"", false),
            ("\" 192.168.1.1/24\"", false),
            ("\"192.168.01.1/24\"", false),
            ("[\"192.168.1.1/24\", \"192.168.2.1\"]", false),
            ("24", false),
        ],
    },
    // An owned address (Ctx::owned_address): a host, @name, or an address with its length.
    Form {
        line: "address = \"10.9.9.9/32\"",
        template: "address = {}",
        values: &[
            ("\"10.9.9.9\"", true),
            ("\"10.9.9.9/24\"", true),
            ("\" 10.9.9.9/24 \"", true),
            ("\"10.9.9.9/33\"", false),
            ("\"10.9.9\"", false),
        ],
    },
    // log_prefix: printable ASCII without `"`, `\`, `$` and `` ` ``, at most 29 characters.
    // The schema cannot see the characters natc refuses, so only length and type are cases.
    Form {
        line: "log_prefix = \"natc input: \"",
        template: "{}",
        values: &[
            ("log_prefix = \"natc input: \"", true),
            ("log_prefix = \"12345678901234567890123456789\"", true),
            ("log_prefix = 5", false),
        ],
    },
    // log_rate: N/unit, N 1-10000 without sign, blanks or leading zeros, the unit spelled out.
    Form {
        line: "log_rate = \"10/minute\"",
        template: "log_rate = {}",
        values: &[
            ("\"10/minute\"", true),
            ("\"1/second\"", true),
            ("\"10000/hour\"", true),
            ("\"9999/day\"", true),
            ("\"0/second\"", false),
            ("\"10001/second\"", false),
            ("\"010/minute\"", false),
            ("\"10/min\"", false),
            ("\"10/Minute\"", false),
            ("\" 10/minute\"", false),
            ("\"10 / minute\"", false),
            ("\"10/minute/x\"", false),
            ("\"/minute\"", false),
            ("\"+5/second\"", false),
            ("10", false),
        ],
    },
    // counters: a boolean on a gateway.
    Form {
        line: "rtx = \"RTX1210\"",
        template: "rtx = \"RTX1210\"\n{}",
        values: &[
            ("counters = true", true),
            ("counters = false", true),
            ("counters = \"yes\"", false),
            ("counters = 1", false),
        ],
    },
    // A protocol (vocab::Protocol): a word or a number 0-255; the allow's port goes, since
    // only tcp and udp have ports (N108).
    Form {
        line: "protocol = \"tcp\"\nport = 22",
        template: "protocol = {}",
        values: &[
            ("\"gre\"", true),
            ("\"ah\"", true),
            ("\"any\"", true),
            ("0", true),
            ("6", true),
            ("47", true),
            ("255", true),
            ("256", false),
            ("-1", false),
            ("\"47\"", false),
            ("\"GRE\"", false),
            ("\"\"", false),
        ],
    },
    Form {
        line: "port = 443",
        template: "port = {}",
        values: &[
            ("\"443\"", true),
            ("\"+443\"", true),
            ("\"0443\"", true),
            ("\"8000-8099\"", true),
            ("\" 80 , 443 - 444 \"", true),
            ("[80, \"443\", \"8000-8099\"]", true),
            ("65535", true),
            ("0", false),
            ("65536", false),
            ("\"65536\"", false),
            ("\"https\"", false),
            ("\"80-\"", false),
            ("\"80,\"", false),
            ("[\"80,443\"]", false),
            ("[]", false),
            ("true", false),
        ],
    },
    Form {
        line: "to_port = 8443",
        template: "to_port = {}",
        values: &[("\"8443\"", true), ("\"80,443\"", false), ("[8443]", false), ("-1", false)],
    },
    Form {
        line: "to = \"masquerade\"",
        template: "to = {}",
        values: &[
            ("\" masquerade \"", true),
            ("\"198.51.100.2\"", true),
            ("\"Masquerade\"", false),
            ("\"masq\"", false),
        ],
    },
    Form {
        line: "targets = [\"nftables\"]",
        template: "targets = {}",
        values: &[
            ("[\"iptables\", \"firewalld\"]", true),
            ("[\"vyos@1.3\"]", false),
            ("[\"nftable\"]", false),
            ("[\"VYOS\"]", false),
            ("[\"iptables@1.4\"]", false),
            ("\"vyos\"", false),
        ],
    },
    Form {
        line: "rtx = \"RTX1210\"",
        template: "rtx = {}",
        values: &[("\"rtx830\"", true), ("\"RTX9999\"", false), ("\" RTX830\"", false)],
    },
    // A second interface's name (the first one's is referred to).
    Form {
        line: "address = \"192.168.1.1/24\"",
        template: "address = \"192.168.1.1/24\"\n\n[[gateway.interface]]\nname = {}",
        values: &[
            ("\"eth0.10\"", true),
            ("\"Gi0_1-a\"", true),
            ("\"-eth0\"", false),
            ("\"eth0 \"", false),
            ("\"abcdefghijklmnop\"", false),
        ],
    },
    Form {
        line: "local_id = \"gw.example.com\"",
        template: "local_id = {}",
        values: &[
            ("\"192.0.2.1\"", true),
            ("\"vpn\"", true),
            ("\"a-1.example.com\"", true),
            ("\"ops+vpn@example.com\"", true),
            ("\"192.0.2.300\"", false),
            ("\"10.0.0\"", false),
            ("\"a.b.123\"", false),
            ("\"-a.example\"", false),
            ("\"a..b\"", false),
            ("\"@example.com\"", false),
            ("\"a b\"", false),
            ("\"\"", false),
            ("42", false),
        ],
    },
    Form {
        line: "tcp_mss = 1360",
        template: "tcp_mss = {}",
        values: &[
            ("536", true),
            ("1460", true),
            ("\"auto\"", true),
            ("535", false),
            ("1461", false),
            ("\"Auto\"", false),
            ("\"1360\"", false),
        ],
    },
    Form {
        line: "psk = { env = \"PSK\" }",
        template: "psk = {}",
        values: &[
            ("{ file = \"/etc/psk\" }", true),
            ("\"secret\"", false),
            ("{ env = \"\" }", false),
            ("{ env = \"A\", file = \"b\" }", false),
            ("{ vault = \"x\" }", false),
        ],
    },
    Form {
        line: "ike = { version = 2, dh_group = 14 }",
        template: "ike = {}",
        values: &[
            ("{ version = 1, lifetime = 86400 }", true),
            ("{ version = 3 }", false),
            ("{ dh_group = 33 }", false),
            ("{ lifetime = 29 }", false),
            ("{ cipher = \"aes\" }", false),
        ],
    },
    // An accept entry (check/accept.rs): an acceptable warning code, trimmed, with a reason.
    Form {
        line: "accept = [{ code = \"N211\", reason = \"the dnat is only a form\" }]",
        template: "accept = [{}]",
        values: &[
            ("{ code = \"N205\", reason = \"checked\" }", true),
            ("{ code = \" N205 \", reason = \"checked\" }", true),
            ("{ code = \"N205\" }", false),
            ("{ code = \"N205\", reason = \" \" }", false),
            ("{ code = \"n205\", reason = \"checked\" }", false),
            ("{ code = \"N101\", reason = \"checked\" }", false),
        ],
    },
    // Unknown keys, at the top and inside an item.
    Form {
        line: "return_route = true",
        template: "return_route = true\n{}",
        values: &[("claim = \"routed\"", true), ("claim = \"arp\"", false), ("bogus = 1", false)],
    },
    Form { line: "name = \"forms\"", template: "name = \"forms\"\n{}", values: &[("colour = \"red\"", false)] },
];
