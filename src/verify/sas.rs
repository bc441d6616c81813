//! What charon says about its tunnels, read through swanctl: the connections it loaded
//! (`--list-conns`), the IKE and CHILD SAs it holds (`--list-sas`), and asking it to
//! initiate. [`super::charon::Charon`] runs the daemon; this reads it.

use super::charon::Charon;

/// The IKE_SAs charon holds now.
pub fn list_sas(charon: &Charon) -> Result<Vec<IkeSa>, String> {
    let text = charon.swanctl("--list-sas", &["--pretty"])?;
    Ok(in_events(&text, "list-sa event", IkeSa::of))
}

/// The connections charon loaded, each with its children's local traffic selectors.
pub fn list_conns(charon: &Charon) -> Result<Vec<Connection>, String> {
    let text = charon.swanctl("--list-conns", &["--pretty"])?;
    Ok(in_events(&text, "list-conn event", Connection::of))
}

/// Ask charon to set up a CHILD_SA (and its IKE_SA). swanctl detaches after a second and
/// charon carries on; whether the tunnel came up is read from [`list_sas`]. An error here
/// (the peer refused, no answer yet) is only a hint: the SAs decide.
pub fn initiate(charon: &Charon, child: &str) -> Result<String, String> {
    charon.swanctl("--initiate", &["--child", child, "--timeout", "1"])
}

/// Every section inside the top-level messages called `event`, read by `read`.
fn in_events<T>(text: &str, event: &str, read: fn(&str, &Section) -> T) -> Vec<T> {
    parse_pretty(text)
        .iter()
        .filter(|(name, _)| name == event)
        .flat_map(|(_, message)| message.sections().map(|(name, s)| read(name, s)).collect::<Vec<_>>())
        .collect()
}

/// An IKE_SA as `swanctl --list-sas` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IkeSa {
    /// The connection's name.
    pub name: String,
    pub state: String,
    pub local_host: String,
    pub remote_host: String,
    /// charon found itself behind a NAT ("local host is behind NAT" in its log).
    pub nat_local: bool,
    pub children: Vec<ChildSa>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSa {
    /// The child's name in the connection.
    pub name: String,
    pub state: String,
    /// ESP in UDP (NAT-T; libipsec always encapsulates).
    pub encap: bool,
    pub packets_in: u64,
    pub packets_out: u64,
}

impl IkeSa {
    fn of(name: &str, s: &Section) -> IkeSa {
        let children = s
            .section("child-sas")
            .map(|c| c.sections().map(|(_, child)| ChildSa::of(child)).collect())
            .unwrap_or_default();
        IkeSa {
            name: name.to_string(),
            state: s.value("state").unwrap_or_default().to_string(),
            local_host: s.value("local-host").unwrap_or_default().to_string(),
            remote_host: s.value("remote-host").unwrap_or_default().to_string(),
            nat_local: s.value("nat-local") == Some("yes"),
            children,
        }
    }

    pub fn established(&self) -> bool {
        self.state == "ESTABLISHED"
    }
}

impl ChildSa {
    fn of(s: &Section) -> ChildSa {
        let number = |key: &str| s.value(key).and_then(|v| v.parse().ok()).unwrap_or(0);
        ChildSa {
            name: s.value("name").unwrap_or_default().to_string(),
            state: s.value("state").unwrap_or_default().to_string(),
            encap: s.value("encap") == Some("yes"),
            packets_in: number("packets-in"),
            packets_out: number("packets-out"),
        }
    }

    pub fn installed(&self) -> bool {
        self.state == "INSTALLED"
    }
}

/// A loaded connection as `swanctl --list-conns` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub name: String,
    /// Each child's name and local traffic selectors.
    pub children: Vec<(String, Vec<String>)>,
}

impl Connection {
    fn of(name: &str, s: &Section) -> Connection {
        let children = s
            .section("children")
            .map(|c| c.sections().map(|(n, child)| (n.to_string(), child.list("local-ts").to_vec())).collect())
            .unwrap_or_default();
        Connection { name: name.to_string(), children }
    }
}

/// One `{ … }` block of swanctl's `--pretty` dump.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Section {
    entries: Vec<(String, Item)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Value(String),
    List(Vec<String>),
    Section(Section),
}

impl Section {
    fn value(&self, key: &str) -> Option<&str> {
        self.entries.iter().find_map(|(k, v)| match v {
            Item::Value(v) if k == key => Some(v.as_str()),
            _ => None,
        })
    }

    fn list(&self, key: &str) -> &[String] {
        self.entries
            .iter()
            .find_map(|(k, v)| match v {
                Item::List(v) if k == key => Some(v.as_slice()),
                _ => None,
            })
            .unwrap_or_default()
    }

    fn section(&self, key: &str) -> Option<&Section> {
        self.sections().find(|(k, _)| *k == key).map(|(_, s)| s)
    }

