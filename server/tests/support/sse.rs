//! A raw Server-Sent Events reader: reqwest's streamed body, parsed here by hand.

use std::time::Duration;

use reqwest::Response;
use serde_json::Value;

/// Upper bound for one event to arrive; a server that stops sending fails the test.
const EVENT_BOUND: Duration = Duration::from_secs(20);

/// One block of the stream (fields up to a blank line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Block {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: Option<String>,
    pub retry: Option<String>,
    pub comments: Vec<String>,
}

impl Block {
    /// The data as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.data.as_deref().expect("event has data")).expect("JSON data")
    }

    /// The id as a number.
    pub fn seq(&self) -> u64 {
        self.id
            .as_deref()
            .expect("event has an id")
            .parse()
            .expect("numeric id")
    }
}

/// An open stream.
pub struct Stream {
    response: Response,
    buffer: String,
}

impl Stream {
    /// Wraps a 200 `text/event-stream` answer.
    pub fn new(response: Response) -> Self {
        assert_eq!(response.status(), 200, "stream status");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next block; `None` when the server ended the stream.
    pub async fn block(&mut self) -> Option<Block> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let text: String = self.buffer.drain(..end + 2).collect();
                return Some(parse(&text));
            }
            let chunk = tokio::time::timeout(EVENT_BOUND, self.response.chunk())
                .await
                .expect("the stream stalled")
                .expect("the stream failed")?;
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8 stream"));
        }
    }

    /// The next event with a name (skipping `retry` and heartbeat comments).
    pub async fn event(&mut self) -> Block {
        loop {
            let block = self.block().await.expect("the stream ended early");
            if block.event.is_some() {
                return block;
            }
        }
    }

    /// The next `n` named events.
    pub async fn events(&mut self, n: usize) -> Vec<Block> {
        let mut events = Vec::with_capacity(n);
        for _ in 0..n {
            events.push(self.event().await);
        }
        events
    }
}

fn parse(text: &str) -> Block {
    let mut block = Block::default();
    for line in text.lines().filter(|line| !line.is_empty()) {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
        match name {
            "" => block.comments.push(value),
            "id" => block.id = Some(value),
            "event" => block.event = Some(value),
            "retry" => block.retry = Some(value),
            "data" => {
                block.data = Some(match block.data.take() {
                    Some(earlier) => format!("{earlier}\n{value}"),
                    None => value,
                })
            }
            other => panic!("unknown SSE field {other:?} in {text:?}"),
        }
    }
    block
}
