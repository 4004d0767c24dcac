//! A sans-IO parser for Server-Sent Events (`text/event-stream`, WHATWG HTML §9.2.6): bytes in,
//! events out, no I/O and no clock. The conflict stream feeds it whatever chunks the transport
//! delivers; it copes with any split (a line, a CRLF or a UTF-8 sequence cut in two).
//!
//! What it keeps from the standard: the fields `event`, `data` (several lines joined with `\n`),
//! `id` (ignored when it contains NUL) and `retry` (digits only); comment lines (`:`); LF, CRLF
//! and CR line ends; one leading byte order mark; an event is dispatched at a blank line and
//! only when it has data; an unfinished event at the end of the stream is dropped.
//!
//! What it adds: a cap on the bytes it holds for one event (the line being read plus the data
//! collected so far). An event that grows past it is dropped and reported once
//! ([`SseItem::TooLarge`]); the rest of it is skipped as it arrives, up to the blank line that
//! ends it (so no truncated event is ever dispatched), so a server sending one endless line
//! costs at most the cap, and parsing resumes with the next event.

use std::time::Duration;

#[cfg(test)]
mod tests;

/// One dispatched event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event` field; `message` when the event had none.
    pub event: String,
    /// The `data` lines joined with `\n`.
    pub data: String,
    /// The `id` field of this event, when it had one (the stream's last id is
    /// [`SseParser::last_event_id`]).
    pub id: Option<String>,
}

/// What a chunk produced, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SseItem {
    /// A complete event.
    Event(SseEvent),
    /// The server's reconnection time (`retry:`).
    Retry(Duration),
    /// A comment line (e.g. a heartbeat); its text without the colon.
    Comment(String),
    /// An event grew past the parser's cap (the value) and was dropped.
    TooLarge(usize),
}

/// The parser's state between chunks.
#[derive(Debug)]
pub(crate) struct SseParser {
    /// The most bytes held for one event (line being read plus data so far).
    max_event_bytes: usize,
    /// Set while the rest of a dropped event (one that grew past the cap) is skipped, up to
    /// the blank line that ends it; `Some(true)` when bytes of the current line were skipped
    /// (so its end is not a blank line).
    skipping: Option<bool>,
    /// The bytes of a line not yet ended.
    line: Vec<u8>,
    /// The previous chunk ended with CR: a LF starting this one belongs to it.
    after_cr: bool,
    /// A line has been read (the byte order mark is only skipped before the first).
    started: bool,
    event: String,
    data: String,
    has_data: bool,
    id: Option<String>,
    last_event_id: Option<String>,
}

impl SseParser {
    /// A parser at the start of a stream that holds at most `max_event_bytes` for one event.
    pub(crate) fn new(max_event_bytes: usize) -> Self {
        Self {
            max_event_bytes,
            skipping: None,
            line: Vec::new(),
            after_cr: false,
            started: false,
            event: String::new(),
            data: String::new(),
            has_data: false,
            id: None,
            last_event_id: None,
        }
    }

    /// Whether `more` bytes would take the event being read past the cap.
    fn over(&self, more: usize) -> bool {
        self.line.len() + self.data.len() + more > self.max_event_bytes
    }

    /// Drops the event being read and reports it.
    fn overflow(&mut self, out: &mut Vec<SseItem>) {
        self.line = Vec::new();
        self.data = String::new();
        self.has_data = false;
        self.event.clear();
        self.id = None;
        out.push(SseItem::TooLarge(self.max_event_bytes));
    }

    /// The id of the last event seen (or an `id` field since), as `Last-Event-ID` would send it.
    /// (The subscription sends the last sequence number it delivered instead: the same for a
    /// server whose ids are its sequence numbers, and it survives a new parser per connection.)
    #[cfg(test)]
    pub(crate) fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    /// Feeds one chunk; returns what it completed.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Vec<SseItem> {
        let mut out = Vec::new();
        let mut rest = chunk;
        if rest.is_empty() {
            // An empty chunk must not forget that a CR may still be followed by its LF.
            return out;
        }
        if std::mem::take(&mut self.after_cr) && rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
        while let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            if let Some(skipped) = self.skipping {
                // Skipping a dropped event: a blank line ends it.
                self.skipping = (skipped || end > 0).then_some(false);
            } else if self.over(end) {
                self.overflow(&mut out);
                self.skipping = Some(false);
            } else {
                self.line.extend_from_slice(&rest[..end]);
                let line = std::mem::take(&mut self.line);
                self.process(&line, &mut out);
            }
            let crlf = rest[end] == b'\r' && rest.get(end + 1) == Some(&b'\n');
            if rest[end] == b'\r' && end + 1 == rest.len() {
                self.after_cr = true;
            }
            rest = &rest[end + if crlf { 2 } else { 1 }..];
        }
        if rest.is_empty() {
            return out;
        }
        if self.skipping.is_some() {
            self.skipping = Some(true);
        } else if self.over(rest.len()) {
            self.overflow(&mut out);
            self.skipping = Some(true);
        } else {
            self.line.extend_from_slice(rest);
        }
        out
    }

    fn process(&mut self, raw: &[u8], out: &mut Vec<SseItem>) {
        let text = String::from_utf8_lossy(raw);
        let mut line: &str = &text;
        if !std::mem::replace(&mut self.started, true) {
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if let Some(comment) = line.strip_prefix(':') {
            out.push(SseItem::Comment(
                comment.strip_prefix(' ').unwrap_or(comment).to_owned(),
            ));
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => value.clone_into(&mut self.event),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => {
                self.id = Some(value.to_owned());
                self.last_event_id = Some(value.to_owned());
            }
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                // More digits than a u64 holds is still "a very long time".
                let millis = value.parse().unwrap_or(u64::MAX);
                out.push(SseItem::Retry(Duration::from_millis(millis)));
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseItem>) {
        let event = std::mem::take(&mut self.event);
        let id = self.id.take();
        if !std::mem::take(&mut self.has_data) {
            return;
        }
        out.push(SseItem::Event(SseEvent {
            event: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            data: std::mem::take(&mut self.data),
            id,
        }));
    }
}
