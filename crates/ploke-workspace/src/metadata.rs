//! Discovery through `cargo metadata --format-version 1 --offline --no-deps`.

use std::collections::HashSet;
use std::path::Path;

use cargo_metadata::MetadataCommand;
use ploke_core::TargetKind;

use crate::{canonical, crate_name, DiscoveryMethod, Package, Target, Workspace};

/// Run `cargo metadata` in `manifest_dir` and map its answer. The error is a one-line reason,
/// fit for [`Workspace::warnings`].
pub(crate) fn discover(manifest_dir: &Path) -> Result<Workspace, String> {
    let metadata = MetadataCommand::new()
        .current_dir(manifest_dir)
        .manifest_path(manifest_dir.join("Cargo.toml"))
        .no_deps()
        .other_options(vec!["--offline".to_string()])
        // Never touch the network: not for the registry, not for a toolchain named in a
        // `rust-toolchain.toml` that rustup does not have.
        .env("CARGO_NET_OFFLINE", "true")
        .env("RUSTUP_AUTO_INSTALL", "0")
        .exec()
        .map_err(|e| one_line(&e.to_string()))?;

    let root = canonical(metadata.workspace_root.as_std_path());
    let members: HashSet<_> = metadata.workspace_members.iter().collect();
    let mut warnings = Vec::new();
    let mut packages = Vec::new();
    for pkg in metadata.packages.iter().filter(|p| members.contains(&p.id)) {
        let manifest_dir = pkg
            .manifest_path
            .parent()
            .map(|d| canonical(d.as_std_path()))
            .unwrap_or_else(|| root.clone());
        let mut targets = Vec::new();
        for t in &pkg.targets {
            let Some(kind) = target_kind(&t.kind) else {
                warnings.push(format!(
                    "skipped target `{}` of package `{}`: unknown target kind {:?}",
                    t.name, pkg.name, t.kind
                ));
                continue;
            };
            // Cargo lists explicit targets whether or not their file is there (published
            // crates often leave out examples and benches); there is nothing to index then.
            if !t.src_path.is_file() {
                warnings.push(format!(
                    "skipped {} target `{}` of package `{}`: {} does not exist",
                    kind.as_str(),
                    t.name,
                    pkg.name,
                    t.src_path
                ));
                continue;
            }
            // Newer cargo names a build script after its file (`build-script-gen` for
            // `gen.rs`); ploke always calls it `build_script_build`.
            let name = match kind {
                TargetKind::BuildScript => "build_script_build".to_string(),
                _ => crate_name(&t.name),
            };
            targets.push(Target {
                name,
                kind,
                root_file: canonical(t.src_path.as_std_path()),
            });
        }
        packages.push(Package {
            name: pkg.name.clone(),
            version: pkg.version.to_string(),
            rel_dir: String::new(),
            manifest_dir,
            edition: pkg.edition.as_str().to_string(),
            targets,
        });
    }
    Ok(Workspace {
        root,
        packages,
        method: DiscoveryMethod::CargoMetadata,
        warnings,
    })
}

/// Map cargo's target kinds (`["lib"]`, `["rlib", "cdylib"]`, `["custom-build"]`, ...).
fn target_kind(kinds: &[String]) -> Option<TargetKind> {
    kinds.iter().find_map(|k| match k.as_str() {
        "lib" | "rlib" | "proc-macro" | "cdylib" | "staticlib" | "dylib" => Some(TargetKind::Lib),
        "bin" => Some(TargetKind::Bin),
        "example" => Some(TargetKind::Example),
        "test" => Some(TargetKind::Test),
        "bench" => Some(TargetKind::Bench),
        "custom-build" => Some(TargetKind::BuildScript),
        _ => None,
    })
}

/// Squash cargo's multi-line error output into one line.
pub(crate) fn one_line(text: &str) -> String {
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    const MAX: usize = 400;
    if joined.chars().count() > MAX {
        let cut: String = joined.chars().take(MAX).collect();
        format!("{cut}...")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let k = |v: &[&str]| target_kind(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(k(&["rlib", "cdylib"]), Some(TargetKind::Lib));
        assert_eq!(k(&["proc-macro"]), Some(TargetKind::Lib));
        assert_eq!(k(&["custom-build"]), Some(TargetKind::BuildScript));
        assert_eq!(k(&["bench"]), Some(TargetKind::Bench));
        assert_eq!(k(&["weird"]), None);
    }

    #[test]
    fn one_line_squashes() {
        assert_eq!(
            one_line("error: a\n\nCaused by:\n  b\n"),
            "error: a Caused by: b"
        );
    }
}