    fn sections(&self) -> impl Iterator<Item = (&str, &Section)> {
        self.entries.iter().filter_map(|(k, v)| match v {
            Item::Section(s) => Some((k.as_str(), s)),
            _ => None,
        })
    }
}

/// swanctl's `--pretty` dump: `name {` opens a section, `}` closes it, `key = [` … `]` is a
/// list, `key = value` a value (which may hold spaces: `class = pre-shared key`). Anything
/// else (swanctl's own messages) is skipped. Returns the top-level messages in order.
fn parse_pretty(text: &str) -> Vec<(String, Section)> {
    let mut top = Vec::new();
    let mut stack: Vec<(String, Section)> = Vec::new();
    let mut list: Option<(String, Vec<String>)> = None;
    for line in text.lines().map(str::trim) {
        if let Some((_, items)) = &mut list {
            if line == "]" {
                let (key, items) = list.take().unwrap_or_default();
                if let Some((_, section)) = stack.last_mut() {
                    section.entries.push((key, Item::List(items)));
                }
            } else {
                items.push(line.to_string());
            }
        } else if let Some(name) = line.strip_suffix('{') {
            stack.push((name.trim().to_string(), Section::default()));
        } else if line == "}" {
            if let Some((name, section)) = stack.pop() {
                match stack.last_mut() {
                    Some((_, parent)) => parent.entries.push((name, Item::Section(section))),
                    None => top.push((name, section)),
                }
            }
        } else if let Some((key, value)) = line.split_once(" = ") {
            if value == "[" {
                list = Some((key.to_string(), Vec::new()));
            } else if let Some((_, section)) = stack.last_mut() {
                section.entries.push((key.to_string(), Item::Value(value.to_string())));
            }
        } else if let Some(key) = line.strip_suffix(" =") {
            // An empty value.
            if let Some((_, section)) = stack.last_mut() {
                section.entries.push((key.to_string(), Item::Value(String::new())));
            }
        }
    }
    top
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `swanctl --list-sas --pretty` of charon 5.9.8 in the lab (shortened).
    const SAS: &str = "list-sa event {
  t1 {
    uniqueid = 1
    version = 2
    state = ESTABLISHED
    local-host = 192.168.30.2
    local-port = 4500
    local-id = branch.example
    remote-host = 198.18.1.2
    nat-local = yes
    nat-any = yes
    child-sas {
      t1-1 {
        name = t1
        state = INSTALLED
        mode = TUNNEL
        encap = yes
        packets-in = 4
        packets-out = 5
        local-ts = [
          192.168.31.0/24
        ]
      }
    }
  }
}
list-sas reply {
}
";

    const CONNS: &str = "list-conn event {
  t1 {
    local_addrs = [
      203.0.113.2
    ]
    version = IKEv2
    local-1 {
      id = 192.168.1.20
      class = pre-shared key
      groups = [
      ]
    }
    children {
      t1 {
        mode = TUNNEL
        local-ts = [
          192.168.20.0/24
          192.168.21.0/24
        ]
      }
    }
  }
}
list-conns reply {
}
";

    #[test]
    fn list_sas_gives_states_nat_and_encapsulation() {
        let sections = parse_pretty(SAS);
        assert_eq!(sections.len(), 2);
        let sas: Vec<IkeSa> = sections[0].1.sections().map(|(n, s)| IkeSa::of(n, s)).collect();
        assert_eq!(
            sas,
            vec![IkeSa {
                name: "t1".into(),
                state: "ESTABLISHED".into(),
                local_host: "192.168.30.2".into(),
                remote_host: "198.18.1.2".into(),
                nat_local: true,
                children: vec![ChildSa {
                    name: "t1".into(),
                    state: "INSTALLED".into(),
                    encap: true,
                    packets_in: 4,
                    packets_out: 5
                }],
            }]
        );
        assert!(sas[0].established() && sas[0].children[0].installed());
    }

    #[test]
    fn list_conns_gives_children_and_their_local_selectors() {
        let sections = parse_pretty(CONNS);
        let conns: Vec<Connection> = sections[0].1.sections().map(|(n, s)| Connection::of(n, s)).collect();
        assert_eq!(
            conns,
            vec![Connection {
                name: "t1".into(),
                children: vec![("t1".into(), vec!["192.168.20.0/24".into(), "192.168.21.0/24".into()])],
            }]
        );
        assert_eq!(
            sections[0].1.section("t1").and_then(|s| s.section("local-1")).and_then(|s| s.value("class")),
            Some("pre-shared key")
        );
    }

    #[test]
    fn a_connecting_sa_is_neither_established_nor_installed() {
        let text = SAS.replace("ESTABLISHED", "CONNECTING").replace("INSTALLED", "INSTALLING");
        let sas: Vec<IkeSa> = parse_pretty(&text)[0].1.sections().map(|(n, s)| IkeSa::of(n, s)).collect();
        assert!(!sas[0].established() && !sas[0].children[0].installed());
    }
}
