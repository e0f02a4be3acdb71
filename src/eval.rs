//! Measuring answer quality with numbers anyone can rerun.
//!
//! - [`golden`]: a JSONL file of `{"question": …, "expect": ["substring", …]}`; `expect: []`
//!   means the right behaviour is to abstain. Reports hit@1, hit@3, MRR, abstention accuracy.
//! - [`squad`]: a SQuAD-format file (XQuAD, ARCD): every paragraph becomes a document in a
//!   temporary knowledge folder, every question is asked (optionally taken from a parallel file
//!   by id, for cross-lingual runs), and paragraph recall, answer recall and latency are reported.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::text::normalize::fold_text;

/// One line of a golden file.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldenCase {
    pub question: String,
    #[serde(default)]
    pub expect: Vec<String>,
}

/// Outcome of one golden case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub question: String,
    /// 1-based rank of the first citation that contains an expected substring.
    pub rank: Option<usize>,
    pub answered: bool,
    pub should_answer: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct GoldenReport {
    pub questions: usize,
    pub hit1: f64,
    pub hit3: f64,
    pub mrr: f64,
    pub abstention_accuracy: f64,
    pub cases: Vec<CaseResult>,
}

/// Reads a golden JSONL file (blank lines and `//` comments allowed).
pub fn read_golden(path: &Path) -> Result<Vec<GoldenCase>> {
    let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let case = serde_json::from_str(line).map_err(|e| Error::EvalFile { path: path.to_owned(), line: i + 1, reason: e.to_string() })?;
        out.push(case);
    }
    Ok(out)
}

/// Runs golden cases against an engine.
pub fn golden(engine: &Engine, cases: &[GoldenCase]) -> Result<GoldenReport> {
    let mut results = Vec::with_capacity(cases.len());
    for case in cases {
        let answer = engine.ask(&case.question)?;
        let expect: Vec<String> = case.expect.iter().map(|e| fold_text(e)).collect();
        let rank = if expect.is_empty() {
            None
        } else {
            answer.citations.iter().position(|c| {
                let quote = fold_text(&c.quote);
                expect.iter().any(|e| quote.contains(e.as_str()))
            })
        };
        results.push(CaseResult {
            question: case.question.clone(),
            rank: rank.map(|r| r + 1),
            answered: answer.answered,
            should_answer: !case.expect.is_empty(),
        });
    }
    let answerable: Vec<&CaseResult> = results.iter().filter(|r| r.should_answer).collect();
    let n = answerable.len().max(1) as f64;
    let at = |k: usize| answerable.iter().filter(|r| r.rank.is_some_and(|x| x <= k)).count() as f64 / n;
    let mrr = answerable.iter().map(|r| r.rank.map_or(0.0, |x| 1.0 / x as f64)).sum::<f64>() / n;
    let correct = results.iter().filter(|r| r.answered == r.should_answer).count() as f64;
    Ok(GoldenReport {
        questions: results.len(),
        hit1: at(1),
        hit3: at(3),
        mrr,
        abstention_accuracy: correct / results.len().max(1) as f64,
        cases: results,
    })
}

// ---------------------------------------------------------------- SQuAD-format evaluation

#[derive(Deserialize)]
struct Squad {
    data: Vec<SquadArticle>,
}
#[derive(Deserialize)]
struct SquadArticle {
    #[serde(default)]
    title: String,
    paragraphs: Vec<SquadParagraph>,
}
#[derive(Deserialize)]
struct SquadParagraph {
    context: String,
    qas: Vec<SquadQa>,
}
#[derive(Deserialize)]
struct SquadQa {
    id: String,
    question: String,
    #[serde(default)]
    answers: Vec<SquadAnswer>,
}
#[derive(Deserialize)]
struct SquadAnswer {
    text: String,
}

fn read_squad(path: &Path) -> Result<Squad> {
    let raw = std::fs::read(path).map_err(Error::io(path))?;
    serde_json::from_slice(&raw).map_err(|e| Error::Dataset { path: path.to_owned(), reason: format!("not SQuAD JSON: {e}") })
}

/// Numbers of a SQuAD-format run; `--json` prints exactly these keys.
#[derive(Debug, Clone, Serialize)]
pub struct SquadReport {
    pub questions: usize,
    pub paragraph_r1: f64,
    pub paragraph_r5: f64,
    pub mrr: f64,
    pub answer_top1: f64,
    pub abstained: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub index_s: f64,
}

