//! Route-based tunnels on Linux: an XFRM interface (`ip link add NAME type xfrm … if_id N`)
//! and the CHILD_SA's `if_id_in`/`if_id_out` = N, which binds the SA to that interface.
//! N follows the interface's name alone, so adding, removing or reordering other tunnels
//! never changes it (docs/tunnels.md).

use crate::backend::cannot_express;
use crate::diag::Diagnostic;
use crate::plan::GatewayPlan;
use std::collections::HashMap;

/// The interface ID of the XFRM interface `name`: FNV-1a (32 bits) of the name, top bit
/// cleared (a positive number wherever it is printed), and never 0, which the kernel reads
/// as "no interface ID".
pub fn if_id(name: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (hash & 0x7fff_ffff).max(1)
}

/// Two XFRM interfaces of one gateway whose IDs collide would share their SAs: refused.
pub fn check_ids(gw: &GatewayPlan) -> Vec<Diagnostic> {
    let mut seen: HashMap<u32, &str> = HashMap::new();
    let mut out = Vec::new();
    for t in &gw.tunnels {
        let Some(v) = t.vti() else { continue };
        let id = if_id(&v.name.value);
        match seen.get(&id) {
            Some(other) => out.push(cannot_express(
                "strongswan",
                &t.origin,
                &format!("its XFRM interface `{}` gets the interface ID {id}, as `{other}` does", v.name.value),
                "rename one of the two VTIs: the interface ID is derived from the name",
            )),
            None => {
                seen.insert(id, &v.name.value);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_follow_the_name_and_are_never_zero() {
        assert_eq!(super::if_id("vti0"), super::if_id("vti0"));
        assert_ne!(super::if_id("vti0"), super::if_id("vti1"));
        assert!(super::if_id("vti0") > 0 && super::if_id("vti0") <= 0x7fff_ffff);
    }
}
