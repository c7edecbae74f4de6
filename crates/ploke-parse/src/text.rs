//! Line/byte bookkeeping and source slicing.

use proc_macro2::Span as PmSpan;

/// Maps between byte offsets and 1-based lines of one file.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0u32];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i as u32 + 1);
            }
        }
        LineIndex { starts }
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, byte: u32) -> u32 {
        match self.starts.binary_search(&byte) {
            Ok(i) => i as u32 + 1,
            Err(i) => i as u32,
        }
    }

    /// Byte offset where a 1-based line starts.
    pub fn line_start(&self, line: u32) -> Option<u32> {
        self.starts.get(line.checked_sub(1)? as usize).copied()
    }
}

pub(crate) fn count_lines(text: &str) -> u32 {
    if text.is_empty() {
        return 0;
    }
    let n = text.bytes().filter(|&b| b == b'\n').count() as u32;
    if text.ends_with('\n') {
        n
    } else {
        n + 1
    }
}

/// Byte range of a span within its file.
pub(crate) fn bytes(span: PmSpan) -> (u32, u32) {
    let r = span.byte_range();
    (r.start as u32, r.end as u32)
}

/// Collapse runs of whitespace to one space, trimmed.
pub(crate) fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut ws = false;
    for c in s.chars() {
        if c.is_whitespace() {
            ws = true;
        } else {
            if ws && !out.is_empty() {
                out.push(' ');
            }
            ws = false;
            out.push(c);
        }
    }
    out
}
