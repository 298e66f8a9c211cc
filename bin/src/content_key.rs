//! Content keys make an import safe to run again: a line without an `id`
//! gets one derived from who imports it, what it says and how many
//! identical lines came before it in the file. Run twice (after a crash, or
//! by mistake), the same line gets the same id, the store refuses the
//! duplicate, and the import counts the line as already imported instead of
//! creating the record twice. `--new-ids` turns this off.
//!
//! The id is the first 128 bits of a SHA-256 of the user id, the line's
//! JSON in a canonical form (keys sorted, no whitespace) and the occurrence
//! number, shaped as a UUIDv8 (RFC 9562's custom version).

use std::collections::HashMap;

use serde_json::Value;
use sha2::{Digest, Sha256};
use steward::UserId;

#[derive(Debug)]
pub(crate) struct ContentKeys {
    user: UserId,
    seen: HashMap<[u8; 32], u32>,
}

impl ContentKeys {
    pub(crate) fn new(user: UserId) -> ContentKeys {
        ContentKeys { user, seen: HashMap::new() }
    }

    /// The line with an `id` added when it is a task or thought object
    /// without one; `None` leaves the line as it is (it has an id, or it is
    /// not an object at all and the import reports why).
    pub(crate) fn keyed(&mut self, line: &str) -> Option<String> {
        let Ok(Value::Object(mut record)) = serde_json::from_str::<Value>(line) else { return None };
        let kind = record.get("type").and_then(Value::as_str);
        if !matches!(kind, Some("task" | "thought")) || record.get("id").is_some_and(|id| !id.is_null()) {
            return None;
        }
        record.remove("id");
        let canonical = Value::Object(record.clone()).to_string();
        let content: [u8; 32] = Sha256::digest(canonical.as_bytes()).into();
        let occurrence = self.seen.entry(content).and_modify(|n| *n += 1).or_insert(0);
        let mut hash = Sha256::new();
        hash.update(self.user.0.as_bytes());
        hash.update(content);
        hash.update(occurrence.to_be_bytes());
        let digest = hash.finalize();
        record.insert("id".into(), Value::String(uuid_v8(&digest[..16])));
        Some(Value::Object(record).to_string())
    }
}

/// 16 bytes as a hyphenated UUID with version 8 and the RFC 9562 variant.
fn uuid_v8(bytes: &[u8]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&bytes[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = steward::core::hex::encode(&b);
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(n: u8) -> UserId {
        format!("00000000-0000-0000-0000-0000000000{n:02x}").parse().unwrap_or_else(|_| unreachable!())
    }

    fn keys() -> ContentKeys {
        ContentKeys::new(user(7))
    }

    fn id(line: &str) -> Value {
        serde_json::from_str::<Value>(line).map(|v| v["id"].clone()).unwrap_or(Value::Null)
    }

    #[test]
    fn the_same_file_gets_the_same_ids_and_repeated_lines_differ() {
        let lines = [r#"{"type":"task","title":"milk"}"#, r#"{ "title": "milk", "type": "task" }"#];
        let (mut first, mut again) = (keys(), keys());
        let a: Vec<Value> = lines.iter().map(|l| id(&first.keyed(l).unwrap_or_default())).collect();
        let b: Vec<Value> = lines.iter().map(|l| id(&again.keyed(l).unwrap_or_default())).collect();
        assert_eq!(a, b);
        assert_ne!(a[0], a[1], "the second identical line is a second record");
        assert!(a[0].as_str().is_some_and(|s| s.len() == 36 && s.as_bytes()[14] == b'8'), "{a:?}");
    }

    #[test]
    fn lines_with_ids_or_of_no_known_type_are_left_alone() {
        let mut k = keys();
        assert_eq!(k.keyed(r#"{"type":"task","id":"0195f3a2-7c1e-7b3a-9f1d-2c4e5a6b7c8d","title":"x"}"#), None);
        assert_eq!(k.keyed(r#"{"type":"user","email":"x"}"#), None);
        assert_eq!(k.keyed("{not json"), None);
        let other_user = ContentKeys::new(user(8)).keyed(r#"{"type":"task","title":"x"}"#);
        assert_ne!(k.keyed(r#"{"type":"task","title":"x"}"#), other_user);
    }
}
