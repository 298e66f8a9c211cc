//! Text folding for search: the one definition of what a "word" is and when
//! it matches, so every store agrees. Words are runs of letters and digits,
//! lower-cased with accents removed; a query word matches a text word it is a
//! prefix of (search-as-you-type), and every query word must match.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::query::SearchField;
use crate::thought::Thought;

/// At most this many words of a query are used.
pub const MAX_TERMS: usize = 16;

/// Lower-cased, accent-free words of `text`.
pub fn words(text: &str) -> Vec<String> {
    let folded: String = text.nfd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).collect();
    folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect()
}

/// The distinct words of a query, in order, at most [`MAX_TERMS`]. Safe to
/// embed in FTS5 or tsquery syntax: only letters and digits remain.
pub fn terms(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words(query) {
        if !out.contains(&w) && out.len() < MAX_TERMS {
            out.push(w);
        }
    }
    out
}

/// How many words of `text` each term prefixes, summed; `None` if some term
/// matches nothing.
pub fn match_count(text_words: &[String], terms: &[String]) -> Option<usize> {
    let mut total = 0;
    for term in terms {
        let n = text_words.iter().filter(|w| w.starts_with(term.as_str())).count();
        if n == 0 {
            return None;
        }
        total += n;
    }
    Some(total)
}

/// The searched fields of `thought` in which at least one term occurs.
pub fn matched_fields(thought: &Thought, terms: &[String], fields: &[SearchField]) -> Vec<SearchField> {
    fields
        .iter()
        .copied()
        .filter(|field| {
            let words = match field {
                SearchField::Content => words(&thought.content),
                SearchField::Tags => words(&thought.tags.join(" ")),
            };
            terms.iter().any(|t| words.iter().any(|w| w.starts_with(t.as_str())))
        })
        .collect()
}

/// Turns raw relevances (higher is better, all > 0) into scores in (0, 1],
/// the best hit scoring 1.
pub fn normalise(raw: &[f64]) -> Vec<f64> {
    let best = raw.iter().copied().fold(f64::MIN_POSITIVE, f64::max);
    raw.iter().map(|r| (r / best).clamp(f64::MIN_POSITIVE, 1.0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_is_case_and_accent_insensitive() {
        assert_eq!(words("Café CRÈME, naïve!"), vec!["cafe", "creme", "naive"]);
    }

    #[test]
    fn terms_drop_punctuation_and_duplicates() {
        assert_eq!(terms("\"milk\" OR milk* (eggs)"), vec!["milk", "or", "eggs"]);
    }

    #[test]
    fn every_term_must_prefix_some_word() {
        let w = words("buy oat milk");
        assert_eq!(match_count(&w, &terms("mil buy")), Some(2));
        assert_eq!(match_count(&w, &terms("milk bread")), None);
    }

    #[test]
    fn scores_are_in_unit_interval_with_best_one() {
        let s = normalise(&[2.0, 1.0, 0.5]);
        assert_eq!(s[0], 1.0);
        assert!(s.iter().all(|x| *x > 0.0 && *x <= 1.0));
    }
}
