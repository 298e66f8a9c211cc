//! PostgreSQL load benchmark: a million tasks and a million thoughts for one
//! owner (bulk-loaded with `generate_series`), then p50/p99 of the reads the
//! API serves, and task-create throughput from 1 and 8 concurrent clients
//! through the engine. Prints one line per measurement; asserts nothing
//! about time. The engine announces its commits as a server's does (one
//! `steward_events` notice per batch, outside the data transactions), and
//! the count of notices each create round sent is printed beside its rate.
//!
//! `cargo bench -p steward-storage --features postgres --bench postgres_load`
//! Runs on the server named by `STEWARD_TEST_POSTGRES_URL`, in a database
//! of its own (dropped after) copied from a loaded template,
//! `steward_bench_<rows>`, which the first run builds (a few minutes) and
//! later runs reuse; migrations newer than the template run on the copy.
//! `STEWARD_BENCH_ROWS` changes the size (default 1,000,000);
//! `STEWARD_BENCH_RELOAD=1` rebuilds the template (needed after editing a
//! migration the template has already run).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/postgres_support/mod.rs"]
mod postgres_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use postgres_support::{TestDatabase, admin_execute, database_exists, database_url};
use sqlx::{Connection, PgConnection};
use steward_core::live::{CommitObserver, Committed};
use steward_core::query::{PageRequest, SearchField, SortOrder, TaskQuery, TaskSort, ThoughtSearch};
use steward_core::task::{NewTask, TaskStatus};
use steward_core::testing::Fixture;
use steward_core::{Store, UserId};
use steward_storage::{PostgresOptions, PostgresStore};

const OWNER_EMAIL: &str = "bench@example.com";

/// Announces every commit to other processes, as the facade does on
/// PostgreSQL.
#[derive(Debug)]
struct Announcing(Arc<PostgresStore>);

impl CommitObserver for Announcing {
    fn committed(&self, change: &Committed) {
        self.0.announce(change);
    }
}

