//! Template errors, created without a location and given their line and column by the
//! parser or the evaluator, which know the source.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The template cannot be parsed.
    Syntax,
    /// A bound was exceeded while rendering (loop iterations, recursion, output size).
    Limit,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.col, self.message)
    }
}

impl std::error::Error for Error {}

/// Line and column (1-based, in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.bytes().filter(|b| *b == b'\n').count() as u32 + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = src[line_start..offset].chars().count() as u32 + 1;
    (line, col)
}

pub fn at(src: &str, offset: usize, kind: ErrorKind, message: impl Into<String>) -> Error {
    let (line, col) = line_col(src, offset);
    Error { kind, line, col, message: message.into() }
}
