//! Users, their roles, API keys, and the principal every operation runs as.
//!
//! Every record belongs to one user and every operation is scoped to the
//! caller; another user's object is "not found", never "forbidden".

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::ids::{ApiKeyId, UserId};
use crate::task::enum_text;
use crate::validate::{self, Checks};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including configuration and other users.
    Admin,
    /// Their own data, including their API keys.
    User,
    /// Reads their own data, writes nothing.
    Observer,
    /// Their own data, but no user or key management (service accounts).
    Api,
    /// The engine's own worker and scheduler ([`Principal::system`]). Never
    /// stored, granted, parsed from text or deserialized.
    #[serde(skip_deserializing)]
    System,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
            Role::Observer => "observer",
            Role::Api => "api",
            Role::System => "system",
        }
    }

    /// A key never carries more power than its creator, and nobody grants
    /// the system role.
    pub fn can_grant(self, role: Role) -> bool {
        match (self, role) {
            (_, Role::System) => false,
            (Role::Admin, _) => true,
            (Role::User, role) => role != Role::Admin,
            (Role::Observer | Role::Api | Role::System, _) => false,
        }
    }
}
// `System` is left out on purpose: no text (a stored row, a CLI flag, a
// request) ever reads back as the system role.
enum_text!(Role, "role", [Role::Admin, Role::User, Role::Observer, Role::Api]);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// An argon2 PHC string; never serialised out.
    #[serde(skip_serializing, default)]
    pub password_hash: Option<String>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewUser {
    pub email: String,
    pub name: Option<String>,
    /// `None`: `admin` for the first user of an empty store, else `user`.
    pub role: Option<Role>,
    /// Already hashed by the caller (the facade owns password hashing).
    pub password_hash: Option<String>,
}

impl User {
    pub(crate) fn create(id: UserId, input: NewUser, default_role: Role, now: DateTime<Utc>) -> Result<User> {
        let mut c = Checks::new();
        let email = validate::email(&mut c, &input.email);
        let fallback = email.split('@').next().unwrap_or_default().to_string();
        let name = c.text("name", input.name.as_deref().unwrap_or(&fallback), 1, 100);
        if input.role == Some(Role::System) {
            c.fail("role", "the system role belongs to the engine, not to a user");
        }
        c.finish()?;
        Ok(User {
            id,
            email,
            name,
            role: input.role.unwrap_or(default_role),
            password_hash: input.password_hash,
            created_at: now,
        })
    }

    pub fn principal(&self) -> Principal {
        Principal { user_id: self.id, role: self.role }
    }
}

/// Who is acting: the user whose data is touched, and with which role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: UserId,
    pub role: Role,
}

/// An API key. Only its SHA-256 is stored; the secret is shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    /// Hex SHA-256 of the secret.
    #[serde(skip_serializing, default)]
    pub key_hash: String,
    /// The first characters of the secret, to recognise it in a list.
    pub prefix: String,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::serde_time::micros_opt")]
    #[cfg_attr(feature = "openapi", schemars(with = "Option<chrono::DateTime<chrono::Utc>>"))]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The prefix every Steward API key starts with.
pub const API_KEY_PREFIX: &str = "stw_";

impl ApiKey {
    /// The stored form of a secret.
    pub fn hash_secret(secret: &str) -> String {
        let digest = Sha256::digest(secret.as_bytes());
        crate::hex::encode(&digest)
    }

    pub(crate) fn create(
        id: ApiKeyId,
        owner: &User,
        name: &str,
        role: Option<Role>,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<ApiKey> {
        let mut c = Checks::new();
        let name = c.text("name", name, 1, 100);
        let role = role.unwrap_or(owner.role);
        if !owner.role.can_grant(role) {
            return Err(Error::Forbidden(format!("a {} cannot create a key with role {}", owner.role, role)));
        }
        if !secret.starts_with(API_KEY_PREFIX) || secret.len() < API_KEY_PREFIX.len() + 24 {
            c.fail("key", "generated key is too short");
        }
        c.finish()?;
        Ok(ApiKey {
            id,
            user_id: owner.id,
            name,
            role,
            key_hash: Self::hash_secret(secret),
            prefix: secret.chars().take(API_KEY_PREFIX.len() + 6).collect(),
            created_at: now,
            revoked_at: None,
        })
    }

    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}
