//! Target names and profiles: `iptables`, `nftables`, `firewalld[@0.6|0.9|1]`, `vyos[@1.4|1.5]`,
//! `rtx[@MODEL]`, `strongswan` (the IPsec companion of the Linux packet-filter targets). Shared by the intent (`targets = [...]`, read in model/targets.rs), the
//! JSON Schema and the command line.

use super::suggest::did_you_mean;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetKind {
    Iptables,
    Nftables,
    Firewalld,
    Vyos,
    Rtx,
    /// strongSwan's swanctl.conf: the tunnels of a Linux gateway (its NAT and filters stay
    /// with iptables, nftables or firewalld).
    Strongswan,
}

impl TargetKind {
    pub const ALL: [TargetKind; 6] = [
        TargetKind::Iptables,
        TargetKind::Nftables,
        TargetKind::Firewalld,
        TargetKind::Vyos,
        TargetKind::Rtx,
        TargetKind::Strongswan,
    ];

    /// The Linux packet-filter targets: they render NAT and filters, and a gateway of theirs
    /// with tunnels also needs `strongswan`.
    pub fn is_linux_filter(self) -> bool {
        matches!(self, TargetKind::Iptables | TargetKind::Nftables | TargetKind::Firewalld)
    }

    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Iptables => "iptables",
            TargetKind::Nftables => "nftables",
            TargetKind::Firewalld => "firewalld",
            TargetKind::Vyos => "vyos",
            TargetKind::Rtx => "rtx",
            TargetKind::Strongswan => "strongswan",
        }
    }

    /// The profiles the target takes (none, firewalld or VyOS versions, RTX models).
    pub fn profiles(self) -> &'static [&'static str] {
        match self {
            TargetKind::Firewalld => FIREWALLD_VERSIONS,
            TargetKind::Vyos => VYOS_VERSIONS,
            TargetKind::Rtx => RTX_MODELS,
            _ => &[],
        }
    }
}

pub const FIREWALLD_VERSIONS: &[&str] = &["0.6", "0.9", "1"];
pub const VYOS_VERSIONS: &[&str] = &["1.4", "1.5"];
pub const RTX_MODELS: &[&str] =
    &["RTX830", "RTX840", "RTX1200", "RTX1210", "RTX1220", "RTX1300", "RTX3500", "RTX3510", "RTX5000"];

/// A firewalld release line natc writes for (docs/targets.md#firewalld-versions). The
/// script's guard refuses a box whose `firewall-cmd --version` is not of the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FirewalldVersion {
    /// 0.6.x: CentOS/RHEL 7. No policy objects; with the iptables backend the `*_direct`
    /// chains come before the zones, so natc's chains are reached from there.
    V0_6,
    /// 0.9.x: the first line with policy objects (RHEL 8.4+).
    V0_9,
    /// 1.0 and later, the default.
    V1,
}

impl FirewalldVersion {
    pub const DEFAULT: FirewalldVersion = FirewalldVersion::V1;

    pub fn as_str(self) -> &'static str {
        match self {
            FirewalldVersion::V0_6 => FIREWALLD_VERSIONS[0],
            FirewalldVersion::V0_9 => FIREWALLD_VERSIONS[1],
            FirewalldVersion::V1 => FIREWALLD_VERSIONS[2],
        }
    }

    pub fn parse(text: &str) -> Option<FirewalldVersion> {
        [FirewalldVersion::V0_6, FirewalldVersion::V0_9, FirewalldVersion::V1].into_iter().find(|v| v.as_str() == text)
    }

    /// Whether the line has policy objects (`--new-policy`, firewalld 0.9.0 and later).
    pub fn has_policies(self) -> bool {
        self != FirewalldVersion::V0_6
    }
}

/// A VyOS release natc writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VyosVersion {
    /// 1.4 LTS (sagitta), the default.
    V1_4,
    /// 1.5 (circinus) / rolling.
    V1_5,
}

impl VyosVersion {
    pub const DEFAULT: VyosVersion = VyosVersion::V1_4;

    pub fn as_str(self) -> &'static str {
        match self {
            VyosVersion::V1_4 => VYOS_VERSIONS[0],
            VyosVersion::V1_5 => VYOS_VERSIONS[1],
        }
    }

    pub fn parse(text: &str) -> Option<VyosVersion> {
        [VyosVersion::V1_4, VyosVersion::V1_5].into_iter().find(|v| v.as_str().eq_ignore_ascii_case(text))
    }
}

/// A Yamaha RTX model, one of [`RTX_MODELS`], named in Yamaha's capitals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RtxModel(&'static str);

impl RtxModel {
    pub const DEFAULT: RtxModel = RtxModel("RTX1210");

    pub fn name(self) -> &'static str {
        self.0
    }

    /// Yamaha's documents write model names in capitals; any case is read.
    pub fn parse(text: &str) -> Option<RtxModel> {
        RTX_MODELS.iter().find(|m| m.eq_ignore_ascii_case(text)).map(|m| RtxModel(m))
    }
}

