//! The field checks (N2xx, docs/checks.md): where each must stay quiet, and the finer
//! points of where it fires that one case file per code cannot show. Every example must
//! produce no check diagnostic at all.

mod common;

use natc::diag::Diagnostic;

/// The codes an intent's checks produce: its errors, else its warnings.
/// The codes found, without N232 (the input policy left open towards the default route):
/// most scenarios here keep the default input policy and have a default route, and N232 is
/// asserted by its own tests (`n232_*`).
fn codes(body: &str) -> Vec<&'static str> {
    diagnostics(body).iter().map(|d| d.code.0).filter(|c| *c != "N232").collect()
}

fn every_code(body: &str) -> Vec<&'static str> {
    diagnostics(body).iter().map(|d| d.code.0).collect()
}

#[test]
fn n232_an_open_input_policy_towards_the_default_route_is_found() {
    let gateway = |policy: &str, route: &str| {
        format!(
            "[[gateway]]\nname = \"gw\"\n[[gateway.interface]]\nname = \"eth0\"\naddress = \"192.168.1.1/24\"\n\
             [[gateway.interface]]\nname = \"eth1\"\naddress = \"203.0.113.2/29\"\n{policy}{route}"
        )
    };
    let default_via = "[[gateway.route]]\nto = \"0.0.0.0/0\"\nvia = \"203.0.113.1\"\n";
    let open = diagnostics(&gateway("", default_via));
    let [d] = open.as_slice() else { panic!("{open:#?}") };
    assert_eq!(d.code.0, "N232");
    assert!(
        d.message.contains("interface `eth1`") && d.help.as_deref().is_some_and(|h| h.contains("input = \"drop\"")),
        "{d:#?}"
    );
    // Closed input, no default route, or a default route into a tunnel: quiet.
    assert_eq!(every_code(&gateway("[gateway.policy]\ninput = \"drop\"\n", default_via)), Vec::<&str>::new());
    assert_eq!(
        every_code(&gateway("", "[[gateway.route]]\nto = \"10.0.0.0/8\"\nvia = \"203.0.113.1\"\n")),
        Vec::<&str>::new()
    );
    let tunnel = "[[gateway.tunnel]]\nname = \"vpn\"\nremote = \"198.51.100.7\"\npsk = { env = \"P\" }\n\
                  vti = { name = \"vti0\", address = \"169.254.0.1/30\" }\n\
                  [[gateway.route]]\nto = \"0.0.0.0/0\"\ninterface = \"vti0\"\n";
    assert!(!every_code(&gateway("", tunnel)).contains(&"N232"));
    // Accepted on the gateway with a reason: silenced.
    let accepted = gateway("", default_via)
        .replace("name = \"gw\"\n", "name = \"gw\"\naccept = [{ code = \"N232\", reason = \"lab box\" }]\n");
    assert_eq!(every_code(&accepted), Vec::<&str>::new());
}

fn diagnostics(body: &str) -> Vec<Diagnostic> {
    match natc::compile(&intent(body)) {
        Ok(c) => c.warnings,
        Err(d) => d,
    }
}

fn intent(body: &str) -> String {
    format!("natc = 1\nname = \"t\"\n{body}")
}

fn has(body: &str, code: &str) -> bool {
    codes(body).contains(&code)
}

/// A gateway with a client side (eth0, 192.168.100.0/24) and a server side (eth1,
/// 192.168.200.0/24), as in seed 003.
const TWO_SEGMENTS: &str = r#"
[[gateway]]
name = "gw"
[[gateway.interface]]
name = "eth0"
address = "192.168.100.2/24"
[[gateway.interface]]
name = "eth1"
address = "192.168.200.2/24"
"#;

fn two_segments(items: &str) -> String {
    format!("{TWO_SEGMENTS}{items}")
}

const BEHIND_NAT: &str = r#"
[[gateway]]
name = "gw"
[[gateway.interface]]
name = "eth0"
address = "192.168.0.9/24"
[[gateway.route]]
to = "0.0.0.0/0"
via = "192.168.0.1"
"#;

fn tunnel(name: &str, vti: &str, extra: &str) -> String {
    format!(
        "[[gateway.tunnel]]\nname = \"{name}\"\nremote = \"203.0.113.51\"\npsk = {{ env = \"PSK\" }}\n{vti}\n{extra}\n"
    )
}

#[test]
fn every_example_is_free_of_check_diagnostics() {
    for path in common::examples() {
        let compiled = common::compile(&path);
        assert!(compiled.warnings.is_empty(), "{}: {:#?}", path.display(), compiled.warnings);
        let targets = natc::check_declared_targets(&compiled);
        assert!(targets.iter().all(|d| !d.code.0.starts_with("N2")), "{}: {:#?}", path.display(), targets);
    }
}

#[test]
fn seed_003_without_route_and_masquerade_gives_both_warnings() {
    let text =
        std::fs::read_to_string(common::root().join("tests/warnings/seed-003-without-route-and-masquerade.toml"))
            .expect("readable");
    let compiled = natc::compile(&text).expect("compiles");
    let found: Vec<&str> = compiled.warnings.iter().map(|d| d.code.0).collect();
    assert_eq!(found, ["N203", "N204"]);
}

// ------------------------------------------------------------------ N201

#[test]
fn prefix_maps_with_the_same_shift_or_apart_are_one_to_one() {
    // The /25 and the /24 shift by the same amount: they agree on every shared address.
    let same_shift = two_segments(
        r#"
[[gateway.snat]]
name = "half"
source = "10.1.0.0/25"
out_interface = "eth1"
to = "100.64.0.0/25"
[[gateway.snat]]
name = "whole"
source = "10.1.0.0/24"
out_interface = "eth1"
to = "100.64.0.0/24"
"#,
    );
    assert!(!has(&same_shift, "N201"), "{:#?}", diagnostics(&same_shift));
    let other_shift = same_shift.replace("100.64.0.0/25", "100.99.0.0/25");
    assert!(has(&other_shift, "N201"));
    // One network shown under two prefixes, towards two interfaces: no packet meets both.
    let two_ways = two_segments(
        r#"
[[gateway.snat]]
name = "to-a"
source = "10.1.0.0/24"
out_interface = "eth0"
to = "100.64.0.0/24"
[[gateway.snat]]
name = "to-b"
source = "10.1.0.0/24"
out_interface = "eth1"
to = "100.65.0.0/24"
"#,
    );
    assert_eq!(codes(&two_ways), Vec::<&str>::new());
}

