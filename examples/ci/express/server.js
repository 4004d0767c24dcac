// A notes API in Express that keeps the ifmatch conflict contract.
//
// Written the way a Node team would write it, with the places where Express's defaults break the
// contract fixed and commented: Express's own ETags are weak (W/"…") and are put on every body,
// error bodies included, so this app turns them off and sends its own strong ones; express.json()
// only parses `application/json`, so merge-patch bodies need their type listed. Writes require a
// precondition (428 without one), and a note can be created by PUT with `If-None-Match: *`.
// `ifmatch-conformance.toml` beside this file describes the API to the suite.
//
// Run: `PORT=3000 node server.js`
'use strict';

const crypto = require('node:crypto');
const express = require('express');
const { ifMatchPasses, ifNoneMatchMatches } = require('./etags');

const app = express();
// Express's default ETag is a weak hash of whatever body is sent, errors included: a 412 would
// carry the ETag of its own error message. The app sets ETags itself, for notes only.
app.set('etag', false);
app.use(
  express.json({
    // Without the merge-patch type a PATCH body arrives as {} and the change is silently lost.
    type: ['application/json', 'application/merge-patch+json'],
    // A JSON body must be an object or array; `strict` makes "123" a 400 as well.
    strict: true,
  }),
);

/** id -> { doc, revision }. A real app would use a database; the rules are the same. */
const notes = new Map();
// One counter for the whole store: a note deleted and created again under the same id never
// gets back an ETag a client may still hold.
let lastRevision = 0;
const SERVER_MEMBERS = ['id', 'created_at', 'updated_at'];
const ID = /^[A-Za-z0-9_-]{1,100}$/;

const etagOf = (note) => `"r${note.revision}"`;

function problem(res, status, title, detail, extra = {}) {
  // RFC 9457 problem details, and no ETag: an error body is not a version of the note.
  res.status(status).type('application/problem+json').send(JSON.stringify({ type: `https://example.com/problems/${status}`, title, status, detail, ...extra }));
}

function sendNote(res, id, note, status = 200) {
  res.status(status).set('ETag', etagOf(note)).json({ ...note.doc, id });
}

function store(id, doc, previous) {
  const now = new Date().toISOString();
  const own = Object.fromEntries(Object.entries(doc).filter(([k]) => !SERVER_MEMBERS.includes(k)));
  lastRevision += 1;
  const note = {
    revision: lastRevision,
    doc: { ...own, created_at: previous ? previous.doc.created_at : now, updated_at: now },
  };
  notes.set(id, note);
  return note;
}

/**
 * Judges If-Match / If-None-Match against the note as it is NOW and answers the refusal itself.
 * Returns true when the write may go ahead. Everything from this check to the write is
 * synchronous (the body was parsed before the handler ran), so no other request can run in
 * between: Node's single thread makes the check and the write one atomic step. With a database,
 * make the write itself conditional instead (UPDATE … WHERE id = ? AND version = ?).
 */
function preconditionsPass(req, res, note) {
  const ifMatch = req.get('If-Match');
  const ifNoneMatch = req.get('If-None-Match');
  if (ifMatch === undefined && ifNoneMatch === undefined) {
    problem(res, 428, 'Precondition Required', 'This API requires If-Match with the ETag you read (or If-None-Match: * to create): GET the note, then send its ETag.');
    return false;
  }
  const current = note ? etagOf(note) : null;
  try {
    if (ifMatch !== undefined && !ifMatchPasses(ifMatch, current)) {
      problem(res, 412, 'Precondition Failed', note ? 'If-Match does not name the current version: GET the note again, reapply your change, retry.' : 'If-Match names a note that does not exist.', note ? { current_etag: current } : {});
      return false;
    }
    if (ifNoneMatch !== undefined && ifNoneMatchMatches(ifNoneMatch, current)) {
      problem(res, 412, 'Precondition Failed', 'If-None-Match: * asks to create, and this note already exists; nothing was overwritten.');
      return false;
    }
  } catch (e) {
    problem(res, 400, 'Bad Request', e.message);
    return false;
  }
  return true;
}

function validId(req, res) {
  if (ID.test(req.params.id)) return true;
  problem(res, 404, 'Not Found', `no note ${JSON.stringify(req.params.id)}`);
  return false;
}

function isObject(body, res) {
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) return true;
  problem(res, 400, 'Bad Request', 'A note is a JSON object sent as application/json.');
  return false;
}

app.get('/notes', (req, res) => {
  res.json([...notes].map(([id, note]) => ({ ...note.doc, id })));
});

app.post('/notes', (req, res) => {
  if (!isObject(req.body, res)) return;
  const id = crypto.randomUUID();
  const note = store(id, req.body, null);
  res.set('Location', `/notes/${id}`);
  sendNote(res, id, note, 201);
});

app.get('/notes/:id', (req, res) => {
  const note = notes.get(req.params.id);
  if (!note) return problem(res, 404, 'Not Found', `no note ${JSON.stringify(req.params.id)}`);
  const inm = req.get('If-None-Match');
  let notModified = false;
  try {
    notModified = inm !== undefined && ifNoneMatchMatches(inm, etagOf(note));
  } catch {
    // A malformed If-None-Match on a read is ignored: answer as without it.
  }
  if (notModified) return res.status(304).set('ETag', etagOf(note)).end();
  sendNote(res, req.params.id, note); // Express answers HEAD from this route, without the body.
});

app.put('/notes/:id', (req, res) => {
  if (!validId(req, res)) return;
  const note = notes.get(req.params.id);
  if (!preconditionsPass(req, res, note)) return;
  if (!isObject(req.body, res)) return;
  // Reaching here without a note means `If-None-Match: *` (If-Match fails on a missing note).
  const created = store(req.params.id, req.body, note);
  if (!note) res.set('Location', `/notes/${req.params.id}`);
  sendNote(res, req.params.id, created, note ? 200 : 201);
});

function mergePatch(target, patch) {
  // RFC 7396: null removes a member, objects merge, everything else replaces.
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

app.patch('/notes/:id', (req, res) => {
  const note = notes.get(req.params.id);
  // A missing note is 404 whatever the preconditions say (RFC 9110 §13.2.1).
  if (!note) return problem(res, 404, 'Not Found', `no note ${JSON.stringify(req.params.id)}`);
  if (!req.is('application/merge-patch+json') && !req.is('application/json')) {
    return problem(res, 415, 'Unsupported Media Type', 'Send the change as application/merge-patch+json (RFC 7396).');
  }
  if (!preconditionsPass(req, res, note)) return;
  if (!isObject(req.body, res)) return;
  sendNote(res, req.params.id, store(req.params.id, mergePatch(note.doc, req.body), note));
});

app.delete('/notes/:id', (req, res) => {
  const note = notes.get(req.params.id);
  if (!note) return problem(res, 404, 'Not Found', `no note ${JSON.stringify(req.params.id)}`);
  if (!preconditionsPass(req, res, note)) return;
  notes.delete(req.params.id);
  res.status(204).end();
});

// Malformed JSON: express.json() throws a 400 SyntaxError; answer it as a problem, not HTML.
app.use((err, req, res, next) => {
  if (err.type === 'entity.parse.failed') return problem(res, 400, 'Bad Request', `The body is not valid JSON: ${err.message}`);
  if (err.status) return problem(res, err.status, 'Error', err.message);
  return next(err);
});

const port = Number(process.env.PORT || 3000);
app.listen(port, '127.0.0.1', () => console.log(`notes API on http://127.0.0.1:${port}`));
