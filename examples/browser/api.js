// Where the pages send their requests. By default to this page's own origin, which serve.mjs
// forwards to the reference server (no CORS needed). With `?api=http://127.0.0.1:8080` in the
// page's URL they call the reference server directly, cross-origin: start it with
// `--cors-origin <this page's origin>` (or `node serve.mjs --direct`, which prints both).
const api = new URLSearchParams(location.search).get('api');

export const baseUrl = api ? new URL(api).origin : location.origin;

/** A link to another page of the example that keeps the `?api=` choice. */
export const pageUrl = (page) => `${page}${location.search}`;
