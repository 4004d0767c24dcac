//! Reading a `POST /batch` body into checked operations, before anything touches the store:
//! a malformed batch fails the same way whatever the stored state.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::etag::Condition;
use crate::lock::LockToken;
use crate::precondition::Preconditions;
use crate::problem::{Problem, ProblemKind};

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OpKind {
    Create,
    Put,
    Patch,
    Delete,
    Check,
}

impl OpKind {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Put => "put",
            Self::Patch => "patch",
            Self::Delete => "delete",
            Self::Check => "check",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "create" => Self::Create,
            "put" => Self::Put,
            "patch" => Self::Patch,
            "delete" => Self::Delete,
            "check" => Self::Check,
            _ => return None,
        })
    }

    fn takes_body(self) -> bool {
        matches!(self, Self::Create | Self::Put | Self::Patch)
    }
}

/// Which document an operation is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// A new document under a server-chosen id (`create`).
    New,
    /// `path`: the document with this (decoded) id.
    Id(String),
    /// `ref`: the document created by the operation at this index.
    Created(usize),
}

/// One checked operation.
#[derive(Debug)]
pub(super) struct Operation {
    pub(super) kind: OpKind,
    pub(super) target: Target,
    pub(super) preconditions: Preconditions,
    pub(super) lock_token: Option<LockToken>,
    /// The document (`create`, `put`) or the merge patch (`patch`).
    pub(super) body: Option<Value>,
}

impl Operation {
    /// Whether the operation carries a condition, as `--require-preconditions` asks.
    pub(super) fn is_conditional(&self) -> bool {
        !self.preconditions.is_unconditional() || self.lock_token.is_some()
    }
}

const MEMBERS: &str = "op, path, ref, lid, if_match, if_none_match, lock_token and body";
const MAX_LID_CHARS: usize = 64;

/// Reads the whole request: `{"operations": [...]}` with 1 ..= `max` operations.
pub(super) fn operations(
    value: Value,
    max: usize,
    instance: &str,
) -> Result<Vec<Operation>, Problem> {
    let whole = |detail: String| Problem::new(ProblemKind::MalformedBody, instance, detail);
    let Value::Object(mut request) = value else {
        return Err(whole(
            "a batch is a JSON object {\"operations\": [...]}; send the operations in that member"
                .to_owned(),
        ));
    };
    let list = request.remove("operations");
    if let Some(unknown) = request.keys().next() {
        return Err(whole(format!(
            "unknown member `{}` in the batch; a batch has only the member operations",
            unknown.escape_debug()
        )));
    }
    let list = match list {
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(whole(
                "operations must be an array of operation objects".to_owned(),
            ))
        }
        None => {
            return Err(whole(
                "the batch has no operations member; send {\"operations\": [...]}".to_owned(),
            ))
        }
    };
    if list.is_empty() {
        return Err(whole(
            "operations is empty; send at least one operation".to_owned(),
        ));
    }
    if list.len() > max {
        return Err(whole(format!(
            "the batch has {} operations, more than this server's limit of {max}; split it into smaller batches",
            list.len()
        )));
    }
    let mut lids = HashMap::new();
    let mut ops = Vec::with_capacity(list.len());
    for (index, value) in list.into_iter().enumerate() {
        ops.push(operation(index, value, &mut lids, instance)?);
    }
    Ok(ops)
}

/// A 400 about the operation at `index`, with the members that locate it.
struct Blame<'a> {
    index: usize,
    op: Option<OpKind>,
    path: Option<String>,
    instance: &'a str,
}

impl Blame<'_> {
    fn problem(&self, detail: impl std::fmt::Display) -> Problem {
        let mut problem = Problem::new(
            ProblemKind::MalformedBody,
            self.instance,
            format!(
                "operation {} is malformed: {detail}. Nothing was changed",
                self.index
            ),
        )
        .with_member("operation", Value::from(self.index));
        if let Some(op) = self.op {
            problem = problem.with_member("op", Value::from(op.name()));
        }
        if let Some(path) = &self.path {
            problem = problem.with_member("path", Value::from(path.as_str()));
        }
        problem
    }
}

fn operation(
    index: usize,
    value: Value,
    lids: &mut HashMap<String, usize>,
    instance: &str,
) -> Result<Operation, Problem> {
    let mut blame = Blame {
        index,
        op: None,
        path: None,
        instance,
    };
    let Value::Object(mut fields) = value else {
        return Err(blame.problem(format!(
            "it is not a JSON object; an operation is an object with the members {MEMBERS}"
        )));
    };
    if let Some(unknown) = fields.keys().find(|key| !is_member(key)) {
        return Err(blame.problem(format!(
            "unknown member `{}`; operations have only the members {MEMBERS}",
            unknown.escape_debug()
        )));
    }
    let op = text(&mut fields, "op", &blame)?.ok_or_else(|| {
        blame.problem("it has no op; give one of create, put, patch, delete, check")
    })?;
    let kind = OpKind::parse(&op).ok_or_else(|| {
        blame.problem(format!(
            "op `{}` is not known; use one of create, put, patch, delete, check",
            op.escape_debug()
        ))
    })?;
    blame.op = Some(kind);
    let path = text(&mut fields, "path", &blame)?;
    blame.path.clone_from(&path);
    let reference = text(&mut fields, "ref", &blame)?;
    let lid = text(&mut fields, "lid", &blame)?;
    let target = target(kind, path, reference, lid, index, lids, &mut blame)?;
    let if_match = condition(&mut fields, "if_match", &blame)?;
    let if_none_match = condition(&mut fields, "if_none_match", &blame)?;
    let lock_token =
        match text(&mut fields, "lock_token", &blame)? {
            None => None,
            Some(_) if kind == OpKind::Create => return Err(blame.problem(
                "create makes a new document, which nobody can have locked; leave lock_token out",
            )),
            Some(token) => Some(LockToken::parse(token.as_bytes()).map_err(|reason| {
                blame.problem(format!(
                    "lock_token is malformed: {reason}; send the token the lock was granted with"
                ))
            })?),
        };
    let body = fields.remove("body");
    match (&body, kind.takes_body()) {
        (None, true) => {
            let what = if kind == OpKind::Patch {
                "the merge patch"
            } else {
                "the document"
            };
            return Err(blame.problem(format!("{} needs a body: {what}", kind.name())));
        }
        (Some(_), false) => {
            return Err(blame.problem(format!("{} takes no body; leave it out", kind.name())))
        }
        _ => {}
    }
    Ok(Operation {
        kind,
        target,
        preconditions: Preconditions {
            if_match,
            if_none_match,
            if_version: None,
        },
        lock_token,
        body,
    })
}