/// Options of a SQuAD-format run.
#[derive(Debug, Clone, Default)]
pub struct SquadOptions {
    /// Parallel file whose questions (matched by id) replace the paragraphs' own.
    pub questions: Option<PathBuf>,
    /// Evaluate only every n-th question (a split), starting at `offset`. 1 = all.
    pub every: usize,
    pub offset: usize,
}

/// Runs a SQuAD-format evaluation with `base` settings (its folders are replaced by temporary
/// ones).
pub fn squad(file: &Path, opts: &SquadOptions, base: &Config) -> Result<SquadReport> {
    let squad = read_squad(file)?;
    let parallel: Option<HashMap<String, String>> = match &opts.questions {
        Some(p) => {
            Some(read_squad(p)?.data.into_iter().flat_map(|a| a.paragraphs).flat_map(|p| p.qas).map(|q| (q.id, q.question)).collect())
        }
        None => None,
    };
    let tmp = tempfile::tempdir().map_err(Error::io(std::env::temp_dir()))?;
    let kdir = tmp.path().join("knowledge");
    std::fs::create_dir_all(&kdir).map_err(Error::io(&kdir))?;
    // (document id, question, gold answers)
    let mut cases: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut n = 0usize;
    for article in &squad.data {
        for p in &article.paragraphs {
            n += 1;
            let name = format!("p{n:05}.md");
            let title = article.title.replace(['\n', '"'], " ");
            let doc = format!("---\ntitle: \"{title}\"\n---\n{}", p.context);
            std::fs::write(kdir.join(&name), doc).map_err(Error::io(kdir.join(&name)))?;
            for qa in &p.qas {
                let question = match &parallel {
                    Some(map) => match map.get(&qa.id) {
                        Some(q) => q.clone(),
                        None => continue,
                    },
                    None => qa.question.clone(),
                };
                cases.push((format!("knowledge/{name}"), question, qa.answers.iter().map(|a| a.text.clone()).collect()));
            }
        }
    }
    let mut config = base.clone();
    config.knowledge_dir = kdir;
    config.data_dir = tmp.path().join("data");
    let started = Instant::now();
    let engine = Engine::open(config)?;
    let index_s = started.elapsed().as_secs_f64();

    let every = opts.every.max(1);
    let mut times = Vec::new();
    let (mut r1, mut r5, mut rr, mut top1, mut abstained, mut asked) = (0.0, 0.0, 0.0, 0.0, 0.0, 0usize);
    for (doc, question, gold) in cases.iter().skip(opts.offset).step_by(every) {
        let t = Instant::now();
        let (answer, hits) = match engine.ask_traced(question) {
            Ok(x) => x,
            Err(Error::EmptyQuestion | Error::QuestionTooLong { .. }) => continue,
            Err(e) => return Err(e),
        };
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        asked += 1;
        if !answer.answered {
            abstained += 1.0;
        }
        let mut ranking: Vec<&str> = Vec::new();
        for d in answer.citations.iter().map(|c| c.document.as_str()).chain(hits.iter().map(|h| h.doc.as_str())) {
            if !ranking.contains(&d) {
                ranking.push(d);
            }
        }
        if let Some(r) = ranking.iter().position(|d| d == doc) {
            r1 += f64::from(r == 0 && answer.answered);
            r5 += f64::from(r < 5);
            rr += 1.0 / (r as f64 + 1.0);
        }
        if let Some(first) = answer.citations.first() {
            let quote = fold_text(&first.quote);
            if gold.iter().any(|g| {
                let g = fold_text(g);
                !g.is_empty() && quote.contains(&g)
            }) {
                top1 += 1.0;
            }
        }
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        if times.is_empty() {
            0.0
        } else {
            times[((times.len() - 1) as f64 * p).round() as usize]
        }
    };
    let q = asked.max(1) as f64;
    Ok(SquadReport {
        questions: asked,
        paragraph_r1: r1 / q,
        paragraph_r5: r5 / q,
        mrr: rr / q,
        answer_top1: top1 / q,
        abstained: abstained / q,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        index_s,
    })
}
