//! Input rules shared by several records: trimmed text with length bounds,
//! tag normalisation, JSON-object fields. Each check adds to a list of field
//! errors so a caller learns every problem at once.

use serde_json::Value;

use crate::error::{Error, FieldError, Result};

/// The patterns of the rules below, for the JSON Schemas of the inputs
/// (feature `openapi`): what a value must look like *before* trimming, so
/// that a value a schema accepts, these checks accept too.
#[cfg(feature = "openapi")]
pub mod patterns {
    /// [`Checks::line`]: no control character, not blank.
    pub const LINE: &str =
        r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$";
    /// [`Checks::lines`]: no control character but newlines and tabs, not blank.
    pub const LINES: &str = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$";
    /// [`Checks::text`] with a minimum of 1: not blank, no NUL.
    pub const TEXT: &str = r"^[^\u0000]*[^\s\u0000][^\u0000]*$";
    /// [`Checks::optional_text`]: no NUL.
    pub const OPTIONAL_TEXT: &str = r"^[^\u0000]*$";
    /// One tag of [`Checks::tags`], already in its normal form.
    pub const TAG: &str = r"^[a-z0-9_-]{1,50}$";
}

/// Collects field errors; `finish` turns them into `Error::Invalid`.
#[derive(Debug, Default)]
pub(crate) struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn fail(&mut self, field: &str, msg: impl Into<String>) {
        self.errors.push(FieldError::body(field, msg));
    }

    /// Adds every field error of a nested check that failed validation.
    pub(crate) fn absorb(&mut self, result: Result<()>) {
        match result {
            Ok(()) => {}
            Err(Error::Invalid(errors)) => self.errors.extend(errors),
            Err(other) => self.fail("input", other.to_string()),
        }
    }

    /// Trims `value` and checks it is `min..=max` characters long.
    /// NUL characters are refused: no store can keep them faithfully.
    pub(crate) fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        let trimmed = value.trim();
        let len = trimmed.chars().count();
        if trimmed.contains('\0') {
            self.fail(field, "must not contain NUL characters");
        } else if len < min {
            if min == 1 {
                self.fail(field, "must not be empty");
            } else {
                self.fail(field, format!("must be at least {min} characters"));
            }
        } else if len > max {
            self.fail(field, format!("must be at most {max} characters (got {len})"));
        }
        trimmed.to_string()
    }

    /// `text` for a one-line value (a title): no control characters at
    /// all, newlines and tabs included, so a title can never carry a
    /// terminal escape sequence or break a line-oriented listing.
    pub(crate) fn line(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        let text = self.text(field, value, min, max);
        if let Some(c) = text.chars().find(|c| c.is_control() && *c != '\0') {
            self.fail(field, format!("must not contain control characters (found {})", c.escape_unicode()));
        }
        text
    }

    /// `text` for a value that may span lines (a thought): newlines, tabs
    /// and `\r\n` line ends are kept, every other control character is
    /// refused.
    pub(crate) fn lines(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        let text = self.text(field, value, min, max);
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            let allowed = match c {
                '\n' | '\t' | '\0' => true,
                '\r' => chars.peek() == Some(&'\n'),
                other => !other.is_control(),
            };
            if !allowed {
                let msg = format!(
                    "must not contain control characters other than newlines and tabs (found {})",
                    c.escape_unicode()
                );
                self.fail(field, msg);
                break;
            }
        }
        text
    }

    /// Like `text`, but an empty value after trimming becomes `None`.
    pub(crate) fn optional_text(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        let value = value?;
        let text = self.text(field, value, 0, max);
        (!text.is_empty()).then_some(text)
    }

    /// Normalises tags: trimmed, lowercased, `[a-z0-9_-]`, at most 50
    /// characters each and `max_count` in all. Duplicates (after
    /// normalisation) are an error, not silently merged.
    pub(crate) fn tags(&mut self, field: &str, tags: &[String], max_count: usize) -> Vec<String> {
        if tags.len() > max_count {
            self.fail(field, format!("at most {max_count} tags (got {})", tags.len()));
        }
        let mut out: Vec<String> = Vec::with_capacity(tags.len());
        for raw in tags {
            let tag = raw.trim().to_lowercase();
            if tag.is_empty() {
                self.fail(field, "tags must not be empty");
                continue;
            }
            if tag.chars().count() > 50 {
                self.fail(field, format!("tag '{tag}' is longer than 50 characters"));
                continue;
            }
            if !tag.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_') {
                self.fail(field, format!("tag '{tag}' may only contain letters, digits, '-' and '_'"));
                continue;
            }
            if out.contains(&tag) {
                self.fail(field, format!("duplicate tag '{tag}'"));
                continue;
            }
            out.push(tag);
        }
        out
    }

    /// A JSON field that must be an object (or absent).
    pub(crate) fn object(&mut self, field: &str, value: &Value) {
        if !value.is_object() {
            self.fail(field, "must be a JSON object");
        }
    }

    pub(crate) fn finish(self) -> Result<()> {
        if self.errors.is_empty() { Ok(()) } else { Err(Error::Invalid(self.errors)) }
    }
}

