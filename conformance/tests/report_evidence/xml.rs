//! A small well-formedness check for the JUnit report: balanced, properly nested
//! elements, quoted attributes, and no raw `<` or stray `&` in text or values.
//! Enough to catch a broken writer without an XML dependency.

use std::collections::HashMap;

/// What the check saw.
pub struct Shape {
    /// Attributes of the first element of each name.
    first: HashMap<String, HashMap<String, String>>,
    /// How many elements of each name.
    counts: HashMap<String, usize>,
    /// How many `<testcase>` elements.
    pub testcases: usize,
}

impl Shape {
    /// Attribute `name` of the first `element` (panics when absent).
    pub fn attr(&self, element: &str, name: &str) -> &str {
        self.first
            .get(element)
            .and_then(|a| a.get(name))
            .unwrap_or_else(|| panic!("<{element}> has no {name} attribute"))
    }

    /// How many `element`s the document has.
    pub fn count(&self, element: &str) -> usize {
        self.counts.get(element).copied().unwrap_or(0)
    }
}

fn check_text(text: &str) -> Result<(), String> {
    if text.contains('<') {
        return Err(format!("raw '<' in {text:?}"));
    }
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        rest = &rest[at + 1..];
        let entity = ["amp;", "lt;", "gt;", "quot;", "apos;"]
            .iter()
            .any(|e| rest.starts_with(e));
        if !entity {
            return Err(format!("stray '&' in {text:?}"));
        }
    }
    Ok(())
}

/// Checks `doc` and returns its shape, or what is wrong with it.
pub fn check(doc: &str) -> Result<Shape, String> {
    let mut rest = doc
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .ok_or("no XML declaration")?;
    let mut open: Vec<String> = Vec::new();
    let mut shape = Shape {
        first: HashMap::new(),
        counts: HashMap::new(),
        testcases: 0,
    };
    let mut seen_root = false;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        if open.is_empty() && !text.trim().is_empty() {
            return Err(format!("text outside the root: {text:?}"));
        }
        check_text(text)?;
        let gt = rest[lt..].find('>').ok_or("unclosed tag")? + lt;
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let top = open.pop().ok_or(format!("</{name}> closes nothing"))?;
            if top != name {
                return Err(format!("</{name}> closes <{top}>"));
            }
            continue;
        }
        let (body, empty) = match tag.strip_suffix('/') {
            Some(b) => (b, true),
            None => (tag, false),
        };
        let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
        let name = &body[..name_end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("bad element name in <{tag}>"));
        }
        if open.is_empty() && seen_root {
            return Err(format!("second root element <{name}>"));
        }
        seen_root = true;
        let attrs = attributes(&body[name_end..])?;
        *shape.counts.entry(name.to_owned()).or_default() += 1;
        if name == "testcase" {
            shape.testcases += 1;
        }
        shape.first.entry(name.to_owned()).or_insert(attrs);
        if !empty {
            open.push(name.to_owned());
        }
    }
    if !open.is_empty() {
        return Err(format!("unclosed elements {open:?}"));
    }
    if !rest.trim().is_empty() {
        return Err("text after the root".into());
    }
    Ok(shape)
}

fn attributes(mut s: &str) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Ok(out);
        }
        let eq = s
            .find("=\"")
            .ok_or(format!("unquoted attribute in {s:?}"))?;
        let name = &s[..eq];
        let value_end = s[eq + 2..].find('"').ok_or("unterminated value")? + eq + 2;
        let value = &s[eq + 2..value_end];
        check_text(value)?;
        if out.insert(name.to_owned(), value.to_owned()).is_some() {
            return Err(format!("attribute {name} twice"));
        }
        s = &s[value_end + 1..];
    }
}

#[test]
fn the_checker_rejects_broken_documents() {
    let ok = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a x=\"1\"><b/>t &amp; u</a>\n";
    assert_eq!(check(ok).unwrap().attr("a", "x"), "1");
    for bad in [
        "<a></a>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a><b></a></b>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>x & y</a>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a x=1></a>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a></a><a></a>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>",
    ] {
        assert!(check(bad).is_err(), "accepted {bad:?}");
    }
}