#[test]
fn one_lan_netmapped_to_two_remotes_on_one_interface_is_one_to_one() {
    let hub = two_segments(
        r#"
[[gateway.netmap]]
name = "to-b"
local = "10.1.0.0/24"
local_as = "10.20.0.0/24"
remote_as = "10.30.0.0/24"
interface = "eth1"
[[gateway.netmap]]
name = "to-c"
local = "10.1.0.0/24"
local_as = "10.21.0.0/24"
remote_as = "10.31.0.0/24"
interface = "eth1"
"#,
    );
    assert_eq!(codes(&hub), Vec::<&str>::new());
    // The same far side under both: the second netmap's SNAT half can never match.
    let clash = hub.replace("10.31.0.0/24", "10.30.0.0/24");
    assert_eq!(codes(&clash), ["N211"]);
    // The same virtual prefix for two LANs towards one far side: the DNAT halves clash.
    let two_lans = hub.replace(
        "local = \"10.1.0.0/24\"\nlocal_as = \"10.21.0.0/24\"\nremote_as = \"10.31.0.0/24\"",
        "local = \"10.2.0.0/24\"\nlocal_as = \"10.20.0.0/24\"\nremote_as = \"10.30.0.0/24\"",
    );
    assert!(has(&two_lans, "N201"), "{:#?}", diagnostics(&two_lans));
}

// ------------------------------------------------------------------ N202

#[test]
fn claims_that_attract_a_connected_address_are_not_clashes() {
    for claim in ["proxy-arp", "loopback"] {
        let body = two_segments(&format!(
            r#"
[[gateway.dnat]]
name = "svc"
in_interface = "eth0"
destination = "192.168.100.50"
to = "192.168.200.3"
claim = "{claim}"
return_route = true
"#
        ));
        assert_eq!(codes(&body), Vec::<&str>::new(), "{claim}");
    }
}

#[test]
fn proxy_arp_for_an_address_of_another_segment_clashes() {
    let body = two_segments(
        r#"
[[gateway.dnat]]
name = "svc"
in_interface = "eth0"
destination = "192.168.200.50"
to = "192.168.200.3"
claim = "proxy-arp"
"#,
    );
    assert_eq!(codes(&body), ["N202"]);
}

#[test]
fn routes_around_connected_networks_are_normal() {
    let body = two_segments(
        r#"
[[gateway.route]]
to = "0.0.0.0/0"
via = "192.168.100.254"
[[gateway.route]]
to = "192.168.0.0/16"
via = "192.168.200.254"
[[gateway.route]]
name = "same-segment"
to = "192.168.100.128/25"
interface = "eth0"
"#,
    );
    assert_eq!(codes(&body), Vec::<&str>::new());
    let shadowed = body.replace("interface = \"eth0\"", "interface = \"eth1\"");
    assert_eq!(codes(&shadowed), ["N202"]);
}

#[test]
fn a_one_to_one_snat_into_a_connected_network_clashes() {
    let body = two_segments(
        r#"
[[gateway.snat]]
name = "map"
source = "10.1.0.0/24"
out_interface = "eth1"
to = "192.168.200.0/24"
"#,
    );
    assert_eq!(codes(&body), ["N202"]);
}

// ------------------------------------------------------------------ N203

const SEED_003: &str = r#"
[[gateway.dnat]]
name = "to-vm03"
destination = "192.168.100.3"
to = "192.168.200.3"
in_interface = "eth0"
[[gateway.snat]]
name = "masq"
source = "192.168.100.0/24"
out_interface = "eth1"
to = "masquerade"
"#;

#[test]
fn a_routed_destination_on_the_clients_segment_needs_a_lab_route_or_a_claim() {
    let bare = two_segments(SEED_003);
    assert_eq!(codes(&bare), ["N203"]);
    let lab = |routes: &str| {
        format!("{bare}[[lab.host]]\nname = \"vm01\"\naddress = \"192.168.100.1/24\"\nattach = \"gw.eth0\"\n{routes}")
    };
    assert_eq!(codes(&lab("routes = [{ to = \"192.168.100.3\", via = \"192.168.100.2\" }]")), Vec::<&str>::new());
    // A default route does not help: the connected /24 is more specific.
    assert_eq!(codes(&lab("gateway = \"192.168.100.2\"")), ["N203"]);
    // A host route to someone else does not help either.
    assert_eq!(codes(&lab("routes = [{ to = \"192.168.100.3\", via = \"192.168.100.254\" }]")), ["N203"]);
    assert_eq!(
        codes(&bare.replace("in_interface = \"eth0\"", "in_interface = \"eth0\"\nclaim = \"proxy-arp\"")),
        Vec::<&str>::new()
    );
    // Without in_interface the clients of every segment count.
    assert_eq!(codes(&bare.replace("in_interface = \"eth0\"\n", "")), ["N203"]);
}

#[test]
fn a_routed_destination_off_every_segment_is_attracted_by_routing() {
    let body = two_segments(&SEED_003.replace("192.168.100.3", "100.64.0.3"));
    assert_eq!(codes(&body), Vec::<&str>::new());
}

// ------------------------------------------------------------------ N204

#[test]
fn replies_come_back_by_snat_return_route_or_the_lab() {
    let dnat = r#"
[[gateway.dnat]]
name = "web"
destination = "100.64.0.3"
to = "192.168.200.3"
in_interface = "eth0"
"#;
    assert_eq!(codes(&two_segments(dnat)), ["N204"]);
    let declared = two_segments(&format!("{dnat}return_route = true\n"));
    assert_eq!(codes(&declared), Vec::<&str>::new());
    let masq_wrong_way =
        format!("{dnat}[[gateway.snat]]\nname = \"m\"\nout_interface = \"eth0\"\nto = \"masquerade\"\n");
    assert_eq!(codes(&two_segments(&masq_wrong_way)), ["N204"]);
    let masq = masq_wrong_way.replace("out_interface = \"eth0\"", "out_interface = \"eth1\"");
    assert_eq!(codes(&two_segments(&masq)), Vec::<&str>::new());
    let lab = format!(
        "{dnat}[[lab.host]]\nname = \"web\"\naddress = \"192.168.200.3/24\"\nattach = \"gw.eth1\"\ngateway = \"192.168.200.2\"\n"
    );
    assert_eq!(codes(&two_segments(&lab)), Vec::<&str>::new());
    let elsewhere = lab.replace("gateway = \"192.168.200.2\"", "gateway = \"192.168.200.254\"");
    assert_eq!(codes(&two_segments(&elsewhere)), ["N204"]);
}

