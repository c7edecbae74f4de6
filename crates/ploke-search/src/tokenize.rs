//! Identifier-aware tokenisation shared by documents and queries.
//!
//! A *word* is a maximal run of ASCII letters, digits, `_` and non-ASCII alphanumeric
//! characters. Each word yields its whole form (lower-cased, `_` trimmed at both ends) and,
//! when it is a compound identifier, its parts: split at `_` and at case boundaries
//! (`fooBar` → foo, bar; `HTTPServer` → http, server; `Http2Server` → http2, server), with
//! digits kept on the letters before them (`parse_u32` → parse, u32). Every token is then
//! checked against a stop list (English function words and Rust keywords that say nothing
//! about where a change belongs) and reduced by a light suffix stemmer (plural `s`/`es`/`ies`,
//! `-ing`, `-ed`, a final `e`), so `parse`, `parses`, `parsed` and `parsing` meet.
//!
//! The scanner works on bytes and only decodes characters outside ASCII; it allocates
//! nothing per token ([`Tokenizer`] reuses one buffer).

use std::sync::OnceLock;

use fxhash::FxHashSet;

/// Tokens shorter than this (in bytes) are dropped.
const MIN_TOKEN_LEN: usize = 2;
/// Words longer than this (in bytes) are dropped: hashes, base64, generated tables.
const MAX_WORD_LEN: usize = 64;

/// English function words, and the Rust keywords that are pure syntax. Words that carry
/// meaning in a request even though code is full of them (`async`, `unsafe`, `const`,
/// `match`, `return`, `new`, `u32`, `cfg`, `doc`) are kept: their low IDF already says how
/// much they are worth.
const STOP_WORDS: &[&str] = &[
    // English
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "because", "been", "before", "being", "between", "both", "but", "by", "can", "could",
    "did", "do", "does", "doing", "done", "each", "eg", "etc", "even", "ever", "for", "from",
    "further", "had", "has", "have", "having", "he", "her", "here", "him", "his", "how", "however",
    "i", "ie", "if", "in", "into", "is", "it", "its", "itself", "just", "like", "me", "more",
    "most", "much", "must", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "one",
    "only", "or", "other", "our", "out", "over", "own", "same", "she", "should", "so", "some",
    "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this",
    "those", "through", "to", "too", "under", "until", "up", "upon", "us", "very", "was", "way",
    "we", "well", "were", "what", "when", "where", "whether", "which", "while", "who", "whom",
    "why", "will", "with", "within", "without", "would", "yet", "you", "your", "don", "doesn",
    "isn", "aren", "wasn", "weren", "won", "didn", "shouldn", "couldn", "wouldn", "hasn", "haven",
    "ll", "ve", "re", "instead", "via", "use", "used", "uses", "using", "make", "makes", "made",
    "already", "need", "needs", "needed", // Rust syntax
    "fn", "pub", "crate", "self", "super", "mut", "ref", "let", "struct", "enum", "trait", "impl",
    "mod", "else", "loop", "break", "continue", "dyn", // file paths
    "src", "rs",
];

fn stop_words() -> &'static FxHashSet<&'static str> {
    static SET: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| STOP_WORDS.iter().copied().collect())
}

/// Whether `token` (already lower-cased, not stemmed) is on the stop list.
pub fn is_stop_word(token: &str) -> bool {
    stop_words().contains(token)
}

/// Character classes that drive identifier splitting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Upper,
    Lower,
    Digit,
    Under,
}

/// A reusable tokeniser: holds the scratch buffers so that tokenising many documents
/// allocates nothing per token.
#[derive(Default)]
pub struct Tokenizer {
    buf: String,
    parts: Vec<(usize, usize)>,
}

impl Tokenizer {
    /// Creates a tokeniser with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls `emit` with every token of `text`, in order. Each word emits its whole form
    /// first, then its parts (see the module docs).
    pub fn tokens(&mut self, text: &str, mut emit: impl FnMut(&str)) {
        self.words(text, |tk, word| tk.word(word, &mut emit));
    }

