//! Master-file lexer: bytes to entries of tokens (RFC 1035 §5.1).
//!
//! Handles quotes, `\X`/`\DDD` escapes, comments, parentheses spanning lines and the
//! "indented line reuses the previous owner" rule, and keeps each token's line and column so
//! the importer can point at the exact character an operator has to fix.

use std::path::Path;

use super::{MasterError, error_at};
use crate::diag::Pos;

/// One master-file token.
#[derive(Debug, Clone)]
pub(super) struct Token {
    /// Presentation form as written (quotes included for quoted tokens). Bytes that are not
    /// UTF-8 and escaped control characters are rewritten as `\DDD`, which means the same.
    pub(super) text: String,
    /// The value with quotes removed and escapes decoded.
    pub(super) bytes: Vec<u8>,
    pub(super) quoted: bool,
    pub(super) pos: Pos,
    /// Position just past the token, for "something is missing after this" errors.
    pub(super) end: Pos,
}

/// One logical entry: a physical line, or several joined by parentheses.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) tokens: Vec<Token>,
    /// The line began with white space, so the owner is the previous record's.
    pub(super) indented: bool,
}

/// Splits master-file text into entries, handling quotes, escapes, comments and parentheses.
pub(super) struct Lexer<'a> {
    src: &'a [u8],
    /// `invalid[i]` is true where byte `i` is not part of valid UTF-8.
    invalid: Vec<bool>,
    i: usize,
    line: usize,
    col: usize,
    file: &'a Path,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(src: &'a [u8], file: &'a Path) -> Self {
        let src = src.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(src);
        let mut invalid = vec![false; src.len()];
        let mut offset = 0;
        for chunk in src.utf8_chunks() {
            offset += chunk.valid().len();
            for flag in invalid.iter_mut().skip(offset).take(chunk.invalid().len()) {
                *flag = true;
            }
            offset += chunk.invalid().len();
        }
        Lexer {
            src,
            invalid,
            i: 0,
            line: 1,
            col: 1,
            file,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.i).copied()
    }

    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    fn is_invalid(&self, i: usize) -> bool {
        self.invalid.get(i).copied().unwrap_or(false)
    }

    /// Consumes one byte, keeping line and (character) column up to date.
    fn bump(&mut self) {
        let Some(b) = self.peek() else { return };
        if b == b'\n' {
            self.line += 1;
            self.col = 1;
        } else if b & 0xC0 != 0x80 || self.is_invalid(self.i) {
            self.col += 1;
        }
        self.i += 1;
    }

    fn error(&self, pos: Pos, message: impl Into<String>) -> MasterError {
        error_at(self.file, pos, message)
    }

    /// Returns the next non-empty entry, or `None` at end of input.
    pub(super) fn next_entry(&mut self) -> Result<Option<Entry>, MasterError> {
        let mut tokens = Vec::new();
        let mut indented = false;
        let mut paren: Option<Pos> = None;
        while let Some(b) = self.peek() {
            match b {
                b'\n' => {
                    self.bump();
                    if paren.is_none() {
                        if !tokens.is_empty() {
                            return Ok(Some(Entry { tokens, indented }));
                        }
                        indented = false;
                    }
                }
                b' ' | b'\t' | b'\r' => {
                    if self.col == 1 && tokens.is_empty() && paren.is_none() {
                        indented = true;
                    }
                    self.bump();
                }
                b';' => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.bump();
                    }
                }
                b'(' => {
                    if paren.is_some() {
                        return Err(self.error(self.pos(), "nested '(': parentheses cannot nest"));
                    }
                    paren = Some(self.pos());
                    self.bump();
                }
                b')' => {
                    if paren.take().is_none() {
                        return Err(self.error(self.pos(), "')' without a matching '('"));
                    }
                    self.bump();
                }
                b'"' => tokens.push(self.quoted()?),
                _ => tokens.push(self.word()?),
            }
        }
        if let Some(open) = paren {
            return Err(self.error(open, "unterminated parenthesis: this '(' is never closed"));
        }
        Ok((!tokens.is_empty()).then_some(Entry { tokens, indented }))
    }

    /// Appends the byte under the cursor to a token and consumes it.
    fn take_byte(&mut self, b: u8, text: &mut Vec<u8>, bytes: &mut Vec<u8>) {
        if self.is_invalid(self.i) {
            text.extend_from_slice(format!("\\{b:03}").as_bytes());
        } else {
            text.push(b);
        }
        bytes.push(b);
        self.bump();
    }

    /// Consumes a backslash escape (`\DDD` or `\X`).
    fn escape(&mut self, text: &mut Vec<u8>, bytes: &mut Vec<u8>) -> Result<(), MasterError> {
        let start = self.pos();
        self.bump();
        let Some(b) = self.peek() else {
            return Err(self.error(start, "backslash at end of file"));
        };
        if b.is_ascii_digit() {
            let src = self.src;
            let digits = src
                .get(self.i..self.i + 3)
                .filter(|d| d.iter().all(u8::is_ascii_digit))
                .ok_or_else(|| {
                    self.error(start, "bad escape: a backslash followed by a digit needs exactly three digits (\\DDD)")
                })?;
            let value = digits
                .iter()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
            let byte = u8::try_from(value).map_err(|_| {
                self.error(
                    start,
                    format!("bad escape \\{value:03}: the value must be at most 255"),
                )
            })?;
            text.push(b'\\');
            text.extend_from_slice(digits);
            bytes.push(byte);
            for _ in 0..3 {
                self.bump();
            }
        } else if b < 0x20 || b == 0x7f || self.is_invalid(self.i) {
            text.extend_from_slice(format!("\\{b:03}").as_bytes());
            bytes.push(b);
            self.bump();
        } else {
            text.push(b'\\');
            self.take_byte(b, text, bytes);
        }
        Ok(())
    }

    fn quoted(&mut self) -> Result<Token, MasterError> {
        let pos = self.pos();
        self.bump();
        let mut text = vec![b'"'];
        let mut bytes = Vec::new();
        loop {
            match self.peek() {
                None | Some(b'\n') => {
                    return Err(self.error(
                        pos,
                        "unterminated quoted string: no closing '\"' on this line",
                    ));
                }
                Some(b'"') => {
                    self.bump();
                    text.push(b'"');
                    break;
                }
                Some(b'\\') => self.escape(&mut text, &mut bytes)?,
                Some(b) => self.take_byte(b, &mut text, &mut bytes),
            }
        }
        Ok(self.token(pos, &text, bytes, true))
    }

    fn word(&mut self) -> Result<Token, MasterError> {
        let pos = self.pos();
        let mut text = Vec::new();
        let mut bytes = Vec::new();
        loop {
            match self.peek() {
                None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"') => break,
                Some(b'\\') => self.escape(&mut text, &mut bytes)?,
                Some(b) => self.take_byte(b, &mut text, &mut bytes),
            }
        }
        Ok(self.token(pos, &text, bytes, false))
    }

    /// The token that started at `pos` and ends at the cursor.
    fn token(&self, pos: Pos, text: &[u8], bytes: Vec<u8>, quoted: bool) -> Token {
        Token {
            // Valid UTF-8: bytes that are not were written as `\DDD` by `take_byte`.
            text: String::from_utf8_lossy(text).into_owned(),
            bytes,
            quoted,
            pos,
            end: self.pos(),
        }
    }
}
