//! Passwords: argon2id hashes in the PHC string format (the salt and parameters travel with
//! the hash, so they can be raised later without breaking stored users).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Shortest password accepted for a user.
pub const MIN_LEN: usize = 12;

pub fn check_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_LEN {
        return Err(format!("a password needs at least {MIN_LEN} characters"));
    }
    if password.len() > 1024 {
        return Err("a password may have at most 1024 bytes".into());
    }
    Ok(())
}

pub fn hash(password: &str) -> String {
    let salt =
        SaltString::encode_b64(&super::random_bytes::<16>()).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters")
        .to_string()
}

/// Whether `password` matches the stored `phc` hash (a malformed hash never matches).
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_verify_and_differ() {
        let a = super::hash("correct horse battery");
        let b = super::hash("correct horse battery");
        assert_ne!(a, b, "a fresh salt every time");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert!(super::verify("correct horse battery", &a));
        assert!(!super::verify("correct horse batterY", &a));
        assert!(!super::verify("anything", "not a hash"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(super::check_strength("short").is_err());
        assert!(super::check_strength("twelve chars").is_ok());
    }
}