/// A target's profile, typed by its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetProfile {
    Firewalld(FirewalldVersion),
    Vyos(VyosVersion),
    Rtx(RtxModel),
}

impl fmt::Display for TargetProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetProfile::Firewalld(v) => f.write_str(v.as_str()),
            TargetProfile::Vyos(v) => f.write_str(v.as_str()),
            TargetProfile::Rtx(m) => f.write_str(m.name()),
        }
    }
}

/// A target with its profile, e.g. `vyos@1.5`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetSpec {
    pub kind: TargetKind,
    pub profile: Option<TargetProfile>,
}

impl TargetSpec {
    /// The firewalld line of a `firewalld@…` spec (the default when it names none).
    pub fn firewalld_version(&self) -> FirewalldVersion {
        match self.profile {
            Some(TargetProfile::Firewalld(v)) => v,
            _ => FirewalldVersion::DEFAULT,
        }
    }

    /// The VyOS release of a `vyos@…` spec (the default when it names none).
    pub fn vyos_version(&self) -> VyosVersion {
        match self.profile {
            Some(TargetProfile::Vyos(v)) => v,
            _ => VyosVersion::DEFAULT,
        }
    }

    /// The model of an `rtx@…` spec (the default when it names none).
    pub fn rtx_model(&self) -> RtxModel {
        match self.profile {
            Some(TargetProfile::Rtx(m)) => m,
            _ => RtxModel::DEFAULT,
        }
    }
}

impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.profile {
            Some(p) => write!(f, "{}@{p}", self.kind.name()),
            None => f.write_str(self.kind.name()),
        }
    }
}

/// Why a target text was refused, with a suggestion when one is close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    UnknownTarget { name: String, suggestion: Option<&'static str> },
    UnknownProfile { target: &'static str, profile: String, known: &'static [&'static str] },
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::UnknownTarget { name, suggestion } => {
                write!(f, "unknown target `{name}`")?;
                match suggestion {
                    Some(s) => write!(f, " (did you mean `{s}`?)"),
                    None => write!(f, " (targets: {})", TargetKind::ALL.map(TargetKind::name).join(", ")),
                }
            }
            SpecError::UnknownProfile { target, profile, known: [] } => {
                write!(f, "target `{target}` has no profiles, so `{target}@{profile}` means nothing")
            }
            SpecError::UnknownProfile { target, profile, known } => {
                write!(f, "unknown {target} profile `{profile}` (known: {})", known.join(", "))
            }
        }
    }
}

impl std::str::FromStr for TargetSpec {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<Self, SpecError> {
        let (name, profile) = match text.split_once('@') {
            Some((n, p)) => (n, Some(p)),
            None => (text, None),
        };
        let Some(kind) = TargetKind::ALL.into_iter().find(|k| k.name() == name) else {
            let suggestion = did_you_mean(name, TargetKind::ALL.map(TargetKind::name));
            return Err(SpecError::UnknownTarget { name: name.to_string(), suggestion });
        };
        if let Some(p) = profile {
            let typed = match kind {
                TargetKind::Firewalld => FirewalldVersion::parse(p).map(TargetProfile::Firewalld),
                TargetKind::Vyos => VyosVersion::parse(p).map(TargetProfile::Vyos),
                TargetKind::Rtx => RtxModel::parse(p).map(TargetProfile::Rtx),
                _ => None,
            };
            let Some(typed) = typed else {
                return Err(SpecError::UnknownProfile {
                    target: kind.name(),
                    profile: p.to_string(),
                    known: kind.profiles(),
                });
            };
            return Ok(TargetSpec { kind, profile: Some(typed) });
        }
        Ok(TargetSpec { kind, profile: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets_and_profiles() {
        assert_eq!("nftables".parse::<TargetSpec>().unwrap().kind, TargetKind::Nftables);
        assert_eq!("vyos@1.5".parse::<TargetSpec>().unwrap().profile, Some(TargetProfile::Vyos(VyosVersion::V1_5)));
        assert_eq!("rtx@rtx830".parse::<TargetSpec>().unwrap().rtx_model().name(), "RTX830");
        assert!(matches!("vyos@1.3".parse::<TargetSpec>(), Err(SpecError::UnknownProfile { .. })));
        assert!(matches!(
            "nftable".parse::<TargetSpec>(),
            Err(SpecError::UnknownTarget { suggestion: Some("nftables"), .. })
        ));
        assert!(matches!("iptables@x".parse::<TargetSpec>(), Err(SpecError::UnknownProfile { .. })));
        assert_eq!("firewalld@0.6".parse::<TargetSpec>().unwrap().firewalld_version(), FirewalldVersion::V0_6);
        assert_eq!("firewalld".parse::<TargetSpec>().unwrap().firewalld_version(), FirewalldVersion::V1);
        assert!(matches!("firewalld@0.7".parse::<TargetSpec>(), Err(SpecError::UnknownProfile { .. })));
    }
}
