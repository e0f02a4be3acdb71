//! Answers over the shipped knowledge folder: golden questions, citations that quote the source
//! exactly, disagreeing sources shown together, abstention, hostile questions.

mod common;

use isnad::engine::QuestionError;
use isnad::eval;
use isnad::text::normalize::fold_text;
use isnad::Error;

#[test]
fn golden_arabic_questions() {
    let (engine, _tmp) = common::shipped_engine();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/knowledge-ar.jsonl");
    let cases = eval::read_golden(&path).expect("golden file parses");
    let report = eval::golden(&engine, &cases).expect("golden run");
    for c in &report.cases {
        eprintln!("{:?} answered={} {}", c.rank, c.answered, c.question);
    }
    assert!(report.hit1 >= 0.8, "hit@1 {:.3} below 0.8", report.hit1);
    assert!(report.abstention_accuracy >= 0.9, "abstention accuracy {:.3}", report.abstention_accuracy);
    // every off-topic question must abstain
    assert!(report.cases.iter().filter(|c| !c.should_answer).all(|c| !c.answered));
}

#[test]
fn member_count_cites_both_numbers_and_flags_the_disagreement() {
    let (engine, _tmp) = common::shipped_engine();
    let a = engine.ask("كم عدد الدول الأعضاء في التحالف؟").expect("answer");
    assert!(a.answered);
    let quotes: Vec<String> = a.citations.iter().map(|c| fold_text(&c.quote)).collect();
    assert!(quotes.iter().any(|q| q.contains("39")), "no quote with 39: {quotes:?}");
    assert!(quotes.iter().any(|q| q.contains("41") || q.contains(&fold_text("إحدى وأربعين"))), "no quote with 41: {quotes:?}");
    assert!(a.sources_differ);
    let short = a.answer.expect("short answer");
    assert!(short.contains("39") && (short.contains("41") || short.contains("وأربعين")), "{short}");
}

#[test]
fn person_question_names_the_person() {
    let (engine, _tmp) = common::shipped_engine();
    let a = engine.ask("من هو القائد العسكري للتحالف؟").expect("answer");
    assert_eq!(a.answer.as_deref(), Some("راحيل شريف"));
    assert!(a.citations[0].quote.contains("القائد العسكري"));
}

#[test]
fn quotes_are_exact_slices_of_the_documents() {
    let (engine, _tmp) = common::shipped_engine();
    for q in ["كم عدد الدول الأعضاء في التحالف؟", "ما هي محاور استراتيجية التحالف لمكافحة الإرهاب؟", "الحرب الدولية على التطرف"]
    {
        let a = engine.ask(q).expect("answer");
        assert!(!a.citations.is_empty(), "{q}");
        for c in &a.citations {
            let file = common::knowledge_dir().join(c.document.trim_start_matches("knowledge/"));
            let text = std::fs::read_to_string(&file).expect("cited document exists");
            assert!(text.contains(&c.quote), "quote not verbatim in {}: {}", c.document, c.quote);
            // the stored offsets point at the same text (body = file minus front matter)
            let body_start = text.find(&c.quote).expect("found") - c.range.start;
            assert_eq!(&text[body_start + c.range.start..body_start + c.range.end], c.quote);
        }
    }
}

#[test]
fn diacritics_in_the_question_do_not_matter_lexically() {
    // the analyzer folds diacritics, so lexical answers are identical; the embedding of a
    // question does move slightly with its diacritics, so this holds for the lexical path
    let (engine, _tmp) = common::shipped_engine_lexical();
    let plain = engine.ask("الحرب الدولية على التطرف").expect("answer");
    let marked = engine.ask("الحرب الدَّولية على التطرّف").expect("answer");
    assert_eq!(plain.citations, marked.citations);
}

#[test]
fn off_topic_questions_abstain_with_no_citations() {
    let (engine, _tmp) = common::shipped_engine();
    for q in ["What is the capital of France?", "ما هي عاصمة فرنسا؟", "zzzz qqqq"] {
        let a = engine.ask(q).expect("answer");
        assert!(!a.answered, "{q} answered: {:?}", a.citations);
        assert!(a.citations.is_empty() && a.answer.is_none());
    }
}

