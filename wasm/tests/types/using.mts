// Compiled by `tsc --strict` with TypeScript's own lib esnext (tsconfig.esnext.json) and with lib
// es2022 (tsconfig.json, where the declarations' own Symbol.dispose, Disposable and AsyncDisposable
// stand in): `await using` accepts a Lock and a Transaction, whose [Symbol.asyncDispose] the
// declarations give, and `using` accepts a Client.
import { Client } from 'ifmatch';

export async function underLock(url: string): Promise<number> {
  using client = new Client({ baseUrl: 'http://127.0.0.1:8080' });
  await using lock = await client.lock(url, { ttl: 10_000, wait: 5_000 });
  const read = await client.get<{ n: number }>(url);
  await client.put(url, { n: read.value.n + 1 }, { unconditional: true, lock });
  return lock.fencing ?? 0;
}

export async function inTransaction(url: string): Promise<number> {
  using client = new Client({ baseUrl: 'http://127.0.0.1:8080' });
  await using tx = await client.begin({ ttl: 10_000 });
  const read = await tx.get<{ n: number }>(url);
  await tx.put(url, { n: read.value.n + 1 }, { ifMatch: read.etag });
  const done = await tx.commit();
  return done.results.length;
}
