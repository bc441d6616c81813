//! RTX at its device limit: natc numbers a descriptor's static entries 1-9999
//! (src/backend/rtx/mod.rs, ENTRY_IDS). Every one of 9,999 static maps gets its own number,
//! and one more is refused naming the first item that does not fit (not the first item of
//! the gateway). The time this takes is a benchmark (scripts/bench.py --only rtx), not a test.

use natc::diag::Code;
use natc::{BuildOptions, Error};

/// n 1:1 maps on lan2: each a dnat and its reverse snat (RTX's static entry is two-way).
fn statics(n: usize) -> String {
    let mut text = String::from(
        "natc = 1\nname = \"rtx-scale\"\n[[gateway]]\nname = \"rtx\"\ntargets = [\"rtx\"]\n\
         [[gateway.interface]]\nname = \"lan1\"\naddress = \"10.0.0.1/8\"\n\
         [[gateway.interface]]\nname = \"lan2\"\naddress = \"198.18.0.1/15\"\n",
    );
    for i in 0..n {
        let (outer, inner) = (0x6464_0001 + i as u32, 0x0a64_0001 + i as u32);
        let (outer, inner) = (std::net::Ipv4Addr::from(outer), std::net::Ipv4Addr::from(inner));
        text.push_str(&format!(
            "[[gateway.dnat]]\nname = \"m{i:06}\"\ndestination = \"{outer}\"\nto = \"{inner}\"\nin_interface = \"lan2\"\n\
             [[gateway.snat]]\nname = \"m{i:06}-out\"\nsource = \"{inner}\"\nto = \"{outer}\"\nout_interface = \"lan2\"\n"
        ));
    }
    text
}

fn build(text: &str) -> Result<Vec<natc::Artifact>, Error> {
    let compiled = natc::compile(text).expect("the intent compiles");
    natc::build(&compiled, &BuildOptions::default())
}

#[test]
fn a_descriptor_holds_9999_static_entries_each_with_its_own_number() {
    let artifacts = build(&statics(9999)).expect("9,999 static maps fit");
    let config = &artifacts[0].files.iter().find(|f| f.primary).expect("rtx.conf").contents;
    let mut numbers: Vec<u32> = config
        .lines()
        .filter_map(|l| l.strip_prefix("nat descriptor static "))
        .map(|rest| rest.split(' ').nth(1).expect("entry number").parse().expect("a number"))
        .collect();
    assert_eq!(numbers.len(), 9999);
    numbers.sort();
    assert_eq!(numbers, (1..=9999).collect::<Vec<u32>>(), "every entry number once");
}

#[test]
fn one_entry_beyond_the_limit_is_refused_naming_the_first_that_does_not_fit() {
    let text = statics(10_000);
    let Err(Error::Invalid(diagnostics)) = build(&text) else { panic!("10,000 static maps must be refused") };
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let d = &diagnostics[0];
    assert_eq!(d.code, Code::TARGET_CANNOT_EXPRESS);
    assert!(d.message.contains("full"), "{}", d.message);
    // The span is the item that did not fit: the 10,000th dnat, not the gateway's first.
    let span = d.primary_span().expect("a located diagnostic");
    let rest = &text[span.start..];
    let item = &rest[..rest[1..].find("\n[[").map_or(rest.len(), |i| i + 1)];
    assert!(item.contains("name = \"m009999\""), "the refusal points at {item:?}");
}
