//! Password hashing (argon2id, PHC strings). Only hashes are ever stored.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use steward_core::{Error, Result};

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;

/// Memory of one new hash, in KiB: 46 MiB with one pass, one of OWASP's
/// equivalent Argon2id settings (the crate's default is 19 MiB with two).
/// Above glibc's largest mmap threshold (32 MiB), so the memory goes back
/// to the OS when the hash is done; 19 MiB stayed in the allocator's arena
/// for good after the second hash, most of an idle server's memory.
const MEMORY_KIB: u32 = 46 * 1024;
const PASSES: u32 = 1;

/// The hasher of new passwords. (Checking a hash uses the parameters the
/// hash names, so older hashes keep verifying.)
fn hasher() -> Result<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, PASSES, 1, None)
        .map_err(|e| Error::Internal(format!("password hashing parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password after checking its length.
pub fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(Error::invalid("password", format!("must be at least {MIN_PASSWORD_LEN} characters")));
    }
    let mut salt = [0u8; 16];
    {
        use rand::RngCore;
        rand::rng().fill_bytes(&mut salt);
    }
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Internal(format!("salt: {e}")))?;
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
}

/// Whether `password` matches a stored hash; a malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A valid hash of a random password, computed once: what a login for an
/// unknown email is checked against, so it costs as much as a real one.
pub(crate) fn decoy_hash() -> String {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| {
            let mut bytes = [0u8; 16];
            {
                use rand::RngCore;
                rand::rng().fill_bytes(&mut bytes);
            }
            let password = steward_core::hex::encode(&bytes);
            hash_password(&password).unwrap_or_default()
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_wrong_passwords_do_not() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse!", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn new_hashes_take_one_pass_over_46_mib_and_older_ones_still_verify() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=47104,t=1,p=1$"), "{hash}");
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let older = Argon2::default().hash_password(b"correct horse", &salt).unwrap().to_string();
        assert!(older.contains("m=19456,t=2,p=1"), "{older}");
        assert!(verify_password("correct horse", &older));
        assert!(!verify_password("wrong horse!", &older));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(matches!(hash_password("short"), Err(Error::Invalid(_))));
    }
}
