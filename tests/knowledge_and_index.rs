//! Loading a knowledge folder with bad files in it, and keeping the index in step with the
//! folder: rebuild on change, atomic swap, recovery from a damaged index.

mod common;

use isnad::knowledge::{load_dir, Reason};
use isnad::Engine;

const GOOD: &[u8] = "---\ntitle: الأسطول\nlanguage: ar\n---\nيضم الأسطول اثنتي عشرة سفينة. تبحر السفن من الميناء الشمالي.\n".as_bytes();

#[test]
fn malformed_files_are_reported_and_the_rest_loads() {
    let (root, config) = common::temp_knowledge(&[
        ("good.md", GOOD),
        ("plain.txt", "A plain text note about harbours.".as_bytes()),
        ("nested/deeper/also-good.md", b"+++\ntitle = \"Deep\"\n+++\nDeep text."),
        ("bad-utf8.txt", b"caf\xe9 au lait"),
        ("bad-yaml.md", b"---\ntitle: [oops\n---\nbody"),
        ("unclosed.md", b"---\ntitle: x\nbody without a fence"),
        ("empty.md", b""),
        ("binary.txt", b"\x00\x01\x02PNG"),
        ("ignored.json", b"{}"),
        (".hidden/secret.md", b"hidden"),
    ]);
    let k = load_dir(&config.knowledge_dir).expect("folder loads");
    let mut ids: Vec<&str> = k.documents.iter().map(|d| d.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["knowledge/good.md", "knowledge/nested/deeper/also-good.md", "knowledge/plain.txt"]);
    let reasons: Vec<String> = k.rejected.iter().map(|r| r.to_string()).collect();
    assert_eq!(reasons.len(), 5, "{reasons:#?}");
    for (file, why) in
        [("bad-utf8.txt", "UTF-8"), ("bad-yaml.md", "YAML"), ("unclosed.md", "not closed"), ("empty.md", "empty"), ("binary.txt", "binary")]
    {
        assert!(reasons.iter().any(|r| r.contains(file) && r.contains(why)), "{file}: {reasons:#?}");
    }
    assert_eq!(k.documents.iter().find(|d| d.id.ends_with("plain.txt")).map(|d| d.meta.title.as_str()), Some("plain"));
    // the engine still serves the good files and lists the rejected ones
    let engine = Engine::open(config).expect("engine");
    assert_eq!(engine.manifest().rejected.len(), 5);
    assert!(engine.ask("كم سفينة في الأسطول؟").expect("answer").answered);
    drop(root);
}

#[cfg(unix)]
#[test]
fn symlinks_are_not_followed() {
    let (root, config) = common::temp_knowledge(&[("good.md", GOOD)]);
    let outside = root.path().join("outside.md");
    std::fs::write(&outside, "secret outside text").expect("write");
    std::os::unix::fs::symlink(&outside, config.knowledge_dir.join("link.md")).expect("symlink");
    let k = load_dir(&config.knowledge_dir).expect("loads");
    assert_eq!(k.documents.len(), 1);
    assert!(k.rejected.iter().any(|r| r.path.ends_with("link.md") && r.reason == Reason::SymbolicLink));
}

#[test]
fn missing_folder_is_an_error_naming_it() {
    let err = load_dir(std::path::Path::new("/nonexistent/isnad-knowledge")).expect_err("missing folder");
    assert!(err.to_string().contains("/nonexistent/isnad-knowledge"), "{err}");
}

