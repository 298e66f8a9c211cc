//! [`ApiKey`]: a provider credential that never shows itself. Its `Debug`
//! prints a placeholder and it has no `Display`, so a key cannot reach a log
//! line, an error message or a panic through formatting; the one way to read
//! it is [`ApiKey::expose`], used where a request header is built.

use std::fmt;

/// A secret credential for a model provider.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    /// The key itself, for the request header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let key = ApiKey::new("sk-very-secret");
        let shown = format!("{key:?} {:?}", Some(key.clone()));
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        assert!(shown.contains("redacted"));
        assert_eq!(key.expose(), "sk-very-secret");
    }
}
