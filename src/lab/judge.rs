//! Does what the probes saw meet an expectation? Pure: the same verdicts come out of any
//! observations, so they are unit-tested without root.

use super::probe::{Observation, ProbeProtocol, SendOutcome, source_port};
use crate::plan::{Expect, Outcome};
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq)]
/// Did an expectation hold? (Not a filter verdict: that is `vocab::Verdict`, accept or drop.)
pub struct Judgement {
    pub pass: bool,
    /// What was seen, as a reviewer reads tcpdump: where it arrived with which addresses,
    /// and what came back. Failures start with the reason.
    pub seen: String,
    /// Where the probe arrived (at the expected host if it got there, else the first
    /// place), with the addresses as seen there: what `natc trace` must agree with.
    pub arrived: Option<Observation>,
    /// The reply came back to the sender.
    pub replied: bool,
}

pub fn probe_protocol(e: &Expect) -> ProbeProtocol {
    match e.protocol {
        crate::vocab::Protocol::Tcp => ProbeProtocol::Tcp,
        crate::vocab::Protocol::Udp => ProbeProtocol::Udp,
        _ => ProbeProtocol::Icmp,
    }
}

/// The observations that belong to the probe with `key`: by token for ICMP and UDP, by
/// source port for a TCP SYN (it carries no payload; NAT keeps free source ports).
pub fn arrivals(observations: &[Observation], protocol: ProbeProtocol, key: u32) -> Vec<&Observation> {
    observations
        .iter()
        .filter(|o| o.protocol == protocol)
        .filter(|o| match protocol {
            ProbeProtocol::Tcp => o.key == Some(key) || o.source_port == Some(source_port(key)),
            ProbeProtocol::Icmp | ProbeProtocol::Udp => o.key == Some(key),
        })
        .collect()
}

pub fn judge(e: &Expect, outcome: &SendOutcome, arrivals: &[&Observation]) -> Judgement {
    let mut seen = describe_arrivals(arrivals);
    let _ = write!(seen, "; {}", describe_outcome(outcome));
    let replied = *outcome == SendOutcome::Reply;
    let failure = match &e.outcome {
        Outcome::Blocked { .. } => match (arrivals.first(), replied) {
            (Some(o), _) => Some(format!("not blocked: arrived at {}", o.node)),
            (None, true) => Some("not blocked: a reply came back".to_string()),
            (None, false) => None,
        },
        Outcome::Arrives { host, seen_source, seen_destination, seen_port } => {
            match arrivals.iter().find(|o| o.node == host.value) {
                None => Some(match arrivals.first() {
                    Some(o) => format!("arrived at {}, not at {}", o.node, host.value),
                    None => format!("never arrived at {}", host.value),
                }),
                Some(o) => {
                    let port = seen_port.as_ref().map(|p| p.value).or(e.port);
                    if let Some(want) = seen_source.as_ref().filter(|w| !w.value.contains(&o.source)) {
                        Some(format!("{} saw source {}, not {}", host.value, o.source, want.value))
                    } else if let Some(want) = seen_destination.as_ref().filter(|w| !w.value.contains(&o.destination)) {
                        Some(format!("{} saw destination {}, not {}", host.value, o.destination, want.value))
                    } else if let Some(want) = port.filter(|p| o.destination_port.is_some_and(|d| d != *p)) {
                        Some(format!("{} saw port {}, not {want}", host.value, o.destination_port.unwrap_or(0)))
                    } else if !replied {
                        Some("the reply did not come back to the sender".to_string())
                    } else {
                        None
                    }
                }
            }
        }
    };
    let expected_host = match &e.outcome {
        Outcome::Arrives { host, .. } => Some(host.value.as_str()),
        Outcome::Blocked { .. } => None,
    };
    let arrived = arrivals.iter().find(|o| Some(o.node.as_str()) == expected_host).or(arrivals.first());
    let arrived = arrived.map(|o| (*o).clone());
    match failure {
        Some(reason) => Judgement { pass: false, seen: format!("{reason} — {seen}"), arrived, replied },
        None => Judgement { pass: true, seen, arrived, replied },
    }
}

fn describe_arrivals(arrivals: &[&Observation]) -> String {
    if arrivals.is_empty() {
        return "arrived nowhere".to_string();
    }
    let each: Vec<String> = arrivals
        .iter()
        .map(|o| match o.destination_port {
            Some(port) => format!("at {}: {} → {}:{port}", o.node, o.source, o.destination),
            None => format!("at {}: {} → {}", o.node, o.source, o.destination),
        })
        .collect();
    each.join(", ")
}

