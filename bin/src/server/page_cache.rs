//! List pages kept as the JSON text they were answered with, per user and
//! query, beside the store's change stamp (`Engine::change_stamp`): a page
//! is answered from here only while the stamp is what it was when the page
//! was read, that is, while no write has committed to the database since,
//! in this process or any other (SQLite's `data_version`). Any write, by
//! anyone, makes every kept page stale, so a page is never older than an
//! uncached read would be; what it saves is reading, decoding and
//! serialising the same rows again for a client that polls an unchanged
//! list. Stores without a stamp (PostgreSQL today) are never cached.
//!
//! Authentication still runs for every request, and a page is kept under
//! the user it was read for: core scopes every list by its owner alone, so
//! each of that user's credentials would be answered the same rows.

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Mutex;

use axum::body::Bytes;
use serde::Serialize;
use steward::{Page, Steward, UserId};

use super::envelope::Reply;
use super::error::ApiError;
use super::lists;

/// Pages answered from the cache (`outcome="hit"`) and read from the store
/// (`outcome="miss"`; only counted where the store has a stamp).
pub(crate) const PAGE_CACHE: &str = "steward_page_cache_total";

/// The largest page kept, in bytes of JSON (a page of 100 long tasks).
const LARGEST: usize = 512 * 1024;

#[derive(Debug, PartialEq, Eq, Hash)]
struct Key {
    user: UserId,
    list: &'static str,
    /// The validated query, as `Debug` prints it (every field, in order).
    query: String,
}

#[derive(Debug)]
struct Kept {
    stamp: u64,
    data: Bytes,
}

#[derive(Debug)]
pub(crate) struct PageCache {
    entries: Mutex<HashMap<Key, Kept>>,
    capacity: usize,
}

impl PageCache {
    /// Keeps at most `capacity` pages (0: keeps none).
    pub(crate) fn new(capacity: usize) -> PageCache {
        PageCache { entries: Mutex::new(HashMap::new()), capacity }
    }

    /// The page of `list` that `read` gives for `query`, as `lists::page`
    /// answers it; from the cache when the store's change stamp, read here
    /// before anything else, has not moved since the page was kept.
    pub(crate) async fn page<T, F, Fut>(
        &self,
        steward: &Steward,
        user: UserId,
        list: &'static str,
        query: &impl Debug,
        read: F,
    ) -> Result<Reply, ApiError>
    where
        T: Serialize,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Page<T>, steward::Error>>,
    {
        // A failed stamp read only means nothing is kept or answered from
        // here; with no room to keep anything, it is not read at all.
        let stamp = if self.capacity == 0 { None } else { steward.change_stamp().await.ok().flatten() };
        self.page_at(stamp, user, list, query, read).await
    }

    /// [`PageCache::page`] with the stamp already read (before `read` runs).
    async fn page_at<T, F, Fut>(
        &self,
        stamp: Option<u64>,
        user: UserId,
        list: &'static str,
        query: &impl Debug,
        read: F,
    ) -> Result<Reply, ApiError>
    where
        T: Serialize,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Page<T>, steward::Error>>,
    {
        let stamp = stamp.filter(|_| self.capacity > 0);
        let key = stamp.map(|_| Key { user, list, query: format!("{query:?}") });
        if let (Some(stamp), Some(key)) = (stamp, &key)
            && let Some(data) = self.fresh(key, stamp)
        {
            metrics::counter!(PAGE_CACHE, "outcome" => "hit").increment(1);
            return Ok(Reply::json(data));
        }
        let page = read().await?;
        let data = lists::page_json(list, &page)?;
        if let (Some(stamp), Some(key)) = (stamp, key) {
            metrics::counter!(PAGE_CACHE, "outcome" => "miss").increment(1);
            self.keep(key, stamp, data.clone());
        }
        Ok(Reply::json(data))
    }

