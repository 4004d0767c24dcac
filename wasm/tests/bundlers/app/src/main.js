// The tiny app every bundler builds (wasm/tests/bundlers): a real create, get and update against
// the reference server (forwarded on the page's origin), its outcome written into the page.
import { Client, IfmatchError } from 'ifmatch';

const out = document.getElementById('out');
async function run() {
  const client = new Client({ baseUrl: window.location.origin });
  const created = await client.create('/items', { n: 1 });
  const read = await client.get(created.location);
  const updated = await client.update(created.location, (doc) => ({ ...doc, n: doc.n + 1 }));
  return { ok: true, read: read.value, updated: updated.value, etagChanged: updated.etag !== read.etag };
}
run()
  .catch((error) => ({ ok: false, ours: error instanceof IfmatchError, code: error.code, message: error.message }))
  .then((result) => {
    out.textContent = JSON.stringify(result);
    document.body.dataset.state = 'done';
  });
