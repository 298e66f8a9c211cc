//! A test both stores run on their own database: concurrent plain creates
//! (a task and its event; a thought, its event and its analysis job) are
//! written together, and each caller still gets its own result.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;
use steward_core::event::{EventQuery, NewEvent, Snapshot};
use steward_core::job::{Job, JobQuery, NewJob, QueueConfig};
use steward_core::query::{PageRequest, SearchField, TaskQuery, ThoughtQuery, ThoughtSearch};
use steward_core::store::{Record, Store, Write};
use steward_core::task::{Assignee, Priority, Task, TaskStatus};
use steward_core::thought::{Thought, ThoughtStatus};
use steward_core::{Entity, Error, JobId, TaskId, ThoughtId, UserId};
use uuid::Uuid;

/// An instant `n` microseconds into the tests' day (shared by the store tests).
pub(crate) fn at(n: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(1_771_669_800_123_456 + n).unwrap()
}

/// A UUIDv7-shaped id numbered `n` (shared by the store tests).
pub(crate) fn id(n: u64) -> Uuid {
    Uuid::from_u64_pair(0x0190_0000_0000_7000, n)
}

fn task(owner: UserId, id: Uuid, title: &str) -> Task {
    Task {
        id: TaskId(id),
        user_id: owner,
        title: title.into(),
        description: None,
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
        metadata: json!({}),
        completed_at: None,
        created_at: at(0),
        updated_at: at(0),
        version: 1,
    }
}

fn thought(owner: UserId, id: Uuid, content: &str) -> Thought {
    Thought {
        id: ThoughtId(id),
        user_id: owner,
        content: content.into(),
        tags: vec!["batch".into()],
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
        created_at: at(0),
        updated_at: at(0),
        version: 1,
    }
}

fn event(owner: UserId, entity: Entity, entity_id: Uuid, after: serde_json::Value) -> NewEvent {
    NewEvent {
        user_id: owner,
        actor: Some(owner),
        kind: "test.created",
        entity,
        entity_id,
        before: None,
        after: Snapshot::of(&after),
        at: at(0),
    }
}

fn job_for(job: JobId, owner: UserId, key: Option<String>) -> Job {
    let mut new = NewJob::new("thought.analyse", json!({})).owner(owner);
    if let Some(key) = key {
        new = new.unique_key(key);
    }
    Job::build(new, job, at(0), &QueueConfig::default()).unwrap()
}