#[test]
fn hostile_questions_are_refused_or_answered_never_crash() {
    let (engine, _tmp) = common::shipped_engine();
    assert!(matches!(engine.ask(""), Err(Error::Question(QuestionError::Empty))));
    assert!(matches!(engine.ask("  ؟?! **"), Err(Error::Question(QuestionError::Empty))));
    assert!(matches!(engine.ask(&"كلمة ".repeat(2000)), Err(Error::Question(QuestionError::TooLong { .. }))));
    // query syntax is just text
    for q in ["التحالف AND (", "\"التحالف", "التحالف*", "التحالف~2", "title:x OR 1=1", "@everyone <@&123> **bold** [x](http://e.com)"]
    {
        engine.ask(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    }
}

#[test]
fn json_has_exactly_the_documented_shape() {
    let (engine, _tmp) = common::shipped_engine();
    let a = engine.ask("من هو القائد العسكري للتحالف؟").expect("answer");
    let v = serde_json::to_value(&a).expect("json");
    // serde_json's map is sorted, so compare sorted key lists
    let keys: Vec<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["answer", "answered", "citations", "confidence", "question"]);
    let c = v["citations"][0].as_object().expect("citation");
    let keys: Vec<&str> = c.keys().map(String::as_str).collect();
    assert_eq!(keys, ["document", "passage", "quote", "score", "title"]);
    assert!(v["citations"][0]["document"].as_str().expect("doc").starts_with("knowledge/"));
}

/// English questions over the Arabic documents go through the embedding model; without it they
/// abstain (there is no shared vocabulary), which is checked instead.
#[test]
fn english_count_question_is_answered_from_the_arabic_text() {
    let (engine, _tmp) = common::shipped_engine();
    let a = engine.ask("how many member states?").expect("answer");
    if isnad::embed::Embedder::load().is_none() {
        assert!(!a.answered);
        return;
    }
    assert!(a.answered, "{a:?}");
    let short = a.answer.clone().expect("short answer");
    assert!(short.contains("41") || short.contains("39"), "{short}");
    let quote = fold_text(&a.citations[0].quote);
    assert!(quote.contains("41") || quote.contains("39") || quote.contains(&fold_text("إحدى وأربعين")), "{quote}");
    // the English golden set is measured, and its off-topic questions must abstain
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/knowledge-en.jsonl");
    let report = eval::golden(&engine, &eval::read_golden(&path).expect("golden file parses")).expect("golden run");
    assert!(report.cases.iter().filter(|c| !c.should_answer).all(|c| !c.answered), "an off-topic English question was answered");
}

/// A count asked in other words than the documents' ("nations" for دول): no question word
/// stands beside either document's number, yet both documents counting the same states are
/// grouped, against the third document's members.
#[test]
fn an_english_count_in_other_words_groups_the_documents_that_count_the_same_thing() {
    let (engine, _tmp) = common::shipped_engine();
    if isnad::embed::Embedder::load().is_none() {
        return;
    }
    let a = engine.ask("How many nations belong to the alliance?").expect("answer");
    assert!(a.answered && a.sources_differ, "{a:?}");
    let short = isnad::labels::short_answer(&a, isnad::labels::Lang::En).expect("short answer");
    assert!(short.contains("41") && short.contains("(2 documents)") && short.contains("39"), "{short}");
}

/// "who is the military commander?" in English over the Arabic documents: answered, and a name
/// shown as the short answer is always taken from the first quote (a "who" question is never
/// answered with a person a later quote names in another role).
#[test]
fn english_person_question_is_answered_and_its_name_comes_from_the_first_quote() {
    if std::env::var_os("ISNAD_NO_LEXICON").is_some() {
        eprintln!("ISNAD_NO_LEXICON set: nothing to test");
        return;
    }
    let (engine, _tmp) = common::shipped_engine();
    let a = engine.ask("who is the military commander?").expect("answer");
    assert!(a.answered, "{a:?}");
    let first = &a.citations[0];
    assert!(fold_text(&first.quote).contains(&fold_text("العسكري")), "{first:?}");
    if let Some(name) = &a.answer {
        assert!(first.quote.contains(name.as_str()), "the name is a slice of the first quote: {name} / {}", first.quote);
    }
}

