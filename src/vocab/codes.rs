//! The stable diagnostic codes. A code never changes meaning once released; retired codes
//! stay reserved. `docs/diagnostics.md` lists them with an example each.
//!
//! N0xx: the file itself (syntax, keys, types). N1xx: values and references.
//! N2xx: field checks (lints). N3xx: what a target cannot express. N9xx: natc's own bugs.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(pub &'static str);

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

macro_rules! codes {
    ($($name:ident = $code:literal, $summary:literal;)*) => {
        impl Code {
            $(pub const $name: Code = Code($code);)*
        }
        /// Every code with a one-line summary, in code order (for docs and `--format json`).
        pub const CODES: &[(Code, &str)] = &[$((Code::$name, $summary),)*];
    };
}

codes! {
    TOML_SYNTAX = "N001", "the file is not valid TOML";
    UNKNOWN_KEY = "N002", "a key that the intent format does not have";
    MISSING_KEY = "N003", "a required key is missing";
    INVALID_VALUE = "N004", "a value of the wrong type or not one of the allowed words";
    SCHEMA_VERSION = "N005", "the `natc` schema version is not one this natc reads";
    INVALID_NAME = "N006", "a name that is not [a-z0-9-]+, starts with `-` or is too long";
    NO_GATEWAY = "N007", "the intent declares no gateway";
    INVALID_ADDRESS = "N101", "not an IPv4 address or prefix";
    HOST_BITS_SET = "N102", "a prefix with host bits set";
    IPV6_UNSUPPORTED = "N103", "IPv6 is not supported yet";
    UNKNOWN_NETWORK = "N104", "an @name that [networks] does not define";
    DUPLICATE_NAME = "N105", "two items of the same kind share a name";
    UNKNOWN_INTERFACE = "N106", "an interface the gateway does not declare";
    PREFIX_LENGTH_MISMATCH = "N107", "a 1:1 prefix map between prefixes of different lengths";
    PORT_WITHOUT_PROTOCOL = "N108", "a port match without protocol tcp or udp";
    PORT_WIDTH_MISMATCH = "N109", "a to_port range whose width differs from the matched ports";
    INVALID_PORT = "N110", "not a port, port list or port range";
    LITERAL_SECRET = "N111", "a secret written into the intent instead of referenced";
    UNKNOWN_TARGET = "N112", "a target name natc does not know";
    UNKNOWN_PROFILE = "N113", "a target profile (firewalld or VyOS version, RTX model) natc does not know";
    CONFLICTING_KEYS = "N114", "keys that exclude each other are both set";
    MISSING_DEPENDENCY = "N115", "a key that only works together with another key";
    INVALID_SECRET_REF = "N116", "a secret reference that is neither { env } nor { file }";
    DUPLICATE_ADDRESS = "N117", "the same address is owned twice on a gateway";
    INVALID_RANGE = "N118", "a number outside its allowed range";
    UNKNOWN_LAB_NAME = "N119", "a lab or expectation refers to a host or interface that does not exist";
    LAB_NEXT_HOP_OFF_LINK = "N120", "a lab route's next hop is on none of the host's subnets";
    SECRET_UNAVAILABLE = "N121", "a secret that --secrets inline cannot read (unset variable, unreadable or empty file)";
    INVALID_TEXT = "N122", "a description holding a control, line-separator or format character (or a line break where one line is needed), or a log_prefix no target carries exactly";
    MAP_NOT_ONE_TO_ONE = "N201", "two 1:1 prefix maps overlap, so the mapping is not one-to-one";
    ADDRESS_SPACE_CLASH = "N202", "a virtual or remote prefix, or a route, inside a network the gateway is connected to or claimed twice";
    DESTINATION_NOT_ATTRACTED = "N203", "a DNAT destination on a connected segment that nobody sends to the gateway";
    REPLIES_BYPASS_GATEWAY = "N204", "a DNAT whose replies do not come back through the gateway";
    SNAT_REWRITES_EVERYTHING = "N205", "a SNAT without out_interface, source or destination rewrites every flow";
    REMOTE_PREFIXES_OVERLAP = "N206", "overlapping remote prefixes reached through different tunnels or interfaces";
    SELECTOR_BEFORE_NAT = "N207", "a policy tunnel's selector is written with a prefix that natc translates on that path";
    SNAT_CATCHES_TUNNEL = "N208", "a SNAT on a policy tunnel's path rewrites tunnel traffic (no except_ipsec)";
    TUNNEL_FILTERED = "N209", "the input filter drops the tunnel's IKE, NAT-T or ESP packets";
    PAYLOAD_ADDRESSES = "N210", "a protocol that carries addresses in its payload passes a translation";
    SHADOWED_RULE = "N211", "a translation or filter that never matches: an earlier one always does";
    NEEDS_FORWARDING = "N212", "translations that need forwarding on a gateway with forwarding = false";
    UNUSED_NETWORK = "N213", "a [networks] entry that nothing refers to";
    MTU_WITHOUT_MSS_CLAMP = "N214", "a tunnel MTU below 1500 without TCP MSS clamping";
    INVALID_ACCEPT = "N215", "an accept without a reason, or of a code that is not a warning";
    UNUSED_ACCEPT = "N216", "an accept of a warning that does not occur on that item";
    TUNNEL_PEER_UNKNOWN = "N217", "a tunnel's peer names no gateway or no tunnel of the intent";
    TUNNEL_PEER_NOT_MUTUAL = "N218", "a tunnel's peer is itself, on its own gateway, or a tunnel paired with another";
    IKE_VERSION_MISMATCH = "N219", "the two ends of a tunnel speak different IKE versions";
    IKE_PROPOSAL_MISMATCH = "N220", "the two ends of a tunnel propose a different IKE encryption, hash or DH group";
    ESP_PROPOSAL_MISMATCH = "N221", "the two ends of a tunnel propose a different ESP encryption or hash";
    PFS_MISMATCH = "N222", "PFS is on at one end of a tunnel and off at the other";
    LIFETIMES_DIFFER = "N223", "the two ends of a tunnel have different IKE or ESP lifetimes";
    IDENTITY_MISMATCH = "N224", "one end's IKE identity is not the one the other end expects";
    PSK_MISMATCH = "N225", "the two ends of a tunnel reference different pre-shared keys";
    SELECTORS_NOT_MIRRORED = "N226", "the two ends' traffic selectors do not mirror each other";
    TUNNEL_MODE_MISMATCH = "N227", "one end of a tunnel is route-based (vti), the other policy-based";
    NAT_TRAVERSAL_ONE_SIDED = "N228", "a NAT between the two ends of a tunnel, and an end that needs nat_traversal to speak NAT-T without it";
    DNAT_FILTERED = "N229", "a DNAT whose forwarded flow the gateway's own forward filter drops";
    SNAT_OWN_SEGMENT = "N230", "a SNAT whose out_interface is the interface its source network sits on";
    DNAT_CONFLICT = "N231", "two DNATs of the same address, protocol and port to different destinations";
    INPUT_OPEN_TO_DEFAULT_ROUTE = "N232", "input = \"accept\" on a gateway whose default route leaves through an interface: the box's own services are reachable from that side";
    TARGET_CANNOT_EXPRESS = "N301", "the target cannot express this item exactly";
    TARGET_INTERFACE_DEPRECATED = "N303", "the target's configuration interface is deprecated upstream";
    PACKAGING_CANNOT_DEPLOY = "N304", "the --package packaging cannot deploy this target's files";
    TARGET_TEXT_LIMIT = "N305", "a text longer than the target's reader accepts (a line, comment or description limit)";
    INTERNAL = "N901", "an internal error: natc broke one of its own invariants (a bug; please report it)";
}

