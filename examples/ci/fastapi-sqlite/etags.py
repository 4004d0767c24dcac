"""Entity-tag lists as RFC 9110 §8.8.3 and §13.1 define them, for If-Match and If-None-Match."""

import re

# One entity tag: optional W/, then a quoted opaque value without `"`.
_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*')


def parse_tags(header: str) -> list[tuple[bool, str]]:
    """`"a", W/"b"` -> [(False, "a"), (True, "b")]. Raises ValueError for anything else."""
    tags, pos = [], 0
    while True:
        m = _TAG.match(header, pos)
        if m is None:
            raise ValueError(f"{header!r} is not a list of quoted entity tags")
        tags.append((m.group(1) is not None, m.group(2)))
        pos = m.end()
        if pos == len(header):
            return tags
        if header[pos] != ",":
            raise ValueError(f"{header!r} is not a list of quoted entity tags")
        pos += 1


def _opaque(etag: str) -> str:
    return etag.removeprefix("W/").strip('"')


def if_match_passes(header: str, current: str) -> bool:
    """If-Match uses STRONG comparison: a weak tag never matches, even the current one's W/ form."""
    if header.strip() == "*":
        return True
    return any(not weak and opaque == _opaque(current) for weak, opaque in parse_tags(header))


def if_none_match_matches(header: str, current: str) -> bool:
    """If-None-Match uses WEAK comparison: W/"x" and "x" both match the current "x"."""
    if header.strip() == "*":
        return True
    return any(opaque == _opaque(current) for _, opaque in parse_tags(header))
