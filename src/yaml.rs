//! A YAML tree that remembers where every value came from.
//!
//! Configuration errors must name file, line and column, so we do not deserialize straight into
//! structs: the YAML is read into this small tree of [`Node`]s (each with its position) and the
//! loaders walk it, reporting [`Diagnostic`]s at the node that is wrong. Scalars keep their source
//! text (`010` stays `010`, `1.10` stays `1.10`), so addresses and record data are never mangled
//! by YAML type guessing.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault};
use std::path::Path;

use rustc_hash::FxHasher;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, SpannedEventReceiver};

use crate::diag::{Diagnostic, Pos};

/// One YAML value and where it starts.
#[derive(Debug, Clone)]
pub struct Node {
    /// Where the value starts (for error messages).
    pub pos: Pos,
    /// The value.
    pub kind: Kind,
}

/// The shape of a YAML value.
#[derive(Debug, Clone)]
pub enum Kind {
    /// Plain `~`/`null`/empty value.
    Null,
    /// Any scalar, as written; `quoted` tells `"10"` from `10`.
    Scalar { text: String, quoted: bool },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping in source order (keys are scalars; duplicates are rejected at load).
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar's text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Human name of the node's shape, for "expected X, found Y" messages.
    pub fn shape(&self) -> &'static str {
        match &self.kind {
            Kind::Null => "nothing",
            Kind::Scalar { .. } => "a single value",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }

    /// The node as a list: a sequence gives its items, a single value gives itself.
    ///
    /// The schema accepts `A: 192.0.2.1` and `A: [192.0.2.1, ...]` alike.
    pub fn one_or_many(&self) -> Vec<&Node> {
        match &self.kind {
            Kind::Seq(items) => items.iter().collect(),
            Kind::Null => Vec::new(),
            _ => vec![self],
        }
    }
}

/// Reads a file that must be UTF-8 text; `what` names it in messages ("zone file"). The file
/// must be a regular file of at most `limit` bytes (see [`crate::fsread`]).
///
/// A byte that is not UTF-8 is reported at its line and column (counted in characters), so
/// the operator can find it, instead of a bare "stream did not contain valid UTF-8".
pub fn read_text(path: &Path, what: &str, limit: u64) -> Result<String, Diagnostic> {
    let bytes = crate::fsread::read_bounded(path, limit).map_err(|e| {
        let d = match &e {
            crate::fsread::ReadError::Io(_) => {
                Diagnostic::new(path, Pos::default(), format!("cannot read {what}: {e}"))
            }
            _ => Diagnostic::new(path, Pos::default(), format!("{what}: {e}")),
        };
        match e.hint() {
            Some(h) => d.hint(h),
            None => d,
        }
    })?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let before = String::from_utf8_lossy(&bytes[..at]);
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Err(Diagnostic::new(
                path,
                Pos { line, col },
                format!(
                    "{what} is not valid UTF-8: byte 0x{:02x} here",
                    bytes.get(at).copied().unwrap_or(0)
                ),
            )
            .hint("save the file as UTF-8; write other bytes with escapes (\\DDD) or in RFC 3597 form '\\# LEN HEX'"))
        }
    }
}

/// Parses YAML text into a positioned tree; a file holds one document.
pub fn parse(text: &str, file: &Path) -> Result<Node, Diagnostic> {
    let mut builder = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        error: None,
        expanded: 0,
    };
    let mut parser = Parser::new_from_str(text);
    // Every document is read, so a second one is refused rather than silently ignored.
    let loaded = parser.load(&mut builder, true);
    if let Some((pos, msg)) = builder.error {
        return Err(Diagnostic::new(file, pos, msg));
    }
    if let Err(e) = loaded {
        let m = e.marker();
        return Err(Diagnostic::new(
            file,
            Pos {
                line: m.line(),
                col: m.col() + 1,
            },
            format!("invalid YAML: {}", e.info()),
        )
        .hint("check indentation and quoting; values containing ': ' or starting with '*', '&', '!', '@' or '\\' must be quoted"));
    }
    Ok(builder.root.unwrap_or(Node {
        pos: Pos { line: 1, col: 1 },
        kind: Kind::Null,
    }))
}

