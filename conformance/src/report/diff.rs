//! What a write sent against what the server stored: a member-by-member JSON
//! diff, so a report can say "you sent `title: "a"`, it kept `"b"`".
//!
//! Pure: two JSON values in, a list of [`DiffEntry`] out. Objects are compared
//! member by member (recursively); arrays and scalars are compared whole, as the
//! contract's "stored the body sent" does. Members only the stored side has are
//! listed as [`Change::Added`]: servers may add `id`, timestamps and the like.

use serde::Serialize;
use serde_json::Value;

/// How one member compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Sent and stored with the same value.
    Same,
    /// Sent with one value, stored with another.
    Changed,
    /// Sent, but the stored document does not have it.
    Missing,
    /// Not sent; the stored document has it (allowed: servers add members).
    Added,
    /// A merge patch sent `null` to remove it, and the stored document still has it.
    NotRemoved,
    /// It differs, but the target description says not to compare it (`[body]
    /// ignore`, or the member that carries the version).
    Ignored,
}

impl Change {
    /// How reports describe the change.
    pub fn describe(self) -> &'static str {
        match self {
            Change::Same => "same",
            Change::Changed => "changed",
            Change::Missing => "sent but missing",
            Change::Added => "added by the server (allowed)",
            Change::NotRemoved => "set to null in the patch but not removed",
            Change::Ignored => "differs, not compared ([body] ignore or the version member)",
        }
    }
}

/// One member of the comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffEntry {
    /// JSON pointer of the member (`""` for the whole document).
    pub pointer: String,
    /// How it compares.
    pub change: Change,
    /// The value sent, when one was.
    pub sent: Option<Value>,
    /// The value stored, when there is one.
    pub stored: Option<Value>,
}

/// Whether the body sent replaces the document or is a JSON merge patch
/// (RFC 7396: `null` removes, members not named are left as they were).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `PUT`/`POST`: the stored document should hold every member sent.
    Replace,
    /// `PATCH` with `application/merge-patch+json`.
    MergePatch,
}

/// Compares the body a write sent with the document read back afterwards.
/// Entries come in the order of the sent document, then members only stored.
/// In [`Mode::MergePatch`], members the patch did not name are not listed
/// (they were there before the patch, not added by the server).
///
/// ```
/// use ifmatch_conformance::report::diff::{diff, Change, Mode};
/// use serde_json::json;
/// let entries = diff(&json!({"a": 1, "b": 2}), &json!({"a": 1, "b": 3, "id": 7}), Mode::Replace);
/// let changes: Vec<_> = entries.iter().map(|e| (e.pointer.as_str(), e.change)).collect();
/// assert_eq!(changes, [("/a", Change::Same), ("/b", Change::Changed), ("/id", Change::Added)]);
/// ```
pub fn diff(sent: &Value, stored: &Value, mode: Mode) -> Vec<DiffEntry> {
    let mut out = Vec::new();
    walk("", sent, stored, mode, &mut out);
    out
}

/// Whether any entry shows a member sent but not stored as sent.
pub fn has_differences(entries: &[DiffEntry]) -> bool {
    entries
        .iter()
        .any(|e| !matches!(e.change, Change::Same | Change::Added | Change::Ignored))
}

