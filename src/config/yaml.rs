//! The raw layer: YAML text to a tree of nodes that remember where they came from.
//!
//! Built from `saphyr-parser` events rather than `saphyr`'s loaded document because the loaded
//! mapping is a hash map: it would merge duplicate keys silently and lose the key order and key
//! positions we want for diagnostics. Mappings here are ordered lists of `(key, value)`, keys
//! are strings with their own positions, aliases are expanded (with a cap on the total number of
//! nodes, so an alias bomb cannot exhaust memory) and `<<` merge keys are applied. Scalars keep
//! their text and whether they were quoted; typing them (int, bool, ...) is the validator's job.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::spanned::Position;

/// Most nodes a document may expand to (aliases included).
const MAX_NODES: usize = 200_000;

/// Deepest nesting of lists and mappings accepted (the tree is dropped and cloned recursively).
const MAX_DEPTH: usize = 128;

/// A YAML node and the position where it starts.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub pos: Position,
    pub value: Value,
}

#[derive(Clone, Debug)]
pub(crate) enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A scalar's text as written (after YAML unescaping and folding).
#[derive(Clone, Debug)]
pub(crate) struct Scalar {
    pub text: String,
    /// Plain (unquoted, not a block scalar): only plain scalars can be null, bool or numbers.
    pub plain: bool,
    /// The scalar style, kept so a [`super::spanned::Spanned`] string can map offsets back to
    /// source lines.
    pub style: ScalarStyle,
}

/// One `key: value` pair of a mapping.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub key: String,
    pub key_pos: Position,
    pub value: Node,
}

/// A YAML syntax problem with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub pos: Position,
    pub message: String,
}

impl Node {
    pub fn describe(&self) -> &'static str {
        match &self.value {
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
            Value::Scalar(s) if s.plain => match classify_plain(&s.text) {
                Plain::Null => "null",
                Plain::Bool(_) => "a boolean",
                Plain::Int(_) => "an integer",
                Plain::Float => "a number",
                Plain::Str => "a string",
            },
            Value::Scalar(_) => "a string",
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(s) if s.plain && classify_plain(&s.text) == Plain::Null)
    }
}

/// What a plain scalar means under the YAML 1.2 core schema.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Plain {
    Null,
    Bool(bool),
    Int(i128),
    Float,
    Str,
}

pub(crate) fn classify_plain(text: &str) -> Plain {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Plain::Null,
        "true" | "True" | "TRUE" => return Plain::Bool(true),
        "false" | "False" | "FALSE" => return Plain::Bool(false),
        _ => {}
    }
    if let Some(i) = parse_int(text) {
        return Plain::Int(i);
    }
    let t = text.trim_start_matches(['-', '+']);
    let is_special =
        matches!(t, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN");
    let looks_numeric = t.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'));
    if is_special || (looks_numeric && text.parse::<f64>().is_ok()) {
        return Plain::Float;
    }
    Plain::Str
}

