//! The edit operations, as an LLM sends them in a tool call.

use serde::{Deserialize, Serialize};

use crate::EditError;

/// One edit. Deserializes from tool-call JSON tagged by `op`:
///
/// ```json
/// {"op": "replace_item", "path": "my_crate::Point::new", "code": "pub fn new() -> Self { … }"}
/// {"op": "insert_item", "parent": "my_crate::Point", "code": "pub fn len(&self) -> f64 { … }"}
/// {"op": "search_replace", "file": "src/lib.rs", "search": "old text", "replace": "new text"}
/// {"op": "create_file", "file": "src/net.rs", "code": "//! Networking.\n\npub fn connect() {}\n"}
/// ```
///
/// Items are named by canonical path (`my_crate::geo::Point::new`), by display name
/// (`Point::new`) or by bare name (`new`); a name that fits several items is refused with the
/// candidates' canonical paths. `code` may be given at any indentation: its common leading
/// whitespace is replaced by the indentation of the place it goes to (lines inside multi-line
/// string literals are left exactly as given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    /// Replace an item's whole source text. The replaced text is the item's span, which begins
    /// at its first doc comment or attribute: `code` must include the doc comments and
    /// attributes the item should keep.
    ReplaceItem {
        /// The item: canonical path, display name or name.
        path: String,
        /// The item's new text, doc comments and attributes included.
        code: String,
    },
    /// Add an item at the end of a container: a module (before the closing brace of an inline
    /// `mod m { … }`, at the end of the file of a `mod m;` or of a crate root), an `impl` block
    /// or a trait (before its closing brace, indented one level deeper than the brace).
    InsertItem {
        /// The container: a module or crate path, an impl (`my_crate::<impl Point>` or
        /// `impl Point`) or a trait.
        parent: String,
        /// The new item, with its doc comments and attributes.
        code: String,
    },
    /// Replace the one occurrence of `search` in `file` by `replace`. The fallback for text
    /// that is not a whole item; `search` must occur exactly once, and `file` must be one of the
    /// index's Rust source files.
    SearchReplace {
        /// Workspace-relative path of the file (an absolute path inside the workspace works too).
        file: String,
        /// The exact text to find, whitespace included.
        search: String,
        /// What to put in its place.
        replace: String,
    },
    /// Create a new Rust source file inside a package. It becomes part of the crate only when a
    /// module declares it (`mod name;`), which takes another edit.
    CreateFile {
        /// Workspace-relative path of the new file; it must not exist and must end in `.rs`.
        file: String,
        /// The whole file's text (it must parse as a Rust file); a final newline is added if
        /// missing. Written as given, not re-indented.
        code: String,
    },
}

impl Edit {
    /// What this edit targets, for messages: the item, the parent or the file.
    pub fn target(&self) -> &str {
        match self {
            Edit::ReplaceItem { path, .. } => path,
            Edit::InsertItem { parent, .. } => parent,
            Edit::SearchReplace { file, .. } | Edit::CreateFile { file, .. } => file,
        }
    }
}

/// Parses a tool call's arguments: one edit object, a list of them, or `{"edits": [...]}`.
pub fn parse_edits(json: &str) -> Result<Vec<Edit>, EditError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Wrapped {
        edits: Vec<Edit>,
    }
    let bad = |e: serde_json::Error| EditError::BadRequest {
        message: e.to_string(),
    };
    let value: serde_json::Value = serde_json::from_str(json).map_err(bad)?;
    // Decode the shape that was sent, so that serde's message names the field that is wrong.
    match &value {
        serde_json::Value::Array(_) => serde_json::from_value(value).map_err(bad),
        serde_json::Value::Object(o) if o.contains_key("edits") && !o.contains_key("op") => {
            serde_json::from_value::<Wrapped>(value)
                .map(|w| w.edits)
                .map_err(bad)
        }
        _ => serde_json::from_value::<Edit>(value)
            .map(|e| vec![e])
            .map_err(bad),
    }
}
