//! The edit loop: the model explores with the read-only tools and proposes edits as tool
//! calls (`replace_item`, `insert_item`, `search_replace`, `create_file`). Each proposal is
//! validated at once by planning it together with the ones accepted before
//! ([`ploke_edit::plan`]: the item exists, the file is an indexed source file and not stale,
//! item code is one item of the right kind, the result parses and stays within the parser's
//! limits); a refused one goes back to the model with the reason. Nothing is written here: the
//! caller gets the [`Plan`] to show and apply.

use ploke_edit::{plan, Edit, EditContext, Plan};
use ploke_llm::{ChatModel, LlmError, ToolSpec};
use serde_json::json;

use crate::ask::{run_loop, user_message, AskEvent, AskOptions, AskOutcome};
use crate::Toolbox;

/// The instructions of an edit request.
pub const EDIT_SYSTEM_PROMPT: &str = "You are ploke, an expert Rust engineer changing one code base. \
The user's request comes with a context pack of the relevant code (file paths and line numbers). \
Make the change with the edit tools: replace_item replaces a whole item (give its full new text, doc comments and attributes included), \
insert_item adds a new item into a module, impl or trait, search_replace changes text that is not a whole item, create_file makes a new source file (declare it with `mod name;` in another edit). \
Only the indexed Rust source files of the workspace can be edited. \
Use the read-only tools when you need more code. Every edit is checked when you propose it; if one is refused, fix it and propose it again. \
When the change is complete, reply with a one-paragraph summary and no more tool calls.";

/// The edit tools in the providers' neutral form.
pub fn edit_tool_specs() -> Vec<ToolSpec> {
    let spec = |name: &str, description: &str, params: serde_json::Value| ToolSpec {
        name: name.to_string(),
        description: description.to_string(),
        parameters: params,
    };
    vec![
        spec(
            "replace_item",
            "Replace an item (function, method, type, impl, trait, const...) with new code. `path` is its canonical path (`crate::module::Type::method`) or name (`Type::method`); `code` is exactly one complete item of the same kind, including doc comments and attributes, and nothing else.",
            json!({"type": "object", "properties": {"path": {"type": "string"}, "code": {"type": "string"}}, "required": ["path", "code"]}),
        ),
        spec(
            "insert_item",
            "Insert new items at the end of a module, impl block or trait. `parent` is its canonical path or name (an impl: `impl Type` or `impl Trait for Type`); `code` is one or more complete items that belong there (methods, consts and types for an impl or trait).",
            json!({"type": "object", "properties": {"parent": {"type": "string"}, "code": {"type": "string"}}, "required": ["parent", "code"]}),
        ),
        spec(
            "search_replace",
            "Replace text that occurs exactly once in an indexed Rust source file (path relative to the workspace root) — for code that is not a whole item.",
            json!({"type": "object", "properties": {"file": {"type": "string"}, "search": {"type": "string"}, "replace": {"type": "string"}}, "required": ["file", "search", "replace"]}),
        ),
        spec(
            "create_file",
            "Create a new Rust source file. `file` is a path relative to the workspace root, ending in `.rs`, inside a package directory (e.g. `src/net.rs`), that does not exist yet; `code` is the whole file and must parse. The file is not part of the crate until a module declares it: also add `mod net;` (or `pub mod net;`) to its parent module with insert_item or search_replace.",
            json!({"type": "object", "properties": {"file": {"type": "string"}, "code": {"type": "string"}}, "required": ["file", "code"]}),
        ),
    ]
}

/// What the edit loop produced.
pub struct Proposal {
    /// The accepted edits, planned together (`None` when the model proposed none).
    pub plan: Option<Plan>,
    pub edits: Vec<Edit>,
    pub outcome: AskOutcome,
}

/// Runs the edit loop for `request`; `first_message` replaces the default opening (the
/// context pack and the request) when given, e.g. to report compiler errors.
///
/// A file that changed on disk since it was indexed (the user kept typing while the model
/// worked) is not the model's fault: `refresh` re-indexes it, and the edit is planned again
/// against the new text (for each such file) before a refusal goes back.
#[allow(clippy::too_many_arguments)]
pub async fn propose(
    model: &dyn ChatModel,
    toolbox: &Toolbox<'_>,
    ctx: &EditContext<'_>,
    request: &str,
    context_markdown: &str,
    opts: &AskOptions,
    refresh: &mut (dyn FnMut(&str) -> Result<(), String> + Send),
    on_event: &mut (dyn FnMut(AskEvent) + Send),
) -> Result<Proposal, LlmError> {
    let mut edits: Vec<Edit> = Vec::new();
    let mut current: Option<Plan> = None;
    let mut handle = |call: &ploke_llm::ToolCall| -> Option<(String, bool)> {
        let op = match call.name.as_str() {
            "replace_item" | "insert_item" | "search_replace" | "create_file" => call.name.as_str(),
            _ => return None,
        };
        let mut args = call.arguments.clone();
        if let Some(obj) = args.as_object_mut() {
            obj.insert("op".into(), json!(op));
        }
        let edit: Edit = match serde_json::from_value(args) {
            Ok(e) => e,
            Err(e) => return Some((format!("error: bad arguments for {op}: {e}"), true)),
        };
        let mut tried = edits.clone();
        tried.push(edit.clone());
        // Planning stops at the first stale file: re-index each (once) and plan again.
        let mut refreshed: Vec<String> = Vec::new();
        let planned = loop {
            match plan(&tried, ctx) {
                Err(ploke_edit::EditError::Stale { file }) if !refreshed.contains(&file) => {
                    if let Err(why) = refresh(&file) {
                        return Some((
                            format!(
                                "error: {file} changed on disk and could not be re-indexed: {why}"
                            ),
                            true,
                        ));
                    }
                    refreshed.push(file);
                }
                other => break other,
            }
        };
        match planned {
            Ok(p) => {
                edits = tried;
                let files = p.changed_files().join(", ");
                current = Some(p);
                Some((
                    format!(
                        "ok: edit accepted ({} pending, files: {files})",
                        edits.len()
                    ),
                    false,
                ))
            }
            Err(e) => Some((format!("error: edit refused: {e}"), true)),
        }
    };
    let outcome = run_loop(
        model,
        toolbox,
        EDIT_SYSTEM_PROMPT,
        &user_message(request, context_markdown),
        edit_tool_specs(),
        &mut handle,
        opts,
        on_event,
    )
    .await?;
    Ok(Proposal {
        plan: current,
        edits,
        outcome,
    })
}