// `natc import`'s report (docs/import.md, "The report"): a line of a device configuration
// that the intent does not carry. They are not in CODES: no intent produces them, a
// configuration line does (tests/import.rs covers each with a fixture of tests/import/).
impl Code {
    pub const IMPORT_NO_ITEM: Code = Code("N401");
    pub const IMPORT_DROP_RULE: Code = Code("N402");
    pub const IMPORT_NO_KEY: Code = Code("N403");
    pub const IMPORT_PART: Code = Code("N404");
    pub const IMPORT_REFERENCE: Code = Code("N405");
}

/// The import report's codes with a one-line summary, in code order.
pub const IMPORT_CODES: &[(Code, &str)] = &[
    (
        Code::IMPORT_NO_ITEM,
        "a configuration line natc has no intent item for (a command, table, chain or setting natc does not write)",
    ),
    (Code::IMPORT_DROP_RULE, "a drop or reject rule: natc's filters are allow lists under a policy"),
    (
        Code::IMPORT_NO_KEY,
        "a match, key or value the intent has no counterpart for: the whole rule (or tunnel) is left out",
    ),
    (Code::IMPORT_PART, "a line of a rule, tunnel or ruleset that is left out whole (another line says why)"),
    (
        Code::IMPORT_REFERENCE,
        "a reference to something the configuration does not define, or a definition nothing uses",
    ),
];

/// The checks' warnings, each about one item: an item's `accept` may name them.
pub const ITEM_WARNINGS: &[Code] = &[
    Code::DESTINATION_NOT_ATTRACTED,
    Code::REPLIES_BYPASS_GATEWAY,
    Code::SNAT_REWRITES_EVERYTHING,
    Code::REMOTE_PREFIXES_OVERLAP,
    Code::SNAT_CATCHES_TUNNEL,
    Code::TUNNEL_FILTERED,
    Code::PAYLOAD_ADDRESSES,
    Code::SHADOWED_RULE,
    Code::MTU_WITHOUT_MSS_CLAMP,
    Code::LIFETIMES_DIFFER,
    Code::DNAT_FILTERED,
    Code::SNAT_OWN_SEGMENT,
    Code::INPUT_OPEN_TO_DEFAULT_ROUTE,
];

/// Warnings of a target (N301 in its warning form: natc writes part of an item and says so;
/// N303): accepted on the `[[gateway]]` only, and never reported as unused, since whether
/// they occur depends on the target being built. An accept never silences an error.
pub const TARGET_WARNINGS: &[Code] = &[Code::TARGET_CANNOT_EXPRESS, Code::TARGET_INTERFACE_DEPRECATED];

/// Can an `accept` name this code? (check/accept.rs enforces it, schema/forms.rs offers it.)
pub fn is_acceptable(code: Code) -> bool {
    ITEM_WARNINGS.contains(&code) || TARGET_WARNINGS.contains(&code)
}
