//! `${NAME}` substitution on the parsed TOML tree, and its conversion to JSON
//! values (what the shape tables deserialise from).

use serde_json::{Map, Number, Value};

/// Replaces `${NAME}` in `text` with `env(NAME)`; `$${` stands for a literal `${`.
/// `file` names the configuration file in errors.
pub(super) fn substitute(
    text: &str,
    file: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let end = after.find('}').ok_or_else(|| {
                format!(
                    "{file}: {text:?} opens ${{ without a closing }}; write ${{NAME}}, or $${{ for a literal ${{"
                )
            })?;
            let name = &after[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "{file}: ${{{name}}} is not an environment variable name; write ${{NAME}} with letters, digits and _, or $${{ for a literal ${{"
                ));
            }
            let value = env(name).ok_or_else(|| {
                format!(
                    "{file}: ${{{name}}} names the environment variable {name}, which is not set; set it, or write $${{ for a literal ${{"
                )
            })?;
            out.push_str(&value);
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The TOML value `value` (at `key`) as JSON, with every string substituted.
pub(super) fn to_json(
    value: toml::Value,
    key: &str,
    file: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Value, String> {
    Ok(match value {
        toml::Value::String(s) => Value::String(substitute(&s, file, env)?),
        toml::Value::Integer(i) => Value::Number(i.into()),
        toml::Value::Float(f) => Value::Number(
            Number::from_f64(f).ok_or_else(|| format!("{file}: `{key}` = {f} is not a number"))?,
        ),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => {
            return Err(format!(
            "{file}: `{key}` = {d} is a date, which no setting takes; quote it to make it a string"
        ))
        }
        toml::Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| to_json(v, key, file, env))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(table) => {
            let mut map = Map::new();
            for (k, v) in table {
                let inner = format!("{key}.{k}");
                map.insert(k, to_json(v, &inner, file, env)?);
            }
            Value::Object(map)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "s3cret".to_owned())
    }

    #[test]
    fn variables_are_replaced_and_escapes_kept() {
        let sub = |s| substitute(s, "f.toml", &env);
        assert_eq!(sub("Bearer ${TOKEN}").unwrap(), "Bearer s3cret");
        assert_eq!(sub("${TOKEN}${TOKEN}").unwrap(), "s3crets3cret");
        assert_eq!(sub("$${TOKEN} costs $5").unwrap(), "${TOKEN} costs $5");
        assert_eq!(sub("a$").unwrap(), "a$");
        let err = sub("${MISSING}").unwrap_err();
        assert!(err.contains("MISSING") && err.contains("f.toml"), "{err}");
        assert!(sub("${TOKEN").unwrap_err().contains("closing"));
        assert!(sub("${A B}").unwrap_err().contains("not an environment"));
    }

    #[test]
    fn values_convert_to_json() {
        let table: toml::Table = "a = [1, 2.5, true, \"${TOKEN}\"]\nb = { c = \"x\" }"
            .parse()
            .unwrap();
        let json = to_json(toml::Value::Table(table), "", "f", &env).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "a": [1, 2.5, true, "s3cret"], "b": { "c": "x" } })
        );
        let table: toml::Table = "d = 1979-05-27".parse().unwrap();
        let err = to_json(toml::Value::Table(table), "top", "f", &env).unwrap_err();
        assert!(err.contains("top.d") && err.contains("quote"), "{err}");
    }
}
