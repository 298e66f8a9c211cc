//! Role cases: each role × each operation family, through the engine, with
//! what a refusal leaves behind (nothing), and another user's objects being
//! "not found" for every role but an admin acting for that user.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use crate::access::Access::{self, ManageKeys, ManageUsers, OperateQueue, OtherUsers, WriteOwn};
use crate::approval::NewApproval;
use crate::error::{Entity, Error};
use crate::event::EventQuery;
use crate::job::{JobQuery, NewJob, Sweep};
use crate::query::{PageRequest, TaskQuery};
use crate::store::Store;
use crate::task::NewTask;
use crate::testing::Fixture;
use crate::thought::NewThought;
use crate::user::{NewUser, Principal, Role};

fn forbidden<T: std::fmt::Debug>(result: crate::Result<T>, what: &str) {
    assert!(matches!(result, Err(Error::Forbidden(_))), "{what}: {result:?}");
}

fn allowed<T: std::fmt::Debug>(result: crate::Result<T>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what}: {e:?}"),
    }
}

pub async fn each_role_may_do_exactly_its_operations(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let admin = f.user("admin@example.com").await;
    let user = f.user_with_role("user@example.com", Role::User).await;
    let observer = f.user_with_role("observer@example.com", Role::Observer).await;
    let (_, api_secret) = f.engine.create_api_key(&user, "service", Some(Role::Api)).await.unwrap();
    let api = f.engine.authenticate_key(&api_secret).await.unwrap();
    assert_eq!((admin.role, api.role, api.user_id), (Role::Admin, Role::Api, user.user_id));
    let system = Principal::system();

    for p in [admin, user, observer, api, system] {
        let role = p.role;
        // The contract (API.md §1), written out rather than read from
        // `Access`, so a change to the rules must change this table too.
        let granted: &[Access] = match role {
            Role::Admin => &[WriteOwn, ManageKeys, ManageUsers, OtherUsers, OperateQueue],
            Role::User => &[WriteOwn, ManageKeys],
            Role::Observer => &[],
            Role::Api => &[WriteOwn],
            Role::System => &[WriteOwn, ManageUsers, OtherUsers, OperateQueue],
        };
        let may = |access: Access| granted.contains(&access);

        // Reading one's own data: everyone.
        allowed(f.engine.tasks(&p, TaskQuery::default()).await, "list own tasks");
        allowed(f.engine.activities(&p, EventQuery::default()).await, "own activity");

        // Writing one's own data: not observers.
        let before = f.engine.tasks(&p, TaskQuery::default()).await.unwrap().total;
        let created = f.engine.create_task(&p, NewTask::titled(format!("{role}'s task"))).await;
        let thought = f.engine.capture_thought(&p, NewThought::new("a note")).await;
        let approval =
            f.engine.request_approval(&p, NewApproval { action_type: "email.send".into(), ..Default::default() }).await;
        let check = f.engine.request_consciousness_check(&p).await;
        allowed(f.engine.consciousness_check_history(&p, 0).await, "read own checks");
        if may(WriteOwn) {
            allowed(created, "create a task");
            let thought = allowed(thought, "capture a thought");
            allowed(approval, "request an approval");
            allowed(check, "request a consciousness check");
            let analysed = f.engine.analyze_thought(&p, p.user_id, thought.id, &crate::analysis::Rules).await;
            allowed(analysed, "analyse own thought");
        } else {
            forbidden(created, "observer creates a task");
            forbidden(thought, "observer captures a thought");
            forbidden(approval, "observer requests an approval");
            forbidden(check, "observer requests a consciousness check");
            forbidden(f.engine.run_consciousness_check(&p, p.user_id, None).await, "observer runs a check");
            let after = f.engine.tasks(&p, TaskQuery::default()).await.unwrap().total;
            assert_eq!(after, before, "a refused write leaves nothing behind");
        }

        // Keys: admins and users, never observers, api keys or the system.
        let key = f.engine.create_api_key(&p, "laptop", None).await;
        let keys = f.engine.api_keys(&p).await;
        if may(ManageKeys) {
            let (key, _) = allowed(key, "create a key");
            assert!(allowed(keys, "list keys").iter().any(|k| k.id == key.id));
            allowed(f.engine.revoke_api_key(&p, key.id).await, "revoke a key");
        } else {
            forbidden(key, "create a key");
            forbidden(keys, "list keys");
        }

        // User management: admins and the system.
        let new = NewUser { email: format!("made-by-{role}@example.com"), ..Default::default() };
        let made = f.engine.create_user(&p, new).await;
        let all = f.engine.users(&p, PageRequest::default()).await;
        if may(ManageUsers) {
            assert_eq!(allowed(made, "create a user").role, Role::User);
            allowed(all, "list users");
        } else {
            forbidden(made, "create a user");
            forbidden(all, "list users");
            let unmade = f.engine.user_by_email(&system, &format!("made-by-{role}@example.com")).await;
            assert_eq!(unmade.unwrap_err(), Error::not_found(Entity::User), "a refused create writes nothing");
        }

        // Another user's account and data: admins (and the system) only;
        // for anyone else it does not exist.
        let other = f.engine.user_by_email(&system, "admin@example.com").await.unwrap();
        let as_other = f.engine.act_as(&p, "admin@example.com").await;
        let other_account = f.engine.user(&p, other.id).await;
        if p.user_id == other.id {
            assert_eq!(allowed(as_other, "act as oneself"), p, "acting as oneself keeps one's role");
        } else if may(OtherUsers) {
            assert_eq!(allowed(as_other, "act for another user"), other.principal());
            allowed(other_account, "read another account");
        } else {
            assert_eq!(as_other.unwrap_err(), Error::not_found(Entity::User));
            assert_eq!(other_account.unwrap_err(), Error::not_found(Entity::User));
        }

        // Operating the queue: admins and the system.
        let enqueued = f.engine.enqueue(&p, NewJob::new("report.build", json!({}))).await;
        let listed = f.engine.jobs(&p, &JobQuery::default()).await;
        let stats = f.engine.queue_stats(&p).await;
        let claimed = f.engine.claim(&p, "w1", &["nothing.here".into()], 1, Duration::seconds(30)).await;
        let swept = f.engine.run_sweep(&p, Sweep::Approvals).await;
        if may(OperateQueue) {
            allowed(enqueued, "enqueue");
            allowed(listed, "list jobs");
            allowed(stats, "queue stats");
            allowed(claimed, "claim");
            allowed(swept, "run a sweep");
        } else {
            forbidden(enqueued, "enqueue");
            forbidden(listed, "list jobs");
            forbidden(stats, "queue stats");
            forbidden(claimed, "claim");
            forbidden(swept, "run a sweep");
        }
    }
}

