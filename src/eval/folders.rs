//! Small single-topic folders: each article of a SQuAD-format file becomes its own knowledge
//! folder (XQuAD: 48 folders of 5 paragraphs), its questions are in scope, and a sample of other
//! articles' questions is off-topic. This is what a Discord server's knowledge folder looks like,
//! and where an answer decision that leans on "one passage stands out from the rest" fails.
//!
//! Reported per question language (Latin script → `en`, else `ar`): in-scope answered, right
//! quote first (the first citation's quote contains a gold answer), right paragraph first, and
//! off-topic answered (each one a false answer).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{open_squad_engine, open_squad_engine_with, read_parallel, read_squad, write_squad_knowledge, Case, SquadOptions};
use crate::answer::features::is_latin;
use crate::config::Config;
use crate::engine::Engine;
use crate::error::Result;

/// Off-topic questions asked of a folder, per in-scope question.
const OFF_TOPIC_PER_QUESTION: f64 = 0.5;

/// Numbers of one question language in a small-folder run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FolderRow {
    pub in_scope: usize,
    pub answered: f64,
    pub right_quote_first: f64,
    pub right_paragraph_first: f64,
    pub out_of_scope: usize,
    pub answered_out_of_scope: f64,
}

/// A small-folder run; `--json` prints these keys.
#[derive(Debug, Clone, Serialize)]
pub struct FolderReport {
    pub folders: usize,
    /// `en` and/or `ar`.
    pub by_language: BTreeMap<String, FolderRow>,
}

impl FolderReport {
    /// The run as `isnad eval --folders` prints it (a Markdown table per question language); `diagnostic` labels a run with abstention off.
    pub fn table(&self, diagnostic: bool) -> String {
        let mut s = String::new();
        self.write_table(&mut s, diagnostic).expect("writing to a String cannot fail");
        s
    }

    fn write_table(&self, s: &mut String, diagnostic: bool) -> std::fmt::Result {
        use std::fmt::Write;
        writeln!(s, "{} folders{}", self.folders, if diagnostic { " (abstention off: a diagnostic)" } else { "" })?;
        writeln!(s, "| language | in scope | answered | right quote first | right paragraph first | off-topic | off-topic answered |")?;
        writeln!(s, "|---|---|---|---|---|---|---|")?;
        for (lang, row) in &self.by_language {
            writeln!(
                s,
                "| {lang} | {} | {:.3} | {:.3} | {:.3} | {} | {:.3} |",
                row.in_scope, row.answered, row.right_quote_first, row.right_paragraph_first, row.out_of_scope, row.answered_out_of_scope
            )?;
        }
        Ok(())
    }
}

/// Calls `visit(engine, case)` for every question of the split, each asked of its article's
/// folder (in scope) and, for a sample, of another article's folder (off-topic: `case.in_scope`
/// is false). Returns the number of folders.
pub(crate) fn for_each_folder(
    file: &std::path::Path,
    opts: &SquadOptions,
    base: &Config,
    mut visit: impl FnMut(&Engine, &Case) -> Result<()>,
) -> Result<usize> {
    let squad = read_squad(file)?;
    let parallel = read_parallel(opts)?;
    // the whole set once, so every paragraph's and sentence's vector is in the shared cache
    {
        let (tmp, _) = write_squad_knowledge(&squad, parallel.as_ref(), |_| true)?;
        open_squad_engine(base, tmp.path())?;
    }
    let every = opts.every.max(1);
    let mut folders = 0;
    for article in 0..squad.articles() {
        let (tmp, cases) = write_squad_knowledge(&squad, parallel.as_ref(), |ai| ai == article)?;
        let selected: Vec<&Case> = cases.iter().skip(opts.offset).step_by(every).collect();
        let inside: Vec<&Case> = selected.iter().copied().filter(|c| c.article == article).collect();
        if inside.is_empty() {
            continue;
        }
        let pool: Vec<&Case> = selected.iter().copied().filter(|c| c.article != article).collect();
        let want = ((inside.len() as f64 * OFF_TOPIC_PER_QUESTION).ceil() as usize).min(pool.len());
        // an even, deterministic sample of the other articles' questions
        let outside: Vec<&Case> = (0..want).map(|k| pool[(article * 7919 + k * pool.len() / want.max(1)) % pool.len()]).collect();
        let engine = open_squad_engine_with(base, tmp.path(), false)?;
        folders += 1;
        for case in inside.into_iter().chain(outside) {
            visit(&engine, case)?;
        }
    }
    Ok(folders)
}

/// Runs the small-folder evaluation with `base` settings.
pub fn run(file: &std::path::Path, opts: &SquadOptions, base: &Config) -> Result<FolderReport> {
    let mut rows: BTreeMap<String, FolderRow> = BTreeMap::new();
    let folders = for_each_folder(file, opts, base, |engine, case| {
        let (answer, _) = match engine.ask_traced(&case.question) {
            Ok(x) => x,
            Err(e) if super::is_refused_question(&e) => return Ok(()),
            Err(e) => return Err(e),
        };
        let lang = if is_latin(&case.question) { "en" } else { "ar" };
        let row = rows.entry(lang.to_owned()).or_default();
        if case.in_scope {
            row.in_scope += 1;
            if answer.answered {
                row.answered += 1.0;
                if let Some(first) = answer.citations.first() {
                    row.right_quote_first += f64::from(u8::from(case.quote_answers(&first.quote)));
                    row.right_paragraph_first += f64::from(u8::from(first.document == case.doc));
                }
            }
        } else {
            row.out_of_scope += 1;
            row.answered_out_of_scope += f64::from(u8::from(answer.answered));
        }
        Ok(())
    })?;
    for row in rows.values_mut() {
        let n = row.in_scope.max(1) as f64;
        row.answered /= n;
        row.right_quote_first /= n;
        row.right_paragraph_first /= n;
        row.answered_out_of_scope /= row.out_of_scope.max(1) as f64;
    }
    Ok(FolderReport { folders, by_language: rows })
}
