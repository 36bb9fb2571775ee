//! Redaction of credentials from URLs, connection strings and any text that holds them: the
//! one function every crate uses before a URL is printed, logged or stored.

/// Names whose values are secrets wherever they appear as `NAME=value` (a URL's query
/// string or a libpq connection string), compared case-insensitively.
pub const SECRET_KEYS: &[&str] = &[
    "apikey",
    "api_key",
    "key",
    "token",
    "secret",
    "password",
    "access_token",
    "signature",
];

/// `text` (a URL, a connection string, or a message holding either) with its credentials
/// replaced by `***`: the user-info of every `http(s)://user:password@` (user names of an
/// API URL may be tokens too), the password of every other `scheme://user:password@` (a
/// database role name is kept: the DBA needs it), and the value of every `NAME=value` whose
/// name is one of [`SECRET_KEYS`] (any case, e.g. `APIKey=`).
///
/// ```
/// use settlement_model::redact_url;
/// assert_eq!(
///     redact_url("postgres://user:secret@db.example:5432/x"),
///     "postgres://user:***@db.example:5432/x"
/// );
/// assert_eq!(
///     redact_url("https://me:pw@api.example/v1/x?APIKey=abc&format=xml"),
///     "https://***@api.example/v1/x?APIKey=***&format=xml"
/// );
/// assert_eq!(redact_url("sqlite://data/reingest.db"), "sqlite://data/reingest.db");
/// ```
pub fn redact_url(text: &str) -> String {
    redact_pairs(&redact_user_info(text))
}

/// Replaces the credentials of every `scheme://…@` authority in `text`.
fn redact_user_info(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let scheme_start = head[..pos]
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let scheme = &head[scheme_start..pos];
        let whole_user_info =
            scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
        // The authority ends at the path, query, fragment, whitespace, a quote or the end.
        let end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'') || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) if whole_user_info => {
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            Some(at) => {
                let user_info = &authority[..at];
                match user_info.find(':') {
                    Some(colon) => {
                        out.push_str(&user_info[..colon]);
                        out.push_str(":***");
                    }
                    None => out.push_str(user_info),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Replaces the value of every secret `NAME=value` pair in `text`.
fn redact_pairs(text: &str) -> String {
    let bytes = text.as_bytes();
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            let mut start = i;
            while start > copied && is_name(bytes[start - 1]) {
                start -= 1;
            }
            let bounded = start == 0
                || matches!(
                    bytes[start - 1],
                    b'?' | b'&' | b';' | b',' | b'(' | b'"' | b'\''
                )
                || bytes[start - 1].is_ascii_whitespace();
            let name = &text[start..i];
            if bounded && SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(name)) {
                let end = bytes[i + 1..]
                    .iter()
                    .position(|&b| {
                        matches!(b, b'&' | b'#' | b'"' | b'\'') || b.is_ascii_whitespace()
                    })
                    .map_or(bytes.len(), |p| i + 1 + p);
                out.push_str(&text[copied..=i]);
                if end > i + 1 {
                    out.push_str("***");
                }
                copied = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn credentials_are_redacted_everywhere() {
        let check = |input: &str, expected: &str| assert_eq!(redact_url(input), expected);
        check("postgres://u:secret@h/db", "postgres://u:***@h/db");
        check("postgresql://u@h/db", "postgresql://u@h/db");
        check(
            "failed for postgres://a:b@c:1/x and postgres://d:e@f/y",
            "failed for postgres://a:***@c:1/x and postgres://d:***@f/y",
        );
        check("postgres://u:p%40ss@h", "postgres://u:***@h");
        check("postgres://u:p@ss@h/db", "postgres://u:***@h/db");
        check(
            "host=h password=hunter2 user=u",
            "host=h password=*** user=u",
        );
        check(
            "postgres://h/db?password=x&a=1",
            "postgres://h/db?password=***&a=1",
        );
        check(
            "http://user:pw@127.0.0.1:9/api?APIKey=SECRET&format=xml",
            "http://***@127.0.0.1:9/api?APIKey=***&format=xml",
        );
        check("https://tok@host/x", "https://***@host/x");
        check(
            "GET (https://h/x?a=1&Token=t1&SIGNATURE=s2#frag)",
            "GET (https://h/x?a=1&Token=***&SIGNATURE=***#frag)",
        );
        check(
            "?key=1&apikey=2&api_key=3&secret=4&access_token=5",
            "?key=***&apikey=***&api_key=***&secret=***&access_token=***",
        );
        // Names that merely end in a secret word, and empty values, are left alone.
        check("?monkey=1&sslkey=/p&key=", "?monkey=1&sslkey=/p&key=");
        check("no url here, a=b", "no url here, a=b");
        check("héllo://ü:ß@x/ key=ä", "héllo://ü:***@x/ key=***");
        check("", "");
    }
}
