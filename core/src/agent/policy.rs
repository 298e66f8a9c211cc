//! Which tool calls may run on their own, which wait for a person, and
//! which never run: rules by tool-name pattern, then safe defaults by what
//! the tool may do.

use serde::{Deserialize, Serialize};

use super::run::Verdict;
use super::tools::Effect;
use crate::error::{Error, Result};

/// How long an approval an agent asks for stays open by default.
pub const DEFAULT_APPROVAL_TTL: chrono::Duration = chrono::Duration::hours(24);
/// How many model turns one run may take before it fails.
pub const DEFAULT_MAX_TURNS: u32 = 12;

/// One rule: tools whose name matches `pattern` (`*` any run of
/// characters, `?` one character; `mcp.github.*`) get `verdict`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PolicyRule {
    /// A tool name, `*` any run of characters, `?` one character; not
    /// blank, no control characters, at most 128 characters.
    #[cfg_attr(
        feature = "openapi",
        schemars(length(min = 1, max = MAX_PATTERN_CHARS), pattern(crate::validate::patterns::LINE))
    )]
    pub pattern: String,
    pub verdict: Verdict,
}

/// The approval policy: the first rule whose pattern matches decides;
/// without one, reads and single writes are allowed, and deletes, bulk
/// changes and every external tool need approval.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolPolicy {
    pub rules: Vec<PolicyRule>,
}

impl ToolPolicy {
    pub fn new(rules: Vec<PolicyRule>) -> Result<ToolPolicy> {
        for rule in &rules {
            if let Err(problem) = check_pattern(&rule.pattern) {
                return Err(Error::invalid("policy", format!("a rule's pattern {problem}")));
            }
        }
        Ok(ToolPolicy { rules })
    }

    pub fn verdict(&self, tool: &str, effect: Effect) -> Verdict {
        self.rules
            .iter()
            .find(|r| glob_matches(r.pattern.trim(), tool))
            .map_or_else(|| default_verdict(effect), |r| r.verdict)
    }
}

/// The longest pattern of a rule, in characters.
pub const MAX_PATTERN_CHARS: usize = 128;

/// What is wrong with a rule's `pattern`, if anything.
pub fn check_pattern(pattern: &str) -> std::result::Result<(), String> {
    if pattern.trim().is_empty() {
        Err("must not be blank".into())
    } else if pattern.chars().count() > MAX_PATTERN_CHARS {
        Err(format!("must be at most {MAX_PATTERN_CHARS} characters"))
    } else if pattern.chars().any(char::is_control) {
        Err("must not contain control characters".into())
    } else {
        Ok(())
    }
}

/// The verdict for a tool no rule names.
pub fn default_verdict(effect: Effect) -> Verdict {
    match effect {
        // A decision is guarded by the engine (see `Effect::Decide`).
        Effect::Read | Effect::Write | Effect::Decide => Verdict::Allow,
        Effect::Destructive | Effect::External => Verdict::NeedsApproval,
    }
}

/// Whether `name` matches `pattern` (`*`, `?`; everything else literal).
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Classic two-pointer match with backtracking to the last `*`.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(c) if *c == '?' || *c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// What the agent loop is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentConfig {
    pub policy: ToolPolicy,
    /// How long a gated call's approval stays open.
    pub approval_ttl: chrono::Duration,
    pub max_turns: u32,
    /// Replaces the built-in system prompt.
    pub system_prompt: Option<String>,
}

impl Default for AgentConfig {
    fn default() -> AgentConfig {
        AgentConfig {
            policy: ToolPolicy::default(),
            approval_ttl: DEFAULT_APPROVAL_TTL,
            max_turns: DEFAULT_MAX_TURNS,
            system_prompt: None,
        }
    }
}

impl AgentConfig {
    pub fn validate(&self) -> Result<()> {
        if self.approval_ttl <= chrono::Duration::zero() || self.approval_ttl > crate::approval::MAX_APPROVAL_TTL {
            return Err(Error::invalid("approval_ttl", "must be more than 0 and at most 30 days"));
        }
        if !(1..=100).contains(&self.max_turns) {
            return Err(Error::invalid("max_turns", "must be 1 to 100"));
        }
        ToolPolicy::new(self.policy.rules.clone()).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_shell_patterns() {
        assert!(glob_matches("*", "delete_task"));
        assert!(glob_matches("delete_*", "delete_task"));
        assert!(glob_matches("*_task", "complete_task"));
        assert!(glob_matches("mcp.*.write", "mcp.fs.write"));
        assert!(glob_matches("get_tas?", "get_task"));
        assert!(!glob_matches("get_tas?", "get_tasks"));
        assert!(!glob_matches("delete_*", "undelete_task"));
        assert!(glob_matches("a*b*c", "aXbYbZc"));
        assert!(!glob_matches("a*b*c", "aXbYbZ"));
        assert!(glob_matches("", ""));
        assert!(!glob_matches("", "x"));
    }

    #[test]
    fn the_first_matching_rule_wins_then_the_defaults() {
        let policy = ToolPolicy::new(vec![
            PolicyRule { pattern: "delete_task".into(), verdict: Verdict::Deny },
            PolicyRule { pattern: "*_task".into(), verdict: Verdict::NeedsApproval },
        ])
        .unwrap_or_default();
        assert_eq!(policy.verdict("delete_task", Effect::Destructive), Verdict::Deny);
        assert_eq!(policy.verdict("add_task", Effect::Write), Verdict::NeedsApproval);
        assert_eq!(policy.verdict("list_tasks", Effect::Read), Verdict::Allow);
        assert_eq!(policy.verdict("mcp.fs.read", Effect::External), Verdict::NeedsApproval);
        assert_eq!(ToolPolicy::default().verdict("delete_task", Effect::Destructive), Verdict::NeedsApproval);
        assert!(ToolPolicy::new(vec![PolicyRule { pattern: " ".into(), verdict: Verdict::Allow }]).is_err());
    }
}
