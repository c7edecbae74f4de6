//! Checks that the code of an item edit is what its place takes: `replace_item` code is exactly
//! one item of the kind it replaces, `insert_item` code is one or more members its container
//! can hold. The whole file parsing afterwards is not enough: `fn a() {} } impl X {` closes the
//! surrounding block and opens another, and the file still parses.

use ploke_core::ItemKind;
use syn::parse::{Parse, ParseStream, Parser as _};

/// The syntactic place an item stands in, which decides what its code must parse as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// A module or crate body: `syn::Item`s.
    Module,
    /// An `impl` block: `syn::ImplItem`s.
    Impl,
    /// A trait: `syn::TraitItem`s.
    Trait,
    /// An `extern { … }` block: `syn::ForeignItem`s.
    Foreign,
    /// A struct, union or variant with named fields.
    NamedField,
    /// A tuple struct or tuple variant.
    UnnamedField,
    /// An enum: `syn::Variant`s.
    Variant,
}

impl Place {
    /// What stands there, for messages: "an impl member".
    fn what(self) -> &'static str {
        match self {
            Place::Module => "a module-level item",
            Place::Impl => "an impl member",
            Place::Trait => "a trait member",
            Place::Foreign => "an extern-block item",
            Place::NamedField => "a named field such as `pub name: Type`, no trailing comma",
            Place::UnnamedField => "a tuple field such as `pub Type`, no trailing comma",
            Place::Variant => "an enum variant, no trailing comma",
        }
    }

    /// What a container holds, for messages: "impl members (fn, const, type)".
    fn members(self) -> &'static str {
        match self {
            Place::Impl => "impl members (fn, const, type)",
            Place::Trait => "trait members (fn, const, type)",
            Place::Foreign => "extern-block items (fn, static, type)",
            _ => "module-level items (fn, struct, enum, trait, impl, mod, use, …)",
        }
    }
}

/// The kinds that replace one another: a function stays a function whether it is written as a
/// free `fn` or a method, a const stays a const, a type alias an associated type.
fn family(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Fn | ItemKind::Method | ItemKind::ForeignFn => "function",
        ItemKind::Const | ItemKind::AssocConst => "const",
        ItemKind::Static | ItemKind::ForeignStatic => "static",
        ItemKind::TypeAlias | ItemKind::AssocType | ItemKind::ForeignType => "type alias",
        ItemKind::Crate => "crate",
        ItemKind::Module => "module",
        ItemKind::Struct => "struct",
        ItemKind::Enum => "enum",
        ItemKind::Union => "union",
        ItemKind::Trait => "trait",
        ItemKind::TraitAlias => "trait alias",
        ItemKind::Impl => "impl block",
        ItemKind::Macro => "macro_rules! macro",
        ItemKind::ExternBlock => "extern block",
        ItemKind::Use => "use declaration",
        ItemKind::ExternCrate => "extern crate",
        ItemKind::Field => "field",
        ItemKind::Variant => "variant",
    }
}

/// One parsed piece of code: the [`ItemKind`] it would be indexed as, if any (a macro
/// invocation or syntax syn keeps verbatim is none).
struct Parsed(Option<ItemKind>);

fn item_kind(item: &syn::Item) -> Option<ItemKind> {
    use syn::Item as I;
    Some(match item {
        I::Const(_) => ItemKind::Const,
        I::Enum(_) => ItemKind::Enum,
        I::ExternCrate(_) => ItemKind::ExternCrate,
        I::Fn(_) => ItemKind::Fn,
        I::ForeignMod(_) => ItemKind::ExternBlock,
        I::Impl(_) => ItemKind::Impl,
        I::Macro(m) if m.mac.path.is_ident("macro_rules") && m.ident.is_some() => ItemKind::Macro,
        I::Mod(_) => ItemKind::Module,
        I::Static(_) => ItemKind::Static,
        I::Struct(_) => ItemKind::Struct,
        I::Trait(_) => ItemKind::Trait,
        I::TraitAlias(_) => ItemKind::TraitAlias,
        I::Type(_) => ItemKind::TypeAlias,
        I::Union(_) => ItemKind::Union,
        I::Use(_) => ItemKind::Use,
        _ => return None,
    })
}

