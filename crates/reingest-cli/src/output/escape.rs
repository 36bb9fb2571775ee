//! Escaping text that comes from outside (reasons, names, lead parties) for the pages this
//! library writes: one HTML escape for the run's report and the status calendar.

/// `text` safe in HTML element content and in quoted attribute values.
///
/// ```
/// assert_eq!(reingest::output::escape::html(r#"<img src=x onerror="a('b')">&"#),
///            "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;");
/// ```
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
