//! `ploke impact` and `ploke analyze`: the analyses the index keeps, rendered.

use std::io::Write;

use ploke_session::{ApiItem, Session};

use crate::cli::AnalyzeWhat;
use crate::cmd::{count, stdout, with_schema, Outcome};
use crate::render::{paint, style, Places};

/// Fails with what to do when the index holds no analyses yet.
pub fn ready(session: &Session) -> anyhow::Result<()> {
    if !session.has_analysis()? {
        anyhow::bail!(
            "{}: this index was written before ploke kept its analyses; run `ploke index` once to add them",
            session.location().db_dir.display()
        );
    }
    Ok(())
}

/// `ploke impact TARGET | --diff [REV]`.
pub fn impact(
    session: &Session,
    target: Option<&str>,
    diff: Option<&str>,
    depth: u32,
    json: bool,
) -> anyhow::Result<Outcome> {
    let report = match (target, diff) {
        (Some(t), None) => session.impact(t, depth)?,
        (None, rev) => session.impact_of_diff(rev, depth)?,
        (Some(_), Some(_)) => anyhow::bail!("give an item or --diff, not both"),
    };
    let mut out = stdout();
    if json {
        let v = serde_json::to_value(&report)?;
        writeln!(out, "{}", serde_json::to_string_pretty(&with_schema(v))?)?;
        out.flush()?;
        return Ok(if report.changed.is_empty() {
            Outcome::Nothing
        } else {
            Outcome::Found
        });
    }
    if report.changed.is_empty() {
        match target {
            Some(t) => crate::render::note(format!(
                "no item named `{t}`; `ploke search {t:?}` finds items by words"
            )),
            None => crate::render::note("the diff changes no indexed item"),
        }
        return Ok(Outcome::Nothing);
    }
    let root = session.location().root.clone();
    let mut places = Places::default();
    writeln!(out, "{}", paint(style::HEADER, "changed"))?;
    for c in &report.changed {
        writeln!(
            out,
            "  {} {}  {}",
            paint(style::KIND, &c.kind),
            paint(style::PATH, &c.path),
            places.at(&root, &c.file, c.start_line)
        )?;
    }
    writeln!(
        out,
        "{}",
        paint(
            style::HEADER,
            format!("reaches {}", count(report.impacted.len(), "item", "items"))
        )
    )?;
    for i in &report.impacted {
        writeln!(
            out,
            "  {} {} {}  {}  ({} {})",
            paint(style::LINE, format!("{:>2}", i.depth)),
            paint(style::KIND, &i.item.kind),
            paint(style::PATH, &i.item.path),
            places.at(&root, &i.item.file, i.item.start_line),
            i.via,
            i.from
        )?;
    }
    writeln!(
        out,
        "{}",
        paint(
            style::HEADER,
            format!("tests {}", count(report.tests.len(), "test", "tests"))
        )
    )?;
    for t in &report.tests {
        writeln!(
            out,
            "  {} {}  {}",
            paint(style::LINE, format!("{:>2}", t.depth)),
            paint(style::PATH, &t.item.path),
            places.at(&root, &t.item.file, t.item.start_line)
        )?;
    }
    let runs = ploke_session::test_runs(&report.tests);
    if !runs.is_empty() {
        writeln!(out, "{}", paint(style::HEADER, "run them"))?;
        for (target, filters) in &runs {
            let target = target.join(" ");
            // One filter runs the test alone; several run with the whole target.
            if let [only] = filters.as_slice() {
                writeln!(out, "  cargo test {target} -- --exact {only}")?;
            } else {
                writeln!(out, "  cargo test {target}   # {} tests", filters.len())?;
            }
        }
    }
    out.flush()?;
    Ok(Outcome::Found)
}

