//! JSON Pointer (RFC 6901): building paths (where edits overlap, where a patch applies) and
//! parsing them (patches, the version field).

/// Appends `/<key>` with `~` and `/` escaped, returning the previous length for [`pop`].
pub(crate) fn push(path: &mut String, key: &str) -> usize {
    let len = path.len();
    path.push('/');
    for c in key.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
    len
}

/// Restores the path to what it was before the matching [`push`].
pub(crate) fn pop(path: &mut String, len: usize) {
    path.truncate(len);
}

/// The reference tokens of a JSON Pointer, unescaped (`~1` → `/`, then `~0` → `~`); `""` is
/// the whole document (no tokens). `Err` names what is wrong: a pointer that does not start
/// with `/`, or a `~` not followed by `0` or `1`.
pub(crate) fn tokens(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(format!(
            "{pointer:?} is not a JSON Pointer: it must be empty or start with `/` (e.g. \"/version\")"
        ));
    };
    rest.split('/')
        .map(|token| {
            let mut out = String::with_capacity(token.len());
            let mut chars = token.chars();
            while let Some(c) = chars.next() {
                if c != '~' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('0') => out.push('~'),
                    Some('1') => out.push('/'),
                    _ => {
                        return Err(format!(
                            "{pointer:?} is not a JSON Pointer: `~` must be followed by 0 or 1 (write `~0` for `~` and `~1` for `/`)"
                        ))
                    }
                }
            }
            Ok(out)
        })
        .collect()
}

/// An array index token: digits without a leading zero (RFC 6901 §4).
pub(crate) fn index(token: &str) -> Option<usize> {
    let valid = !token.is_empty()
        && token.bytes().all(|b| b.is_ascii_digit())
        && (token == "0" || !token.starts_with('0'));
    valid.then(|| token.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_tilde_and_slash() {
        let mut path = String::new();
        let a = push(&mut path, "a/b");
        push(&mut path, "m~n");
        assert_eq!(path, "/a~1b/m~0n");
        pop(&mut path, a);
        assert_eq!(path, "");
    }

    #[test]
    fn tokens_unescape_in_the_rfc_order() {
        assert_eq!(tokens("").unwrap(), Vec::<String>::new());
        assert_eq!(tokens("/").unwrap(), [""]);
        assert_eq!(tokens("/a~1b/m~0n/~01").unwrap(), ["a/b", "m~n", "~1"]);
        assert_eq!(tokens("/metadata/resourceVersion").unwrap().len(), 2);
    }

    #[test]
    fn malformed_pointers_say_why() {
        assert!(tokens("version").unwrap_err().contains("start with `/`"));
        assert!(tokens("/a~2").unwrap_err().contains("~0"));
        assert!(tokens("/a~").unwrap_err().contains("~0"));
    }

    #[test]
    fn array_indices_have_no_leading_zeros() {
        assert_eq!(index("0"), Some(0));
        assert_eq!(index("12"), Some(12));
        for bad in ["01", "", "-", "1a", "-1"] {
            assert_eq!(index(bad), None, "{bad}");
        }
    }
}