/// Cap on nodes created by alias expansion, so a "billion laughs" file cannot exhaust memory.
const ALIAS_EXPANSION_LIMIT: usize = 1_000_000;

struct Builder {
    /// Open collections: the node being built, its anchor id, and (for a mapping) its
    /// [`KeyIndex`].
    stack: Vec<(Node, usize, KeyIndex)>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    error: Option<(Pos, String)>,
    expanded: usize,
}

/// The keys of one open mapping, so a duplicate is found with one hash probe instead of a scan
/// of every earlier key (a zone has one key per owner name: the scan made loading quadratic).
/// It maps a key's hash to the index of its entry, 16 bytes a key instead of a copy of it.
type KeyIndex = HashMap<u64, usize, BuildHasherDefault<FxHasher>>;

/// Records `key` (about to be pushed as entry `entries.len()`) and returns the line of an
/// earlier identical key, if any.
fn find_key(keys: &mut KeyIndex, entries: &[(Node, Node)], key: &str) -> Option<usize> {
    let hash = BuildHasherDefault::<FxHasher>::default().hash_one(key);
    match keys.get(&hash) {
        Some(&i) => {
            let same = |k: &Node| k.as_str() == Some(key);
            match entries.get(i) {
                Some((k, _)) if same(k) => Some(k.pos.line),
                // Two different keys with one hash: rare enough for a scan.
                _ => entries
                    .iter()
                    .find(|(k, _)| same(k))
                    .map(|(k, _)| k.pos.line),
            }
        }
        None => {
            keys.insert(hash, entries.len());
            None
        }
    }
}