// ------------------------------------------------------------------ N205

#[test]
fn a_snat_with_any_scope_is_not_a_rewrite_of_everything() {
    let base = "[[gateway.snat]]\nname = \"s\"\nto = \"192.168.200.2\"\n";
    assert_eq!(codes(&two_segments(base)), ["N205"]);
    for scope in ["out_interface = \"eth1\"", "source = \"10.0.0.0/8\"", "destination = \"10.0.0.0/8\""] {
        assert_eq!(codes(&two_segments(&format!("{base}{scope}\n"))), Vec::<&str>::new(), "{scope}");
    }
}

// ------------------------------------------------------------------ N206 .. N209, N214

#[test]
fn remote_prefixes_through_one_exit_or_under_a_default_route_do_not_overlap_badly() {
    let one_exit = format!(
        "{BEHIND_NAT}{}[[gateway.route]]\nto = \"10.0.0.0/24\"\ninterface = \"vti0\"\n[[gateway.route]]\nto = \"10.0.0.0/25\"\ninterface = \"vti0\"\n",
        tunnel("a", "vti = { name = \"vti0\", address = \"169.254.0.2/30\" }", "")
    );
    assert_eq!(codes(&one_exit), Vec::<&str>::new());
    let policy = format!(
        "{BEHIND_NAT}{}{}",
        tunnel("a", "local_networks = [\"192.168.0.0/24\"]\nremote_networks = [\"10.0.0.0/24\"]", ""),
        tunnel("b", "local_networks = [\"192.168.0.0/24\"]\nremote_networks = [\"10.0.0.0/25\"]", "")
    );
    assert_eq!(codes(&policy), ["N206"]);
}

#[test]
fn selectors_written_after_nat_are_right() {
    let body = two_segments(&format!(
        "[[gateway.netmap]]\nname = \"lan\"\nlocal = \"192.168.100.0/24\"\nlocal_as = \"10.10.0.0/24\"\nremote_as = \"10.20.0.0/24\"\ninterface = \"eth1\"\n{}",
        tunnel("b", "local_networks = [\"10.10.0.0/24\"]\nremote_networks = [\"10.20.0.0/24\"]", "")
    ));
    assert_eq!(codes(&body), Vec::<&str>::new());
    assert_eq!(
        codes(&body.replace("local_networks = [\"10.10.0.0/24\"]", "local_networks = [\"192.168.100.0/24\"]")),
        ["N207"]
    );
}

#[test]
fn a_snat_exempt_from_ipsec_or_into_the_selectors_leaves_the_tunnel_alone() {
    let policy = tunnel("b", "local_networks = [\"192.168.100.0/24\"]\nremote_networks = [\"10.20.0.0/24\"]", "");
    let masq = "[[gateway.snat]]\nname = \"out\"\nsource = \"192.168.100.0/24\"\nout_interface = \"eth1\"\nto = \"masquerade\"\n";
    assert_eq!(codes(&two_segments(&format!("{policy}{masq}"))), ["N208"]);
    assert_eq!(codes(&two_segments(&format!("{policy}{masq}except_ipsec = true\n"))), Vec::<&str>::new());
    // NAT before IPsec on purpose: the new source is inside the local selectors.
    let wide = tunnel("w", "local_networks = [\"10.8.0.0/16\"]\nremote_networks = [\"10.20.0.0/24\"]", "");
    let into = "[[gateway.snat]]\nname = \"in\"\nsource = \"10.8.1.0/24\"\ndestination = \"10.20.0.0/24\"\nto = \"10.8.9.0/24\"\n";
    assert_eq!(codes(&two_segments(&format!("{wide}{into}"))), Vec::<&str>::new());
    // Translated for this path to a source outside the selectors: the selector is wrong.
    let outside = into.replace("to = \"10.8.9.0/24\"", "to = \"10.9.9.0/24\"");
    assert_eq!(codes(&two_segments(&format!("{wide}{outside}"))), ["N207"]);
    // A route-based tunnel has no selectors to fall out of.
    let vti = tunnel("v", "vti = { name = \"vti0\", address = \"169.254.0.2/30\" }", "");
    assert_eq!(codes(&two_segments(&format!("{vti}{masq}"))), Vec::<&str>::new());
}

#[test]
fn the_input_filter_must_let_the_peer_in() {
    let vti = "vti = { name = \"vti0\", address = \"169.254.0.2/30\" }";
    let drop = "[gateway.policy]\ninput = \"drop\"\n";
    let nat_t = format!("{BEHIND_NAT}{drop}{}", tunnel("a", vti, "nat_traversal = true"));
    assert_eq!(codes(&nat_t), ["N209"]);
    let allowed = format!(
        "{nat_t}[[gateway.allow]]\nname = \"ike\"\nchain = \"input\"\nfrom = \"203.0.113.51\"\nprotocol = \"udp\"\nport = [500, 4500]\n"
    );
    assert_eq!(codes(&allowed), Vec::<&str>::new());
    // Without NAT-T the peer sends ESP, which udp/500 alone does not let in.
    let esp = allowed.replace("nat_traversal = true", "").replace("port = [500, 4500]", "port = 500");
    let message = diagnostics(&esp).first().map(|d| d.message.clone()).unwrap_or_default();
    assert!(message.contains("ESP") && !message.contains("IKE"), "{message}");
    assert_eq!(codes(&nat_t.replace(drop, "")), Vec::<&str>::new(), "input accept lets everything in");
}

#[test]
fn a_vti_mtu_of_1500_needs_no_clamp_and_a_smaller_one_can_be_accepted() {
    let vti = |mtu: &str| format!("vti = {{ name = \"vti0\", address = \"169.254.0.2/30\"{mtu} }}");
    assert_eq!(codes(&format!("{BEHIND_NAT}{}", tunnel("a", &vti(""), ""))), Vec::<&str>::new());
    assert_eq!(codes(&format!("{BEHIND_NAT}{}", tunnel("a", &vti(", mtu = 1500"), ""))), Vec::<&str>::new());
    assert_eq!(codes(&format!("{BEHIND_NAT}{}", tunnel("a", &vti(", mtu = 1400"), ""))), ["N214"]);
    let accepted = tunnel("a", &vti(", mtu = 1400"), "accept = [{ code = \"N214\", reason = \"clamped on the box\" }]");
    assert_eq!(codes(&format!("{BEHIND_NAT}{accepted}")), Vec::<&str>::new());
}

