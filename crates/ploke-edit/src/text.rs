//! Text helpers: lines and indentation, re-indenting code for the place it goes to, finding
//! the one occurrence of a search text, and the parse check. Each is linear in its input: a
//! model may send megabytes.

use std::collections::HashSet;

/// Byte offset of the start of the line that contains `pos`.
pub(crate) fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |i| i + 1)
}

/// 1-based line number of byte `pos`.
pub(crate) fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The leading spaces and tabs of the line that contains `pos`.
pub(crate) fn line_indent(text: &str, pos: usize) -> &str {
    let start = line_start(text, pos);
    let line = &text[start..];
    &line[..leading_ws(line)]
}

/// Number of leading space and tab bytes of `line`.
fn leading_ws(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// Offset just after the last non-whitespace character before `pos` (0 when there is none).
pub(crate) fn end_of_content_before(text: &str, pos: usize) -> usize {
    text[..pos].trim_end().len()
}

/// One indentation level deeper than `indent`: a tab where the file indents with tabs,
/// four spaces otherwise.
pub(crate) fn deeper(indent: &str) -> String {
    if indent.contains('\t') {
        format!("{indent}\t")
    } else {
        format!("{indent}    ")
    }
}

/// `code` re-indented for a place whose lines are indented by `indent`.
///
/// Leading blank lines and trailing whitespace are dropped. The code's common indentation is
/// removed (a first line at column 0 does not count, since code copied from a source view often
/// starts mid-line), then `indent` is put before every non-blank line; before the first line
/// only when `indent_first` (an item being replaced already starts after its indentation).
/// Lines that continue a multi-line string literal are kept exactly as given.
pub(crate) fn reindent(code: &str, indent: &str, indent_first: bool) -> String {
    let code = code.trim_end();
    // Drop whole blank lines at the start, keeping the first line's own indentation.
    let first_content = code.len() - code.trim_start().len();
    let code = &code[line_start(code, first_content)..];
    let protected = literal_continuation_lines(code);
    let lines: Vec<&str> = code
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut common: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        if protected.contains(&i)
            || line.trim().is_empty()
            || (i == 0 && leading_ws(line) == 0 && lines.len() > 1)
        {
            continue;
        }
        let ws = leading_ws(line);
        common = Some(common.map_or(ws, |c| c.min(ws)));
    }
    let common = common.unwrap_or(0);
    let mut out = String::with_capacity(code.len() + lines.len() * indent.len());
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if protected.contains(&i) {
            out.push_str(line);
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        if i > 0 || indent_first {
            out.push_str(indent);
        }
        out.push_str(&line[leading_ws(line).min(common)..]);
    }
    out
}

/// 0-based indices of the lines of `code` that begin inside a string literal (the second and
/// later lines of a multi-line literal), whose leading whitespace is part of the string.
fn literal_continuation_lines(code: &str) -> HashSet<usize> {
    fn walk(ts: proc_macro2::TokenStream, out: &mut HashSet<usize>) {
        for tt in ts {
            match tt {
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), out),
                proc_macro2::TokenTree::Literal(l) => {
                    let span = l.span();
                    // Lines are 1-based; line `n` is index `n - 1`.
                    for line in span.start().line + 1..=span.end().line {
                        out.insert(line - 1);
                    }
                }
                _ => {}
            }
        }
    }
    // `walk` recurses once per bracket level; the caller keeps code within the parser's nesting
    // limit, and this stack is sized for it.
    ploke_parse::on_parser_stack(code, || {
        let mut out = HashSet::new();
        // Code that does not even lex will fail the parse check; no line needs protecting.
        if let Ok(ts) = code.parse::<proc_macro2::TokenStream>() {
            walk(ts, &mut out);
        }
        out
    })
}

/// The offset of the one occurrence of `needle` in `hay`, or else how often it occurs: 0, or
/// at least 2 (occurrences that overlap an earlier one are not counted beyond that).
///
/// Linear: listing every overlapping occurrence one `find` at a time costs the needle's length
/// per occurrence, which is quadratic for a self-similar needle (`aaaa…` in `aaaa…`).
pub(crate) fn find_unique(hay: &str, needle: &str) -> Result<usize, usize> {
    let Some(first) = hay.find(needle) else {
        return Err(0);
    };
    let step = needle.chars().next().map_or(1, char::len_utf8);
    match hay[first + step..].find(needle) {
        None => Ok(first),
        Some(_) => Err(hay.matches(needle).count().max(2)),
    }
}

/// Whether `text` parses as a Rust file; on failure the 1-based line and syn's message. `text`
/// must be within the parser's limits (`ploke_parse::over_limits`), which size the stack.
pub(crate) fn parse_check(text: &str) -> Result<(), (usize, String)> {
    ploke_parse::on_parser_stack(text, || {
        syn::parse_file(text)
            .map(|_| ())
            .map_err(|e| (e.span().start().line.max(1), e.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reindent_from_column_zero() {
        let code = "\n\nfn a() {\n    1\n}\n\n";
        assert_eq!(
            reindent(code, "    ", true),
            "    fn a() {\n        1\n    }"
        );
        assert_eq!(reindent(code, "    ", false), "fn a() {\n        1\n    }");
    }

    #[test]
    fn reindent_from_a_source_view() {
        // The first line cut from its indentation, the rest at the file's.
        let code = "fn a() {\n        1\n    }";
        assert_eq!(reindent(code, "\t", false), "fn a() {\n\t    1\n\t}");
        assert_eq!(reindent(code, "", true), "fn a() {\n    1\n}");
    }

    #[test]
    fn reindent_keeps_string_continuations_and_blank_lines() {
        let code = "    const S: &str = \"a\n  b\";\n\n    fn f() {}";
        assert_eq!(
            reindent(code, "  ", true),
            "  const S: &str = \"a\n  b\";\n\n  fn f() {}"
        );
    }

    #[test]
    fn find_unique_counts_overlaps_as_more_than_one() {
        assert_eq!(find_unique("aaa", "aa"), Err(2));
        assert_eq!(find_unique("abc", "x"), Err(0));
        assert_eq!(find_unique("é é", "é"), Err(2));
        assert_eq!(find_unique("é ab", "ab"), Ok(3));
        assert_eq!(find_unique("ab ab ab", "ab"), Err(3));
    }

    proptest::proptest! {
        /// Whatever the model sends, re-indenting never panics and only moves whitespace.
        #[test]
        fn reindent_only_changes_whitespace(code in "[ \t\n\r\"a-z{}();/#é]{0,80}", indent in "[ \t]{0,6}", first: bool) {
            let out = reindent(&code, &indent, first);
            let strip = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
            proptest::prop_assert_eq!(strip(&out), strip(&code));
        }

        /// The one occurrence is found exactly when the needle starts at one offset only.
        #[test]
        fn find_unique_is_exact(hay in "[ab]{0,30}", needle in "[ab]{1,3}") {
            let starts: Vec<usize> = (0..hay.len()).filter(|&i| hay[i..].starts_with(&needle)).collect();
            match find_unique(&hay, &needle) {
                Ok(at) => proptest::prop_assert_eq!(starts, vec![at]),
                Err(0) => proptest::prop_assert!(starts.is_empty()),
                Err(n) => proptest::prop_assert!(n >= 2 && starts.len() >= n),
            }
        }
    }

    #[test]
    fn parse_check_names_the_line() {
        assert!(parse_check("fn a() {}\n").is_ok());
        let (line, _) = parse_check("fn a() {}\nfn b( {}\n").unwrap_err();
        assert_eq!(line, 2);
    }
}
