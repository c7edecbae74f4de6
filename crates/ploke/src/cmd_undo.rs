//! `ploke undo`: reverts the last applied edit byte for byte, then re-indexes.

use anyhow::Context;

pub fn run(path: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let start = path.unwrap_or_else(|| std::path::PathBuf::from("."));
    let ws = ploke_workspace::discover(&start)
        .with_context(|| format!("{}: finding the workspace", start.display()))?;
    let root = ws.root.clone();
    let journal = ploke_index::default_db_dir(&root).join("journal");
    let undone = ploke_edit::undo(&journal, &root)?;
    println!(
        "undid edit #{} ({} files):",
        undone.entry,
        undone.files.len()
    );
    for f in &undone.files {
        println!("  {f}");
    }
    ploke_index::index(
        &root,
        &ploke_index::IndexOptions::default(),
        &ploke_index::NoProgress,
    )
    .context("re-indexing")?;
    Ok(())
}
