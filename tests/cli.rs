//! The `isnad` binary as a user runs it.

use std::process::Command;

fn isnad(args: &[&str], data: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_isnad"))
        .args(args)
        .env("ISNAD_KNOWLEDGE_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge"))
        .env("ISNAD_DATA_DIR", data)
        .env("ISNAD_LOG", "warn")
        .output()
        .expect("binary runs")
}

#[test]
fn ask_json_prints_one_answer_object() {
    let data = tempfile::tempdir().expect("tmp");
    let out = isnad(&["ask", "--json", "من هو القائد العسكري للتحالف؟"], data.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["answered"], true);
    assert_eq!(v["answer"], "راحيل شريف");
    assert!(v["citations"][0]["quote"].as_str().expect("quote").contains("راحيل شريف"));
}

#[test]
fn ask_text_abstains_plainly() {
    let data = tempfile::tempdir().expect("tmp");
    let out = isnad(&["ask", "What is the capital of France?"], data.path());
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("do not answer"));
}

#[test]
fn empty_question_is_a_clear_error() {
    let data = tempfile::tempdir().expect("tmp");
    let out = isnad(&["ask", "   "], data.path());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("question is empty"));
}

#[test]
fn eval_reports_the_golden_metrics() {
    let data = tempfile::tempdir().expect("tmp");
    let golden = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/knowledge-ar.jsonl");
    let out = isnad(&["eval", golden], data.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("hit@1") && text.contains("abstention accuracy"), "{text}");
}

#[test]
fn sources_lists_documents_with_metadata() {
    let data = tempfile::tempdir().expect("tmp");
    let out = isnad(&["sources", "--json"], data.path());
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let docs = v["documents"].as_array().expect("documents");
    assert_eq!(docs.len(), 3);
    assert!(docs
        .iter()
        .all(|d| d["language"] == "ar" && d["passages"].as_u64() > Some(0) && !d["title"].as_str().unwrap_or("").is_empty()));
}

#[test]
fn serve_without_a_token_says_how_to_get_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new(env!("CARGO_BIN_EXE_isnad"))
        .arg("serve")
        .current_dir(dir.path()) // no .env here
        .env_remove("DISCORD_TOKEN")
        .env("ISNAD_KNOWLEDGE_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge"))
        .env("ISNAD_DATA_DIR", dir.path().join("data"))
        .output()
        .expect("binary runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DISCORD_TOKEN") && err.contains("developers/applications"), "{err}");
}

/// An English question over Arabic documents (an invented folder): the answer carries an English
/// gloss with the name in Latin letters, and `--gloss` gives one to an Arabic question too.
#[test]
fn english_questions_get_a_gloss_with_the_name_in_latin_letters() {
    let data = tempfile::tempdir().expect("tmp");
    let ask = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_isnad"))
            .args(args)
            .env("ISNAD_KNOWLEDGE_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gloss-knowledge"))
            .env("ISNAD_DATA_DIR", data.path())
            .env("ISNAD_LOG", "warn")
            .output()
            .expect("binary runs")
    };
    let out = ask(&["ask", "--json", "who is the commander of the fleet?"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["answered"], true, "{v}");
    assert_eq!(v["answer"], "سالم حمدان", "{v}");
    let name = &v["gloss"]["names"][0];
    assert_eq!(name["ar"], "سالم حمدان", "{v}");
    let latin = name["latin"].as_str().expect("latin");
    assert!(latin.split(' ').count() == 2 && latin.chars().all(|c| c.is_ascii_alphabetic() || c == ' '), "{latin}");
    assert_eq!(v["gloss"]["answer"], latin);

    // an Arabic question: no gloss unless asked, Arabic labels on the text output
    let out = ask(&["ask", "--json", "من هو قائد الأسطول؟"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert!(v.get("gloss").is_none(), "{v}");
    let out = ask(&["ask", "--gloss", "من هو قائد الأسطول؟"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("الجواب: سالم حمدان\n") && text.contains(latin), "{text}");
    let out = ask(&["ask", "--lang", "en", "من هو قائد الأسطول؟"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Answer: سالم حمدان\n"));
}