    /// Like [`Tokenizer::tokens`], but also says whether the token is the whole form of its
    /// word (`true`) or one of its parts (`false`).
    pub fn tokens_with_kind(&mut self, text: &str, mut emit: impl FnMut(&str, bool)) {
        self.words(text, |tk, word| tk.word_with_kind(word, &mut emit));
    }

    /// Splits `text` into words and hands each to `f`.
    fn words(&mut self, text: &str, mut f: impl FnMut(&mut Self, &str)) {
        let bytes = text.as_bytes();
        let n = bytes.len();
        let mut i = 0;
        while i < n {
            let w = word_char_len(text, i);
            if w == 0 {
                // Skip one whole character (ASCII byte or a non-word UTF-8 sequence).
                i += if bytes[i] < 0x80 {
                    1
                } else {
                    utf8_len(bytes[i])
                };
                continue;
            }
            let start = i;
            i += w;
            loop {
                if i >= n {
                    break;
                }
                let w = word_char_len(text, i);
                if w == 0 {
                    // `TLS1.3`, `1.2`: a dot between digits joins a version number.
                    if bytes[i] == b'.'
                        && bytes[i - 1].is_ascii_digit()
                        && i + 1 < n
                        && bytes[i + 1].is_ascii_digit()
                    {
                        i += 1;
                        continue;
                    }
                    break;
                }
                i += w;
            }
            f(self, &text[start..i]);
        }
    }

    fn word(&mut self, word: &str, emit: &mut impl FnMut(&str)) {
        self.word_with_kind(word, &mut |t, _| emit(t));
    }

    fn word_with_kind(&mut self, word: &str, emit: &mut impl FnMut(&str, bool)) {
        if word.contains('.') {
            let joined = word.replace('.', "");
            return self.word_with_kind(&joined, emit);
        }
        let word = word.trim_matches('_');
        if word.is_empty() || word.len() > MAX_WORD_LEN {
            return;
        }
        let bytes = word.as_bytes();
        if bytes[0].is_ascii_digit() {
            // Numeric literals (`404`, `0x1f`, `1_000`): only the whole word, and only short.
            if word.len() <= 8 {
                self.emit_token(word, true, emit);
            }
            return;
        }
        self.split(word);
        self.emit_token(word, true, emit);
        if self.parts.len() > 1 {
            for k in 0..self.parts.len() {
                let (s, e) = self.parts[k];
                self.emit_token(&word[s..e], false, emit);
            }
        }
    }

    /// Fills `self.parts` with the byte ranges of the parts of identifier `word`.
    fn split(&mut self, word: &str) {
        self.parts.clear();
        let bytes = word.as_bytes();
        let n = bytes.len();
        let class = |b: u8| -> Class {
            if b.is_ascii_uppercase() {
                Class::Upper
            } else if b.is_ascii_digit() {
                Class::Digit
            } else if b == b'_' {
                Class::Under
            } else {
                // ASCII lower-case or a byte of a non-ASCII character.
                Class::Lower
            }
        };
        let mut start = None::<usize>;
        let mut prev = Class::Under;
        for i in 0..n {
            let c = class(bytes[i]);
            if c == Class::Under {
                if let Some(s) = start.take() {
                    self.parts.push((s, i));
                }
                prev = c;
                continue;
            }
            let boundary = match (prev, c) {
                (Class::Lower, Class::Upper) | (Class::Digit, Class::Upper) => true,
                (Class::Digit, Class::Lower) => true,
                // `HTTPServer`: the last capital of a run starts the next part.
                (Class::Upper, Class::Upper) => i + 1 < n && class(bytes[i + 1]) == Class::Lower,
                _ => false,
            };
            match start {
                Some(s) if boundary => {
                    self.parts.push((s, i));
                    start = Some(i);
                }
                Some(_) => {}
                None => start = Some(i),
            }
            prev = c;
        }
        if let Some(s) = start {
            self.parts.push((s, n));
        }
    }

    /// Lower-cases, filters and stems one token, then emits it.
    fn emit_token(&mut self, raw: &str, whole: bool, emit: &mut impl FnMut(&str, bool)) {
        self.buf.clear();
        if raw.is_ascii() {
            self.buf.push_str(raw);
            self.buf.make_ascii_lowercase();
        } else {
            for ch in raw.chars() {
                self.buf.extend(ch.to_lowercase());
            }
        }
        if self.buf.len() < MIN_TOKEN_LEN || is_stop_word(&self.buf) {
            return;
        }
        stem_in_place(&mut self.buf);
        emit(&self.buf, whole);
    }
}

