//! `isnad calibrate`: learns the sentence model and the answer decision (see
//! [`crate::answer::model`]) from SQuAD-format sets, on one split of their questions (by default
//! the odd-numbered ones; the even-numbered half is left for reporting).
//!
//! Each set is asked in three regimes, so the decision sees what users meet:
//! - *whole*: every paragraph indexed, the split's questions in scope;
//! - *half*: the even-numbered topics indexed and every question of the split asked (the odd
//!   topics' ones are off-topic), so both kinds meet an index of the same size;
//! - *folders*: each article its own small folder with a sample of off-topic questions
//!   ([`super::folders`]).
//!
//! The sentence model learns which candidate holds the gold answer (each question weighs the
//! same: its positives share one unit, its negatives another). The answer decision learns whether
//! the documents answer the question at all (in scope or off-topic), from what retrieval found
//! and the sentence the sentence model picks; each regime of each set weighs the same. Its operating points map a wanted
//! precision to the lowest probability threshold that reached it on this data.

use std::path::PathBuf;

use serde::Serialize;

use super::folders::for_each_folder;
use super::EvalError;
use super::{open_squad_engine, read_parallel, read_squad, write_squad_knowledge, Case, SquadOptions};
use crate::answer::features::{answer_features, Chosen, Signals, ANSWER, SENTENCE};
use crate::answer::model::{sigmoid, Calibration, Logistic, OperatingPoint};
use crate::answer::{first_choice, CandidateTrace, Policy};
use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::retrieve::Fusion;

/// One data set to learn from: a SQuAD-format file and, optionally, a parallel file whose
/// questions are asked instead.
#[derive(Debug, Clone)]
pub struct Set {
    pub file: PathBuf,
    pub questions: Option<PathBuf>,
}

impl Set {
    /// `FILE` or `FILE,QUESTIONS` (the command line's `--set`).
    pub fn parse(arg: &str) -> Set {
        match arg.split_once(',') {
            Some((file, questions)) => Set { file: file.into(), questions: Some(questions.into()) },
            None => Set { file: arg.into(), questions: None },
        }
    }

    /// File names only: `xquad.ar.json+xquad.en.json`.
    fn label(&self) -> String {
        let name = |p: &std::path::Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match &self.questions {
            Some(q) => format!("{}+{}", name(&self.file), name(q)),
            None => name(&self.file),
        }
    }
}

/// Options of a calibration run.
#[derive(Debug, Clone)]
pub struct Options {
    pub sets: Vec<Set>,
    /// The split learned from: every n-th question from `offset`.
    pub every: usize,
    pub offset: usize,
    /// The default operating point written to the file.
    pub precision: f32,
    /// L2 penalty of both regressions.
    pub lambda: f64,
    /// Keep the collected questions in this file (JSON lines), or, when it exists, learn from
    /// it instead of asking again (a faster loop while changing only the fitting).
    pub examples: Option<PathBuf>,
    /// Fit the hybrid ranking's lexical weights first ([`tune_fusion`]); otherwise the shipped
    /// ones are kept.
    pub tune_fusion: bool,
}

impl Options {
    /// The command that makes this calibration, written into the file's `made_by`.
    fn made_by(&self) -> String {
        let sets: Vec<String> = self.sets.iter().map(Set::label).collect();
        format!(
            "isnad calibrate --every {} --offset {} --precision {} --lambda {}{} on {} ({})",
            self.every,
            self.offset,
            self.precision,
            self.lambda,
            if self.tune_fusion { " --tune-fusion" } else { "" },
            sets.join(", "),
            env!("CARGO_PKG_VERSION")
        )
    }
}

/// Lexical weights `--tune-fusion` tries, for each of [`Fusion`]'s two.
const FUSION_GRID: [f32; 8] = [0.25, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0];

/// One question as calibration sees it.
#[derive(Serialize, serde::Deserialize)]
struct Example {
    group: usize,
    case: Case,
    signals: Signals,
    candidates: Vec<CandidateTrace>,
}

/// Numbers of one regime of one set at the default operating point, on the learning split.
#[derive(Debug, Clone, Serialize)]
pub struct GroupRow {
    pub group: String,
    pub questions: usize,
    pub in_scope_answered: f64,
    pub right_paragraph_first: f64,
    pub right_quote_first: f64,
    pub out_of_scope_answered: f64,
}

/// The learning split's numbers per regime as `isnad calibrate` prints them (a Markdown table).
pub fn table(rows: &[GroupRow]) -> String {
    let mut s = String::new();
    write_table(&mut s, rows).expect("writing to a String cannot fail");
    s
}