/// `ploke analyze [dead|modules|api|api-diff|metrics]`.
pub fn run(
    session: &Session,
    what: Option<AnalyzeWhat>,
    json: bool,
    env: &ploke_session::Environment,
) -> anyhow::Result<Outcome> {
    let mut out = stdout();
    let root = session.location().root.clone();
    let mut places = Places::default();
    let Some(what) = what else {
        // Everything: a summary for people, one document for dashboards.
        let dead = session.dead_code()?;
        let cycles = session.module_cycles()?;
        let api = session.api()?;
        let metrics = session.metrics()?;
        if json {
            let v = serde_json::json!({
                "dead_code": dead,
                "module_cycles": cycles,
                "module_deps": session.module_deps()?,
                "api": api,
                "api_diff": session.api_diff(None, None)?,
                "metrics": metrics,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&with_schema(v))?)?;
            out.flush()?;
            return Ok(Outcome::Found);
        }
        writeln!(out, "dead code candidates  {}", dead.len())?;
        writeln!(out, "module cycles         {}", cycles.len())?;
        writeln!(out, "public API items      {}", api.len())?;
        writeln!(out, "functions measured    {}", metrics.len())?;
        let unsafe_blocks: u32 = metrics.iter().map(|m| m.metrics.unsafe_blocks).sum();
        let panics: u32 = metrics
            .iter()
            .map(|m| m.metrics.unwraps + m.metrics.expects + m.metrics.panics)
            .sum();
        writeln!(out, "unsafe blocks         {unsafe_blocks}")?;
        writeln!(
            out,
            "panic sites           {panics} (unwrap, expect, panic!)"
        )?;
        writeln!(out, "most complex:")?;
        for m in metrics.iter().take(5) {
            writeln!(
                out,
                "  {:>3}  {}  {}",
                m.metrics.cyclomatic,
                paint(style::PATH, &m.item.path),
                places.at(&root, &m.item.file, m.item.start_line)
            )?;
        }
        out.flush()?;
        return Ok(Outcome::Found);
    };
    match what {
        AnalyzeWhat::Dead => {
            let dead = session.dead_code()?;
            if json {
                emit(&mut out, serde_json::to_value(&dead)?)?;
            } else {
                for d in &dead {
                    writeln!(
                        out,
                        "{}  {} {}  ({})",
                        places.at(&root, &d.item.file, d.item.start_line),
                        paint(style::KIND, &d.item.kind),
                        paint(style::PATH, &d.item.path),
                        d.reason
                    )?;
                }
            }
            out.flush()?;
            Ok(found(!dead.is_empty()))
        }
        AnalyzeWhat::Modules => {
            let cycles = session.module_cycles()?;
            let deps = session.module_deps()?;
            if json {
                emit(
                    &mut out,
                    serde_json::json!({"cycles": cycles, "deps": deps}),
                )?;
            } else {
                writeln!(out, "{}", count(cycles.len(), "cycle", "cycles"))?;
                for c in &cycles {
                    let names: Vec<String> = c
                        .modules
                        .iter()
                        .map(|m| paint(style::PATH, &m.path))
                        .collect();
                    writeln!(out, "  {} → (back)", names.join(" → "))?;
                }
                writeln!(
                    out,
                    "{}",
                    count(deps.len(), "module dependency", "module dependencies")
                )?;
                for (from, to, uses) in &deps {
                    writeln!(out, "  {from} → {to}  ({uses})")?;
                }
            }
            out.flush()?;
            Ok(found(!cycles.is_empty()))
        }
        AnalyzeWhat::Api => {
            let api = session.api()?;
            if json {
                emit(&mut out, serde_json::to_value(&api)?)?;
            } else {
                for a in &api {
                    writeln!(
                        out,
                        "{} {}  {}",
                        paint(style::KIND, &a.kind),
                        a.path,
                        a.signature
                    )?;
                }
            }
            out.flush()?;
            Ok(found(!api.is_empty()))
        }
        AnalyzeWhat::ApiDiff { against } => {
            let d = match against {
                Some(dir) => {
                    let other = Session::open(&ploke_session::OpenOptions {
                        env: env.clone(),
                        ..ploke_session::OpenOptions::new(&dir)
                    })
                    .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
                    session.api_diff_against(&other)?
                }
                None => session.api_diff(None, None)?,
            };
            if json {
                emit(&mut out, serde_json::to_value(&d)?)?;
            } else {
                let line = |out: &mut dyn Write, mark: &str, a: &ApiItem| {
                    writeln!(out, "{mark} {} {}  {}", a.kind, a.path, a.signature)
                };
                for a in &d.removed {
                    line(&mut out, "-", a)?;
                }
                for (old, new) in &d.changed {
                    line(&mut out, "~", old)?;
                    writeln!(out, "    now  {}", new.signature)?;
                }
                for a in &d.added {
                    line(&mut out, "+", a)?;
                }
                if d.is_empty() {
                    crate::render::note("the public API did not change between the two newest surfaces the index keeps");
                }
            }
            out.flush()?;
            Ok(found(!d.is_empty()))
        }
        AnalyzeWhat::Metrics => {
            let m = session.metrics()?;
            if json {
                emit(&mut out, serde_json::to_value(&m)?)?;
            } else {
                writeln!(out, "  cc  nest  lines  unsafe  panics  function")?;
                for f in &m {
                    let x = &f.metrics;
                    writeln!(
                        out,
                        "{:>4}  {:>4}  {:>5}  {:>6}  {:>6}  {}  {}",
                        x.cyclomatic,
                        x.nesting,
                        x.lines,
                        x.unsafe_blocks,
                        x.unwraps + x.expects + x.panics,
                        paint(style::PATH, &f.item.path),
                        places.at(&root, &f.item.file, f.item.start_line)
                    )?;
                }
            }
            out.flush()?;
            Ok(found(!m.is_empty()))
        }
    }
}

fn emit(out: &mut dyn Write, v: serde_json::Value) -> anyhow::Result<()> {
    writeln!(out, "{}", serde_json::to_string_pretty(&with_schema(v))?)?;
    Ok(())
}

fn found(any: bool) -> Outcome {
    if any {
        Outcome::Found
    } else {
        Outcome::Nothing
    }
}
