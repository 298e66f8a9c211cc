//! Row → record: the one place per record type that knows how a stored row
//! reads back into the domain type, and which columns a query selects for
//! it (never `*`: the search vectors stay on the server). Columns are read
//! by name.

use crate::error::Result;
use sqlx::postgres::PgRow;
use steward_core::approval::Approval;
use steward_core::event::Event;
use steward_core::settings::{Profile, Settings};
use steward_core::suggestion::Suggestion;
use steward_core::task::Task;
use steward_core::thought::Thought;
use steward_core::user::{ApiKey, User};

use super::codec::Columns;

/// The column list a query selects for a record type, as a literal for
/// `concat!`: `columns!(task)`.
macro_rules! columns {
    (user) => {
        "id, email, name, role, password_hash, created_at"
    };
    (api_key) => {
        "id, user_id, name, role, key_hash, prefix, created_at, revoked_at"
    };
    (task) => {
        "id, user_id, title, description, priority, status, due_date, due_time, recurrence, \
        tags, parent_id, estimated_effort_minutes, assignee, source_thought_id, metadata, completed_at, created_at, \
        updated_at, version"
    };
    (thought) => {
        "id, user_id, content, tags, status, context, thought_type, is_actionable, \
        actionable_confidence, suggested_tags, related_topics, emotional_tone, urgency, analyzed_at, \
        related_thought_ids, task_id, created_at, updated_at, version"
    };
    (suggestion) => {
        "id, user_id, source_thought_id, title, description, priority, \
        estimated_effort_minutes, due_date_hint, confidence, reasoning, status, user_action, user_action_at, \
        created_task_id, is_deleted, deleted_at, deletion_reason, created_at, updated_at, version"
    };
    (approval) => {
        "id, user_id, task_id, run_id, action_type, details, status, requested_by, \
        decided_by, decided_at, reason, expires_at, created_at, updated_at, version"
    };
    (settings) => {
        "user_id, consciousness_check_enabled, consciousness_check_interval_minutes, \
        auto_tagging_enabled, auto_task_creation_enabled, task_suggestion_mode, suggestion_confidence_threshold, \
        timezone, primary_backend, secondary_backend, created_at, updated_at, version"
    };
    (profile) => {
        "user_id, ongoing_projects, interests, work_style, themes, preferred_tone, \
        detail_level, created_at, updated_at, version"
    };
    (event) => {
        "seq, user_id, actor, kind, entity, entity_id, before, after, at"
    };
}
pub(crate) use columns;

pub(crate) fn user(row: &PgRow) -> Result<User> {
    let c = Columns(row);
    Ok(User {
        id: c.id("id")?,
        email: c.get("email")?,
        name: c.get("name")?,
        role: c.parse("role")?,
        password_hash: c.get("password_hash")?,
        created_at: c.get("created_at")?,
    })
}

pub(crate) fn api_key(row: &PgRow) -> Result<ApiKey> {
    let c = Columns(row);
    Ok(ApiKey {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        name: c.get("name")?,
        role: c.parse("role")?,
        key_hash: c.get("key_hash")?,
        prefix: c.get("prefix")?,
        created_at: c.get("created_at")?,
        revoked_at: c.get("revoked_at")?,
    })
}

pub(crate) fn task(row: &PgRow) -> Result<Task> {
    let c = Columns(row);
    Ok(Task {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        title: c.get("title")?,
        description: c.get("description")?,
        priority: c.parse("priority")?,
        status: c.parse("status")?,
        due_date: c.get("due_date")?,
        due_time: c.get("due_time")?,
        recurrence: c.get("recurrence")?,
        tags: c.get("tags")?,
        parent_id: c.opt_id("parent_id")?,
        estimated_effort_minutes: c.get("estimated_effort_minutes")?,
        assignee: c.parse("assignee")?,
        source_thought_id: c.opt_id("source_thought_id")?,
        metadata: c.get("metadata")?,
        completed_at: c.get("completed_at")?,
        created_at: c.get("created_at")?,
        updated_at: c.get("updated_at")?,
        version: c.get("version")?,
    })
}

