//! Ranking properties of `LexicalIndex` through its public API.

use ploke_search::{Bm25Params, FieldParams, ItemDoc, LexicalIndex};

fn body(body: &str) -> ItemDoc<'_> {
    ItemDoc {
        body,
        ..ItemDoc::default()
    }
}

fn ids(hits: &[(u32, f32)]) -> Vec<u32> {
    hits.iter().map(|h| h.0).collect()
}

/// Plain BM25F without the priors, so that tests see the core ordering.
fn plain() -> Bm25Params {
    Bm25Params {
        length_prior: 0.0,
        file_context: 0.0,
        ..Bm25Params::default()
    }
}

#[test]
fn index_is_send_and_sync() {
    fn check<T: Send + Sync + 'static>() {}
    check::<LexicalIndex>();
}

#[test]
fn rare_term_outranks_common_term() {
    // "reader" is in every document, "timeout" only in one.
    let docs = [
        body("reader buffer"),
        body("reader timeout"),
        body("reader buffer"),
        body("reader socket"),
    ];
    let index = LexicalIndex::build(docs, plain());
    let hits = index.search("reader timeout", 10);
    assert_eq!(hits[0].0, 1);
    assert_eq!(hits.len(), 4);
}

#[test]
fn name_match_outranks_body_mention() {
    let docs = [
        ItemDoc {
            name: "helper",
            body: "fn helper() { let shutdown = true; shutdown_all(shutdown); }",
            ..ItemDoc::default()
        },
        ItemDoc {
            name: "Runtime::shutdown",
            body: "fn shutdown(self) { self.inner.close() }",
            ..ItemDoc::default()
        },
    ];
    let index = LexicalIndex::build(docs, plain());
    assert_eq!(ids(&index.search("shutdown", 10)), [1, 0]);
}

#[test]
fn code_identifier_in_query_prefers_item_of_that_name() {
    let docs = [
        ItemDoc {
            name: "Builder::build",
            body: "fn build(&mut self) { if self.enable_io { enable_io(); enable_io_driver(); } }",
            ..ItemDoc::default()
        },
        ItemDoc {
            name: "Builder::enable_io",
            body: "fn enable_io(&mut self) -> &mut Self { self.io = true; self }",
            ..ItemDoc::default()
        },
    ];
    let index = LexicalIndex::build(docs, plain());
    assert_eq!(index.search("fix `Builder::enable_io` docs", 10)[0].0, 1);
    assert_eq!(index.search("Builder::enable_io panics", 10)[0].0, 1);
}

#[test]
fn identifiers_meet_prose() {
    let docs = [
        body("fn parse_http_request(buf: &[u8]) -> HttpRequest"),
        body("fn write_response(out: &mut Vec<u8>)"),
    ];
    let index = LexicalIndex::build(docs, plain());
    assert_eq!(index.search("parsing HTTP requests", 10)[0].0, 0);
    assert_eq!(index.search("HTTPRequest", 10)[0].0, 0);
    assert_eq!(index.search("writes a response", 10)[0].0, 1);
}

#[test]
fn request_words_are_ignored_unless_they_are_all_there_is() {
    let docs = [
        ItemDoc {
            name: "Map::remove",
            body: "fn remove(&mut self, key: &K) -> Option<V>",
            ..ItemDoc::default()
        },
        ItemDoc {
            name: "Map::len",
            body: "fn len(&self) -> usize { self.entries.len() }",
            ..ItemDoc::default()
        },
    ];
    let index = LexicalIndex::build(docs, plain());
    // "remove" says what to do, `len` where.
    assert_eq!(ids(&index.search("remove the len check", 10)), [1]);
    // Written as code it is a name.
    assert_eq!(index.search("`remove` and len", 10)[0].0, 0);
    // Alone it is searched for.
    assert_eq!(ids(&index.search("remove", 10)), [0]);
}

#[test]
fn field_weights_apply() {
    let docs = [
        ItemDoc {
            docs: "Closes the socket.",
            ..ItemDoc::default()
        },
        ItemDoc {
            body: "socket.close()",
            ..ItemDoc::default()
        },
    ];
    let params = |docs_w: f32| Bm25Params {
        docs: FieldParams::new(docs_w, 0.0),
        body: FieldParams::new(1.0, 0.0),
        ..plain()
    };
    let heavy_docs = LexicalIndex::build(docs, params(5.0));
    assert_eq!(heavy_docs.search("socket", 10)[0].0, 0);
    let light_docs = LexicalIndex::build(docs, params(0.2));
    assert_eq!(light_docs.search("socket", 10)[0].0, 1);
}

#[test]
fn ties_are_broken_by_document_index() {
    let docs = vec![body("same words here"); 50];
    let index = LexicalIndex::build(docs.clone(), Bm25Params::default());
    let hits = index.search("same words", 20);
    assert_eq!(ids(&hits), (0..20).collect::<Vec<u32>>());
    // And building again gives the very same ranking and scores.
    let again = LexicalIndex::build(docs, Bm25Params::default());
    assert_eq!(again.search("same words", 20), hits);
}

