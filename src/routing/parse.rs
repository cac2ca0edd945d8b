//! The recursive-descent parser for the naming language: paths, dentry prefixes, name trees,
//! dentries and dtabs, following Finagle's grammar and error positions.
//!
//! ```text
//! dtab    ::= dentry (';' dentry)* ';'?       (an empty string is the empty dtab)
//! dentry  ::= prefix '=>' tree
//! prefix  ::= '/' | ('/' ('*' | label))+
//! tree    ::= tree1 ('|' tree1)*
//! tree1   ::= weighted ('&' weighted)*
//! weighted::= (number '*')? simple
//! simple  ::= '(' tree ')' | path | '!' | '~' | '$'
//! number  ::= [0-9.]+ with at most one '.'
//! ```
//!
//! Whitespace and `#` comments (to end of line) may appear between tokens. Errors carry the
//! byte offset of the offending character. It does not evaluate anything; nesting of
//! parentheses is limited to [`MAX_NESTING`] so that hostile input cannot exhaust the stack.

use std::fmt;

use super::dtab::{Dentry, Dtab, Prefix, PrefixElem};
use super::path::{Path, is_showable};
use super::tree::{NameTree, Weighted};

/// The deepest parenthesis nesting a name tree may have.
pub const MAX_NESTING: usize = 16;

/// A syntax error: where it is (a byte offset into the input) and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset of the offending character (the input length at end of input).
    pub offset: usize,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.message, self.offset)
    }
}

impl std::error::Error for ParseError {}

pub(crate) struct Parser<'a> {
    src: &'a str,
    pos: usize,
    nesting: usize,
}

fn describe(c: Option<char>) -> String {
    match c {
        None => "end of input".to_string(),
        Some(c) => format!("{c:?}"),
    }
}

fn is_label_char(c: Option<char>) -> bool {
    match c {
        Some('\\') => true,
        Some(c) => u8::try_from(c).is_ok_and(is_showable),
        None => false,
    }
}