#[test]
fn index_is_rebuilt_when_knowledge_changes_and_reused_when_not() {
    let (_root, config) = common::temp_knowledge(&[("good.md", GOOD)]);
    let engine = Engine::open(config.clone()).expect("engine");
    let first = engine.handle().dir().to_owned();
    assert!(!engine.ask("ما لون المنارة؟").expect("answer").answered);

    // unchanged: no rebuild, and a second process reuses the same generation
    assert!(!engine.refresh(false, &|_, _| {}).expect("refresh").rebuilt);
    assert_eq!(Engine::open(config.clone()).expect("reopen").handle().dir(), first.as_path());

    // changed: rebuilt, swapped, and the new text is found
    std::fs::write(config.knowledge_dir.join("lighthouse.md"), "---\ntitle: المنارة\n---\nلون المنارة أحمر وأبيض.\n").expect("write");
    let before = engine.handle();
    let report = engine.refresh(false, &|_, _| {}).expect("refresh");
    assert!(report.rebuilt);
    assert_eq!(report.documents, 2);
    assert_ne!(engine.handle().dir(), first.as_path());
    let a = engine.ask("ما لون المنارة؟").expect("answer");
    assert!(a.answered && a.citations[0].quote.contains("أحمر"), "{a:?}");
    // a question in flight on the old generation still completes
    assert_eq!(before.searcher().num_docs(), 1);

    // a fresh open after another edit also rebuilds
    std::fs::remove_file(config.knowledge_dir.join("lighthouse.md")).expect("rm");
    let reopened = Engine::open(config).expect("reopen");
    assert!(!reopened.ask("ما لون المنارة؟").expect("answer").answered);
}

#[test]
fn damaged_index_is_rebuilt_on_open() {
    let (_root, config) = common::temp_knowledge(&[("good.md", GOOD)]);
    let dir = Engine::open(config.clone()).expect("engine").handle().dir().to_owned();
    std::fs::remove_file(dir.join("isnad-manifest.json")).expect("damage");
    let engine = Engine::open(config.clone()).expect("reopens");
    assert!(engine.ask("كم سفينة في الأسطول؟").expect("answer").answered);

    std::fs::write(config.index_dir().join("CURRENT"), "../../etc").expect("damage pointer");
    let engine = Engine::open(config).expect("reopens");
    assert!(engine.ask("كم سفينة في الأسطول؟").expect("answer").answered);
}

#[test]
fn spelled_out_numbers_answer_digit_questions() {
    let (_root, config) = common::temp_knowledge(&[("good.md", GOOD)]);
    let engine = Engine::open(config).expect("engine");
    let a = engine.ask("هل يضم الأسطول 12 سفينة؟").expect("answer");
    assert!(a.answered && a.citations[0].quote.contains("اثنتي عشرة"), "{a:?}");
}

const LIGHTHOUSE: &str = "---\ntitle: المنارة\n---\nتقع المنارة على الصخرة الغربية. لون المنارة أحمر وأبيض.\n";

