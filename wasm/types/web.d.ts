// 'ifmatch/web': the same module as 'ifmatch' (kept for code written for it), plus `init` as the
// default export: `import init, { Client } from 'ifmatch/web'`.
export * from './index.js';
import { init } from './index.js';

/** `init`, as the default export (the ES module entries only). */
export default init;
