//! TEMPORARY STUB — replaced by the real quick-add parser module.
use crate::Priority;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ParsedTask {
    pub title: String,
    pub priority: Option<Priority>,
    pub due_date: Option<NaiveDate>,
    #[serde(with = "crate::serde_time::hhmm_opt")]
    pub due_time: Option<NaiveTime>,
    pub tags: Vec<String>,
    pub recurrence: Option<String>,
}
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    #[error("the task has no title once dates, tags and priority are taken out")]
    EmptyTitle,
}
pub fn parse(text: &str, _now: DateTime<Utc>, _tz: chrono_tz::Tz) -> Result<ParsedTask, ParseError> {
    let title = text.trim().to_string();
    if title.is_empty() {
        return Err(ParseError::EmptyTitle);
    }
    Ok(ParsedTask { title, priority: None, due_date: None, due_time: None, tags: vec![], recurrence: None })
}