/// Knowledge faults while serving: a file rewritten with invalid UTF-8 keeps its last good
/// version (named as rejected), across refreshes and restarts; fixing it serves the new text;
/// deleting it removes it; a 1 GB file is refused by name; a deleted index directory is rebuilt.
#[test]
fn a_file_gone_bad_keeps_its_last_good_version() {
    let (_root, config) = common::temp_knowledge(&[("good.md", GOOD), ("lighthouse.md", LIGHTHOUSE.as_bytes())]);
    let k = config.knowledge_dir.clone();
    let engine = Engine::open(config.clone()).expect("engine");
    let colour = |e: &Engine| e.ask("ما لون المنارة؟").expect("answer");
    let original = colour(&engine).citations[0].quote.clone();
    assert!(original.contains("أحمر"));

    // rewritten with invalid UTF-8: named as rejected, the old text still answers
    std::fs::write(k.join("lighthouse.md"), b"---\ntitle: x\n---\n\xff\xfe broken").expect("write");
    let report = engine.refresh(false, &|_, _| {}).expect("refresh");
    assert!(report.rebuilt);
    let rejected: Vec<String> = report.rejected.iter().map(ToString::to_string).collect();
    assert!(rejected.iter().any(|r| r.contains("lighthouse.md") && r.contains("UTF-8") && r.contains("last good")), "{rejected:?}");
    assert_eq!(report.documents, 2, "nothing already indexed is lost");
    let a = colour(&engine);
    assert!(a.answered, "{a:?}");
    assert_eq!(a.citations[0].quote, original);
    assert_eq!(a.citations[0].document, "knowledge/lighthouse.md");

    // a restart keeps it too, and so does a second refresh
    let restarted = Engine::open(config.clone()).expect("reopen");
    assert_eq!(colour(&restarted).citations[0].quote, original);
    restarted.refresh(true, &|_, _| {}).expect("forced rebuild");
    assert_eq!(colour(&restarted).citations[0].quote, original);

    // a 1 GB file (sparse) is refused by name, the rest is untouched
    let huge = std::fs::File::create(k.join("huge.txt")).expect("create");
    huge.set_len(1 << 30).expect("sparse 1 GB");
    let report = engine.refresh(false, &|_, _| {}).expect("refresh");
    assert!(report.rejected.iter().any(|r| r.path.ends_with("huge.txt")), "{:?}", report.rejected);
    assert_eq!(report.documents, 2);
    std::fs::remove_file(k.join("huge.txt")).expect("rm");

    // fixed: the new text is served and nothing is rejected any more
    std::fs::write(k.join("lighthouse.md"), LIGHTHOUSE.replace("أحمر وأبيض", "أزرق")).expect("write");
    let report = engine.refresh(false, &|_, _| {}).expect("refresh");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert!(colour(&engine).citations[0].quote.contains("أزرق"));

    // the index directory vanishes under the running engine: questions still work, and the next
    // refresh rebuilds it
    std::fs::remove_dir_all(config.index_dir()).expect("rm index");
    assert!(colour(&engine).answered);
    assert!(engine.refresh(false, &|_, _| {}).expect("refresh").rebuilt);
    assert!(engine.handle().dir().exists());

    // deleted on purpose: gone
    std::fs::remove_file(k.join("lighthouse.md")).expect("rm");
    let report = engine.refresh(false, &|_, _| {}).expect("refresh");
    assert_eq!(report.documents, 1);
    assert!(!colour(&engine).answered);
}

/// A segment file of the live generation truncated while questions flow (a disk filling up, a
/// careless cleanup): answers keep coming from the generation as it was opened, and the next
/// refresh or restart notices the damage and rebuilds from the knowledge folder.
#[test]
fn a_segment_file_truncated_while_serving_does_not_stop_answers() {
    let (_root, config) = common::temp_knowledge(&[("good.md", GOOD), ("lighthouse.md", LIGHTHOUSE.as_bytes())]);
    let engine = Engine::open(config.clone()).expect("engine");
    let ask = |e: &Engine| e.ask("ما لون المنارة؟").expect("answer");
    assert!(ask(&engine).answered);
    let dir = engine.handle().dir().to_owned();
    let mut truncated = 0;
    for entry in std::fs::read_dir(&dir).expect("generation dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        // segment files are named <segment uuid>.<component>; meta.json and ours are left alone
        if name.len() > 32 && name.contains('.') {
            let len = std::fs::metadata(&path).expect("meta").len();
            std::fs::OpenOptions::new().write(true).open(&path).expect("open").set_len(len / 3).expect("truncate");
            truncated += 1;
        }
    }
    assert!(truncated > 0, "no segment file found in {}", dir.display());
    for _ in 0..20 {
        let a = ask(&engine);
        assert!(a.answered && a.citations[0].quote.contains("أحمر"), "{a:?}");
    }
    // the damage is noticed: a restart rebuilds from the knowledge folder
    let reopened = Engine::open(config).expect("reopens");
    let a = ask(&reopened);
    assert!(a.answered && a.citations[0].quote.contains("أحمر"), "{a:?}");
}