fn write_table(s: &mut String, rows: &[GroupRow]) -> std::fmt::Result {
    use std::fmt::Write;
    writeln!(
        s,
        "| regime (learning split) | questions | in scope answered | right paragraph first | right quote first | off-topic answered |"
    )?;
    writeln!(s, "|---|---|---|---|---|---|")?;
    for r in rows {
        writeln!(
            s,
            "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
            r.group, r.questions, r.in_scope_answered, r.right_paragraph_first, r.right_quote_first, r.out_of_scope_answered
        )?;
    }
    Ok(())
}

/// Learns a calibration; returns it with the learning split's numbers per regime.
pub fn run(opts: &Options, base: &Config) -> Result<(Calibration, Vec<GroupRow>)> {
    let mut base = base.clone();
    if opts.tune_fusion {
        base.fusion = tune_fusion(opts, &base)?;
    }
    let base = &base;
    let (examples, groups) = match &opts.examples {
        Some(path) if path.is_file() => load_examples(path)?,
        _ => {
            let (examples, groups) = gather(opts, base)?;
            if let Some(path) = &opts.examples {
                save_examples(path, &examples, &groups)?;
            }
            (examples, groups)
        }
    };
    let (mut calibration, report) = fit(opts, examples, groups)?;
    calibration.fusion = base.fusion;
    Ok((calibration, report))
}

/// Fits [`Fusion`]'s two lexical weights by coordinate search over [`FUSION_GRID`]: first the
/// weight of translated matches, then that of the question's own words, each the value with
/// the best mean paragraph R@1 (every question answered) over the sets' whole regime on the
/// learning split. Ties keep the smaller change from the current value.
fn tune_fusion(opts: &Options, base: &Config) -> Result<Fusion> {
    if !base.dense {
        return Ok(base.fusion);
    }
    let mut engines = Vec::new();
    for set in &opts.sets {
        let squad = read_squad(&set.file)?;
        let split = SquadOptions { questions: set.questions.clone(), every: opts.every.max(1), offset: opts.offset };
        let parallel = read_parallel(&split)?;
        let (tmp, cases) = write_squad_knowledge(&squad, parallel.as_ref(), |_| true)?;
        let engine = open_squad_engine(base, tmp.path())?;
        let cases: Vec<Case> = cases.into_iter().skip(opts.offset).step_by(opts.every.max(1)).collect();
        engines.push((tmp, engine, cases));
    }
    let mut fusion = base.fusion;
    let mut score = |fusion: Fusion| -> Result<f64> {
        let mut sum = 0.0;
        for (_, engine, cases) in engines.iter_mut() {
            engine.set_fusion(fusion);
            let mut right = 0usize;
            for case in cases.iter() {
                let (answer, hits) = match engine.ask_traced_at(&case.question, 0.0) {
                    Ok(x) => x,
                    Err(e) if super::is_refused_question(&e) => continue,
                    Err(e) => return Err(e),
                };
                let first = answer.citations.first().map(|c| c.document.as_str()).or(hits.first().map(|h| h.doc.as_str()));
                right += usize::from(first == Some(case.doc.as_str()));
            }
            sum += right as f64 / cases.len().max(1) as f64;
        }
        Ok(sum / engines.len().max(1) as f64)
    };
    for translated in [true, false] {
        let current = if translated { fusion.translated } else { fusion.own };
        let mut best = (f64::MIN, current);
        for &w in &FUSION_GRID {
            let trial = if translated { Fusion { translated: w, ..fusion } } else { Fusion { own: w, ..fusion } };
            let r1 = score(trial)?;
            tracing::info!(own = trial.own, translated = trial.translated, r1, "fusion weights tried");
            let closer = (w - current).abs() < (best.1 - current).abs();
            if r1 > best.0 + 1e-9 || ((r1 - best.0).abs() <= 1e-9 && closer) {
                best = (r1, w);
            }
        }
        if translated {
            fusion.translated = best.1;
        } else {
            fusion.own = best.1;
        }
    }
    Ok(fusion)
}

fn save_examples(path: &std::path::Path, examples: &[Example], groups: &[String]) -> Result<()> {
    let encode = |source| EvalError::Encode { path: path.to_owned(), source };
    let mut text = serde_json::to_string(groups).map_err(encode)? + "\n";
    for e in examples {
        text += &(serde_json::to_string(e).map_err(encode)? + "\n");
    }
    std::fs::write(path, text).map_err(EvalError::io(path))?;
    Ok(())
}