/// Lowercased, trimmed email with a minimal shape check (`local@domain`).
pub(crate) fn email(checks: &mut Checks, raw: &str) -> String {
    let email = raw.trim().to_lowercase();
    let shape_ok = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if !shape_ok || email.len() > 254 {
        checks.fail("email", "must be an email address like name@example.com");
    }
    email
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_lowercased_and_duplicates_rejected() {
        let mut c = Checks::new();
        let tags = c.tags("tags", &[" Work ".into(), "home_2".into()], 5);
        assert_eq!(tags, vec!["work", "home_2"]);
        assert!(c.finish().is_ok());

        let mut c = Checks::new();
        c.tags("tags", &["Work".into(), "work".into()], 5);
        let err = c.finish().unwrap_err();
        assert!(matches!(err, Error::Invalid(ref e) if e[0].msg.contains("duplicate")));
    }

    #[test]
    fn tags_reject_punctuation_and_too_many() {
        let mut c = Checks::new();
        c.tags("tags", &["a b".into()], 5);
        assert!(c.finish().is_err());
        let mut c = Checks::new();
        let six: Vec<String> = (0..6).map(|i| format!("t{i}")).collect();
        c.tags("tags", &six, 5);
        assert!(c.finish().is_err());
    }

    #[test]
    fn nul_characters_are_refused() {
        let mut c = Checks::new();
        c.text("content", "before\0after", 1, 100);
        assert!(matches!(c.finish(), Err(Error::Invalid(e)) if e[0].msg.contains("NUL")));
    }

    #[test]
    fn titles_refuse_every_control_character() {
        for bad in ["x \u{1b}[31mred", "two\nlines", "a\tb", "bell\u{7}", "c1 \u{9b}31m"] {
            let mut c = Checks::new();
            c.line("title", bad, 1, 200);
            assert!(
                matches!(c.finish(), Err(Error::Invalid(e)) if e[0].loc.last().map(String::as_str) == Some("title") && e[0].msg.contains("control")),
                "{bad:?}"
            );
        }
        let mut c = Checks::new();
        assert_eq!(c.line("title", "  café ☕ #1 ", 1, 200), "café ☕ #1");
        assert!(c.finish().is_ok());
    }

    #[test]
    fn multi_line_text_keeps_newlines_and_tabs_only() {
        let mut c = Checks::new();
        c.lines("content", "first\n\tsecond\r\nthird", 1, 100);
        assert!(c.finish().is_ok());
        for bad in ["x \u{1b}[2J", "carriage\rreturn", "del\u{7f}"] {
            let mut c = Checks::new();
            c.lines("content", bad, 1, 100);
            assert!(
                matches!(c.finish(), Err(Error::Invalid(e)) if e[0].loc.last().map(String::as_str) == Some("content")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn text_counts_characters_not_bytes() {
        let mut c = Checks::new();
        let t = c.text("title", &"é".repeat(200), 1, 200);
        assert_eq!(t.chars().count(), 200);
        assert!(c.finish().is_ok());
    }
}
