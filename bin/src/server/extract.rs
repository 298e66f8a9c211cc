//! Extractors that turn a request's parts into typed values, so that every
//! rejection is the envelope's 422 with a location instead of axum's plain
//! text: [`Body`] (JSON, `["body", field, …]`), [`PathId`] (a UUID,
//! `["path", name]`), [`Params`] (query values, `["query", name]`) and
//! [`IfMatch`] (`["header", "if-match"]`).

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use steward::{FieldError, PageRequest, SortOrder};

use super::error::ApiError;

/// A JSON body. No body at all reads as `{}` (so a POST without one works
/// when every field is optional); unknown fields are ignored.
#[derive(Debug)]
pub(crate) struct Body<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::payload_too_large()
            } else {
                ApiError::invalid(vec![loc(&["body"], "the body could not be read")])
            }
        })?;
        parse_json(&bytes).map(Body)
    }
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Only no body at all is `{}`: blanks alone are no JSON document.
    let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { bytes };
    // Every body is an object: serde would also read a struct from an
    // array of its fields in order, which no client means.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b != b'{') {
        let json_ok = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
        let msg = if json_ok { "must be a JSON object" } else { "malformed JSON: the body is not a JSON object" };
        return Err(ApiError::invalid(vec![loc(&["body"], msg)]));
    }
    read_json(bytes).or_else(|error| {
        // JSON has one kind of number: `3.0` is the integer 3 (and JSON
        // Schema agrees), though serde reads it into no integer field.
        let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(bytes) else { return Err(error) };
        if integral_floats_to_integers(&mut value) {
            serde_path_to_error::deserialize(value).map_err(invalid_at)
        } else {
            Err(error)
        }
    })
}

fn read_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(invalid_at)?;
    deserializer.end().map_err(|e| {
        ApiError::invalid(vec![FieldError { loc: vec!["body".into()], msg: format!("malformed JSON: {e}") }])
    })?;
    Ok(value)
}

/// A 422 at the place in the body where reading stopped.
fn invalid_at(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let mut at = vec!["body".to_string()];
    for segment in error.path().iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => at.push(index.to_string()),
            serde_path_to_error::Segment::Map { key } => at.push(key.clone()),
            serde_path_to_error::Segment::Enum { variant } => at.push(variant.clone()),
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    let inner = error.into_inner();
    let msg = if inner.is_syntax() || inner.is_eof() { format!("malformed JSON: {inner}") } else { inner.to_string() };
    ApiError::invalid(vec![FieldError { loc: at, msg }])
}

/// Rewrites every number with no fractional part as an integer; whether
/// there was one.
fn integral_floats_to_integers(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                // Below 2^53 every integral f64 is exact.
                #[allow(clippy::cast_possible_truncation)]
                let integer = f as i64;
                *value = Value::from(integer);
                true
            }
            _ => false,
        },
        Value::Array(items) => items.iter_mut().fold(false, |any, item| integral_floats_to_integers(item) | any),
        Value::Object(map) => map.values_mut().fold(false, |any, item| integral_floats_to_integers(item) | any),
        _ => false,
    }
}

fn loc(at: &[&str], msg: impl Into<String>) -> FieldError {
    FieldError { loc: at.iter().map(|s| s.to_string()).collect(), msg: msg.into() }
}

/// The one UUID path parameter of a route (`{id}`, `{thought_id}`), as a
/// typed id.
#[derive(Debug)]
pub(crate) struct PathId<T>(pub(crate) T);

impl<S: Send + Sync, T: From<uuid::Uuid>> FromRequestParts<S> for PathId<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::invalid(vec![loc(&["path"], "the path could not be read")]))?;
        let Some((name, value)) = params.iter().next() else {
            return Err(ApiError::invalid(vec![loc(&["path"], "an id is missing")]));
        };
        match uuid::Uuid::try_parse(value) {
            Ok(id) => Ok(PathId(T::from(id))),
            Err(_) => Err(ApiError::invalid(vec![loc(&["path", name], "must be a UUID")])),
        }
    }
}

