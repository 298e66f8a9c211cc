//! The key that signs login tokens: `--jwt-secret` when given, else one
//! generated once and kept in the database (`Steward::server_secret`), so
//! tokens survive restarts and every server on one database accepts the
//! others' tokens.

use steward::{Error, Steward};

/// The name the generated key is kept under.
const JWT_SECRET: &str = "jwt_hs256";
/// Shortest `--jwt-secret` accepted: HS256 wants at least 256 bits.
const MIN_SECRET_BYTES: usize = 32;

pub(crate) async fn jwt_secret(steward: &Steward, given: Option<&str>) -> Result<Vec<u8>, Error> {
    if let Some(given) = given {
        if given.len() < MIN_SECRET_BYTES {
            return Err(Error::invalid(
                "jwt_secret",
                format!("--jwt-secret must be at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)"),
            ));
        }
        return Ok(given.as_bytes().to_vec());
    }
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let candidate = steward::core::hex::encode(&bytes);
    Ok(steward.server_secret(JWT_SECRET, &candidate).await?.into_bytes())
}
