//! What a question asks for, read from its interrogative words (English and Arabic): a count, a
//! person, a time, a place, or anything else. Language data, not corpus knowledge; the answer
//! composer uses it to pick a short answer (a number with its noun, a name after a title).

use serde::Serialize;

use super::analyzer::{Analyzer, Word};
use super::lexicon::Lexicon;
use super::normalize::normalize_word;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    Count,
    /// "what percentage …?", "ما نسبة …؟": a number marked as a percent.
    Percent,
    /// "what is it called?", "ما اسم …؟", "ماذا يسمى …؟": a name in quotation marks or after
    /// a naming word.
    Title,
    Person,
    Time,
    Place,
    Other,
}

/// Reads the kind from the question's normalized words (see [`super::Analyzer::words`]).
pub fn question_kind(words: &[Word]) -> QuestionKind {
    let w: Vec<&str> = words.iter().map(|w| w.norm.as_str()).collect();
    let has = |s: &str| w.contains(&s);
    let pair = |a: &str, b: &str| w.windows(2).any(|p| p[0] == a && p[1] == b);
    // a share before a count: "how much of …, in percent", "كم نسبة …" (`بالنسبة`, "as for", is
    // another word)
    if has("percent") || has("percentage") || pair("per", "cent") || ["نسبه", "النسبه", "مئويه", "المئويه"].iter().any(|s| has(s))
    {
        return QuestionKind::Percent;
    }
    // English
    if pair("how", "many") || pair("how", "much") || pair("number", "of") && (has("what") || has("the")) {
        return QuestionKind::Count;
    }
    if has("who") || has("whom") || has("whose") {
        return QuestionKind::Person;
    }
    if has("when") || pair("what", "year") || pair("which", "year") || pair("what", "date") {
        return QuestionKind::Time;
    }
    if has("where") {
        return QuestionKind::Place;
    }
    if ["called", "named", "titled", "entitled", "nickname", "nicknamed"].iter().any(|s| has(s))
        || pair("the", "name")
        || pair("known", "as")
    {
        return QuestionKind::Title;
    }
    // Arabic (normalized: alef folded, teh marbuta as heh). `من` is both "who" and "from": read
    // it as "who" only at the head of the question (after an optional conjunction) or before a
    // pronoun (من هو / من هي / من هم).
    let first = w.first().copied().unwrap_or("");
    if has("كم") || pair("ما", "عدد") || pair("ما", "هو") && has("عدد") || first == "عدد" {
        return QuestionKind::Count;
    }
    if first == "من" || first == "ومن" || pair("من", "هو") || pair("من", "هي") || pair("من", "هم") || has("لمن") {
        return QuestionKind::Person;
    }
    if has("متي") || pair("في", "اي") && has("عام") || pair("اي", "عام") || pair("اي", "سنه") {
        return QuestionKind::Time;
    }
    if has("اين") {
        return QuestionKind::Place;
    }
    // (normalized: alef maqsura folded to yeh)
    if ["يسمي", "تسمي", "سميت", "اسم", "الاسم", "عنوان", "لقب", "يطلق", "تدعي", "يدعي"].iter().any(|s| has(s))
    {
        return QuestionKind::Title;
    }
    QuestionKind::Other
}

/// Words that only frame a question of this kind ("how *many*", "كم *عدد*", "the *number* of"):
/// they say what is asked, not what it is about, so they are not searched for.
fn frame_words(kind: QuestionKind) -> &'static [&'static str] {
    match kind {
        QuestionKind::Count => &["عدد", "number", "count"],
        QuestionKind::Time => &["year", "date", "عام", "سنه", "تاريخ"],
        _ => &[],
    }
}

/// One thing a question asks about: its own analyzed term and, for an English word the
/// bilingual list knows, the analyzed terms of its Arabic renderings, any of which may stand for
/// it in the documents.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Concept {
    pub term: String,
    pub translations: Vec<String>,
    /// Renderings from the second, looser word list (after `translations`' and none of them):
    /// searched with a lower weight.
    pub second: Vec<String>,
}

impl Concept {
    /// The term, then its translations (the second list's last).
    pub fn alternatives(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.term.as_str()).chain(self.translations.iter().chain(&self.second).map(String::as_str))
    }

    /// Whether any word list rendered it.
    pub fn is_translated(&self) -> bool {
        !self.translations.is_empty() || !self.second.is_empty()
    }
}

