//! JSON Pointer (RFC 6901) paths for reporting where edits overlap.

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
}
