//! What every request reads first, kept between requests: the user behind a
//! session token, the API key behind a secret, and the owner's settings.
//!
//! Each is one short read on the caller's thread (`direct_read`), but a read
//! that starts after any commit finds its connection's page cache emptied
//! and fetches every page again: under captures these reads were a sixth of
//! the request threads' time. Kept here, they are read again only when
//! something may have changed them:
//! - this process's writer holds the [`CommitWatch`] while a batch that
//!   writes a user, a key or settings runs and is answered (nothing is kept
//!   meanwhile), then starts a new epoch: a revoked key is refused from the
//!   moment its revocation is answered;
//! - any commit by another process or connection moves it too, as soon as
//!   the next read (or the writer) sees its WAL index header.
//!
//! Nothing is kept while no WAL index is watched (a database in memory, or
//! opened read-only): every call reads. Of keys and users only what was
//! found is kept (an unknown key is read each time, so guessing keys cannot
//! fill memory); of settings also that there are none yet. At most
//! [`LIMIT`] of each kind.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use steward_core::settings::Settings;
use steward_core::user::{ApiKey, User};
use uuid::Uuid;

use super::wal_buffer::CommitWatch;
use crate::error::Result;

/// Entries kept of each kind; past it, the kind starts over empty.
const LIMIT: usize = 4096;

/// Reads kept for one epoch of a [`CommitWatch`].
pub(crate) struct Recall {
    watch: Arc<CommitWatch>,
    keys: Memo<String, Option<ApiKey>>,
    users: Memo<Uuid, Option<User>>,
    settings: Memo<Uuid, Option<Settings>>,
}

impl Recall {
    pub(crate) fn new(watch: Arc<CommitWatch>) -> Recall {
        Recall { watch, keys: Memo::default(), users: Memo::default(), settings: Memo::default() }
    }

    /// The key with this hash, kept or `read`. A hash no key has is read
    /// every time.
    pub(crate) fn api_key(&self, hash: &str, read: impl FnOnce() -> Result<Option<ApiKey>>) -> Result<Option<ApiKey>> {
        self.through("api key", &self.keys, hash, read, Option::is_some)
    }

    /// The user `id`, kept or `read`. An id no user has is read every time.
    pub(crate) fn user(&self, id: Uuid, read: impl FnOnce() -> Result<Option<User>>) -> Result<Option<User>> {
        self.through("user", &self.users, &id, read, Option::is_some)
    }

    /// The settings of `owner`, kept or `read`; that the owner has none yet
    /// (the defaults apply) is kept too: the owner is an authenticated
    /// user, so absent settings are at most one entry per user.
    pub(crate) fn settings(
        &self,
        owner: Uuid,
        read: impl FnOnce() -> Result<Option<Settings>>,
    ) -> Result<Option<Settings>> {
        self.through("settings", &self.settings, &owner, read, |_| true)
    }

    fn through<K, Q, V>(
        &self,
        what: &'static str,
        memo: &Memo<K, V>,
        key: &Q,
        read: impl FnOnce() -> Result<V>,
        keep: impl FnOnce(&V) -> bool,
    ) -> Result<V>
    where
        K: Borrow<Q> + Eq + Hash,
        Q: Eq + Hash + ToOwned<Owned = K> + ?Sized,
        V: Clone,
    {
        // The epoch is taken before the read: should anything change while
        // it runs, the epoch moves on and what it found is never used.
        let epoch = self.watch.epoch();
        if let Some(epoch) = epoch
            && let Some(kept) = memo.get(epoch, key)
        {
            tracing::trace!(what, epoch, "SQLite read kept from an earlier request");
            return Ok(kept);
        }
        let found = read()?;
        if let Some(epoch) = epoch
            && keep(&found)
        {
            memo.put(epoch, key.to_owned(), found.clone());
        }
        Ok(found)
    }

    #[cfg(test)]
    fn hits(&self) -> u64 {
        self.keys.hits() + self.users.hits() + self.settings.hits()
    }
}

/// Values of one kind, all read in one epoch.
struct Memo<K, V> {
    kept: Mutex<Kept<K, V>>,
}

