//! Port sets as sets: the checks that reason per port (N229, N231) need union, intersection
//! and difference of the ranges a rule writes. A set here is sorted, disjoint and merged;
//! every operation is linear in the ranges of its operands.

use crate::model::{PortRange, PortSet};

/// Sorted, disjoint, non-adjacent ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ports(Vec<PortRange>);

impl Ports {
    pub fn all() -> Ports {
        Ports(vec![PortRange { first: 0, last: u16::MAX }])
    }

    /// A rule's ports: `None` (no port match) is every port.
    pub fn of(set: Option<&PortSet>) -> Ports {
        set.map_or_else(Ports::all, |s| Ports::from_ranges(s.ranges.iter().copied()))
    }

    pub fn from_ranges(ranges: impl IntoIterator<Item = PortRange>) -> Ports {
        let mut v: Vec<PortRange> = ranges.into_iter().collect();
        v.sort();
        let mut out: Vec<PortRange> = Vec::with_capacity(v.len());
        for r in v {
            match out.last_mut() {
                Some(l) if u32::from(r.first) <= u32::from(l.last) + 1 => l.last = l.last.max(r.last),
                _ => out.push(r),
            }
        }
        Ports(out)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn ranges(&self) -> &[PortRange] {
        &self.0
    }

    pub fn intersect(&self, other: &Ports) -> Ports {
        let (mut i, mut j, mut out) = (0, 0, Vec::new());
        while i < self.0.len() && j < other.0.len() {
            let (a, b) = (self.0[i], other.0[j]);
            let (first, last) = (a.first.max(b.first), a.last.min(b.last));
            if first <= last {
                out.push(PortRange { first, last });
            }
            if a.last < b.last { i += 1 } else { j += 1 }
        }
        Ports(out)
    }

    pub fn minus(&self, other: &Ports) -> Ports {
        let mut out = Vec::new();
        let mut j = 0;
        for &r in &self.0 {
            let mut first = u32::from(r.first);
            let last = u32::from(r.last);
            while j < other.0.len() && u32::from(other.0[j].last) < first {
                j += 1;
            }
            let mut k = j;
            while first <= last && k < other.0.len() && u32::from(other.0[k].first) <= last {
                let o = other.0[k];
                if u32::from(o.first) > first {
                    out.push(range(first, u32::from(o.first) - 1));
                }
                first = first.max(u32::from(o.last) + 1);
                k += 1;
            }
            if first <= last {
                out.push(range(first, last));
            }
        }
        Ports(out)
    }

    pub fn union(&self, other: &Ports) -> Ports {
        Ports::from_ranges(self.0.iter().chain(&other.0).copied())
    }
}

impl Ports {
    /// As an intent's `port = …` value: `80`, `[80, "8000-8099"]`.
    pub fn as_toml(&self) -> String {
        let one =
            |r: &PortRange| if r.is_single() { r.first.to_string() } else { format!("\"{}-{}\"", r.first, r.last) };
        match self.0.as_slice() {
            [r] => one(r),
            ranges => format!("[{}]", ranges.iter().map(one).collect::<Vec<_>>().join(", ")),
        }
    }
}

fn range(first: u32, last: u32) -> PortRange {
    let clamp = |p: u32| u16::try_from(p).unwrap_or(u16::MAX);
    PortRange { first: clamp(first), last: clamp(last) }
}

/// `80`, `80, 8000-8099`: as an intent writes them.
impl std::fmt::Display for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if r.is_single() { write!(f, "{}", r.first)? } else { write!(f, "{}-{}", r.first, r.last)? }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(ranges: &[(u16, u16)]) -> Ports {
        Ports::from_ranges(ranges.iter().map(|&(first, last)| PortRange { first, last }))
    }

    #[test]
    fn set_operations() {
        let a = p(&[(80, 80), (443, 443), (8000, 8099)]);
        let b = p(&[(443, 443), (8050, 9000)]);
        assert_eq!(a.intersect(&b), p(&[(443, 443), (8050, 8099)]));
        assert_eq!(a.minus(&b), p(&[(80, 80), (8000, 8049)]));
        assert_eq!(a.union(&b), p(&[(80, 80), (443, 443), (8000, 9000)]));
        assert_eq!(p(&[(1, 2), (3, 4)]), p(&[(1, 4)]), "adjacent ranges merge");
        assert!(a.minus(&Ports::all()).is_empty());
        assert_eq!(Ports::all().minus(&p(&[(0, 0), (65535, 65535)])), p(&[(1, 65534)]));
        assert_eq!(a.to_string(), "80, 443, 8000-8099");
        assert_eq!(a.as_toml(), "[80, 443, \"8000-8099\"]");
        assert_eq!(p(&[(80, 80)]).as_toml(), "80");
    }
}
