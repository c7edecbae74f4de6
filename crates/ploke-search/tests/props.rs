//! Arbitrary input never panics, and rankings keep their invariants.

use ploke_search::{tokenize, Bm25Params, ItemDoc, LexicalIndex};
use proptest::prelude::*;

/// Text biased towards what the tokeniser cares about: identifiers, case changes, digits,
/// `_`, `::`, backticks, dots, and some non-ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9_:`.!() é日😀-]{0,40}",
        "([A-Z][a-z]{0,5}|[a-z]{1,6}|_|::|[0-9]{1,3}|`| |\\.){0,12}",
    ]
}

proptest! {
    #[test]
    fn tokens_are_lowercase_and_nonempty(s in text()) {
        for t in tokenize(&s) {
            prop_assert!(!t.is_empty());
            prop_assert_eq!(t.to_lowercase(), t.clone());
        }
    }

    #[test]
    fn search_never_panics_and_is_ordered(
        docs in prop::collection::vec((text(), text(), text()), 0..12),
        query in text(),
        k in 0usize..20,
    ) {
        let index = LexicalIndex::build(
            docs.iter().map(|(name, body, file)| ItemDoc {
                name,
                path: name,
                signature: body,
                docs: "",
                body,
                file,
            }),
            Bm25Params::default(),
        );
        prop_assert_eq!(index.len(), docs.len());
        let hits = index.search(&query, k);
        prop_assert!(hits.len() <= k);
        for h in &hits {
            prop_assert!((h.0 as usize) < docs.len());
            prop_assert!(h.1 > 0.0 && h.1.is_finite());
        }
        for w in hits.windows(2) {
            prop_assert!(w[0].1 > w[1].1 || (w[0].1 == w[1].1 && w[0].0 < w[1].0));
        }
        prop_assert_eq!(index.search(&query, k), hits);
    }
}
