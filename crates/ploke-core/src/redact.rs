//! Keeping secrets out of what ploke prints, logs and stores.
//!
//! Two kinds of secret reach error messages: an API key that a server echoes back in an
//! error body (some proxies return the request's `Authorization` header), and a password
//! written into a URL (`http://user:KEY@host/v1`), which HTTP clients repeat in their errors.
//! Every message built from a server's answer or a configured URL goes through these.

/// What a hidden secret is shown as.
pub const REDACTED: &str = "<redacted>";

/// Secrets shorter than this are not searched for: replacing every `a` of a message
/// because someone set a one-letter key would hide the message, not the key.
const MIN_SECRET_LEN: usize = 4;

/// `text` with every occurrence of each secret replaced by [`REDACTED`], the password of
/// every URL in it masked (see [`url_for_display`]), and every `Basic` credential masked (an
/// HTTP client sends a URL's `user:password` base64-encoded, and a server may echo it).
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = mask_basic_credentials(&mask_url_passwords(text));
    for secret in secrets {
        let secret = secret.trim();
        if secret.len() >= MIN_SECRET_LEN && out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
    }
    out
}

/// `url` as it may be shown: the password of its user info masked
/// (`http://user:KEY@host/v1` → `http://user:<redacted>@host/v1`), a user name alone
/// kept. Anything that is not a URL comes back unchanged.
pub fn url_for_display(url: &str) -> String {
    mask_url_passwords(url)
}

/// `text` with the token after each `Basic ` (any case) masked when it is base64 of
/// `user:password`; other words after "basic" are left alone.
fn mask_basic_credentials(text: &str) -> String {
    const WORD: &str = "basic ";
    // ASCII lowercasing keeps every byte offset.
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some(at) = lower[from..].find(WORD) {
        let start = from + at + WORD.len();
        let len = text[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
            .unwrap_or(text.len() - start);
        out.push_str(&text[from..start]);
        let token = &text[start..start + len];
        if base64_decode(token).is_some_and(|b| b.contains(&b':')) {
            out.push_str(REDACTED);
        } else {
            out.push_str(token);
        }
        from = start + len;
    }
    out.push_str(&text[from..]);
    out
}

/// Standard base64 (padding optional); `None` when `s` is not that.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    if s.len() < 4 || s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// The password (the part after `user:`) of the user info of each `scheme://` URL in `text`.
fn mask_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let authority_start = at + 3;
        out.push_str(&rest[..authority_start]);
        let after = &rest[authority_start..];
        // The authority ends at the path, query, fragment or anything a URL cannot hold.
        let end = after
            .find(|c: char| {
                matches!(c, '/' | '?' | '#')
                    || c.is_whitespace()
                    || matches!(c, '"' | '\'' | ')' | '>' | '<')
            })
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                let userinfo = &authority[..userinfo_end];
                match userinfo.find(':') {
                    Some(colon) if colon + 1 < userinfo.len() => {
                        out.push_str(&userinfo[..=colon]);
                        out.push_str(REDACTED);
                        out.push_str(&authority[userinfo_end..]);
                    }
                    _ => out.push_str(authority),
                }
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The password in the user info of `url`, if it has one (to add to the secrets that
/// [`redact`] hides, in case a client prints it percent-decoded or on its own).
pub fn url_password(url: &str) -> Option<&str> {
    let after = &url[url.find("://")? + 3..];
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let userinfo = &after[..after[..end].rfind('@')?];
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_url_passwords_and_keeps_the_rest() {
        assert_eq!(
            url_for_display("http://u:sk-secret@host:8080/v1"),
            "http://u:<redacted>@host:8080/v1"
        );
        assert_eq!(
            url_for_display("https://host/v1?x=1"),
            "https://host/v1?x=1"
        );
        assert_eq!(url_for_display("http://user@host/"), "http://user@host/");
        assert_eq!(url_for_display("no url here"), "no url here");
        assert_eq!(
            redact("error sending request for url (http://a:b-c-d@127.0.0.1:9/v1/embeddings): refused", &[]),
            "error sending request for url (http://a:<redacted>@127.0.0.1:9/v1/embeddings): refused"
        );
        // Two URLs, an '@' in the path of the first.
        assert_eq!(
            redact("http://h/a@b then https://x:y@z/", &[]),
            "http://h/a@b then https://x:<redacted>@z/"
        );
    }

    #[test]
    fn replaces_every_occurrence_of_a_secret() {
        let text = "401: invalid key: Bearer sk-planted-123 (sk-planted-123)";
        assert_eq!(
            redact(text, &["sk-planted-123"]),
            "401: invalid key: Bearer <redacted> (<redacted>)"
        );
        // Too short to search for.
        assert_eq!(redact("a b c", &["a"]), "a b c");
    }

    #[test]
    fn masks_basic_credentials_and_nothing_else() {
        // base64("user:sk-secret")
        assert_eq!(
            redact(
                r#"{"authorization": "Basic dXNlcjpzay1zZWNyZXQ=, Bearer x"}"#,
                &[]
            ),
            r#"{"authorization": "Basic <redacted>, Bearer x"}"#
        );
        assert_eq!(
            redact("authorization: basic dXNlcjpzay1zZWNyZXQ", &[]),
            "authorization: basic <redacted>"
        );
        // Words, and base64 that is not `user:password`, stay.
        assert_eq!(
            redact("use Basic authentication; basic Zm9vYmFy", &[]),
            "use Basic authentication; basic Zm9vYmFy"
        );
    }

    #[test]
    fn finds_the_password_of_a_url() {
        assert_eq!(url_password("http://u:KEY@host/v1"), Some("KEY"));
        assert_eq!(url_password("http://u@host/v1"), None);
        assert_eq!(url_password("http://host/v1"), None);
        assert_eq!(url_password("http://host/a:b@c"), None);
    }
}
