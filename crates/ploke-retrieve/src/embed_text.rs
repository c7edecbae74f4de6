//! The text a dense model sees for an item.
//!
//! Sentence models are trained on prose, so identifiers are spelled out as words
//! (`enable_io` → `enable io`, `JoinHandle` → `join handle`), and the text leads with what
//! says most about an item in few tokens: its kind and path, the first paragraph of its docs,
//! its signature, then the head of its body. The model cuts the text at its token cap; every
//! part is also capped here so one long part cannot crowd out the others.

use ploke_core::{ContentHash, ItemKind, Node};

/// Model tokens an item text is cut to unless configured otherwise. Measured on the DEV
/// benchmark: 64 tokens embed about twice as fast as 128 with the same retrieval scores.
pub const DEFAULT_MAX_TOKENS: usize = 64;

/// Characters kept of the docs' first paragraph.
const DOC_CHARS: usize = 320;
/// Characters kept of the signature.
const SIG_CHARS: usize = 240;
/// Characters kept of the body.
const BODY_CHARS: usize = 400;

/// Whether `node` gets a vector. Test code does not (it is ranked below the code it tests
/// anyway), nor do items with no text of their own.
pub fn should_embed(node: &Node) -> bool {
    !node.is_test
        && !matches!(
            node.kind,
            ItemKind::Use | ItemKind::ExternCrate | ItemKind::Crate
        )
}

/// The text embedded for `node`, whose own text (see [`crate::Corpus::bodies`]) is `body`.
pub fn embed_text(node: &Node, body: &str) -> String {
    let mut out = String::with_capacity(DOC_CHARS + SIG_CHARS + BODY_CHARS + 64);
    out.push_str(node.kind.as_str());
    out.push(' ');
    // The path without the crate name: `runtime builder enable io`.
    let path = node
        .path
        .split_once("::")
        .map_or(node.path.as_str(), |(_, rest)| rest);
    push_words(&mut out, path);
    out.push_str(". ");
    let para = node.docs.split("\n\n").next().unwrap_or("").trim();
    push_capped(&mut out, para, DOC_CHARS);
    out.push('\n');
    push_capped(&mut out, node.signature.trim(), SIG_CHARS);
    out.push('\n');
    let body = body.trim();
    let body = body.strip_prefix(node.signature.trim()).unwrap_or(body);
    push_capped(&mut out, body.trim_start(), BODY_CHARS);
    out
}

/// The key an item's vector is stored under: the content hash of its embedded text.
pub fn text_hash(text: &str) -> ContentHash {
    ContentHash::of(text.as_bytes())
}

fn push_capped(out: &mut String, s: &str, max: usize) {
    if s.len() <= max {
        out.push_str(s);
    } else {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(&s[..end]);
    }
}

/// Appends `ident` split into lower-case words at `::`, `_`, and case changes.
fn push_words(out: &mut String, ident: &str) {
    let mut prev: Option<char> = None;
    let chars: Vec<char> = ident.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
            prev = None;
            continue;
        }
        if let Some(p) = prev {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // `fooBar`, `HTTPServer` (split before `S`), `utf8Decode` stays at digits.
            if c.is_uppercase()
                && (p.is_lowercase() || (p.is_uppercase() && next_lower))
                && !out.ends_with(' ')
            {
                out.push(' ');
            }
        }
        out.extend(c.to_lowercase());
        prev = Some(c);
    }
    while out.ends_with(' ') {
        out.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> String {
        let mut out = String::new();
        push_words(&mut out, s);
        out
    }

    #[test]
    fn identifiers_become_words() {
        assert_eq!(
            words("runtime::Builder::enable_io"),
            "runtime builder enable io"
        );
        assert_eq!(
            words("HTTPServer::parse_request"),
            "http server parse request"
        );
        assert_eq!(
            words("<JoinHandle as Future>::poll"),
            "join handle as future poll"
        );
        assert_eq!(words("utf8_decode"), "utf8 decode");
    }

    #[test]
    fn text_leads_with_path_docs_and_signature() {
        let node = Node {
            id: ploke_core::NodeId(1),
            kind: ItemKind::Method,
            crate_name: "tokio".into(),
            name: "enable_io".into(),
            display_name: "Builder::enable_io".into(),
            path: "tokio::runtime::Builder::enable_io".into(),
            module: "runtime".into(),
            file: "src/runtime/builder.rs".into(),
            span: ploke_core::Span::default(),
            visibility: ploke_core::Visibility::Public,
            docs: "Enables the I/O driver.\n\nDoing this enables using net, process, signal."
                .into(),
            attrs: Vec::new(),
            cfg: String::new(),
            signature: "pub fn enable_io(&mut self) -> &mut Self".into(),
            content_hash: ContentHash::default(),
            is_test: false,
            parent: None,
        };
        let t = embed_text(
            &node,
            "pub fn enable_io(&mut self) -> &mut Self {\n    self.enable_io = true;\n    self\n}",
        );
        assert_eq!(
            t,
            "method runtime builder enable io. Enables the I/O driver.\npub fn enable_io(&mut self) -> &mut Self\n{\n    self.enable_io = true;\n    self\n}"
        );
        assert_ne!(text_hash(&t), text_hash("other"));
    }
}