fn describe_outcome(outcome: &SendOutcome) -> String {
    match outcome {
        SendOutcome::Reply => "reply came back".to_string(),
        SendOutcome::Refused => "refused".to_string(),
        SendOutcome::Unreachable { from: Some(from), what } => format!("{what} (from {from})"),
        SendOutcome::Unreachable { from: None, what } => what.clone(),
        SendOutcome::Timeout => "no reply".to_string(),
        SendOutcome::Error(e) => format!("not sent: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::At;

    fn expect(outcome: Outcome) -> Expect {
        Expect {
            name: At::new("e".to_string(), 0..0),
            from: At::new("vm01".to_string(), 0..0),
            to: At::new("192.168.100.3".parse().unwrap(), 0..0),
            protocol: crate::vocab::Protocol::Tcp,
            port: Some(8080),
            outcome,
        }
    }

    fn arrives(source: &str) -> Outcome {
        Outcome::Arrives {
            host: At::new("vm03".to_string(), 0..0),
            seen_source: Some(At::new(source.parse().unwrap(), 0..0)),
            seen_destination: None,
            seen_port: None,
        }
    }

    fn seen_at(node: &str, source: &str, port: u16) -> Observation {
        Observation {
            node: node.to_string(),
            protocol: ProbeProtocol::Tcp,
            source: source.parse().unwrap(),
            destination: "192.168.200.3".parse().unwrap(),
            source_port: Some(source_port(7)),
            destination_port: Some(port),
            key: None,
        }
    }

    #[test]
    fn arrival_with_the_expected_source_and_a_reply_passes() {
        let o = seen_at("vm03", "192.168.200.2", 8080);
        let v = judge(&expect(arrives("192.168.200.2/32")), &SendOutcome::Reply, &[&o]);
        assert!(v.pass, "{v:?}");
        assert_eq!(v.seen, "at vm03: 192.168.200.2 → 192.168.200.3:8080; reply came back");
    }

    #[test]
    fn each_way_to_miss_an_arrival_fails_with_its_reason() {
        let e = expect(arrives("192.168.200.2/32"));
        let wrong_source = seen_at("vm03", "192.168.100.1", 8080);
        let v = judge(&e, &SendOutcome::Reply, &[&wrong_source]);
        assert!(!v.pass && v.seen.starts_with("vm03 saw source 192.168.100.1, not 192.168.200.2/32"), "{v:?}");
        let right = seen_at("vm03", "192.168.200.2", 8080);
        let v = judge(&e, &SendOutcome::Timeout, &[&right]);
        assert!(!v.pass && v.seen.starts_with("the reply did not come back"), "{v:?}");
        let elsewhere = seen_at("vm02", "192.168.100.1", 8080);
        let v = judge(&e, &SendOutcome::Refused, &[&elsewhere]);
        assert!(!v.pass && v.seen.starts_with("arrived at vm02, not at vm03"), "{v:?}");
        let wrong_port = seen_at("vm03", "192.168.200.2", 80);
        assert!(!judge(&e, &SendOutcome::Reply, &[&wrong_port]).pass);
        assert!(!judge(&e, &SendOutcome::Timeout, &[]).pass);
    }

    #[test]
    fn blocked_passes_only_when_nothing_arrives_and_nothing_answers() {
        let e = expect(Outcome::Blocked { span: 0..0 });
        assert!(judge(&e, &SendOutcome::Timeout, &[]).pass);
        assert!(judge(&e, &SendOutcome::Unreachable { from: None, what: "admin prohibited".into() }, &[]).pass);
        assert!(!judge(&e, &SendOutcome::Reply, &[]).pass);
        let o = seen_at("vm03", "192.168.200.2", 8080);
        assert!(!judge(&e, &SendOutcome::Refused, &[&o]).pass);
    }

    #[test]
    fn tcp_arrivals_are_matched_by_source_port_and_others_by_token() {
        let tcp = seen_at("vm03", "192.168.200.2", 8080);
        let mut other = tcp.clone();
        other.source_port = Some(source_port(8));
        let all = [tcp, other];
        assert_eq!(arrivals(&all, ProbeProtocol::Tcp, 7).len(), 1);
        let mut icmp = all[0].clone();
        icmp.protocol = ProbeProtocol::Icmp;
        icmp.key = Some(3);
        let icmp = [icmp];
        assert_eq!(arrivals(&icmp, ProbeProtocol::Icmp, 3).len(), 1);
        assert!(arrivals(&icmp, ProbeProtocol::Icmp, 7).is_empty());
    }
}
