//! The `isnad` command: the CLI definition and glue onto the library, nothing more.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use isnad::answer::Answer;
use isnad::engine::Opened;
use isnad::eval::{self, SquadOptions};
use isnad::text::ArabicStemmer;
use isnad::{Config, Engine};

#[derive(Parser)]
#[command(name = "isnad", version, about = "Answers questions about a folder of documents, citing the source text.")]
struct Cli {
    /// Folder of documents (default: $ISNAD_KNOWLEDGE_DIR, else ./knowledge).
    #[arg(long, global = true)]
    knowledge: Option<PathBuf>,
    /// Folder for the index (default: $ISNAD_DATA_DIR, else .isnad beside the knowledge folder).
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    /// Arabic stemmer: light, snowball or none (default: $ISNAD_STEMMER, else light).
    #[arg(long, global = true)]
    stemmer: Option<ArabicStemmer>,
    /// Log progress (-v: isnad's INFO lines, -vv: DEBUG). Without it only warnings and errors
    /// are logged, except by `serve`, which logs INFO. ISNAD_LOG, when set, decides instead.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Answer a question from the documents.
    Ask {
        question: String,
        /// Print the answer as JSON (schema in README).
        #[arg(long)]
        json: bool,
        /// Print the Discord answer card the bot would send (embed and buttons, as JSON).
        #[arg(long, conflicts_with = "json")]
        discord: bool,
        /// Also show why: the answer decision's probability and the best candidate sentences
        /// with the sentence model's probabilities.
        #[arg(long)]
        explain: bool,
        /// Add the English gloss of the answer (made by default for questions in English).
        #[arg(long)]
        gloss: bool,
        /// Language of the labels, the not-found text and the sources-differ counts (default: the
        /// question's).
        #[arg(long, value_enum)]
        lang: Option<isnad::labels::Lang>,
    },
    /// Run the Discord bot (settings from the environment and .env; see .env.example).
    Serve,
    /// Rebuild the index now (it is otherwise rebuilt on first use after a change).
    Index,
    /// List the documents in the index and the files that were rejected.
    Sources {
        #[arg(long)]
        json: bool,
    },
    /// Measure latency, index build throughput and memory on the knowledge folder and on large
    /// synthetic corpora made from it.
    Bench {
        /// Synthetic corpus sizes, in passages.
        #[arg(long, value_delimiter = ',', default_value = "10000,200000")]
        sizes: Vec<usize>,
        /// Golden file whose questions are timed.
        #[arg(long, default_value = "tests/golden/knowledge-ar.jsonl")]
        questions: PathBuf,
        /// Times each question is asked per corpus.
        #[arg(long, default_value_t = 20)]
        rounds: usize,
        #[arg(long)]
        json: bool,
        /// Skip the dense-search rows (they need the embedding model).
        #[arg(long)]
        no_dense: bool,
        /// SQuAD-format file whose paragraphs join the knowledge folder's as the synthetic
        /// corpora's sentence pool (repeatable).
        #[arg(long)]
        pool: Vec<PathBuf>,
        /// Only the embedding engines: the reference C engine and isnad's, side by side
        /// (question ms on one core, passages/s on all cores, min cosine, hybrid answers).
        #[arg(long)]
        embedding: bool,
    },
    /// Measure answer quality: a golden JSONL file, or a SQuAD-format data set with --squad.
    Eval {
        /// Golden file: one {"question": …, "expect": [...]} per line.
        file: Option<PathBuf>,
        /// SQuAD-format file whose paragraphs become the documents.
        #[arg(long, conflicts_with = "file")]
        squad: Option<PathBuf>,
        /// Parallel SQuAD file whose questions (same ids) are asked instead.
        #[arg(long, requires = "squad")]
        questions: Option<PathBuf>,
        /// Ask only every n-th question (a split).
        #[arg(long, default_value_t = 1)]
        every: usize,
        /// Start of the split.
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Lexical retrieval only (no embedding model).
        #[arg(long)]
        lexical_only: bool,
        /// Small single-topic folders: `article` makes each article its own knowledge folder,
        /// asked its own questions and a sample of other articles' (off-topic) ones.
        #[arg(long, requires = "squad", value_parser = ["article"])]
        folders: Option<String>,
        /// Answer every question that has evidence (retrieval alone; a diagnostic, not what users
        /// get).
        #[arg(long)]
        no_abstention: bool,
        #[arg(long)]
        json: bool,
    },
    /// Learn the sentence model and the answer decision from SQuAD-format sets and write them
    /// (the shipped ones are src/answer/decision.json).
    Calibrate {
        /// A SQuAD-format file, optionally with a parallel file whose questions are asked
        /// instead: `FILE` or `FILE,QUESTIONS` (repeatable).
        #[arg(long = "set", required = true)]
        sets: Vec<String>,
        /// Learn from every n-th question…
        #[arg(long, default_value_t = 2)]
        every: usize,
        /// …starting here (the other half is for reporting).
        #[arg(long, default_value_t = 1)]
        offset: usize,
        /// The default operating point: the answers' precision on the learning data.
        #[arg(long, default_value_t = 0.8)]
        precision: f32,
        /// L2 penalty.
        #[arg(long, default_value_t = 1e-3)]
        lambda: f64,
        /// Where to write the calibration (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Keep the collected questions here (JSON lines); when the file exists, learn from it
        /// instead of asking again.
        #[arg(long)]
        examples: Option<PathBuf>,
        /// Also fit hybrid ranking's lexical weights (own words, translations) on the sets'
        /// whole regime before the models; otherwise the shipped weights are kept.
        #[arg(long)]
        tune_fusion: bool,
    },
}

