// Two editors (each with its own client and ETag cache, as two browser tabs would have) open one
// document, then save at the same moment with the three-way merge strategy.
import { Client, IfmatchError } from 'ifmatch';
import { baseUrl, pageUrl } from './api.js';

const $ = (id) => document.getElementById(id);
const show = (value) => (value === undefined ? '(absent)' : JSON.stringify(value));
const button = $('race');
const status = $('status');
$('conflicts-link').href = pageUrl('conflicts.html');

// Both editors resolve an overlapping edit the same way, so the stored result does not depend on
// who saved first: keep both titles (sorted), and elsewhere prefer the stored value.
function keepBoth({ path, mine, theirs }) {
  return path === '/title' ? [mine, theirs].sort().join(' + ') : theirs;
}

function editor(name) {
  const log = $(`${name}-log`);
  log.replaceChildren();
  const add = (text, className) => {
    const item = document.createElement('li');
    item.textContent = text;
    if (className) item.className = className;
    log.append(item);
  };
  const client = new Client({
    baseUrl,
    partition: name,
    onEvent: (event) => {
      if (event.type === 'conflict') add(`write refused with ${event.status}; ${describeOutcome(event)}`, 'refused');
    },
  });
  return { name, client, add };
}

function describeOutcome(event) {
  return `${event.strategy}: ${event.outcome}`;
}

function recordConflict(editorName, conflict, kept) {
  $('conflict').hidden = false;
  $('conflict-summary').textContent =
    `${editorName}'s write was refused: the other editor saved first. ${editorName}'s client re-read the document, ` +
    'merged three-way, and asked the resolver about the one member both had changed:';
  const row = document.createElement('tr');
  for (const cell of [conflict.path, show(conflict.base), show(conflict.mine), show(conflict.theirs), show(kept)]) {
    const td = document.createElement('td');
    td.textContent = cell;
    row.append(td);
  }
  $('conflict-paths').append(row);
}

async function race() {
  button.disabled = true;
  document.body.dataset.state = 'racing';
  status.className = '';
  status.textContent = 'Racing…';
  $('conflict').hidden = true;
  $('conflict-paths').replaceChildren();
  $('result').hidden = true;

  const setup = new Client({ baseUrl });
  const { location: url } = await setup.create('/items', { title: 'Release notes', body: 'Draft.', tags: ['draft'] });
  const alice = editor('alice');
  const bob = editor('bob');
  for (const ed of [alice, bob]) {
    const { etag } = await ed.client.get(url);
    ed.add(`opened the document (ETag ${etag})`);
  }
  const resolveFor = (ed) => (conflict) => {
    const kept = keepBoth(conflict);
    recordConflict(ed.name === 'alice' ? 'Alice' : 'Bob', conflict, kept);
    return kept;
  };
  const saves = [
    alice.client.update(url, (doc) => {
      doc.title = 'Release notes 1.2';
      doc.tags = [...doc.tags, 'reviewed'];
    }, { strategy: 'merge', resolve: resolveFor(alice) }),
    bob.client.update(url, (doc) => {
      doc.title = 'Release notes (final)';
      doc.body = 'Fixes the lost-update bug.';
    }, { strategy: 'merge', resolve: resolveFor(bob) }),
  ];
  const results = await Promise.all(saves);
  [alice, bob].forEach((ed, i) => {
    const { attempts, etag } = results[i];
    ed.add(attempts === 1 ? `saved at once (ETag ${etag})` : `saved after ${attempts} attempts (ETag ${etag})`, 'saved');
  });

  const stored = await setup.get(url);
  $('result-title').textContent = stored.value.title;
  $('result-body').textContent = stored.value.body;
  $('result-tags').textContent = stored.value.tags.join(', ');
  $('result-etag').textContent = stored.etag;
  $('result').hidden = false;
  status.textContent = 'Done: one write was refused, merged and saved again; both editors\' changes are stored.';
  document.body.dataset.state = 'done';
  button.disabled = false;
}

button.addEventListener('click', () => {
  race().catch((err) => {
    status.className = 'error';
    status.textContent = err instanceof IfmatchError ? `${err.code}: ${err.message}` : String(err);
    document.body.dataset.state = 'error';
    button.disabled = false;
  });
});
button.textContent = 'Save both at once';
button.disabled = false;
document.body.dataset.state = 'ready';
