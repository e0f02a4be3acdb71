//! Measuring answer quality with numbers anyone can rerun.
//!
//! - [`golden`]: a JSONL file of `{"question": …, "expect": ["substring", …]}`; `expect: []`
//!   means the right behaviour is to abstain. Reports hit@1, hit@3, MRR, abstention accuracy.
//! - [`squad`]: a SQuAD-format file (XQuAD, ARCD): every paragraph becomes a document in a
//!   temporary knowledge folder, every question is asked (optionally taken from a parallel file
//!   by id, for cross-lingual runs), and paragraph recall, answer recall and latency are reported.
//! - [`folders`]: the same file as many small single-topic folders (one per article), with other
//!   articles' questions as off-topic ones — what a Discord server's knowledge folder looks like.
//! - [`calibrate`]: fits the sentence model and the answer decision on a split of such runs.
//!
//! Every run uses the settings users get unless told otherwise (`precision = 0` is retrieval
//! with abstention off, a diagnostic).

pub mod calibrate;
pub mod folders;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::engine::Engine;
use crate::engine::QuestionError;
use crate::error::{Error, Result};
use crate::text::normalize::fold_text;

/// How reading or writing a measurement file (golden files, SQuAD sets, calibration examples,
/// benchmark folders) fails.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// A line of a JSON-lines file that does not parse.
    #[error("{}: line {line}: {source}", path.display())]
    Line { path: PathBuf, line: usize, source: serde_json::Error },
    #[error("{}: not SQuAD JSON: {source}", path.display())]
    NotSquad { path: PathBuf, source: serde_json::Error },
    #[error("{}: {source}", path.display())]
    Encode { path: PathBuf, source: serde_json::Error },
    #[error("no questions to learn from")]
    NoExamples,
    #[error("embedding model: {0}")]
    Embedding(crate::embed::EmbedError),
}

impl EvalError {
    /// The error of an I/O operation on `path`, for `map_err`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> EvalError {
        let path = path.into();
        move |source| EvalError::Io { path, source }
    }
}

/// Whether `e` is a question the engine refuses (empty, too long): measurement skips those.
pub(crate) fn is_refused_question(e: &Error) -> bool {
    matches!(e, Error::Question(QuestionError::Empty | QuestionError::TooLong { .. }))
}

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

/// The run as `isnad eval` prints it: a verdict per question, then the totals.
impl std::fmt::Display for GoldenReport {
    fn fmt(&self, s: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in &self.cases {
            let verdict = match (c.should_answer, c.answered, c.rank) {
                (true, _, Some(1)) => "ok".to_owned(),
                (true, _, Some(k)) => format!("rank {k}"),
                (true, false, None) => "abstained".to_owned(),
                (true, true, None) => "MISS".to_owned(),
                (false, false, _) => "ok (abstained)".to_owned(),
                (false, true, _) => "ANSWERED (should abstain)".to_owned(),
            };
            writeln!(s, "{verdict:>26}  {}", c.question)?;
        }
        writeln!(
            s,
            "questions {}  hit@1 {:.3}  hit@3 {:.3}  MRR {:.3}  abstention accuracy {:.3}",
            self.questions, self.hit1, self.hit3, self.mrr, self.abstention_accuracy
        )?;
        Ok(())
    }
}

