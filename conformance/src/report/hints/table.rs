//! The hint rows of the `core` and `errors` profiles, most specific first. Each
//! group ends with a row that matches any of its rules whatever the evidence.

use super::When::{Always, Seen};
use super::{
    answered_409, body_rejected, etag_on_error, invalid_id, members_dropped, patch_unparsed,
    refused_422, stale_write_accepted, weak_etag, Row,
};

const EXPRESS_WEAK: &str = "Express sends weak ETags by default (W/\"…\", a hash of the body): `app.set('etag', 'strong')` makes them strong; better, set your own from the stored version, e.g. `res.set('ETag', '\"' + row.version + '\"')`, so the tag names the stored state, not the bytes of one response.";

const ATOMIC_UPDATE: &str = "Make the comparison part of the write: `UPDATE items SET body = ?, version = version + 1 WHERE id = ? AND version = ?` and answer 412 when it changed 0 rows (re-read to tell a missing resource, 404, from a stale one, 412). Or hold a row lock (`SELECT … FOR UPDATE`) or a per-resource mutex across the check and the write. Re-run with `--repeat 20` to be sure.";

const MERGE_PATCH_PARSER: &str = "Parse `application/merge-patch+json` as JSON. Express: `app.use(express.json({ type: ['application/json', 'application/merge-patch+json'] }))`. FastAPI/Starlette: read the raw body (`json.loads(await request.body())`) instead of a typed body parameter that only accepts application/json. If you do not support merge patch, say so with `[body] patch = \"none\"` (or `\"json-patch\"`).";

const PROBLEM_JSON: &str = "Send errors as RFC 9457 problem details: `Content-Type: application/problem+json` and a body with `type`, `title`, `status` (equal to the HTTP status) and `detail`. Express: `res.status(412).type('application/problem+json').json({...})`; FastAPI: `JSONResponse(..., status_code=412, media_type='application/problem+json')`. If your API has another JSON error format, declare `[errors] format = \"json\"`.";

