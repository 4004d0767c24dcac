use std::time::Duration;

use proptest::prelude::*;

use super::*;

fn event(name: &str, data: &str, id: Option<&str>) -> SseItem {
    SseItem::Event(SseEvent {
        event: name.to_owned(),
        data: data.to_owned(),
        id: id.map(str::to_owned),
    })
}

const CAP: usize = 1 << 20;

fn parse(input: &[u8]) -> Vec<SseItem> {
    SseParser::new(CAP).push(input)
}

#[test]
fn fields_make_an_event_at_a_blank_line() {
    let items = parse(b"retry: 2000\n\nid: 12\nevent: conflict\ndata: {\"id\":\"c-12\"}\n\n");
    assert_eq!(
        items,
        [
            SseItem::Retry(Duration::from_millis(2000)),
            event("conflict", "{\"id\":\"c-12\"}", Some("12")),
        ]
    );
}

#[test]
fn data_lines_are_joined_with_newlines_and_the_default_name_is_message() {
    assert_eq!(
        parse(b"data: one\ndata:two\ndata\ndata:  three\n\n"),
        [event("message", "one\ntwo\n\n three", None)]
    );
}

#[test]
fn an_event_without_data_is_not_dispatched_but_its_id_is_kept() {
    let mut parser = SseParser::new(CAP);
    assert!(parser.push(b"id: 7\nevent: conflict\n\n").is_empty());
    assert_eq!(parser.last_event_id(), Some("7"));
    assert_eq!(parser.push(b"data: x\n\n"), [event("message", "x", None)]);
    assert_eq!(parser.last_event_id(), Some("7"), "kept across events");
}

#[test]
fn an_empty_data_field_still_makes_an_event() {
    assert_eq!(parse(b"data:\n\n"), [event("message", "", None)]);
}

#[test]
fn comments_are_reported_and_change_nothing() {
    assert_eq!(
        parse(b": heartbeat\n:\ndata: x\n\n"),
        [
            SseItem::Comment("heartbeat".into()),
            SseItem::Comment(String::new()),
            event("message", "x", None),
        ]
    );
}

#[test]
fn crlf_and_cr_line_ends_work_like_lf() {
    let want = [event("a", "1", Some("1")), event("b", "2", None)];
    assert_eq!(
        parse(b"id: 1\r\nevent: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\r"),
        want
    );
}

#[test]
fn a_crlf_split_between_chunks_is_one_line_end() {
    let mut parser = SseParser::new(CAP);
    assert!(parser.push(b"data: x\r").is_empty());
    assert!(parser.push(b"\n").is_empty(), "the LF ends the same line");
    assert_eq!(parser.push(b"\r\n"), [event("message", "x", None)]);
}

#[test]
fn a_leading_byte_order_mark_is_skipped_once() {
    assert_eq!(
        parse(b"\xEF\xBB\xBFdata: x\n\n"),
        [event("message", "x", None)]
    );
    // Only at the start: later, the mark is part of the field name (an unknown field).
    assert!(parse(b"\n\xEF\xBB\xBFdata: x\n\n").is_empty());
}

#[test]
fn a_multibyte_character_split_between_chunks_survives() {
    let text = "data: caf\u{e9} \u{1f600}\n\n".as_bytes();
    let mut parser = SseParser::new(CAP);
    let mut items = Vec::new();
    for byte in text {
        items.extend(parser.push(std::slice::from_ref(byte)));
    }
    assert_eq!(items, [event("message", "caf\u{e9} \u{1f600}", None)]);
}

#[test]
fn malformed_fields_are_ignored() {
    let items = parse(b"retry: 2s\nretry:\nretry: -1\nid: a\0b\nbogus: 1\nevent\ndata: x\n\n");
    assert_eq!(items, [event("message", "x", None)]);
    assert_eq!(parse(b"retry: 99999999999999999999999\n").len(), 1);
}

#[test]
fn an_unfinished_event_is_not_dispatched() {
    let mut parser = SseParser::new(CAP);
    assert!(parser.push(b"data: half").is_empty());
    assert!(parser.push(b"\ndata: more\n").is_empty());
    assert_eq!(parser.push(b"\n"), [event("message", "half\nmore", None)]);
}

#[test]
fn invalid_utf8_is_replaced_not_fatal() {
    assert_eq!(
        parse(b"data: \xFF\n\n"),
        [event("message", "\u{fffd}", None)]
    );
}

#[test]
fn an_endless_line_costs_at_most_the_cap_and_is_reported_once() {
    let mut parser = SseParser::new(4096);
    let mut items = parser.push(b"data: ");
    for _ in 0..1000 {
        items.extend(parser.push(&[b'x'; 1024]));
        assert!(
            parser.line.len() <= 4096,
            "held {} bytes",
            parser.line.len()
        );
    }
    assert_eq!(items, [SseItem::TooLarge(4096)]);
    // The stream recovers with the next event.
    assert_eq!(
        parser.push(b"\n\nevent: conflict\ndata: ok\n\n"),
        [event("conflict", "ok", None)]
    );
}

#[test]
fn an_event_of_many_data_lines_past_the_cap_is_dropped_whole() {
    let mut input = Vec::new();
    for _ in 0..5 {
        input.extend_from_slice(b"data: 01234567890123456789\n");
    }
    input.extend_from_slice(b"data: tail\n\ndata: next\n\n");
    // No truncated tail of the dropped event is dispatched as if it were whole.
    assert_eq!(
        SseParser::new(64).push(&input),
        [SseItem::TooLarge(64), event("message", "next", None)]
    );
}

proptest! {
    /// With a small cap, however the bytes are cut, the same items come out.
    #[test]
    fn chunking_never_changes_what_the_cap_drops(cuts in proptest::collection::vec(0usize..200, 0..8)) {
        let input: &[u8] = b"data: short\r\n\r\ndata: 0123456789012345678901234567890123456789\rdata: x\r\rid: 3\ndata: fits\n\n";
        let whole = SseParser::new(24).push(input);
        prop_assert_eq!(&whole, &vec![
            event("message", "short", None),
            SseItem::TooLarge(24),
            event("message", "fits", Some("3")),
        ]);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(input.len())).collect();
        cuts.sort_unstable();
        let mut parser = SseParser::new(24);
        let mut items = Vec::new();
        let mut from = 0;
        for cut in cuts.into_iter().chain([input.len()]) {
            items.extend(parser.push(&input[from..cut]));
            from = cut;
        }
        prop_assert_eq!(items, whole);
    }

    /// However the bytes are cut into chunks, the same items come out.
    #[test]
    fn chunking_never_changes_the_result(cuts in proptest::collection::vec(0usize..120, 0..8)) {
        let input: &[u8] = b"\xEF\xBB\xBFretry: 10\r\n: hb\r\nid: 1\r\nevent: conflict\r\ndata: {\"a\":\"\xC3\xA9\"}\r\n\r\nid: 2\rdata: x\rdata: y\r\rdata: z\n\n";
        let whole = parse(input);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(input.len())).collect();
        cuts.sort_unstable();
        let mut parser = SseParser::new(CAP);
        let mut items = Vec::new();
        let mut from = 0;
        for cut in cuts.into_iter().chain([input.len()]) {
            items.extend(parser.push(&input[from..cut]));
            from = cut;
        }
        prop_assert_eq!(items, whole);
    }

    /// Arbitrary bytes never panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse(&bytes);
    }
}
