//! Which items a search ranks: the workspace's (the default), the workspace's and its attached
//! dependencies', or one crate's.
//!
//! A dependency's items are told apart by their files' absolute paths
//! ([`ploke_core::is_dependency_path`]). A scope picks the documents a corpus is built from
//! ([`crate::Corpus::build`]), so that a search of one crate ranks that crate's items only and
//! returns as many as asked for (filtering the hits of a wider search would return fewer).

use std::fmt;
use std::str::FromStr;

use ploke_core::{is_dependency_path, Node};

/// The items a search ranks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Scope {
    /// The workspace's items only.
    #[default]
    Workspace,
    /// The workspace's items and those of every dependency attached to the index.
    All,
    /// The items of one crate, of the workspace or a dependency, by its name as paths write it
    /// (`hyper`, `hyper_util`; every version of a dependency of that name).
    Crate(String),
}

impl Scope {
    /// Whether the scope holds item `n`.
    pub fn admits(&self, n: &Node) -> bool {
        self.admits_file(&n.crate_name, &n.file)
    }

    /// Whether the scope holds the items of crate `crate_name` in the file at graph path `file`.
    pub fn admits_file(&self, crate_name: &str, file: &str) -> bool {
        match self {
            Scope::Workspace => !is_dependency_path(file),
            Scope::All => true,
            Scope::Crate(c) => c == crate_name,
        }
    }

    /// Whether a dependency's items may be in the scope.
    pub fn reaches_dependencies(&self) -> bool {
        !matches!(self, Scope::Workspace)
    }
}

impl FromStr for Scope {
    type Err = String;

    /// `workspace`, `all`, or a crate name (`hyper`, `hyper-util` = `hyper_util`); `crate:NAME`
    /// names a crate called `workspace` or `all`.
    fn from_str(s: &str) -> Result<Scope, String> {
        let s = s.trim();
        let name = match s {
            "workspace" => return Ok(Scope::Workspace),
            "all" => return Ok(Scope::All),
            _ => s.strip_prefix("crate:").unwrap_or(s),
        };
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(format!(
                "unknown scope `{s}`: use workspace, all, or a crate name (`hyper`, `hyper_util`)"
            ));
        }
        Ok(Scope::Crate(name.replace('-', "_")))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Workspace => f.write_str("workspace"),
            Scope::All => f.write_str("all"),
            Scope::Crate(c) if c == "workspace" || c == "all" => write!(f, "crate:{c}"),
            Scope::Crate(c) => f.write_str(c),
        }
    }
}

impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Scope, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print_as_written() {
        assert_eq!("workspace".parse(), Ok(Scope::Workspace));
        assert_eq!("all".parse(), Ok(Scope::All));
        assert_eq!("hyper".parse(), Ok(Scope::Crate("hyper".into())));
        assert_eq!("hyper-util".parse(), Ok(Scope::Crate("hyper_util".into())));
        assert_eq!("crate:all".parse(), Ok(Scope::Crate("all".into())));
        assert!("tokio::sync"
            .parse::<Scope>()
            .unwrap_err()
            .contains("workspace, all, or a crate name"));
        assert!("".parse::<Scope>().is_err());
        for s in ["workspace", "all", "hyper_util", "crate:all"] {
            assert_eq!(s.parse::<Scope>().unwrap().to_string(), s);
        }
        assert_eq!(Scope::default(), Scope::Workspace);
        let json = serde_json::to_string(&Scope::Crate("hyper".into())).unwrap();
        assert_eq!(json, "\"hyper\"");
        assert_eq!(
            serde_json::from_str::<Scope>("\"all\"").unwrap(),
            Scope::All
        );
        assert!(serde_json::from_str::<Scope>("\"a b\"").is_err());
    }

    #[test]
    fn a_dependency_is_an_absolute_path() {
        let ws = ("app", "src/lib.rs");
        let dep = (
            "hyper",
            "/home/u/.cargo/registry/src/x/hyper-1.3.1/src/lib.rs",
        );
        let admits = |s: &Scope, (c, f): (&str, &str)| s.admits_file(c, f);
        assert!(admits(&Scope::Workspace, ws) && !admits(&Scope::Workspace, dep));
        assert!(admits(&Scope::All, ws) && admits(&Scope::All, dep));
        let hyper = Scope::Crate("hyper".into());
        assert!(!admits(&hyper, ws) && admits(&hyper, dep));
    }
}