fn impl_item_kind(item: &syn::ImplItem) -> Option<ItemKind> {
    Some(match item {
        syn::ImplItem::Const(_) => ItemKind::AssocConst,
        syn::ImplItem::Fn(_) => ItemKind::Method,
        syn::ImplItem::Type(_) => ItemKind::AssocType,
        _ => return None,
    })
}

fn trait_item_kind(item: &syn::TraitItem) -> Option<ItemKind> {
    Some(match item {
        syn::TraitItem::Const(_) => ItemKind::AssocConst,
        syn::TraitItem::Fn(_) => ItemKind::Method,
        syn::TraitItem::Type(_) => ItemKind::AssocType,
        _ => return None,
    })
}

fn foreign_item_kind(item: &syn::ForeignItem) -> Option<ItemKind> {
    Some(match item {
        syn::ForeignItem::Fn(_) => ItemKind::ForeignFn,
        syn::ForeignItem::Static(_) => ItemKind::ForeignStatic,
        syn::ForeignItem::Type(_) => ItemKind::ForeignType,
        _ => return None,
    })
}

/// Parses every piece of `input` as what `place` holds.
fn parse_all(place: Place, input: ParseStream<'_>) -> syn::Result<Vec<Parsed>> {
    fn many<T: Parse>(
        input: ParseStream<'_>,
        kind: fn(&T) -> Option<ItemKind>,
    ) -> syn::Result<Vec<Parsed>> {
        let mut out = Vec::new();
        while !input.is_empty() {
            out.push(Parsed(kind(&input.parse::<T>()?)));
        }
        Ok(out)
    }
    // Fields and variants are separated by commas, which the container writes; the code is one
    // of them, so a second one (or a comma) is left over and refused below.
    fn one(input: ParseStream<'_>, kind: ItemKind, parse: ParseOne) -> syn::Result<Vec<Parsed>> {
        parse(input)?;
        Ok(vec![Parsed(Some(kind))])
    }
    type ParseOne = fn(ParseStream<'_>) -> syn::Result<()>;
    match place {
        Place::Module => many::<syn::Item>(input, item_kind),
        Place::Impl => many::<syn::ImplItem>(input, impl_item_kind),
        Place::Trait => many::<syn::TraitItem>(input, trait_item_kind),
        Place::Foreign => many::<syn::ForeignItem>(input, foreign_item_kind),
        Place::NamedField => one(input, ItemKind::Field, |i| {
            syn::Field::parse_named(i).map(drop)
        }),
        Place::UnnamedField => one(input, ItemKind::Field, |i| {
            syn::Field::parse_unnamed(i).map(drop)
        }),
        Place::Variant => one(input, ItemKind::Variant, |i| {
            i.parse::<syn::Variant>().map(drop)
        }),
    }
}

/// Parses `code` as the items of `place`, on a stack deep enough for it. `code` must be within
/// the parser's limits (`ploke_parse::over_limits`).
fn parse(code: &str, place: Place) -> Result<Vec<Parsed>, String> {
    ploke_parse::on_parser_stack(code, || {
        // Lexed first: syn's own lex error has no position.
        let tokens: proc_macro2::TokenStream = code.parse().map_err(|e: proc_macro2::LexError| {
            format!(
                "line {} of the code does not lex (an unbalanced bracket, or an unterminated string or comment)",
                e.span().start().line.max(1)
            )
        })?;
        (|input: ParseStream<'_>| {
            let parsed = parse_all(place, input)?;
            if !input.is_empty() {
                return Err(input.error("unexpected text after the item"));
            }
            Ok(parsed)
        })
        .parse2(tokens)
        // Inside: spans are released when the closure returns.
        .map_err(|e| {
            let at = e.span().start();
            format!(
                "line {} of the code: {}",
                at.line.max(1),
                one_line(&e.to_string())
            )
        })
    })
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks `replace_item` code: exactly one item that stands in `place` and has the family of
/// `kind`. On refusal: what was found, for the message.
pub(crate) fn check_replacement(code: &str, kind: ItemKind, place: Place) -> Result<(), String> {
    let parsed = parse(code, place)?;
    match parsed.as_slice() {
        [] => Err("it holds no item".into()),
        [Parsed(Some(k))] if family(*k) == family(kind) => Ok(()),
        [Parsed(Some(k))] => Err(format!("it is {}, not {}", a(family(*k)), a(family(kind)))),
        [Parsed(None)] => Err(format!(
            "it is a macro invocation or other code, not {}",
            a(family(kind))
        )),
        more => Err(format!("it holds {} items", more.len())),
    }
}

/// Checks `insert_item` code: one or more items that can stand in `place`.
pub(crate) fn check_insertion(code: &str, place: Place) -> Result<(), String> {
    let parsed = parse(code, place)?;
    if parsed.is_empty() {
        return Err("it holds no item".into());
    }
    Ok(())
}

/// `word` with its indefinite article.
fn a(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {word}")
}

/// "exactly one function (an impl member)", for the refusal message.
pub(crate) fn expected_one(kind: ItemKind, place: Place) -> String {
    format!("exactly one {} ({})", family(kind), place.what())
}

/// "one or more impl members (fn, const, type)", for the refusal message.
pub(crate) fn expected_many(place: Place) -> String {
    format!("one or more {}", place.members())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_item_of_the_same_family() {
        let ok = |code, kind, place| check_replacement(code, kind, place);
        assert_eq!(
            ok(
                "/// Doc.\n#[inline]\nfn get(&self) -> u8 { 1 }",
                ItemKind::Method,
                Place::Impl
            ),
            Ok(())
        );
        assert_eq!(ok("fn f() {}", ItemKind::Fn, Place::Module), Ok(()));
        assert_eq!(ok("pub x: u8", ItemKind::Field, Place::NamedField), Ok(()));
        assert_eq!(ok("pub u8", ItemKind::Field, Place::UnnamedField), Ok(()));
        assert_eq!(ok("A { x: u8 }", ItemKind::Variant, Place::Variant), Ok(()));
        assert_eq!(
            ok(
                "macro_rules! m { () => {} }",
                ItemKind::Macro,
                Place::Module
            ),
            Ok(())
        );
        // A method body followed by a brace that closes the impl and a new impl.
        let err = ok(
            "fn get(&self) -> u8 { 1 } } impl Drop for Thing { fn drop(&mut self) {} ",
            ItemKind::Method,
            Place::Impl,
        )
        .unwrap_err();
        assert!(err.starts_with("line 1 of the code does not lex"), "{err}");
        assert_eq!(
            ok("fn a() {} fn b() {}", ItemKind::Method, Place::Impl),
            Err("it holds 2 items".into())
        );
        assert_eq!(
            ok("struct S;", ItemKind::Fn, Place::Module),
            Err("it is a struct, not a function".into())
        );
        assert_eq!(
            ok("enum E {}", ItemKind::Struct, Place::Module),
            Err("it is an enum, not a struct".into())
        );
        assert!(ok("pub x: u8,", ItemKind::Field, Place::NamedField).is_err());
        assert!(ok("", ItemKind::Fn, Place::Module).is_err());
    }

    #[test]
    fn insertions_hold_members_of_their_container() {
        assert_eq!(
            check_insertion("fn a() {}\nconst B: u8 = 1;", Place::Impl),
            Ok(())
        );
        assert!(check_insertion("struct S;", Place::Impl).is_err());
        assert!(check_insertion("fn a() {} }", Place::Module).is_err());
        assert!(check_insertion("  // nothing\n", Place::Module).is_err());
    }
}