/// The one text path parameter of a route (a project's name).
#[derive(Debug)]
pub(crate) struct PathText(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for PathText {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::invalid(vec![loc(&["path"], "the path could not be read")]))?;
        match params.iter().next() {
            Some((_, value)) => Ok(PathText(value.to_string())),
            None => Err(ApiError::invalid(vec![loc(&["path"], "a name is missing")])),
        }
    }
}

/// The query string, read value by value with every problem collected:
/// `let mut q = params.reader(); … q.finish()?`.
#[derive(Debug, Default)]
pub(crate) struct Params(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|_| ApiError::invalid(vec![loc(&["query"], "the query string is not URL-encoded")]))?;
        // A repeated key: the last one counts.
        Ok(Params(pairs.into_iter().collect()))
    }
}

impl Params {
    pub(crate) fn reader(&self) -> QueryReader<'_> {
        QueryReader { params: self, invalid: Vec::new(), filters: Vec::new() }
    }
}

#[derive(Debug)]
pub(crate) struct QueryReader<'a> {
    params: &'a Params,
    invalid: Vec<FieldError>,
    filters: Vec<FieldError>,
}

impl QueryReader<'_> {
    /// The raw text of `name`, if given and not blank.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.params.0.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    }

    /// The text of a value that must be one of a type's (a number, a date,
    /// a status): given but blank is a value that is none of them.
    fn typed_text(&mut self, name: &str, what: impl FnOnce() -> String) -> Option<String> {
        let given = self.params.0.contains_key(name);
        let text = self.text(name);
        if given && text.is_none() {
            self.invalid.push(FieldError::query(name, format!("must be {}, not empty", what())));
        }
        text
    }

    /// A value of any `FromStr` type (numbers, dates, ids).
    pub(crate) fn value<T: FromStr>(&mut self, name: &str, what: &str) -> Option<T>
    where
        T::Err: Display,
    {
        let text = self.typed_text(name, || what.to_string())?;
        match text.parse() {
            Ok(value) => Some(value),
            Err(_) => {
                self.invalid.push(FieldError::query(name, format!("must be {what}")));
                None
            }
        }
    }

    /// A value of one of core's enums (status, priority, …): core's words
    /// and core's message.
    pub(crate) fn domain<T: FromStr<Err = steward::Error>>(&mut self, name: &str) -> Option<T> {
        let text = self.typed_text(name, || "one of its allowed values".to_string())?;
        match text.parse() {
            Ok(value) => Some(value),
            Err(error) => {
                self.invalid.push(FieldError::query(name, message_of(error)));
                None
            }
        }
    }

    /// A sort key: an unknown one is a 400 `INVALID_FILTER`, not a 422.
    pub(crate) fn sort<T: FromStr<Err = steward::Error> + Default>(&mut self) -> T {
        let Some(text) = self.typed_text("sort_by", || "a sort key".to_string()) else { return T::default() };
        match text.parse() {
            Ok(value) => value,
            Err(error) => {
                self.filters.push(FieldError::query("sort_by", message_of(error)));
                T::default()
            }
        }
    }

    pub(crate) fn order(&mut self) -> SortOrder {
        self.domain("sort_order").unwrap_or_default()
    }

    pub(crate) fn flag(&mut self, name: &str) -> bool {
        self.value::<bool>(name, "true or false").unwrap_or(false)
    }

    /// `limit` (1–100, default `default_limit`) and `offset` (≥ 0).
    pub(crate) fn page(&mut self, default_limit: u32) -> PageRequest {
        let limit = self.value::<u32>("limit", "a whole number from 1 to 100").unwrap_or(default_limit);
        let offset = self.value::<u64>("offset", "a whole number, 0 or more").unwrap_or(0);
        match PageRequest::new(limit, offset) {
            Ok(page) => page,
            Err(steward::Error::Invalid(fields)) => {
                self.invalid.extend(fields);
                PageRequest::default()
            }
            Err(error) => {
                self.invalid.push(FieldError::query("limit", message_of(error)));
                PageRequest::default()
            }
        }
    }

    /// Records a problem with `name` found by the caller.
    pub(crate) fn reject(&mut self, name: &str, msg: impl Into<String>) {
        self.invalid.push(FieldError::query(name, msg));
    }

    /// The value built from what was read, or every problem found.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, ApiError> {
        if !self.invalid.is_empty() {
            return Err(ApiError::invalid(self.invalid.into_iter().chain(self.filters).collect()));
        }
        if !self.filters.is_empty() {
            return Err(ApiError::invalid_filter(self.filters));
        }
        Ok(value)
    }
}