/// A symbolic link to a folder is named as rejected, like a link to a file, and not followed.
#[cfg(unix)]
#[test]
fn a_symlinked_folder_is_listed_as_rejected() {
    let (root, config) = common::temp_knowledge(&[("good.md", GOOD)]);
    let outside = root.path().join("elsewhere");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::write(outside.join("far.md"), "نص في مجلد آخر.").expect("write");
    std::os::unix::fs::symlink(&outside, config.knowledge_dir.join("linked")).expect("symlink");
    let k = load_dir(&config.knowledge_dir).expect("loads");
    assert_eq!(k.documents.len(), 1);
    assert!(k.rejected.iter().any(|r| r.path.ends_with("linked") && r.reason == Reason::SymbolicLinkToFolder), "{:?}", k.rejected);
}

/// After edits, the embedding cache holds the vectors of the live texts only: as many as a first
/// build of the folder as it is now makes (it used to keep every version ever embedded).
#[test]
fn the_embedding_cache_is_compacted_after_edits() {
    if isnad::embed::Embedder::load().is_none() {
        eprintln!("no embedding model: skipped");
        return;
    }
    let (_root, config) = common::temp_knowledge(&[("good.md", GOOD), ("lighthouse.md", LIGHTHOUSE.as_bytes())]);
    let cache =
        |c: &isnad::Config| isnad::index::dense::EmbeddingCache::open(&c.index_dir().join(isnad::index::dense::EMBEDDING_CACHE)).len();
    let engine = Engine::open(config.clone()).expect("engine");
    let first = cache(&config);
    assert!(first > 0);
    for colour in ["أزرق", "أخضر", "أسود"] {
        std::fs::write(config.knowledge_dir.join("lighthouse.md"), LIGHTHOUSE.replace("أحمر وأبيض", colour)).expect("write");
        assert!(engine.refresh(false, &|_, _| {}).expect("refresh").rebuilt);
    }
    let fresh = {
        let mut c = config.clone();
        c.data_dir = config.data_dir.with_file_name("fresh-data");
        Engine::open(c.clone()).expect("fresh engine");
        cache(&c)
    };
    assert_eq!(cache(&config), fresh, "only live texts are kept");
    assert_eq!(fresh, first, "the edits changed one sentence's words, not the number of texts");
}

#[test]
fn the_same_text_in_two_files_scores_the_same_and_ranks_by_file() {
    // enough files that the build spreads them over segments and posting blocks; two of them
    // hold the same paragraph under different names
    let words = ["harbour", "lantern", "copper", "orchard", "meadow", "glacier", "canyon", "falcon", "willow", "marble", "ember", "tide"];
    let mut owned: Vec<(String, Vec<u8>)> = (0..600)
        .map(|i| {
            let text: Vec<&str> = (0..12).map(|j| words[(i * 7 + j * 5 + i / 3) % words.len()]).collect();
            (format!("filler/{i:03}.md"), format!("{}.\n", text.join(" ")).into_bytes())
        })
        .collect();
    let twin = b"The copper lantern of the harbour glows above the marble orchard every night.\n".to_vec();
    owned.push(("twin-b.md".into(), twin.clone()));
    owned.push(("twin-a.md".into(), twin));
    let files: Vec<(&str, &[u8])> = owned.iter().map(|(n, t)| (n.as_str(), t.as_slice())).collect();
    let (root, config) = common::temp_knowledge(&files);
    let engine = Engine::open(config).expect("engine");
    let (_, hits) = engine.ask_traced("Which copper lantern glows above the marble orchard?").expect("asked");
    let twins: Vec<(&str, f32)> = hits.iter().filter(|h| h.doc.contains("twin")).map(|h| (h.doc.as_str(), h.score)).collect();
    assert_eq!(twins.len(), 2, "{twins:?}");
    assert_eq!(twins[0].1.to_bits(), twins[1].1.to_bits(), "equal texts, equal scores: {twins:?}");
    assert_eq!(twins[0].0, "knowledge/twin-a.md", "a tie is broken by the file's id: {twins:?}");
    drop(root);
}