/// Reads a golden JSONL file (blank lines and `//` comments allowed).
pub fn read_golden(path: &Path) -> Result<Vec<GoldenCase>> {
    let text = std::fs::read_to_string(path).map_err(EvalError::io(path))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let case = serde_json::from_str(line).map_err(|source| EvalError::Line { path: path.to_owned(), line: i + 1, source })?;
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
pub(crate) struct Squad {
    data: Vec<SquadArticle>,
    /// Each article's topic: the index of the first article with the same title (see
    /// [`read_squad`]).
    #[serde(skip)]
    topics: Vec<usize>,
}

impl Squad {
    pub(crate) fn articles(&self) -> usize {
        self.data.len()
    }
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

/// Reads a SQuAD-format file. Articles that share a title are one topic: ARCD repeats nine
/// topics as two articles with overlapping paragraphs, so a question from one copy is answered
/// by the other and must not count as off-topic for it ([`Case::article`] is the topic, the
/// index of the title's first article).
pub(crate) fn read_squad(path: &Path) -> Result<Squad> {
    let raw = std::fs::read(path).map_err(EvalError::io(path))?;
    let mut squad: Squad = serde_json::from_slice(&raw).map_err(|source| EvalError::NotSquad { path: path.to_owned(), source })?;
    let mut first: HashMap<&str, usize> = HashMap::new();
    let topics = squad
        .data
        .iter()
        .enumerate()
        .map(|(ai, a)| if a.title.trim().is_empty() { ai } else { *first.entry(a.title.trim()).or_insert(ai) })
        .collect();
    squad.topics = topics;
    Ok(squad)
}

/// The paragraphs of a SQuAD-format file, in order (the benchmark's corpus generator draws
/// sentences from them).
pub fn squad_paragraphs(path: &Path) -> Result<Vec<String>> {
    Ok(read_squad(path)?.data.into_iter().flat_map(|a| a.paragraphs.into_iter().map(|p| p.context)).collect())
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

/// The run as `isnad eval` prints it: one line.
impl std::fmt::Display for SquadReport {
    fn fmt(&self, s: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            s,
            "questions {}  paragraph R@1 {:.3}  R@5 {:.3}  MRR {:.3}  answer-top1 {:.3}  abstained {:.3}  p50 {:.1} ms  p99 {:.1} ms  index {:.1} s",
            self.questions, self.paragraph_r1, self.paragraph_r5, self.mrr, self.answer_top1, self.abstained, self.p50_ms, self.p99_ms, self.index_s
        )?;
        Ok(())
    }
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
    let parallel = read_parallel(opts)?;
    let (tmp, cases) = write_squad_knowledge(&squad, parallel.as_ref(), |_| true)?;
    let started = Instant::now();
    let engine = open_squad_engine(base, tmp.path())?;
    let index_s = started.elapsed().as_secs_f64();

    let every = opts.every.max(1);
    let mut times = Vec::new();
    let (mut r1, mut r5, mut rr, mut top1, mut abstained, mut asked) = (0.0, 0.0, 0.0, 0.0, 0.0, 0usize);
    for case in cases.iter().skip(opts.offset).step_by(every) {
        let (doc, question) = (&case.doc, &case.question);
        let t = Instant::now();
        let (answer, hits) = match engine.ask_traced(question) {
            Ok(x) => x,
            Err(e) if is_refused_question(&e) => continue,
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
        if answer.citations.first().is_some_and(|first| case.quote_answers(&first.quote)) {
            top1 += 1.0;
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

/// One question of a SQuAD-format run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Case {
    /// Its paragraph's document id.
    pub doc: String,
    pub question: String,
    pub gold: Vec<String>,
    /// Its paragraph is in the index.
    pub in_scope: bool,
    /// Its article's topic: the index of the first article in the file with its title.
    pub article: usize,
}

impl Case {
    /// Whether a quote contains one of the gold answers (compared after folding).
    pub fn quote_answers(&self, quote: &str) -> bool {
        let quote = fold_text(quote);
        self.gold.iter().any(|g| {
            let g = fold_text(g);
            !g.is_empty() && quote.contains(&g)
        })
    }
}

pub(crate) fn squad_config(base: &Config, root: &Path) -> Config {
    let mut config = base.clone();
    config.knowledge_dir = root.join("knowledge");
    config.data_dir = root.join("data");
    config
}

/// Where evaluation runs keep their embedding cache between runs (content-hash keyed, so one
/// file serves every data set): `<data>/eval-embeddings.bin`.
pub(crate) fn shared_cache(base: &Config) -> PathBuf {
    base.data_dir.join("eval-embeddings.bin")
}

/// Opens the engine over a temporary SQuAD folder, reusing the embeddings of earlier runs: the
/// shared cache is copied in before the build and back after it (embedding thousands of
/// paragraphs and sentences is most of a run's time; the vectors depend only on the text).
pub(crate) fn open_squad_engine(base: &Config, root: &Path) -> Result<Engine> {
    open_squad_engine_with(base, root, true)
}

/// [`open_squad_engine`], copying the built vectors back to the shared cache only when
/// `keep_vectors` (a small folder's texts are all in the whole set's cache already).
pub(crate) fn open_squad_engine_with(base: &Config, root: &Path, keep_vectors: bool) -> Result<Engine> {
    let config = squad_config(base, root);
    let shared = shared_cache(base);
    let local = config.index_dir().join("embeddings.bin");
    if shared.is_file() {
        std::fs::create_dir_all(config.index_dir()).map_err(EvalError::io(config.index_dir()))?;
        std::fs::copy(&shared, &local).map_err(EvalError::io(&shared))?;
    }
    let engine = Engine::open(config)?;
    if keep_vectors && local.is_file() {
        // a build keeps only its own texts' vectors: add them to the shared cache, never replace it
        let mut cache = crate::index::dense::EmbeddingCache::open(&shared);
        if cache.absorb(&local) > 0 {
            if let Err(e) = std::fs::create_dir_all(&base.data_dir)
                .map_err(|e| Error::from(EvalError::io(&base.data_dir)(e)))
                .and_then(|()| cache.save())
            {
                tracing::warn!(error = %e, path = %shared.display(), "evaluation embedding cache not kept");
            }
        }
    }
    Ok(engine)
}

pub(crate) fn read_parallel(opts: &SquadOptions) -> Result<Option<HashMap<String, String>>> {
    Ok(match &opts.questions {
        Some(p) => {
            Some(read_squad(p)?.data.into_iter().flat_map(|a| a.paragraphs).flat_map(|p| p.qas).map(|q| (q.id, q.question)).collect())
        }
        None => None,
    })
}

/// Writes the paragraphs of the articles `keep(article index)` accepts as documents into a
/// temporary knowledge folder; returns it and every question (of all articles).
pub(crate) fn write_squad_knowledge(
    squad: &Squad,
    parallel: Option<&HashMap<String, String>>,
    keep: impl Fn(usize) -> bool,
) -> Result<(tempfile::TempDir, Vec<Case>)> {
    let tmp = tempfile::tempdir().map_err(EvalError::io(std::env::temp_dir()))?;
    let kdir = tmp.path().join("knowledge");
    std::fs::create_dir_all(&kdir).map_err(EvalError::io(&kdir))?;
    let mut cases = Vec::new();
    let mut n = 0usize;
    for (ai, article) in squad.data.iter().enumerate() {
        let ai = squad.topics.get(ai).copied().unwrap_or(ai);
        let in_scope = keep(ai);
        for p in &article.paragraphs {
            n += 1;
            let name = format!("p{n:05}.md");
            if in_scope {
                let title = article.title.replace(['\n', '"'], " ");
                let doc = format!("---\ntitle: \"{title}\"\n---\n{}", p.context);
                std::fs::write(kdir.join(&name), doc).map_err(EvalError::io(kdir.join(&name)))?;
            }
            for qa in &p.qas {
                let question = match parallel {
                    Some(map) => match map.get(&qa.id) {
                        Some(q) => q.clone(),
                        None => continue,
                    },
                    None => qa.question.clone(),
                };
                let gold = qa.answers.iter().map(|a| a.text.clone()).collect();
                cases.push(Case { doc: format!("knowledge/{name}"), question, gold, in_scope, article: ai });
            }
        }
    }
    Ok((tmp, cases))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_sharing_a_title_are_one_topic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("set.json");
        let para = |text: &str, id: &str| serde_json::json!({"context": text, "qas": [{"id": id, "question": "which river?", "answers": [{"text": "Velun"}]}]});
        let set = serde_json::json!({"data": [
            {"title": "Rivers", "paragraphs": [para("The Velun runs north.", "a")]},
            {"title": "Mountains", "paragraphs": [para("Mount Ordo is high.", "b")]},
            {"title": "Rivers", "paragraphs": [para("The Velun runs north to the sea.", "c")]},
        ]});
        std::fs::write(&path, set.to_string()).expect("write");
        let squad = read_squad(&path).expect("read");
        assert_eq!(squad.topics, vec![0, 1, 0]);
        // indexing the even topics keeps both copies of "Rivers" in scope
        let (_tmp, cases) = write_squad_knowledge(&squad, None, |topic| topic % 2 == 0).expect("written");
        let scope: Vec<(usize, bool)> = cases.iter().map(|c| (c.article, c.in_scope)).collect();
        assert_eq!(scope, vec![(0, true), (1, false), (0, true)]);
    }
}
