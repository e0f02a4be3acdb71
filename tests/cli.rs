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

/// The Discord boundary is held by the compiler: without the default `discord` feature the
/// engine and the CLI depend on none of the adapter's crates (ARCHITECTURE.md, invariants).
/// Read from `cargo tree` (offline: the lock file and the crates `cargo test` just built).
#[test]
fn without_the_discord_feature_no_discord_crate_is_a_dependency() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let tree = |features: &[&str]| {
        let out = Command::new(&cargo)
            .args(["tree", "--offline", "--locked", "-e", "normal", "--prefix", "none", "--manifest-path"])
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
            .args(features)
            .output()
            .expect("cargo runs");
        assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let crates = |tree: &str| tree.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_owned).collect::<Vec<_>>();
    let adapter = ["serenity", "poise", "reqwest", "notify", "notify-debouncer-mini", "tokio", "axum", "hyper", "prometheus-client"];
    let with = crates(&tree(&[]));
    assert!(with.iter().any(|c| c == "serenity"), "the default build has the bot");
    let without = crates(&tree(&["--no-default-features"]));
    assert!(without.iter().any(|c| c == "tantivy"), "the tree was read: {without:?}");
    let leaked: Vec<&String> = without.iter().filter(|c| adapter.contains(&c.as_str())).collect();
    assert!(leaked.is_empty(), "crates of the Discord adapter in the engine's build: {leaked:?}");
}

/// `isnad ask` prints the answer; building the index on the way is not news unless asked for
/// (`-v`), and `ISNAD_LOG_FORMAT=json` makes every log line a JSON object.
#[test]
fn ask_logs_warnings_only_unless_verbose_and_json_on_request() {
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let data = tempfile::tempdir().expect("tmp");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_isnad"));
        cmd.args(args)
            .env("ISNAD_KNOWLEDGE_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge"))
            .env("ISNAD_DATA_DIR", data.path())
            .env("ISNAD_DENSE", "0")
            .env_remove("ISNAD_LOG")
            .env_remove("ISNAD_LOG_FORMAT");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("binary runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let question = "What is the capital of France?";
    let (stdout, stderr) = run(&["ask", question], &[]);
    assert!(stdout.contains("do not answer"), "{stdout}");
    assert!(!stderr.contains("INFO"), "an index was built, quietly: {stderr}");
    let (_, stderr) = run(&["ask", "-v", question], &[]);
    assert!(stderr.contains("INFO") && stderr.contains("index built"), "-v shows progress: {stderr}");
    let (_, stderr) = run(&["-v", "ask", question], &[("ISNAD_LOG_FORMAT", "json")]);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!lines.is_empty(), "-v logs something");
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["level"].is_string() && v["fields"]["message"].is_string(), "{v}");
    }
}

/// A bad log setting is refused with the variable's name before anything runs.
#[test]
fn bad_log_settings_are_refused_by_name() {
    for (name, value) in [("ISNAD_LOG_FORMAT", "xml"), ("ISNAD_LOG", "isnad=loud")] {
        let out = Command::new(env!("CARGO_BIN_EXE_isnad")).args(["sources"]).env(name, value).output().expect("binary runs");
        assert!(!out.status.success(), "{name}={value} accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(name), "{stderr}");
    }
}

/// `contrib/isnad.service` is a hardened unit systemd accepts (checked with `systemd-analyze
/// verify` where it is installed, with this build's binary as `ExecStart`).
#[test]
fn systemd_unit_is_hardened_and_verifies() {
    let unit = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/contrib/isnad.service")).expect("unit file");
    for line in
        ["DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=isnad", "EnvironmentFile=/etc/isnad/isnad.env", "NoNewPrivileges=yes"]
    {
        assert!(unit.lines().any(|l| l.trim() == line), "missing {line}");
    }
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).expect("ExecStart");
    assert!(exec.ends_with(" serve"), "{exec}");
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("isnad.service");
    std::fs::write(&path, unit.replace(exec, &format!("ExecStart={} serve", env!("CARGO_BIN_EXE_isnad")))).expect("write");
    let out = match Command::new("systemd-analyze").arg("verify").arg(&path).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("note: systemd-analyze is not installed; contrib/isnad.service was not verified");
            return;
        }
        Err(e) => panic!("systemd-analyze: {e}"),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    // warnings about the unit name the file (unknown keys and bad values are only warnings)
    let about_unit: Vec<&str> = stderr.lines().filter(|l| l.contains("isnad.service")).collect();
    assert!(out.status.success() && about_unit.is_empty(), "systemd-analyze verify:\n{stderr}");
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

