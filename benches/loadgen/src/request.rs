//! What each request is: the target URL, its headers, and a body template
//! whose `{n}` becomes the request's number (so POSTs create distinct
//! objects), with the parsing of the command line's texts for them.

use std::time::Duration;

use bytes::Bytes;
use hyper::Uri;
use hyper::header::{HeaderName, HeaderValue};

/// A plain-HTTP URL: where to connect and what to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `host:port`, to connect to and to send as `Host`.
    pub authority: String,
    /// The path and query of every request.
    pub path_and_query: String,
}

impl Target {
    pub fn parse(url: &str) -> Result<Self, String> {
        let uri: Uri = url.parse().map_err(|error| format!("{url:?} is not a URL: {error}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => return Err(format!("{url:?}: only http:// is supported, not {other}://")),
            None => return Err(format!("{url:?} has no scheme (http://HOST:PORT/PATH)")),
        }
        let authority = uri.authority().ok_or_else(|| format!("{url:?} has no host"))?;
        let port = authority.port_u16().unwrap_or(80);
        let path_and_query = uri.path_and_query().map_or("/", |path| path.as_str());
        Ok(Self {
            authority: format!("{}:{port}", authority.host()),
            path_and_query: if path_and_query.is_empty() { "/".to_owned() } else { path_and_query.to_owned() },
        })
    }
}

/// A request body in which every `{n}` is replaced by the request's number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyTemplate {
    /// The text between the placeholders; one more piece than placeholders.
    pieces: Vec<String>,
    /// The whole body when it has no placeholder (shared, not copied).
    fixed: Option<Bytes>,
}

impl BodyTemplate {
    pub const PLACEHOLDER: &'static str = "{n}";

    pub fn new(text: &str) -> Self {
        let pieces: Vec<String> = text.split(Self::PLACEHOLDER).map(str::to_owned).collect();
        let fixed = (pieces.len() == 1).then(|| Bytes::copy_from_slice(text.as_bytes()));
        Self { pieces, fixed }
    }

    pub fn render(&self, n: u64) -> Bytes {
        if let Some(fixed) = &self.fixed {
            return fixed.clone();
        }
        let number = n.to_string();
        Bytes::from(self.pieces.join(&number))
    }
}

/// `Name: value` as given to `-H`.
pub fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = text.split_once(':').ok_or_else(|| format!("header {text:?} is not `Name: value`"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("header {text:?}: {:?} is not a header name", name.trim()))?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| format!("header {text:?}: the value is not valid"))?;
    Ok((name, value))
}

/// A length of time: a number with `ms`, `s` or `m` (`500ms`, `2s`, `1.5m`);
/// a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration (e.g. 500ms, 10s, 1m)"))?;
    let seconds = match unit {
        "ms" => value / 1_000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (ms, s or m)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{text:?} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_gives_the_authority_and_the_path() {
        let target = Target::parse("http://127.0.0.1:8381/api/v1/tasks?limit=20").unwrap();
        assert_eq!(target.authority, "127.0.0.1:8381");
        assert_eq!(target.path_and_query, "/api/v1/tasks?limit=20");
        let target = Target::parse("http://localhost").unwrap();
        assert_eq!(target.authority, "localhost:80");
        assert_eq!(target.path_and_query, "/");
    }

    #[test]
    fn only_plain_http_urls_are_accepted() {
        assert!(Target::parse("https://example.com/").unwrap_err().contains("only http://"));
        assert!(Target::parse("/api/v1/tasks").unwrap_err().contains("no scheme"));
        assert!(Target::parse("http://a b").is_err());
    }

    #[test]
    fn every_placeholder_becomes_the_number() {
        let template = BodyTemplate::new(r#"{"title":"task {n}","metadata":{"n":{n}}}"#);
        assert_eq!(template.render(42), r#"{"title":"task 42","metadata":{"n":42}}"#);
        assert_eq!(template.render(7), r#"{"title":"task 7","metadata":{"n":7}}"#);
    }

    #[test]
    fn a_body_without_placeholder_is_sent_as_is() {
        let template = BodyTemplate::new(r#"{"n": "{m}"}"#);
        assert_eq!(template.render(1), r#"{"n": "{m}"}"#);
        assert_eq!(BodyTemplate::new("").render(3), "");
        assert_eq!(BodyTemplate::new("{n}").render(3), "3");
    }

    #[test]
    fn headers_are_name_colon_value() {
        let (name, value) = parse_header("Authorization: Bearer stw_abc:def").unwrap();
        assert_eq!(name, "authorization");
        assert_eq!(value, "Bearer stw_abc:def");
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: x").is_err());
    }

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("1.5m").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("10h").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