/// English question, Arabic documents, no embedding model: the bilingual word list alone finds
/// the sentence (invented documents; the list is the one `build.rs` fetched).
#[test]
fn english_question_finds_arabic_text_through_the_word_list() {
    if std::env::var_os("ISNAD_NO_LEXICON").is_some() {
        eprintln!("ISNAD_NO_LEXICON set: nothing to test");
        return;
    }
    assert!(isnad::text::Lexicon::load().is_some(), "the English→Arabic word list was not built (see build warnings)");
    let (_root, mut config) = common::temp_knowledge(&[
        ("port.md", "---\ntitle: الميناء\n---\nرست السفينة في الميناء صباحا. يضم الأسطول اثنتي عشرة سفينة.\n".as_bytes()),
        ("farm.md", "---\ntitle: المزرعة\n---\nيحصد المزارعون الحنطة في الصيف. تقع القرية قرب النهر.\n".as_bytes()),
    ]);
    config.dense = false;
    let engine = isnad::Engine::open(config).expect("engine opens");
    let a = engine.ask("When do the farmers harvest the wheat?").expect("answer");
    assert!(a.answered, "{a:?}");
    assert!(a.citations[0].quote.contains("الحنطة"), "{:?}", a.citations[0]);
    let a = engine.ask("How many ships are in the fleet?").expect("answer");
    assert_eq!(a.citations.first().map(|c| c.document.as_str()), Some("knowledge/port.md"), "{a:?}");
    assert!(a.citations[0].quote.contains("الأسطول"), "{:?}", a.citations[0]);
    let short = a.answer.expect("a short answer");
    assert!(short.contains("12 سفينة"), "the count in digits with its noun: {short}");
}

/// A quote that opens with a word pointing back ("وأضاف", "He added") comes with the sentence
/// before it, verbatim; a quote that stands alone does not.
#[test]
fn a_quote_that_points_back_shows_the_sentence_before_it() {
    let (_root, mut config) = common::temp_knowledge(&[(
        "port.md",
        "---\ntitle: الميناء\n---\nقال مدير الميناء إن العمل يسير بانتظام منذ الصباح. وأضاف أن الأسطول يضم اثنتي عشرة سفينة حربية. تقع المنارة على الصخرة الغربية.\n"
            .as_bytes(),
    )]);
    config.dense = false;
    let engine = isnad::Engine::open(config).expect("engine opens");
    let a = engine.ask("كم سفينة يضم الأسطول؟").expect("answer");
    let first = &a.citations[0];
    assert!(first.quote.starts_with("وأضاف"), "{first:?}");
    assert_eq!(first.context.as_deref(), Some("قال مدير الميناء إن العمل يسير بانتظام منذ الصباح."));
    let a = engine.ask("أين تقع المنارة؟").expect("answer");
    assert!(a.citations[0].quote.contains("المنارة"), "{:?}", a.citations[0]);
    assert_eq!(a.citations[0].context, None, "a sentence that stands alone needs no context");
}

/// A small single-topic folder (the typical server's knowledge folder, invented here): the
/// calibrated answer decision answers what the documents say, in Arabic and in English, and
/// refuses a question about something else.
#[test]
fn small_folder_answers_what_it_covers_and_refuses_what_it_does_not() {
    let (_root, config) = common::temp_knowledge(&[
        (
            "island.md",
            "---\ntitle: جزيرة المنارة\n---\nتقع جزيرة المنارة في الخليج الشمالي على بعد عشرين كيلومترا من الساحل. بنيت المنارة عام 1887 من الحجر الجيري. يسكن الجزيرة اليوم سبعة وثلاثون صيادا مع أسرهم.\n".as_bytes(),
        ),
        (
            "keeper.md",
            "---\ntitle: حارس المنارة\n---\nيتولى حراسة المنارة منذ عشر سنوات الحارس سليم الدباغ. يصعد الحارس كل مساء مئة وعشرين درجة ليشعل المصباح. ويقول إن العواصف الشتوية هي أصعب ما في عمله.\n".as_bytes(),
        ),
        (
            "boats.md",
            "---\ntitle: قوارب الصيد\n---\nيملك صيادو الجزيرة أربعة عشر قاربا خشبيا. يخرج الصيادون إلى البحر قبل الفجر ويعودون عند الظهر. يباع السمك في سوق المدينة المقابلة للجزيرة.\n".as_bytes(),
        ),
    ]);
    let engine = isnad::Engine::open(config).expect("engine opens");
    let a = engine.ask("كم قاربا يملك صيادو الجزيرة؟").expect("answer");
    assert!(a.answered, "{a:?}");
    assert!(a.citations[0].quote.contains("أربعة عشر قاربا"), "{:?}", a.citations[0]);
    let a = engine.ask("متى بنيت المنارة؟").expect("answer");
    assert!(a.answered && a.citations[0].quote.contains("1887"), "{a:?}");
    for off_topic in ["ما هي عاصمة اليابان؟", "كم لاعبا في فريق كرة السلة؟", "Who painted the Mona Lisa?"]
    {
        let a = engine.ask(off_topic).expect("answer");
        assert!(!a.answered, "{off_topic} answered: {:?}", a.citations);
    }
    if isnad::embed::Embedder::load().is_some() && isnad::text::Lexicon::load().is_some() {
        let a = engine.ask("How many boats do the fishermen own?").expect("answer");
        assert!(a.answered && a.citations[0].quote.contains("أربعة عشر قاربا"), "{a:?}");
        assert_eq!(a.answer.as_deref(), Some("14 قاربا"), "{a:?}");
        let a = engine.ask("Who guards the lighthouse?").expect("answer");
        assert!(a.answered && a.citations[0].quote.contains("سليم الدباغ"), "{a:?}");
        let a = engine.ask("What is the capital of Japan?").expect("answer");
        assert!(!a.answered, "{a:?}");
    }
}

