//! Several `isnad` processes on one data dir, and disks that fail: the real binary, spawned.
//! Dense retrieval is off (`ISNAD_DENSE=0`) so every build takes a moment; nothing here asserts
//! a duration.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use isnad::index::{self, BuildLock};
use isnad::text::Analyzer;

const FLEET: &str = "---\ntitle: الأسطول\nlanguage: ar\n---\nيضم الأسطول اثنتي عشرة سفينة. تبحر السفن من الميناء الشمالي.\n";
const LIGHTHOUSE: &str = "---\ntitle: المنارة\n---\nتقع المنارة على الصخرة الغربية. لون المنارة أحمر وأبيض.\n";
const FLEET_Q: &str = "كم سفينة في الأسطول؟";
const LIGHTHOUSE_Q: &str = "ما لون المنارة؟";

struct Dirs {
    _root: tempfile::TempDir,
    knowledge: PathBuf,
    data: PathBuf,
}

impl Dirs {
    fn new(files: &[(&str, &str)]) -> Dirs {
        let root = tempfile::tempdir().expect("tmp");
        let knowledge = root.path().join("knowledge");
        std::fs::create_dir_all(&knowledge).expect("mkdir");
        for (name, text) in files {
            std::fs::write(knowledge.join(name), text).expect("write");
        }
        let data = root.path().join("data");
        Dirs { knowledge, data, _root: root }
    }

    fn index(&self) -> PathBuf {
        self.data.join("index")
    }

    fn isnad(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_isnad"));
        c.args(args)
            .current_dir(self._root.path())
            .env("ISNAD_KNOWLEDGE_DIR", &self.knowledge)
            .env("ISNAD_DATA_DIR", &self.data)
            .env("ISNAD_DENSE", "0")
            .env("ISNAD_LOG", "warn")
            .env_remove("ISNAD_INJECT_WRITE_FAULT")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.isnad(args).output().expect("binary runs")
    }

    /// Generation folders on disk, sorted.
    fn generations(&self) -> Vec<String> {
        let mut g: Vec<String> = std::fs::read_dir(self.index())
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with("gen-")).collect())
            .unwrap_or_default();
        g.sort();
        g
    }

    fn current(&self) -> String {
        std::fs::read_to_string(self.index().join("CURRENT")).expect("CURRENT").trim().to_owned()
    }

    /// `CURRENT` names a generation that opens and holds every passage its manifest lists.
    fn assert_current_is_valid(&self) {
        let h = index::open_current(&self.index(), &Analyzer::default()).expect("opens").expect("CURRENT exists");
        assert!(h.manifest().passages > 0);
        assert_eq!(h.dir().file_name().map(|n| n.to_string_lossy().into_owned()), Some(self.current()));
    }
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(o.status.success(), "exit {:?}\nstdout: {}\nstderr: {}", o.status, text(&o.stdout), text(&o.stderr));
}

