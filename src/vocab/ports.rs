//! Port ranges and sets as values (model/ports.rs reads them from the intent).

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub fn single(port: u16) -> Self {
        PortRange { first: port, last: port }
    }

    pub fn is_single(&self) -> bool {
        self.first == self.last
    }

    /// How many ports the range holds.
    pub fn width(&self) -> u32 {
        u32::from(self.last - self.first) + 1
    }
}

/// One or more port ranges, in the order written (duplicates removed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortSet {
    pub ranges: Vec<PortRange>,
}

impl PortSet {
    /// The single range this set is, if it is one.
    pub fn as_single_range(&self) -> Option<PortRange> {
        match self.ranges.as_slice() {
            [r] => Some(*r),
            _ => None,
        }
    }
}