fn is_member(key: &str) -> bool {
    matches!(
        key,
        "op" | "path" | "ref" | "lid" | "if_match" | "if_none_match" | "lock_token" | "body"
    )
}

/// An optional string member; present but not a string is malformed.
fn text(
    fields: &mut Map<String, Value>,
    name: &str,
    blame: &Blame<'_>,
) -> Result<Option<String>, Problem> {
    match fields.remove(name) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => {
            Err(blame.problem(format!("{name} must be a string, not {}", kind_of(&other))))
        }
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn condition(
    fields: &mut Map<String, Value>,
    name: &str,
    blame: &Blame<'_>,
) -> Result<Option<Condition>, Problem> {
    let Some(value) = text(fields, name, blame)? else {
        return Ok(None);
    };
    Condition::parse(value.as_bytes()).map(Some).map_err(|reason| {
        blame.problem(format!(
            "{name} `{}` is malformed: {reason}; give the value the header would carry: `*` or quoted entity-tags exactly as the ETag header returned them, e.g. \"\\\"abc-1\\\"\"",
            value.escape_debug()
        ))
    })
}

fn target(
    kind: OpKind,
    path: Option<String>,
    reference: Option<String>,
    lid: Option<String>,
    index: usize,
    lids: &mut HashMap<String, usize>,
    blame: &mut Blame<'_>,
) -> Result<Target, Problem> {
    if kind == OpKind::Create {
        if path.is_some() || reference.is_some() {
            return Err(blame.problem(
                "create makes a document under a new server-chosen id, so it takes neither path nor ref; use put to write a path of your choosing",
            ));
        }
        if let Some(lid) = lid {
            check_lid(&lid, blame)?;
            if let Some(first) = lids.insert(lid.clone(), index) {
                return Err(blame.problem(format!(
                    "lid `{lid}` is already used by operation {first}; give every create its own lid"
                )));
            }
        }
        return Ok(Target::New);
    }
    if lid.is_some() {
        return Err(blame.problem(format!(
            "lid names a document a create makes; {} does not create one, so leave lid out (use ref to name a created document)",
            kind.name()
        )));
    }
    match (path, reference) {
        (Some(path), None) => item_id(&path)
            .map(Target::Id)
            .map_err(|reason| blame.problem(reason)),
        (None, Some(reference)) => match lids.get(&reference) {
            Some(&created) => Ok(Target::Created(created)),
            None => Err(blame.problem(format!(
                "ref `{}` names no lid of a create earlier in this batch; give the lid of an earlier create, or a path",
                reference.escape_debug()
            ))),
        },
        (Some(_), Some(_)) => Err(blame.problem(
            "it has both path and ref; give exactly one of them",
        )),
        (None, None) => Err(blame.problem(format!(
            "{} needs the document: give path (/items/{{id}}) or ref (the lid of an earlier create)",
            kind.name()
        ))),
    }
}

fn check_lid(lid: &str, blame: &Blame<'_>) -> Result<(), Problem> {
    let valid_chars = lid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if lid.is_empty() || lid.len() > MAX_LID_CHARS || !valid_chars {
        return Err(blame.problem(format!(
            "lid `{}` is not 1 to {MAX_LID_CHARS} characters of A-Z, a-z, 0-9, _, . and -",
            lid.escape_debug()
        )));
    }
    Ok(())
}

/// The document id of a `path` member: `/items/{id}`, percent-decoded as in a URL.
pub(super) fn item_id(path: &str) -> Result<String, String> {
    let advice = "give the document's path as /items/{id}, e.g. the Location the server returned";
    let Some(encoded) = path.strip_prefix("/items/") else {
        return Err(format!(
            "path `{}` is not /items/{{id}}; {advice}",
            path.escape_debug()
        ));
    };
    if encoded.is_empty() || encoded.contains(['/', '?', '#']) {
        return Err(format!(
            "path `{}` does not name one document; {advice}",
            path.escape_debug()
        ));
    }
    percent_decode(encoded).ok_or_else(|| {
        format!(
            "path `{}` has malformed percent-encoding or is not UTF-8 once decoded; {advice}",
            path.escape_debug()
        )
    })
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = bytes.get(index + 1..index + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).ok()
}
