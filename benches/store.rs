//! SQLite store benchmarks through the public facade (what an embedding
//! program pays): create-task, get-by-id and a filtered first page over 100k
//! and 1M tasks.
//!
//! Criterion reports mean throughput/latency; the targets are p99s,
//! so before criterion runs, each read benchmark also takes 20,000 timed
//! samples and prints p50/p99/max (`latency …` lines on stderr).
//!
//! The loaded databases are cached in `$CARGO_TARGET_DIR/steward-bench/` (or
//! `target/steward-bench/`) and reused while their row count matches.
//! `STEWARD_BENCH_SIZES=100000` limits the sizes (comma-separated; `0` skips
//! the reads).
//!
//! Before criterion's create benchmarks, 5,000 creates each with 1, 8, 64 and
//! 256 concurrent callers print their rate and CPU time per create
//! (`throughput …` lines; `STEWARD_BENCH_PROBE=n` changes the count,
//! `STEWARD_BENCH_CALLERS=1,64` the caller counts).

// A benchmark that cannot set itself up should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use steward::{NewTask, Principal, Priority, Steward, TaskId, TaskQuery, TaskStatus};
use tokio::runtime::Runtime;

const TAGS: [&str; 20] = [
    "work", "home", "errand", "family", "health", "finance", "travel", "reading", "garden", "car", "school", "music",
    "sport", "friends", "admin", "shopping", "cooking", "code", "writing", "misc",
];

fn bench_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("target"));
    target.join("steward-bench")
}

fn sizes() -> Vec<u64> {
    std::env::var("STEWARD_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).filter(|&n| n > 0).collect())
        .unwrap_or_else(|| vec![100_000, 1_000_000])
}

/// A deterministic task mix: 20 tags, all priorities, a third done.
fn task_input(i: u64) -> NewTask {
    let tag = TAGS[(i % 20) as usize];
    let priority = [Priority::Low, Priority::Medium, Priority::High, Priority::Critical][(i % 4) as usize];
    NewTask {
        title: format!("task number {i} about {tag}"),
        description: i.is_multiple_of(3).then(|| format!("details for task {i}")),
        priority: Some(priority),
        due_date: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).map(|d| d + chrono::Days::new(i % 365)),
        // The second tag is always a different one (offset 1..=19).
        tags: vec![tag.to_string(), TAGS[((i % 20 + 1 + (i / 20) % 19) % 20) as usize].to_string()],
        ..NewTask::default()
    }
}

/// Opens (loading if needed) a database with `n` tasks for one owner.
async fn loaded(n: u64) -> (Steward, Principal, Vec<TaskId>) {
    std::fs::create_dir_all(bench_dir()).expect("bench dir");
    let path = bench_dir().join(format!("tasks-{n}.db"));
    let steward = Steward::open(&format!("sqlite://{}", path.display())).await.expect("open");
    let me = steward.local_principal().await.expect("principal");
    let have = steward.tasks(&me, TaskQuery::default()).await.expect("count").total;
    if have != n {
        drop(steward);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let steward = Steward::open(&format!("sqlite://{}", path.display())).await.expect("open");
        let me = steward.local_principal().await.expect("principal");
        let started = Instant::now();
        load(&steward, me, n).await;
        eprintln!(
            "loaded {n} tasks in {:.1?} ({:.0} tasks/s)",
            started.elapsed(),
            n as f64 / started.elapsed().as_secs_f64()
        );
        return finish(steward, me).await;
    }
    finish(steward, me).await
}

async fn finish(steward: Steward, me: Principal) -> (Steward, Principal, Vec<TaskId>) {
    let query = TaskQuery { page: steward::PageRequest { limit: 100, offset: 0 }, ..TaskQuery::default() };
    let mut ids = Vec::new();
    for sort in [steward::SortOrder::Desc, steward::SortOrder::Asc] {
        let page = steward.tasks(&me, TaskQuery { order: sort, ..query.clone() }).await.expect("ids");
        ids.extend(page.items.iter().map(|t| t.id));
    }
    (steward, me, ids)
}