fn parse_int(text: &str) -> Option<i128> {
    if let Some(hex) = text.strip_prefix("0x") {
        return i128::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return i128::from_str_radix(oct, 8).ok();
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn position(span: &Span) -> Position {
    Position::new(span.start.line(), span.start.col() + 1)
}

enum Frame {
    Seq {
        pos: Position,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Position,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<Node>,
    },
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
    nodes: usize,
    errors: Vec<SyntaxError>,
}

/// Parses one YAML document into a [`Node`] tree. `Ok(None)` for an empty document.
///
/// # Errors
/// A scanner or parser error stops parsing and is returned alone (the rest of the file cannot be
/// read reliably). Problems the parser lets through (a second document, a non-string key, an
/// alias bomb) are collected and returned together.
pub(crate) fn parse(text: &str) -> Result<Option<Node>, Vec<SyntaxError>> {
    let mut b = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        documents: 0,
        nodes: 0,
        errors: Vec::new(),
    };
    for item in Parser::new_from_str(text) {
        let (event, span) = match item {
            Ok(ok) => ok,
            Err(e) => {
                let m = e.marker();
                return Err(vec![SyntaxError {
                    pos: Position::new(m.line(), m.col() + 1),
                    message: format!("YAML syntax error: {}", e.info()),
                }]);
            }
        };
        if !b.event(event, &span) {
            break;
        }
    }
    if b.errors.is_empty() {
        Ok(b.root)
    } else {
        Err(b.errors)
    }
}

impl Builder {
    /// Handles one event; false stops the parse.
    fn event(&mut self, event: Event<'_>, span: &Span) -> bool {
        let pos = position(span);
        if matches!(event, Event::SequenceStart(..) | Event::MappingStart(..))
            && self.stack.len() >= MAX_DEPTH
        {
            self.errors.push(SyntaxError {
                pos,
                message: format!("lists and mappings nest more than {MAX_DEPTH} deep"),
            });
            return false;
        }
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    self.errors.push(SyntaxError {
                        pos,
                        message: "a config file holds one YAML document; this is a second one"
                            .into(),
                    });
                    return false;
                }
            }
            Event::Scalar(text, style, anchor, _tag) => {
                let node = Node {
                    pos,
                    value: Value::Scalar(Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain,
                        style,
                    }),
                };
                return self.complete(node, anchor);
            }
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id).cloned() else {
                    self.errors.push(SyntaxError {
                        pos,
                        message: "alias to an unknown anchor".into(),
                    });
                    return false;
                };
                let mut node = node;
                node.pos = pos;
                self.nodes += count(&node);
                return self.complete(node, 0);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                pos,
                anchor,
                items: Vec::new(),
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                pos,
                anchor,
                entries: Vec::new(),
                key: None,
            }),
            Event::SequenceEnd => {
                if let Some(Frame::Seq { pos, anchor, items }) = self.stack.pop() {
                    let node = Node {
                        pos,
                        value: Value::Seq(items),
                    };
                    return self.complete(node, anchor);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    pos,
                    anchor,
                    entries,
                    ..
                }) = self.stack.pop()
                {
                    let node = Node {
                        pos,
                        value: Value::Map(apply_merge_keys(entries)),
                    };
                    return self.complete(node, anchor);
                }
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        true
    }

    /// A node is finished: record its anchor and attach it to its parent.
    fn complete(&mut self, node: Node, anchor: usize) -> bool {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            self.errors.push(SyntaxError {
                pos: node.pos,
                message: format!("document expands to more than {MAX_NODES} nodes (aliases?)"),
            });
            return false;
        }
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => match k.value {
                    Value::Scalar(s) => entries.push(Entry {
                        key: s.text,
                        key_pos: k.pos,
                        value: node,
                    }),
                    Value::Map(_) => self.errors.push(SyntaxError {
                        pos: k.pos,
                        message: "mapping keys must be strings, found a mapping (a `{{...}}` \
                                  template placeholder? hawser reads plain YAML: render the \
                                  template first)"
                            .into(),
                    }),
                    Value::Seq(_) => self.errors.push(SyntaxError {
                        pos: k.pos,
                        message: "mapping keys must be strings, found a list".into(),
                    }),
                },
            },
        }
        true
    }
}

fn count(node: &Node) -> usize {
    match &node.value {
        Value::Scalar(_) => 1,
        Value::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        Value::Map(entries) => 1 + entries.iter().map(|e| 1 + count(&e.value)).sum::<usize>(),
    }
}

