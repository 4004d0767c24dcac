// Compiled (not run) by `tsc --strict`: the versions and conflict-notification declarations.
import {
  applyPatch,
  Client,
  type ConflictEvent,
  type ConflictRecord,
  diff,
  IfmatchError,
  type DeprecationNotice,
  type History,
  type PatchOperation,
  type Stats,
} from 'ifmatch';

const client = new Client({
  baseUrl: 'http://127.0.0.1:8080',
  bearerToken: 'alice-token',
  apiVersion: '2',
  versionField: { pointer: '/version', documentAt: '/data', ifMatch: false },
});

export async function versions(): Promise<number> {
  const history: History = await client.versions('/items/doc', { apiVersion: '1' });
  const oldest = history.versions[history.versions.length - 1];
  const old = await client.version<{ title: string }>('/items/doc', oldest.version);
  const title: string = old.value.title;
  const restored = await client.restore('/items/doc', oldest.version, { retryConflicts: true });
  const patch: PatchOperation[] = await client.diff('/items/doc', oldest.version, history.versions[0].version);
  const local = applyPatch<{ n: number }>({ n: 1 }, diff({ n: 1 }, { n: 2 }));
  // @ts-expect-error: versions are numbers
  await client.version('/items/doc', '41');
  // @ts-expect-error: restore takes no strategy
  await client.restore('/items/doc', 1, { strategy: 'merge' });
  const notices: DeprecationNotice[] = client.deprecations();
  const stats: Stats = client.stats();
  const sunset: number | null = stats.earliestSunsetMs;
  return title.length + patch.length + local.n + notices.length + stats.deprecatedResponses + (sunset ?? 0) + (restored.version === null ? 0 : 1);
}

export async function conflicts(signal: AbortSignal): Promise<string[]> {
  const page = await client.conflicts.list({ prefixes: ['/items/'], state: 'open', limit: 10 });
  const first: ConflictRecord | undefined = page.conflicts[0];
  if (first) {
    await client.conflicts.resolve(first.id, { resolution: 'merged', document: { title: 'both' } });
    // @ts-expect-error: only mine, theirs or merged
    await client.conflicts.resolve(first.id, { resolution: 'ours' });
  }
  const seen: string[] = [];
  for await (const event of client.conflicts.subscribe({ resources: ['/items/doc'], signal })) {
    const e: ConflictEvent = event;
    if (e.type === 'gap') seen.push(`gap after ${e.after}, oldest ${e.oldest}`);
    else seen.push(`${e.type} ${e.record.id} on ${e.record.resource}`);
    if (seen.length > 2) break;
  }
  try {
    await client.put('/items/doc', { n: 1 }, { ifMatch: '"1"' });
  } catch (err) {
    if (err instanceof IfmatchError && err.conflictId !== undefined) seen.push(err.conflictId);
    if (err instanceof IfmatchError && err.code === 'forbidden') seen.push('forbidden');
  }
  return seen;
}

// Real-world server shapes: the version sent back in a query, and the weak-ETag policy.
const couch = new Client({ versionField: { pointer: '/_rev', query: 'rev' } });
const github = new Client({ versionField: { pointer: '/sha', sentAt: '/sha' } });
const dav = new Client({ weakValidators: { rereads: 5, withinMs: 3000, unmodifiedSince: true } });
const fhir = new Client({ weakValidators: { sendAsIs: true } });
// @ts-expect-error: withinMs is a number of milliseconds
new Client({ weakValidators: { withinMs: '2s' } });

export async function realWorld(): Promise<string[]> {
  const seen: string[] = [];
  for (const c of [couch, github, dav, fhir]) {
    try {
      await c.update<{ n: number }>('/doc', (doc) => ({ n: doc.n + 1 }));
    } catch (err) {
      if (err instanceof IfmatchError && err.code === 'weak_validator') seen.push(err.message);
    }
  }
  return seen;
}