fn load_examples(path: &std::path::Path) -> Result<(Vec<Example>, Vec<String>)> {
    let text = std::fs::read_to_string(path).map_err(EvalError::io(path))?;
    let mut lines = text.lines();
    let bad = |line: usize, source: serde_json::Error| Error::from(EvalError::Line { path: path.to_owned(), line, source });
    let groups: Vec<String> = serde_json::from_str(lines.next().unwrap_or("[]")).map_err(|e| bad(1, e))?;
    let examples = lines.enumerate().map(|(i, l)| serde_json::from_str(l).map_err(|e| bad(i + 2, e))).collect::<Result<_>>()?;
    Ok((examples, groups))
}

/// Asks every set's questions in the three regimes.
fn gather(opts: &Options, base: &Config) -> Result<(Vec<Example>, Vec<String>)> {
    let mut examples: Vec<Example> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    let split = |set: &Set| SquadOptions { questions: set.questions.clone(), every: opts.every.max(1), offset: opts.offset };
    let mut lexical = base.clone();
    lexical.dense = false;
    let runs = [(base, ""), (&lexical, " lexical")];
    for set in &opts.sets {
        for (base, mode) in runs {
            let name = format!("{}{mode}", set_name(set));
            let squad = read_squad(&set.file)?;
            let parallel = read_parallel(&split(set))?;
            // whole
            let group = groups.len();
            groups.push(format!("{name} whole"));
            {
                let (tmp, cases) = write_squad_knowledge(&squad, parallel.as_ref(), |_| true)?;
                let engine = open_squad_engine(base, tmp.path())?;
                for case in cases.iter().skip(opts.offset).step_by(opts.every.max(1)) {
                    collect(&engine, case, group, &mut examples)?;
                }
            }
            // half: the even topics indexed, every question asked (the odd topics' are
            // off-topic), so in-scope and off-topic questions meet the same index
            let group = groups.len();
            groups.push(format!("{name} half"));
            {
                let (tmp, cases) = write_squad_knowledge(&squad, parallel.as_ref(), |ai| ai % 2 == 0)?;
                let engine = open_squad_engine(base, tmp.path())?;
                for case in cases.iter().skip(opts.offset).step_by(opts.every.max(1)) {
                    collect(&engine, case, group, &mut examples)?;
                }
            }
            // folders
            let group = groups.len();
            groups.push(format!("{name} folders"));
            for_each_folder(&set.file, &split(set), base, |engine, case| collect(engine, case, group, &mut examples))?;
            tracing::info!(set = %name, examples = examples.len(), "calibration data collected");
        }
    }
    Ok((examples, groups))
}

/// Fits both models and the operating points to gathered examples.
fn fit(opts: &Options, examples: Vec<Example>, groups: Vec<String>) -> Result<(Calibration, Vec<GroupRow>)> {
    if examples.is_empty() {
        return Err(EvalError::NoExamples.into());
    }

    // the sentence model
    let mut rows = Vec::new();
    for e in examples.iter().filter(|e| e.case.in_scope) {
        let labels: Vec<bool> = e.candidates.iter().map(|c| c.document == e.case.doc && e.case.quote_answers(&c.quote)).collect();
        let positives = labels.iter().filter(|&&l| l).count();
        let negatives = labels.len() - positives;
        if positives == 0 || negatives == 0 {
            continue;
        }
        for (c, &l) in e.candidates.iter().zip(&labels) {
            rows.push((c.features.clone(), l, if l { 1.0 / positives as f32 } else { 1.0 / negatives as f32 }));
        }
    }
    let sentence = Logistic::fit(&SENTENCE, &rows, opts.lambda);

    // the answer decisions (with and without the embedding model), on the sentence each
    // question would quote
    let group_size: Vec<usize> = (0..groups.len()).map(|g| examples.iter().filter(|e| e.group == g).count()).collect();
    let decided: Vec<Decided> = examples
        .iter()
        .map(|e| {
            // the sentence composing would quote first under the new sentence model
            let mut ranked: Vec<(f32, &CandidateTrace)> = e.candidates.iter().map(|c| (sigmoid(sentence.logit(&c.features)), c)).collect();
            ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
            let scores: Vec<f32> = ranked.iter().map(|r| r.0).collect();
            let named: Vec<bool> = ranked.iter().map(|r| r.1.named).collect();
            let best = ranked.get(first_choice(&scores, &named, Policy::default().relative_floor)).map(|r| r.1);
            let chosen = best.map_or(Chosen::default(), |b| Chosen {
                coverage: b.coverage,
                cosine: b.cosine,
                logit: sentence.logit(&b.features),
                answer_type: b.features[8],
            });
            let right = best.is_some_and(|b| e.case.in_scope && b.document == e.case.doc);
            let quote = right && best.is_some_and(|b| e.case.quote_answers(&b.quote));
            Decided {
                features: answer_features(&e.signals, &chosen),
                // the decision learns "the documents answer this question"; which paragraph
                // and sentence answer is retrieval's and the sentence model's job
                in_scope: e.case.in_scope,
                right,
                quote,
                weight: 1.0 / group_size[e.group].max(1) as f32,
                group: e.group,
                dense: e.signals.dense,
                answerable: !e.candidates.is_empty() && e.signals.known,
            }
        })
        .collect();
    let (answer, points) = fit_decision(decided.iter().filter(|d| d.dense), opts.lambda);
    let (answer_lexical, points_lexical) = fit_decision(decided.iter().filter(|d| !d.dense), opts.lambda);
    let calibration = Calibration {
        made_by: opts.made_by(),
        sentence,
        answer,
        answer_lexical,
        default_precision: opts.precision,
        points,
        points_lexical,
        fusion: Fusion::default(),
    };

    // the learning split's numbers at the default point
    let mut report = Vec::new();
    for (g, name) in groups.iter().enumerate() {
        let mine: Vec<&Decided> = decided.iter().filter(|d| d.group == g).collect();
        let inside = mine.iter().filter(|d| d.in_scope).count().max(1) as f64;
        let outside = mine.iter().filter(|d| !d.in_scope).count().max(1) as f64;
        let (mut answered_in, mut right_para, mut right_quote, mut answered_out) = (0.0, 0.0, 0.0, 0.0);
        for d in mine.iter() {
            let p = calibration.answer_model(d.dense).probability(&d.features);
            let yes = d.answerable && p >= calibration.threshold(opts.precision, d.dense);
            if d.in_scope {
                answered_in += f64::from(u8::from(yes));
                right_para += f64::from(u8::from(yes && d.right));
                right_quote += f64::from(u8::from(yes && d.quote));
            } else {
                answered_out += f64::from(u8::from(yes));
            }
        }
        report.push(GroupRow {
            group: name.clone(),
            questions: mine.len(),
            in_scope_answered: answered_in / inside,
            right_paragraph_first: right_para / inside,
            right_quote_first: right_quote / inside,
            out_of_scope_answered: answered_out / outside,
        });
    }
    Ok((calibration, report))
}

