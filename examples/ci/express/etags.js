// Entity-tag lists as RFC 9110 §8.8.3 and §13.1 define them, for If-Match and If-None-Match.
'use strict';

const TAG = /^\s*(W\/)?"([^"]*)"\s*$/;

/** `"a", W/"b"` -> [{ weak: false, opaque: 'a' }, { weak: true, opaque: 'b' }]; null if malformed. */
function parseTags(header) {
  const tags = [];
  for (const part of header.split(',')) {
    const m = TAG.exec(part);
    if (!m) return null;
    tags.push({ weak: m[1] !== undefined, opaque: m[2] });
  }
  return tags;
}

const opaqueOf = (etag) => etag.replace(/^W\//, '').replace(/"/g, '');

/** If-Match compares STRONGLY: a weak tag never matches, not even the current tag's W/ form. */
function ifMatchPasses(header, current) {
  if (header.trim() === '*') return current !== null;
  if (current === null) return false;
  const tags = parseTags(header);
  if (tags === null) throw new SyntaxError(`If-Match ${JSON.stringify(header)} is not a list of quoted entity tags`);
  return tags.some((t) => !t.weak && t.opaque === opaqueOf(current));
}

/** If-None-Match compares WEAKLY: W/"x" and "x" both match the current "x". */
function ifNoneMatchMatches(header, current) {
  if (current === null) return false;
  if (header.trim() === '*') return true;
  const tags = parseTags(header);
  if (tags === null) throw new SyntaxError(`If-None-Match ${JSON.stringify(header)} is not a list of quoted entity tags`);
  return tags.some((t) => t.opaque === opaqueOf(current));
}

module.exports = { parseTags, ifMatchPasses, ifNoneMatchMatches };