#[test]
fn tcp_mss_on_the_tunnel_silences_n214_and_its_help_names_the_key() {
    let vti = "vti = { name = \"vti0\", address = \"169.254.0.2/30\", mtu = 1436 }";
    let bare = format!("{BEHIND_NAT}{}", tunnel("a", vti, ""));
    let help = diagnostics(&bare).into_iter().find(|d| d.code.0 == "N214").and_then(|d| d.help).unwrap_or_default();
    assert!(help.contains("tcp_mss = 1396") && help.contains("\"auto\""), "{help}");
    for mss in ["tcp_mss = 1396", "tcp_mss = \"auto\""] {
        assert_eq!(codes(&format!("{BEHIND_NAT}{}", tunnel("a", vti, mss))), Vec::<&str>::new(), "{mss}");
    }
    // An interface's clamp is not this tunnel's (a VTI cannot be declared as an interface: N105).
    let other = "[[gateway.interface]]\nname = \"eth1\"\ntcp_mss = 1396\n";
    assert_eq!(codes(&format!("{BEHIND_NAT}{other}{}", tunnel("a", vti, ""))), ["N214"]);
}

// ------------------------------------------------------------------ N210

#[test]
fn payload_protocols_are_found_by_port_to_port_and_allow() {
    let dnat = |port: &str| {
        two_segments(&format!(
            "[[gateway.dnat]]\nname = \"d\"\ndestination = \"100.64.0.3\"\nto = \"192.168.200.3\"\nreturn_route = true\nprotocol = \"tcp\"\n{port}\n"
        ))
    };
    assert_eq!(codes(&dnat("port = 22")), Vec::<&str>::new());
    assert_eq!(codes(&dnat("port = \"1500-1530\"")), ["N210"], "Oracle's 1521 inside a range");
    assert_eq!(codes(&dnat("port = 2121\nto_port = 21")), ["N210"]);
    let forward_all = two_segments(
        r#"
[[gateway.dnat]]
name = "d"
destination = "100.64.0.3"
to = "192.168.200.3"
return_route = true
[gateway.policy]
forward = "drop"
[[gateway.allow]]
name = "ftp"
to = "192.168.200.3"
protocol = "tcp"
port = [21, 22]
"#,
    );
    assert_eq!(codes(&forward_all), ["N210"]);
    // No allow reaches .3 at all: no FTP passes (no N210), and the forward is dead (N229).
    assert_eq!(
        codes(&forward_all.replace("to = \"192.168.200.3\"\nprotocol", "to = \"192.168.200.9\"\nprotocol")),
        ["N229"]
    );
    assert_eq!(codes(&forward_all.replace("port = [21, 22]", "port = 22")), Vec::<&str>::new());
}

// ------------------------------------------------------------------ N211

#[test]
fn rules_that_an_earlier_one_always_beats_are_found_others_not() {
    let allow =
        |name: &str, extra: &str| format!("[[gateway.allow]]\nname = \"{name}\"\nprotocol = \"tcp\"\n{extra}\n");
    let drop = "[gateway.policy]\nforward = \"drop\"\n";
    let disjoint = two_segments(&format!("{drop}{}{}", allow("a", "port = 22"), allow("b", "port = 80")));
    assert_eq!(codes(&disjoint), Vec::<&str>::new());
    let repeated = two_segments(&format!("{drop}{}{}", allow("a", "port = 22"), allow("b", "port = 22")));
    let found = diagnostics(&repeated);
    assert_eq!(found.iter().map(|d| d.code.0).collect::<Vec<_>>(), ["N211"]);
    assert!(found[0].message.contains("repeats"), "{}", found[0].message);
    // A wider earlier rule (a supernet, no port) hides a narrower later one, not the reverse.
    let wide_first = two_segments(&format!(
        "{drop}{}{}",
        allow("all", "to = \"192.168.200.0/24\""),
        allow("one", "to = \"192.168.200.3\"\nport = 22")
    ));
    assert_eq!(codes(&wide_first), ["N211"]);
    let narrow_first = two_segments(&format!(
        "{drop}{}{}",
        allow("one", "to = \"192.168.200.3\"\nport = 22"),
        allow("all", "to = \"192.168.200.0/24\"")
    ));
    assert_eq!(codes(&narrow_first), Vec::<&str>::new());
    // Different input interfaces never shadow each other; no interface covers them all.
    let by_interface = two_segments(&format!(
        "{drop}{}{}",
        allow("a", "in_interface = \"eth0\"\nport = 22"),
        allow("b", "in_interface = \"eth1\"\nport = 22")
    ));
    assert_eq!(codes(&by_interface), Vec::<&str>::new());
}

#[test]
fn a_later_snat_behind_a_catch_all_masquerade_is_shadowed() {
    let body = two_segments(
        r#"
[[gateway.snat]]
name = "masq"
out_interface = "eth1"
to = "masquerade"
[[gateway.snat]]
name = "fixed"
source = "192.168.100.0/24"
out_interface = "eth1"
to = "192.168.200.9"
"#,
    );
    assert_eq!(codes(&body), ["N211"]);
}

// ------------------------------------------------------------------ N212

#[test]
fn a_non_forwarding_gateway_may_redirect_to_itself() {
    let body = r#"
[[gateway]]
name = "gw"
forwarding = false
[[gateway.interface]]
name = "eth0"
address = "192.0.2.1/24"
[[gateway.dnat]]
name = "redirect"
destination = "192.0.2.1"
protocol = "tcp"
port = 80
to = "192.0.2.1"
to_port = 8080
"#;
    assert_eq!(codes(body), Vec::<&str>::new());
    assert_eq!(codes(&body.replace("to = \"192.0.2.1\"\nto_port", "to = \"192.0.2.9\"\nto_port")), ["N212"]);
}

// ------------------------------------------------------------------ N213

