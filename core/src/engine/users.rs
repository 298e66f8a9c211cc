//! Users, API keys, settings, profile and the activity feed.

use super::{CONFLICT_RETRIES, Engine, check_version, event, retry_on_conflict};
use crate::access::Access;
use crate::agent::run::derived_uuid;
use crate::error::{Conflict, Entity, Error, Result};
use crate::event::{Event, EventKind, EventQuery};
use crate::ids::{ApiKeyId, UserId};
use crate::query::{Page, PageRequest};
use crate::settings::{Profile, ProfilePatch, Project, Settings, SettingsPatch};
use crate::store::{Record, Write};
use crate::user::{API_KEY_PREFIX, ApiKey, NewUser, Principal, Role, User};

/// Bytes of randomness in an API key secret (256 bits).
const KEY_BYTES: usize = 32;

impl Engine {
    /// Creates a user, as an admin or the system (which creates the CLI's
    /// local operator). The first user of an empty store is an admin unless
    /// a role is given.
    #[tracing::instrument(level = "info", name = "create_user", skip_all, fields(user = %by.user_id, role = %by.role))]
    pub async fn create_user(&self, by: &Principal, input: NewUser) -> Result<User> {
        by.require(Access::ManageUsers)?;
        // The first user of an empty database is admin. Two creating at once
        // would both see it empty, so the first user's id is a fixed one:
        // of two racing, one insert fails on the id and looks again.
        let mut tries = 0;
        loop {
            match self.try_create_user(by, input.clone()).await {
                Err(Error::Conflict(Conflict::DuplicateId { entity: Entity::User })) if tries < CONFLICT_RETRIES => {
                    tries += 1;
                }
                other => break other,
            }
        }
    }

    async fn try_create_user(&self, by: &Principal, input: NewUser) -> Result<User> {
        let now = self.now();
        let first = self.store.users(PageRequest { limit: 1, offset: 0 }).await?.total == 0;
        let (id, default_role) = match first {
            true => (UserId(derived_uuid(&[b"the first user"])), Role::Admin),
            false => (self.new_id(), Role::User),
        };
        let user = User::create(id, input, default_role, now)?;
        if self.store.user_by_email(&user.email).await?.is_some() {
            return Err(Error::Conflict(Conflict::UniqueField { entity: Entity::User, field: "email" }));
        }
        let created = event(user.id, Some(by), EventKind::UserCreated, Entity::User, user.id.0, None, Some(&user), now);
        self.commit(vec![Write::Insert(Record::User(user.clone())), created]).await?;
        Ok(user)
    }