fn count_nodes(n: &Node) -> usize {
    match &n.kind {
        Kind::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Kind::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| count_nodes(k) + count_nodes(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

impl Builder {
    fn finish_node(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some((parent, _, keys)) => match &mut parent.kind {
                Kind::Seq(items) => items.push(node),
                Kind::Map(entries) => {
                    // Keys and values arrive alternately; a pending key is stored with a Null
                    // placeholder value that the next node replaces.
                    match entries.last_mut() {
                        Some((_, v)) if matches!(v.kind, Kind::Null) && v.pos.line == 0 => {
                            *v = node;
                        }
                        _ => {
                            if let Some(key) = node.as_str()
                                && let Some(first) = find_key(keys, entries, key)
                                && self.error.is_none()
                            {
                                self.error = Some((
                                    node.pos,
                                    format!("duplicate key '{key}' (first at line {first})"),
                                ));
                            }
                            entries.push((
                                node,
                                Node {
                                    pos: Pos::default(),
                                    kind: Kind::Null,
                                },
                            ));
                        }
                    }
                }
                _ => {}
            },
        }
    }
}

/// A plain `~`, `null` or empty scalar (YAML 1.2 core schema).
fn is_null(text: &str, style: ScalarStyle) -> bool {
    matches!(style, ScalarStyle::Plain) && matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn pos_of(span: &Span) -> Pos {
    Pos {
        line: span.start.line(),
        col: span.start.col() + 1,
    }
}

impl<'input> SpannedEventReceiver<'input> for Builder {
    fn on_event(&mut self, ev: Event<'input>, span: Span) {
        let pos = pos_of(&span);
        if self.root.is_some() && self.stack.is_empty() {
            // A value after the first document's: data that would be lost. An empty document
            // (a trailing `---`) is harmless.
            let data = match &ev {
                Event::Scalar(text, style, ..) => !is_null(text, *style),
                Event::SequenceStart(..) | Event::MappingStart(..) | Event::Alias(_) => true,
                _ => false,
            };
            if data && self.error.is_none() {
                self.error = Some((
                    pos,
                    "a second YAML document starts here (after '---'); a file holds one document: merge it into the first or move it to a file of its own".into(),
                ));
            }
            if data || self.error.is_some() {
                return;
            }
        }
        match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                let kind = if is_null(&text, style) {
                    Kind::Null
                } else {
                    Kind::Scalar {
                        text: text.into_owned(),
                        quoted: !matches!(style, ScalarStyle::Plain),
                    }
                };
                self.finish_node(Node { pos, kind }, anchor);
            }
            Event::SequenceStart(anchor, _) => self.stack.push((
                Node {
                    pos,
                    kind: Kind::Seq(Vec::with_capacity(1)),
                },
                anchor,
                KeyIndex::default(),
            )),
            Event::MappingStart(anchor, _) => self.stack.push((
                Node {
                    pos,
                    kind: Kind::Map(Vec::with_capacity(1)),
                },
                anchor,
                KeyIndex::default(),
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((mut node, anchor, _)) = self.stack.pop() {
                    // Most collections in a zone are one-entry maps (`{ A: 192.0.2.1 }`); without
                    // this each would keep room for four entries.
                    match &mut node.kind {
                        Kind::Seq(items) => items.shrink_to_fit(),
                        Kind::Map(entries) => entries.shrink_to_fit(),
                        _ => {}
                    }
                    self.finish_node(node, anchor);
                }
            }
            Event::Alias(id) => {
                let node = match self.anchors.get(&id) {
                    Some(n) => n.clone(),
                    None => Node {
                        pos,
                        kind: Kind::Null,
                    },
                };
                self.expanded += count_nodes(&node);
                if self.expanded > ALIAS_EXPANSION_LIMIT {
                    if self.error.is_none() {
                        self.error = Some((pos, "too many alias expansions".into()));
                    }
                    return;
                }
                self.finish_node(node, 0);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Node {
        parse(text, Path::new("t.yaml")).expect("parses")
    }

    #[test]
    fn keeps_scalar_text_and_positions() {
        let n = p("a: 010\nb:\n  - \"x\"\n  - 1.10\n");
        let m = n.as_map().unwrap();
        assert_eq!(m[0].1.as_str(), Some("010"));
        assert_eq!(m[0].1.pos, Pos { line: 1, col: 4 });
        let Kind::Seq(items) = &m[1].1.kind else {
            panic!()
        };
        assert_eq!(items[1].as_str(), Some("1.10"));
        assert_eq!(items[1].pos, Pos { line: 4, col: 5 });
    }

    #[test]
    fn empty_value_is_null() {
        let n = p("a:\nb: 1\n");
        let m = n.as_map().unwrap();
        assert!(matches!(m[0].1.kind, Kind::Null));
        assert_eq!(m[1].1.as_str(), Some("1"));
    }

    #[test]
    fn duplicate_key_is_an_error_at_the_second_key() {
        let e = parse("a: 1\nb: 2\na: 3\n", Path::new("t.yaml")).unwrap_err();
        assert_eq!((e.line, e.col), (3, 1));
        assert!(e.message.contains("duplicate key 'a'"), "{}", e.message);
    }

    #[test]
    fn syntax_error_has_position() {
        let e = parse("a: [1, 2\nb: 3\n", Path::new("t.yaml")).unwrap_err();
        assert!(e.line >= 1);
        assert!(e.message.starts_with("invalid YAML"));
    }

    #[test]
    fn a_second_document_is_an_error_not_ignored() {
        let e = parse("a: 1\n---\nb: 2\n", Path::new("t.yaml")).unwrap_err();
        assert_eq!((e.line, e.col), (3, 1));
        assert!(e.message.contains("second YAML document"), "{}", e.message);
        // Even when the second document is not valid YAML, that is what is reported.
        let e = parse("a: 1\n---\nb: [\n", Path::new("t.yaml")).unwrap_err();
        assert!(e.message.contains("second YAML document"), "{}", e.message);
        // Explicit markers around one document, or a trailing empty one, are fine.
        assert!(parse("---\na: 1\n...\n", Path::new("t.yaml")).is_ok());
        assert!(parse("a: 1\n---\n", Path::new("t.yaml")).is_ok());
    }

    #[test]
    fn flow_mapping_and_aliases() {
        let n = p("x: &a { k: v }\ny: *a\n");
        let m = n.as_map().unwrap();
        assert_eq!(m[1].1.as_map().unwrap()[0].1.as_str(), Some("v"));
    }
}
