//! The kinds of items ploke indexes.

use std::fmt;
use std::str::FromStr;

/// What an indexed node is. `Method` is any `fn` inside an `impl` or `trait` block;
/// `AssocType` and `AssocConst` are the other associated items.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Crate,
    Module,
    Fn,
    Method,
    Struct,
    Enum,
    Union,
    Trait,
    TraitAlias,
    Impl,
    TypeAlias,
    AssocType,
    Const,
    AssocConst,
    Static,
    Macro,
    ExternBlock,
    ForeignFn,
    ForeignStatic,
    ForeignType,
    Use,
    ExternCrate,
    Field,
    Variant,
}

impl ItemKind {
    pub const ALL: [ItemKind; 24] = [
        ItemKind::Crate,
        ItemKind::Module,
        ItemKind::Fn,
        ItemKind::Method,
        ItemKind::Struct,
        ItemKind::Enum,
        ItemKind::Union,
        ItemKind::Trait,
        ItemKind::TraitAlias,
        ItemKind::Impl,
        ItemKind::TypeAlias,
        ItemKind::AssocType,
        ItemKind::Const,
        ItemKind::AssocConst,
        ItemKind::Static,
        ItemKind::Macro,
        ItemKind::ExternBlock,
        ItemKind::ForeignFn,
        ItemKind::ForeignStatic,
        ItemKind::ForeignType,
        ItemKind::Use,
        ItemKind::ExternCrate,
        ItemKind::Field,
        ItemKind::Variant,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Crate => "crate",
            ItemKind::Module => "mod",
            ItemKind::Fn => "fn",
            ItemKind::Method => "method",
            ItemKind::Struct => "struct",
            ItemKind::Enum => "enum",
            ItemKind::Union => "union",
            ItemKind::Trait => "trait",
            ItemKind::TraitAlias => "trait_alias",
            ItemKind::Impl => "impl",
            ItemKind::TypeAlias => "type",
            ItemKind::AssocType => "assoc_type",
            ItemKind::Const => "const",
            ItemKind::AssocConst => "assoc_const",
            ItemKind::Static => "static",
            ItemKind::Macro => "macro",
            ItemKind::ExternBlock => "extern_block",
            ItemKind::ForeignFn => "foreign_fn",
            ItemKind::ForeignStatic => "foreign_static",
            ItemKind::ForeignType => "foreign_type",
            ItemKind::Use => "use",
            ItemKind::ExternCrate => "extern_crate",
            ItemKind::Field => "field",
            ItemKind::Variant => "variant",
        }
    }

    /// Items that define a type namespace entry usable as a path prefix or type.
    pub fn is_type_like(self) -> bool {
        matches!(
            self,
            ItemKind::Struct
                | ItemKind::Enum
                | ItemKind::Union
                | ItemKind::Trait
                | ItemKind::TraitAlias
                | ItemKind::TypeAlias
                | ItemKind::ForeignType
                | ItemKind::AssocType
        )
    }

    /// Items that are worth returning from a search on their own (not imports, fields…).
    pub fn is_searchable(self) -> bool {
        !matches!(
            self,
            ItemKind::Use | ItemKind::ExternCrate | ItemKind::Crate | ItemKind::ExternBlock
        )
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ItemKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ItemKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown item kind `{s}`"))
    }
}