#[test]
fn a_network_used_only_by_the_lab_is_used() {
    let body = format!(
        "[networks]\nclient = \"192.168.100.1\"\n{TWO_SEGMENTS}[[lab.host]]\nname = \"c\"\naddress = \"192.168.100.1/24\"\nattach = \"gw.eth0\"\n[[lab.host]]\nname = \"s\"\naddress = \"192.168.200.1/24\"\nattach = \"gw.eth1\"\n[[expect]]\nname = \"e\"\nfrom = \"s\"\nto = \"@client\"\narrives_at = \"c\"\n"
    );
    assert_eq!(codes(&body), Vec::<&str>::new());
    assert_eq!(codes(&body.replace("\"@client\"", "\"192.168.100.1\"")), ["N213"]);
}

// ------------------------------------------------------------------ accept

#[test]
fn an_accept_with_a_reason_silences_its_warning_on_its_item_only() {
    let snat =
        |name: &str, accept: &str| format!("[[gateway.snat]]\nname = \"{name}\"\nto = \"192.168.200.2\"\n{accept}\n");
    let accept = "accept = [{ code = \"N205\", reason = \"the lab box has one network\" }]";
    assert_eq!(codes(&two_segments(&snat("a", accept))), Vec::<&str>::new());
    // The accept sits on `a`; `b` still warns (and is shadowed by `a`).
    let two = two_segments(&format!("{}{}", snat("a", accept), snat("b", "")));
    let mut found = codes(&two);
    found.sort();
    assert_eq!(found, ["N205", "N211"]);
    // On the gateway it covers every item of it.
    let on_gateway = format!("{}{}", snat("a", ""), snat("b", ""));
    let gateway = TWO_SEGMENTS.replace(
        "name = \"gw\"\n",
        "name = \"gw\"\naccept = [{ code = \"N205\", reason = \"lab\" }, { code = \"N211\", reason = \"lab\" }]\n",
    );
    assert_eq!(codes(&format!("{gateway}{on_gateway}")), Vec::<&str>::new());
}

#[test]
fn invalid_accepts_are_errors_and_say_why() {
    let with = |accept: &str| {
        diagnostics(&two_segments(&format!(
            "[[gateway.snat]]\nname = \"a\"\nout_interface = \"eth1\"\nto = \"masquerade\"\naccept = [{accept}]\n"
        )))
    };
    let unknown = with("{ code = \"N2O5\", reason = \"typo\" }");
    assert_eq!(unknown[0].code.0, "N215");
    assert!(unknown[0].help.as_deref().unwrap_or_default().contains("did you mean \"N205\""), "{unknown:#?}");
    assert_eq!(with("{ code = \"N205\", reason = \"  \" }")[0].code.0, "N215", "a blank reason is no reason");
    assert_eq!(with("{ code = \"N213\", reason = \"x\" }")[0].code.0, "N215");
    assert_eq!(with("{ code = \"N303\", reason = \"x\" }")[0].code.0, "N215", "N303 belongs on the gateway");
    let unused = with("{ code = \"N205\", reason = \"x\" }");
    assert_eq!(unused.iter().map(|d| d.code.0).collect::<Vec<_>>(), ["N216"]);
    assert!(!unused[0].is_error());
}

#[test]
fn a_target_warning_can_be_accepted_on_the_gateway() {
    let body = TWO_SEGMENTS.replace(
        "name = \"gw\"\n",
        "name = \"gw\"\naccept = [{ code = \"N303\", reason = \"firewalld 1.x still has direct rules\" }]\n",
    );
    let build = |text: &str| {
        let compiled = natc::compile(&intent(text)).expect("compiles");
        let options =
            natc::BuildOptions { targets: vec!["firewalld".parse().unwrap()], gateways: vec![], ..Default::default() };
        let artifacts = natc::build(&compiled, &options).expect("builds");
        artifacts.into_iter().flat_map(|a| a.warnings).map(|d| d.code.0).collect::<Vec<_>>()
    };
    assert_eq!(build(TWO_SEGMENTS), ["N303"]);
    assert_eq!(build(&body), Vec::<&str>::new());
    // Whether a target warning occurs depends on the target built: never reported as unused.
    assert_eq!(codes(&body), Vec::<&str>::new());
}

#[test]
fn a_partial_rendering_warning_of_vyos_can_be_accepted_on_the_gateway_but_no_error() {
    let tun = TWO_SEGMENTS.replace("name = \"eth1\"", "name = \"tun0\"");
    let vyos = |text: &str| {
        let compiled = natc::compile(&intent(text)).expect("compiles");
        let options =
            natc::BuildOptions { targets: vec!["vyos".parse().unwrap()], gateways: vec![], ..Default::default() };
        match natc::build(&compiled, &options) {
            Ok(artifacts) => artifacts.into_iter().flat_map(|a| a.warnings).map(|d| d.code.0).collect::<Vec<_>>(),
            Err(e) => panic!("{e:?}"),
        }
    };
    assert_eq!(vyos(&tun), ["N301"]);
    let accept = "name = \"gw\"\naccept = [{ code = \"N301\", reason = \"tun0 is configured by hand\" }]\n";
    assert_eq!(vyos(&tun.replacen("name = \"gw\"\n", accept, 1)), Vec::<&str>::new());
    // The same accept does not make an N301 error go away: the build is still refused.
    let tunnel = format!(
        "{}{}",
        tun.replacen("name = \"gw\"\n", accept, 1),
        tunnel("t", "vti = { name = \"vti0\", address = \"169.254.0.2/30\" }", "ike = { encryption = \"des\" }")
    );
    let compiled = natc::compile(&intent(&tunnel)).expect("compiles");
    let options =
        natc::BuildOptions { targets: vec!["strongswan".parse().unwrap()], gateways: vec![], ..Default::default() };
    assert!(
        matches!(natc::build(&compiled, &options), Err(natc::Error::Invalid(d)) if d.iter().any(|d| d.code.0 == "N301" && d.is_error()))
    );
}

// ------------------------------------------------------------------ --strict

fn natc() -> assert_cmd::Command {
    assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("natc"))
}