pub async fn jobs_are_visible_to_their_owner_and_operators_only(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let admin = f.user("admin@example.com").await;
    let ann = f.user_with_role("ann@example.com", Role::User).await;
    let bob = f.user_with_role("bob@example.com", Role::User).await;
    let watcher = f.user_with_role("watcher@example.com", Role::Observer).await;
    let system = Principal::system();
    let anns = f.engine.enqueue(&system, NewJob::new("report.build", json!({})).owner(ann.user_id)).await.unwrap();
    let nobodys = f.engine.enqueue(&system, NewJob::new("report.build", json!({ "n": 2 }))).await.unwrap();

    assert_eq!(f.engine.job(&ann, anns.id).await.unwrap().id, anns.id, "the owner sees their job");
    for (p, id) in [(bob, anns.id), (watcher, anns.id), (ann, nobodys.id)] {
        assert_eq!(f.engine.job(&p, id).await.unwrap_err(), Error::not_found(Entity::Job));
        assert_eq!(f.engine.cancel_job(&p, id).await.unwrap_err(), Error::not_found(Entity::Job));
        assert_eq!(f.engine.retry_job(&p, id).await.unwrap_err(), Error::not_found(Entity::Job));
    }
    assert_eq!(f.engine.job(&admin, anns.id).await.unwrap().id, anns.id, "an admin sees every job");
    let cancelled = f.engine.cancel_job(&ann, anns.id).await.unwrap();
    assert_eq!(cancelled.state, crate::job::JobState::Cancelled, "the owner may cancel their own job");
    assert_eq!(f.engine.retry_job(&admin, anns.id).await.unwrap().state, crate::job::JobState::Available);
    assert_eq!(f.engine.cancel_job(&admin, nobodys.id).await.unwrap().state, crate::job::JobState::Cancelled);
}

pub async fn the_system_role_is_never_stored_or_granted(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let admin = f.user("admin@example.com").await;
    let system = Principal::system();
    let as_system = NewUser { email: "root@example.com".into(), role: Some(Role::System), ..Default::default() };
    assert!(matches!(f.engine.create_user(&system, as_system).await, Err(Error::Invalid(_))));
    assert!(matches!(f.engine.create_api_key(&admin, "root", Some(Role::System)).await, Err(Error::Forbidden(_))));
    assert!("system".parse::<Role>().is_err(), "no text reads back as the system role");
    assert!(serde_json::from_value::<Role>(json!("system")).is_err());

    // What the system does on a user's behalf has no actor in the log.
    let ann = f.user_with_role("ann@example.com", Role::User).await;
    let request = NewApproval {
        action_type: "email.send".into(),
        expires_at: Some(f.engine.now() + Duration::minutes(1)),
        ..Default::default()
    };
    f.engine.request_approval(&ann, request).await.unwrap();
    f.advance_ms(120_000);
    assert_eq!(f.engine.run_sweep(&system, Sweep::Approvals).await.unwrap(), 1);
    let events = f.engine.activities(&ann, EventQuery::default()).await.unwrap();
    let expired = events.iter().find(|e| e.is(crate::EventKind::ApprovalExpired)).expect("the expiry is logged");
    assert_eq!(expired.actor, None);
}
