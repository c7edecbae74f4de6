//! Conversion between the ploke-core records and CozoDB rows (in the column orders of
//! [`crate::schema`]).

use cozo::DataValue;
use ploke_core::{
    ContentHash, CrateRecord, Edge, EdgeKind, FileRecord, ItemKind, Node, NodeId, Skipped, Span,
    TargetKind, Unresolved, Visibility,
};

use crate::DbError;

type Row = Vec<DataValue>;

fn int(v: impl Into<i64>) -> DataValue {
    DataValue::from(v.into())
}

fn text(s: &str) -> DataValue {
    DataValue::from(s)
}

pub(crate) fn id(id: NodeId) -> DataValue {
    DataValue::from(id.as_i64())
}

// ---------------------------------------------------------------------------------------------
// Encoding

pub(crate) fn node_row(n: &Node) -> Row {
    vec![
        id(n.id),
        text(n.kind.as_str()),
        text(&n.crate_name),
        text(&n.name),
        text(&n.display_name),
        text(&n.path),
        text(&n.module),
        text(&n.file),
        int(n.span.start_byte),
        int(n.span.end_byte),
        int(n.span.start_line),
        int(n.span.end_line),
        DataValue::from(n.visibility.as_text()),
        text(&n.docs),
        DataValue::List(n.attrs.iter().map(|a| text(a)).collect()),
        text(&n.cfg),
        text(&n.signature),
        DataValue::from(n.content_hash.to_hex()),
        DataValue::from(n.is_test),
        n.parent.map_or(DataValue::Null, id),
    ]
}

pub(crate) fn crate_row(c: &CrateRecord) -> Row {
    vec![
        id(c.id),
        text(&c.name),
        text(&c.package),
        text(&c.version),
        text(c.kind.as_str()),
        text(&c.package_root),
        text(&c.root_file),
    ]
}

pub(crate) fn file_row(f: &FileRecord) -> Row {
    vec![
        text(&f.path),
        text(&f.rel_path),
        text(&f.crate_name),
        DataValue::from(f.hash.to_hex()),
        // Sizes beyond i64::MAX do not exist on any file system ploke reads.
        DataValue::from(i64::try_from(f.size).unwrap_or(i64::MAX)),
        int(f.lines),
    ]
}

pub(crate) fn edge_row(e: &Edge) -> Row {
    vec![id(e.src), text(e.kind.as_str()), id(e.dst), int(e.line)]
}

/// An edge as a row of `edges_in` (the reverse adjacency: `dst, kind, src, line`).
pub(crate) fn edge_in_row(e: &Edge) -> Row {
    vec![id(e.dst), text(e.kind.as_str()), id(e.src), int(e.line)]
}

pub(crate) fn unresolved_row(u: &Unresolved) -> Row {
    vec![id(u.src), text(u.kind.as_str()), text(&u.text), int(u.line)]
}

pub(crate) fn skipped_row(s: &Skipped) -> Row {
    vec![
        text(&s.path),
        int(s.line),
        text(&s.reason),
        DataValue::from(s.whole_file),
    ]
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// Reads the columns of one row in order, reporting which relation a bad value came from.
pub(crate) struct Cursor<'a> {
    what: &'static str,
    row: &'a [DataValue],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(
        what: &'static str,
        row: &'a [DataValue],
        arity: usize,
    ) -> Result<Self, DbError> {
        if row.len() < arity {
            return Err(DbError::Corrupt(format!(
                "{what} row has {} columns, expected {arity}",
                row.len()
            )));
        }
        Ok(Cursor { what, row, pos: 0 })
    }

    fn next(&mut self) -> &'a DataValue {
        let v = &self.row[self.pos];
        self.pos += 1;
        v
    }

    fn bad(&self, expected: &str) -> DbError {
        DbError::Corrupt(format!(
            "{} column {} is {:?}, expected {expected}",
            self.what,
            self.pos - 1,
            self.row[self.pos - 1]
        ))
    }

    fn str(&mut self) -> Result<&'a str, DbError> {
        match self.next().get_str() {
            Some(s) => Ok(s),
            None => Err(self.bad("a string")),
        }
    }

    pub(crate) fn string(&mut self) -> Result<String, DbError> {
        self.str().map(str::to_owned)
    }

    fn i64(&mut self) -> Result<i64, DbError> {
        match self.next() {
            DataValue::Num(cozo::Num::Int(i)) => Ok(*i),
            _ => Err(self.bad("an integer")),
        }
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DbError> {
        let v = self.i64()?;
        u32::try_from(v).map_err(|_| self.bad("a 32-bit unsigned integer"))
    }

    fn u64(&mut self) -> Result<u64, DbError> {
        let v = self.i64()?;
        u64::try_from(v).map_err(|_| self.bad("an unsigned integer"))
    }

    fn bool(&mut self) -> Result<bool, DbError> {
        match self.next() {
            DataValue::Bool(b) => Ok(*b),
            _ => Err(self.bad("a boolean")),
        }
    }

    pub(crate) fn id(&mut self) -> Result<NodeId, DbError> {
        self.i64().map(NodeId::from_i64)
    }

    fn opt_id(&mut self) -> Result<Option<NodeId>, DbError> {
        match self.next() {
            DataValue::Null => Ok(None),
            DataValue::Num(cozo::Num::Int(i)) => Ok(Some(NodeId::from_i64(*i))),
            _ => Err(self.bad("an integer or null")),
        }
    }

    pub(crate) fn hash(&mut self) -> Result<ContentHash, DbError> {
        let s = self.str()?;
        ContentHash::from_hex(s).ok_or_else(|| self.bad("a hex hash"))
    }

    fn strings(&mut self) -> Result<Vec<String>, DbError> {
        match self.next() {
            DataValue::List(items) => items
                .iter()
                .map(|v| {
                    v.get_str()
                        .map(str::to_owned)
                        .ok_or_else(|| self.bad("a list of strings"))
                })
                .collect(),
            _ => Err(self.bad("a list of strings")),
        }
    }

    fn item_kind(&mut self) -> Result<ItemKind, DbError> {
        let s = self.str()?;
        s.parse().map_err(|e: String| DbError::Corrupt(e))
    }

    fn edge_kind(&mut self) -> Result<EdgeKind, DbError> {
        let s = self.str()?;
        s.parse().map_err(|e: String| DbError::Corrupt(e))
    }

    fn target_kind(&mut self) -> Result<TargetKind, DbError> {
        const ALL: [TargetKind; 6] = [
            TargetKind::Lib,
            TargetKind::Bin,
            TargetKind::Example,
            TargetKind::Test,
            TargetKind::Bench,
            TargetKind::BuildScript,
        ];
        let s = self.str()?;
        ALL.into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DbError::Corrupt(format!("unknown target kind `{s}`")))
    }
}

