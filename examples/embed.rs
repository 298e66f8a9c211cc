//! Embedding Steward in a Rust program: open a SQLite file, act as the local
//! operator, quick-add tasks, capture a thought and turn a suggestion into a
//! task, complete a recurring task, and ask for (and give) an approval.
//!
//! Run with `cargo run --example embed` (it uses a throwaway database in the
//! system's temporary directory).

use steward::{AcceptOverrides, Decision, NewApproval, NewSuggestion, NewThought, Steward, TaskQuery};

#[tokio::main]
async fn main() -> steward::Result<()> {
    let path = std::env::temp_dir().join(format!("steward-embed-{}.db", std::process::id()));
    let steward = Steward::open(&format!("sqlite://{}", path.display())).await?;
    let me = steward.local_principal().await?;

    let call = steward.quick_add(&me, "call mom tomorrow at 5pm #family").await?;
    println!("added {:?} due {:?} at {:?}", call.task.title, call.task.due_date, call.task.due_time);
    let standup = steward.quick_add(&me, "standup every weekday at 9:30am #work p2").await?;
    println!("added {:?} repeating {:?}", standup.task.title, standup.task.recurrence);

    let thought = steward.capture_thought(&me, NewThought::new("the passport expires in June")).await?;
    let proposal = NewSuggestion { title: "Renew passport".into(), confidence: 0.9, ..Default::default() };
    let suggestion = steward.suggest_task(&me, thought.id, proposal).await?;
    let (task, _) = steward.accept_suggestion(&me, suggestion.id, AcceptOverrides::default()).await?;
    println!("accepted a suggestion: {:?} (from thought {})", task.title, thought.id);

    let done = steward.complete_task(&me, standup.task.id).await?;
    if let Some(next) = &done.next {
        println!("completed standup; the next one is due {:?}", next.due_date);
    }

    let request =
        NewApproval { action_type: "send_email".into(), requested_by: Some("agent".into()), ..Default::default() };
    let approval = steward.request_approval(&me, request).await?;
    let approval = steward.decide_approval(&me, approval.id, Decision::Approved, Some("fine".into())).await?;
    println!("approval {} is {}", approval.id, approval.status);

    let open = steward.tasks(&me, TaskQuery::default()).await?;
    println!("{} tasks in {}:", open.total, path.display());
    for t in &open.items {
        println!("  [{}] {} ({})", t.status, t.title, t.priority);
    }
    drop(steward);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}
