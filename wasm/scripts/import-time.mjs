// Measures how long loading the package takes in a fresh Node process, for `import` and `require`:
// `node scripts/import-time.mjs [package-dir] [runs]` (default: this package, 15 runs). Prints the
// median and the fastest run of each, in milliseconds (the wasm's compile and instantiation included).
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
const runs = Number(process.argv[3] ?? 15);
const pkg = JSON.parse(execFileSync(process.execPath, ['-p', `JSON.stringify(require(${JSON.stringify(`${dir}/package.json`)}))`]));
const entry = (system) => {
  const root = pkg.exports['.'];
  const target = root.node?.[system] ?? root[system];
  return resolve(dir, typeof target === 'string' ? target : target.default);
};
const scripts = {
  import: ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(entry('import')).href)}); console.log(performance.now() - t);`],
  require: ['-e', `const t = performance.now(); require(${JSON.stringify(entry('require'))}); console.log(performance.now() - t);`],
};
for (const [system, args] of Object.entries(scripts)) {
  const times = [];
  for (let i = 0; i < runs; i += 1) times.push(Number(execFileSync(process.execPath, args, { encoding: 'utf8' }).trim()));
  times.sort((a, b) => a - b);
  console.log(`${system.padEnd(8)} median ${times[Math.floor(times.length / 2)].toFixed(1)} ms  fastest ${times[0].toFixed(1)} ms  (${runs} runs, ${entry(system).slice(dir.length + 1)})`);
}
