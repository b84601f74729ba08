//! Makes text from outside (a target's bodies, headers, paths) safe to print, and redacts
//! secrets where things are printed.

/// Replaces control characters (ANSI escapes included) with `\u{…}` escapes.
pub fn for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// At most `max` characters of `text`, marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}… [{} more bytes]", &text[..i], text.len() - i),
        None => text.to_string(),
    }
}

/// Replaces every occurrence of each secret in `text` with `[redacted]`.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(secret, "[redacted]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters_but_keeps_lines() {
        assert_eq!(for_terminal("a\x1b[31mb\nc"), "a\\u{1b}[31mb\nc");
    }

    #[test]
    fn truncates_on_character_boundaries() {
        assert_eq!(truncate("héllo", 2), "hé… [3 more bytes]");
        assert_eq!(truncate("abc", 5), "abc");
    }

    #[test]
    fn redacts_every_occurrence() {
        assert_eq!(redact("t=SECRET x SECRET", &["SECRET"]), "t=[redacted] x [redacted]");
        assert_eq!(redact("abc", &[""]), "abc");
    }
}
