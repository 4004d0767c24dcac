//! A Server-Sent Events parser (the WHATWG HTML "event stream interpretation"),
//! sans I/O: feed it the bytes of a `text/event-stream` body in chunks of any
//! size and it yields the events, comments and `retry` fields they contain.
//!
//! Lines end with CRLF, LF or CR (a CR at the end of one chunk and an LF at the
//! start of the next are one line ending). A line starting with `:` is a
//! comment; an empty line dispatches the event gathered so far; `data` lines are
//! joined with LF; `id` persists from event to event (the "last event ID"); an
//! `id` containing NUL and a `retry` that is not all digits are ignored. Lines and
//! data are bounded, so a server streaming one endless line cannot exhaust memory.
//!
//! ```
//! use ifmatch_conformance::sse::{Item, Parser};
//!
//! let mut parser = Parser::default();
//! let items = parser.feed(b"retry: 2000\n: heartbeat\nid: 7\nevent: conflict\ndata: {\"a\":\r\ndata: 1}\n\n");
//! assert_eq!(items[0], Item::Retry(2000));
//! assert_eq!(items[1], Item::Comment("heartbeat".into()));
//! let Item::Event(event) = &items[2] else { panic!() };
//! assert_eq!((event.event.as_str(), event.data.as_str()), ("conflict", "{\"a\":\n1}"));
//! assert_eq!(event.id.as_deref(), Some("7"));
//! ```

/// Longest line kept, in bytes; the rest of a longer line is dropped.
pub const MAX_LINE: usize = 1 << 20;
/// Most data one event keeps, in bytes; further `data` lines are dropped.
pub const MAX_DATA: usize = 4 << 20;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event type: the last `event` field, or `message` without one.
    pub event: String,
    /// The `data` lines joined with LF.
    pub data: String,
    /// The `id` field of this event's own lines, if it had one.
    pub id: Option<String>,
    /// The last event ID in force when it was dispatched (an `id` persists until
    /// the next one): what a client sends back as `Last-Event-ID`.
    pub last_event_id: String,
}

/// What the parser found in the stream, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An event, dispatched by an empty line.
    Event(Event),
    /// A comment line (`: text`), without the colon and one leading space.
    Comment(String),
    /// A valid `retry` field: the reconnection time in milliseconds.
    Retry(u64),
}

/// The parser's state between chunks.
#[derive(Debug, Default)]
pub struct Parser {
    line: Vec<u8>,
    line_overflowed: bool,
    after_cr: bool,
    started: bool,
    event: String,
    data: String,
    data_lines: usize,
    id: Option<String>,
    last_event_id: String,
}

impl Parser {
    /// Parses `chunk` and returns the items it completes. An event whose empty
    /// line has not arrived yet waits for a later chunk.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Item> {
        let mut items = Vec::new();
        for &byte in chunk {
            if self.after_cr {
                self.after_cr = false;
                if byte == b'\n' {
                    continue;
                }
            }
            match byte {
                b'\r' | b'\n' => {
                    self.after_cr = byte == b'\r';
                    self.end_line(&mut items);
                }
                _ if self.line.len() < MAX_LINE => self.line.push(byte),
                _ => self.line_overflowed = true,
            }
        }
        items
    }

    fn end_line(&mut self, items: &mut Vec<Item>) {
        let raw = std::mem::take(&mut self.line);
        self.line_overflowed = false;
        let mut line = String::from_utf8_lossy(&raw).into_owned();
        if !self.started {
            self.started = true;
            if let Some(rest) = line.strip_prefix('\u{feff}') {
                line = rest.to_owned();
            }
        }
        if line.is_empty() {
            self.dispatch(items);
            return;
        }
        if let Some(comment) = line.strip_prefix(':') {
            let text = comment.strip_prefix(' ').unwrap_or(comment);
            items.push(Item::Comment(text.to_owned()));
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_str(), ""),
        };
        match field {
            "event" => value.clone_into(&mut self.event),
            "data" if self.data.len() + value.len() < MAX_DATA => {
                self.data.push_str(value);
                self.data.push('\n');
                self.data_lines += 1;
            }
            "id" if !value.contains('\0') => {
                value.clone_into(&mut self.last_event_id);
                self.id = Some(value.to_owned());
            }
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(ms) = value.parse() {
                    items.push(Item::Retry(ms));
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, items: &mut Vec<Item>) {
        let event = std::mem::take(&mut self.event);
        let id = self.id.take();
        if self.data_lines == 0 {
            // An event without data is not dispatched (the `id` still counts).
            return;
        }
        self.data_lines = 0;
        let mut data = std::mem::take(&mut self.data);
        data.pop();
        items.push(Item::Event(Event {
            event: if event.is_empty() {
                "message".into()
            } else {
                event
            },
            data,
            id,
            last_event_id: self.last_event_id.clone(),
        }));
    }
}

#[cfg(test)]
mod tests;