/// The core table, searched in order before [`super::optional::ROWS`].
pub(super) const ROWS: &[Row] = &[
    // --- Requests the server refused for their body, not for the rule: say how to
    // describe the API, before any rule-specific row.
    Row {
        prefix: "core.bad-input.malformed-json",
        when: Seen(refused_422),
        cause: "Malformed JSON was refused with 422 (FastAPI's validation status), which RFC 9110 allows but the suite was not told about.",
        fix: "Declare it: `[body] malformed-status = [400, 422]`.",
    },
    Row {
        prefix: "core.precondition.not-found-wins",
        when: Seen(invalid_id),
        cause: "The server rejected the suite's invented id as invalid (e.g. not an integer) rather than as missing.",
        fix: "Declare an id of your API's form that names no resource: `[body] missing-id = \"999999\"`.",
    },
    Row {
        prefix: "core",
        when: Seen(body_rejected),
        cause: "The server validated the suite's test document and refused it (400/422): it requires members the suite did not send, or rejects the members it adds (`rule`, `suite`).",
        fix: "Describe your documents: `[body] fixture = { title = \"x\", done = false }` merges the members your API requires into every body the suite sends; accept unknown members, or make them optional.",
    },
    Row {
        prefix: "core",
        when: Seen(members_dropped),
        cause: "The server dropped members it was sent: schema validation that strips unknown fields (Pydantic models ignore extra fields by default; so do many ORMs and serializers), so the stored document is not the one written.",
        fix: "Store the document as sent (Pydantic: `model_config = ConfigDict(extra='allow')`, or keep the raw JSON), or declare the members your API does not store with `[body] ignore = [\"/rule\", \"/suite\"]`.",
    },
    Row {
        prefix: "core.if-match.stale",
        when: Seen(answered_409),
        cause: "A stale write was refused with 409 Conflict: nothing was lost, but RFC 9110 says 412 Precondition Failed, and the suite was not told to expect 409.",
        fix: "Answer 412 for a failed If-Match, or declare 409: `--mismatch-status 409` or `[version] stale-status = [409]` (the verdict is then non-strict).",
    },
    // --- If-Match honoured at all, and the races around it.
    Row {
        prefix: "core.if-match.honoured",
        when: Always,
        cause: "Nothing on the write path reads If-Match: a write with a tag that was never a version of the resource was applied. Frameworks (Express, FastAPI, Flask, Django REST) leave conditional writes to you.",
        fix: "Before writing, compare If-Match with the current ETag (strong comparison; `*` matches any existing resource) and answer 412 without writing when none matches. Do the check and the write in one atomic step: `UPDATE items SET body = ?, version = version + 1 WHERE id = ? AND version = ?`, 412 when 0 rows changed.",
    },
    Row {
        prefix: "core.concurrency",
        when: Always,
        cause: "A check-then-write race: the server reads the current version, compares it with If-Match, then writes in a separate step, so concurrent writers that read the same version all pass the check and overwrite each other.",
        fix: ATOMIC_UPDATE,
    },
    Row {
        prefix: "core.if-none-match.star-existing",
        when: Always,
        cause: "`If-None-Match: *` is ignored (or checked apart from the write), so a create-only PUT overwrote an existing resource.",
        fix: "Treat `If-None-Match: *` as create-only, atomically: `INSERT … ON CONFLICT DO NOTHING` (SQLite: `INSERT OR IGNORE`; files: open with O_CREAT|O_EXCL; S3-style stores: their create-only flag) and answer 412 when nothing was inserted.",
    },
    Row {
        prefix: "core.if-match.stale-delete",
        when: Always,
        cause: "The DELETE route does not evaluate If-Match (a stale DELETE was accepted, or refused with the wrong status); the PUT handler's check was not repeated there.",
        fix: "Delete conditionally: `DELETE FROM items WHERE id = ? AND version = ?`; when 0 rows are deleted, re-read: missing → 404, otherwise 412 with nothing deleted.",
    },
    Row {
        prefix: "core.if-match.stale-put",
        when: Seen(stale_write_accepted),
        cause: "A PUT with a stale If-Match was applied: the route does not compare If-Match with the current version, or compares it with something else (the tag of the request body, a cached copy).",
        fix: ATOMIC_UPDATE,
    },
    Row {
        prefix: "core.if-match.stale-patch",
        when: Seen(patch_unparsed),
        cause: "The body parser skips `application/merge-patch+json`, so the PATCH handler never saw the body it was sent.",
        fix: MERGE_PATCH_PARSER,
    },
    Row {
        prefix: "core.if-match.stale-patch",
        when: Seen(stale_write_accepted),
        cause: "A PATCH with a stale If-Match was applied: the PATCH route does not compare If-Match with the current version.",
        fix: ATOMIC_UPDATE,
    },
    Row {
        prefix: "core.if-match.weak-refused",
        when: Always,
        cause: "If-Match is compared weakly: the server strips `W/` before comparing, so the weak form of the current tag matched.",
        fix: "Use strong comparison for If-Match (RFC 9110 §13.1.1): a tag starting with `W/` never matches; compare the quoted strings exactly.",
    },
    Row {
        prefix: "core.if-match.list",
        when: Always,
        cause: "If-Match is read as one tag, so a list (`\"a\", \"b\"`) never matches even when it names the current tag.",
        fix: "Split If-Match on commas (outside quotes) and proceed when any listed tag strongly matches the current one (RFC 9110 §13.1.1).",
    },
    Row {
        prefix: "core.if-match.star",
        when: Always,
        cause: "`If-Match: *` is not handled as \"any current representation\": it is compared as a literal tag, or it lets a PUT create a missing resource.",
        fix: "`If-Match: *` matches when the resource exists and fails (412, nothing created) when it does not.",
    },
    // --- PATCH.
    Row {
        prefix: "core.if-match.current-patch",
        when: Seen(patch_unparsed),
        cause: "The body parser skips `application/merge-patch+json`: the PATCH was refused as unreadable or applied as an empty change.",
        fix: MERGE_PATCH_PARSER,
    },
    Row {
        prefix: "core.etag.changes-on-patch",
        when: Seen(patch_unparsed),
        cause: "The body parser skips `application/merge-patch+json`: the PATCH changed nothing, so the ETag stayed.",
        fix: MERGE_PATCH_PARSER,
    },
    Row {
        prefix: "core.patch",
        when: Always,
        cause: "The merge patch is applied as a shallow update (`dict.update`, `Object.assign`), not as RFC 7396: `null` must remove a member, nested objects merge recursively, arrays are replaced whole.",
        fix: "Implement RFC 7396 MergePatch (a short recursive function; libraries: `json-merge-patch` on npm and PyPI), and check the body parser accepts `application/merge-patch+json`.",
    },
    Row {
        prefix: "core.if-match.current",
        when: Always,
        cause: "A write with the current If-Match was refused or not stored as sent: the server compares If-Match with a different value than the ETag it sends (e.g. weak vs strong, quotes stripped on one side), or changes the body it stores.",
        fix: "Compare If-Match with exactly the ETag a GET sends (same quoting); store the members sent. Members the server adds (`id`, timestamps) are fine; declare any it rewrites with `[body] ignore`.",
    },
    Row {
        prefix: "core.if-match",
        when: Always,
        cause: "If-Match is not evaluated as RFC 9110 §13.1.1 says.",
        fix: "Before every PUT, PATCH and DELETE: if If-Match is present and no listed tag strongly matches the current ETag (`*`: the resource exists), answer 412 and change nothing; check and write in one atomic step.",
    },
    // --- ETags.
    Row {
        prefix: "core.etag.strong-on-get",
        when: Seen(weak_etag),
        cause: "The ETag is weak (W/\"…\"), and If-Match needs a strong one.",
        fix: EXPRESS_WEAK,
    },
    Row {
        prefix: "core.etag.strong-on-get",
        when: Always,
        cause: "GET of a resource sends no valid strong ETag (absent, unquoted, or not 200).",
        fix: "Send `ETag: \"<version>\"` on every GET of a resource: a quoted opaque string derived from the stored version number or a hash of the stored representation.",
    },
    Row {
        prefix: "core.create.etag",
        when: Seen(weak_etag),
        cause: "The 201's ETag is weak (W/\"…\"); the values shown may look equal, but a weak tag cannot be used in If-Match.",
        fix: EXPRESS_WEAK,
    },
    Row {
        prefix: "core.create.etag",
        when: Always,
        cause: "The 201 carries no ETag, or one that differs from the next GET's, so a client must re-read before its first conditional write.",
        fix: "After inserting, send the new version's ETag on the 201: Express `res.status(201).set('ETag', tag).json(doc)`; FastAPI `JSONResponse(doc, status_code=201, headers={'ETag': tag})`.",
    },
    Row {
        prefix: "core.create",
        when: Always,
        cause: "POST to the collection does not answer 201 Created with a Location naming the new resource.",
        fix: "Answer 201 with `Location: /items/<id>`; if your API creates resources another way, declare it in `[create]` (e.g. `method = \"put\"`, or `location = \"body:/id\"`).",
    },
    Row {
        prefix: "core.etag.stable-without-change",
        when: Always,
        cause: "The ETag is computed from something that changes on every read: a timestamp, a random value, or a serialization with a `Date` or unordered keys.",
        fix: "Derive the ETag from the stored state only: a version number bumped by each write, or a hash of the stored bytes.",
    },
    Row {
        prefix: "core.etag.changes-on",
        when: Always,
        cause: "A successful write left the ETag as it was: the tag comes from something the write does not change (a creation time, a column the UPDATE does not touch).",
        fix: "Bump the version in the same statement as the write (`SET …, version = version + 1`) and derive the ETag from it.",
    },
    Row {
        prefix: "core.etag",
        when: Always,
        cause: "The ETag does not name the stored state.",
        fix: "Derive ETags from a version number bumped by every write, or a hash of the stored representation; send them quoted and strong.",
    },
    Row {
        prefix: "core.write.etag-matches-get",
        when: Seen(weak_etag),
        cause: "The write answered a weak ETag computed from its response body (Express hashes whatever body is sent), not the stored resource's tag.",
        fix: EXPRESS_WEAK,
    },
    Row {
        prefix: "core.write",
        when: Always,
        cause: "The write's response does not carry the stored resource's new ETag (absent, or computed from the response body or the request).",
        fix: "After the write, send `ETag` of the version just stored (the value the next GET will send), on 200 and 204 alike.",
    },
    Row {
        prefix: "core.head",
        when: Always,
        cause: "HEAD is answered by a different code path (its own route or middleware) whose ETag differs from GET's, e.g. a hash of an empty body.",
        fix: "Let HEAD run the GET handler without sending the body (Express and Starlette do this when no separate HEAD route exists), so the headers are GET's.",
    },
    Row {
        prefix: "core.validators",
        when: Always,
        cause: "Information only: whether GET sends Last-Modified.",
        fix: "Nothing required; the contract relies on ETags. Sending Last-Modified as well helps caches and clients that use If-Unmodified-Since.",
    },
    // --- If-None-Match.
    Row {
        prefix: "core.if-none-match.star-creates",
        when: Always,
        cause: "A PUT with `If-None-Match: *` to a missing URL was refused: the PUT route only updates existing resources.",
        fix: "Create on PUT when `If-None-Match: *` is sent and nothing exists at the URL (201 with the new ETag); if your API never creates by PUT, declare `[create] method = \"post\"`.",
    },
    Row {
        prefix: "core.if-none-match",
        when: Always,
        cause: "If-None-Match on GET is ignored or compared wrongly: it uses weak comparison (`W/\"x\"` matches `\"x\"`), any listed tag matches, and a match is 304.",
        fix: "On GET, strip `W/` on both sides, split the list on commas, and answer 304 with the ETag and no body when any tag matches; 200 with the body otherwise. (Express's `req.fresh` does this only for the ETags Express generated itself.)",
    },
    // --- Preconditions on missing resources.
    Row {
        prefix: "core.precondition.not-found-wins",
        when: Always,
        cause: "The precondition is evaluated before the resource is looked up, so a missing resource answers 412 instead of 404.",
        fix: "Look the resource up first: missing → 404 (RFC 9110 §13.2.1: preconditions are not evaluated when the request would fail anyway), then evaluate If-Match.",
    },
    Row {
        prefix: "core.precondition",
        when: Always,
        cause: "A conditional PUT to a missing URL was not refused cleanly: an If-Match (a tag or `*`) means a current representation must exist, so an upsert must not create here.",
        fix: "Evaluate If-Match against \"no representation\" (never matches): answer 412 and create nothing, with no ETag on that 412 (there is no current tag). `UPDATE … WHERE id = ? AND version = ?` never inserts.",
    },
    // --- Errors.
    Row {
        prefix: "core.conflict.current-etag",
        when: Seen(etag_on_error),
        cause: "The 412/409 carries an ETag that is not the resource's current one: Express computes an ETag for every body it sends, including the error body, so the tag names the problem document.",
        fix: "Don't send ETag on errors (`app.set('etag', false)` and set ETag yourself on successful responses), or set it explicitly to the current resource's tag; a `current_etag` member in the problem body works too.",
    },
    Row {
        prefix: "core.conflict.representation",
        when: Always,
        cause: "The client asked the refusal for the current document (Prefer: return=representation) and did not get it, or got one that is not current, so every lost race costs it another GET before it can re-apply its change.",
        fix: "When a conditional write is refused and the request has `Prefer: return=representation`, put the document as a GET would return it now in a `current` member of the problem (read in the same step that refused the write), with `Preference-Applied: return=representation`.",
    },
    Row {
        prefix: "core.conflict",
        when: Always,
        cause: "The 412/409 does not say what the current version is, so a client must re-read before retrying.",
        fix: "Name the current version in the refusal: `ETag: <current tag>` on the 412/409, or a `current_etag` member in the problem body.",
    },
    Row {
        prefix: "core.problem",
        when: Always,
        cause: "Error responses are not RFC 9457 problem details.",
        fix: PROBLEM_JSON,
    },
    Row {
        prefix: "errors",
        when: Always,
        cause: "Error responses do not have the declared error format.",
        fix: PROBLEM_JSON,
    },
    Row {
        prefix: "core.bad-input.malformed-json",
        when: Always,
        cause: "A body that is not JSON was accepted, stored, or crashed the handler (5xx).",
        fix: "Parse the body before touching storage and answer 400 (problem+json) when it is not valid JSON.",
    },
    Row {
        prefix: "core.bad-input",
        when: Always,
        cause: "If-Match is parsed leniently: an unquoted value was taken as a tag (or the header crashed the handler).",
        fix: "Parse If-Match per RFC 9110 §8.8.3 (a quoted string, optionally `W/`-prefixed, or `*`); answer 400 for a malformed one, or treat it as matching nothing (412). Change nothing either way.",
    },
    Row {
        prefix: "core",
        when: Always,
        cause: "The server does not keep this part of the conflict contract.",
        fix: "See the rule in docs/contract.md; the reference server (`ifmatch-conformance check` without --base-url) shows the expected exchange.",
    },
];
