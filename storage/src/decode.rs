//! Row → record, once for every store: one decoder per record kind, written
//! against [`ColumnReader`], which each driver's row implements (sqlx's
//! SQLite and PostgreSQL rows, rusqlite's row). The reader hides how a
//! dialect stores a value: ids as BLOB or `uuid`, instants as unix
//! microseconds or `timestamptz`, dates and times as text or native types,
//! lists as JSON text or arrays, objects as JSON text or `jsonb`.
//!
//! Columns are read by name. A value that is NULL where the domain needs one,
//! or does not decode, is [`StoreError::Corrupt`] naming its column.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::de::DeserializeOwned;
use steward_core::approval::Approval;
use steward_core::event::Event;
use steward_core::job::{ClassStats, Job};
use steward_core::settings::{Profile, Settings};
use steward_core::suggestion::Suggestion;
use steward_core::task::Task;
use steward_core::thought::Thought;
use steward_core::user::{ApiKey, User};
use steward_core::{Entity, Priority};
use uuid::Uuid;

use crate::error::{Result, StoreError};

/// One row of a query, column by column. Each method reads the named
/// column as the domain type, `None` for NULL; a value of another type is
/// an error.
pub(crate) trait ColumnReader {
    /// The columns holding an event's `before` and `after` snapshots.
    const EVENT_SNAPSHOTS: (&'static str, &'static str);

    fn text(&self, column: &str) -> Result<Option<String>>;
    fn i16(&self, column: &str) -> Result<Option<i16>>;
    fn i32(&self, column: &str) -> Result<Option<i32>>;
    fn i64(&self, column: &str) -> Result<Option<i64>>;
    fn f64(&self, column: &str) -> Result<Option<f64>>;
    fn bool(&self, column: &str) -> Result<Option<bool>>;
    fn uuid(&self, column: &str) -> Result<Option<Uuid>>;
    fn instant(&self, column: &str) -> Result<Option<DateTime<Utc>>>;
    fn date(&self, column: &str) -> Result<Option<NaiveDate>>;
    fn time(&self, column: &str) -> Result<Option<NaiveTime>>;
    /// A JSON object or value, read into `T`.
    fn json<T: DeserializeOwned>(&self, column: &str) -> Result<Option<T>>;
    /// A list of strings.
    fn texts(&self, column: &str) -> Result<Option<Vec<String>>>;
    /// A list of ids.
    fn uuids(&self, column: &str) -> Result<Option<Vec<Uuid>>>;
}

/// A value that must not be NULL.
fn required<T>(value: Option<T>, column: &str) -> Result<T> {
    value.ok_or_else(|| StoreError::corrupt(column))
}

/// Typed, required-or-optional access to one row.
struct Row<'r, R: ?Sized>(&'r R);

impl<R: ColumnReader + ?Sized> Row<'_, R> {
    fn text(&self, c: &str) -> Result<String> {
        required(self.0.text(c)?, c)
    }
    fn opt_text(&self, c: &str) -> Result<Option<String>> {
        self.0.text(c)
    }
    fn i64(&self, c: &str) -> Result<i64> {
        required(self.0.i64(c)?, c)
    }
    fn i32(&self, c: &str) -> Result<i32> {
        required(self.0.i32(c)?, c)
    }
    fn opt_i32(&self, c: &str) -> Result<Option<i32>> {
        self.0.i32(c)
    }
    fn f64(&self, c: &str) -> Result<f64> {
        required(self.0.f64(c)?, c)
    }
    fn opt_f64(&self, c: &str) -> Result<Option<f64>> {
        self.0.f64(c)
    }
    fn bool(&self, c: &str) -> Result<bool> {
        required(self.0.bool(c)?, c)
    }
    fn opt_bool(&self, c: &str) -> Result<Option<bool>> {
        self.0.bool(c)
    }
    fn id<T: From<Uuid>>(&self, c: &str) -> Result<T> {
        required(self.0.uuid(c)?, c).map(T::from)
    }
    fn opt_id<T: From<Uuid>>(&self, c: &str) -> Result<Option<T>> {
        Ok(self.0.uuid(c)?.map(T::from))
    }
    fn ids<T: From<Uuid>>(&self, c: &str) -> Result<Vec<T>> {
        Ok(required(self.0.uuids(c)?, c)?.into_iter().map(T::from).collect())
    }
    fn instant(&self, c: &str) -> Result<DateTime<Utc>> {
        required(self.0.instant(c)?, c)
    }
    fn opt_instant(&self, c: &str) -> Result<Option<DateTime<Utc>>> {
        self.0.instant(c)
    }
    fn opt_date(&self, c: &str) -> Result<Option<NaiveDate>> {
        self.0.date(c)
    }
    fn opt_time(&self, c: &str) -> Result<Option<NaiveTime>> {
        self.0.time(c)
    }
    fn texts(&self, c: &str) -> Result<Vec<String>> {
        required(self.0.texts(c)?, c)
    }
    fn json<T: DeserializeOwned>(&self, c: &str) -> Result<T> {
        required(self.0.json(c)?, c)
    }
    fn opt_json<T: DeserializeOwned>(&self, c: &str) -> Result<Option<T>> {
        self.0.json(c)
    }
    /// An enum stored as its text.
    fn parse<T: FromStr>(&self, c: &str) -> Result<T> {
        self.text(c)?.parse().map_err(|_| StoreError::corrupt(c))
    }
    fn opt_parse<T: FromStr>(&self, c: &str) -> Result<Option<T>> {
        self.opt_text(c)?.map(|s| s.parse().map_err(|_| StoreError::corrupt(c))).transpose()
    }
    /// A priority stored as its rank (1–4).
    fn rank(&self, c: &str) -> Result<Priority> {
        let rank = required(self.0.i16(c)?, c)?;
        Priority::from_rank(i64::from(rank)).ok_or_else(|| StoreError::corrupt(c))
    }
    fn count(&self, c: &str) -> Result<u32> {
        u32::try_from(self.i32(c)?).map_err(|_| StoreError::corrupt(c))
    }
}