#[test]
fn results_are_sorted_and_truncated() {
    let texts: Vec<String> = (0..200)
        .map(|i| format!("token{} shared {}", i % 7, "filler ".repeat(i % 13)))
        .collect();
    let index = LexicalIndex::build(texts.iter().map(|t| body(t)), Bm25Params::default());
    assert_eq!(index.len(), 200);
    let hits = index.search("shared token3 filler", 15);
    assert_eq!(hits.len(), 15);
    for w in hits.windows(2) {
        assert!(w[0].1 > w[1].1 || (w[0].1 == w[1].1 && w[0].0 < w[1].0));
    }
    assert!(hits.iter().all(|h| h.1 > 0.0 && h.1.is_finite()));
    assert!(index.search("shared", 0).is_empty());
    assert_eq!(index.search("shared", 10_000).len(), 200);
}

#[test]
fn empty_index_and_empty_queries() {
    let empty = LexicalIndex::build(std::iter::empty(), Bm25Params::default());
    assert_eq!(empty.len(), 0);
    assert!(empty.is_empty());
    assert!(empty.search("anything at all", 10).is_empty());
    assert!(empty.search("", 10).is_empty());

    let index = LexicalIndex::build([body("one document"), body("")], Bm25Params::default());
    assert!(index.search("", 10).is_empty());
    assert!(index.search("   \n\t", 10).is_empty());
    assert!(index.search("the of and", 10).is_empty());
    assert!(index.search("unknownword", 10).is_empty());
    assert!(index.search("```", 10).is_empty());
}

#[test]
fn unicode_and_odd_input_never_panics() {
    let texts = [
        "naïve Größe straße ΣΑΣ",
        "日本語のテキスト 😀 emoji_😀_mixed",
        "\u{0}\u{ffff}\u{10ffff} İstanbul ǅ ﬀ",
        "a::b::`c` `unterminated",
        "::::____....1.2.3..",
    ];
    let index = LexicalIndex::build(
        texts.iter().map(|t| ItemDoc {
            name: t,
            path: t,
            signature: t,
            docs: t,
            body: t,
            file: t,
        }),
        Bm25Params::default(),
    );
    for q in texts
        .iter()
        .chain(&["`", "``", "a::", "::b", "é::ü", "x!", "(", "Größe"])
    {
        let _ = index.search(q, 5);
    }
    assert_eq!(index.search("größe", 5)[0].0, 0);
    assert_eq!(index.search("日本語のテキスト", 5)[0].0, 1);
}

#[test]
fn params_round_trip_through_serde() {
    let p = Bm25Params::default();
    let json = serde_json::to_string(&p).unwrap();
    let back: Bm25Params = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
    // Partial configuration keeps the other defaults; unknown keys are rejected.
    let partial: Bm25Params = serde_json::from_str(r#"{"k1": 2.0}"#).unwrap();
    assert_eq!(partial.k1, 2.0);
    assert_eq!(partial.name, p.name);
    assert!(serde_json::from_str::<Bm25Params>(r#"{"k2": 1.0}"#).is_err());
}

#[test]
fn index_round_trips_through_serde() {
    let docs = [body("tcp stream reader"), body("udp socket writer")];
    let index = LexicalIndex::build(docs, Bm25Params::default());
    let json = serde_json::to_string(&index).unwrap();
    let back: LexicalIndex = serde_json::from_str(&json).unwrap();
    assert_eq!(back.search("udp writer", 5), index.search("udp writer", 5));
}

#[test]
fn field_coverage_says_which_fields_hold_the_query() {
    let docs = [
        ItemDoc {
            name: "retry_delay",
            path: "net::retry_delay",
            body: "fn retry_delay() -> Duration { backoff() }",
            file: "src/net.rs",
            ..Default::default()
        },
        ItemDoc {
            name: "connect",
            docs: "Connects, with a retry on failure.",
            body: "fn connect() {}",
            file: "src/net.rs",
            ..Default::default()
        },
        ItemDoc {
            name: "unrelated",
            body: "fn unrelated() {}",
            file: "src/other.rs",
            ..Default::default()
        },
    ];
    let index = LexicalIndex::build(docs, Bm25Params::default());
    let cov = index.field_coverage("retry delay", &[0, 1, 2]);
    // Fields: name, path, signature, docs, body, file; then any field.
    assert!(cov[0][0] > 0.99 && cov[0][6] > 0.99, "{:?}", cov[0]);
    assert_eq!(cov[0][3], 0.0);
    assert!(
        cov[1][3] > 0.0 && cov[1][3] < 1.0 && cov[1][0] == 0.0,
        "{:?}",
        cov[1]
    );
    assert_eq!(cov[1][3], cov[1][6]);
    assert_eq!(cov[2], [0.0; 7]);
    // A word no document has lowers every share.
    let cov = index.field_coverage("retry delay zeppelin", &[0]);
    assert!(cov[0][6] < 0.9, "{:?}", cov[0]);
    assert!(index.field_coverage("retry", &[]).is_empty());
}