/// The message of core's first field error (its location is a body's;
/// here it is a query value).
fn message_of(error: steward::Error) -> String {
    match error {
        steward::Error::Invalid(fields) => {
            fields.into_iter().next().map(|f| f.msg).unwrap_or_else(|| "is not allowed".into())
        }
        other => other.to_string(),
    }
}

/// `If-Match: <version>` (quotes and a weak `W/` prefix are tolerated).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IfMatch(pub(crate) Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(axum::http::header::IF_MATCH) else { return Ok(IfMatch(None)) };
        let text = value.to_str().unwrap_or_default().trim();
        let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
        match text.parse::<i64>() {
            Ok(version) => Ok(IfMatch(Some(version))),
            Err(_) => Err(ApiError::invalid(vec![loc(&["header", "if-match"], "must be a version number")])),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Input {
        title: String,
        #[serde(default)]
        tags: Vec<String>,
    }

    fn loc_of(body: &str) -> serde_json::Value {
        let error = parse_json::<Input>(body.as_bytes()).unwrap_err();
        assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY);
        error.details["validation_errors"][0]["loc"].clone()
    }

    #[test]
    fn json_errors_say_where() {
        assert_eq!(loc_of(r#"{"title": 5}"#), json!(["body", "title"]));
        assert_eq!(loc_of(r#"{"title": "a", "tags": ["x", 3]}"#), json!(["body", "tags", "1"]));
        assert_eq!(loc_of("not json"), json!(["body"]));
        assert_eq!(loc_of(r#"{"title": "a"} trailing"#), json!(["body"]));
        assert_eq!(loc_of(r#"["a", []]"#), json!(["body"]), "an array of the fields is not the object");
        assert_eq!(loc_of("[1"), json!(["body"]));
    }

    #[test]
    fn a_number_without_a_fraction_is_an_integer() {
        #[derive(Debug, Deserialize)]
        struct Minutes {
            minutes: i32,
            #[serde(default)]
            tags: Vec<String>,
        }
        let read = parse_json::<Minutes>(br#"{"minutes": 90.0}"#).unwrap();
        assert_eq!((read.minutes, read.tags.len()), (90, 0));
        assert_eq!(
            parse_json::<Minutes>(br#"{"minutes": 90.5}"#).unwrap_err().status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let error = parse_json::<Minutes>(br#"{"minutes": 1.0, "tags": [2]}"#).unwrap_err();
        assert_eq!(error.details["validation_errors"][0]["loc"], json!(["body", "tags", "0"]));
    }

    #[test]
    fn an_empty_body_reads_as_an_empty_object() {
        assert!(parse_json::<Input>(b"  ").is_err(), "title is still required");
        #[derive(Debug, Deserialize)]
        struct Optional {
            #[allow(dead_code)]
            reason: Option<String>,
        }
        assert!(parse_json::<Optional>(b"").is_ok());
        let blank = parse_json::<Optional>(b"\t").unwrap_err();
        assert_eq!(blank.details["validation_errors"][0]["loc"], json!(["body"]), "blanks are not an empty body");
    }
}