pub(crate) fn user<R: ColumnReader + ?Sized>(row: &R) -> Result<User> {
    let c = Row(row);
    Ok(User {
        id: c.id("id")?,
        email: c.text("email")?,
        name: c.text("name")?,
        role: c.parse("role")?,
        password_hash: c.opt_text("password_hash")?,
        created_at: c.instant("created_at")?,
    })
}

pub(crate) fn api_key<R: ColumnReader + ?Sized>(row: &R) -> Result<ApiKey> {
    let c = Row(row);
    Ok(ApiKey {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        name: c.text("name")?,
        role: c.parse("role")?,
        key_hash: c.text("key_hash")?,
        prefix: c.text("prefix")?,
        created_at: c.instant("created_at")?,
        revoked_at: c.opt_instant("revoked_at")?,
    })
}

pub(crate) fn task<R: ColumnReader + ?Sized>(row: &R) -> Result<Task> {
    let c = Row(row);
    Ok(Task {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        title: c.text("title")?,
        description: c.opt_text("description")?,
        priority: c.parse("priority")?,
        status: c.parse("status")?,
        due_date: c.opt_date("due_date")?,
        due_time: c.opt_time("due_time")?,
        recurrence: c.opt_text("recurrence")?,
        tags: c.texts("tags")?,
        parent_id: c.opt_id("parent_id")?,
        estimated_effort_minutes: c.opt_i32("estimated_effort_minutes")?,
        assignee: c.parse("assignee")?,
        source_thought_id: c.opt_id("source_thought_id")?,
        metadata: c.json("metadata")?,
        completed_at: c.opt_instant("completed_at")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.i64("version")?,
    })
}

pub(crate) fn thought<R: ColumnReader + ?Sized>(row: &R) -> Result<Thought> {
    let c = Row(row);
    Ok(Thought {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        content: c.text("content")?,
        tags: c.texts("tags")?,
        status: c.parse("status")?,
        context: c.opt_json("context")?,
        thought_type: c.opt_parse("thought_type")?,
        is_actionable: c.opt_bool("is_actionable")?,
        actionable_confidence: c.opt_f64("actionable_confidence")?,
        suggested_tags: c.texts("suggested_tags")?,
        related_topics: c.texts("related_topics")?,
        emotional_tone: c.opt_text("emotional_tone")?,
        urgency: c.opt_text("urgency")?,
        analyzed_at: c.opt_instant("analyzed_at")?,
        related_thought_ids: c.ids("related_thought_ids")?,
        task_id: c.opt_id("task_id")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.i64("version")?,
    })
}

pub(crate) fn suggestion<R: ColumnReader + ?Sized>(row: &R) -> Result<Suggestion> {
    let c = Row(row);
    Ok(Suggestion {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        source_thought_id: c.id("source_thought_id")?,
        title: c.text("title")?,
        description: c.opt_text("description")?,
        priority: c.parse("priority")?,
        estimated_effort_minutes: c.opt_i32("estimated_effort_minutes")?,
        due_date_hint: c.opt_date("due_date_hint")?,
        confidence: c.f64("confidence")?,
        reasoning: c.opt_text("reasoning")?,
        status: c.parse("status")?,
        user_action: c.opt_text("user_action")?,
        user_action_at: c.opt_instant("user_action_at")?,
        created_task_id: c.opt_id("created_task_id")?,
        is_deleted: c.bool("is_deleted")?,
        deleted_at: c.opt_instant("deleted_at")?,
        deletion_reason: c.opt_text("deletion_reason")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.i64("version")?,
    })
}