/// Decodes a row of `nodes` (in [`crate::schema::NODE_COLS`] order; extra trailing columns
/// are ignored).
pub(crate) fn node(row: &[DataValue]) -> Result<Node, DbError> {
    let mut c = Cursor::new("nodes", row, 20)?;
    Ok(Node {
        id: c.id()?,
        kind: c.item_kind()?,
        crate_name: c.string()?,
        name: c.string()?,
        display_name: c.string()?,
        path: c.string()?,
        module: c.string()?,
        file: c.string()?,
        span: Span {
            start_byte: c.u32()?,
            end_byte: c.u32()?,
            start_line: c.u32()?,
            end_line: c.u32()?,
        },
        visibility: Visibility::from_text(c.str()?),
        docs: c.string()?,
        attrs: c.strings()?,
        cfg: c.string()?,
        signature: c.string()?,
        content_hash: c.hash()?,
        is_test: c.bool()?,
        parent: c.opt_id()?,
    })
}

pub(crate) fn crate_record(row: &[DataValue]) -> Result<CrateRecord, DbError> {
    let mut c = Cursor::new("crates", row, 7)?;
    Ok(CrateRecord {
        id: c.id()?,
        name: c.string()?,
        package: c.string()?,
        version: c.string()?,
        kind: c.target_kind()?,
        package_root: c.string()?,
        root_file: c.string()?,
    })
}

pub(crate) fn file_record(row: &[DataValue]) -> Result<FileRecord, DbError> {
    let mut c = Cursor::new("files", row, 6)?;
    Ok(FileRecord {
        path: c.string()?,
        rel_path: c.string()?,
        crate_name: c.string()?,
        hash: c.hash()?,
        size: c.u64()?,
        lines: c.u32()?,
    })
}

pub(crate) fn edge(row: &[DataValue]) -> Result<Edge, DbError> {
    let mut c = Cursor::new("edges", row, 4)?;
    Ok(Edge {
        src: c.id()?,
        kind: c.edge_kind()?,
        dst: c.id()?,
        line: c.u32()?,
    })
}

pub(crate) fn unresolved(row: &[DataValue]) -> Result<Unresolved, DbError> {
    let mut c = Cursor::new("unresolved", row, 4)?;
    Ok(Unresolved {
        src: c.id()?,
        kind: c.edge_kind()?,
        text: c.string()?,
        line: c.u32()?,
    })
}

pub(crate) fn skipped(row: &[DataValue]) -> Result<Skipped, DbError> {
    let mut c = Cursor::new("skipped", row, 4)?;
    Ok(Skipped {
        path: c.string()?,
        line: c.u32()?,
        reason: c.string()?,
        whole_file: c.bool()?,
    })
}

/// The single string in a one-column row.
pub(crate) fn single_string(row: &[DataValue]) -> Result<String, DbError> {
    Cursor::new("query", row, 1)?.string()
}

/// The `u32` in column `col` of a row.
pub(crate) fn u32_at(row: &[DataValue], col: usize) -> Result<u32, DbError> {
    let mut c = Cursor::new("query", row, col + 1)?;
    c.pos = col;
    c.u32()
}

/// The `u64` in column `col` of a row (used for counts).
pub(crate) fn u64_at(row: &[DataValue], col: usize) -> Result<u64, DbError> {
    let mut c = Cursor::new("query", row, col + 1)?;
    c.pos = col;
    c.u64()
}

/// The hex content hash in column `col` of a row.
pub(crate) fn hash_at(row: &[DataValue], col: usize) -> Result<ContentHash, DbError> {
    let mut c = Cursor::new("query", row, col + 1)?;
    c.pos = col;
    c.hash()
}

/// The node id in column `col` of a row.
pub(crate) fn node_id_at(row: &[DataValue], col: usize) -> Result<NodeId, DbError> {
    let mut c = Cursor::new("query", row, col + 1)?;
    c.pos = col;
    c.id()
}
