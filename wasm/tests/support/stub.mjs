// A scripted HTTP server on 127.0.0.1 for checks the reference server cannot show: the exact
// request headers the client sends, unusual Retry-After forms, a response that never comes.
import { createServer } from 'node:http';

/**
 * Starts a stub; `handle(req, index)` returns `{ status, headers, body }` (body: JSON value, or `raw`: text,
 * or undefined), or `null` to leave the request hanging. Every request is recorded.
 */
export async function startStub(handle) {
  const requests = [];
  const hanging = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => { text += chunk; });
    req.on('end', () => {
      const record = { method: req.method, url: req.url, headers: req.headers, body: text ? JSON.parse(text) : undefined };
      requests.push(record);
      const answer = handle(record, requests.length - 1);
      if (answer === null) {
        hanging.push(res);
        return;
      }
      const payload = answer.raw ?? (answer.body === undefined ? '' : JSON.stringify(answer.body));
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(payload);
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => new Promise((ok) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}