/// The question's kind and its search terms (analyzed, distinct, frame words removed).
pub fn question_terms(analyzer: &Analyzer, question: &str) -> (QuestionKind, Vec<String>) {
    let (kind, concepts) = question_concepts(analyzer, None, question);
    (kind, concepts.into_iter().map(|c| c.term).collect())
}

/// The question's kind and what it asks about: one [`Concept`] per distinct search term, with
/// the Arabic renderings of English words when a `lexicon` is given.
pub fn question_concepts(analyzer: &Analyzer, lexicon: Option<&Lexicon>, question: &str) -> (QuestionKind, Vec<Concept>) {
    let words = analyzer.words(question);
    let kind = question_kind(&words);
    // English compounds of the phrase list ("secretary general" → الأمين العام): the byte range
    // they cover in the question and their analyzed renderings, lent to each word inside
    let mut phrases: Vec<(std::ops::Range<usize>, Vec<String>)> = Vec::new();
    if lexicon.is_some() {
        for (english, arabic) in super::lang::english_phrases() {
            for at in 0..words.len() {
                let end = at + english.len();
                if end <= words.len() && words[at..end].iter().zip(english).all(|(w, e)| &w.norm == e) {
                    let terms = arabic.iter().flat_map(|a| analyzer.query_terms(a)).collect();
                    phrases.push((words[at].from..words[end - 1].to, terms));
                }
            }
        }
    }
    let frame: Vec<String> = frame_words(kind).iter().map(|w| analyzer.stem(&normalize_word(w))).collect();
    let mut concepts: Vec<Concept> = Vec::new();
    for t in analyzer.analyze(question) {
        if frame.contains(&t.text) || concepts.iter().any(|c| c.term == t.text) {
            continue;
        }
        let mut translations: Vec<String> = Vec::new();
        let mut second: Vec<String> = Vec::new();
        if let Some(lexicon) = lexicon {
            let word = normalize_word(&question[t.from..t.to]);
            if word.chars().all(|c| c.is_ascii_alphabetic()) {
                let (first, looser) = lexicon.renderings_by_list(&word, &t.text);
                push_new(&mut translations, &t.text, first.into_iter().flat_map(|r| analyzer.query_terms(r)));
                push_new(&mut second, &t.text, looser.into_iter().flat_map(|r| analyzer.query_terms(r)));
            }
        }
        for (range, terms) in &phrases {
            if range.start <= t.from && t.to <= range.end {
                push_new(&mut translations, &t.text, terms.iter().cloned());
            }
        }
        // the second list adds only what the first list and the phrases did not (a phrase's
        // rendering is as sure as the first list's)
        second.retain(|a| !translations.contains(a));
        concepts.push(Concept { term: t.text, translations, second });
    }
    (kind, concepts)
}

