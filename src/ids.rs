//! Random ids and the names the harness gives what it makes on a target, shared by the harness
//! and the reference server.

/// Every user and device the harness makes starts with this, so leftovers can be found.
pub const NAME_PREFIX: &str = "mfa-harness-";

/// A random lowercase hex id of `bytes` bytes, the shape of IAM ids.
pub fn random_hex(bytes: usize) -> String {
    (0..bytes).map(|_| format!("{:02x}", rand::random::<u8>())).collect()
}

/// A random password that meets the IAM password policy.
pub fn generate_password() -> String {
    format!("Mh-{}", random_hex(12))
}

/// A random token-shaped string (`MII` and 96 hex digits, as IAM tokens start).
pub fn random_token() -> String {
    format!("MII{}", random_hex(48))
}

/// The name of the `n`-th user a run provisions: `mfa-harness-<run>-<n>`.
pub fn user_name(run_id: &str, n: u32) -> String {
    format!("{NAME_PREFIX}{run_id}-{n}")
}

/// A device name unique to one contract case: `mfa-harness-<8 hex>`.
pub fn case_device_name() -> String {
    format!("{NAME_PREFIX}{}", random_hex(4))
}

/// The start of every device name of one load run: `mfa-harness-load-<6 hex>`, and
/// `-<tag>` for one shard of a distributed run (`-s2`), so shards never share a name.
pub fn load_device_prefix(tag: Option<&str>) -> String {
    let tag = tag.map(|t| format!("-{t}")).unwrap_or_default();
    format!("{NAME_PREFIX}load-{}{tag}", random_hex(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_their_documented_shapes() {
        let hex = random_hex(16);
        assert_eq!(hex.len(), 32);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert!(generate_password().starts_with("Mh-") && generate_password().len() == 27);
        assert_eq!(user_name("abc123", 7), "mfa-harness-abc123-7");
        assert!(case_device_name().starts_with(NAME_PREFIX) && case_device_name().len() == 20);
        assert!(load_device_prefix(None).starts_with("mfa-harness-load-") && load_device_prefix(None).len() == 23);
        assert!(load_device_prefix(Some("s3")).ends_with("-s3") && load_device_prefix(Some("s3")).len() == 26);
        assert!(random_token().starts_with("MII") && random_token().len() == 99);
    }
}
