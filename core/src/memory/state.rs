//! What the memory store holds: one table per record kind, each row with its
//! insertion order, plus the event log and the jobs. Reading helpers that
//! every query shares (paging, keyset pages, sort direction) live here too.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::Hash;

use crate::agent::run::{AgentRun, Conversation, RunStep};
use crate::approval::Approval;
use crate::consciousness::ConsciousnessCheck;
use crate::event::Event;
use crate::ids::{
    ApiKeyId, ApprovalId, CheckId, ConversationId, JobId, RunId, StepId, SuggestionId, TaskId, ThoughtId, UserId,
    WebhookId,
};
use crate::job::Job;
use crate::query::{Page, PageRequest, SortOrder};
use crate::settings::{Profile, Settings};
use crate::suggestion::Suggestion;
use crate::task::Task;
use crate::thought::Thought;
use crate::user::{ApiKey, User};
use crate::webhook::Webhook;

/// Records of one kind with their insertion order.
#[derive(Debug, Clone)]
pub(super) struct Table<K, V> {
    pub(super) rows: HashMap<K, (u64, V)>,
}

impl<K: Hash + Eq + Copy, V: Clone> Table<K, V> {
    pub(super) fn get(&self, k: &K) -> Option<&V> {
        self.rows.get(k).map(|(_, v)| v)
    }

    /// The rows `keep` lets through, in insertion order, with their order.
    pub(super) fn sorted(&self, mut keep: impl FnMut(&V) -> bool) -> Vec<(u64, V)> {
        let mut out: Vec<(u64, V)> = self.rows.values().filter(|(_, v)| keep(v)).cloned().collect();
        out.sort_by_key(|(seq, _)| *seq);
        out
    }
}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table { rows: HashMap::new() }
    }
}

/// Everything the store holds. `apply` works on a copy and swaps it in.
#[derive(Debug, Clone, Default)]
pub(super) struct State {
    pub(super) next_seq: u64,
    pub(super) users: Table<UserId, User>,
    pub(super) keys: Table<ApiKeyId, ApiKey>,
    pub(super) tasks: Table<TaskId, Task>,
    pub(super) thoughts: Table<ThoughtId, Thought>,
    pub(super) suggestions: Table<SuggestionId, Suggestion>,
    pub(super) approvals: Table<ApprovalId, Approval>,
    pub(super) settings: Table<UserId, Settings>,
    pub(super) profiles: Table<UserId, Profile>,
    pub(super) conversations: Table<ConversationId, Conversation>,
    pub(super) runs: Table<RunId, AgentRun>,
    pub(super) steps: Table<StepId, RunStep>,
    pub(super) events: Vec<Event>,
    pub(super) jobs: HashMap<JobId, Job>,
    pub(super) checks: Table<CheckId, ConsciousnessCheck>,
    pub(super) webhooks: Table<WebhookId, Webhook>,
    /// By name.
    pub(super) server_settings: Vec<crate::server_settings::ServerSetting>,
}

pub(super) fn paginate<T>(items: Vec<T>, page: PageRequest) -> Page<T> {
    let total = items.len() as u64;
    let items =
        items.into_iter().skip(usize::try_from(page.offset).unwrap_or(usize::MAX)).take(page.limit as usize).collect();
    Page { items, total, offset: page.offset, limit: page.limit }
}

/// Up to `limit` rows with a key greater than `after`, in key order.
pub(super) fn keyset<K: Hash + Eq + Copy + Ord, V: Clone>(
    table: &Table<K, V>,
    after: Option<K>,
    limit: u32,
    keep: impl Fn(&V) -> bool,
) -> Vec<V> {
    let mut rows: Vec<(K, &V)> = table
        .rows
        .iter()
        .filter(|(k, (_, v))| after.is_none_or(|a| **k > a) && keep(v))
        .map(|(k, (_, v))| (*k, v))
        .collect();
    rows.sort_by_key(|(k, _)| *k);
    rows.into_iter().take(limit as usize).map(|(_, v)| v.clone()).collect()
}

pub(super) fn directed(ord: Ordering, order: SortOrder) -> Ordering {
    match order {
        SortOrder::Asc => ord,
        SortOrder::Desc => ord.reverse(),
    }
}