/// Loads through the engine with many concurrent writers, so the SQLite
/// writer's group commit batches them.
async fn load(steward: &Steward, me: Principal, n: u64) {
    const WRITERS: u64 = 64;
    let handles: Vec<_> = (0..WRITERS)
        .map(|w| {
            let s = steward.clone();
            tokio::spawn(async move {
                let mut i = w;
                while i < n {
                    s.create_task(&me, task_input(i)).await.expect("create");
                    i += WRITERS;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("loader");
    }
}

fn percentiles(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    eprintln!("latency {label}: p50 {:?}  p99 {:?}  max {:?}  (n={})", at(0.5), at(0.99), at(1.0), samples.len());
}

fn filtered_query() -> TaskQuery {
    TaskQuery { status: Some(TaskStatus::Pending), tag: Some("work".into()), ..TaskQuery::default() }
}

fn reads(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    for n in sizes() {
        let (steward, me, ids) = rt.block_on(loaded(n));
        let (s, m) = (steward.clone(), me);
        rt.block_on(async {
            let mut get = Vec::with_capacity(20_000);
            let mut list = Vec::with_capacity(20_000);
            for i in 0..20_000 {
                let id = ids[i % ids.len()];
                let t = Instant::now();
                s.task(&m, id).await.expect("get");
                get.push(t.elapsed());
                let t = Instant::now();
                let page = s.tasks(&m, filtered_query()).await.expect("list");
                list.push(t.elapsed());
                assert_eq!(page.items.len(), 20);
            }
            percentiles(&format!("get_by_id/{n}"), get);
            percentiles(&format!("list_20_filtered/{n}"), list);
        });

        let mut group = c.benchmark_group("sqlite_reads");
        group.throughput(Throughput::Elements(1));
        let mut i = 0usize;
        group.bench_function(BenchmarkId::new("get_by_id", n), |b| {
            b.to_async(&rt).iter(|| {
                i = i.wrapping_add(1);
                let (s, id) = (steward.clone(), ids[i % ids.len()]);
                async move { s.task(&me, id).await.expect("get") }
            })
        });
        group.bench_function(BenchmarkId::new("list_20_filtered", n), |b| {
            b.to_async(&rt).iter(|| {
                let s = steward.clone();
                async move { s.tasks(&me, filtered_query()).await.expect("list") }
            })
        });
        group.finish();
    }
}

/// CPU time this process has used so far (user + system), from
/// `/proc/self/stat`; `None` where that file does not exist.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Creates `total` tasks with `callers` concurrent callers and prints the
/// rate and the CPU time per create (`throughput …` lines on stderr). On a
/// machine shared with other work the wall-clock rate wanders; CPU per
/// create is the steadier figure.
async fn throughput(steward: &Steward, me: Principal, callers: u64, total: u64, first: u64) {
    let (wall, cpu) = (Instant::now(), cpu_time());
    let handles: Vec<_> = (0..callers)
        .map(|w| {
            let s = steward.clone();
            tokio::spawn(async move {
                let mut i = w;
                while i < total {
                    s.create_task(&me, task_input(first + i)).await.expect("create");
                    i += callers;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("caller");
    }
    let wall = wall.elapsed();
    let cpu = cpu.zip(cpu_time()).map(|(a, b)| format!("{:.0} µs", (b - a).as_secs_f64() * 1e6 / total as f64));
    eprintln!(
        "throughput create_task/{callers} callers: {:.0}/s  (CPU per create {})",
        total as f64 / wall.as_secs_f64(),
        cpu.unwrap_or_else(|| "unknown".into())
    );
}

fn creates(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let steward =
        rt.block_on(Steward::open(&format!("sqlite://{}", dir.path().join("creates.db").display()))).expect("open");
    let me = rt.block_on(steward.local_principal()).expect("principal");
    let probe = std::env::var("STEWARD_BENCH_PROBE").ok().and_then(|n| n.parse().ok()).unwrap_or(5_000u64);
    let callers: Vec<u64> = std::env::var("STEWARD_BENCH_CALLERS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).filter(|&n| n > 0).collect())
        .unwrap_or_else(|| vec![1, 8, 64, 256]);
    for (k, callers) in callers.into_iter().enumerate() {
        rt.block_on(throughput(&steward, me, callers, probe, 10_000_000 * (k as u64 + 1)));
    }
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut group = c.benchmark_group("sqlite_create_task");
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_at_a_time", |b| {
        b.to_async(&rt).iter(|| {
            let s = steward.clone();
            let i = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            async move { s.create_task(&me, task_input(i)).await.expect("create") }
        })
    });
    for writers in [8u64, 64] {
        group.throughput(Throughput::Elements(writers));
        group.bench_function(BenchmarkId::new("concurrent_callers", writers), |b| {
            b.to_async(&rt).iter(|| {
                let s = steward.clone();
                let base = counter.fetch_add(writers, std::sync::atomic::Ordering::Relaxed);
                async move {
                    let handles: Vec<_> = (0..writers)
                        .map(|w| {
                            let s = s.clone();
                            tokio::spawn(async move { s.create_task(&me, task_input(base + w)).await.expect("create") })
                        })
                        .collect();
                    for h in handles {
                        h.await.expect("writer");
                    }
                }
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(2));
    targets = creates, reads
}
criterion_main!(benches);