fn is_number_char(c: Option<char>) -> bool {
    matches!(c, Some('0'..='9' | '.'))
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Parser {
            src,
            pos: 0,
            nesting: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn next(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn illegal<T>(&self, expected: &str) -> Result<T, ParseError> {
        Err(ParseError {
            offset: self.pos,
            message: format!("{expected} expected but {} found", describe(self.peek())),
        })
    }

    fn maybe_eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.next();
            true
        } else {
            false
        }
    }

    fn eat(&mut self, c: char) -> Result<(), ParseError> {
        if self.maybe_eat(c) {
            Ok(())
        } else {
            self.illegal(&format!("{c:?}"))
        }
    }

    fn eat_whitespace(&mut self) {
        while let Some(c) = self.peek() {
            if c == '#' {
                while let Some(c) = self.peek() {
                    self.next();
                    if c == '\n' {
                        break;
                    }
                }
            } else if c.is_whitespace() {
                self.next();
            } else {
                break;
            }
        }
    }

    fn ensure_end(&self) -> Result<(), ParseError> {
        if self.at_end() {
            Ok(())
        } else {
            self.illegal("end of input")
        }
    }

    fn hex_digit(&mut self) -> Result<u8, ParseError> {
        match self.peek().and_then(|c| c.to_digit(16)) {
            Some(d) => {
                self.next();
                // A hex digit is below 16.
                Ok(u8::try_from(d).unwrap_or(0))
            }
            None => self.illegal("hex char"),
        }
    }

    fn parse_label(&mut self) -> Result<Vec<u8>, ParseError> {
        let mut label = Vec::new();
        loop {
            match self.peek() {
                Some('\\') => {
                    self.next();
                    self.eat('x')?;
                    let hi = self.hex_digit()?;
                    let lo = self.hex_digit()?;
                    label.push(hi << 4 | lo);
                }
                Some(c) if is_label_char(Some(c)) => {
                    self.next();
                    // is_label_char only admits ASCII here.
                    label.push(u8::try_from(c).unwrap_or(b'?'));
                }
                _ => return self.illegal("label char"),
            }
            if !is_label_char(self.peek()) {
                return Ok(label);
            }
        }
    }

    fn parse_path(&mut self) -> Result<Path, ParseError> {
        self.eat_whitespace();
        self.eat('/')?;
        let mut path = Path::empty();
        if !is_label_char(self.peek()) {
            return Ok(path);
        }
        loop {
            let label = self.parse_label()?;
            path.try_push(&label);
            if !self.maybe_eat('/') {
                return Ok(path);
            }
        }
    }

    fn parse_prefix(&mut self) -> Result<Prefix, ParseError> {
        self.eat_whitespace();
        self.eat('/')?;
        let mut elems = Vec::new();
        if !(is_label_char(self.peek()) || self.peek() == Some('*')) {
            return Ok(Prefix::new(elems));
        }
        loop {
            if self.maybe_eat('*') {
                elems.push(PrefixElem::Any);
            } else {
                elems.push(PrefixElem::Label(self.parse_label()?.into_boxed_slice()));
            }
            if !self.maybe_eat('/') {
                return Ok(Prefix::new(elems));
            }
        }
    }

    fn parse_number(&mut self) -> Result<f64, ParseError> {
        let start = self.pos;
        let mut seen_dot = false;
        while is_number_char(self.peek()) {
            if self.peek() == Some('.') {
                if seen_dot {
                    return self.illegal("number char");
                }
                seen_dot = true;
            }
            self.next();
        }
        let text = self.src.get(start..self.pos).unwrap_or_default();
        if text == "." {
            return Err(ParseError {
                offset: start,
                message: "weight expected but '.' found".to_string(),
            });
        }
        match text.parse::<f64>() {
            Ok(w) if w.is_finite() => Ok(w),
            _ => Err(ParseError {
                offset: start,
                message: format!("weight {text} out of range"),
            }),
        }
    }

    fn parse_tree(&mut self) -> Result<NameTree<Path>, ParseError> {
        let mut trees = Vec::new();
        loop {
            trees.push(self.parse_tree1()?);
            self.eat_whitespace();
            if !self.maybe_eat('|') {
                break;
            }
        }
        if trees.len() == 1 {
            Ok(trees.pop().unwrap_or(NameTree::Neg))
        } else {
            Ok(NameTree::Alt(trees))
        }
    }

    fn parse_tree1(&mut self) -> Result<NameTree<Path>, ParseError> {
        let mut trees = Vec::new();
        loop {
            trees.push(self.parse_weighted()?);
            self.eat_whitespace();
            if !self.maybe_eat('&') {
                break;
            }
        }
        if trees.len() == 1 {
            Ok(trees.pop().map_or(NameTree::Neg, |w| w.tree))
        } else {
            Ok(NameTree::Union(trees))
        }
    }

    fn parse_weighted(&mut self) -> Result<Weighted<Path>, ParseError> {
        self.eat_whitespace();
        let weight = if is_number_char(self.peek()) {
            let w = self.parse_number()?;
            self.eat_whitespace();
            self.eat('*')?;
            self.eat_whitespace();
            w
        } else {
            Weighted::<Path>::DEFAULT_WEIGHT
        };
        Ok(Weighted {
            weight,
            tree: self.parse_simple()?,
        })
    }

    fn parse_simple(&mut self) -> Result<NameTree<Path>, ParseError> {
        self.eat_whitespace();
        match self.peek() {
            Some('(') => {
                if self.nesting >= MAX_NESTING {
                    return Err(ParseError {
                        offset: self.pos,
                        message: format!("name tree nested deeper than {MAX_NESTING}"),
                    });
                }
                self.next();
                self.nesting += 1;
                let tree = self.parse_tree()?;
                self.nesting -= 1;
                self.eat_whitespace();
                self.eat(')')?;
                Ok(tree)
            }
            Some('/') => Ok(NameTree::Leaf(self.parse_path()?)),
            Some('!') => {
                self.next();
                Ok(NameTree::Fail)
            }
            Some('~') => {
                self.next();
                Ok(NameTree::Neg)
            }
            Some('$') => {
                self.next();
                Ok(NameTree::Empty)
            }
            _ => self.illegal("simple"),
        }
    }

    fn parse_dentry(&mut self) -> Result<Dentry, ParseError> {
        let prefix = self.parse_prefix()?;
        self.eat_whitespace();
        self.eat('=')?;
        self.eat('>')?;
        let dst = self.parse_tree()?;
        Ok(Dentry { prefix, dst })
    }

    fn parse_dtab(&mut self) -> Result<Dtab, ParseError> {
        let mut dentries = Vec::new();
        loop {
            self.eat_whitespace();
            if !self.at_end() {
                dentries.push(self.parse_dentry()?);
                self.eat_whitespace();
            }
            if !self.maybe_eat(';') {
                break;
            }
        }
        Ok(Dtab::new(dentries))
    }

    pub(crate) fn parse_all_path(mut self) -> Result<Path, ParseError> {
        let path = self.parse_path()?;
        self.eat_whitespace();
        self.ensure_end()?;
        Ok(path)
    }

    pub(crate) fn parse_all_prefix(mut self) -> Result<Prefix, ParseError> {
        let prefix = self.parse_prefix()?;
        self.eat_whitespace();
        self.ensure_end()?;
        Ok(prefix)
    }

    pub(crate) fn parse_all_tree(mut self) -> Result<NameTree<Path>, ParseError> {
        let tree = self.parse_tree()?;
        self.eat_whitespace();
        self.ensure_end()?;
        Ok(tree)
    }

    pub(crate) fn parse_all_dentry(mut self) -> Result<Dentry, ParseError> {
        let dentry = self.parse_dentry()?;
        self.eat_whitespace();
        self.ensure_end()?;
        Ok(dentry)
    }

    pub(crate) fn parse_all_dtab(mut self) -> Result<Dtab, ParseError> {
        let dtab = self.parse_dtab()?;
        self.eat_whitespace();
        self.ensure_end()?;
        Ok(dtab)
    }
}
