// Measures the wasm at each build stage (raw and gzip -9) and the section sizes of the shipped file.
// Usage: node scripts/sizes.mjs <cargo.wasm> <after-wasm-bindgen.wasm> <after-wasm-opt.wasm>  (prints JSON)
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const LIMIT_GZIP_BYTES = 265.5 * 1024;
const TARGET_GZIP_BYTES = 100 * 1024;
const SECTION_NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start',
  'element', 'code', 'data', 'datacount', 'tag'];

function measure(path) {
  const bytes = readFileSync(path);
  return { path, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

function readLeb(bytes, offset) {
  let value = 0;
  let shift = 0;
  let pos = offset;
  for (;;) {
    const byte = bytes[pos++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return [value, pos];
  }
}

function sections(path) {
  const bytes = readFileSync(path);
  if (bytes.readUInt32LE(0) !== 0x6d736100) throw new Error(`${path} is not a wasm module`);
  const out = [];
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos];
    const [size, start] = readLeb(bytes, pos + 1);
    let name = SECTION_NAMES[id] ?? `unknown-${id}`;
    if (id === 0) {
      const [len, nameStart] = readLeb(bytes, start);
      name = `custom:${bytes.subarray(nameStart, nameStart + len).toString('utf8')}`;
    }
    out.push({ name, size: start - pos + size });
    pos = start + size;
  }
  return out.sort((a, b) => b.size - a.size);
}

const [cargoWasm, bindgenWasm, optimizedWasm] = process.argv.slice(2);
const report = {
  limitGzipBytes: LIMIT_GZIP_BYTES,
  targetGzipBytes: TARGET_GZIP_BYTES,
  files: { cargo: measure(cargoWasm), wasmBindgen: measure(bindgenWasm), optimized: measure(optimizedWasm) },
  sections: sections(optimizedWasm),
};
console.log(JSON.stringify(report, null, 2));