/// Runs `isnad ask` over the invented orchard folder (three Arabic documents, two of which give
/// one count and the third another).
fn ask_orchard(args: &[&str], data: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_isnad"))
        .arg("ask")
        .args(args)
        .env("ISNAD_KNOWLEDGE_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/orchard-knowledge"))
        .env("ISNAD_DATA_DIR", data)
        .env("ISNAD_LOG", "warn")
        .output()
        .expect("binary runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Every text of a card as Discord would show it: title, description, fields, footer and the
/// labels of its buttons.
fn card_texts(card: &isnad::discord::render::Card) -> Vec<String> {
    use isnad::discord::render::{shown_buttons, Button};
    let mut texts = vec![card.title.clone(), card.description.clone(), card.footer.clone()];
    for (name, value) in &card.fields {
        texts.extend([name.clone(), value.clone()]);
    }
    for b in shown_buttons(card) {
        match b {
            Button::Action { label: Some(label), .. } | Button::Link { label, .. } => texts.push(label),
            Button::Action { label: None, .. } => {}
        }
    }
    texts
}

/// An Arabic question's `ask --discord` card contains no English label: no text of the English
/// catalogue, and — the documents and the question being Arabic — no Latin letter at all, in
/// any of its texts or button labels; the counts of the documents that differ are Arabic too.
/// `--lang` forces every label, the counts and the not-found text, in the card, the text output
/// and the JSON.
#[test]
fn an_arabic_question_gets_no_english_label_and_lang_forces_every_label() {
    use isnad::labels::{self, Lang};
    let data = tempfile::tempdir().expect("tmp");
    let question = "كم شجرة زيتون في البستان الشمالي؟";
    let english = labels::literal_texts(Lang::En);
    let arabic = labels::literal_texts(Lang::Ar);
    let card =
        |args: &[&str]| -> isnad::discord::render::Card { serde_json::from_str(&ask_orchard(args, data.path())).expect("a card as JSON") };

    let answered = card(&["--discord", question]);
    let abstained = card(&["--discord", "ما لون سقف المكتبة القديمة؟"]);
    for c in [&answered, &abstained] {
        assert_eq!(c.lang, Lang::Ar);
        for text in card_texts(c) {
            // command names (in code spans) stay English: Discord has no Arabic commands
            let outside_code: String = text.split('`').step_by(2).collect();
            assert!(!outside_code.chars().any(|ch| ch.is_ascii_alphabetic()), "Latin letters on an Arabic card: {text:?}");
            for e in &english {
                assert!(!text.contains(e.as_str()), "the English label {e:?} in {text:?}");
            }
        }
    }
    assert!(answered.buttons.more && answered.buttons.pin, "{answered:?}");
    assert_eq!(answered.title, "\u{200F}40 شجرة (وثيقتان) · 35 شجرة (وثيقة واحدة)");
    assert_eq!(abstained.title, format!("\u{200F}{}", labels::not_found_title(Lang::Ar)));

    // forced to English: the same answer, English labels and counts
    let forced = card(&["--discord", "--lang", "en", question]);
    assert_eq!(forced.lang, Lang::En);
    assert_eq!(forced.title, "40 شجرة (2 documents) · 35 شجرة (1 document)");
    assert!(card_texts(&forced).iter().all(|t| !arabic.iter().any(|a| t.contains(a.as_str()))), "{forced:?}");
    assert_eq!(card(&["--discord", "--lang", "en", "ما لون سقف المكتبة القديمة؟"]).title, labels::not_found_title(Lang::En));

    // the text output: the question's language, or --lang's, for every label
    let text = ask_orchard(&[question], data.path());
    assert!(text.starts_with("الجواب: 40 شجرة (وثيقتان) · 35 شجرة (وثيقة واحدة)\n"), "{text}");
    for label in
        [labels::sources_differ_note(Lang::Ar), format!("— {} 0 ({} ", labels::passage_label(Lang::Ar), labels::score_label(Lang::Ar))]
    {
        assert!(text.contains(&label), "{label} missing: {text}");
    }
    assert!(!english.iter().any(|e| text.contains(e.as_str())), "{text}");
    let text = ask_orchard(&["--lang", "en", question], data.path());
    assert!(text.starts_with("Answer: 40 شجرة (2 documents) · 35 شجرة (1 document)\nSources differ"), "{text}");
    assert!(text.contains("— passage 0 (score ") && !arabic.iter().any(|a| text.contains(a.as_str())), "{text}");
    let text = ask_orchard(&["--lang", "ar", "what colour is the roof of the old library?"], data.path());
    assert_eq!(text, format!("{}\n", labels::no_answer_note(Lang::Ar)));
    let text = ask_orchard(&["--lang", "en", "ما لون سقف المكتبة القديمة؟"], data.path());
    assert_eq!(text, format!("{}\n", labels::no_answer_note(Lang::En)));
    // an English question forced to Arabic: Arabic labels around the English gloss
    let text = ask_orchard(&["--lang", "ar", "how many olive trees are in the north orchard?"], data.path());
    assert!(text.starts_with(&format!("{}: ", labels::answer_label(Lang::Ar))) && text.contains(&labels::gloss_label(Lang::Ar)), "{text}");

    // the JSON's short answer follows --lang too
    let json: serde_json::Value = serde_json::from_str(&ask_orchard(&["--json", "--lang", "en", question], data.path())).unwrap();
    assert_eq!(json["answer"], "40 شجرة (2 documents) · 35 شجرة (1 document)");
    let json: serde_json::Value = serde_json::from_str(&ask_orchard(&["--json", question], data.path())).unwrap();
    assert_eq!(json["answer"], "40 شجرة (وثيقتان) · 35 شجرة (وثيقة واحدة)");
}
