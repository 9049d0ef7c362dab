//! Reading JSON the way the SDK's JSON library (jsoncpp) does by default: trailing commas
//! before `]` or `}` are accepted. Apps built on the TIM samples send such text (two of the
//! seed's samples have them), so refusing it would break apps that work with the SDK.
//! Anything else that is not JSON is still refused.

use serde::de::DeserializeOwned;

/// Parses `text`, retrying without trailing commas if strict parsing fails.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(strict) => match strip_trailing_commas(text) {
            Some(relaxed) => serde_json::from_str(&relaxed).map_err(|_| strict),
            None => Err(strict),
        },
    }
}

/// `text` without commas that only have whitespace before a closing bracket, or `None` if
/// there are none. Commas inside strings are left alone.
pub fn strip_trailing_commas(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped, mut changed) = (false, false, false);
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b',' => {
                let next = bytes[i + 1..].iter().find(|c| !c.is_ascii_whitespace());
                if matches!(next, Some(b']') | Some(b'}')) {
                    out.push_str(&text[last..i]);
                    last = i + 1;
                    changed = true;
                }
            }
            _ => {}
        }
    }
    changed.then(|| {
        out.push_str(&text[last..]);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_commas_outside_strings_go() {
        assert_eq!(strip_trailing_commas(r#"[1, 2, ]"#).as_deref(), Some("[1, 2 ]"));
        assert_eq!(strip_trailing_commas(r#"{"a": ",}", }"#).as_deref(), Some(r#"{"a": ",}" }"#));
        assert_eq!(strip_trailing_commas(r#"{"a": "\",]"}"#), None);
        assert_eq!(strip_trailing_commas("[1,2]"), None);
    }

    #[test]
    fn other_errors_stay_errors() {
        assert!(from_str::<serde_json::Value>(r#"{"a": 1 "b": 2}"#).is_err());
        assert_eq!(from_str::<Vec<u8>>("[1,2,]").unwrap(), vec![1, 2]);
    }
}
