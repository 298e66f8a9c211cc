//! A decoder for server-sent events (`text/event-stream`), the framing both
//! providers stream in. It owns only the framing — lines, `event:` and
//! `data:` fields, blank-line dispatch — and accepts bytes split anywhere,
//! mid-line or mid-character. What an event means is each provider's business.

use steward_core::agent::model::ModelError;

/// One dispatched event: its `event:` name, if any, and its `data:` lines
/// joined with `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    pub(crate) event: Option<String>,
    pub(crate) data: String,
}

/// Turns a byte stream into events as whole lines arrive.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    pending: Vec<u8>,
    /// How much of `pending` is known to hold no newline.
    scanned: usize,
    event: Option<String>,
    data: Option<String>,
}

/// The longest line or event accepted: far past any real answer's piece,
/// short of letting a broken server exhaust memory.
const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

impl SseDecoder {
    /// Feeds the next chunk; returns the events it completed, in order.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, ModelError> {
        self.pending.extend_from_slice(chunk);
        let mut events = Vec::new();
        while let Some(offset) = self.pending[self.scanned..].iter().position(|b| *b == b'\n') {
            let end = self.scanned + offset;
            self.scanned = 0;
            let mut line: Vec<u8> = self.pending.drain(..=end).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8(line)
                .map_err(|_| ModelError::Malformed("the event stream is not valid UTF-8".into()))?;
            if let Some(event) = self.line(&line) {
                events.push(event);
            }
        }
        self.scanned = self.pending.len();
        let buffered = self.pending.len() + self.data.as_ref().map_or(0, String::len);
        if buffered > MAX_EVENT_BYTES {
            return Err(ModelError::Malformed("an event in the answer stream is too long".into()));
        }
        Ok(events)
    }

    /// The stream ended: dispatches an event the server did not close with
    /// a blank line.
    pub(crate) fn finish(&mut self) -> Result<Option<SseEvent>, ModelError> {
        if !self.pending.is_empty() {
            self.scanned = 0;
            let rest = std::mem::take(&mut self.pending);
            let line = String::from_utf8(rest)
                .map_err(|_| ModelError::Malformed("the event stream is not valid UTF-8".into()))?;
            let line = line.trim_end_matches('\r');
            if let Some(event) = self.line(line) {
                return Ok(Some(event));
            }
        }
        Ok(self.dispatch())
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        let data = self.data.take()?;
        Some(SseEvent { event, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent { event: event.map(str::to_owned), data: data.to_owned() }
    }

    #[test]
    fn events_split_at_every_byte_decode_the_same() {
        let stream =
            "event: a\ndata: {\"x\":\"h\u{e9}llo\"}\n\n: a comment\r\ndata: one\r\ndata: two\r\n\r\ndata: [DONE]\n\n";
        let want = vec![ev(Some("a"), "{\"x\":\"h\u{e9}llo\"}"), ev(None, "one\ntwo"), ev(None, "[DONE]")];

        let mut whole = SseDecoder::default();
        assert_eq!(whole.push(stream.as_bytes()).unwrap(), want);

        let mut bytewise = SseDecoder::default();
        let mut got = Vec::new();
        for b in stream.as_bytes() {
            got.extend(bytewise.push(std::slice::from_ref(b)).unwrap());
        }
        assert_eq!(got, want);
        assert_eq!(bytewise.finish().unwrap(), None);
    }

    #[test]
    fn an_unterminated_last_event_is_dispatched_at_the_end() {
        let mut d = SseDecoder::default();
        assert!(d.push(b"event: done\ndata: 1").unwrap().is_empty());
        assert_eq!(d.finish().unwrap(), Some(ev(Some("done"), "1")));
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut d = SseDecoder::default();
        let piece = vec![b'x'; 1024 * 1024];
        let mut result = Ok(Vec::new());
        for _ in 0..=16 {
            result = d.push(&piece);
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(result, Err(ModelError::Malformed(_))), "{result:?}");
    }

    #[test]
    fn an_event_without_data_is_not_dispatched() {
        let mut d = SseDecoder::default();
        assert!(d.push(b"event: ping\n\n").unwrap().is_empty());
        assert_eq!(d.push(b"data: x\n\n").unwrap(), vec![ev(None, "x")]);
    }

    proptest::proptest! {
        #[test]
        fn any_split_of_a_stream_decodes_to_the_same_events(
            datas in proptest::collection::vec("[a-z0-9 {}\":,\u{e9}\u{1f600}]{0,40}", 0..6),
            cuts in proptest::collection::vec(0usize..400, 0..8),
            crlf in proptest::bool::ANY,
        ) {
            let nl = if crlf { "\r\n" } else { "\n" };
            let mut stream = String::new();
            for (i, data) in datas.iter().enumerate() {
                stream.push_str(&format!("event: e{i}{nl}data: {data}{nl}{nl}"));
            }
            let want: Vec<SseEvent> =
                datas.iter().enumerate().map(|(i, d)| ev(Some(&format!("e{i}")), d)).collect();

            let bytes = stream.as_bytes();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut decoder = SseDecoder::default();
            let mut got = Vec::new();
            let mut from = 0;
            for cut in cuts.into_iter().chain([bytes.len()]) {
                got.extend(decoder.push(&bytes[from..cut]).unwrap());
                from = cut;
            }
            proptest::prop_assert_eq!(decoder.finish().unwrap(), None);
            proptest::prop_assert_eq!(got, want);
        }

        #[test]
        fn arbitrary_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..64), 0..8)) {
            let mut decoder = SseDecoder::default();
            for chunk in &chunks {
                if decoder.push(chunk).is_err() {
                    return Ok(());
                }
            }
            let _ = decoder.finish();
        }
    }
}