/// Concurrent plain creates are written together (one statement per table
/// for a batch); a batch with a failing create is redone set by set, so
/// each caller gets its own result and a failed create leaves nothing.
/// Thoughts queue a job each, as a capture queues its analysis, and are
/// batched too: every written thought has its one job and is found by
/// search, and a thought whose job cannot be queued (its id is taken) is
/// not written. Run it on a multi-threaded runtime, so creates overlap.
pub(crate) async fn concurrent_creates_each_get_their_own_result(store: Arc<dyn Store>) {
    let owners = [UserId(id(800_000)), UserId(id(800_001))];
    // Tasks that exist already: creating them again must fail.
    for k in 0..4u64 {
        let owner = owners[(k % 2) as usize];
        let mut t = task(owner, id(90_000 + k), "original");
        t.tags = vec!["original".into()];
        let e = event(owner, Entity::Task, t.id.0, json!({"n": 90_000 + k}));
        store.apply(vec![Write::Insert(Record::Task(t)), Write::Append(e)]).await.unwrap();
    }
    let taken_job = JobId(id(6_000_000));
    store.apply(vec![Write::Enqueue(job_for(taken_job, owners[1], None))]).await.unwrap();
    // A pending job already holds the key of the job one thought queues:
    // that thought is written, and its own job is skipped.
    let held_for = id(2_010);
    let held = JobId(id(6_000_001));
    store.apply(vec![Write::Enqueue(job_for(held, owners[0], Some(format!("analyse:{held_for}"))))]).await.unwrap();
    // The job a thought of worker `w`'s `n`th create queues.
    fn thought_job(w: u64, n: u64, thought: Uuid) -> (JobId, Option<String>) {
        if n == 25 && w % 4 == 1 {
            (JobId(id(6_000_000)), None)
        } else {
            (JobId(id(5_000_000 + w * 1_000 + n)), Some(format!("analyse:{thought}")))
        }
    }
    // What a worker's `n`th create writes, and whether it must succeed
    // (`Some`), fail as a duplicate (`Some(false)`), or race the same id
    // from another worker (`None`, exactly one of the two wins).
    fn create(w: u64, n: u64) -> (Uuid, Entity, Option<bool>) {
        if n % 9 == 4 && w.is_multiple_of(3) {
            (id(90_000 + (w + n) % 4), Entity::Task, Some(false))
        } else if n == 7 {
            (id(70_000 + w % 8), Entity::Task, None)
        } else if n == 25 && w % 4 == 1 {
            (id(w * 1_000 + n), Entity::Thought, Some(false))
        } else if n.is_multiple_of(5) {
            (id(w * 1_000 + n), Entity::Thought, Some(true))
        } else {
            (id(w * 1_000 + n), Entity::Task, Some(true))
        }
    }
    let workers: Vec<_> = (0..16u64)
        .map(|w| {
            let store = store.clone();
            let owner = owners[(w % 2) as usize];
            tokio::spawn(async move {
                let mut results = Vec::new();
                for n in 0..30u64 {
                    let (uuid, entity, _) = create(w, n);
                    let record = match entity {
                        Entity::Thought => Record::Thought(thought(owner, uuid, &format!("thought {w}/{n}"))),
                        _ => Record::Task(task(owner, uuid, &format!("task {w}/{n}"))),
                    };
                    let e = event(owner, entity, uuid, json!({"w": w, "n": n}));
                    let mut writes = vec![Write::Insert(record), Write::Append(e)];
                    if entity == Entity::Thought {
                        let (job, key) = thought_job(w, n, uuid);
                        writes.push(Write::Enqueue(job_for(job, owner, key)));
                    }
                    results.push(store.apply(writes).await);
                }
                results
            })
        })
        .collect();
    // (owner, id) → the (worker, n) whose create succeeded.
    let mut written = std::collections::HashMap::new();
    for (w, worker) in workers.into_iter().enumerate() {
        let w = w as u64;
        for (n, result) in worker.await.unwrap().into_iter().enumerate() {
            let n = n as u64;
            let (uuid, entity, expected) = create(w, n);
            match (expected, result) {
                (Some(true) | None, Ok(())) => {
                    assert!(written.insert(uuid, (owners[(w % 2) as usize], entity, w, n)).is_none(), "{w}/{n}");
                }
                (Some(false) | None, Err(Error::Conflict(_))) => {}
                (expected, result) => panic!("create {w}/{n}: expected {expected:?}, got {result:?}"),
            }
        }
    }
    let raced: Vec<Uuid> = (0..8).map(|k| id(70_000 + k)).collect();
    assert!(raced.iter().all(|r| written.contains_key(r)), "one of each racing pair wins");
    let duplicates = (0..16).flat_map(|w| (0..30).map(move |n| create(w, n))).filter(|c| c.2 == Some(false)).count();
    assert!(duplicates > 0);
    assert_eq!(written.len(), 16 * 30 - duplicates - 8, "successful creates");
    let mut thoughts_written = 0;
    for (uuid, (owner, entity, w, n)) in &written {
        match entity {
            Entity::Thought => {
                let t = store.thought(*owner, ThoughtId(*uuid)).await.unwrap().unwrap();
                assert_eq!(t.content, format!("thought {w}/{n}"));
                let (job, key) = thought_job(*w, *n, *uuid);
                if *uuid == held_for {
                    assert_eq!(store.job(job).await.unwrap(), None, "the pending job holding the key wins");
                } else {
                    let job = store.job(job).await.unwrap().expect("a written thought has its job");
                    assert_eq!((job.unique_key, job.owner), (key, Some(*owner)), "thought {w}/{n}");
                }
                thoughts_written += 1;
            }
            _ => {
                let t = store.task(*owner, TaskId(*uuid)).await.unwrap().unwrap();
                assert_eq!(t.title, format!("task {w}/{n}"));
            }
        }
    }
    for k in 0..4u64 {
        let t = store.task(owners[(k % 2) as usize], TaskId(id(90_000 + k))).await.unwrap().unwrap();
        assert_eq!(t.title, "original", "a failed create changed nothing");
    }
    let failed_thoughts = (0..16).filter(|w| w % 4 == 1).count();
    assert!(failed_thoughts > 0 && thoughts_written > 0);
    let jobs = store.jobs(&JobQuery { page: PageRequest { offset: 0, limit: 1 }, ..Default::default() }).await.unwrap();
    assert!(written.contains_key(&held_for));
    assert_eq!(jobs.total, 2 + thoughts_written - 1, "the two queued before, and one per written thought but one");
    assert_eq!(store.job(taken_job).await.unwrap().unwrap().unique_key, None, "the taken job is unchanged");
    assert_eq!(store.job(held).await.unwrap().unwrap().unique_key, Some(format!("analyse:{held_for}")));
    for (o, owner) in owners.iter().enumerate() {
        let tasks = written.values().filter(|(ow, e, _, _)| ow == owner && *e == Entity::Task).count() as u64;
        let thoughts = written.values().filter(|(ow, e, _, _)| ow == owner && *e == Entity::Thought).count() as u64;
        assert_eq!(store.tasks(*owner, &TaskQuery::default()).await.unwrap().total, tasks + 2, "owner {o}");
        let thought_page = ThoughtQuery { page: PageRequest { offset: 0, limit: 1 }, ..Default::default() };
        assert_eq!(store.thoughts(*owner, &thought_page).await.unwrap().total, thoughts, "owner {o}");
        // Each written thought is in the full-text index, once.
        let search = ThoughtSearch {
            text: "thought".into(),
            fields: vec![SearchField::Content],
            page: PageRequest { offset: 0, limit: 500 },
        };
        let found = store.search_thoughts(*owner, &search).await.unwrap();
        assert_eq!(found.total, thoughts, "owner {o}: search finds every written thought");
        let mut ids: Vec<Uuid> = found.items.iter().map(|hit| hit.item.id.0).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len() as u64, thoughts);
        assert!(ids.iter().all(|i| written.get(i).is_some_and(|(ow, e, _, _)| ow == owner && *e == Entity::Thought)));
        let events = store.events(*owner, &EventQuery { limit: 1000, ..Default::default() }).await.unwrap();
        assert!(events.windows(2).all(|e| e[0].seq < e[1].seq));
        let (originals, created) = events.split_at(2);
        assert!(originals.iter().all(|e| e.after.as_ref().and_then(|a| a["n"].as_u64()).is_some_and(|n| n >= 90_000)));
        // Exactly one event per successful create, and each worker's in the order it created.
        let mut last = std::collections::HashMap::new();
        for e in created {
            let (ow, entity, w, n) = written[&e.entity_id];
            assert_eq!((ow, entity), (*owner, e.entity));
            assert_eq!(e.after, Some(json!({"w": w, "n": n})), "the winner's event");
            assert!(last.insert(w, n).is_none_or(|before| before < n), "worker {w} in order");
        }
        let owned = written.values().filter(|(ow, _, _, _)| ow == owner).count();
        assert_eq!(created.len(), owned, "owner {o}: one event per create");
    }
}