#[test]
fn strict_turns_warnings_into_errors_and_accept_keeps_one() {
    use predicates::prelude::*;
    let dir = tempfile::tempdir().expect("tempdir");
    let warn = dir.path().join("warn.toml");
    let snat = "[[gateway.snat]]\nname = \"a\"\nto = \"192.168.200.2\"\n";
    let with_target = |items: &str| {
        intent(&two_segments(items)).replace("name = \"gw\"\n", "name = \"gw\"\ntargets = [\"nftables\"]\n")
    };
    std::fs::write(&warn, with_target(snat)).expect("write");
    natc().arg("check").arg(&warn).assert().code(0).stderr(predicate::str::contains("N205"));
    natc()
        .args(["check", "--strict"])
        .arg(&warn)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("× SNAT `a` rewrites").and(predicate::str::contains("1 error(s)")));
    let out = dir.path().join("out");
    natc().args(["build", "--strict", "-t", "nftables", "-o"]).arg(&out).arg(&warn).assert().code(1);
    assert!(!out.exists(), "--strict wrote files despite a warning");
    let accepted = dir.path().join("accepted.toml");
    let reason = "accept = [{ code = \"N205\", reason = \"a one-network lab box\" }]\n";
    std::fs::write(&accepted, with_target(&format!("{snat}{reason}"))).expect("write");
    natc().args(["check", "--strict"]).arg(&accepted).assert().code(0);
    natc().args(["build", "--strict", "-t", "nftables", "-o"]).arg(&out).arg(&accepted).assert().code(0);
    assert!(out.join("gw/nftables.nft").is_file());
}

#[test]
fn strict_counts_target_warnings_too() {
    use predicates::prelude::*;
    let path = common::root().join("tests/warnings/firewalld-direct-deprecated.toml");
    natc()
        .args(["build", "--strict", "-t", "firewalld"])
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("N303"));
    natc().args(["build", "--strict", "-t", "nftables"]).arg(&path).assert().code(0);
}

// ------------------------------------------------------------------ issue 17: the N202 fix

/// Every diagnostic of a whole intent (errors, else warnings).
fn found(text: &str) -> Vec<Diagnostic> {
    match natc::compile(text) {
        Ok(c) => c.warnings,
        Err(d) => d,
    }
}

/// The one diagnostic with `code` among `found`, and the (trimmed) source line each of its
/// labels starts on, primary first.
fn labelled<'d>(text: &str, all: &'d [Diagnostic], code: &str) -> (&'d Diagnostic, Vec<String>) {
    let mut with: Vec<&Diagnostic> = all.iter().filter(|d| d.code.0 == code).collect();
    assert_eq!(with.len(), 1, "one {code} expected: {all:#?}");
    let d = with.remove(0);
    let lines = d
        .labels
        .iter()
        .map(|l| {
            let start = text[..l.span.start].rfind('\n').map_or(0, |i| i + 1);
            let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            text[start..end].trim().to_string()
        })
        .collect();
    (d, lines)
}

/// Without N232 (asserted by `n232_*`): these cases keep the default input policy.
fn all_codes(text: &str) -> Vec<&'static str> {
    found(text).iter().map(|d| d.code.0).filter(|c| *c != "N232").collect()
}

/// Issue 17: an internal /28 mapped 1:1 onto spare addresses of the ISP subnet on the WAN.
const SPARE: &str = r#"natc = 1
name = "spare"
[[gateway]]
name = "edge"
[[gateway.interface]]
name = "eth0"
address = "203.0.113.2/24"
[[gateway.interface]]
name = "eth1"
address = "10.0.0.1/24"
[[gateway.snat]]
name = "servers-out"
out_interface = "eth0"
source = "10.0.0.16/28"
to = "203.0.113.16/28"
[[gateway.dnat]]
name = "servers-in"
in_interface = "eth0"
destination = "203.0.113.16/28"
to = "10.0.0.16/28"
claim = "proxy-arp"
return_route = true
"#;

#[test]
fn n202_spare_addresses_the_gateway_proxy_arps_are_not_a_clash() {
    assert_eq!(all_codes(SPARE), Vec::<&str>::new());
    // Without the claim nobody answers for them on eth0: still N202 (and the routed
    // destination on its own segment is N203's, a warning the error hides).
    let routed = SPARE.replace("claim = \"proxy-arp\"\n", "");
    let all = found(&routed);
    let (d, lines) = labelled(&routed, &all, "N202");
    assert!(d.is_error());
    assert_eq!(lines[0], "to = \"203.0.113.16/28\"");
    // A proxy-arp claim of only part of the /28 leaves the rest unanswered.
    let part = SPARE.replace(
        "destination = \"203.0.113.16/28\"\nto = \"10.0.0.16/28\"",
        "destination = \"203.0.113.16/29\"\nto = \"10.0.0.16/29\"",
    );
    assert!(all_codes(&part).contains(&"N202"), "{:?}", all_codes(&part));
}

#[test]
fn n202_spare_addresses_the_gateway_owns_are_not_a_clash() {
    let owned = |hosts: std::ops::Range<u8>| -> String {
        let addresses: String = hosts
            .map(|h| format!("[[gateway.address]]\ninterface = \"eth0\"\naddress = \"203.0.113.{h}/24\"\n"))
            .collect();
        let body = SPARE
            .replace("/28", "/30")
            .replace("[[gateway.dnat]]\nname = \"servers-in\"\nin_interface = \"eth0\"\ndestination = \"203.0.113.16/30\"\nto = \"10.0.0.16/30\"\nclaim = \"proxy-arp\"\nreturn_route = true\n", "");
        format!("{body}{addresses}")
    };
    assert_eq!(all_codes(&owned(16..20)), Vec::<&str>::new());
    assert_eq!(all_codes(&owned(16..19)), ["N202"], "203.0.113.19 is nobody's");
}

// ------------------------------------------------------------------ issue 17: N229–N231

/// A case file's text.
fn case(path: &str) -> String {
    std::fs::read_to_string(common::root().join(path)).expect("readable")
}

const EDGE: &str = r#"
[[gateway]]
name = "edge"
[[gateway.interface]]
name = "eth0"
address = "198.51.100.2/24"
[[gateway.interface]]
name = "eth1"
address = "10.0.0.1/24"
"#;

fn port_forward(name: &str, port: &str, to: &str) -> String {
    format!(
        "[[gateway.dnat]]\nname = \"{name}\"\nin_interface = \"eth0\"\ndestination = \"198.51.100.2\"\nprotocol = \"tcp\"\n{port}\nto = \"{to}\"\nreturn_route = true\n"
    )
}

fn forward_drop(allows: &str) -> String {
    format!("[gateway.policy]\nforward = \"drop\"\n{allows}")
}

fn allow(name: &str, lines: &str) -> String {
    format!("[[gateway.allow]]\nname = \"{name}\"\nchain = \"forward\"\n{lines}\n")
}