/// Marks the differences at or below any of `pointers` (the target's `[body]
/// ignore` members and its version member) as [`Change::Ignored`]: the suite does
/// not compare them, and a reader should not chase them.
pub fn mark_ignored(entries: &mut [DiffEntry], pointers: &[String]) {
    let covered = |at: &str| {
        pointers.iter().any(|p| {
            at == p
                || at
                    .strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    };
    for e in entries {
        if matches!(
            e.change,
            Change::Changed | Change::Missing | Change::NotRemoved
        ) && covered(&e.pointer)
        {
            e.change = Change::Ignored;
        }
    }
}

/// The diff of a write's body against a re-read's, when both are JSON.
pub fn diff_bodies(sent: &str, content_type: Option<&str>, stored: &str) -> Option<Vec<DiffEntry>> {
    let sent: Value = serde_json::from_str(sent).ok()?;
    let stored: Value = serde_json::from_str(stored).ok()?;
    let merge = content_type.is_some_and(|t| {
        t.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("application/merge-patch+json")
    });
    Some(diff(
        &sent,
        &stored,
        if merge {
            Mode::MergePatch
        } else {
            Mode::Replace
        },
    ))
}

/// The diff as lines for a text report: one line per member not stored as sent
/// or added by the server, then one line naming the members stored as sent.
pub fn lines(entries: &[DiffEntry]) -> Vec<String> {
    let show = |v: &Option<Value>| v.as_ref().map_or("(none)".to_owned(), Value::to_string);
    let at = |e: &DiffEntry| {
        if e.pointer.is_empty() {
            "(document)".to_owned()
        } else {
            e.pointer.clone()
        }
    };
    let mut out: Vec<String> = entries
        .iter()
        .filter_map(|e| match e.change {
            Change::Same => None,
            Change::Changed => Some(format!(
                "{}: sent {}, stored {}",
                at(e),
                show(&e.sent),
                show(&e.stored)
            )),
            Change::NotRemoved => Some(format!(
                "{}: sent null to remove it, still stored {}",
                at(e),
                show(&e.stored)
            )),
            Change::Missing => Some(format!("{}: sent {}, not stored", at(e), show(&e.sent))),
            Change::Added => Some(format!(
                "{}: {}, added by the server (allowed)",
                at(e),
                show(&e.stored)
            )),
            Change::Ignored => Some(format!(
                "{}: sent {}, stored {}, not compared ([body] ignore or the version member)",
                at(e),
                show(&e.sent),
                show(&e.stored)
            )),
        })
        .collect();
    let same: Vec<String> = entries
        .iter()
        .filter(|e| e.change == Change::Same)
        .map(at)
        .collect();
    if !same.is_empty() {
        out.push(format!("stored as sent: {}", same.join(", ")));
    }
    out
}

fn walk(pointer: &str, sent: &Value, stored: &Value, mode: Mode, out: &mut Vec<DiffEntry>) {
    let (Value::Object(sent_members), Value::Object(stored_members)) = (sent, stored) else {
        let change = if sent == stored {
            Change::Same
        } else {
            Change::Changed
        };
        out.push(entry(pointer, change, Some(sent), Some(stored)));
        return;
    };
    for (name, sent_value) in sent_members {
        let path = format!("{pointer}/{}", escape(name));
        match (stored_members.get(name), mode) {
            (None, Mode::MergePatch) if sent_value.is_null() => {
                out.push(entry(&path, Change::Same, Some(sent_value), None));
            }
            (Some(stored_value), Mode::MergePatch) if sent_value.is_null() => {
                out.push(entry(
                    &path,
                    Change::NotRemoved,
                    Some(sent_value),
                    Some(stored_value),
                ));
            }
            (None, _) => out.push(entry(&path, Change::Missing, Some(sent_value), None)),
            (Some(stored_value), _) => walk(&path, sent_value, stored_value, mode, out),
        }
    }
    if mode == Mode::Replace {
        for (name, stored_value) in stored_members {
            if !sent_members.contains_key(name) {
                let path = format!("{pointer}/{}", escape(name));
                out.push(entry(&path, Change::Added, None, Some(stored_value)));
            }
        }
    }
}

fn entry(pointer: &str, change: Change, sent: Option<&Value>, stored: Option<&Value>) -> DiffEntry {
    DiffEntry {
        pointer: pointer.to_owned(),
        change,
        sent: sent.cloned(),
        stored: stored.cloned(),
    }
}

/// Escapes a member name for a JSON pointer (RFC 6901: `~` → `~0`, `/` → `~1`).
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests;
