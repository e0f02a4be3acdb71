//! Follow-up questions: a question asked after others in one conversation (on Discord, a thread
//! the bot answers in), read with the earlier questions as context. “And who heads it?” after
//! “What is the lantern guild?” has one searchable word of its own; the earlier question says
//! what “it” is.
//!
//! How (kept narrow: retrieval and the composer are the plain question's): the earlier
//! questions' concepts that the follow-up lacks are searched with its own, at
//! [`CONTEXT_WEIGHT`] of their weight wherever a concept's weight counts (sentence coverage, the
//! found share, the hybrid mix; BM25 retrieval takes them as any concept), and their embeddings
//! are added to the follow-up's at the same weight. The question kind is the follow-up's own.
//! When that finds no answer, the follow-up is asked alone; so is a follow-up none of whose own
//! words the documents hold (talk such as “thanks, that helps”: context would otherwise turn
//! it into a question about the thread's subject). A follow-up that stands on its own
//! keeps its answer: its own words outweigh the context's in every sentence's coverage (tested
//! below on an invented corpus).

use crate::answer::model::Calibration;
use crate::answer::{decide, Answer};
use crate::embed::{EmbedError, Embedder};
use crate::error::Result;
use crate::text::{question_concepts, Concept};

use super::Engine;

/// The weight of an earlier question's words (and of its embedding) relative to the follow-up's
/// own. Below 1, so that a follow-up with words of its own is decided by them; above 0, so that
/// a sentence about the thread's subject beats one about another subject with the same verb.
pub const CONTEXT_WEIGHT: f32 = 0.5;

/// What a question is searched with beyond its own words.
#[derive(Debug, Clone, Default)]
pub(super) struct Context {
    /// Concepts of earlier questions that the question lacks.
    pub concepts: Vec<Concept>,
    /// The earlier questions' texts, whose embeddings are mixed into the question's.
    pub texts: Vec<String>,
    /// Their weight relative to the question's own.
    pub weight: f32,
}

impl Context {
    /// No context: the question alone.
    pub fn none() -> Context {
        Context { concepts: Vec::new(), texts: Vec::new(), weight: 1.0 }
    }

