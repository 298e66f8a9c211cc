//! User, key, role, settings, profile, quick-add and event cases.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};

use crate::error::{Entity, Error};
use crate::event::EventQuery;
use crate::query::PageRequest;
use crate::quickadd::DateOrder;
use crate::settings::{ProfilePatch, Project, SettingsPatch, SuggestionMode};
use crate::store::Store;
use crate::task::{NewTask, TaskPatch};
use crate::testing::Fixture;
use crate::thought::NewThought;
use crate::user::{NewUser, Principal, Role};

pub async fn users_keys_and_roles(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let admin = f.user("Admin@Example.com").await;
    assert_eq!(admin.role, Role::Admin, "the first user of an empty store is an admin");
    let user = f.user("ann@example.com").await;
    assert_eq!(user.role, Role::User);
    assert_eq!(f.engine.user_by_email(&admin, "ADMIN@example.com").await.unwrap().id, admin.user_id);
    let dup = NewUser { email: "ANN@example.com".into(), ..Default::default() };
    assert_eq!(
        f.engine.create_user(&Principal::system(), dup).await,
        Err(Error::Conflict(crate::Conflict::UniqueField { entity: crate::Entity::User, field: "email" }))
    );
    let bad = NewUser { email: "not-an-email".into(), ..Default::default() };
    assert!(matches!(f.engine.create_user(&Principal::system(), bad).await, Err(Error::Invalid(_))));
    assert!(matches!(
        f.engine.create_user(&user, NewUser { email: "x@y.z".into(), ..Default::default() }).await,
        Err(Error::Forbidden(_))
    ));
    assert_eq!(f.engine.users(&Principal::system(), PageRequest::default()).await.unwrap().total, 2);

    let (key, secret) = f.engine.create_api_key(&user, "laptop", None).await.unwrap();
    assert!(secret.starts_with("stw_") && secret.len() > 40);
    assert!(secret.starts_with(&key.prefix) && key.key_hash != secret);
    assert_eq!(f.engine.authenticate_key(&secret).await.unwrap(), user);
    assert_eq!(f.engine.authenticate_key("stw_wrong").await.unwrap_err(), Error::Unauthorized);
    assert!(matches!(f.engine.create_api_key(&user, "root", Some(Role::Admin)).await, Err(Error::Forbidden(_))));
    let (_, observer_secret) = f.engine.create_api_key(&user, "dashboard", Some(Role::Observer)).await.unwrap();
    let observer = f.engine.authenticate_key(&observer_secret).await.unwrap();
    assert_eq!(observer.role, Role::Observer);
    assert!(matches!(f.engine.create_task(&observer, NewTask::titled("no")).await, Err(Error::Forbidden(_))));
    assert!(matches!(f.engine.capture_thought(&observer, NewThought::new("no")).await, Err(Error::Forbidden(_))));
    assert_eq!(f.engine.api_keys(&user).await.unwrap().len(), 2);
    let revoked = f.engine.revoke_api_key(&user, key.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(f.engine.authenticate_key(&secret).await.unwrap_err(), Error::Unauthorized, "revoked keys stop at once");
    assert_eq!(f.engine.revoke_api_key(&admin, key.id).await.unwrap_err(), Error::not_found(Entity::ApiKey));
}

pub async fn settings_and_profile_defaults_and_updates(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let s = f.engine.settings(&me).await.unwrap();
    assert_eq!(
        (s.timezone.as_str(), s.consciousness_check_interval_minutes, s.task_suggestion_mode),
        ("UTC", 30, SuggestionMode::Suggest)
    );
    assert_eq!(f.engine.settings(&me).await.unwrap(), s, "defaults are created once");
    let patch = SettingsPatch {
        timezone: Some("Europe/Paris".into()),
        suggestion_confidence_threshold: Some(0.5),
        ..Default::default()
    };
    let updated = f.engine.update_settings(&me, patch, Some(s.version)).await.unwrap();
    assert_eq!(
        (updated.timezone.as_str(), updated.suggestion_confidence_threshold, updated.version),
        ("Europe/Paris", 0.5, 2)
    );
    let bad = SettingsPatch {
        timezone: Some("Mars/Olympus".into()),
        consciousness_check_interval_minutes: Some(0),
        ..Default::default()
    };
    let Error::Invalid(errors) = f.engine.update_settings(&me, bad, None).await.unwrap_err() else {
        panic!("expected Invalid")
    };
    assert_eq!(errors.len(), 2);
    assert!(matches!(
        f.engine.update_settings(&me, SettingsPatch::default(), Some(1)).await,
        Err(Error::VersionConflict { .. })
    ));
    let reset = f.engine.reset_settings(&me).await.unwrap();
    assert_eq!((reset.timezone.as_str(), reset.version), ("UTC", 3));
    assert_eq!(f.engine.settings(&me).await.unwrap(), reset);

    let p = f.engine.profile(&me).await.unwrap();
    assert!(p.ongoing_projects.is_empty());
    let p = f
        .engine
        .update_profile(
            &me,
            ProfilePatch { interests: Some(vec!["rust".into(), "cycling".into()]), ..Default::default() },
        )
        .await
        .unwrap();
    let project = Project { name: "Steward".into(), status: "active".into(), description: None };
    f.engine.put_project(&me, project.clone()).await.unwrap();
    let p2 = f.engine.put_project(&me, Project { status: "paused".into(), ..project }).await.unwrap();
    assert_eq!(
        (p2.ongoing_projects.len(), p2.ongoing_projects[0].status.as_str(), p2.interests.clone()),
        (1, "paused", p.interests)
    );
    let p3 = f.engine.remove_project(&me, "steward").await.unwrap();
    assert!(p3.ongoing_projects.is_empty());
    let gone = Err(Error::NotFound { entity: Entity::Project });
    assert_eq!(f.engine.remove_project(&me, "steward").await.map(|_| ()), gone);
    assert_eq!(f.engine.set_project_status(&me, "steward", "done").await.map(|_| ()), gone);
    assert_eq!(f.engine.profile(&me).await.unwrap(), p3);
}

pub async fn quick_add_uses_the_owner_timezone(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    // 2026-02-21T23:30Z is still the 21st in New York.
    f.clock.advance(Duration::hours(13));
    f.engine
        .update_settings(&me, SettingsPatch { timezone: Some("America/New_York".into()), ..Default::default() }, None)
        .await
        .unwrap();
    let added = f.engine.quick_add(&me, "call dad tomorrow #family").await.unwrap();
    assert_eq!(added.task.due_date, NaiveDate::from_ymd_opt(2026, 2, 22));
    assert_eq!((added.task.title.as_str(), added.task.tags.clone()), ("call dad", vec!["family".to_string()]));
    assert_eq!(f.engine.task(&me, added.task.id).await.unwrap(), added.task);
    assert!(matches!(f.engine.quick_add(&me, "p1").await, Err(Error::Invalid(_))));

    // Numeric dates read month/day until the owner says day/month, and the
    // setting round-trips through the store.
    let us = f.engine.quick_add(&me, "dentist on 3/4").await.unwrap();
    assert_eq!(us.task.due_date, NaiveDate::from_ymd_opt(2026, 3, 4));
    let patch = SettingsPatch { date_order: Some(DateOrder::DayMonth), ..Default::default() };
    let saved = f.engine.update_settings(&me, patch, None).await.unwrap();
    assert_eq!(f.engine.settings(&me).await.unwrap(), saved);
    assert_eq!(saved.date_order, DateOrder::DayMonth);
    let eu = f.engine.quick_add(&me, "dentist on 3/4").await.unwrap();
    assert_eq!(eu.task.due_date, NaiveDate::from_ymd_opt(2026, 4, 3));
    assert!(matches!("backwards".parse::<DateOrder>(), Err(Error::Invalid(_))));
}

pub async fn every_change_is_an_event_in_order(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let other = f.user("bob@example.com").await;
    let task = f.engine.create_task(&me, NewTask::titled("audit me")).await.unwrap();
    f.engine
        .update_task(&me, task.id, TaskPatch { title: Some("audited".into()), ..Default::default() }, None)
        .await
        .unwrap();
    f.engine.complete_task(&me, task.id).await.unwrap();
    f.engine.create_task(&other, NewTask::titled("bob's")).await.unwrap();
    f.engine.delete_task(&me, task.id, None).await.unwrap();
    let events =
        f.engine.activities(&me, EventQuery { entity: Some(Entity::Task), ..Default::default() }).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["task.created", "task.updated", "task.completed", "task.deleted"]);
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(events.iter().all(|e| e.entity_id == task.id.0 && e.actor == Some(me.user_id)));
    assert_eq!(events[1].before.as_ref().unwrap()["title"], "audit me");
    assert_eq!(events[1].after.as_ref().unwrap()["title"], "audited");
    assert!(events[3].after.is_none());
    let resumed = f
        .engine
        .activities(
            &me,
            EventQuery { after_seq: Some(events[1].seq), entity: Some(Entity::Task), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(resumed, events[2..].to_vec(), "resuming after a seq misses nothing");
    let by_id = f
        .engine
        .activities(&me, EventQuery { entity_id: Some(task.id.0), limit: 2, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(by_id, events[..2].to_vec());
    let bobs =
        f.engine.activities(&other, EventQuery { entity: Some(Entity::Task), ..Default::default() }).await.unwrap();
    assert_eq!(bobs.len(), 1);
}

/// Registrations racing on an empty database: exactly one becomes admin,
/// and every one of them is created.
pub async fn racing_first_registrations_make_one_admin(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let racers: Vec<_> = (0..6)
        .map(|n| {
            let engine = f.engine.clone();
            tokio::spawn(async move {
                let input =
                    NewUser { email: format!("racer{n}@example.com"), name: None, role: None, password_hash: None };
                engine.create_user(&Principal::system(), input).await
            })
        })
        .collect();
    let mut roles = Vec::new();
    for racer in racers {
        roles.push(racer.await.unwrap().unwrap().role);
    }
    assert_eq!(roles.iter().filter(|r| **r == Role::Admin).count(), 1, "{roles:?}");
    let admin = Principal::system();
    assert_eq!(f.engine.users(&admin, PageRequest { limit: 100, offset: 0 }).await.unwrap().total, 6);
}
