//! The intent's proposal words (`encryption`, `hash`, `dh_group`: the words VyOS and the
//! RFCs use) as strongSwan's proposal keywords (swanctl.conf(5), "proposals"). A word
//! without an exact strongSwan equivalent is `None`, and the target refuses it (N301).

/// An encryption algorithm in strongSwan's words, and whether it is an AEAD cipher (which
/// carries its own integrity: the proposal then names a PRF for IKE and no integrity for ESP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cipher {
    pub keyword: &'static str,
    pub aead: bool,
}

/// strongSwan's keyword for an intent encryption word. The AEAD ciphers' ICV is written in
/// bits by VyOS (`aes128gcm128`) and in bytes by strongSwan (`aes128gcm16`).
pub fn cipher(word: &str) -> Option<Cipher> {
    let plain = |keyword| Some(Cipher { keyword, aead: false });
    let aead = |keyword| Some(Cipher { keyword, aead: true });
    match word {
        "aes128" => plain("aes128"),
        "aes192" => plain("aes192"),
        "aes256" => plain("aes256"),
        "aes128ctr" => plain("aes128ctr"),
        "aes192ctr" => plain("aes192ctr"),
        "aes256ctr" => plain("aes256ctr"),
        "3des" => plain("3des"),
        "blowfish128" => plain("blowfish128"),
        "blowfish192" => plain("blowfish192"),
        "blowfish256" => plain("blowfish256"),
        "camellia128" => plain("camellia128"),
        "camellia192" => plain("camellia192"),
        "camellia256" => plain("camellia256"),
        "camellia128ctr" => plain("camellia128ctr"),
        "camellia192ctr" => plain("camellia192ctr"),
        "camellia256ctr" => plain("camellia256ctr"),
        "serpent128" => plain("serpent128"),
        "serpent192" => plain("serpent192"),
        "serpent256" => plain("serpent256"),
        "twofish128" => plain("twofish128"),
        "twofish192" => plain("twofish192"),
        "twofish256" => plain("twofish256"),
        "cast128" => plain("cast128"),
        "aes128gcm64" => aead("aes128gcm8"),
        "aes192gcm64" => aead("aes192gcm8"),
        "aes256gcm64" => aead("aes256gcm8"),
        "aes128gcm96" => aead("aes128gcm12"),
        "aes192gcm96" => aead("aes192gcm12"),
        "aes256gcm96" => aead("aes256gcm12"),
        "aes128gcm128" => aead("aes128gcm16"),
        "aes192gcm128" => aead("aes192gcm16"),
        "aes256gcm128" => aead("aes256gcm16"),
        "aes128ccm64" => aead("aes128ccm8"),
        "aes192ccm64" => aead("aes192ccm8"),
        "aes256ccm64" => aead("aes256ccm8"),
        "aes128ccm96" => aead("aes128ccm12"),
        "aes192ccm96" => aead("aes192ccm12"),
        "aes256ccm96" => aead("aes256ccm12"),
        "aes128ccm128" => aead("aes128ccm16"),
        "aes192ccm128" => aead("aes192ccm16"),
        "aes256ccm128" => aead("aes256ccm16"),
        "chacha20poly1305" => aead("chacha20poly1305"),
        _ => None,
    }
}

/// (integrity keyword, PRF keyword) for an intent hash word.
pub fn hash(word: &str) -> Option<(&'static str, &'static str)> {
    match word {
        "md5" => Some(("md5", "prfmd5")),
        "md5_128" => Some(("md5_128", "prfmd5")),
        "sha1" => Some(("sha1", "prfsha1")),
        "sha1_160" => Some(("sha1_160", "prfsha1")),
        "sha256" => Some(("sha256", "prfsha256")),
        "sha256_96" => Some(("sha256_96", "prfsha256")),
        "sha384" => Some(("sha384", "prfsha384")),
        "sha512" => Some(("sha512", "prfsha512")),
        "aesxcbc" => Some(("aesxcbc", "prfaesxcbc")),
        "aescmac" => Some(("aescmac", "prfaescmac")),
        _ => None,
    }
}

/// The IANA Diffie-Hellman group (RFC 7296 §3.3.2 and the IKEv2 registry) in strongSwan's
/// words. Groups 3 and 4 (EC2N) have none.
pub fn dh_group(group: u32) -> Option<&'static str> {
    Some(match group {
        1 => "modp768",
        2 => "modp1024",
        5 => "modp1536",
        14 => "modp2048",
        15 => "modp3072",
        16 => "modp4096",
        17 => "modp6144",
        18 => "modp8192",
        19 => "ecp256",
        20 => "ecp384",
        21 => "ecp521",
        22 => "modp1024s160",
        23 => "modp2048s224",
        24 => "modp2048s256",
        25 => "ecp192",
        26 => "ecp224",
        27 => "ecp224bp",
        28 => "ecp256bp",
        29 => "ecp384bp",
        30 => "ecp512bp",
        31 => "curve25519",
        32 => "curve448",
        _ => return None,
    })
}

/// An IKE proposal: `aes128-sha256-modp2048`; with an AEAD cipher the hash is the PRF
/// (`aes128gcm16-prfsha256-modp2048`).
pub fn ike(cipher: Cipher, hash: (&str, &str), group: &str) -> String {
    let middle = if cipher.aead { hash.1 } else { hash.0 };
    format!("{}-{middle}-{group}", cipher.keyword)
}

/// An ESP proposal: `aes128-sha256`, with the DH group appended for PFS
/// (`aes128-sha256-modp2048`); an AEAD cipher has no separate integrity (`aes128gcm16`).
pub fn esp(cipher: Cipher, hash: (&str, &str), pfs: Option<&str>) -> String {
    let mut parts = vec![cipher.keyword];
    if !cipher.aead {
        parts.push(hash.0);
    }
    parts.extend(pfs);
    parts.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposals_in_strongswan_words() {
        let aes = cipher("aes128").expect("aes128");
        let gcm = cipher("aes256gcm128").expect("gcm");
        let sha = hash("sha256").expect("sha256");
        assert_eq!(ike(aes, sha, "modp2048"), "aes128-sha256-modp2048");
        assert_eq!(ike(gcm, sha, "ecp256"), "aes256gcm16-prfsha256-ecp256");
        assert_eq!(esp(aes, sha, Some("modp2048")), "aes128-sha256-modp2048");
        assert_eq!(esp(aes, sha, None), "aes128-sha256");
        assert_eq!(esp(gcm, sha, None), "aes256gcm16");
        assert_eq!(dh_group(31), Some("curve25519"));
        assert_eq!(dh_group(3), None);
        assert_eq!(cipher("aes"), None);
        assert_eq!(hash("sha3"), None);
    }
}