/// Appends the `terms` that are neither the concept's own `term` nor already in `into`.
fn push_new(into: &mut Vec<String>, term: &str, terms: impl IntoIterator<Item = String>) {
    for a in terms {
        if a != term && !into.contains(&a) {
            into.push(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Analyzer;

    fn kind(q: &str) -> QuestionKind {
        question_kind(&Analyzer::default().words(q))
    }

    #[test]
    fn english_interrogatives() {
        assert_eq!(kind("How many ships are there?"), QuestionKind::Count);
        assert_eq!(kind("Who leads it?"), QuestionKind::Person);
        assert_eq!(kind("When was it founded?"), QuestionKind::Time);
        assert_eq!(kind("Where is the headquarters?"), QuestionKind::Place);
        assert_eq!(kind("What does it do?"), QuestionKind::Other);
        assert_eq!(kind("What percentage of the crew were sailors?"), QuestionKind::Percent);
        assert_eq!(kind("What was the flagship called?"), QuestionKind::Title);
        assert_eq!(kind("ماذا تسمى السفينة الكبرى؟"), QuestionKind::Title);
        assert_eq!(kind("ما اسم الميناء؟"), QuestionKind::Title);
        assert_eq!(kind("كم كانت النسبة المئوية للبحارة؟"), QuestionKind::Percent);
        assert_eq!(kind("ما نسبة البحارة في الطاقم؟"), QuestionKind::Percent);
        // `بالنسبة ل` is "as for", not a share
        assert_eq!(kind("أين يقع الميناء بالنسبة للمدينة؟"), QuestionKind::Place);
    }

    #[test]
    fn frame_words_are_not_searched() {
        let a = Analyzer::default();
        let (kind, terms) = question_terms(&a, "كم عدد السفن في الأسطول؟");
        assert_eq!(kind, QuestionKind::Count);
        assert_eq!(terms, a.query_terms("السفن الأسطول"));
        let (_, terms) = question_terms(&a, "What is the number of ships?");
        assert_eq!(terms, a.query_terms("ships"));
    }

    #[test]
    fn english_compounds_bring_their_arabic_rendering() {
        let a = Analyzer::default();
        let lexicon = Lexicon::parse("general\tالجنرال\n");
        let (_, concepts) = question_concepts(&a, Some(&lexicon), "Who is the secretary general?");
        let rendering = a.query_terms("الأمين العام");
        for word in ["secretary", "general"] {
            let c = concepts.iter().find(|c| c.term == a.stem(word)).expect("searched");
            assert!(rendering.iter().all(|r| c.translations.contains(r)), "{word}: {:?}", c.translations);
        }
        // a word outside the compound keeps only its own renderings
        let (_, concepts) = question_concepts(&a, Some(&lexicon), "Who is the general?");
        let c = concepts.iter().find(|c| c.term == a.stem("general")).expect("searched");
        assert_eq!(c.translations, a.query_terms("الجنرال"));
    }

    #[test]
    fn arabic_interrogatives() {
        assert_eq!(kind("كم عدد الدول؟"), QuestionKind::Count);
        assert_eq!(kind("ما عدد الأعضاء؟"), QuestionKind::Count);
        assert_eq!(kind("من هو القائد؟"), QuestionKind::Person);
        assert_eq!(kind("متى تأسس؟"), QuestionKind::Time);
        assert_eq!(kind("أين يقع المقر؟"), QuestionKind::Place);
        assert_eq!(kind("ما هدف التعاون من البداية؟"), QuestionKind::Other);
    }

    #[test]
    fn english_words_bring_their_arabic_renderings() {
        let a = Analyzer::default();
        let lexicon = Lexicon::parse("ship\tالسفينة\tمركب\nfleet\tالأسطول\n");
        let (kind, concepts) = question_concepts(&a, Some(&lexicon), "How many ships are in the fleet?");
        assert_eq!(kind, QuestionKind::Count);
        let ships = concepts.iter().find(|c| c.term == a.stem("ship")).expect("ship is searched");
        assert_eq!(ships.translations, a.query_terms("السفينة مركب"));
        let fleet = concepts.iter().find(|c| c.term == a.stem("fleet")).expect("fleet is searched");
        assert_eq!(fleet.translations, a.query_terms("الأسطول"));
        // Arabic words are not looked up, and without a list nothing is translated
        let (_, arabic) = question_concepts(&a, Some(&lexicon), "كم سفينة في الأسطول؟");
        assert!(arabic.iter().all(|c| c.translations.is_empty()));
        let (_, plain) = question_concepts(&a, None, "How many ships are in the fleet?");
        assert!(plain.iter().all(|c| c.translations.is_empty()));
    }

    #[test]
    fn the_second_lists_renderings_are_kept_apart() {
        let a = Analyzer::default();
        let lexicon = Lexicon::parse_with_second("ship\tالسفينة\n", "ship\tسفينة\tمركب\nharbour\tميناء\n");
        let (_, concepts) = question_concepts(&a, Some(&lexicon), "Which ship left the harbour?");
        let ship = concepts.iter().find(|c| c.term == a.stem("ship")).expect("ship is searched");
        assert_eq!(ship.translations, a.query_terms("السفينة"));
        // سفينة analyzes as السفينة does: only مركب is the second list's own
        assert_eq!(ship.second, a.query_terms("مركب"));
        let harbour = concepts.iter().find(|c| c.term == a.stem("harbour")).expect("harbour is searched");
        assert!(harbour.translations.is_empty() && harbour.is_translated());
        assert_eq!(harbour.second, a.query_terms("ميناء"));
        assert_eq!(harbour.alternatives().collect::<Vec<_>>(), [harbour.term.as_str(), harbour.second[0].as_str()]);
    }
}
