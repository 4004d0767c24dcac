// Settings the test command (wasm/scripts/test.sh) passes in; a clear error when one is missing.
function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through wasm/scripts/test.sh, which starts the reference servers`);
  return value;
}

export const env = {
  /** Reference server answering a stale If-Match with 412. */
  get url() { return need('IFMATCH_URL'); },
  /** Reference server answering a stale If-Match with 409. */
  get url409() { return need('IFMATCH_URL_409'); },
  /** Reference server with a rate limit of 1 request per second (burst 1). */
  get urlLimited() { return need('IFMATCH_URL_LIMITED'); },
  /** Reference server with tokens: clients alice and bob, admin root (`<name>-token`). */
  get urlAuth() { return need('IFMATCH_URL_AUTH'); },
  /** Reference server with `--cors-origin '*'`, for pages that call it directly from another origin. */
  get urlCors() { return need('IFMATCH_URL_CORS'); },
  /** Chromium executable. */
  get chromium() { return process.env.IFMATCH_CHROMIUM || '/usr/bin/chromium'; },
  /** Folder for screenshots (git-ignored). */
  get output() { return need('IFMATCH_TEST_OUTPUT'); },
};