#[test]
fn n229_a_port_forward_the_forward_filter_drops_is_found_per_port() {
    let text = case("tests/warnings/dnat-dropped-by-forward-filter.toml");
    let all = found(&text);
    let (d, lines) = labelled(&text, &all, "N229");
    assert!(!d.is_error());
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(lines, ["port = 80", "forward = \"drop\""]);
    assert!(d.message.contains("tcp port 80") && d.message.contains("`http`"), "{}", d.message);
    assert!(d.help.as_deref().unwrap().contains("to = \"10.0.0.10\", protocol = \"tcp\", port = 80"), "{d:#?}");
    // The fix: the allow takes port 80 as well.
    let fixed = text.replace("port = 443\nchain", "port = [80, 443]\nchain");
    assert_eq!(all_codes(&fixed), Vec::<&str>::new());

    // Per port through a to_port shift: 8000-8009 become 9000-9009; only 9000-9004 allowed.
    let shifted = |allowed: &str| {
        format!(
            "natc = 1\nname = \"t\"\n{EDGE}{}{}",
            port_forward("app", "port = \"8000-8009\"\nto_port = \"9000-9009\"", "10.0.0.10"),
            forward_drop(&allow("app-in", &format!("to = \"10.0.0.10\"\nprotocol = \"tcp\"\nport = \"{allowed}\"")))
        )
    };
    let text = shifted("9000-9004");
    let all = found(&text);
    let (d, _) = labelled(&text, &all, "N229");
    assert!(d.message.contains("tcp port 8005-8009 (to 9005-9009)"), "{}", d.message);
    assert_eq!(all_codes(&shifted("9000-9009")), Vec::<&str>::new());

    // to_port = one port: the allow must name the real port, not the public one.
    let single = |allowed: u16| {
        format!(
            "natc = 1\nname = \"t\"\n{EDGE}{}{}",
            port_forward("alt", "port = 8080\nto_port = 80", "10.0.0.10"),
            forward_drop(&allow("w", &format!("to = \"10.0.0.10\"\nprotocol = \"tcp\"\nport = {allowed}")))
        )
    };
    assert_eq!(all_codes(&single(8080)), ["N229"], "the allow names the public port");
    assert_eq!(all_codes(&single(80)), Vec::<&str>::new());
}

#[test]
fn n229_is_generous_where_it_cannot_be_sure_and_quiet_without_a_drop_policy() {
    let forward = port_forward("http", "port = 80", "10.0.0.10");
    let with = |allows: &str| format!("natc = 1\nname = \"t\"\n{EDGE}{forward}{}", forward_drop(allows));
    // An allow from some clients only, or without a protocol, may let the flow through.
    assert_eq!(all_codes(&with(&allow("some", "from = \"192.0.2.0/24\"\nto = \"10.0.0.10\""))), Vec::<&str>::new());
    assert_eq!(all_codes(&with(&allow("subnet", "to = \"10.0.0.0/24\""))), Vec::<&str>::new());
    // An allow for traffic arriving on the inside cannot match a forward from eth0.
    assert_eq!(all_codes(&with(&allow("inside", "in_interface = \"eth1\"\nto = \"10.0.0.10\""))), ["N229"]);
    assert_eq!(all_codes(&with(&allow("other-host", "to = \"10.0.0.11\""))), ["N229"]);
    // forward = "accept": nothing is dropped.
    assert_eq!(all_codes(&format!("natc = 1\nname = \"t\"\n{EDGE}{forward}")), Vec::<&str>::new());
    // A DNAT of every port, narrowed by the allows, is a choice; with no allow at all it is dead.
    let everything = "[[gateway.dnat]]\nname = \"dmz\"\nin_interface = \"eth0\"\ndestination = \"198.51.100.2\"\nto = \"10.0.0.10\"\nreturn_route = true\n";
    let dmz = |allows: &str| format!("natc = 1\nname = \"t\"\n{EDGE}{everything}{}", forward_drop(allows));
    let https = allow("https", "to = \"10.0.0.10\"\nprotocol = \"tcp\"\nport = 443");
    assert_eq!(all_codes(&dmz(&https)), Vec::<&str>::new());
    assert_eq!(all_codes(&dmz(&allow("elsewhere", "to = \"10.0.0.99\""))), ["N229"]);
    // A port forward to the gateway itself is the input chain's.
    let own = port_forward("self", "port = 2222\nto_port = 22", "10.0.0.1");
    assert_eq!(all_codes(&format!("natc = 1\nname = \"t\"\n{EDGE}{own}{}", forward_drop(""))), Vec::<&str>::new());
    // An accept with a reason silences it on the dnat.
    let accepted = port_forward(
        "http",
        "port = 80\naccept = [{ code = \"N229\", reason = \"closed until launch\" }]",
        "10.0.0.10",
    );
    assert_eq!(all_codes(&format!("natc = 1\nname = \"t\"\n{EDGE}{accepted}{}", forward_drop(""))), Vec::<&str>::new());
}

#[test]
fn n230_the_lan_masqueraded_out_of_the_lan_is_found_hairpin_and_one_arm_are_not() {
    let text = case("tests/warnings/masquerade-out-of-the-lan.toml");
    // The case keeps the default input policy towards its default route: N232 too.
    let all: Vec<Diagnostic> = found(&text).into_iter().filter(|d| d.code.0 != "N232").collect();
    let (d, lines) = labelled(&text, &all, "N230");
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(lines, ["out_interface = \"eth1\"", "source = \"192.168.1.0/24\"", "address = \"192.168.1.1/24\""]);
    assert!(d.help.as_deref().unwrap().contains("out_interface = \"eth0\""), "{d:#?}");
    let fixed = text.replace("out_interface = \"eth1\"", "out_interface = \"eth0\"");
    assert_eq!(all_codes(&fixed), Vec::<&str>::new());
    // Hairpin NAT: LAN clients to a LAN server through the public address.
    let hairpin = text.replace("to = \"masquerade\"", "destination = \"192.168.1.10\"\nto = \"masquerade\"");
    assert_eq!(all_codes(&hairpin), Vec::<&str>::new());
    // One-armed: the default route leaves by the LAN interface.
    let one_arm = text.replace("via = \"198.51.100.1\"", "via = \"192.168.1.254\"");
    assert_eq!(all_codes(&one_arm), Vec::<&str>::new());
    // A source that only contains the interface's subnet is not the LAN on its own wire.
    let wide = text.replace("source = \"192.168.1.0/24\"", "source = \"192.168.0.0/16\"");
    assert_eq!(all_codes(&wide), Vec::<&str>::new());
    // Part of the LAN is still the LAN.
    let part = text.replace("source = \"192.168.1.0/24\"", "source = \"192.168.1.128/25\"");
    assert_eq!(all_codes(&part), ["N230"]);
}

