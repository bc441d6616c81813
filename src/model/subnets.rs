//! Where an address lies among the gateway's connected subnets and routes, indexed once per
//! gateway: one hash look-up per prefix length instead of a scan of every interface (or
//! route) for every DNAT that asks (hairpin, proxy ARP). The answers are the scans' own:
//! the first interface in the intent's order, the last route of the longest length.

use super::{Interface, Route};
use crate::vocab::prefix::truncate;
use ipnet::Ipv4Net;
use rustc_hash::FxHashMap;
use std::net::Ipv4Addr;

/// The interfaces' subnets (each address truncated to its prefix), each with the first place
/// it is written: (interface index, address index).
pub struct Subnets<'a> {
    interfaces: &'a [Interface],
    first: FxHashMap<Ipv4Net, (usize, usize)>,
    /// Bit `len` set: some subnet has that prefix length.
    lengths: u64,
}

impl<'a> Subnets<'a> {
    pub fn new(interfaces: &'a [Interface]) -> Self {
        let (mut first, mut lengths) = (FxHashMap::default(), 0u64);
        for (i, interface) in interfaces.iter().enumerate() {
            for (k, a) in interface.addresses.iter().enumerate() {
                let net = a.value.trunc();
                lengths |= 1 << net.prefix_len();
                first.entry(net).or_insert((i, k));
            }
        }
        Subnets { interfaces, first, lengths }
    }

    /// The first interface with an address whose subnet contains `net`, and that subnet
    /// (of its first such address): what scanning the interfaces and their addresses in
    /// order finds.
    pub fn containing(&self, net: Ipv4Net) -> Option<(&'a Interface, Ipv4Net)> {
        (0..=net.prefix_len())
            .filter(|len| self.lengths & (1 << len) != 0)
            .filter_map(|len| {
                let subnet = truncate(net, len);
                self.first.get(&subnet).map(|&at| (at, subnet))
            })
            .min_by_key(|&(at, _)| at)
            .map(|((i, _), subnet)| (&self.interfaces[i], subnet))
    }
}

/// The routes by destination (truncated), each with the last route written for it.
pub struct Routes<'a> {
    routes: &'a [Route],
    last: FxHashMap<Ipv4Net, usize>,
    lengths: u64,
}

impl<'a> Routes<'a> {
    pub fn new(routes: &'a [Route]) -> Self {
        let (mut last, mut lengths) = (FxHashMap::default(), 0u64);
        for (i, r) in routes.iter().enumerate() {
            let to = r.to.value.trunc();
            lengths |= 1 << to.prefix_len();
            last.insert(to, i);
        }
        Routes { routes, last, lengths }
    }

    /// The longest route that contains `addr`, the last written of that length (as
    /// `max_by_key` over the routes that contain it returns).
    pub fn longest(&self, addr: Ipv4Addr) -> Option<&'a Route> {
        let host = Ipv4Net::from(addr);
        (0..=32u8)
            .rev()
            .filter(|len| self.lengths & (1 << len) != 0)
            .find_map(|len| self.last.get(&truncate(host, len)))
            .map(|&i| &self.routes[i])
    }
}