struct Kept<K, V> {
    epoch: u64,
    values: HashMap<K, V>,
    /// Reads answered from `values` (what the tests count).
    hits: u64,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo { kept: Mutex::new(Kept { epoch: 0, values: HashMap::new(), hits: 0 }) }
    }
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Kept<K, V>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get<Q: Eq + Hash + ?Sized>(&self, epoch: u64, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let mut kept = self.lock();
        if kept.epoch != epoch {
            return None;
        }
        let value = kept.values.get(key).cloned();
        if value.is_some() {
            kept.hits += 1;
        }
        value
    }

    /// Keeps `value` if it was read in the newest epoch seen here.
    fn put(&self, epoch: u64, key: K, value: V) {
        let mut kept = self.lock();
        if epoch < kept.epoch {
            return;
        }
        if epoch > kept.epoch || kept.values.len() >= LIMIT {
            kept.values.clear();
            kept.epoch = epoch;
        }
        kept.values.insert(key, value);
    }

    #[cfg(test)]
    fn hits(&self) -> u64 {
        self.lock().hits
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use steward_core::Error;
    use steward_core::settings::SettingsPatch;
    use steward_core::testing::Fixture;
    use steward_core::thought::NewThought;

    use crate::sqlite::SqliteStore;

    /// Waits until the writer has let go of the watch after a batch that
    /// wrote a user or key: it answers the callers first, so a read right
    /// after may still find nothing may be kept.
    async fn released(store: &SqliteStore) {
        for _ in 0..1000 {
            if store.recall.watch.epoch().is_some() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        panic!("the writer kept the watch held");
    }

    fn thought(text: &str) -> NewThought {
        NewThought { content: text.into(), ..NewThought::default() }
    }

    /// Through the engine, on a file, with a second store on the same file
    /// standing for another process: kept reads are used while only this
    /// store's other writes commit, read again after anything commits
    /// elsewhere, and a key revoked or settings changed (here or there)
    /// count at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kept_reads_last_until_something_may_have_changed_them() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("recall.db").display());
        let store = Arc::new(SqliteStore::open(&url).await.unwrap());
        let f = Fixture::new(store.clone());
        let ann = f.user("ann@example.com").await;
        let (_, secret) = f.engine.create_api_key(&ann, "cli", None).await.unwrap();
        let hits = || store.recall.hits();
        released(&store).await;

        f.engine.authenticate_key(&secret).await.unwrap();
        let first = hits();
        f.engine.authenticate_key(&secret).await.unwrap();
        assert_eq!(hits(), first + 1, "the second read is kept");
        f.engine.capture_thought(&ann, thought("milk")).await.unwrap();
        let kept = hits();
        f.engine.authenticate_key(&secret).await.unwrap();
        assert_eq!(hits(), kept + 1, "a capture changes no key");
        // A capture reads its owner's settings: none yet, which is kept too.
        f.engine.capture_thought(&ann, thought("bread")).await.unwrap();
        assert_eq!(hits(), kept + 2, "no settings yet, kept");

        let other = Arc::new(SqliteStore::open(&url).await.unwrap());
        let g = Fixture::new(other.clone());
        g.engine.capture_thought(&ann, thought("eggs")).await.unwrap();
        let kept = hits();
        f.engine.authenticate_key(&secret).await.unwrap();
        assert_eq!(hits(), kept, "read again after a commit elsewhere");
        f.engine.authenticate_key(&secret).await.unwrap();
        assert_eq!(hits(), kept + 1, "then kept again");

        // Settings: kept, then changed elsewhere and seen at once.
        let mine = f.engine.settings(&ann).await.unwrap();
        assert_eq!(f.engine.settings(&ann).await.unwrap(), mine);
        let patch =
            SettingsPatch { auto_tagging_enabled: Some(!mine.auto_tagging_enabled), ..SettingsPatch::default() };
        let theirs = g.engine.update_settings(&ann, patch, None).await.unwrap();
        assert_eq!(f.engine.settings(&ann).await.unwrap(), theirs);

        // A key revoked by the other store is refused at once…
        let (key, second) = f.engine.create_api_key(&ann, "phone", None).await.unwrap();
        released(&store).await;
        let kept = hits();
        f.engine.authenticate_key(&second).await.unwrap();
        f.engine.authenticate_key(&second).await.unwrap();
        assert_eq!(hits(), kept + 1, "the new key is kept");
        g.engine.revoke_api_key(&ann, key.id).await.unwrap();
        assert!(matches!(f.engine.authenticate_key(&second).await, Err(Error::Unauthorized)));
        // …and one revoked through this store as soon as that is answered.
        f.engine.authenticate_key(&secret).await.unwrap();
        let kept = hits();
        f.engine.authenticate_key(&secret).await.unwrap();
        assert_eq!(hits(), kept + 1);
        let first_key = f.engine.api_keys(&ann).await.unwrap().into_iter().find(|k| k.name == "cli").unwrap();
        f.engine.revoke_api_key(&ann, first_key.id).await.unwrap();
        assert!(matches!(f.engine.authenticate_key(&secret).await, Err(Error::Unauthorized)));
    }

    /// In memory there is no WAL index to watch: every call reads.
    #[tokio::test]
    async fn nothing_is_kept_in_memory() {
        let store = Arc::new(SqliteStore::open("sqlite::memory:").await.unwrap());
        let f = Fixture::new(store.clone());
        let ann = f.user("ann@example.com").await;
        let (_, secret) = f.engine.create_api_key(&ann, "cli", None).await.unwrap();
        for _ in 0..3 {
            f.engine.authenticate_key(&secret).await.unwrap();
        }
        assert_eq!(store.recall.hits(), 0);
    }
}