/// One question with the sentence the sentence model picks.
struct Decided {
    features: Vec<f32>,
    in_scope: bool,
    /// The picked sentence is from the question's paragraph …
    right: bool,
    /// … and contains its answer.
    quote: bool,
    weight: f32,
    group: usize,
    dense: bool,
    /// There is something to answer with, and some word of the question is known.
    answerable: bool,
}

/// Fits one answer decision and its operating points: precision (regimes weighed equally) →
/// the lowest threshold that reached it.
fn fit_decision<'d>(decided: impl Iterator<Item = &'d Decided>, lambda: f64) -> (Logistic, Vec<OperatingPoint>) {
    let decided: Vec<&Decided> = decided.filter(|d| d.answerable).collect();
    let rows: Vec<(Vec<f32>, bool, f32)> = decided.iter().map(|d| (d.features.clone(), d.in_scope, d.weight)).collect();
    let model = Logistic::fit(&ANSWER, &rows, lambda);
    let mut scored: Vec<(f32, bool, f32)> = decided.iter().map(|d| (model.probability(&d.features), d.in_scope, d.weight)).collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    // precision of answering the top k, for every k
    let (mut right, mut given) = (0f64, 0f64);
    let mut curve: Vec<(f32, f64)> = Vec::with_capacity(scored.len());
    for &(p, y, w) in &scored {
        given += f64::from(w);
        if y {
            right += f64::from(w);
        }
        curve.push((p, right / given));
    }
    let mut points: Vec<OperatingPoint> = Vec::new();
    for step in 0..=49 {
        let target = 0.50 + 0.01 * step as f64;
        // the lowest threshold (deepest k) whose precision still reaches the target
        if let Some(&(p, _)) = curve.iter().rev().find(|&&(_, prec)| prec >= target) {
            points.push(OperatingPoint { precision: target as f32, threshold: p });
        }
    }
    for i in 1..points.len() {
        points[i].threshold = points[i].threshold.max(points[i - 1].threshold);
    }
    (model, points)
}

fn collect(engine: &Engine, case: &Case, group: usize, out: &mut Vec<Example>) -> Result<()> {
    let trace = match engine.trace(&case.question) {
        Ok(t) => t,
        Err(e) if super::is_refused_question(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    out.push(Example { group, case: case.clone(), signals: trace.signals, candidates: trace.composed.candidates });
    Ok(())
}

fn set_name(set: &Set) -> String {
    let stem = |p: &PathBuf| p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    match &set.questions {
        Some(q) => format!("{} (questions {})", stem(&set.file), stem(q)),
        None => stem(&set.file),
    }
}
