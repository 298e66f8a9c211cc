//! `steward log`: the acting user's activity feed (the engine's event
//! record), and `--follow`, which reads it for events after the last one
//! shown until Ctrl-C: whenever the facade's event signal says the user's
//! log grew (on PostgreSQL that includes other processes' commits, by
//! `LISTEN/NOTIFY`), and every `--poll` milliseconds besides (on a SQLite
//! file, how other processes' writes are seen). Each event is one line;
//! with `--json`, `--follow` writes one JSON object per line (JSON Lines).

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::Value;
use steward::{Event, EventQuery, Principal, Steward};

use crate::cli::LogArgs;
use crate::errors::Failure;
use crate::output::{self, Output};

/// Events read per request while looking for the end of the feed.
const PAGE: u32 = 1000;

pub(crate) async fn log(args: LogArgs, steward: &Steward, p: &Principal, out: Output) -> Result<(), Failure> {
    // Taken before the first read: a wake-up after it is never lost.
    let mut woken = args.follow.then(|| steward.event_signal().subscribe(p.user_id));
    let events = match args.after {
        Some(after) => read(steward, p, Some(after), args.limit).await?,
        None => latest(steward, p, args.limit).await?,
    };
    if !args.follow {
        let body = serde_json::json!({ "events": events });
        return out.emit(&body, || {
            if events.is_empty() { "no events".into() } else { events.iter().map(line).collect::<Vec<_>>().join("\n") }
        });
    }
    let mut last = events.last().map(|e| e.seq).or(args.after);
    for event in &events {
        follow_line(event, out)?;
    }
    if last.is_none() {
        // An empty feed: start from its beginning.
        last = Some(0);
    }
    let poll = Duration::from_millis(args.poll);
    // One listener for the whole run, so a Ctrl-C during a read is not lost.
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        let wake = async {
            match woken.as_mut() {
                Some(waiter) => waiter.woken().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = &mut stop => return Ok(()),
            () = wake => {}
            () = tokio::time::sleep(poll) => {}
        }
        // Everything new, however many pages.
        loop {
            let page = read(steward, p, last, PAGE).await?;
            let full = page.len() == PAGE as usize;
            for event in page {
                last = Some(event.seq);
                follow_line(&event, out)?;
            }
            if !full {
                break;
            }
        }
    }
}

async fn read(steward: &Steward, p: &Principal, after: Option<i64>, limit: u32) -> Result<Vec<Event>, Failure> {
    Ok(steward.activities(p, EventQuery { after_seq: after, limit, ..EventQuery::default() }).await?)
}

/// The last `n` events: the feed is read forward to its end (the engine
/// lists it oldest first), keeping the last `n`.
async fn latest(steward: &Steward, p: &Principal, n: u32) -> Result<Vec<Event>, Failure> {
    let mut kept: VecDeque<Event> = VecDeque::with_capacity(n as usize);
    let mut after = None;
    loop {
        let page = read(steward, p, after, PAGE).await?;
        let full = page.len() == PAGE as usize;
        after = page.last().map(|e| e.seq).or(after);
        for event in page {
            if kept.len() == n as usize {
                kept.pop_front();
            }
            kept.push_back(event);
        }
        if !full {
            return Ok(kept.into());
        }
    }
}

fn follow_line(event: &Event, out: Output) -> Result<(), Failure> {
    let text = if out.is_json() { output::to_json(event)? } else { line(event) };
    output::print(&text)?;
    Ok(())
}

/// `#12  2026-02-21 10:30:00 UTC  task.created  task 0195…  "water the ficus"`.
fn line(event: &Event) -> String {
    let mut text = format!(
        "#{:<5} {}  {:<20} {} {}",
        event.seq,
        output::instant(&event.at),
        event.kind,
        event.entity,
        event.entity_id
    );
    let snapshot = event.after.as_ref().or(event.before.as_ref());
    let label = snapshot.and_then(|s| s.get("title").or_else(|| s.get("content")).or_else(|| s.get("email")));
    if let Some(Value::String(label)) = label {
        text.push_str(&format!("  \"{}\"", output::shorten(label, 60)));
    }
    text
}