/// Byte length of the word character starting at byte `i` of `text`, or 0 if that
/// character is not part of a word. `i` must be a character boundary.
#[inline]
fn word_char_len(text: &str, i: usize) -> usize {
    let b = text.as_bytes()[i];
    if b < 0x80 {
        return usize::from(b.is_ascii_alphanumeric() || b == b'_');
    }
    match text[i..].chars().next() {
        Some(ch) if ch.is_alphanumeric() => ch.len_utf8(),
        _ => 0,
    }
}

/// Length of the UTF-8 sequence that starts with byte `b` (1 for a stray continuation byte,
/// which cannot occur in a `str` at a boundary).
#[inline]
fn utf8_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Tokenises `text` into owned strings (convenience for tests and callers that do not care
/// about speed; the index uses [`Tokenizer`] directly).
pub fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    Tokenizer::new().tokens(text, |t| out.push(t.to_owned()));
    out
}

fn has_vowel(b: &[u8]) -> bool {
    b.iter()
        .any(|c| matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y'))
}

/// Light English suffix stemmer over a lower-cased token (non-ASCII tokens are left alone).
///
/// Plurals: `entries` → `entry`, `matches` → `match`, `parsers` → `parser` (but not `ss`,
/// `us`, `is` endings); then `-ing` / `-ed` (only when a vowel is left: `string` stays),
/// undoubling a final double consonant (`stopped` → `stop`); then a final `e`, so `parse`,
/// `parsed` and `parsing` all become `pars`.
pub fn stem(word: &str) -> String {
    let mut s = word.to_owned();
    stem_in_place(&mut s);
    s
}

fn stem_in_place(w: &mut String) {
    if !w.is_ascii() {
        return;
    }
    let n = w.len();
    let b = w.as_bytes();
    // Plurals.
    if n > 4 && w.ends_with("ies") {
        w.truncate(n - 3);
        w.push('y');
        return;
    }
    if n > 4
        && w.ends_with("es")
        && (matches!(b[n - 3], b's' | b'x' | b'z') || w.ends_with("ches") || w.ends_with("shes"))
    {
        w.truncate(n - 2);
    } else if n > 3 && b[n - 1] == b's' && !matches!(b[n - 2], b's' | b'u' | b'i') {
        w.truncate(n - 1);
    }
    // Verb endings.
    let n = w.len();
    let b = w.as_bytes();
    if n > 5 && w.ends_with("ing") && has_vowel(&b[..n - 3]) {
        w.truncate(n - 3);
        undouble(w);
    } else if n > 4 && w.ends_with("ied") {
        w.truncate(n - 3);
        w.push('y');
        return;
    } else if n > 4 && w.ends_with("ed") && !w.ends_with("eed") && has_vowel(&b[..n - 2]) {
        w.truncate(n - 2);
        undouble(w);
    }
    // Final e (`parse` meets `parsing`).
    let n = w.len();
    if n > 3 && w.as_bytes()[n - 1] == b'e' && w.as_bytes()[n - 2] != b'e' {
        w.truncate(n - 1);
    }
}

/// `stopp` → `stop`, but not `call`, `pass`, `buzz`, and only on stems longer than 3.
fn undouble(w: &mut String) {
    let b = w.as_bytes();
    let n = b.len();
    if n > 3
        && b[n - 1] == b[n - 2]
        && !matches!(
            b[n - 1],
            b'l' | b's' | b'z' | b'a' | b'e' | b'i' | b'o' | b'u'
        )
    {
        w.truncate(n - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        tokenize(s)
    }

    #[test]
    fn snake_case_keeps_whole_and_parts() {
        assert_eq!(toks("enable_io"), ["enable_io", "enabl", "io"]);
        assert_eq!(
            toks("__private_field_"),
            ["private_field", "privat", "field"]
        );
    }

    #[test]
    fn camel_case_and_acronyms() {
        assert_eq!(toks("TcpStream"), ["tcpstream", "tcp", "stream"]);
        assert_eq!(toks("HTTPServer"), ["httpserver", "http", "server"]);
        assert_eq!(
            toks("parseHTTPRequest"),
            ["parsehttprequest", "pars", "http", "request"]
        );
        assert_eq!(toks("IOError"), ["ioerror", "io", "error"]);
    }

    #[test]
    fn digits_stay_with_letters() {
        assert_eq!(toks("parse_u32"), ["parse_u32", "pars", "u32"]);
        assert_eq!(toks("Http2Server"), ["http2server", "http2", "server"]);
        assert_eq!(toks("x86_64"), ["x86_64", "x86", "64"]);
        assert_eq!(toks("404 and 1"), ["404"]);
        // A dot between digits joins a version number.
        assert_eq!(toks("TLS1.3 and 1.2"), ["tls13", "12"]);
        assert_eq!(toks("v1. 2"), ["v1"]);
    }

    #[test]
    fn single_words_are_not_duplicated() {
        assert_eq!(toks("stream"), ["stream"]);
        assert_eq!(toks("Stream"), ["stream"]);
    }

    #[test]
    fn stemming() {
        for (w, s) in [
            ("parsers", "parser"),
            ("entries", "entry"),
            ("matches", "match"),
            ("classes", "class"),
            ("parse", "pars"),
            ("parsing", "pars"),
            ("parsed", "pars"),
            ("parses", "pars"),
            ("stopped", "stop"),
            ("calling", "call"),
            ("copied", "copy"),
            ("string", "string"),
            ("status", "status"),
            ("address", "address"),
            ("bytes", "byt"),
            ("byte", "byt"),
        ] {
            assert_eq!(stem(w), s, "{w}");
        }
    }

    #[test]
    fn stop_words_are_dropped() {
        assert_eq!(toks("the fn is in a mod"), Vec::<String>::new());
        assert_eq!(toks("pub(crate) struct Foo where"), ["foo"]);
        assert_eq!(toks("fix the reader"), ["fix", "reader"]);
        // Parts that are stop words go; the whole identifier stays.
        assert_eq!(toks("is_empty"), ["is_empty", "empty"]);
        // Words with meaning in requests are not stop words.
        assert_eq!(toks("async unsafe const"), ["async", "unsaf", "const"]);
        assert!(is_stop_word("the") && is_stop_word("impl") && !is_stop_word("match"));
    }

    #[test]
    fn short_and_long_words_are_dropped() {
        assert_eq!(toks("a b c x_y"), ["x_y"]);
        let long = "a".repeat(MAX_WORD_LEN + 1);
        assert_eq!(toks(&format!("{long} ok")), ["ok"]);
    }

    #[test]
    fn empty_input() {
        assert!(toks("").is_empty());
        assert!(toks("  \n\t ::<>() ").is_empty());
        assert!(toks("___").is_empty());
    }

    #[test]
    fn punctuation_and_paths() {
        assert_eq!(
            toks("tokio::runtime::Builder::enable_io()"),
            ["tokio", "runtim", "builder", "enable_io", "enabl", "io"]
        );
        assert_eq!(toks("src/runtime/builder.rs"), ["runtim", "builder"]);
    }

    #[test]
    fn unicode_never_panics() {
        assert_eq!(toks("naïve Größe"), ["naïve", "größe"]);
        assert_eq!(toks("日本語のテキスト"), ["日本語のテキスト"]);
        assert_eq!(toks("a—b “words” ☃ 😀x"), ["word"]);
        let _ = toks("\u{0}\u{ffff}\u{10ffff}_Ä_ß_İ");
        let _ = toks("ǅungla ﬀ ΣΑΣ");
    }

    #[test]
    fn kinds_mark_whole_words() {
        let mut got = Vec::new();
        Tokenizer::new().tokens_with_kind("read_buf", |t, whole| got.push((t.to_owned(), whole)));
        assert_eq!(
            got,
            [
                ("read_buf".to_owned(), true),
                ("read".to_owned(), false),
                ("buf".to_owned(), false)
            ]
        );
    }
}