/// Four `ask` and two `index` started together on an empty data dir: every one succeeds and
/// answers, and `CURRENT` names a valid generation; the next open leaves only that one.
#[test]
fn processes_started_together_on_an_empty_data_dir_all_succeed() {
    let d = Dirs::new(&[("fleet.md", FLEET), ("lighthouse.md", LIGHTHOUSE)]);
    let mut children = Vec::new();
    for i in 0..6 {
        let args: &[&str] = if i % 3 == 2 { &["index"] } else { &["ask", "--json", FLEET_Q] };
        children.push((args.to_vec(), d.isnad(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn")));
    }
    for (args, child) in children {
        let out = child.wait_with_output().expect("wait");
        assert_ok(&out);
        if args[0] == "ask" {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON answer");
            assert_eq!(v["answered"], true, "{v}");
        }
    }
    d.assert_current_is_valid();
    assert_ok(&d.run(&["sources"]));
    assert_eq!(d.generations(), vec![d.current()], "only the current generation is left");
}

/// While another process holds the build lock, a reader with a (stale) generation answers from
/// it at once, with a warning, and leaves it current.
#[test]
fn a_reader_is_not_stopped_by_a_busy_builder() {
    let d = Dirs::new(&[("fleet.md", FLEET)]);
    assert_ok(&d.run(&["index"]));
    let before = d.current();
    std::fs::write(d.knowledge.join("lighthouse.md"), LIGHTHOUSE).expect("write");
    let lock = BuildLock::acquire(&d.index()).expect("lock");
    let out = d.run(&["ask", "--json", FLEET_Q]);
    assert_ok(&out);
    assert!(text(&out.stderr).contains("another process is rebuilding"), "{}", text(&out.stderr));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")["answered"], true);
    assert_eq!(d.current(), before);
    drop(lock);
    // once the lock is free, the next reader rebuilds and sees the new file
    let out = d.run(&["ask", "--json", LIGHTHOUSE_Q]);
    assert_ok(&out);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")["answered"], true);
    assert_ne!(d.current(), before);
}

/// With nothing to serve, a process waits for the builder, saying so, then succeeds.
#[test]
fn a_first_build_waits_for_another_build_and_says_so() {
    let d = Dirs::new(&[("fleet.md", FLEET)]);
    let lock = BuildLock::acquire(&d.index()).expect("lock");
    let mut child = d.isnad(&["ask", "--json", FLEET_Q]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).expect("read") > 0, "exited without waiting: {seen}");
        seen.push_str(&line);
        if line.contains("waiting for another build") {
            break;
        }
    }
    drop(lock);
    let out = child.wait_with_output().expect("wait");
    assert_ok(&out);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")["answered"], true);
    d.assert_current_is_valid();
}

/// A build that fails on a full or read-only disk removes what it wrote, names the folder and
/// the cause once, and the question is answered from the last good generation; retries leave
/// nothing behind; once the disk is fine the new file is indexed.
#[test]
fn a_failed_build_cleans_up_and_the_last_good_generation_answers() {
    let d = Dirs::new(&[("fleet.md", FLEET)]);
    assert_ok(&d.run(&["index"]));
    let good = d.generations();
    std::fs::write(d.knowledge.join("lighthouse.md"), LIGHTHOUSE).expect("write");
    for (fault, cause) in [("full", "No space left on device"), ("read-only", "Read-only file system"), ("full", "No space left on device")]
    {
        let out = d.isnad(&["ask", "--json", FLEET_Q]).env("ISNAD_INJECT_WRITE_FAULT", fault).output().expect("runs");
        assert_ok(&out);
        let err = text(&out.stderr);
        assert_eq!(err.matches(cause).count(), 1, "the cause, once: {err}");
        assert_eq!(err.matches("could not build the index in").count(), 1, "{err}");
        assert!(err.contains(&d.index().display().to_string()) && err.contains("last good"), "{err}");
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")["answered"], true);
        assert_eq!(d.generations(), good, "no half-built generation is left");
    }
    // `isnad index` on the failing disk fails plainly
    let out = d.isnad(&["index"]).env("ISNAD_INJECT_WRITE_FAULT", "full").output().expect("runs");
    assert!(!out.status.success());
    assert_eq!(d.generations(), good);
    // the disk recovers: the new file is indexed
    let out = d.run(&["ask", "--json", LIGHTHOUSE_Q]);
    assert_ok(&out);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")["answered"], true);
    assert_eq!(d.generations().len(), 1);
}

/// Generations left by killed builds are collected by the next process that opens the data dir
/// (a generation another process still serves is kept until it lets go), and `isnad index` on a
/// stale index builds once.
#[test]
fn stale_generations_are_collected_and_index_builds_once() {
    let d = Dirs::new(&[("fleet.md", FLEET)]);
    assert_ok(&d.run(&["index"]));
    let first = d.current();
    // what `kill -9` mid-build leaves: half-written generations, a half-written pointer
    for (i, name) in ["gen-0123456789abcdef-1-4242", "gen-0123456789abcdef-2-4243"].iter().enumerate() {
        let g = d.index().join(name);
        std::fs::create_dir_all(&g).expect("mkdir");
        std::fs::write(g.join("meta.json"), "{").expect("write");
        if i == 1 {
            std::fs::write(g.join(index::HOLD_LOCK), "").expect("write"); // created, never locked
        }
    }
    std::fs::write(d.index().join("CURRENT.tmp-4242"), "gen-").expect("write");
    // a process serving the first generation
    let held = index::open_current(&d.index(), &Analyzer::default()).expect("opens").expect("current");

    std::fs::write(d.knowledge.join("lighthouse.md"), LIGHTHOUSE).expect("write");
    let out = d.isnad(&["index"]).env("ISNAD_LOG", "info").output().expect("runs");
    assert_ok(&out);
    assert_eq!(text(&out.stderr).matches("index built").count(), 1, "{}", text(&out.stderr));
    let second = d.current();
    assert_ne!(second, first);
    let mut expected = vec![first.clone(), second.clone()];
    expected.sort();
    assert_eq!(d.generations(), expected, "the held generation is kept, the killed builds' are gone");
    assert!(!d.index().join("CURRENT.tmp-4242").exists());

    drop(held);
    let out = d.isnad(&["sources"]).env("ISNAD_LOG", "info").output().expect("runs");
    assert_ok(&out);
    assert!(!text(&out.stderr).contains("index built"), "a reader does not build: {}", text(&out.stderr));
    assert_eq!(d.generations(), vec![second], "a reader collects what nobody holds");
}

/// File names print escaped in `isnad sources`: a newline or a bidi override in a name cannot
/// break or reorder the listing; a symbolic link to a folder and a Windows-1256 file are listed
/// as rejected, the latter with how to convert it.
#[cfg(unix)]
#[test]
fn sources_output_is_one_line_per_file_with_names_escaped() {
    let d = Dirs::new(&[("fleet.md", FLEET), ("bad\nname.txt", "السفن في الميناء."), ("\u{202E}dm.evil.txt", "المنارة بيضاء.")]);
    std::fs::write(d.knowledge.join("legacy.txt"), [0xE4u8, 0xD5, 0x20, 0xDA, 0xD1, 0xC8, 0xED, 0x2E]).expect("write");
    let outside = d.knowledge.parent().expect("root").join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::write(outside.join("secret.md"), "نص خارجي.").expect("write");
    std::os::unix::fs::symlink(&outside, d.knowledge.join("linked")).expect("symlink");

    let out = d.run(&["sources"]);
    assert_ok(&out);
    let listing = text(&out.stdout);
    assert!(!listing.contains('\u{202E}'), "{listing}");
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 5, "one line per document or rejection: {listing}");
    assert!(lines.iter().any(|l| l.contains("bad\\nname.txt")), "{listing}");
    assert!(lines.iter().any(|l| l.contains("\\u{202e}dm.evil.txt")), "{listing}");
    assert!(lines.iter().any(|l| l.starts_with("rejected") && l.contains("linked") && l.contains("symbolic link")), "{listing}");
    assert!(
        lines.iter().any(|l| l.starts_with("rejected") && l.contains("legacy.txt") && l.contains("iconv -f WINDOWS-1256 -t UTF-8")),
        "{listing}"
    );
    assert!(!listing.contains("secret"), "{listing}");
}
