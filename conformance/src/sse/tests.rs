use proptest::prelude::*;

use super::{Event, Item, Parser, MAX_LINE};

fn parse(text: &str) -> Vec<Item> {
    Parser::default().feed(text.as_bytes())
}

fn event(kind: &str, data: &str, id: Option<&str>, last: &str) -> Item {
    Item::Event(Event {
        event: kind.into(),
        data: data.into(),
        id: id.map(Into::into),
        last_event_id: last.into(),
    })
}

#[test]
fn fields_comments_and_retry_are_read() {
    let items =
        parse("retry: 2000\n: heartbeat\nid: 12\nevent: conflict\ndata: {\"id\":\"c-12\"}\n\n");
    assert_eq!(
        items,
        vec![
            Item::Retry(2000),
            Item::Comment("heartbeat".into()),
            event("conflict", "{\"id\":\"c-12\"}", Some("12"), "12"),
        ]
    );
}

#[test]
fn multi_line_data_is_joined_with_lf() {
    assert_eq!(
        parse("data: one\ndata:two\ndata:  three\n\n"),
        vec![event("message", "one\ntwo\n three", None, "")]
    );
}

#[test]
fn crlf_cr_and_lf_all_end_lines() {
    let expected = vec![event("e", "x", Some("1"), "1")];
    assert_eq!(parse("event: e\r\nid: 1\r\ndata: x\r\n\r\n"), expected);
    assert_eq!(parse("event: e\rid: 1\rdata: x\r\r"), expected);
    assert_eq!(parse("event: e\nid: 1\ndata: x\n\n"), expected);
}

#[test]
fn a_crlf_split_across_chunks_is_one_line_ending() {
    let mut parser = Parser::default();
    assert_eq!(parser.feed(b"data: a\r"), vec![]);
    assert_eq!(parser.feed(b"\n\r"), vec![event("message", "a", None, "")]);
    assert_eq!(
        parser.feed(b"\ndata: b\n\n"),
        vec![event("message", "b", None, "")]
    );
}

#[test]
fn an_event_waits_for_its_empty_line() {
    let mut parser = Parser::default();
    assert_eq!(parser.feed(b"event: conflict\ndata: {}\n"), vec![]);
    assert_eq!(parser.feed(b"\n"), vec![event("conflict", "{}", None, "")]);
}

#[test]
fn the_last_event_id_persists_and_an_empty_id_resets_it() {
    let items = parse("id: 5\ndata: a\n\ndata: b\n\nid\ndata: c\n\n");
    assert_eq!(
        items,
        vec![
            event("message", "a", Some("5"), "5"),
            event("message", "b", None, "5"),
            event("message", "c", Some(""), ""),
        ]
    );
}

#[test]
fn events_without_data_are_not_dispatched_but_their_id_counts() {
    let items = parse("event: ping\nid: 9\n\ndata: x\n\n");
    assert_eq!(items, vec![event("message", "x", None, "9")]);
    assert_eq!(parse("data\n\n"), vec![event("message", "", None, "")]);
}

#[test]
fn malformed_fields_are_ignored() {
    let items = parse("retry: 2s\nretry:\nid: a\0b\nfoo: bar\nevent\ndata: x\n\n");
    assert_eq!(items, vec![event("message", "x", None, "")]);
}

#[test]
fn a_leading_bom_is_dropped_once() {
    assert_eq!(
        parse("\u{feff}: hi\n\u{feff}data: x\n\n"),
        vec![Item::Comment("hi".into())]
    );
}

#[test]
fn comments_keep_their_text() {
    assert_eq!(
        parse(":\n:  two spaces\n"),
        vec![
            Item::Comment(String::new()),
            Item::Comment(" two spaces".into())
        ]
    );
}

#[test]
fn an_endless_line_is_bounded() {
    let mut parser = Parser::default();
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..(MAX_LINE / chunk.len() + 4) {
        assert!(parser.feed(&chunk).is_empty());
    }
    assert!(parser.line.len() <= MAX_LINE);
    assert_eq!(
        parser.feed(b"\ndata: y\n\n"),
        vec![event("message", "y", None, "")]
    );
}

#[test]
fn invalid_utf8_is_replaced_not_fatal() {
    let items = Parser::default().feed(b"data: \xff\xfe\n\n");
    assert_eq!(items, vec![event("message", "\u{fffd}\u{fffd}", None, "")]);
}

proptest! {
    /// However the bytes are split into chunks, the items are the same.
    #[test]
    fn chunking_does_not_change_the_items(
        lines in proptest::collection::vec("(|:|data|id|event|retry)(|: ?)[a-z0-9 ]{0,6}", 0..24),
        endings in proptest::collection::vec(0usize..3, 24),
        cuts in proptest::collection::vec(0usize..200, 0..8),
    ) {
        let mut text = String::new();
        for (line, ending) in lines.iter().zip(&endings) {
            text.push_str(line);
            text.push_str(["\n", "\r\n", "\r"][*ending]);
        }
        let bytes = text.as_bytes();
        let whole = Parser::default().feed(bytes);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
        cuts.sort_unstable();
        let mut parser = Parser::default();
        let mut pieces = Vec::new();
        let mut from = 0;
        for cut in cuts.into_iter().chain([bytes.len()]) {
            pieces.extend(parser.feed(&bytes[from..cut]));
            from = cut;
        }
        prop_assert_eq!(pieces, whole);
    }

    /// Arbitrary bytes never panic and never yield an event without its empty line.
    #[test]
    fn arbitrary_bytes_are_survived(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut parser = Parser::default();
        let items = parser.feed(&bytes);
        let blank_lines = bytes.windows(2).filter(|w| matches!(w, [b'\n', b'\n'] | [b'\r', b'\r'] | [b'\n', b'\r'])).count() + 1;
        let events = items.iter().filter(|i| matches!(i, Item::Event(_))).count();
        prop_assert!(events <= blank_lines);
    }
}
