// Development server for the browser example: serves this folder, the package's browser build
// under /ifmatch/, and forwards /items…, /batch, /transactions…, /conflicts… (the conflict stream
// too, unbuffered), /v1/… and /v2/… to the ifmatch reference server, so the page and the API
// share one origin and no CORS is needed.
//
//   cargo run -p ifmatch-server -- --addr 127.0.0.1:8080      # in one terminal
//   wasm/scripts/build.sh && node examples/browser/serve.mjs --api http://127.0.0.1:8080
//
// With --direct it forwards nothing: the pages (opened with ?api=URL, see api.js) call the
// reference server cross-origin, which must allow this origin:
//
//   cargo run -p ifmatch-server -- --addr 127.0.0.1:8080 --cors-origin http://127.0.0.1:8000
//   node examples/browser/serve.mjs --direct --api http://127.0.0.1:8080
import { createServer, request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = resolve(fileURLToPath(new URL('.', import.meta.url)));
const PACKAGE_WEB_BUILD = resolve(HERE, '../../wasm/pkg');
const API_PREFIXES = ['/items', '/batch', '/transactions', '/conflicts', '/v1', '/v2'];
const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
};

/**
 * Starts the server on 127.0.0.1.
 * @param {{ api: string, port?: number, mounts?: Record<string, string>, direct?: boolean }} options
 *   `api`: base URL of the reference server; `mounts`: extra URL prefix → folder pairs;
 *   `direct`: forward nothing (the pages call `api` themselves, cross-origin).
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function startServer({ api, port = 0, mounts = {}, direct = false }) {
  const apiUrl = new URL(api);
  const roots = { '/ifmatch/': PACKAGE_WEB_BUILD, '/': HERE };
  for (const [prefix, folder] of Object.entries(mounts)) roots[prefix] = resolve(folder);
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://localhost').pathname;
    if (path === '/favicon.ico') return res.writeHead(204).end();
    if (!direct && API_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`))) return forward(req, res, apiUrl);
    serveFile(path, roots, res).catch((err) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    });
  });
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  const { port: bound } = server.address();
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

async function serveFile(path, roots, res) {
  const prefix = Object.keys(roots)
    .filter((p) => path.startsWith(p))
    .sort((a, b) => b.length - a.length)[0];
  const root = roots[prefix];
  const relative = decodeURIComponent(path.slice(prefix.length)) || 'index.html';
  const file = normalize(join(root, relative));
  if (!file.startsWith(root + sep) && file !== root) {
    res.writeHead(403, { 'content-type': 'text/plain' }).end('path escapes the served folder');
    return;
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(body);
  } catch (err) {
    if (err.code !== 'ENOENT' && err.code !== 'EISDIR') throw err;
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
  }
}

function forward(req, res, apiUrl) {
  const upstream = request(
    { hostname: apiUrl.hostname, port: apiUrl.port, path: req.url, method: req.method, headers: { ...req.headers, host: apiUrl.host } },
    (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      // Server-Sent Events (the conflict stream) must reach the page as they come: send the head
      // now and every chunk as soon as it arrives (pipe writes each one through; no Nagle delay).
      res.flushHeaders();
      res.socket?.setNoDelay(true);
      answer.pipe(res);
    },
  );
  // The page closed the stream (or went away): close it upstream too, or the reference server
  // keeps a subscriber that nobody reads.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  upstream.on('error', (err) => {
    res.writeHead(502, { 'content-type': 'text/plain' }).end(`reference server unreachable at ${apiUrl.origin}: ${err.message}`);
  });
  req.pipe(upstream);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const flag = (name, fallback) => {
    const at = args.indexOf(name);
    return at >= 0 && args[at + 1] ? args[at + 1] : fallback;
  };
  const api = flag('--api', 'http://127.0.0.1:8080');
  const direct = args.includes('--direct');
  const { url } = await startServer({ api, port: Number(flag('--port', '8000')), direct });
  if (direct) {
    console.log(`browser example on ${url}/?api=${api} (calls ${api} directly: start it with --cors-origin ${url})`);
  } else {
    console.log(`browser example on ${url}/ (API forwarded to ${api})`);
  }
}