    /// The question's embedding, plus `weight` times each earlier question's, normalized; the
    /// question's embedding exactly when there is no context.
    pub fn query_vector(&self, embedder: &Embedder, q: &str) -> std::result::Result<Vec<f32>, EmbedError> {
        let mut v = embedder.embed(q, true)?;
        if self.texts.is_empty() {
            return Ok(v);
        }
        for t in &self.texts {
            for (a, b) in v.iter_mut().zip(embedder.embed(t, true)?) {
                *a += self.weight * b;
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(f32::EPSILON);
        v.iter_mut().for_each(|x| *x /= norm);
        Ok(v)
    }
}

/// The concepts of `earlier` that `own` does not have (by term), each once, in order.
fn context_concepts(own: &[Concept], earlier: impl IntoIterator<Item = Concept>) -> Vec<Concept> {
    let mut out: Vec<Concept> = Vec::new();
    for c in earlier {
        if !own.iter().chain(&out).any(|o| o.term == c.term) {
            out.push(c);
        }
    }
    out
}

impl Engine {
    /// Answers `question` asked after `earlier` in the same conversation (oldest first; on
    /// Discord, the thread's first question): the earlier questions' words that the follow-up
    /// lacks are searched with it at [`CONTEXT_WEIGHT`]; when that answers nothing, the
    /// follow-up alone is asked. With no earlier question, or none that adds a word, this is
    /// [`Engine::ask_in`] over every document. The answer's `question` is the follow-up as asked.
    pub fn ask_followup(&self, question: &str, earlier: &[&str]) -> Result<Answer> {
        let q = Self::validate(question)?;
        let (kind, own) = question_concepts(&self.analyzer, self.lexicon.as_deref(), q);
        // the context completes a follow-up about something the documents hold (“who heads
        // it?”) or one without words of its own (“and when?”); talk whose words the documents
        // lack (“thanks, that helps”) is asked alone, not turned into the thread's subject
        if !own.is_empty() && !crate::retrieve::weights(&self.handle(), &own)?.found.iter().any(|&f| f) {
            return self.ask_in(q, None);
        }
        let earlier: Vec<&str> = earlier.iter().map(|e| e.trim()).filter(|e| !e.is_empty() && *e != q).collect();
        let context = context_concepts(&own, earlier.iter().flat_map(|e| question_concepts(&self.analyzer, self.lexicon.as_deref(), e).1));
        if context.is_empty() {
            return self.ask_in(q, None);
        }
        let context = Context { concepts: context, texts: earlier.iter().map(|e| (*e).to_owned()).collect(), weight: CONTEXT_WEIGHT };
        let trace = self.trace_with(q, kind, own, &context, None)?;
        let answer = decide(trace.composed, &trace.signals, &self.config.policy, Calibration::shipped());
        if answer.answered {
            tracing::debug!(context = context.concepts.len(), "follow-up answered with its context");
            return Ok(answer);
        }
        self.ask_in(q, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn concept(term: &str) -> Concept {
        Concept { term: term.into(), ..Default::default() }
    }

    #[test]
    fn context_adds_only_what_the_follow_up_lacks_once() {
        let own = [concept("head")];
        let got = context_concepts(&own, [concept("lantern"), concept("head"), concept("guild"), concept("lantern")]);
        let terms: Vec<&str> = got.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(terms, ["lantern", "guild"]);
        assert!(context_concepts(&own, [concept("head")]).is_empty());
    }

    /// Invented documents: two bodies with a head each. The fleet's is named in a sentence that
    /// says “head” twice, so the follow-up's one word matches it best on its own.
    fn engine(dense: bool) -> (tempfile::TempDir, Engine) {
        let root = tempfile::tempdir().unwrap();
        let k = root.path().join("knowledge");
        std::fs::create_dir_all(&k).unwrap();
        std::fs::write(
            k.join("guild.md"),
            "---\ntitle: Notes on a craft society\nlanguage: en\n---\n\
             The Lantern Guild is a society of glassblowers in the hill town of Osk. \
             Its workshops make lamps, beads and window panes for the valley. \
             The Lantern Guild is headed by Orrin Vale, a glassblower elected by the members. \
             New apprentices of the guild train for five winters before they may sell their work.\n",
        )
        .unwrap();
        std::fs::write(
            k.join("fleet.md"),
            "---\ntitle: Notes on a shipping company\nlanguage: en\n---\n\
             The Copper Fleet carries salt and timber between the river ports. \
             Mira Holt heads the Copper Fleet; she has headed it since the flood. \
             Its boats are flat-bottomed and sail only in the warm months. \
             The fleet owns eleven boats and a dry dock at Pellin.\n",
        )
        .unwrap();
        let mut config = Config::new(&k, root.path().join("data"));
        config.dense = dense;
        let engine = Engine::open(config).unwrap();
        (root, engine)
    }

    fn first_quote(a: &Answer) -> &str {
        a.citations.first().map_or("", |c| c.quote.as_str())
    }

    fn check_context_helps(engine: &Engine) {
        let first = "What is the Lantern Guild?";
        let follow = "And who heads it?";
        let alone = engine.ask_in(follow, None).unwrap();
        assert!(!alone.answered || !first_quote(&alone).contains("Orrin"), "the test needs a follow-up that is ambiguous alone");
        let with = engine.ask_followup(follow, &[first]).unwrap();
        assert!(with.answered, "{with:?}");
        assert!(first_quote(&with).contains("Orrin Vale"), "{:?}", with.citations);
        assert_eq!(with.question, follow, "the answer is for the follow-up as asked");
    }

    /// Follow-ups that stand alone, with a phrase of the sentence that answers them: the
    /// context must not pull them to the thread's subject. Two ask about the other document.
    const STANDALONE: [(&str, &str); 4] = [
        ("What does the Copper Fleet carry?", "salt and timber"),
        ("Who heads the Copper Fleet?", "Mira Holt"),
        ("In which town do the glassblowers of the Lantern Guild work?", "hill town of Osk"),
        ("How long do apprentices of the guild train?", "five winters"),
    ];

    fn check_a_standalone_follow_up_is_not_hurt(engine: &Engine) {
        let first = "What is the Lantern Guild?";
        for (follow, answer) in STANDALONE {
            let alone = engine.ask_in(follow, None).unwrap();
            let with = engine.ask_followup(follow, &[first]).unwrap();
            assert!(alone.answered && with.answered, "{follow}");
            let doc = |a: &Answer| a.citations[0].document.clone();
            assert!(first_quote(&alone).contains(answer), "{follow}: the test needs a question the engine answers alone");
            assert_eq!(doc(&with), doc(&alone), "{follow}: the context moved the answer to another document");
            assert_eq!(first_quote(&with), first_quote(&alone), "{follow}");
        }
        // an earlier question that adds nothing leaves the follow-up exactly as asked alone
        let q = "Who heads the Lantern Guild?";
        assert_eq!(engine.ask_followup(q, &["the lantern guild"]).unwrap(), engine.ask_in(q, None).unwrap());
    }

    #[test]
    fn context_answers_a_follow_up_that_points_back_lexically() {
        let (_root, engine) = engine(false);
        check_context_helps(&engine);
    }

    #[test]
    fn a_follow_up_that_stands_alone_keeps_its_answer_lexically() {
        let (_root, engine) = engine(false);
        check_a_standalone_follow_up_is_not_hurt(&engine);
    }

    /// The same with the embedding model, where it is installed.
    #[test]
    fn follow_ups_with_the_embedding_model() {
        if Embedder::load().is_none() {
            eprintln!("no embedding model: lexical tests only");
            return;
        }
        let (_root, engine) = engine(true);
        check_context_helps(&engine);
        check_a_standalone_follow_up_is_not_hurt(&engine);
        let talk = engine.ask_followup("thanks, that helps a lot", &["What is the Lantern Guild?"]).unwrap();
        assert!(!talk.answered, "talk became a question about the thread's subject: {talk:?}");
    }

    #[test]
    fn a_follow_up_without_words_of_its_own_is_read_through_its_context() {
        let (_root, engine) = engine(false);
        // “and who?”: only a question word; alone it has nothing known to search for
        let alone = engine.ask_in("And who?", None).unwrap();
        assert!(!alone.answered);
        let with = engine.ask_followup("And who?", &["Who heads the Lantern Guild?"]).unwrap();
        assert!(with.answered && first_quote(&with).contains("Orrin Vale"), "{with:?}");
        // words of its own that the documents lack are not rescued by the context
        for talk in ["And the zorbulite?", "thanks, that helps a lot"] {
            let a = engine.ask_followup(talk, &["What is the Lantern Guild?"]).unwrap();
            assert!(!a.answered, "{talk}: {a:?}");
        }
    }

    /// The same in Arabic, where “it” is a suffix (يرأسها): invented documents, each with a head
    /// named after the verb يرأس; the fleet's says it twice.
    #[test]
    fn arabic_follow_ups_read_with_their_context() {
        let root = tempfile::tempdir().unwrap();
        let k = root.path().join("knowledge");
        std::fs::create_dir_all(&k).unwrap();
        std::fs::write(
            k.join("guild.md"),
            "---\ntitle: نقابة الفوانيس\nlanguage: ar\n---\n\
             نقابة الفوانيس جمعية لنافخي الزجاج في بلدة أوسك الجبلية. \
             تصنع ورشها المصابيح والخرز وألواح النوافذ للوادي. \
             ويرأس نقابة الفوانيس أورين فال، وهو نافخ زجاج انتخبه الأعضاء. \
             ويتدرب المتدربون الجدد في النقابة خمسة شتاءات قبل أن يبيعوا أعمالهم.\n",
        )
        .unwrap();
        std::fs::write(
            k.join("fleet.md"),
            "---\ntitle: الأسطول النحاسي\nlanguage: ar\n---\n\
             ينقل الأسطول النحاسي الملح والخشب بين موانئ النهر. \
             يرأس سامر حداد الأسطول النحاسي، وهو يرأس الأسطول منذ الفيضان. \
             قواربه مسطحة القاع ولا تبحر إلا في الأشهر الدافئة. \
             يملك الأسطول أحد عشر قاربا وحوضا جافا في بلين.\n",
        )
        .unwrap();
        let dense = if Embedder::load().is_some() { vec![false, true] } else { vec![false] };
        for dense in dense {
            let mut config = Config::new(&k, root.path().join(format!("data-{dense}")));
            config.dense = dense;
            let engine = Engine::open(config).unwrap();
            let first = "ما هي نقابة الفوانيس؟";
            let alone = engine.ask_in("ومن يرأسها؟", None).unwrap();
            assert!(!first_quote(&alone).contains("أورين"), "dense={dense}: the test needs a follow-up that is ambiguous alone");
            let with = engine.ask_followup("ومن يرأسها؟", &[first]).unwrap();
            assert!(first_quote(&with).contains("أورين فال"), "dense={dense}: {:?}", with.citations);
            for (follow, answer) in [("من يرأس الأسطول النحاسي؟", "سامر حداد"), ("كم قاربا يملك الأسطول؟", "أحد عشر")]
            {
                let alone = engine.ask_in(follow, None).unwrap();
                assert!(first_quote(&alone).contains(answer), "dense={dense} {follow}: the test needs a question answered alone");
                let with = engine.ask_followup(follow, &[first]).unwrap();
                assert_eq!(first_quote(&with), first_quote(&alone), "dense={dense} {follow}");
            }
        }
    }
}