    /// A user account: the caller's own, or anyone's for an admin.
    #[tracing::instrument(level = "info", name = "user", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn user(&self, p: &Principal, id: UserId) -> Result<User> {
        let user = self.store.user(id).await?.filter(|u| p.may_act_for(u.id));
        user.ok_or(Error::not_found(Entity::User))
    }

    /// The account with this email (compared lower-cased): the caller's own,
    /// or anyone's for an admin.
    #[tracing::instrument(level = "info", name = "user_by_email", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn user_by_email(&self, p: &Principal, email: &str) -> Result<User> {
        let user = self.store.user_by_email(&email.trim().to_lowercase()).await?.filter(|u| p.may_act_for(u.id));
        user.ok_or(Error::not_found(Entity::User))
    }

    /// Every account, oldest first (admins only).
    #[tracing::instrument(level = "info", name = "users", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn users(&self, p: &Principal, page: PageRequest) -> Result<Page<User>> {
        p.require(Access::ManageUsers)?;
        self.store.users(page).await
    }

    /// The principal for acting on the user with this email: the caller
    /// itself for its own email (keeping the caller's role, a key's say),
    /// else that user with their own role, which needs
    /// [`Access::OtherUsers`]. Anyone else's account is "not found".
    #[tracing::instrument(level = "info", name = "act_as", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn act_as(&self, p: &Principal, email: &str) -> Result<Principal> {
        let user = self.user_by_email(p, email).await?;
        if user.id == p.user_id { Ok(*p) } else { Ok(user.principal()) }
    }

    /// The local operator the CLI acts as when no user is named: the oldest
    /// admin, created by the system as `email` on a database without one.
    /// A local-trust shortcut: no network frontend calls it.
    #[tracing::instrument(level = "info", name = "local_operator", skip_all)]
    pub async fn local_operator(&self, email: &str) -> Result<Principal> {
        let system = Principal::system();
        if let Some(admin) = self.store.first_admin().await? {
            return Ok(admin.principal());
        }
        let input =
            NewUser { email: email.into(), name: Some("me".into()), role: Some(Role::Admin), password_hash: None };
        match self.create_user(&system, input).await {
            Ok(user) => Ok(user.principal()),
            // Created concurrently by another process.
            Err(Error::Conflict(Conflict::UniqueField { entity: Entity::User, .. })) => {
                Ok(self.user_by_email(&system, email).await?.principal())
            }
            Err(e) => Err(e),
        }
    }

    /// Creates an API key for the caller and returns it with its secret,
    /// which is shown this once and stored only as a hash.
    #[tracing::instrument(level = "info", name = "create_api_key", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn create_api_key(&self, p: &Principal, name: &str, role: Option<Role>) -> Result<(ApiKey, String)> {
        p.require(Access::ManageKeys)?;
        let owner = self.user(p, p.user_id).await?;
        let acting = User { role: p.role, ..owner };
        let mut bytes = [0u8; KEY_BYTES];
        self.ids.fill_random(&mut bytes);
        let mut secret = String::from(API_KEY_PREFIX);
        crate::hex::push(&mut secret, &bytes);
        let now = self.now();
        let key = ApiKey::create(self.new_id(), &acting, name, role, &secret, now)?;
        let created =
            event(p.user_id, Some(p), EventKind::ApiKeyCreated, Entity::ApiKey, key.id.0, None, Some(&key), now);
        self.commit(vec![Write::Insert(Record::ApiKey(key.clone())), created]).await?;
        Ok((key, secret))
    }

    #[tracing::instrument(level = "info", name = "api_keys", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn api_keys(&self, p: &Principal) -> Result<Vec<ApiKey>> {
        p.require(Access::ManageKeys)?;
        self.store.api_keys(p.user_id).await
    }

    /// Revokes a key; it stops working at once.
    #[tracing::instrument(level = "info", name = "revoke_api_key", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn revoke_api_key(&self, p: &Principal, id: ApiKeyId) -> Result<ApiKey> {
        p.require(Access::ManageKeys)?;
        let before = self.store.api_key(p.user_id, id).await?.ok_or(Error::not_found(Entity::ApiKey))?;
        if !before.is_active() {
            return Ok(before);
        }
        let now = self.now();
        let key = ApiKey { revoked_at: Some(now), ..before.clone() };
        let revoked =
            event(p.user_id, Some(p), EventKind::ApiKeyRevoked, Entity::ApiKey, id.0, Some(&before), Some(&key), now);
        self.commit(vec![Write::Update { record: Record::ApiKey(key.clone()), expected_version: None }, revoked])
            .await?;
        Ok(key)
    }

    /// Who a key secret belongs to, with the key's role. Unknown or revoked
    /// keys (and keys of deleted users) are `Unauthorized`, all alike. The
    /// one operation without a principal: it is how a caller gets one.
    #[tracing::instrument(level = "info", name = "authenticate_key", skip_all)]
    pub async fn authenticate_key(&self, secret: &str) -> Result<Principal> {
        let key = self.store.api_key_by_hash(&ApiKey::hash_secret(secret.trim())).await?;
        // The store finds no key of a user that no longer exists.
        let key = key.filter(ApiKey::is_active).ok_or(Error::Unauthorized)?;
        Ok(Principal { user_id: key.user_id, role: key.role })
    }

    /// The principal of a user whose identity a frontend has already
    /// proven (a signed session token naming this id), with the user's
    /// current role. A user that no longer exists is `Unauthorized`, like
    /// an unknown key. Without a principal, as [`Engine::authenticate_key`].
    #[tracing::instrument(level = "info", name = "authenticate_user", skip_all, fields(subject = %id))]
    pub async fn authenticate_user(&self, id: UserId) -> Result<Principal> {
        let user = self.store.user(id).await?.ok_or(Error::Unauthorized)?;
        Ok(user.principal())
    }

    /// The caller's settings, created with defaults on first read.
    #[tracing::instrument(level = "info", name = "settings", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn settings(&self, p: &Principal) -> Result<Settings> {
        if let Some(settings) = self.store.settings(p.user_id).await? {
            return Ok(settings);
        }
        let settings = Settings::defaults(p.user_id, self.now());
        match self.commit(vec![Write::Insert(Record::Settings(settings.clone()))]).await {
            Ok(()) => Ok(settings),
            // Created concurrently by another first read.
            Err(Error::Conflict(Conflict::DuplicateId { .. })) => {
                self.store.settings(p.user_id).await?.ok_or(Error::not_found(Entity::Settings))
            }
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(level = "info", name = "update_settings", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn update_settings(
        &self,
        p: &Principal,
        patch: SettingsPatch,
        if_match: Option<i64>,
    ) -> Result<Settings> {
        p.require_write()?;
        retry_on_conflict!(if_match, {
            let before = self.settings(p).await?;
            check_version(Entity::Settings, if_match, before.version)?;
            let now = self.now();
            let mut settings = before.clone();
            settings.apply(patch.clone())?;
            settings.touch(now);
            self.save_settings(p, before, settings, now).await
        })
    }

    /// Back to the defaults (the timezone included).
    #[tracing::instrument(level = "info", name = "reset_settings", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn reset_settings(&self, p: &Principal) -> Result<Settings> {
        p.require_write()?;
        retry_on_conflict!(None::<i64>, {
            let before = self.settings(p).await?;
            let now = self.now();
            let settings = Settings {
                created_at: before.created_at,
                updated_at: now.max(before.updated_at),
                version: before.version + 1,
                ..Settings::defaults(p.user_id, now)
            };
            self.save_settings(p, before, settings, now).await
        })
    }

    async fn save_settings(
        &self,
        p: &Principal,
        before: Settings,
        after: Settings,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Settings> {
        let updated = event(
            p.user_id,
            Some(p),
            EventKind::SettingsUpdated,
            Entity::Settings,
            p.user_id.0,
            Some(&before),
            Some(&after),
            now,
        );
        let write = Write::Update { record: Record::Settings(after.clone()), expected_version: Some(before.version) };
        self.commit(vec![write, updated]).await?;
        Ok(after)
    }

    /// The caller's profile, created empty on first read.
    #[tracing::instrument(level = "info", name = "profile", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn profile(&self, p: &Principal) -> Result<Profile> {
        if let Some(profile) = self.store.profile(p.user_id).await? {
            return Ok(profile);
        }
        let profile = Profile::empty(p.user_id, self.now());
        match self.commit(vec![Write::Insert(Record::Profile(profile.clone()))]).await {
            Ok(()) => Ok(profile),
            Err(Error::Conflict(Conflict::DuplicateId { .. })) => {
                self.store.profile(p.user_id).await?.ok_or(Error::not_found(Entity::Profile))
            }
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(level = "info", name = "update_profile", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn update_profile(&self, p: &Principal, patch: ProfilePatch) -> Result<Profile> {
        self.change_profile(p, |profile| profile.apply(patch.clone())).await
    }

    /// Adds a project, or replaces the one of the same name.
    #[tracing::instrument(level = "info", name = "put_project", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn put_project(&self, p: &Principal, project: Project) -> Result<Profile> {
        self.change_profile(p, |profile| profile.put_project(project.clone())).await
    }

    /// Changes the status of the project with this name (case-insensitive).
    #[tracing::instrument(level = "info", name = "set_project_status", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn set_project_status(&self, p: &Principal, name: &str, status: &str) -> Result<Profile> {
        self.change_profile(p, |profile| {
            let project = profile
                .ongoing_projects
                .iter()
                .find(|proj| proj.name.eq_ignore_ascii_case(name.trim()))
                .cloned()
                .ok_or(Error::not_found(Entity::Project))?;
            profile.put_project(Project { status: status.to_string(), ..project })
        })
        .await
    }

    #[tracing::instrument(level = "info", name = "remove_project", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn remove_project(&self, p: &Principal, name: &str) -> Result<Profile> {
        self.change_profile(p, |profile| {
            let before = profile.ongoing_projects.len();
            profile.ongoing_projects.retain(|proj| !proj.name.eq_ignore_ascii_case(name.trim()));
            if profile.ongoing_projects.len() == before { Err(Error::not_found(Entity::Project)) } else { Ok(()) }
        })
        .await
    }

    async fn change_profile(&self, p: &Principal, change: impl Fn(&mut Profile) -> Result<()>) -> Result<Profile> {
        p.require_write()?;
        retry_on_conflict!(None::<i64>, {
            let before = self.profile(p).await?;
            let now = self.now();
            let mut profile = before.clone();
            change(&mut profile)?;
            profile.touch(now);
            let updated = event(
                p.user_id,
                Some(p),
                EventKind::ProfileUpdated,
                Entity::Profile,
                p.user_id.0,
                Some(&before),
                Some(&profile),
                now,
            );
            let write =
                Write::Update { record: Record::Profile(profile.clone()), expected_version: Some(before.version) };
            self.commit(vec![write, updated]).await.map(|()| profile)
        })
    }

    /// The caller's audit log, oldest first.
    #[tracing::instrument(level = "info", name = "activities", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn activities(&self, p: &Principal, query: EventQuery) -> Result<Vec<Event>> {
        self.store.events(p.user_id, &query).await
    }
}
