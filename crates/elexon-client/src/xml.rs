//! The tolerant XML stack parser (the ASP.NET `XmlSerializer` shape the API serves), on roxmltree.
//!
//! The parser does not depend on the envelope's details: element local names are matched
//! case-insensitively, namespaces and unknown elements and attributes are ignored,
//! `xsi:nil="true"` and empty elements are null, and an element is one item wherever it sits
//! when it has both a `settlementPeriod` child and a `volume` child. So that a broken item is
//! reported rather than skipped, an element that has one of those two children and at least
//! three distinct stack-item fields in all is an item too (and then fails for the field it
//! lacks). Items are not looked for inside items.

use roxmltree::{Document, Node, ParsingOptions};
use settlement_model::{SettlementDate, Side, StackItem};

use crate::fields::{Asked, Field, ItemBuilder, Raw};
use crate::{Format, ParseError};

/// The most nodes a stack document may have (a 20,000-item document has about two million).
/// DTDs are refused outright (roxmltree's default), so no entity can expand past this.
const MAX_NODES: u32 = 16_000_000;

/// Parses an XML stack document for `date`, `period`, `side` into its items, in document
/// order.
///
/// Errors: a body that is not well-formed UTF-8 XML, or that has a DTD, is
/// [`ParseError::Malformed`]; an item without `settlementPeriod` or `volume` is
/// [`ParseError::MissingField`]; a value that does not parse is [`ParseError::InvalidValue`];
/// an item of another date or period is [`ParseError::WrongDocument`]. Item errors carry the
/// item's 0-based index among the document's items and the field's API name.
///
/// ```
/// use elexon_client::parse_stack_xml;
/// use settlement_model::Side;
/// let date = "2024-03-21".parse().unwrap();
/// let xml = br#"<Response><data><item><settlementPeriod>35</settlementPeriod>
///     <id>T_WHILW-1</id><volume>-52.5</volume><soFlag>true</soFlag></item></data></Response>"#;
/// let items = parse_stack_xml(xml, date, 35, Side::Bid).unwrap();
/// assert_eq!(items[0].volume.to_string(), "-52.5");
/// assert!(parse_stack_xml(xml, date, 36, Side::Bid).is_err()); // another period
/// ```
pub fn parse_stack_xml(
    body: &[u8],
    date: SettlementDate,
    period: u8,
    side: Side,
) -> Result<Vec<StackItem>, ParseError> {
    let asked = Asked { date, period, side };
    let malformed = |message: String| ParseError::Malformed {
        date,
        period,
        side,
        format: Format::Xml,
        message,
    };
    let text = std::str::from_utf8(body).map_err(|e| malformed(format!("not UTF-8: {e}")))?;
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, options).map_err(|e| malformed(e.to_string()))?;

    let mut items = Vec::new();
    let mut fields: Vec<(Field, Node<'_, '_>)> = Vec::with_capacity(32);
    // Depth-first in document order, with an explicit stack (no recursion on deep input).
    let mut pending = vec![doc.root_element()];
    while let Some(node) = pending.pop() {
        if item_fields(node, &mut fields) {
            let mut item = ItemBuilder::new(asked, items.len());
            for &(field, child) in &fields {
                match value_of(child) {
                    Value::Borrowed(raw) => item.set(field, raw)?,
                    Value::Owned(text) => item.set(field, Raw::Text(&text))?,
                }
            }
            items.push(item.finish()?);
        } else {
            let mut child = node.last_element_child();
            while let Some(c) = child {
                pending.push(c);
                child = c.prev_sibling_element();
            }
        }
    }
    Ok(items)
}

/// Collects the stack-item fields among `node`'s children into `fields`, and says whether
/// `node` is an item.
fn item_fields<'a, 'input>(
    node: Node<'a, 'input>,
    fields: &mut Vec<(Field, Node<'a, 'input>)>,
) -> bool {
    fields.clear();
    let mut seen: u32 = 0;
    for child in node.children().filter(Node::is_element) {
        if let Some(field) = Field::lookup(child.tag_name().name()) {
            seen |= 1 << (field as u32);
            fields.push((field, child));
        }
    }
    let period = seen & (1 << (Field::SettlementPeriod as u32)) != 0;
    let volume = seen & (1 << (Field::Volume as u32)) != 0;
    (period && volume) || ((period || volume) && seen.count_ones() >= 3)
}

enum Value<'a> {
    Borrowed(Raw<'a>),
    Owned(String),
}

/// The value of a field element: null when nil or empty, else its text.
fn value_of<'a>(node: Node<'a, '_>) -> Value<'a> {
    let nil = node
        .attributes()
        .any(|a| a.name().eq_ignore_ascii_case("nil") && matches!(a.value().trim(), "true" | "1"));
    if nil {
        return Value::Borrowed(Raw::Null);
    }
    let Some(first) = node.first_child() else {
        return Value::Borrowed(Raw::Null);
    };
    if first.is_text() && first.next_sibling().is_none() {
        return Value::Borrowed(first.text().map_or(Raw::Null, Raw::Text));
    }
    if node.children().any(|c| c.is_element()) {
        return Value::Borrowed(Raw::Unexpected("<nested elements>"));
    }
    // Text split by comments or processing instructions.
    let text: String = node
        .children()
        .filter(Node::is_text)
        .filter_map(|c| c.text())
        .collect();
    Value::Owned(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date() -> SettlementDate {
        "2024-03-21".parse().unwrap()
    }

    #[test]
    fn split_text_is_joined() {
        let xml = b"<r><i><settlementPeriod>3<!-- c -->5</settlementPeriod><volume>-1<?pi x?>.5</volume></i></r>";
        let items = parse_stack_xml(xml, date(), 35, Side::Bid).unwrap();
        assert_eq!(items[0].volume.to_string(), "-1.5");
    }

    #[test]
    fn nested_value_is_an_error() {
        let xml = b"<r><i><settlementPeriod>35</settlementPeriod><volume><v>1</v></volume></i></r>";
        let err = parse_stack_xml(xml, date(), 35, Side::Bid).unwrap_err();
        assert_eq!(err.field(), Some("volume"));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let depth = 5_000;
        let mut xml = "<a>".repeat(depth);
        xml.push_str("<i><settlementPeriod>35</settlementPeriod><volume>1</volume></i>");
        xml.push_str(&"</a>".repeat(depth));
        // roxmltree may refuse the depth itself; either way no stack overflow and no panic.
        match parse_stack_xml(xml.as_bytes(), date(), 35, Side::Bid) {
            Ok(items) => assert_eq!(items.len(), 1),
            Err(e) => assert!(e.is_malformed(), "{e}"),
        }
    }
}
