//! The field checks (N2xx, docs/checks.md): where each must stay quiet, and the finer
//! points of where it fires that one case file per code cannot show. Every example must
//! produce no check diagnostic at all.

mod common;

use natc::diag::Diagnostic;

/// The codes an intent's checks produce: its errors, else its warnings.
fn codes(body: &str) -> Vec<&'static str> {
    diagnostics(body).iter().map(|d| d.code.0).collect()
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