pub(crate) fn thought(row: &PgRow) -> Result<Thought> {
    let c = Columns(row);
    Ok(Thought {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        content: c.get("content")?,
        tags: c.get("tags")?,
        status: c.parse("status")?,
        context: c.get("context")?,
        thought_type: c.opt_parse("thought_type")?,
        is_actionable: c.get("is_actionable")?,
        actionable_confidence: c.get("actionable_confidence")?,
        suggested_tags: c.get("suggested_tags")?,
        related_topics: c.get("related_topics")?,
        emotional_tone: c.get("emotional_tone")?,
        urgency: c.get("urgency")?,
        analyzed_at: c.get("analyzed_at")?,
        related_thought_ids: c.ids("related_thought_ids")?,
        task_id: c.opt_id("task_id")?,
        created_at: c.get("created_at")?,
        updated_at: c.get("updated_at")?,
        version: c.get("version")?,
    })
}

pub(crate) fn suggestion(row: &PgRow) -> Result<Suggestion> {
    let c = Columns(row);
    Ok(Suggestion {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        source_thought_id: c.id("source_thought_id")?,
        title: c.get("title")?,
        description: c.get("description")?,
        priority: c.parse("priority")?,
        estimated_effort_minutes: c.get("estimated_effort_minutes")?,
        due_date_hint: c.get("due_date_hint")?,
        confidence: c.get("confidence")?,
        reasoning: c.get("reasoning")?,
        status: c.parse("status")?,
        user_action: c.get("user_action")?,
        user_action_at: c.get("user_action_at")?,
        created_task_id: c.opt_id("created_task_id")?,
        is_deleted: c.get("is_deleted")?,
        deleted_at: c.get("deleted_at")?,
        deletion_reason: c.get("deletion_reason")?,
        created_at: c.get("created_at")?,
        updated_at: c.get("updated_at")?,
        version: c.get("version")?,
    })
}

pub(crate) fn approval(row: &PgRow) -> Result<Approval> {
    let c = Columns(row);
    Ok(Approval {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        task_id: c.opt_id("task_id")?,
        run_id: c.opt_id("run_id")?,
        action_type: c.get("action_type")?,
        details: c.get("details")?,
        status: c.parse("status")?,
        requested_by: c.get("requested_by")?,
        decided_by: c.opt_id("decided_by")?,
        decided_at: c.get("decided_at")?,
        reason: c.get("reason")?,
        expires_at: c.get("expires_at")?,
        created_at: c.get("created_at")?,
        updated_at: c.get("updated_at")?,
        version: c.get("version")?,
    })
}

pub(crate) fn settings(row: &PgRow) -> Result<Settings> {
    let c = Columns(row);
    Ok(Settings {
        user_id: c.id("user_id")?,
        consciousness_check_enabled: c.get("consciousness_check_enabled")?,
        consciousness_check_interval_minutes: c.get("consciousness_check_interval_minutes")?,
        auto_tagging_enabled: c.get("auto_tagging_enabled")?,
        auto_task_creation_enabled: c.get("auto_task_creation_enabled")?,
        task_suggestion_mode: c.parse("task_suggestion_mode")?,
        suggestion_confidence_threshold: c.get("suggestion_confidence_threshold")?,
        timezone: c.get("timezone")?,
        primary_backend: c.get("primary_backend")?,
        secondary_backend: c.get("secondary_backend")?,
        created_at: c.get("created_at")?,
        updated_at: c.get("updated_at")?,
        version: c.get("version")?,
    })
}

pub(crate) fn profile(row: &PgRow) -> Result<Profile> {
    let c = Columns(row);
    Ok(Profile {
        user_id: c.id("user_id")?,
        ongoing_projects: c.json("ongoing_projects")?,
        interests: c.get("interests")?,
        work_style: c.get("work_style")?,
        themes: c.get("themes")?,
        preferred_tone: c.get("preferred_tone")?,
        detail_level: c.get("detail_level")?,
        created_at: c.get("created_at")?,
        updated_at: c.get("updated_at")?,
        version: c.get("version")?,
    })
}

pub(crate) fn event(row: &PgRow) -> Result<Event> {
    let c = Columns(row);
    Ok(Event {
        seq: c.get("seq")?,
        user_id: c.id("user_id")?,
        actor: c.opt_id("actor")?,
        kind: c.get("kind")?,
        entity: c.entity("entity")?,
        entity_id: c.get("entity_id")?,
        before: c.get("before")?,
        after: c.get("after")?,
        at: c.get("at")?,
    })
}
