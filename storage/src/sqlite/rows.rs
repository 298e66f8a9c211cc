//! Row → record: the one place per record type that knows how a stored row
//! reads back into the domain type, whether sqlx (the read pool) or rusqlite
//! (the writer, point reads) fetched it. Every query selects whole rows (`*`), so
//! columns are read by name.

use crate::error::Result;
use steward_core::approval::Approval;
use steward_core::event::Event;
use steward_core::settings::{Profile, Settings};
use steward_core::suggestion::Suggestion;
use steward_core::task::Task;
use steward_core::thought::Thought;
use steward_core::user::{ApiKey, User};

use super::codec::{Columns, Source};

pub(crate) fn user<R: Source + ?Sized>(row: &R) -> Result<User> {
    let c = Columns(row);
    Ok(User {
        id: c.id("id")?,
        email: c.get("email")?,
        name: c.get("name")?,
        role: c.parse("role")?,
        password_hash: c.get("password_hash")?,
        created_at: c.instant("created_at")?,
    })
}

pub(crate) fn api_key<R: Source + ?Sized>(row: &R) -> Result<ApiKey> {
    let c = Columns(row);
    Ok(ApiKey {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        name: c.get("name")?,
        role: c.parse("role")?,
        key_hash: c.get("key_hash")?,
        prefix: c.get("prefix")?,
        created_at: c.instant("created_at")?,
        revoked_at: c.opt_instant("revoked_at")?,
    })
}

pub(crate) fn task<R: Source + ?Sized>(row: &R) -> Result<Task> {
    let c = Columns(row);
    Ok(Task {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        title: c.get("title")?,
        description: c.get("description")?,
        priority: c.parse("priority")?,
        status: c.parse("status")?,
        due_date: c.opt_date("due_date")?,
        due_time: c.opt_time("due_time")?,
        recurrence: c.get("recurrence")?,
        tags: c.json("tags")?,
        parent_id: c.opt_id("parent_id")?,
        estimated_effort_minutes: c.get("estimated_effort_minutes")?,
        assignee: c.parse("assignee")?,
        source_thought_id: c.opt_id("source_thought_id")?,
        metadata: c.json("metadata")?,
        completed_at: c.opt_instant("completed_at")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.get("version")?,
    })
}

pub(crate) fn thought<R: Source + ?Sized>(row: &R) -> Result<Thought> {
    let c = Columns(row);
    Ok(Thought {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        content: c.get("content")?,
        tags: c.json("tags")?,
        status: c.parse("status")?,
        context: c.opt_json("context")?,
        thought_type: c.opt_parse("thought_type")?,
        is_actionable: c.get("is_actionable")?,
        actionable_confidence: c.get("actionable_confidence")?,
        suggested_tags: c.json("suggested_tags")?,
        related_topics: c.json("related_topics")?,
        emotional_tone: c.get("emotional_tone")?,
        urgency: c.get("urgency")?,
        analyzed_at: c.opt_instant("analyzed_at")?,
        related_thought_ids: c.json("related_thought_ids")?,
        task_id: c.opt_id("task_id")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.get("version")?,
    })
}

pub(crate) fn suggestion<R: Source + ?Sized>(row: &R) -> Result<Suggestion> {
    let c = Columns(row);
    Ok(Suggestion {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        source_thought_id: c.id("source_thought_id")?,
        title: c.get("title")?,
        description: c.get("description")?,
        priority: c.parse("priority")?,
        estimated_effort_minutes: c.get("estimated_effort_minutes")?,
        due_date_hint: c.opt_date("due_date_hint")?,
        confidence: c.get("confidence")?,
        reasoning: c.get("reasoning")?,
        status: c.parse("status")?,
        user_action: c.get("user_action")?,
        user_action_at: c.opt_instant("user_action_at")?,
        created_task_id: c.opt_id("created_task_id")?,
        is_deleted: c.get("is_deleted")?,
        deleted_at: c.opt_instant("deleted_at")?,
        deletion_reason: c.get("deletion_reason")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.get("version")?,
    })
}

pub(crate) fn approval<R: Source + ?Sized>(row: &R) -> Result<Approval> {
    let c = Columns(row);
    Ok(Approval {
        id: c.id("id")?,
        user_id: c.id("user_id")?,
        task_id: c.opt_id("task_id")?,
        run_id: c.opt_id("run_id")?,
        action_type: c.get("action_type")?,
        details: c.json("details")?,
        status: c.parse("status")?,
        requested_by: c.get("requested_by")?,
        decided_by: c.opt_id("decided_by")?,
        decided_at: c.opt_instant("decided_at")?,
        reason: c.get("reason")?,
        expires_at: c.instant("expires_at")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.get("version")?,
    })
}

pub(crate) fn settings<R: Source + ?Sized>(row: &R) -> Result<Settings> {
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
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.get("version")?,
    })
}

pub(crate) fn profile<R: Source + ?Sized>(row: &R) -> Result<Profile> {
    let c = Columns(row);
    Ok(Profile {
        user_id: c.id("user_id")?,
        ongoing_projects: c.json("ongoing_projects")?,
        interests: c.json("interests")?,
        work_style: c.get("work_style")?,
        themes: c.json("themes")?,
        preferred_tone: c.get("preferred_tone")?,
        detail_level: c.get("detail_level")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        version: c.get("version")?,
    })
}

pub(crate) fn event<R: Source + ?Sized>(row: &R) -> Result<Event> {
    let c = Columns(row);
    Ok(Event {
        seq: c.get("seq")?,
        user_id: c.id("user_id")?,
        actor: c.opt_id("actor")?,
        kind: c.get("kind")?,
        entity: c.entity("entity")?,
        entity_id: c.get("entity_id")?,
        before: c.opt_json("before_json")?,
        after: c.opt_json("after_json")?,
        at: c.instant("at")?,
    })
}
