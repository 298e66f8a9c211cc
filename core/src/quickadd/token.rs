//! Tokenizer: splits a quick-add phrase into whitespace-separated tokens and
//! gives each one the normalised form the grammar matches against.

use std::borrow::Cow;

/// Punctuation that may trail a word without changing what it means
/// (`friday,` `5pm.` `task:`); it is ignored when matching.
const TRAILING: &[char] = &[',', '.', ';', '!', '?', ':'];

/// One whitespace-separated piece of the input.
#[derive(Debug)]
pub(crate) struct Token<'a> {
    /// The text exactly as typed; titles are rebuilt from these.
    pub(crate) raw: &'a str,
    /// `raw` without trailing punctuation, ASCII-lowercased. Every keyword of
    /// the grammar is ASCII, so non-ASCII letters are left as they are.
    pub(crate) word: Cow<'a, str>,
}

/// `raw` without the punctuation a word may carry at its end.
pub(crate) fn trim_trailing(raw: &str) -> &str {
    raw.trim_end_matches(TRAILING)
}

/// Splits `text` on Unicode whitespace. Rejoining the `raw` parts with single
/// spaces and splitting again gives back the same tokens, which is what makes
/// titles re-parse to themselves.
pub(crate) fn tokenize(text: &str) -> Vec<Token<'_>> {
    text.split_whitespace()
        .map(|raw| {
            let trimmed = trim_trailing(raw);
            let word = if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(trimmed.to_ascii_lowercase())
            } else {
                Cow::Borrowed(trimmed)
            };
            Token { raw, word }
        })
        .collect()
}

/// The normalised word at `i`, or `""` past the end (no keyword is empty, so
/// the empty string never matches anything).
pub(crate) fn word<'t>(toks: &'t [&Token<'_>], i: usize) -> &'t str {
    toks.get(i).map_or("", |t| &*t.word)
}