/// "Who is the X?": the sentence that names a person right after the role is quoted first, even
/// when another sentence that mentions the role beside someone else's name ranks higher on its
/// words (invented documents).
#[test]
fn who_question_quotes_the_sentence_that_names_the_role_holder() {
    let (_root, mut config) = common::temp_knowledge(&[
        (
            "visit.md",
            "---\ntitle: مدير الميناء يستقبل الأسطول\n---\nوصل الأسطول إلى الميناء صباح اليوم. وأشار قائد الأسطول العميد سالم حمدان، بحضور مدير الميناء وممثلي شركات الشحن، إلى أهمية الميناء للتجارة البحرية.\n".as_bytes(),
        ),
        (
            "port.md",
            "---\ntitle: توسعة الأرصفة\n---\nقال مدير الميناء البحري المكلف الدكتور فهد بن علي الزيدي إن أعمال توسعة الأرصفة ستنتهي في الربيع. وتضم الأرصفة الجديدة رافعات حديثة.\n".as_bytes(),
        ),
    ]);
    config.dense = false;
    let engine = isnad::Engine::open(config).expect("engine opens");
    let a = engine.ask("من هو مدير الميناء؟").expect("answer");
    assert!(a.answered, "{a:?}");
    assert_eq!(a.answer.as_deref(), Some("فهد بن علي الزيدي"), "{a:?}");
    assert_eq!(a.citations[0].document, "knowledge/port.md", "{:?}", a.citations);
}

/// A question scoped to one document (`Engine::ask_in`) quotes only that document, even when
/// another one matches the question better; an unknown document id is a typed error.
#[test]
fn a_question_scoped_to_one_document_quotes_only_that_document() {
    let (_root, mut config) = common::temp_knowledge(&[
        (
            "bakery.md",
            "---\ntitle: The Bakery\n---\nThe bakery bakes bread every morning. The baker bakes forty loaves of rye bread before dawn. Bread from the bakery sells out by noon.\n".as_bytes(),
        ),
        (
            "market.md",
            "---\ntitle: The Market\n---\nThe market opens on Saturdays. A stall near the fountain sells bread and cheese. The fishmonger arrives last.\n".as_bytes(),
        ),
    ]);
    config.dense = false;
    let engine = isnad::Engine::open(config).expect("engine opens");
    let question = "Who sells bread?";
    let everywhere = engine.ask_in(question, None).expect("answer");
    assert_eq!(everywhere.citations.first().map(|c| c.document.as_str()), Some("knowledge/bakery.md"), "{everywhere:?}");
    let scoped = engine.ask_in(question, Some("knowledge/market.md")).expect("answer");
    assert!(!scoped.citations.is_empty(), "{scoped:?}");
    assert!(scoped.citations.iter().all(|c| c.document == "knowledge/market.md"), "{scoped:?}");
    assert!(scoped.citations[0].quote.contains("stall"), "{:?}", scoped.citations[0]);
    assert_eq!(engine.document_title("knowledge/market.md").as_deref(), Some("The Market"));
    match engine.ask_in(question, Some("knowledge/nowhere.md")) {
        Err(isnad::Error::Question(QuestionError::UnknownDocument(id))) => assert_eq!(id, "knowledge/nowhere.md"),
        other => panic!("expected UnknownDocument, got {other:?}"),
    }
}
