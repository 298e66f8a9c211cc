//! What is specific to the PostgreSQL store (everything shared is in the
//! conformance suite): migrations, several processes writing one database,
//! event order across them, exact timestamps, the counters behind list
//! totals, and the search folding.
//!
//! Every test that needs a server is ignored in a plain `cargo test`;
//! `./scripts/test` runs them (`--include-ignored`).

#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod batching;
mod postgres_support;

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveTime};
use postgres_support::TestDatabase;
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use steward_core::event::{EventQuery, NewEvent, Snapshot};
use steward_core::job::NewJob;
use steward_core::query::{PageRequest, SearchField, SortOrder, TaskQuery, ThoughtSearch};
use steward_core::store::{Record, Store, Write};
use steward_core::task::{Assignee, Priority, Task, TaskStatus};
use steward_core::thought::{Thought, ThoughtStatus};
use steward_core::{Entity, Error, TaskId, ThoughtId, UserId};
use steward_storage::PostgresStore;

use batching::{at, id};

fn task(owner: UserId, n: u64, title: &str) -> Task {
    Task {
        id: TaskId(id(n)),
        user_id: owner,
        title: title.into(),
        description: Some(format!("description of {title}")),
        priority: Priority::Medium,
        status: TaskStatus::Pending,
        due_date: None,
        due_time: None,
        recurrence: None,
        tags: vec!["batch".into()],
        parent_id: None,
        estimated_effort_minutes: None,
        assignee: Assignee::Me,
        source_thought_id: None,
        metadata: json!({"n": n}),
        completed_at: None,
        created_at: at(n as i64),
        updated_at: at(n as i64),
        version: 1,
    }
}

fn thought(owner: UserId, n: u64, content: &str, tags: &[&str]) -> Thought {
    Thought {
        id: ThoughtId(id(n)),
        user_id: owner,
        content: content.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        status: ThoughtStatus::Active,
        context: None,
        thought_type: None,
        is_actionable: None,
        actionable_confidence: None,
        suggested_tags: Vec::new(),
        related_topics: Vec::new(),
        emotional_tone: None,
        urgency: None,
        analyzed_at: None,
        related_thought_ids: Vec::new(),
        task_id: None,
        created_at: at(n as i64),
        updated_at: at(n as i64),
        version: 1,
    }
}

fn event(owner: UserId, n: u64) -> NewEvent {
    NewEvent {
        user_id: owner,
        actor: Some(owner),
        kind: "task.updated",
        entity: Entity::Task,
        entity_id: id(n),
        before: None,
        after: Snapshot::of(&json!({"n": n})),
        at: at(n as i64),
    }
}

fn insert(t: &Task) -> Write {
    Write::Insert(Record::Task(t.clone()))
}

#[tokio::test]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
async fn migrations_rerun_cleanly_and_data_survives_reopen() {
    let db = TestDatabase::create().await;
    let owner = UserId(id(1_000));
    let stored = task(owner, 1, "persist me");
    let store = PostgresStore::open(db.url()).await.unwrap();
    store.apply(vec![insert(&stored)]).await.unwrap();
    store.close().await;
    for _ in 0..2 {
        let store = PostgresStore::open(db.url()).await.unwrap();
        assert_eq!(store.task(owner, stored.id).await.unwrap(), Some(stored.clone()));
        store.close().await;
    }
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .filter(|f| f.as_ref().unwrap().path().extension().is_some_and(|e| e == "sql"))
        .count();
    let mut conn = PgConnection::connect(db.url()).await.unwrap();
    let (applied, ok): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(*) FILTER (WHERE success) FROM _sqlx_migrations")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!((applied, ok), (files as i64, files as i64), "each migration recorded once");
}

#[tokio::test]
async fn opening_reports_bad_urls_and_unreachable_servers() {
    for url in ["sqlite://steward.db", "postgres://u@localhost:notaport/db"] {
        let err = PostgresStore::open(url).await.unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{url}: {err:?}");
    }
    let started = Instant::now();
    let err = PostgresStore::open("postgres://postgres@127.0.0.1:1/steward").await.unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "a refused connection fails fast");
}

