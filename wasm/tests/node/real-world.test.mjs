// Real-world server shapes (issue #13): the version in the body (Kubernetes) or sent back in the
// query (CouchDB's ?rev=, GCS's ?ifGenerationMatch=), their 409 bodies recognised as version
// conflicts, and the weak-ETag policy (FHIR: weak_validator unless sendAsIs; WebDAV: weak for a
// moment after a write). Each against a small stateful stub on a loopback port.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { Client } from 'ifmatch';

/**
 * A stub holding `{ n }` at a version. `shape` picks how reads show the version and how a write
 * must name it; `requests` records every request (method, url, headers, body).
 */
async function stub(shape) {
  const state = { n: 0, version: 1, readsSinceWrite: 1, requests: [] };
  const token = () => (shape === 'couch' ? `${state.version}-abc` : String(state.version));
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => { raw += chunk; });
    req.on('end', () => {
      const url = new URL(req.url, 'http://stub');
      const body = raw ? JSON.parse(raw) : null;
      state.requests.push({ method: req.method, url, headers: req.headers, body });
      const send = (status, json, headers = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(json));
      };
      if (req.method === 'GET') {
        const weak = shape === 'fhir' || (shape === 'webdav' && state.readsSinceWrite === 0);
        state.readsSinceWrite += 1;
        const etag = weak ? `W/"${token()}"` : `"${token()}"`;
        const doc = {
          k8s: { metadata: { name: 'cfg', resourceVersion: token() }, data: { n: state.n } },
          couch: { _id: 'doc', _rev: token(), n: state.n },
          gcs: { name: 'obj', generation: token(), n: state.n },
        }[shape] ?? { n: state.n };
        return send(200, doc, shape === 'k8s' || shape === 'gcs' ? {} : { etag });
      }
      const sent = {
        k8s: body?.metadata?.resourceVersion,
        couch: url.searchParams.get('rev'),
        gcs: url.searchParams.get('ifGenerationMatch'),
        fhir: req.headers['if-match']?.replace(/^W\//, '').replaceAll('"', ''),
        webdav: req.headers['if-match']?.replaceAll('"', ''),
      }[shape];
      if (sent !== token()) {
        if (shape === 'k8s') return send(409, { kind: 'Status', status: 'Failure', reason: 'Conflict', code: 409 });
        if (shape === 'couch') return send(409, { error: 'conflict', reason: 'Document update conflict.' });
        if (shape === 'webdav') {
          res.writeHead(412, { 'content-type': 'text/html' });
          return res.end('<html><body><h1>Precondition Failed</h1></body></html>');
        }
        return send(412, { error: { code: 412, message: 'conditionNotMet' } });
      }
      state.n = body?.data?.n ?? body?.n;
      state.version += 1;
      state.readsSinceWrite = 0;
      return send(200, { ok: true });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { state, url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

const increment = (doc) => {
  if (doc.data) doc.data.n += 1;
  else doc.n += 1;
};

/** Enough conflict attempts for 4 writers racing on one document. */
const retry = { preset: 'contended', maxConflictAttempts: 50 };

/** 4 concurrent updaters on one client, 5 increments each; none may be lost. */
async function concurrentIncrements(client, s, path) {
  const before = s.state.n;
  await Promise.all([0, 1, 2, 3].map(async () => {
    for (let i = 0; i < 5; i += 1) await client.update(path, increment);
  }));
  assert.equal(s.state.n, before + 20, 'every acknowledged increment is stored');
}

test('versionField: Kubernetes resourceVersion in the body, its 409 Status is a version conflict', async () => {
  const s = await stub('k8s');
  try {
    const client = new Client({ baseUrl: s.url, retry, versionField: { pointer: '/metadata/resourceVersion' } });
    await concurrentIncrements(client, s, '/api/v1/namespaces/default/configmaps/cfg');
    const puts = s.state.requests.filter((r) => r.method === 'PUT');
    assert.ok(puts.every((r) => r.body.metadata.resourceVersion && !r.headers['if-match']));
  } finally {
    await s.close();
  }
});

test('versionField.query: CouchDB ?rev= and GCS ?ifGenerationMatch= carry the version', async () => {
  for (const [shape, pointer, query] of [['couch', '/_rev', 'rev'], ['gcs', '/generation', 'ifGenerationMatch']]) {
    const s = await stub(shape);
    try {
      const client = new Client({ baseUrl: s.url, retry, versionField: { pointer, query } });
      await concurrentIncrements(client, s, '/db/doc');
      const puts = s.state.requests.filter((r) => r.method === 'PUT');
      assert.ok(puts.every((r) => r.url.searchParams.has(query)), `${shape}: every write names the version`);
    } finally {
      await s.close();
    }
  }
});

test('a 409 that is not a version conflict is not retried', async () => {
  const s = await stub('k8s');
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ metadata: { resourceVersion: '1' }, data: { n: 0 } }));
    }
    res.writeHead(409, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', reason: 'AlreadyExists', code: 409 }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const client = new Client({
      baseUrl: `http://127.0.0.1:${server.address().port}`,
      versionField: { pointer: '/metadata/resourceVersion' },
    });
    await assert.rejects(client.update('/cfg', increment), (e) => e.code === 'http_status' && e.status === 409);
  } finally {
    await new Promise((r) => server.close(r));
    await s.close();
  }
});

test('weakValidators: a FHIR server is weak_validator by default, and works with sendAsIs', async () => {
  const s = await stub('fhir');
  try {
    const strict = new Client({ baseUrl: s.url, weakValidators: { rereads: 2, withinMs: 20 } });
    await assert.rejects(strict.update('/Basic/1', increment), (e) => {
      assert.equal(e.code, 'weak_validator');
      assert.match(e.message, /weak ETag \(W\/"1"\)/);
      assert.match(e.message, /sendAsIs/);
      return true;
    });
    assert.equal(s.state.requests.filter((r) => r.method === 'GET').length, 3, '1 read + 2 re-reads');
    assert.equal(s.state.requests.filter((r) => r.method === 'PUT').length, 0, 'nothing written');
    const fhir = new Client({ baseUrl: s.url, retry, weakValidators: { sendAsIs: true } });
    await concurrentIncrements(fhir, s, '/Basic/1');
    assert.ok(s.state.requests.filter((r) => r.method === 'PUT').every((r) => r.headers['if-match'].startsWith('W/')));
  } finally {
    await s.close();
  }
});

test('weakValidators: WebDAV weak for a moment after a write: update waits for the strong tag', async () => {
  const s = await stub('webdav');
  try {
    // Four writers keep the tag weak after each write: wait longer than the default 3 reads.
    const client = new Client({ baseUrl: s.url, retry, weakValidators: { rereads: 50, withinMs: 500 } });
    await concurrentIncrements(client, s, '/dav/doc.json');
    const puts = s.state.requests.filter((r) => r.method === 'PUT');
    assert.ok(puts.every((r) => !r.headers['if-match'].startsWith('W/')), 'never a weak If-Match');
  } finally {
    await s.close();
  }
});

test('weakValidators and versionField options are checked', () => {
  assert.throws(() => new Client({ weakValidators: { rereads: -1 } }), (e) => e.code === 'invalid_argument' && /options\.weakValidators\.rereads/.test(e.message));
  assert.throws(() => new Client({ weakValidators: { wait: 1 } }), (e) => e.code === 'invalid_argument' && /unknown option `wait`/.test(e.message));
  assert.throws(() => new Client({ versionField: { pointer: '/_rev', query: '' } }), (e) => e.code === 'invalid_config' && /options\.versionField/.test(e.message));
});
