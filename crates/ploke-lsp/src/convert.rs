//! Between the session's results and the protocol's types: file URIs, ranges, symbol kinds.

use std::path::Path;
use std::str::FromStr;

use lsp_types::{Location, Position, Range, SymbolKind, Uri};

/// Bytes a `file://` URI keeps as they are (RFC 3986 unreserved characters and `/`).
fn keep(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/')
}

/// The `file://` URI of `file` (workspace-relative; empty for the root itself) under `root`.
pub fn uri_of(root: &Path, file: &str) -> Uri {
    let path = if file.is_empty() {
        root.to_path_buf()
    } else {
        root.join(file)
    };
    let mut s = String::from("file://");
    for &b in path.to_string_lossy().as_bytes() {
        if keep(b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&s).unwrap_or_else(|_| Uri::from_str("file:///").expect("a valid URI"))
}

/// The workspace-relative path of a `file://` URI under `root`; `None` for another scheme or
/// a file outside the workspace.
pub fn file_of(root: &Path, uri: &Uri) -> Option<String> {
    let path = local_path(uri)?;
    // Editors may name the file through a symlinked directory.
    let path = path.canonicalize().unwrap_or(path);
    let rel = path.strip_prefix(root).ok()?;
    Some(rel.to_string_lossy().replace('\\', "/"))
}

/// The absolute path of a `file://` URI as the index names a dependency's file (as written:
/// cargo's cache is named as cargo names it); `None` for another scheme.
pub fn path_of(uri: &Uri) -> Option<String> {
    let path = local_path(uri)?;
    path.is_absolute()
        .then(|| path.to_string_lossy().into_owned())
}

/// The local path a `file://` URI names, percent-decoded.
fn local_path(uri: &Uri) -> Option<std::path::PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(std::path::PathBuf::from(String::from_utf8(out).ok()?))
}

/// Lines `start..=end` (1-based) as a range: from the start of the first to the start of the
/// line after the last.
pub fn range_of(start: u32, end: u32) -> Range {
    Range {
        start: Position {
            line: start.saturating_sub(1),
            character: 0,
        },
        end: Position {
            line: end.max(start),
            character: 0,
        },
    }
}

/// The range of the whole of `text` (from its start to its end, exactly).
pub fn whole(text: &str) -> Range {
    let lines = text.split('\n').count() as u32;
    let last = text.rsplit('\n').next().unwrap_or("");
    Range {
        start: Position {
            line: 0,
            character: 0,
        },
        end: Position {
            line: lines - 1,
            // The protocol counts UTF-16 code units by default.
            character: last.encode_utf16().count() as u32,
        },
    }
}

/// `file` at lines `start..=end`.
pub fn location(root: &Path, file: &str, start: u32, end: u32) -> Location {
    Location {
        uri: uri_of(root, file),
        range: range_of(start, end),
    }
}

/// The protocol's symbol kind for one of ploke's item kinds.
pub fn symbol_kind(kind: &str) -> SymbolKind {
    match kind {
        "fn" => SymbolKind::FUNCTION,
        "method" => SymbolKind::METHOD,
        "struct" | "union" => SymbolKind::STRUCT,
        "enum" => SymbolKind::ENUM,
        "variant" => SymbolKind::ENUM_MEMBER,
        "trait" => SymbolKind::INTERFACE,
        "impl" => SymbolKind::CLASS,
        "mod" | "crate" => SymbolKind::MODULE,
        "const" => SymbolKind::CONSTANT,
        "static" => SymbolKind::VARIABLE,
        "field" => SymbolKind::FIELD,
        "type" => SymbolKind::TYPE_PARAMETER,
        "macro" => SymbolKind::FUNCTION,
        _ => SymbolKind::OBJECT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip_with_spaces_and_unicode() {
        let root = std::env::temp_dir().join("ploke lsp ü");
        std::fs::create_dir_all(root.join("src")).unwrap();
        let root = root.canonicalize().unwrap();
        let uri = uri_of(&root, "src/lib.rs");
        assert!(uri.as_str().starts_with("file:///"), "{}", uri.as_str());
        assert!(
            uri.as_str().contains("ploke%20lsp%20%C3%BC"),
            "{}",
            uri.as_str()
        );
        std::fs::write(root.join("src/lib.rs"), "").unwrap();
        assert_eq!(file_of(&root, &uri).as_deref(), Some("src/lib.rs"));
        let outside = Uri::from_str("file:///etc/hosts").unwrap();
        assert_eq!(file_of(&root, &outside), None);
        let other = Uri::from_str("untitled:Untitled-1").unwrap();
        assert_eq!(file_of(&root, &other), None);
    }

    #[test]
    fn a_file_outside_the_workspace_is_named_by_its_absolute_path() {
        let root = std::env::temp_dir();
        let dep = "/home/u/.cargo/registry/src/index.crates.io-x/hyper-1.3.1/src/lib.rs";
        let uri = uri_of(&root, dep);
        assert_eq!(
            uri.as_str(),
            "file:///home/u/.cargo/registry/src/index.crates.io-x/hyper-1.3.1/src/lib.rs"
        );
        assert_eq!(file_of(&root, &uri), None);
        assert_eq!(path_of(&uri).as_deref(), Some(dep));
        let spaced = Uri::from_str("file:///a%20b/c.rs").unwrap();
        assert_eq!(path_of(&spaced).as_deref(), Some("/a b/c.rs"));
        assert_eq!(
            path_of(&Uri::from_str("untitled:Untitled-1").unwrap()),
            None
        );
    }

    #[test]
    fn ranges_cover_whole_lines() {
        let r = range_of(3, 5);
        assert_eq!((r.start.line, r.end.line), (2, 5));
        assert_eq!(range_of(1, 1).start.line, 0);
    }
}
