//! Who is calling: `Authorization: Bearer <token>` (scheme in any case),
//! where the token is an API key (`stw_…`, checked by the engine) or a
//! login token this server signed (HS256 JWT with `sub`, `iat`, `exp`,
//! `iss`). [`Caller`] yields core's `Principal`; the role it carries is the
//! key's or the user's current one, and core decides what it may do.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use steward::{Principal, UserId};

use super::error::ApiError;
use super::state::AppState;

/// Who signs login tokens.
const ISSUER: &str = "steward";
/// Clock skew tolerated on `exp` and `iat`, in seconds.
const LEEWAY: u64 = 5;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
    iss: String,
}

/// Signs and checks login tokens with one secret.
pub(crate) struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime: Duration,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("lifetime", &self.lifetime).finish_non_exhaustive()
    }
}

/// A login token and how many seconds it lives.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Issued {
    pub(crate) access_token: String,
    #[schemars(extend("const" = "bearer"))]
    pub(crate) token_type: &'static str,
    pub(crate) expires_in: u64,
}

impl Tokens {
    pub(crate) fn new(secret: &[u8], lifetime: Duration) -> Result<Tokens, steward::Error> {
        let bad = |e: jsonwebtoken::errors::Error| steward::Error::invalid("jwt_secret", e.to_string());
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = LEEWAY;
        validation.validate_aud = false;
        Ok(Tokens {
            encoding: EncodingKey::from_secret(secret).map_err(bad)?,
            decoding: DecodingKey::from_secret(secret).map_err(bad)?,
            validation,
            lifetime,
        })
    }

    pub(crate) fn issue(&self, user: UserId) -> Result<Issued, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let lifetime = self.lifetime.as_secs();
        let claims = Claims {
            sub: user.to_string(),
            iat: now,
            exp: now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX)),
            iss: ISSUER.into(),
        };
        let access_token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::from(steward::Error::Internal(format!("signing a token failed: {e}"))))?;
        Ok(Issued { access_token, token_type: "bearer", expires_in: lifetime })
    }

    /// The user a token names, if this server signed it, it is HS256, it
    /// has not expired and it was not issued in the future.
    pub(crate) fn verify(&self, token: &str) -> Option<UserId> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        let now = chrono::Utc::now().timestamp();
        if data.claims.iat > now.saturating_add(LEEWAY as i64) {
            return None;
        }
        data.claims.sub.parse::<uuid::Uuid>().ok().map(UserId)
    }
}

/// The authenticated principal of a request; 401 without valid credentials.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caller(pub(crate) Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).ok_or_else(ApiError::unauthorized)?;
        let token =
            bearer(header.to_str().map_err(|_| ApiError::unauthorized())?).ok_or_else(ApiError::unauthorized)?;
        let principal = if token.starts_with(steward::core::user::API_KEY_PREFIX) {
            state.steward.authenticate_key(token).await?
        } else {
            let user = state.tokens.verify(token).ok_or_else(ApiError::unauthorized)?;
            // A deleted user's token stops working: the engine finds no one.
            state.steward.authenticate_user(user).await?
        };
        Ok(Caller(principal))
    }
}

/// The token of `Bearer <token>`, the scheme compared case-insensitively.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_is_case_insensitive() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bEaReR  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("abc"), None);
    }

    #[test]
    fn tokens_verify_only_with_their_secret() {
        let tokens = Tokens::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(3600)).unwrap();
        let other = Tokens::new(b"fedcba9876543210fedcba9876543210", Duration::from_secs(3600)).unwrap();
        let user = UserId(uuid::Uuid::nil());
        let issued = tokens.issue(user).unwrap();
        assert_eq!(tokens.verify(&issued.access_token), Some(user));
        assert_eq!(other.verify(&issued.access_token), None);
        assert_eq!(issued.expires_in, 3600);
    }
}
