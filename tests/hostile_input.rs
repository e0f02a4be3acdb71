//! Hostile input, as property tests (bounded proptest runs, part of `cargo test`): arbitrary
//! Unicode through text analysis, sentence splitting, number reading, the bilingual expansion
//! and the whole question path. Nothing may panic, every offset must point into the text on a
//! character boundary, and search syntax is never syntax.

mod common;

use std::sync::OnceLock;

use isnad::engine::QuestionError;
use isnad::text::numbers::read_number;
use isnad::text::segment::sentences;
use isnad::text::{question_concepts, Analyzer, Lexicon};
use isnad::{Engine, Error};
use proptest::prelude::*;

/// Text built to hurt: Arabic with marks, Latin, digits, bidi controls, zero-width joiners,
/// combining-mark floods, NUL, replacement characters (what lossy decoding of bad bytes yields),
/// Markdown, mentions and query-parser syntax, mixed with any Unicode at all.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("كم عدد الدول الأعضاء؟".to_owned()),
        Just("إحدى وأربعين".to_owned()),
        Just("\u{064B}\u{064C}\u{064D}\u{0651}".repeat(50)),
        Just("\u{202E}\u{202D}\u{2066}\u{2069}\u{200F}".to_owned()),
        Just("\u{200D}\u{200C}\u{FEFF}\u{0640}".to_owned()),
        Just("\0".to_owned()),
        Just("\u{FFFD}".to_owned()),
        Just("AND ( OR \" * ~ ^ : [ ] { } + - ! \\".to_owned()),
        Just("@everyone <@&123> <@!456> **bold** [link](http://x) `code`".to_owned()),
        Just("how many member states?".to_owned()),
        Just(" . . . ؟ ! … \n\n\r\n".to_owned()),
        Just("١٢٣ 4.5 3,000".to_owned()),
        any::<String>(),
        proptest::collection::vec(any::<char>(), 0..40).prop_map(|c| c.into_iter().collect()),
    ];
    proptest::collection::vec(pieces, 0..12).prop_map(|p| p.concat())
}

fn analyzer() -> &'static Analyzer {
    static A: OnceLock<Analyzer> = OnceLock::new();
    A.get_or_init(Analyzer::default)
}

/// One lexical engine over the shipped knowledge for all cases (built once).
fn engine() -> &'static Engine {
    static E: OnceLock<(Engine, tempfile::TempDir)> = OnceLock::new();
    &E.get_or_init(common::shipped_engine_lexical).0
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn analysis_offsets_point_into_the_text(text in hostile_text()) {
        for t in analyzer().analyze(&text) {
            prop_assert!(!t.text.is_empty());
            prop_assert!(t.from <= t.to && t.to <= text.len());
            prop_assert!(text.is_char_boundary(t.from) && text.is_char_boundary(t.to));
        }
    }

    #[test]
    fn sentences_are_ordered_slices_of_the_text(text in hostile_text()) {
        let mut last = 0;
        for r in sentences(&text) {
            prop_assert!(r.start >= last && r.start <= r.end && r.end <= text.len(), "{r:?} after {last}");
            prop_assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
            last = r.end;
        }
    }

    #[test]
    fn number_reading_consumes_what_it_read(words in proptest::collection::vec(
        prop_oneof![Just("احدي"), Just("وأربعين"), Just("اربعين"), Just("مئه"), Just("الف"), Just("و"), Just("one"),
                    Just("hundred"), Just("thousand"), Just("and"), Just("ninety"), Just("x")], 0..30)) {
        if let Some((_, used)) = read_number(&words) {
            prop_assert!(used >= 1 && used <= words.len());
        }
    }

    #[test]
    fn expansion_never_panics_and_keeps_terms_distinct(text in hostile_text()) {
        let lexicon = Lexicon::parse("state\tالدولة\tالحالة\nmember\tالعضو\n");
        let (_, concepts) = question_concepts(analyzer(), Some(&lexicon), &text);
        let mut seen = std::collections::HashSet::new();
        for c in &concepts {
            prop_assert!(seen.insert(c.term.clone()), "term twice: {}", c.term);
            prop_assert!(!c.translations.contains(&c.term));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// The whole question path: an answer or a clear refusal, and every quote verbatim.
    #[test]
    fn any_question_gets_an_answer_or_a_clear_refusal(q in hostile_text()) {
        match engine().ask(&q) {
            Ok(a) => {
                prop_assert!(a.answered || a.citations.is_empty());
                for c in &a.citations {
                    let file = common::knowledge_dir().join(c.document.trim_start_matches("knowledge/"));
                    let text = std::fs::read_to_string(file).expect("cited file");
                    prop_assert!(text.contains(&c.quote));
                }
            }
            Err(Error::Question(QuestionError::Empty | QuestionError::TooLong { .. })) => {}
            Err(e) => prop_assert!(false, "unexpected error for {q:?}: {e}"),
        }
    }
}

#[test]
fn a_hundred_kilobyte_question_is_refused_not_searched() {
    let q = "كم عدد الدول الأعضاء؟ ".repeat(5_000);
    assert!(q.len() > 100_000);
    assert!(matches!(engine().ask(&q), Err(Error::Question(QuestionError::TooLong { .. }))));
}

#[test]
fn query_syntax_is_just_text() {
    // each of these would be a syntax error or a different query in tantivy's query parser
    for q in ["الدول AND (", "\"الدول الأعضاء", "الدول*", "الدول~2", "title:الدول", "+الدول -التحالف", "[1 TO 5]"]
    {
        let a = engine().ask(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        let plain = engine().ask(&q.replace(['(', '"', '*', '~', ':', '+', '-', '[', ']'], " ")).expect("plain");
        assert_eq!(a.citations.first().map(|c| &c.quote), plain.citations.first().map(|c| &c.quote), "{q}");
    }
}