#[tokio::test]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
async fn opening_a_missing_database_says_so() {
    let missing = PgConnectOptions::from_str(&postgres_support::server_url())
        .unwrap()
        .database("steward_test_does_not_exist")
        .to_url_lossy();
    let err = PostgresStore::open(missing.as_str()).await.unwrap_err();
    assert!(matches!(&err, Error::Unavailable(m) if m.contains("does not exist")), "{err:?}");
}

/// Two stores are two processes: separate pools racing on one row.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
async fn writers_in_two_processes_exactly_one_wins_each_version() {
    let db = TestDatabase::create().await;
    let stores = [
        Arc::new(PostgresStore::open(db.url()).await.unwrap()),
        Arc::new(PostgresStore::open(db.url()).await.unwrap()),
    ];
    let owner = UserId(id(2_000));
    let contested = task(owner, 1, "contested");
    stores[0].apply(vec![insert(&contested)]).await.unwrap();
    for version in 1..=10i64 {
        let racers: Vec<_> = (0..8u64)
            .map(|i| {
                let store = stores[(i % 2) as usize].clone();
                let title = format!("version {version} writer {i}");
                let record = Task { title: title.clone(), version: version + 1, ..contested.clone() };
                tokio::spawn(async move {
                    let write = Write::Update { record: Record::Task(record), expected_version: Some(version) };
                    (title, store.apply(vec![write, Write::Append(event(owner, i))]).await)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for racer in racers {
            match racer.await.unwrap() {
                (title, Ok(())) => winners.push(title),
                (_, Err(e)) => assert_eq!(
                    e,
                    Error::VersionConflict { entity: Entity::Task, expected: version, actual: version + 1 }
                ),
            }
        }
        assert_eq!(winners.len(), 1, "version {version}: {winners:?}");
        let stored = stores[1].task(owner, contested.id).await.unwrap().unwrap();
        assert_eq!((stored.version, &stored.title), (version + 1, &winners[0]));
    }
    let events = stores[0].events(owner, &EventQuery::default()).await.unwrap();
    assert_eq!(events.len(), 10, "only the winners' events were kept");
}

/// A reader resuming after the last seq it saw never misses an event, even
/// while writers in two processes append concurrently: one-write sets (one
/// statement each) and two-write sets (a transaction) alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
async fn event_readers_never_skip_a_concurrently_committed_event() {
    let db = TestDatabase::create().await;
    let stores = [
        Arc::new(PostgresStore::open(db.url()).await.unwrap()),
        Arc::new(PostgresStore::open(db.url()).await.unwrap()),
    ];
    let owner = UserId(id(3_000));
    let writers: Vec<_> = (0..8u64)
        .map(|w| {
            let store = stores[(w % 2) as usize].clone();
            tokio::spawn(async move {
                for n in 0..40u64 {
                    let t = task(owner, w * 1_000 + n, "evented");
                    let mut set = vec![insert(&t), Write::Append(event(owner, w * 1_000 + n))];
                    if n % 2 == 1 {
                        set.insert(1, insert(&task(owner, w * 1_000 + 500 + n, "also evented")));
                    }
                    store.apply(set).await.unwrap();
                }
            })
        })
        .collect();
    let reader = stores[1].clone();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let done = writers.iter().all(|w| w.is_finished());
        let page = reader.events(owner, &EventQuery { after_seq: after, limit: 1000, ..Default::default() }).await;
        let page = page.unwrap();
        if let Some(last) = page.last() {
            after = Some(last.seq);
        }
        seen.extend(page.into_iter().map(|e| e.seq));
        if done {
            break;
        }
    }
    for w in writers {
        w.await.unwrap();
    }
    let all: Vec<i64> = stores[0]
        .events(owner, &EventQuery { limit: 1000, ..Default::default() })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(all.len(), 320);
    assert!(all.windows(2).all(|w| w[0] < w[1]));
    let missed: Vec<&i64> = all.iter().filter(|seq| !seen.contains(seq)).collect();
    assert!(missed.is_empty(), "the polling reader missed {} events: {missed:?}", missed.len());
    assert_eq!(seen, all, "the polling reader saw every event once, in order");
}

/// A job owned by `owner`, as the engine builds one.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
async fn concurrent_creates_each_get_their_own_result() {
    let db = TestDatabase::create().await;
    let store = Arc::new(PostgresStore::open(db.url()).await.unwrap());
    batching::concurrent_creates_each_get_their_own_result(store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
async fn timestamps_and_times_round_trip_to_the_microsecond() {
    let db = TestDatabase::create().await;
    let store = PostgresStore::open(db.url()).await.unwrap();
    let owner = UserId(id(4_000));
    let instants = [
        1_771_669_800_123_457,
        0,
        -1,
        1,
        -62_135_596_800_000_000 + 1, // 0001-01-01T00:00:00.000001Z
        253_402_300_799_999_999,     // 9999-12-31T23:59:59.999999Z
        951_782_400_000_001,         // 2000-02-29T00:00:00.000001Z, PostgreSQL's epoch era
        946_684_799_999_999,         // 1999-12-31T23:59:59.999999Z, just before it
    ];
    let mut written = Vec::new();
    for (n, micros) in instants.into_iter().enumerate() {
        let t = DateTime::from_timestamp_micros(micros).unwrap();
        let mut record = task(owner, n as u64, &format!("instant {micros}"));
        record.created_at = t;
        record.updated_at = t;
        record.completed_at = Some(t);
        record.due_date = Some(t.date_naive());
        record.due_time = NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999);
        let mut e = event(owner, n as u64);
        e.at = t;
        store.apply(vec![insert(&record), Write::Append(e)]).await.unwrap();
        written.push(record);
    }
    for record in &written {
        assert_eq!(store.task(owner, record.id).await.unwrap().as_ref(), Some(record));
    }
    let events = store.events(owner, &EventQuery::default()).await.unwrap();
    let read: Vec<i64> = events.iter().map(|e| e.at.timestamp_micros()).collect();
    assert_eq!(read, instants);
    // Stored as the exact instant, not just read back consistently.
    let mut conn = PgConnection::connect(db.url()).await.unwrap();
    let text: String = sqlx::query_scalar(
        "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') FROM tasks WHERE id = $1",
    )
    .bind(written[0].id.0)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(text, "2026-02-21T10:30:00.123457");
}

/// Status- and tag-only lists take their totals from the delta counters,
/// which fold now and then; they must agree with counting row by row (an
/// `assignee` filter that matches everything forces that path), through
/// inserts, status and tag changes, and cascading deletes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
async fn counted_totals_agree_with_row_counts() {
    let db = TestDatabase::create().await;
    let store = Arc::new(PostgresStore::open(db.url()).await.unwrap());
    let owner = UserId(id(5_000));
    let colours = ["red", "green", "blue"];
    let mut writes = Vec::new();
    for n in 0..300u64 {
        let mut tags = vec![colours[(n % 3) as usize].to_string(), colours[((n / 3) % 3) as usize].to_string()];
        tags.dedup();
        let mut t = Task { tags, ..task(owner, n, &format!("task {n}")) };
        if n % 10 != 0 {
            t.parent_id = Some(TaskId(id(n - n % 10)));
        }
        writes.push(insert(&t));
    }
    writes.push(insert(&task(UserId(id(5_001)), 9_999, "someone else's")));
    store.apply(writes).await.unwrap();
    // Concurrent status and tag changes, as racing processes would make them.
    let changers: Vec<_> = (0..4u64)
        .map(|k| {
            let store = store.clone();
            tokio::spawn(async move {
                for n in (k..300).step_by(4).filter(|n| n % 3 == 0) {
                    let mut t = store.task(owner, TaskId(id(n))).await.unwrap().unwrap();
                    t.status = if n % 2 == 0 { TaskStatus::Done } else { TaskStatus::InProgress };
                    if n % 9 == 0 {
                        t.tags = vec!["done".into(), "red".into()];
                    }
                    let write = Write::Update { record: Record::Task(t), expected_version: None };
                    store.apply(vec![write]).await.unwrap();
                }
            })
        })
        .collect();
    for c in changers {
        c.await.unwrap();
    }
    // Deleting a parent takes its nine sub-steps with it.
    let deletes = (0..300u64).step_by(70).map(|n| Write::Delete { entity: Entity::Task, owner, id: id(n) }).collect();
    store.apply(deletes).await.unwrap();
    let mut everything = store.tasks_after(owner, None, 1_000).await.unwrap();
    everything.sort_by_key(|t| t.created_at);
    for tag in [None, Some("red"), Some("blue"), Some("done"), Some("none")] {
        for status in [None, Some(TaskStatus::Pending), Some(TaskStatus::Done), Some(TaskStatus::InProgress)] {
            for offset in [0, 7, 400] {
                let q = TaskQuery {
                    tag: tag.map(str::to_string),
                    status,
                    order: SortOrder::Asc,
                    page: PageRequest { limit: 5, offset },
                    ..Default::default()
                };
                let by_rows = TaskQuery { assignee: Some(Assignee::Me), ..q.clone() };
                let page = store.tasks(owner, &q).await.unwrap();
                assert_eq!(page, store.tasks(owner, &by_rows).await.unwrap(), "{q:?}");
                let matching: Vec<&Task> = everything
                    .iter()
                    .filter(|t| tag.is_none_or(|tag| t.tags.iter().any(|x| x == tag)))
                    .filter(|t| status.is_none_or(|s| t.status == s))
                    .collect();
                let expected: Vec<TaskId> = matching.iter().skip(offset as usize).take(5).map(|t| t.id).collect();
                assert_eq!(page.items.iter().map(|t| t.id).collect::<Vec<_>>(), expected, "{q:?}");
                assert_eq!(page.total, matching.len() as u64, "{q:?}");
            }
        }
    }
    assert_eq!(store.tasks(owner, &TaskQuery::default()).await.unwrap().total, 250);
}

/// Inserts are counted by the schema, whoever makes them: statements adding
/// thousands of tasks each (a bulk load, a data-only restore) are counted
/// exactly, and a fold collapses what they left into a row per status.
#[tokio::test]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
async fn bulk_inserts_are_counted_and_folded() {
    let db = TestDatabase::create().await;
    let store = PostgresStore::open(db.url()).await.unwrap();
    let owner = UserId(id(6_000));
    let mut conn = PgConnection::connect(db.url()).await.unwrap();
    let bulk = "INSERT INTO tasks (id, user_id, title, priority, priority_rank, status, tags, assignee, metadata, \
                created_at, updated_at, version) \
                SELECT gen_random_uuid(), $1, 'task ' || i, 'low', 1, \
                (ARRAY['pending', 'done'])[i % 2 + 1], ARRAY['t' || (i % 3), 't' || (i % 3), 'all'], 'me', '{}', \
                now(), now(), 1 FROM generate_series(1, $2::int) AS i";
    for n in [3_000, 1_000] {
        sqlx::query(bulk).bind(owner.0).bind(n).execute(&mut conn).await.unwrap();
    }
    for tag in [None, Some("t0"), Some("t2"), Some("all"), Some("none")] {
        for status in [None, Some(TaskStatus::Pending), Some(TaskStatus::Done)] {
            let q = TaskQuery { tag: tag.map(str::to_string), status, ..Default::default() };
            let counted = store.tasks(owner, &q).await.unwrap().total;
            let by_rows = store.tasks(owner, &TaskQuery { assignee: Some(Assignee::Me), ..q.clone() }).await.unwrap();
            assert_eq!(counted, by_rows.total, "{q:?}");
        }
    }
    assert_eq!(
        store.tasks(owner, &TaskQuery { tag: Some("all".into()), ..Default::default() }).await.unwrap().total,
        4_000
    );
    // One fold collapses everything committed into a row per status.
    sqlx::query("SELECT steward_fold_task_counts($1)").bind(owner.0).execute(&mut conn).await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM task_counts WHERE user_id = $1")
        .bind(owner.0)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows, 2);
    assert_eq!(store.tasks(owner, &TaskQuery::default()).await.unwrap().total, 4_000);
}

#[tokio::test]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
async fn search_folds_like_core_and_never_reads_query_syntax() {
    let db = TestDatabase::create().await;
    let store = PostgresStore::open(db.url()).await.unwrap();
    let owner = UserId(id(6_000));
    let thoughts = [
        thought(owner, 1, "Straße in ŁÓDŹ: a café-crème, naïvely", &["travel"]),
        thought(owner, 2, "e\u{301}te\u{301} plans with ann@example.com", &["follow-up"]),
        thought(owner, 3, "Привет, мир", &[]),
    ];
    store.apply(thoughts.iter().map(|t| Write::Insert(Record::Thought(t.clone()))).collect()).await.unwrap();
    let search = |text: &str, fields: &[SearchField]| {
        let q = ThoughtSearch { text: text.into(), fields: fields.to_vec(), page: PageRequest::default() };
        let store = &store;
        async move {
            store.search_thoughts(owner, &q).await.unwrap().items.into_iter().map(|h| h.item.id).collect::<Vec<_>>()
        }
    };
    let both = [SearchField::Content, SearchField::Tags];
    for (query, expected) in [
        ("strasse lodz", vec![thoughts[0].id]),
        ("CAFÉ CREME naive", vec![thoughts[0].id]),
        ("ete example", vec![thoughts[1].id]),
        ("follow up", vec![thoughts[1].id]),
        ("ПРИВ", vec![thoughts[2].id]),
        ("travel", vec![thoughts[0].id]),
    ] {
        assert_eq!(search(query, &both).await, expected, "{query}");
    }
    assert_eq!(search("travel", &[SearchField::Content]).await, Vec::<ThoughtId>::new(), "tags not searched");
    assert_eq!(search("travel", &[SearchField::Tags]).await, vec![thoughts[0].id]);
    assert_eq!(search("lodz", &[SearchField::Tags]).await, Vec::<ThoughtId>::new(), "content not searched");
    for syntax in ["'", "\\", "a:*", "!b", "a & | b", "(c", "::", "'a' & 'b'", "\0"] {
        search(syntax, &both).await;
    }
    let tasks = TaskQuery { text: Some("description STRASSE".into()), ..Default::default() };
    assert_eq!(store.tasks(owner, &tasks).await.unwrap().total, 0);
}

#[tokio::test]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
async fn text_the_database_cannot_store_is_invalid_input() {
    let db = TestDatabase::create().await;
    let store = PostgresStore::open(db.url()).await.unwrap();
    let owner = UserId(id(7_000));
    let bad = thought(owner, 1, "nul \0 inside", &[]);
    let err = store.apply(vec![Write::Insert(Record::Thought(bad))]).await.unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
}

/// Search ranks, scores and pages exactly like the memory store (core's
/// relevance): thoughts where a word matches twice (a repeated word, two
/// words sharing the prefix) first, the rest newest first, with pages
/// straddling the two, a result large enough to be read by walking the
/// thoughts newest first, pages at the result set's bound, and more
/// repeated matches than the bound.
#[tokio::test]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
async fn search_ranks_and_pages_like_the_memory_store() {
    let db = TestDatabase::create().await;
    let pg = PostgresStore::open(db.url()).await.unwrap();
    let memory = steward_core::memory::MemoryStore::new();
    let owner = UserId(id(7_000));
    let mut thoughts = vec![
        thought(owner, 1, "Café at noon, the café was full", &["cafe"]),
        thought(owner, 2, "cafeteria menu", &["cafe"]),
        thought(owner, 3, "call the bank about the mortgage", &["money"]),
        thought(owner, 4, "the cafe near the bank", &[]),
        thought(owner, 5, "menu ideas", &["cafe", "cafeteria"]),
        thought(owner, 6, "note note note: bank holiday", &["notes"]),
        thought(owner, 7, "Mortgage: bank, bank, bank", &["bank"]),
        thought(owner, 8, "unrelated", &["other"]),
    ];
    // Enough plain matches of "note" that the rest of a page is found by
    // walking the owner's thoughts newest first.
    thoughts.extend((0..5_100u64).map(|n| thought(owner, 100 + n, &format!("note {n}"), &[])));
    thoughts.push(thought(owner, 9_000, "a note, then another note", &[]));
    // More repeated matches of "memo" than a search returns.
    thoughts.extend((0..1_005u64).map(|n| thought(owner, 10_000 + n, &format!("memo memo {n}"), &[])));
    thoughts.push(thought(owner, 12_000, "a memo", &[]));
    let set: Vec<Write> = thoughts.into_iter().map(|t| Write::Insert(Record::Thought(t))).collect();
    pg.apply(set.clone()).await.unwrap();
    memory.apply(set).await.unwrap();
    let both = vec![SearchField::Content, SearchField::Tags];
    for text in ["cafe", "caf", "bank", "bank mortgage", "the", "note", "notes n", "memo", "zebra"] {
        for fields in [both.clone(), vec![SearchField::Content], vec![SearchField::Tags]] {
            for (offset, limit) in [
                (0, 20),
                (0, 1),
                (1, 2),
                (2, 3),
                (4, 100),
                (990, 20),
                (999, 1),
                (1_000, 1),
                (5_000, 7),
                (5_095, 20),
                (9_000, 5),
            ] {
                let q =
                    ThoughtSearch { text: text.into(), fields: fields.clone(), page: PageRequest { limit, offset } };
                let got = pg.search_thoughts(owner, &q).await.unwrap();
                let want = memory.search_thoughts(owner, &q).await.unwrap();
                let what = format!("{text:?} in {fields:?} from {offset}");
                assert_eq!(got.total, want.total, "{what}");
                let ids = |p: &steward_core::query::Page<steward_core::query::Scored<Thought>>| {
                    p.items.iter().map(|h| (h.item.id, h.matched_fields.clone())).collect::<Vec<_>>()
                };
                assert_eq!(ids(&got), ids(&want), "{what}");
                for (g, w) in got.items.iter().zip(&want.items) {
                    assert!(
                        (g.match_score - w.match_score).abs() < 1e-9,
                        "{what}: {} vs {}",
                        g.match_score,
                        w.match_score
                    );
                }
            }
        }
    }
}

/// Two stores on one database stand for two processes. Each has one
/// listener for both channels: a job enqueued through one wakes the
/// other's job signal, and what one announces reaches the other's handler
/// (a store skips its own notices). Listeners connect in the background,
/// so each side repeats until the other has heard (within 20 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
async fn notices_and_job_wake_ups_cross_between_stores_on_one_database() {
    use steward_core::live::Committed;
    use steward_core::testing::Fixture;
    use steward_storage::postgres::Notice;

    let db = TestDatabase::create().await;
    let here = Arc::new(PostgresStore::open(db.url()).await.unwrap());
    let there = Arc::new(PostgresStore::open(db.url()).await.unwrap());
    let (heard, mut hearing) = tokio::sync::mpsc::unbounded_channel::<(&str, Notice)>();
    for (name, store) in [("here", &here), ("there", &there)] {
        let heard = heard.clone();
        store.follow_notices(Arc::new(move |n: &Notice| {
            let _ = heard.send((name, n.clone()));
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(20);

    let owner = UserId(id(1));
    let change = Committed { events: vec![owner], webhooks: vec![] };
    let first = loop {
        here.announce(&change);
        match tokio::time::timeout(Duration::from_millis(200), hearing.recv()).await {
            Ok(got) => break got.unwrap(),
            Err(_) => assert!(Instant::now() < deadline, "no notice crossed"),
        }
    };
    assert_eq!(first, ("there", Notice { events: Some(vec![owner]), webhooks: Some(vec![]) }));

    let jobs = there.job_signal();
    let f = Fixture::new(here.clone());
    loop {
        let woken = jobs.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let job = steward_core::NewJob::new("noop", json!({}));
        f.engine.enqueue(&steward_core::Principal::system(), job).await.unwrap();
        if tokio::time::timeout(Duration::from_millis(200), woken).await.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "no job wake-up crossed");
    }

    // A write set that enqueues (a thought and its analysis job) wakes them
    // too: the notice goes out after its commit (no trigger inside it, 0022).
    let ann = f.user("ann@example.com").await;
    loop {
        let woken = jobs.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let thought = steward_core::thought::NewThought { content: "call the bank".into(), ..Default::default() };
        f.engine.capture_thought(&ann, thought).await.unwrap();
        if tokio::time::timeout(Duration::from_millis(200), woken).await.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "no job wake-up crossed for a write set that enqueues");
    }
    // Jobs and events due at once (one statement, when they meet in one
    // batch: `notice::tests`) are both heard.
    let both = Committed { events: vec![ann.user_id], webhooks: vec![] };
    loop {
        let woken = jobs.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        f.engine.enqueue(&steward_core::Principal::system(), NewJob::new("noop", json!({}))).await.unwrap();
        here.announce(&both);
        let job_heard = tokio::time::timeout(Duration::from_millis(200), woken).await.is_ok();
        let mut events_heard = false;
        while let Ok(Some((name, notice))) = tokio::time::timeout(Duration::from_millis(200), hearing.recv()).await {
            events_heard |= name == "there" && notice.events.is_some_and(|e| e.contains(&ann.user_id));
        }
        if job_heard && events_heard {
            break;
        }
        assert!(Instant::now() < deadline, "jobs and events announced together did not both cross");
    }
    let mut conn = PgConnection::connect(db.url()).await.unwrap();
    let triggers: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_trigger WHERE tgname = 'jobs_added'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(triggers, 0, "enqueues are announced after the commit, not by a trigger inside it");
}

/// A key whose user was removed from the database by hand authenticates
/// no one: the key's one read checks that its user exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
async fn a_key_of_a_user_removed_by_hand_authenticates_no_one() {
    use steward_core::testing::Fixture;
    use steward_core::user::ApiKey;
    let db = TestDatabase::create().await;
    let store = Arc::new(PostgresStore::open(db.url()).await.unwrap());
    let f = Fixture::new(store.clone());
    let ann = f.user("ann@example.com").await;
    let bob = f.user("bob@example.com").await;
    let (_, secret) = f.engine.create_api_key(&ann, "cli", None).await.unwrap();
    let (_, kept) = f.engine.create_api_key(&bob, "cli", None).await.unwrap();
    assert_eq!(f.engine.authenticate_key(&secret).await.unwrap().user_id, ann.user_id);
    let mut conn = PgConnection::connect(db.url()).await.unwrap();
    let removed = sqlx::query("DELETE FROM users WHERE id = $1").bind(ann.user_id.0).execute(&mut conn).await.unwrap();
    assert_eq!(removed.rows_affected(), 1);
    assert!(matches!(f.engine.authenticate_key(&secret).await, Err(Error::Unauthorized)));
    assert!(store.api_key_by_hash(&ApiKey::hash_secret(&secret)).await.unwrap().is_none());
    assert_eq!(f.engine.authenticate_key(&kept).await.unwrap().user_id, bob.user_id, "another user's key still works");
}
