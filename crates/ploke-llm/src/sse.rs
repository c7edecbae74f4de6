//! A server-sent events decoder (the WHATWG `text/event-stream` format), fed bytes in
//! whatever pieces the network delivers: lines may be split anywhere, even inside a UTF-8
//! character, and may end in `\n`, `\r\n` or `\r`.

/// One dispatched event: its `event:` name (empty when none) and its `data:` lines joined
/// with `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    pub event: String,
    pub data: String,
}

#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    /// Bytes not yet ending in a line break.
    pending: Vec<u8>,
    /// The previous chunk ended in `\r`: a `\n` at the start of the next one belongs to it.
    after_cr: bool,
    event: String,
    data: String,
    has_data: bool,
}

impl SseDecoder {
    /// Decodes `bytes`, appending every event they complete to `out`.
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<SseEvent>) {
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
        }
        while let Some(pos) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            let line_end = bytes[pos];
            let mut line = std::mem::take(&mut self.pending);
            line.extend_from_slice(&bytes[..pos]);
            bytes = &bytes[pos + 1..];
            if line_end == b'\r' {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            self.line(&line, out);
        }
        self.pending.extend_from_slice(bytes);
    }

    /// The stream ended: dispatches an event that lacked its closing blank line (lenient: the
    /// standard drops it, but servers that end without one mean it).
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
        let line = std::mem::take(&mut self.pending);
        if !line.is_empty() {
            self.line(&line, out);
        }
        self.dispatch(out);
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return; // A comment (keep-alive).
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            _ => {} // `id`, `retry` and unknown fields mean nothing to a one-shot request.
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = std::mem::take(&mut self.event);
        if std::mem::take(&mut self.has_data) {
            out.push(SseEvent {
                event,
                data: std::mem::take(&mut self.data),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(stream: &[u8], piece: usize) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::default();
        let mut out = Vec::new();
        for chunk in stream.chunks(piece) {
            decoder.push(chunk, &mut out);
        }
        decoder.finish(&mut out);
        out
    }

    #[test]
    fn events_survive_any_split() {
        let stream = "event: a\r\ndata: héllo\r\n\r\n: keep-alive\n\ndata: one\ndata:two\r\rdata: {\"x\":1}\n\n"
            .as_bytes();
        let expected = vec![
            SseEvent {
                event: "a".into(),
                data: "héllo".into(),
            },
            SseEvent {
                event: String::new(),
                data: "one\ntwo".into(),
            },
            SseEvent {
                event: String::new(),
                data: "{\"x\":1}".into(),
            },
        ];
        for piece in 1..=stream.len() {
            assert_eq!(
                decode_in_pieces(stream, piece),
                expected,
                "pieces of {piece} bytes"
            );
        }
    }

    #[test]
    fn a_last_event_without_blank_line_is_kept() {
        assert_eq!(
            decode_in_pieces(b"data: [DONE]", 4),
            vec![SseEvent {
                event: String::new(),
                data: "[DONE]".into()
            }]
        );
    }

    #[test]
    fn an_event_without_data_is_not_dispatched() {
        assert!(decode_in_pieces(b"event: ping\n\n", 3).is_empty());
    }
}
