// Where the wasm's size comes from: code bytes per function (from the `name` section of the
// unstripped cargo output), summed per crate, plus the largest functions.
// Usage: node scripts/wasm-profile.mjs <unstripped.wasm> [topN]
import { readFileSync } from 'node:fs';

const [path, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const bytes = readFileSync(path);

function leb(pos) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(b & 0x80)) return [value, pos];
  }
}

let importedFunctions = 0;
const bodies = [];
const names = new Map();
let dataBytes = 0;
let pos = 8;
while (pos < bytes.length) {
  const id = bytes[pos];
  const [size, start] = leb(pos + 1);
  const end = start + size;
  if (id === 2) {
    let [count, p] = leb(start);
    for (let i = 0; i < count; i++) {
      let len;
      [len, p] = leb(p); p += len; // module
      [len, p] = leb(p); p += len; // field
      const kind = bytes[p++];
      if (kind === 0) { importedFunctions++; [, p] = leb(p); }
      else if (kind === 1) { p++; const flags = bytes[p++]; [, p] = leb(p); if (flags & 1) [, p] = leb(p); }
      else if (kind === 2) { const flags = bytes[p++]; [, p] = leb(p); if (flags & 1) [, p] = leb(p); }
      else if (kind === 3) { p += 2; }
      else if (kind === 4) { p++; [, p] = leb(p); }
    }
  } else if (id === 10) {
    let [count, p] = leb(start);
    for (let i = 0; i < count; i++) {
      const [len, q] = leb(p);
      bodies.push(q + len - p);
      p = q + len;
    }
  } else if (id === 11) {
    dataBytes = size;
  } else if (id === 0) {
    const [nameLen, q] = leb(start);
    const sectionName = bytes.subarray(q, q + nameLen).toString();
    if (sectionName === 'name') {
      let p = q + nameLen;
      while (p < end) {
        const sub = bytes[p];
        const [subSize, s] = leb(p + 1);
        if (sub === 1) {
          let [count, r] = leb(s);
          for (let i = 0; i < count; i++) {
            let idx; let len;
            [idx, r] = leb(r);
            [len, r] = leb(r);
            names.set(idx, bytes.subarray(r, r + len).toString());
            r += len;
          }
        }
        p = s + subSize;
      }
    }
  }
  pos = end;
}

// The crate a (legacy or v0) mangled Rust symbol belongs to; the first path segment decides.
function crateOf(name) {
  if (name.startsWith('_ZN')) {
    const m = name.slice(3).match(/^(\d+)/);
    if (!m) return 'other';
    let segment = name.slice(3 + m[1].length, 3 + m[1].length + Number(m[1]));
    segment = segment.replace(/^_?\$LT\$/, '').replace(/^(\$RF\$|mut\$u20\$|dyn\$u20\$|\$u5b\$)+/g, '');
    return segment.split('..')[0].split('$')[0] || 'other';
  }
  if (name.startsWith('_R')) {
    const m = name.match(/C(?:s[0-9A-Za-z]*_)?(\d+)/);
    if (m) return name.substr(m.index + m[0].length, Number(m[1]));
  }
  if (name.startsWith('__wbindgen') || name.startsWith('__wbg')) return 'wasm-bindgen glue';
  // Demangled (wasm-bindgen output): `<core::option::Option<T> as …>::f`, `alloc[hash]::vec::…`.
  const head = name.replace(/^(?:<|&|mut |dyn |\(|\[)+/, '').split(/::|<| /)[0];
  return head.replace(/\[[0-9a-f]+\]$/, '').slice(0, 40) || 'other';
}

const functions = bodies.map((size, i) => ({ size, name: names.get(i + importedFunctions) ?? `func${i + importedFunctions}` }));
const perCrate = new Map();
for (const f of functions) perCrate.set(crateOf(f.name), (perCrate.get(crateOf(f.name)) ?? 0) + f.size);
const total = functions.reduce((a, f) => a + f.size, 0);
console.log(`code ${(total / 1024).toFixed(1)} KB in ${functions.length} functions; data ${(dataBytes / 1024).toFixed(1)} KB`);
if (process.env.DATA_STRINGS) {
  // Printable runs in the data section, longest first: shows what the data bytes are.
  const text = bytes.toString('latin1');
  const runs = text.match(/[\x20-\x7e]{24,}/g) ?? [];
  const sum = runs.reduce((a, r) => a + r.length, 0);
  console.log(`printable runs of 24+ chars in the file: ${(sum / 1024).toFixed(1)} KB`);
  for (const r of runs.sort((a, b) => b.length - a.length).slice(0, Number(process.env.DATA_STRINGS))) console.log('  ' + r.slice(0, 160));
}
console.log('\nby crate (KB):');
for (const [crate, size] of [...perCrate].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(size / 1024).toFixed(1).padStart(8)}  ${crate}`);
console.log('\nlargest functions (KB):');
for (const f of functions.sort((a, b) => b.size - a.size).slice(0, top)) console.log(`${(f.size / 1024).toFixed(1).padStart(8)}  ${f.name.slice(0, 150)}`);