fn main() {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    if let Err(err) = init_logging(&cli) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
    if let Err(err) = run(cli) {
        // a closed pipe (`isnad ask … | head`) is not an error worth a message
        if err.chain().any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)) {
            std::process::exit(0);
        }
        eprintln!("error: {err}");
        for cause in err.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
        std::process::exit(1);
    }
}

/// Logs to stderr as text or, with `ISNAD_LOG_FORMAT=json`, one JSON object a line. Filtered by
/// `ISNAD_LOG` when set; otherwise warnings only for the CLI (`isnad ask` prints the answer, not
/// progress), INFO for `serve` and with `-v`, DEBUG with `-vv`.
fn init_logging(cli: &Cli) -> Result<()> {
    use std::io::IsTerminal;
    let settings = isnad::config::LogSettings::from_env()?;
    let default = match (cli.verbose, matches!(cli.command, Command::Serve)) {
        (0, false) => "warn",
        (0, true) | (1, _) => "warn,isnad=info",
        _ => "info,isnad=debug",
    };
    let filter = match &settings.filter {
        Some(f) => tracing_subscriber::EnvFilter::try_new(f).with_context(|| format!("ISNAD_LOG={f:?} is not a log filter"))?,
        None => tracing_subscriber::EnvFilter::new(default),
    };
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if settings.json {
        logs.json().init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
    Ok(())
}

fn config(cli: &Cli) -> Result<Config> {
    let flags = isnad::config::Overrides { knowledge_dir: cli.knowledge.clone(), data_dir: cli.data.clone(), stemmer: cli.stemmer };
    Ok(Config::from_env_with(flags)?)
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("indexing {bar:40} {pos}/{len} passages {elapsed}").unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn open(cfg: Config) -> Result<Engine> {
    let bar = progress_bar();
    let engine = Engine::open_with_progress(cfg.clone(), &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .with_context(|| format!("opening the knowledge folder {}", cfg.knowledge_dir.display()))?;
    bar.finish_and_clear();
    Ok(engine)
}

fn run(cli: Cli) -> Result<()> {
    let cfg = config(&cli)?;
    let mut out = std::io::stdout().lock();
    match &cli.command {
        Command::Ask { question, json, discord, explain, gloss, lang } => {
            let engine = open(cfg)?;
            let mut answer = engine.ask(question)?;
            if *gloss && answer.gloss.is_none() {
                answer.gloss = engine.gloss(&answer);
            }
            if *explain {
                let trace = engine.trace(question)?;
                eprintln!("decision: probability {:.3} (answered: {})", answer.confidence, answer.answered);
                eprint!("{}", trace.composed.explanation(8));
            }
            let lang = lang.unwrap_or_else(|| isnad::labels::Lang::of(question));
            // the short answer's "(2 documents)" was written in the question's language
            answer.answer = isnad::labels::short_answer(&answer, lang);
            if *discord {
                serde_json::to_writer_pretty(&mut out, &isnad::discord::render::answer_card_in(&answer, false, lang))?;
                writeln!(out)?;
            } else if *json {
                serde_json::to_writer(&mut out, &answer)?;
                writeln!(out)?;
            } else {
                write!(out, "{}", render(&answer, lang))?;
            }
        }
        #[cfg(feature = "discord")]
        Command::Serve => {
            // the configuration is checked before the (possibly long) first index build
            let bot = isnad::discord::BotConfig::from_env()?;
            let engine = std::sync::Arc::new(open(cfg)?);
            let m = engine.manifest();
            tracing::info!(documents = m.documents.len(), passages = m.passages, rejected = m.rejected.len(), "knowledge loaded");
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
            runtime.block_on(isnad::discord::serve(engine, bot))?;
        }
        #[cfg(not(feature = "discord"))]
        Command::Serve => {
            anyhow::bail!(
                "this isnad was built without the Discord bot (cargo feature `discord`); rebuild with default features: cargo build --release"
            )
        }
        Command::Index => {
            let engine = open(cfg)?;
            // a stale or missing index was just built by open: build it once, not twice
            let force = match engine.opened() {
                Opened::Built => false,
                Opened::Reused => true,
                Opened::LastGood { .. } => {
                    anyhow::bail!("the index could not be rebuilt (see the warning above); the last good generation is kept")
                }
            };
            let bar = progress_bar();
            let report = engine.refresh(force, &|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })?;
            bar.finish_and_clear();
            writeln!(out, "indexed {} documents, {} passages", report.documents, report.passages)?;
            for r in &report.rejected {
                writeln!(out, "rejected {}", printable(&r.to_string()))?;
            }
        }
        Command::Sources { json } => {
            let engine = open(cfg)?;
            let m = engine.manifest();
            if *json {
                serde_json::to_writer_pretty(&mut out, &serde_json::json!({"documents": m.documents, "rejected": m.rejected}))?;
                writeln!(out)?;
            } else {
                for d in &m.documents {
                    writeln!(
                        out,
                        "{}  [{}] {} passages  {}",
                        printable(&d.id),
                        printable(&d.meta.language),
                        d.passages,
                        printable(&d.meta.title)
                    )?;
                }
                for r in &m.rejected {
                    writeln!(out, "rejected {}", printable(&r.to_string()))?;
                }
            }
        }
        Command::Bench { embedding: true, questions, rounds, json, .. } => {
            let qs: Vec<String> = eval::read_golden(questions)?.into_iter().map(|c| c.question).collect();
            let r = isnad::bench::embedding(&cfg, &qs, *rounds)?;
            if *json {
                serde_json::to_writer_pretty(&mut out, &r)?;
                writeln!(out)?;
            } else {
                write!(out, "{}", r.table(*rounds))?;
            }
        }
        Command::Bench { sizes, questions, rounds, json, no_dense, pool, .. } => {
            let qs: Vec<String> = eval::read_golden(questions)?.into_iter().map(|c| c.question).collect();
            let report = isnad::bench::run(&cfg, sizes, &qs, *rounds, !*no_dense, pool)?;
            let peak = isnad::bench::peak_rss_mb();
            if *json {
                serde_json::to_writer_pretty(&mut out, &serde_json::json!({"report": report, "peak_rss_mb": peak}))?;
                writeln!(out)?;
            } else {
                write!(out, "{}", report.table(qs.len(), *rounds, peak))?;
            }
        }
        Command::Calibrate { sets, every, offset, precision, lambda, out: path, examples, tune_fusion } => {
            let sets = sets.iter().map(|s| isnad::eval::calibrate::Set::parse(s)).collect();
            let opts = isnad::eval::calibrate::Options {
                sets,
                every: *every,
                offset: *offset,
                precision: *precision,
                lambda: *lambda,
                examples: examples.clone(),
                tune_fusion: *tune_fusion,
            };
            let (calibration, report) = isnad::eval::calibrate::run(&opts, &cfg)?;
            let text = serde_json::to_string_pretty(&calibration)? + "\n";
            match path {
                Some(p) => std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))?,
                None => write!(out, "{text}")?,
            }
            eprint!("{}", isnad::eval::calibrate::table(&report));
        }
        Command::Eval { file, squad, questions, every, offset, lexical_only, folders, no_abstention, json } => {
            let mut cfg = cfg.clone();
            if *lexical_only {
                cfg.dense = false;
            }
            if *no_abstention {
                cfg.policy.precision = 0.0;
            }
            if let (Some(squad), Some(_)) = (squad, folders) {
                let opts = SquadOptions { questions: questions.clone(), every: *every, offset: *offset };
                let r = eval::folders::run(squad, &opts, &cfg)?;
                if *json {
                    serde_json::to_writer(&mut out, &r)?;
                    writeln!(out)?;
                } else {
                    write!(out, "{}", r.table(*no_abstention))?;
                }
            } else if let Some(squad) = squad {
                let opts = SquadOptions { questions: questions.clone(), every: *every, offset: *offset };
                let r = eval::squad(squad, &opts, &cfg)?;
                if *json {
                    serde_json::to_writer(&mut out, &r)?;
                    writeln!(out)?;
                } else {
                    write!(out, "{r}")?;
                }
            } else {
                let file = file.as_ref().context("give a golden JSONL file, or --squad FILE")?;
                let cases = eval::read_golden(file)?;
                let engine = open(cfg)?;
                let r = eval::golden(&engine, &cases)?;
                if *json {
                    serde_json::to_writer_pretty(&mut out, &r)?;
                    writeln!(out)?;
                } else {
                    write!(out, "{r}")?;
                }
            }
        }
    }
    Ok(())
}