pub(crate) fn approval<R: ColumnReader + ?Sized>(row: &R) -> Result<Approval> {
    let c = Row(row);
    Ok(Approval {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        task_id: c.opt_id("task_id")?,
        run_id: c.opt_id("run_id")?,
        action_type: c.text("action_type")?,
        details: c.json("details")?,
        status: c.parse("status")?,
        requested_by: c.text("requested_by")?,
        decided_by: c.opt_id("decided_by")?,
        decided_at: c.opt_instant("decided_at")?,
        reason: c.opt_text("reason")?,
        expires_at: c.instant("expires_at")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.i64("version")?,
    })
}

pub(crate) fn settings<R: ColumnReader + ?Sized>(row: &R) -> Result<Settings> {
    let c = Row(row);
    Ok(Settings {
        user_id: c.id("user_id")?,
        consciousness_check_enabled: c.bool("consciousness_check_enabled")?,
        consciousness_check_interval_minutes: c.i32("consciousness_check_interval_minutes")?,
        auto_tagging_enabled: c.bool("auto_tagging_enabled")?,
        auto_task_creation_enabled: c.bool("auto_task_creation_enabled")?,
        task_suggestion_mode: c.parse("task_suggestion_mode")?,
        suggestion_confidence_threshold: c.f64("suggestion_confidence_threshold")?,
        timezone: c.text("timezone")?,
        primary_backend: c.opt_text("primary_backend")?,
        secondary_backend: c.opt_text("secondary_backend")?,
        date_order: c.parse("date_order")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.i64("version")?,
    })
}

pub(crate) fn profile<R: ColumnReader + ?Sized>(row: &R) -> Result<Profile> {
    let c = Row(row);
    Ok(Profile {
        user_id: c.id("user_id")?,
        ongoing_projects: c.json("ongoing_projects")?,
        interests: c.texts("interests")?,
        work_style: c.opt_text("work_style")?,
        themes: c.texts("themes")?,
        preferred_tone: c.opt_text("preferred_tone")?,
        detail_level: c.opt_text("detail_level")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.i64("version")?,
    })
}

pub(crate) fn event<R: ColumnReader + ?Sized>(row: &R) -> Result<Event> {
    let c = Row(row);
    let (before, after) = R::EVENT_SNAPSHOTS;
    let entity = c.text("entity")?;
    Ok(Event {
        seq: c.i64("seq")?,
        user_id: c.id("user_id")?,
        actor: c.opt_id("actor")?,
        kind: c.text("kind")?,
        entity: entity.parse::<Entity>().map_err(|_| StoreError::corrupt("entity"))?,
        entity_id: c.id("entity_id")?,
        before: c.opt_json(before)?,
        after: c.opt_json(after)?,
        at: c.instant("at")?,
    })
}

pub(crate) fn job<R: ColumnReader + ?Sized>(row: &R) -> Result<Job> {
    let c = Row(row);
    Ok(Job {
        id: c.id("id")?,
        owner: c.opt_id("owner_id")?,
        kind: c.text("kind")?,
        payload: c.json("payload")?,
        class: c.rank("class")?,
        state: c.parse("state")?,
        run_at: c.instant("run_at")?,
        deadline: c.instant("deadline")?,
        attempts: c.count("attempts")?,
        max_attempts: c.count("max_attempts")?,
        last_error: c.opt_text("last_error")?,
        unique_key: c.opt_text("unique_key")?,
        locked_by: c.opt_text("locked_by")?,
        lease_until: c.opt_instant("lease_until")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        finished_at: c.opt_instant("finished_at")?,
    })
}

/// Adds one row of a queue-stats query (`class`, the counts `ready`,
/// `scheduled`, `running`, `dead`, `breached`, and `oldest`, the earliest
/// ready `run_at`) to the class it counts.
pub(crate) fn add_class_stats<R: ColumnReader + ?Sized>(
    row: &R,
    classes: &mut [ClassStats],
    now: DateTime<Utc>,
) -> Result<()> {
    let c = Row(row);
    let class = c.rank("class")?;
    let count = |column: &str| -> Result<u64> { Ok(u64::try_from(c.i64(column)?).unwrap_or(0)) };
    let Some(stats) = classes.iter_mut().find(|s| s.class == class) else { return Ok(()) };
    stats.ready = count("ready")?;
    stats.scheduled = count("scheduled")?;
    stats.running = count("running")?;
    stats.dead = count("dead")?;
    stats.breached = count("breached")?;
    stats.oldest_ready_secs =
        c.opt_instant("oldest")?.map(|t| (now - t).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6);
    Ok(())
}