#[test]
fn n231_two_port_forwards_of_one_port_to_different_hosts_is_an_error() {
    let text = case("tests/invalid/147-two-port-forwards-one-port.toml");
    let all = found(&text);
    let (d, lines) = labelled(&text, &all, "N231");
    assert!(d.is_error());
    assert_eq!(all.len(), 1, "N211 stays quiet where N231 speaks: {all:#?}");
    assert_eq!(lines, ["[[gateway.dnat]]", "[[gateway.dnat]]", "to = \"10.0.0.20\""]);
    assert!(d.labels[0].span.start > d.labels[1].span.start, "the later dnat is the primary label");
    assert!(d.message.contains("tcp port 443 of 198.51.100.2 to 10.0.0.20"), "{}", d.message);
    // The fix: different ports.
    assert_eq!(all_codes(&text.replace("port = [443, 993]", "port = 993")), Vec::<&str>::new());
    // Another source narrows the earlier one: the later still gets everyone else.
    let narrowed = text.replace(
        "protocol = \"tcp\"\nport = [80, 443]",
        "source = \"192.0.2.0/24\"\nprotocol = \"tcp\"\nport = [80, 443]",
    );
    assert_eq!(all_codes(&narrowed), Vec::<&str>::new());
    // The same host twice is harmless dead code: N211, a warning.
    assert_eq!(
        all_codes(&text.replace("to = \"10.0.0.20\"", "to = \"10.0.0.10\"")),
        Vec::<&str>::new(),
        "443 and 993 differ as sets"
    );
    let same = format!(
        "natc = 1\nname = \"t\"\n{EDGE}{}{}",
        port_forward("a", "port = 443", "10.0.0.10"),
        port_forward("b", "port = 443", "10.0.0.10")
    );
    assert_eq!(all_codes(&same), ["N211"]);
    let other = same.replace("name = \"b\"\nin_interface = \"eth0\"\ndestination = \"198.51.100.2\"\nprotocol = \"tcp\"\nport = 443\nto = \"10.0.0.10\"", "name = \"b\"\nin_interface = \"eth0\"\ndestination = \"198.51.100.2\"\nprotocol = \"tcp\"\nport = 443\nto = \"10.0.0.11\"");
    assert_eq!(all_codes(&other), ["N231"]);
    // A different to_port is a different place too.
    let other_port = format!(
        "natc = 1\nname = \"t\"\n{EDGE}{}{}",
        port_forward("a", "port = 443", "10.0.0.10"),
        port_forward("b", "port = 443\nto_port = 8443", "10.0.0.10")
    );
    assert_eq!(all_codes(&other_port), ["N231"]);
}

#[test]
fn n231_catch_all_order_and_per_port_first_match() {
    let all_to_web = "[[gateway.dnat]]\nname = \"all-to-web\"\nin_interface = \"eth0\"\ndestination = \"198.51.100.2\"\nto = \"10.0.0.10\"\nreturn_route = true\n";
    let ssh = port_forward("ssh-to-admin", "port = 22", "10.0.0.22");
    // Catch-all first: the specific forward to another host never matches.
    assert_eq!(all_codes(&format!("natc = 1\nname = \"t\"\n{EDGE}{all_to_web}{ssh}")), ["N231"]);
    // Carved out first, the rest afterwards: the usual way, quiet.
    assert_eq!(all_codes(&format!("natc = 1\nname = \"t\"\n{EDGE}{ssh}{all_to_web}")), Vec::<&str>::new());
    // Each port goes to the first DNAT that takes it.
    let a = port_forward("a", "port = \"80-90\"", "10.0.0.10");
    let b = port_forward("b", "port = 85", "10.0.0.10");
    let c = port_forward("c", "port = \"80-85\"", "10.0.0.20");
    let text = format!("natc = 1\nname = \"t\"\n{EDGE}{a}{b}{c}");
    let all = found(&text);
    let (d, _) = labelled(&text, &all, "N231");
    assert!(
        d.message.contains("`edge dnat/c` forwards tcp port 80-85") && d.message.contains("earlier `edge dnat/a`"),
        "{}",
        d.message
    );
    // b (85 → the same host as a) is dead but harmless; c is the error.
    let c_same = port_forward("c", "port = \"85\"", "10.0.0.10");
    assert_eq!(
        all_codes(&format!("natc = 1\nname = \"t\"\n{EDGE}{a}{c_same}")),
        Vec::<&str>::new(),
        "a port inside a range is not looked for by N211"
    );
    // Disjoint ports of one address never conflict, whatever the order and count.
    let many: String = (0..100u16)
        .map(|i| {
            port_forward(
                &format!("f{i}"),
                &format!("port = [{}, \"{}-{}\"]", 1000 + i, 20000 + i * 10, 20000 + i * 10 + 9),
                &format!("10.0.1.{}", i + 1),
            )
        })
        .collect();
    assert_eq!(all_codes(&format!("natc = 1\nname = \"t\"\n{EDGE}{many}")), Vec::<&str>::new());
    // A 1:1 prefix map and a host DNAT inside it to the same host: N211, not N231.
    let map = "[[gateway.dnat]]\nname = \"map\"\nin_interface = \"eth0\"\ndestination = \"192.0.2.16/28\"\nto = \"10.0.0.16/28\"\nreturn_route = true\n";
    let host = |to: &str| {
        format!(
            "[[gateway.dnat]]\nname = \"host\"\nin_interface = \"eth0\"\ndestination = \"192.0.2.20\"\nto = \"{to}\"\nreturn_route = true\n"
        )
    };
    assert_eq!(all_codes(&format!("natc = 1\nname = \"t\"\n{EDGE}{map}{}", host("10.0.0.20"))), ["N211"]);
    assert_eq!(all_codes(&format!("natc = 1\nname = \"t\"\n{EDGE}{map}{}", host("10.0.0.99"))), ["N231"]);
}
