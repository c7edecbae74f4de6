//! A unified diff (as [`ploke_session::ReviewFile::diff`] holds it) in the lines a review
//! view draws: headers, hunk headers, context, additions and removals, each with its line
//! numbers in the old and the new file.

/// What a line of a diff is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineKind {
    /// `--- a/…`, `+++ b/…`.
    Header,
    /// `@@ -a,b +c,d @@`.
    Hunk,
    Context,
    Added,
    Removed,
    /// `\ No newline at end of file`.
    Note,
}

/// One line of a diff, its marker left out for context, added and removed lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine<'a> {
    pub kind: LineKind,
    pub text: &'a str,
    /// The line's number in the old file (context and removed lines).
    pub old: Option<u32>,
    /// The line's number in the new file (context and added lines).
    pub new: Option<u32>,
}

/// The lines of `diff`.
pub fn lines(diff: &str) -> Vec<DiffLine<'_>> {
    let (mut old, mut new) = (0u32, 0u32);
    diff.lines()
        .map(|l| {
            let (kind, text) = if l.starts_with("--- ") || l.starts_with("+++ ") {
                (LineKind::Header, l)
            } else if l.starts_with("@@") {
                if let Some((o, n)) = hunk_starts(l) {
                    (old, new) = (o, n);
                }
                (LineKind::Hunk, l)
            } else if let Some(t) = l.strip_prefix('+') {
                (LineKind::Added, t)
            } else if let Some(t) = l.strip_prefix('-') {
                (LineKind::Removed, t)
            } else if l.starts_with('\\') {
                (LineKind::Note, l)
            } else {
                (LineKind::Context, l.strip_prefix(' ').unwrap_or(l))
            };
            let (o, n) = match kind {
                LineKind::Context => (Some(old), Some(new)),
                LineKind::Added => (None, Some(new)),
                LineKind::Removed => (Some(old), None),
                _ => (None, None),
            };
            if o.is_some() {
                old += 1;
            }
            if n.is_some() {
                new += 1;
            }
            DiffLine {
                kind,
                text,
                old: o,
                new: n,
            }
        })
        .collect()
}

/// Lines added and removed.
pub fn counts(diff: &str) -> (usize, usize) {
    lines(diff).iter().fold((0, 0), |(a, r), l| match l.kind {
        LineKind::Added => (a + 1, r),
        LineKind::Removed => (a, r + 1),
        _ => (a, r),
    })
}

/// The first old and new line numbers of a hunk header `@@ -a,b +c,d @@`.
fn hunk_starts(header: &str) -> Option<(u32, u32)> {
    let mut parts = header.split_whitespace().skip(1);
    let num = |s: &str| s[1..].split(',').next()?.parse::<u32>().ok();
    let old = num(parts.next()?)?;
    let new = num(parts.next()?)?;
    Some((old, new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_hunk_headers() {
        let diff = "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -3,3 +3,4 @@\n a\n-b\n+c\n+d\n e\n";
        let ls = lines(diff);
        let kinds: Vec<LineKind> = ls.iter().map(|l| l.kind).collect();
        use LineKind::*;
        assert_eq!(
            kinds,
            [Header, Header, Hunk, Context, Removed, Added, Added, Context]
        );
        assert_eq!((ls[3].old, ls[3].new), (Some(3), Some(3)));
        assert_eq!((ls[4].old, ls[4].new), (Some(4), None));
        assert_eq!((ls[6].old, ls[6].new), (None, Some(5)));
        assert_eq!((ls[7].old, ls[7].new, ls[7].text), (Some(5), Some(6), "e"));
        assert_eq!(counts(diff), (2, 1));
    }
}
