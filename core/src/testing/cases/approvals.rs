//! Approval cases: exactly-once decisions and engine-enforced expiry.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use crate::approval::{ApprovalStatus, Decision, NewApproval};
use crate::error::{Entity, Error};
use crate::query::PageRequest;
use crate::store::Store;
use crate::testing::Fixture;

pub(super) fn request(minutes: i64, f: &Fixture) -> NewApproval {
    NewApproval {
        action_type: "send_email".into(),
        details: Some(json!({"tool": "send_email", "arguments": {"to": "bob@example.com"}})),
        requested_by: Some("agent".into()),
        expires_at: Some(f.clock.now_for_tests() + Duration::minutes(minutes)),
        ..Default::default()
    }
}

pub async fn approval_is_decided_exactly_once(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let a = f.engine.request_approval(&me, request(60, &f)).await.unwrap();
    assert_eq!((a.status, a.decided_at), (ApprovalStatus::Pending, None));
    assert_eq!(f.engine.approval(&me, a.id).await.unwrap(), a);
    let pending = f.engine.approvals(&me, None, PageRequest::default()).await.unwrap();
    assert_eq!(pending.items.iter().map(|x| x.id).collect::<Vec<_>>(), vec![a.id]);
    f.advance_ms(10);
    let decided = f.engine.decide_approval(&me, a.id, Decision::Approved, Some("go".into())).await.unwrap();
    assert_eq!(
        (decided.status, decided.decided_by, decided.reason.as_deref()),
        (ApprovalStatus::Approved, Some(me.user_id), Some("go"))
    );
    let second = f.engine.decide_approval(&me, a.id, Decision::Rejected, None).await.unwrap_err();
    assert!(matches!(second, Error::InvalidTransition { entity: Entity::Approval, .. }), "{second:?}");
    assert_eq!(f.engine.approval(&me, a.id).await.unwrap(), decided, "the first decision stands");
    assert_eq!(f.engine.approvals(&me, None, PageRequest::default()).await.unwrap().total, 0);
    assert_eq!(f.engine.approvals(&me, Some(ApprovalStatus::Approved), PageRequest::default()).await.unwrap().total, 1);
    let bad = NewApproval { expires_at: Some(f.clock.now_for_tests() - Duration::seconds(1)), ..request(1, &f) };
    assert!(matches!(f.engine.request_approval(&me, bad).await, Err(Error::Invalid(_))));
    let other = f.user("bob@example.com").await;
    assert_eq!(
        f.engine.decide_approval(&other, a.id, Decision::Approved, None).await.unwrap_err(),
        Error::not_found(Entity::Approval)
    );
}

pub async fn expired_approval_never_executes(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let a = f.engine.request_approval(&me, request(5, &f)).await.unwrap();
    let b = f.engine.request_approval(&me, request(5, &f)).await.unwrap();
    let c = f.engine.request_approval(&me, request(60, &f)).await.unwrap();
    f.clock.advance(Duration::minutes(5));
    assert_eq!(
        f.engine.approval(&me, a.id).await.unwrap().status,
        ApprovalStatus::Expired,
        "expiry needs no sweep to show"
    );
    let pending = f.engine.approvals(&me, None, PageRequest::default()).await.unwrap();
    assert_eq!(pending.items.iter().map(|x| x.id).collect::<Vec<_>>(), vec![c.id]);
    assert_eq!(f.engine.approvals(&me, Some(ApprovalStatus::Expired), PageRequest::default()).await.unwrap().total, 2);
    let err = f.engine.decide_approval(&me, a.id, Decision::Approved, None).await.unwrap_err();
    assert_eq!(err, Error::ApprovalExpired { expired_at: a.expires_at });
    let stored = f.store.approval(me.user_id, a.id).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.decided_by), (ApprovalStatus::Expired, None), "the expiry was written down");
    assert!(matches!(
        f.engine.decide_approval(&me, a.id, Decision::Approved, None).await,
        Err(Error::InvalidTransition { .. })
    ));
    assert_eq!(f.engine.expire_approvals(&me).await.unwrap(), 1, "only b was still recorded as pending");
    assert_eq!(f.store.approval(me.user_id, b.id).await.unwrap().unwrap().status, ApprovalStatus::Expired);
    assert_eq!(f.engine.approval(&me, c.id).await.unwrap().status, ApprovalStatus::Pending);
}
