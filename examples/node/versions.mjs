// A document's history through the reference server: three writes, the version list, a past
// version, the JSON Patch between two versions, a restore, and the v1 deprecation notice.
//
//   cargo run -p ifmatch-server -- --addr 127.0.0.1:8080
//   (cd examples/node && npm install) && node examples/node/versions.mjs --url http://127.0.0.1:8080
import { Client } from 'ifmatch';

const at = process.argv.indexOf('--url');
const baseUrl = at >= 0 ? process.argv[at + 1] : 'http://127.0.0.1:8080';
const client = new Client({
  baseUrl,
  onEvent: (e) => e.type === 'deprecated' && console.log(`deprecated: ${e.url} (sunset ${new Date(e.sunsetMs).toISOString()}, successor ${e.successor})`),
});

const { location } = await client.create('/items', { title: 'Draft', tags: [] });
const path = new URL(location).pathname;
await client.update(path, (doc) => ({ ...doc, title: 'Release notes' }));
await client.update(path, (doc) => ({ ...doc, tags: ['reviewed'] }));

const { versions, policy } = await client.versions(path);
for (const v of versions) console.log(`v${v.version} ${new Date(v.atMs).toISOString()} ${v.size} bytes${v.deleted ? ' (deleted)' : ''}`);
console.log(`kept: at most ${policy.maxVersions} versions`);

const first = versions.at(-1).version;
const latest = versions[0].version;
console.log(`v${first} was`, (await client.version(path, first)).value);
console.log(`v${first} -> v${latest}:`, JSON.stringify(await client.diff(path, first, latest)));

const restored = await client.restore(path, first);
console.log(`restored v${first} as v${restored.version}:`, restored.value);

// The same document as the v2 envelope, with its version in the body.
const v2 = new Client({ baseUrl, versionField: { pointer: '/version', documentAt: '/data' } });
const id = path.split('/').pop();
const bumped = await v2.update(`/v2/items/${id}`, (env) => ({ ...env, data: { ...env.data, title: 'Via v2' } }));
console.log(`v2 write at version ${bumped.version}:`, bumped.value.data);
console.log('stats:', { deprecatedResponses: client.stats().deprecatedResponses, earliestSunsetMs: client.stats().earliestSunsetMs });