/// Counts the `steward_events` notices this database carries.
async fn count_notices(url: &str) -> Arc<AtomicUsize> {
    let heard = Arc::new(AtomicUsize::new(0));
    let mut listener = sqlx::postgres::PgListener::connect(url).await.unwrap();
    listener.listen("steward_events").await.unwrap();
    let counter = heard.clone();
    tokio::spawn(async move {
        while listener.recv().await.is_ok() {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    heard
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    println!("{label:<34} p50 {:>10.3?}  p99 {:>10.3?}  (n={})", at(0.5), at(0.99), samples.len());
}

async fn time<F, Fut, T>(n: usize, mut f: F) -> Vec<Duration>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        f(i).await;
        out.push(t.elapsed());
    }
    out
}

/// Builds the template database `name`: migrated, the owner created, and
/// `rows` tasks and thoughts loaded. Built under another name and renamed
/// when complete, so an interrupted load never leaves a template behind.
async fn build_template(name: &str, rows: i64) {
    let loading = format!("{name}_loading");
    admin_execute(&format!("DROP DATABASE IF EXISTS {loading} WITH (FORCE)")).await;
    admin_execute(&format!("CREATE DATABASE {loading}")).await;
    let url = database_url(&loading);
    let store = Arc::new(PostgresStore::open_with(&url, PostgresOptions::default()).await.unwrap());
    let owner: UserId = Fixture::new(store.clone()).user(OWNER_EMAIL).await.user_id;
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let load = Instant::now();
    sqlx::query(
        "INSERT INTO tasks (id, user_id, title, description, priority, priority_rank, status, due_date, tags, \
         assignee, metadata, created_at, updated_at, version) \
         SELECT gen_random_uuid(), $1, 'task ' || i, CASE WHEN i % 1000 = 0 THEN 'needle in a haystack' END, \
         (ARRAY['low','medium','high','critical'])[i % 4 + 1], i % 4 + 1, \
         (ARRAY['pending','in_progress','done','cancelled','pending'])[i % 5 + 1], \
         CASE WHEN i % 3 = 0 THEN DATE '2026-01-01' + (i % 400)::int END, \
         ARRAY['t' || (i % 20)] || CASE WHEN i % 100 = 0 THEN ARRAY['rare'] ELSE ARRAY[]::text[] END, \
         'me', '{}', TIMESTAMPTZ '2026-01-01' + i * INTERVAL '1 second', \
         TIMESTAMPTZ '2026-01-01' + i * INTERVAL '1 second', 1 FROM generate_series(1, $2::bigint) AS i",
    )
    .bind(owner.0)
    .bind(rows)
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO thoughts (id, user_id, content, tags, status, suggested_tags, related_topics, related_thought_ids, \
         created_at, updated_at, version) \
         SELECT gen_random_uuid(), $1, \
         (ARRAY['call the bank about the mortgage','idea for the garden','café with Ana on friday', \
                'read about rust async','book dentist appointment','weekly review notes'])[i % 6 + 1] || ' ' || i, \
         ARRAY['n' || (i % 50)], 'active', ARRAY[]::text[], ARRAY[]::text[], ARRAY[]::uuid[], \
         TIMESTAMPTZ '2026-01-01' + i * INTERVAL '1 second', \
         TIMESTAMPTZ '2026-01-01' + i * INTERVAL '1 second', 1 FROM generate_series(1, $2::bigint) AS i",
    )
    .bind(owner.0)
    .bind(rows)
    .execute(&mut conn)
    .await
    .unwrap();
    // Inserts leave a counter row per task; fold them as use would.
    sqlx::query("SELECT steward_fold_task_counts($1)").bind(owner.0).execute(&mut conn).await.unwrap();
    sqlx::query(
        "SELECT steward_fold_task_tag_counts($1, tag) FROM (SELECT DISTINCT tag FROM task_tag_counts WHERE user_id = $1) AS t",
    )
    .bind(owner.0)
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query("VACUUM ANALYZE").execute(&mut conn).await.unwrap();
    println!("loaded {rows} tasks and {rows} thoughts in {:.1?}", load.elapsed());
    conn.close().await.unwrap();
    if let Ok(store) = Arc::try_unwrap(store) {
        store.close().await;
    }
    admin_execute(&format!("ALTER DATABASE {loading} RENAME TO {name}")).await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rows: i64 = std::env::var("STEWARD_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let template = format!("steward_bench_{rows}");
    if std::env::var("STEWARD_BENCH_RELOAD").is_ok_and(|v| v == "1") {
        admin_execute(&format!("DROP DATABASE IF EXISTS {template} WITH (FORCE)")).await;
    }
    if !database_exists(&template).await {
        build_template(&template, rows).await;
    }
    let copied = Instant::now();
    let db = TestDatabase::from_template(&template).await;
    let store = Arc::new(PostgresStore::open_with(db.url(), PostgresOptions::default()).await.unwrap());
    println!("copied {template} and migrated the copy in {:.1?}", copied.elapsed());
    let mut f = Fixture::new(store.clone());
    f.engine = f.engine.clone().with_commit_observer(Arc::new(Announcing(store.clone())));
    let notices = count_notices(db.url()).await;
    let me = store.user_by_email(OWNER_EMAIL).await.unwrap().expect("the template has its owner").principal();
    let owner: UserId = me.user_id;

    let ids: Vec<_> = store.tasks_after(owner, None, 1000).await.unwrap().into_iter().map(|t| t.id).collect();
    report("get task by id", time(5000, |i| store.task(owner, ids[i % ids.len()])).await);
    let filtered = TaskQuery { status: Some(TaskStatus::Pending), tag: Some("t3".into()), ..Default::default() };
    report("first page: pending + tag", time(500, |_| store.tasks(owner, &filtered)).await);
    let by_due = TaskQuery { sort_by: TaskSort::DueDate, order: SortOrder::Asc, ..Default::default() };
    report("first page: by due date", time(500, |_| store.tasks(owner, &by_due)).await);
    let rare = TaskQuery { tag: Some("rare".into()), ..Default::default() };
    report("first page: rare tag", time(500, |_| store.tasks(owner, &rare)).await);
    let searches = ["cafe", "mortgage bank", "garden", "dentist appoint", "rust"];
    let search = |i: usize| ThoughtSearch {
        text: searches[i % searches.len()].into(),
        fields: vec![SearchField::Content, SearchField::Tags],
        page: PageRequest::default(),
    };
    let queries: Vec<ThoughtSearch> = (0..searches.len()).map(search).collect();
    report("thought search (5 queries)", time(20, |i| store.search_thoughts(owner, &queries[i % queries.len()])).await);

    // Steady state: every client's connection is opened and its statements
    // prepared in an untimed warm-up round before the timed one.
    for clients in [1usize, 8] {
        for (round, per_client) in [("warm-up", 50), ("timed", 8000 / clients)] {
            let started = Instant::now();
            let notices_before = notices.load(Ordering::Relaxed);
            let handles: Vec<_> = (0..clients)
                .map(|c| {
                    let engine = f.engine.clone();
                    tokio::spawn(async move {
                        for i in 0..per_client {
                            engine.create_task(&me, NewTask::titled(format!("bench {round} {c}-{i}"))).await.unwrap();
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
            if round == "timed" {
                let n = (per_client * clients) as f64;
                let rate = n / started.elapsed().as_secs_f64();
                // The last notices are still on their way: let them land.
                tokio::time::sleep(Duration::from_millis(500)).await;
                let sent = notices.load(Ordering::Relaxed) - notices_before;
                println!("create task, {clients} client(s): {rate:.0} tasks/s ({sent} notices for {n} creates)");
            }
        }
    }
    drop(f);
    if let Ok(store) = Arc::try_unwrap(store) {
        store.close().await;
    }
}