    fn fresh(&self, key: &Key, stamp: u64) -> Option<Bytes> {
        let entries = self.entries.lock().ok()?;
        entries.get(key).filter(|kept| kept.stamp == stamp).map(|kept| kept.data.clone())
    }

    fn keep(&self, key: Key, stamp: u64, data: Bytes) {
        if data.len() > LARGEST {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            // Full: what is kept was read at some stamp; drop what a write
            // has made stale, and if that frees nothing, start over.
            entries.retain(|_, kept| kept.stamp == stamp);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, Kept { stamp, data });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use uuid::Uuid;

    use super::*;

    fn page(n: u64) -> Page<u64> {
        Page { items: vec![n], total: 1, offset: 0, limit: 20 }
    }

    async fn ask(cache: &PageCache, stamp: Option<u64>, user: u128, query: &str, reads: &AtomicUsize, n: u64) -> Bytes {
        let reply = cache
            .page_at(stamp, UserId(Uuid::from_u128(user)), "items", &query, || async {
                reads.fetch_add(1, Ordering::SeqCst);
                Ok(page(n))
            })
            .await
            .unwrap();
        reply.into_json().unwrap()
    }

    #[tokio::test]
    async fn a_page_is_read_again_once_the_stamp_moves() {
        let cache = PageCache::new(8);
        let reads = AtomicUsize::new(0);
        let first = ask(&cache, Some(1), 1, "q", &reads, 10).await;
        // Same stamp: the kept text, the store not asked.
        assert_eq!(ask(&cache, Some(1), 1, "q", &reads, 11).await, first);
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        // A write committed: read again, and the new rows answered.
        let after = ask(&cache, Some(2), 1, "q", &reads, 12).await;
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        assert_ne!(after, first);
        assert!(String::from_utf8_lossy(&after).contains("[12]"));
    }

    #[tokio::test]
    async fn pages_are_kept_per_user_and_query_and_never_without_a_stamp() {
        let cache = PageCache::new(8);
        let reads = AtomicUsize::new(0);
        ask(&cache, Some(1), 1, "q", &reads, 1).await;
        let other_user = ask(&cache, Some(1), 2, "q", &reads, 2).await;
        let other_query = ask(&cache, Some(1), 1, "r", &reads, 3).await;
        assert_eq!(reads.load(Ordering::SeqCst), 3);
        assert!(String::from_utf8_lossy(&other_user).contains("[2]"));
        assert!(String::from_utf8_lossy(&other_query).contains("[3]"));
        // No stamp (a store that cannot tell): always read.
        ask(&cache, None, 3, "q", &reads, 4).await;
        ask(&cache, None, 3, "q", &reads, 4).await;
        assert_eq!(reads.load(Ordering::SeqCst), 5);
        // A cache of no entries keeps nothing.
        let off = PageCache::new(0);
        ask(&off, Some(1), 1, "q", &reads, 5).await;
        ask(&off, Some(1), 1, "q", &reads, 5).await;
        assert_eq!(reads.load(Ordering::SeqCst), 7);
    }

    #[tokio::test]
    async fn a_full_cache_stays_within_its_capacity() {
        let cache = PageCache::new(2);
        let reads = AtomicUsize::new(0);
        for query in ["a", "b", "c", "d"] {
            ask(&cache, Some(1), 1, query, &reads, 1).await;
            assert!(cache.entries.lock().unwrap().len() <= 2);
        }
        // Stale pages make room first.
        ask(&cache, Some(2), 1, "e", &reads, 1).await;
        assert_eq!(cache.entries.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_failed_read_is_the_answer_and_nothing_is_kept() {
        let cache = PageCache::new(8);
        let failed = cache
            .page_at(Some(1), UserId(Uuid::from_u128(1)), "items", &"q", || async {
                Err::<Page<u64>, _>(steward::Error::Unavailable("down".into()))
            })
            .await;
        assert!(failed.is_err());
        assert!(cache.entries.lock().unwrap().is_empty());
    }
}