/// YAML merge keys (`<<: *base` or `<<: [*a, *b]`): the merged mappings' entries are added
/// where the mapping does not set the key itself (as SnakeYAML, which linkerd used, does).
fn apply_merge_keys(entries: Vec<Entry>) -> Vec<Entry> {
    if !entries.iter().any(|e| e.key == "<<") {
        return entries;
    }
    let (merges, mut own): (Vec<Entry>, Vec<Entry>) =
        entries.into_iter().partition(|e| e.key == "<<");
    for merge in merges {
        let sources = match merge.value.value {
            Value::Map(m) => vec![m],
            Value::Seq(items) => items
                .into_iter()
                .filter_map(|n| match n.value {
                    Value::Map(m) => Some(m),
                    _ => None,
                })
                .collect(),
            Value::Scalar(_) => Vec::new(),
        };
        for source in sources {
            for e in source {
                if !own.iter().any(|o| o.key == e.key) {
                    own.push(e);
                }
            }
        }
    }
    own
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(node: &Node) -> &[Entry] {
        match &node.value {
            Value::Map(m) => m,
            other => panic!("expected a mapping, got {other:?}"),
        }
    }

    #[test]
    fn positions_are_one_based_and_keys_keep_order_and_duplicates() {
        let root = parse("a: 1\nb:\n  c: x\na: 2\n").unwrap().unwrap();
        let m = map(&root);
        let keys: Vec<_> = m
            .iter()
            .map(|e| (e.key.as_str(), e.key_pos.line, e.key_pos.col))
            .collect();
        assert_eq!(keys, [("a", 1, 1), ("b", 2, 1), ("a", 4, 1)]);
        let inner = map(&m[1].value);
        assert_eq!((inner[0].key_pos.line, inner[0].key_pos.col), (3, 3));
        assert_eq!((inner[0].value.pos.line, inner[0].value.pos.col), (3, 6));
    }

    #[test]
    fn syntax_error_has_a_position() {
        let errs = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].message.starts_with("YAML syntax error"),
            "{:?}",
            errs[0]
        );
        assert!(errs[0].pos.line >= 1);
    }

    #[test]
    fn aliases_expand_and_merge_keys_apply() {
        let root = parse("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n")
            .unwrap()
            .unwrap();
        let m = map(&root);
        let used = map(&m[1].value);
        let pairs: Vec<_> = used
            .iter()
            .map(|e| match &e.value.value {
                Value::Scalar(s) => (e.key.clone(), s.text.clone()),
                _ => panic!(),
            })
            .collect();
        assert_eq!(pairs, [("y".into(), "3".into()), ("x".into(), "1".into())]);
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let errs = parse(&doc).unwrap_err();
        assert!(errs[0].message.contains("more than"), "{errs:?}");
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        // The parser's own limit stops very deep documents...
        let doc = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let errs = parse(&doc).unwrap_err();
        assert!(errs[0].message.contains("recursion limit"), "{errs:?}");
        // ...and ours anything deeper than a config needs.
        let doc = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let errs = parse(&doc).unwrap_err();
        assert!(errs[0].message.contains("nest more than"), "{errs:?}");
        assert!(parse(&format!("{}{}", "[".repeat(100), "]".repeat(100))).is_ok());
    }

    #[test]
    fn second_document_and_complex_keys_are_errors() {
        let errs = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(errs[0].pos.line, 2);
        let errs = parse("? [a, b]\n: 1\n").unwrap_err();
        assert!(errs[0].message.contains("keys must be strings"), "{errs:?}");
    }

    #[test]
    fn plain_scalars_classify_as_core_schema() {
        assert_eq!(classify_plain("4140"), Plain::Int(4140));
        assert_eq!(classify_plain("-3"), Plain::Int(-3));
        assert_eq!(classify_plain("0x10"), Plain::Int(16));
        assert_eq!(classify_plain("0.25"), Plain::Float);
        assert_eq!(classify_plain("true"), Plain::Bool(true));
        assert_eq!(classify_plain("~"), Plain::Null);
        assert_eq!(classify_plain("127.0.0.1"), Plain::Str);
        assert_eq!(classify_plain("io.l5d.fs"), Plain::Str);
        assert_eq!(parse("").unwrap().map(|n| n.pos), None);
    }
}