/// A file name or title on one terminal line, shown as it is: line breaks, other control
/// characters and bidi controls (U+202E would reverse the rest of the line) are written as
/// escapes, `\` doubled so an escape cannot be faked by a name.
fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || is_bidi_control(c) => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// The human-readable answer, labelled in `lang` (the asker's unless `--lang`).
fn render(a: &Answer, lang: isnad::labels::Lang) -> String {
    use isnad::labels as l;
    let mut s = String::new();
    if !a.answered {
        s.push_str(&format!("{}\n", l::no_answer_note(lang)));
        return s;
    }
    if let Some(short) = &a.answer {
        s.push_str(&format!("{}: {short}\n", l::answer_label(lang)));
    }
    if let Some(g) = &a.gloss {
        s.push_str(&format!("{}: {}", l::gloss_label(lang), g.answer));
        let names: Vec<String> = g.names.iter().filter(|n| n.latin != g.answer).map(|n| format!("{} = {}", n.ar, n.latin)).collect();
        if !names.is_empty() {
            s.push_str(&format!(" ({}: {})", l::names_label(lang), names.join(", ")));
        }
        s.push('\n');
    }
    if a.sources_differ {
        s.push_str(&format!("{}\n", l::sources_differ_note(lang)));
    }
    let (passage, score) = (l::passage_label(lang), l::score_label(lang));
    for (i, c) in a.citations.iter().enumerate() {
        s.push_str(&format!("\n[{}] {} — {passage} {} ({score} {:.2})\n", i + 1, c.title, c.passage, c.score));
        if let Some(before) = &c.context {
            s.push_str(&format!("    ({before})\n"));
        }
        s.push_str(&format!("    {}\n    {}\n", c.quote, c.document));
    }
    s
}
