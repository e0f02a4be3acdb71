//! Short answers pulled out of a quote: for "how many" questions the number with the words of
//! the question next to it (`41 دولةً`), for "who" questions the name after a title or rank
//! (title lists are language data in `text/lang/titles.txt`). Nothing is invented: the display
//! text is always a slice of the quote.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::ShortValue;
use crate::text::lang::{self, List};
use crate::text::numbers::read_number;
use crate::text::{Analyzer, QuestionKind, Word};

/// Words looked at on each side of a number for the question's words.
const NUMBER_WINDOW_BEFORE: usize = 3;
const NUMBER_WINDOW_AFTER: usize = 2;
/// Longest name taken after a title.
const MAX_NAME_WORDS: usize = 4;

/// A sentence read against a question: its words and which of them are the question's.
pub(super) struct Reading<'q> {
    quote: &'q str,
    words: Vec<Word>,
    /// Word i is one of the question's search terms (stemmed), not a stop word.
    matches: Vec<bool>,
    /// Stem of each matched word (for counting distinct question words).
    stems: Vec<String>,
    /// How many things the question asks about.
    concepts: usize,
}

impl<'q> Reading<'q> {
    pub(super) fn new(analyzer: &Analyzer, quote: &'q str, query_terms: &HashSet<&str>, concepts: usize) -> Reading<'q> {
        let words = analyzer.words(quote);
        let stems: Vec<String> = words.iter().map(|w| analyzer.stem(&w.norm)).collect();
        let matches = words.iter().zip(&stems).map(|(w, s)| !w.stop && query_terms.contains(s.as_str())).collect();
        Reading { quote, words, matches, stems, concepts }
    }

    /// The short answer for the question's kind, if the sentence holds one.
    pub(super) fn value(&self, kind: QuestionKind) -> Option<ShortValue> {
        match kind {
            QuestionKind::Count => count(self.quote, &self.words, &self.matches, &self.stems),
            QuestionKind::Percent => percent(self.quote, &self.words, &self.matches),
            QuestionKind::Title => title(self.quote, &self.words, &self.matches),
            // a name is the answer only when the question's words stand before its title: "who
            // is the secretary general?" is not answered by the name of the commander whose
            // sentence also mentions the secretary general
            QuestionKind::Person => person(self.quote, &self.words, &self.matches, &self.stems, self.concepts).filter(|v| v.anchored),
            QuestionKind::Time => time(self.quote, &self.words, &self.matches),
            QuestionKind::Place => place(self.quote, &self.words, &self.matches),
            QuestionKind::Other => None,
        }
    }

    /// Whether the sentence holds the kind of thing asked for, outside the question's own
    /// words: a number (how many), a year or a time word (when), a preposition of place before
    /// a word the question lacks (where), a name after a title or a run of capitalised words
    /// (who). 0 or 1; 0 for other questions.
    pub(super) fn answer_type(&self, kind: QuestionKind) -> f32 {
        let w = &self.words;
        let free = |i: usize| i < w.len() && !self.matches[i] && !w[i].stop;
        let found = match kind {
            QuestionKind::Count => !numbers(w).is_empty(),
            QuestionKind::Percent => percent(self.quote, w, &self.matches).is_some(),
            QuestionKind::Title => title(self.quote, w, &self.matches).is_some(),
            QuestionKind::Time => {
                numbers(w).iter().any(|&(v, at, _)| (100..=2100).contains(&v) && w[at].norm.chars().all(|c| c.is_ascii_digit()))
                    || w.iter().enumerate().any(|(i, x)| !self.matches[i] && lang::contains(List::Time, &x.norm))
            }
            QuestionKind::Place => w
                .iter()
                .enumerate()
                .any(|(i, x)| lang::contains(List::Place, &x.norm) && (free(i + 1) || (i + 2 < w.len() && w[i + 1].stop && free(i + 2)))),
            QuestionKind::Person => {
                person(self.quote, w, &self.matches, &self.stems, self.concepts).is_some()
                    || w.windows(2).enumerate().any(|(i, p)| {
                        i > 0
                            && free(i)
                            && free(i + 1)
                            && self.quote[p[0].from..].starts_with(char::is_uppercase)
                            && self.quote[p[1].from..].starts_with(char::is_uppercase)
                    })
            }
            QuestionKind::Other => false,
        };
        f32::from(u8::from(found))
    }

    /// How close together the question's words stand: the most distinct question words inside
    /// any window of [`PROXIMITY_WINDOW`] words, over the question's concept count (0..1).
    pub(super) fn proximity(&self, concepts: usize) -> f32 {
        if concepts == 0 {
            return 0.0;
        }
        let mut best = 0;
        for start in 0..self.words.len() {
            let end = (start + PROXIMITY_WINDOW).min(self.words.len());
            let mut seen: Vec<&str> = Vec::new();
            for j in start..end {
                if self.matches[j] && !seen.contains(&self.stems[j].as_str()) {
                    seen.push(&self.stems[j]);
                }
            }
            best = best.max(seen.len());
        }
        (best as f32 / concepts as f32).min(1.0)
    }

    /// Number of words.
    pub(super) fn len(&self) -> usize {
        self.words.len()
    }
}

/// Words looked at before a title for the question's words, at most: the window also stops at
/// the start of the title's clause (a comma, colon or stop between two words) and at the end of
/// another name, so a role named earlier in the sentence is not this person's role.
const PERSON_CUE_WINDOW: usize = 12;
/// Width of the window in which [`Reading::proximity`] counts question words.
const PROXIMITY_WINDOW: usize = 10;

/// Numbers in the quote: (value, first word, word count).
fn numbers(words: &[Word]) -> Vec<(u64, usize, usize)> {
    let norms: Vec<&str> = words.iter().map(|w| w.norm.as_str()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let digits: String = words[i].norm.chars().filter(char::is_ascii_digit).collect();
        if words[i].norm.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.') && !digits.is_empty() {
            if let Ok(v) = digits.parse() {
                out.push((v, i, 1));
            }
            i += 1;
        } else if let Some((v, used)) = read_number(&norms[i..]) {
            out.push((u64::from(v), i, used));
            i += used;
        } else {
            i += 1;
        }
    }
    out
}

fn count(quote: &str, words: &[Word], matches: &[bool], stems: &[String]) -> Option<ShortValue> {
    let found = numbers(words);
    let mut best: Option<(usize, usize, usize, u64)> = None; // (matched words, from word, to word, value)
    for &(value, at, used) in &found {
        let lo = at.saturating_sub(NUMBER_WINDOW_BEFORE);
        let hi = (at + used + NUMBER_WINDOW_AFTER).min(words.len());
        let near: Vec<usize> = (lo..hi).filter(|&j| (j < at || j >= at + used) && matches[j]).collect();
        if near.is_empty() {
            continue;
        }
        let from = near[0].min(at);
        let to = near[near.len() - 1].max(at + used - 1);
        if best.is_none_or(|b| near.len() > b.0) {
            best = Some((near.len(), from, to, value));
        }
    }
    if best.is_none() && found.len() == 1 {
        // a lone number in the answering sentence: the number and the word that follows it,
        // unless punctuation stands between them (`… واحدة، لمناقشة` is not "one discussion")
        let (value, at, used) = found[0];
        let last = at + used - 1;
        let next_joined = words.get(last + 1).is_some_and(|n| quote[words[last].to..n.from].chars().all(char::is_whitespace));
        best = Some((0, at, if next_joined { last + 1 } else { last }, value));
    }
    let (near, from, to, value) = best?;
    let (at, used) = found.iter().find(|f| f.0 == value && f.1 >= from && f.1 <= to).map_or((from, 1), |f| (f.1, f.2));
    // the number in digits, then its noun as written: the question's word after the number,
    // else the word right after it (what it counts), else — for a number written after its noun
    // (`وأعضاء التحالف ال 39` reads "39 أعضاء") — the first question word before it
    let after = at + used;
    let joined_after = words.get(after).is_some_and(|n| !n.stop && quote[words[after - 1].to..n.from].chars().all(char::is_whitespace));
    // a number written after its noun carries a detached article (`… ال 39`)
    let trails_its_noun = at > 0 && words[at - 1].norm == "ال";
    // the noun phrase a trailing number counts opens with its head (`أعضاء التحالف ال 39`: the
    // members, not the alliance): the first word of the run of words joined before `ال`
    let head_before = trails_its_noun.then(|| {
        let mut j = at - 1;
        while j > 0 && at - 1 - j < 3 && !words[j - 1].stop && quote[words[j - 1].to..words[j].from].chars().all(char::is_whitespace) {
            j -= 1;
        }
        j
    });
    let noun = (after..=to)
        .find(|&j| matches[j])
        .or_else(|| (joined_after && !trails_its_noun).then_some(after))
        .or(head_before.filter(|&j| j < at - 1))
        .or_else(|| (from..at).find(|&j| matches[j]));
    let display = match noun {
        Some(j) => format!("{value} {}", without_conjunction(&quote[words[j].from..words[j].to])),
        None => value.to_string(),
    };
    let counts = noun.and_then(|j| stems.get(j)).filter(|s| !s.is_empty()).cloned();
    Some(ShortValue { key: value.to_string(), display, anchored: near > 0, counts })
}

/// For "what percentage": a number marked as a percent (`91%`, `12.5 ٪`, `30 percent`,
/// `30 في المئة`), as written with its mark; of several, the one with the most question words
/// in the words before it.
fn percent(quote: &str, words: &[Word], matches: &[bool]) -> Option<ShortValue> {
    let mut best: Option<(usize, usize, usize, usize)> = None; // (question words before, first word, last word, end byte)
    for (_, at, used) in numbers(words) {
        let last = at + used - 1;
        let Some(end) = percent_mark(quote, words, last) else { continue };
        let near = (at.saturating_sub(2 * NUMBER_WINDOW_BEFORE)..at).filter(|&j| matches[j]).count();
        if best.is_none_or(|b| near > b.0) {
            best = Some((near, at, last, end));
        }
    }
    let (near, at, last, end) = best?;
    let key = value_key(&words[at..=last]) + "%";
    Some(ShortValue { key, display: quote[words[at].from..end].to_owned(), anchored: near > 0, counts: None })
}

/// Where the percent mark after word `last` (a number's last word) ends, if one follows: the
/// sign `%` or `٪` (a space before it allowed), or an entry of `text/lang/percent.txt`.
fn percent_mark(quote: &str, words: &[Word], last: usize) -> Option<usize> {
    let after = words[last].to;
    let rest = &quote[after..];
    let trimmed = rest.trim_start();
    if let Some(sign) = trimmed.chars().next().filter(|c| matches!(c, '%' | '٪')) {
        return Some(after + (rest.len() - trimmed.len()) + sign.len_utf8());
    }
    lang::entries(List::Percent)
        .iter()
        .find(|entry| {
            entry.iter().enumerate().all(|(k, e)| words.get(last + 1 + k).is_some_and(|w| &w.norm == e))
                && quote[after..words[last + 1].from].chars().all(char::is_whitespace)
        })
        .map(|entry| words[last + entry.len()].to)
}

/// A word as written without the conjunction `و` glued to its front (`وأعضاء` → `أعضاء`), when
/// enough of a word is left.
fn without_conjunction(word: &str) -> &str {
    match word.strip_prefix('و') {
        Some(rest) if rest.chars().count() >= 4 => rest,
        _ => word,
    }
}

/// Years this far apart from the text's other numbers are read as years.
const YEARS: std::ops::RangeInclusive<u64> = 100..=2100;
/// Most words of a place taken after its preposition.
const MAX_PLACE_WORDS: usize = 3;

/// For "when": a date in the quote — a month with the day before it and the year after it
/// when they are there, else a year — that is not one of the question's words.
fn time(quote: &str, words: &[Word], matches: &[bool]) -> Option<ShortValue> {
    let digits = |i: usize| words.get(i).is_some_and(|w| !w.norm.is_empty() && w.norm.chars().all(|c| c.is_ascii_digit()));
    let year_at = |i: usize| digits(i) && words[i].norm.parse::<u64>().is_ok_and(|v| YEARS.contains(&v)) && !matches[i];
    let month = (0..words.len()).find(|&i| !matches[i] && lang::contains(List::Time, &words[i].norm) && is_month(&words[i].norm));
    let (from, to) = if let Some(m) = month {
        let from = if m > 0 && digits(m - 1) { m - 1 } else { m };
        let to = if year_at(m + 1) { m + 1 } else { m };
        (from, to)
    } else {
        let y = (0..words.len()).find(|&i| year_at(i))?;
        (y, y)
    };
    let display = quote[words[from].from..words[to].to].to_owned();
    let anchored = matches.iter().any(|&m| m);
    Some(ShortValue { key: value_key(&words[from..=to]), display, anchored, counts: None })
}

/// Most words of a name taken from quotation marks or after a naming word.
const MAX_TITLE_WORDS: usize = 8;

/// For "what is it called": a phrase in quotation marks that is not only the question's words,
/// else the words after a naming word of `text/lang/naming.txt` (`named`, `بعنوان`) up to
/// punctuation or a stop word.
fn title(quote: &str, words: &[Word], matches: &[bool]) -> Option<ShortValue> {
    let value = |from: usize, to: usize| {
        let key = value_key(&words[from..=to]);
        let anchored = matches[from.saturating_sub(MAX_TITLE_WORDS)..from].iter().any(|&m| m);
        ShortValue { key, display: quote[words[from].from..words[to].to].to_owned(), anchored, counts: None }
    };
    let mut open: Option<(char, usize)> = None;
    for (at, c) in quote.char_indices() {
        match (open, c) {
            (None, '“' | '«' | '"') => open = Some((c, at + c.len_utf8())),
            (Some(('“', start)), '”') | (Some(('«', start)), '»') | (Some(('"', start)), '"') => {
                open = None;
                let inside: Vec<usize> = (0..words.len()).filter(|&i| words[i].from >= start && words[i].to <= at).collect();
                if let (Some(&from), Some(&to)) = (inside.first(), inside.last()) {
                    if inside.len() <= MAX_TITLE_WORDS && inside.iter().any(|&i| !matches[i] && !words[i].stop) {
                        return Some(value(from, to));
                    }
                }
            }
            _ => {}
        }
    }
    for i in 0..words.len() {
        let Some(cue) =
            lang::entries(List::Naming).iter().find(|e| e.iter().enumerate().all(|(k, n)| words.get(i + k).is_some_and(|w| &w.norm == n)))
        else {
            continue;
        };
        let start = i + cue.len();
        let mut end = start;
        while end < words.len() && end - start < MAX_TITLE_WORDS.min(5) {
            let w = &words[end];
            let gap = &quote[words[end - 1].to..w.from];
            if !gap.chars().all(|c| c.is_whitespace() || matches!(c, '“' | '«' | '"')) || w.stop || matches[end] {
                break;
            }
            end += 1;
        }
        if end > start {
            return Some(value(start, end - 1));
        }
    }
    None
}

/// The comparable form of a value's words: their normalized forms, space-separated (values
/// that differ only in spelling or diacritics compare equal across documents).
fn value_key(words: &[Word]) -> String {
    words.iter().map(|w| w.norm.as_str()).collect::<Vec<_>>().join(" ")
}

/// Month names are the entries of the time list that are not units (`century`, `عام`).
fn is_month(norm: &str) -> bool {
    !matches!(norm, "century" | "centuries" | "decade" | "bc" | "ad" | "bce" | "ce")
        && !["القرن", "قرن", "القرون", "عام", "العام", "سنه", "السنه", "عقد", "ميلادي", "ميلاديه", "هجري", "هجريه", "الميلاد"].contains(&norm)
}

/// For "where": the words after a preposition of place that the question does not contain, up
/// to punctuation or a stop word. A preposition inside quotation marks belongs to a quoted
/// title ("a talk called “Life in the Desert”"), not to a place.
fn place(quote: &str, words: &[Word], matches: &[bool]) -> Option<ShortValue> {
    for i in 0..words.len() {
        if !lang::contains(List::Place, &words[i].norm) || inside_quotes(&quote[..words[i].from]) {
            continue;
        }
        let mut end = i + 1;
        while end < words.len() && end - i <= MAX_PLACE_WORDS {
            let w = &words[end];
            let gap = &quote[words[end - 1].to..w.from];
            if !gap.chars().all(char::is_whitespace) || w.stop || matches[end] {
                break;
            }
            end += 1;
        }
        if end > i + 1 {
            let (from, to) = (i + 1, end - 1);
            let key = value_key(&words[from..=to]);
            let anchored = matches[i.saturating_sub(6)..i].iter().any(|&m| m);
            return Some(ShortValue { key, display: quote[words[from].from..words[to].to].to_owned(), anchored, counts: None });
        }
    }
    None
}

/// Whether the text that follows `before` is inside quotation marks: a curly, angle or corner
/// quote opened and not closed yet, or an odd number of straight double quotes.
fn inside_quotes(before: &str) -> bool {
    let mut depth = 0i32;
    let mut straight = false;
    for c in before.chars() {
        match c {
            '“' | '«' | '「' | '『' => depth += 1,
            '”' | '»' | '」' | '』' => depth = (depth - 1).max(0),
            '"' => straight = !straight,
            _ => {}
        }
    }
    depth > 0 || straight
}

fn titles() -> &'static Vec<Vec<String>> {
    static TITLES: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    TITLES.get_or_init(|| {
        let mut t: Vec<Vec<String>> = lang::entries(List::Titles).to_vec();
        // longest first, so "الفريق أول" wins over "الفريق"
        t.sort_by_key(|words| std::cmp::Reverse(words.len()));
        t
    })
}

/// Length in words of the title starting at word `i`, if any.
fn title_at(words: &[Word], i: usize) -> Option<usize> {
    titles().iter().find(|t| t.iter().enumerate().all(|(k, tw)| words.get(i + k).is_some_and(|w| &w.norm == tw))).map(Vec::len)
}

/// The name after a title (a chain of titles allowed). It is *anchored* when at least half of
/// the question's concepts stand in the title's clause before it (see [`PERSON_CUE_WINDOW`]).
fn person(quote: &str, words: &[Word], matches: &[bool], stems: &[String], concepts: usize) -> Option<ShortValue> {
    let mut best: Option<(bool, usize, usize)> = None; // (question words right before, from, to)
                                                       // where the current clause starts: after punctuation between words, or after a name
    let mut clause = 0;
    let mut i = 0;
    while i < words.len() {
        // (a comma right before the title does not end its clause: "the director, Dr X")
        let clause_of_title = clause;
        if i > 0 && quote[words[i - 1].to..words[i].from].chars().any(|c| matches!(c, '،' | ',' | ':' | ';' | '؛' | '.' | '(' | ')')) {
            clause = i;
        }
        let Some(mut len) = title_at(words, i) else {
            i += 1;
            continue;
        };
        // a chain of titles (اللواء الطيار الركن …)
        while let Some(more) = title_at(words, i + len) {
            len += more;
        }
        let name_start = i + len;
        let mut end = name_start;
        while end < words.len() && end - name_start < MAX_NAME_WORDS {
            let w = &words[end];
            let gap = &quote[words[end - 1].to..w.from];
            let latin = w.norm.is_ascii();
            // (after "بن" a word is part of the name even when spelled like a stop word: علي)
            let linked = lang::contains(List::NameLinks, &words[end - 1].norm);
            let ends_name = !gap.chars().all(char::is_whitespace)
                || (w.stop && !linked)
                || matches[end]
                || w.norm.starts_with("وال")
                || (latin && !quote[w.from..].starts_with(char::is_uppercase));
            if ends_name {
                break;
            }
            end += 1;
        }
        if end > name_start {
            let window = i.saturating_sub(PERSON_CUE_WINDOW).max(clause_of_title)..i;
            let mut cues: Vec<&str> = window.filter(|&j| matches[j]).map(|j| stems[j].as_str()).collect();
            cues.sort_unstable();
            cues.dedup();
            let cue = !cues.is_empty() && 2 * cues.len() >= concepts;
            if best.is_none_or(|b| cue && !b.0) {
                best = Some((cue, name_start, end - 1));
            }
        }
        if end > name_start {
            clause = end;
        }
        i = end.max(i + 1);
    }
    let (cue, from, to) = best?;
    let key = value_key(&words[from..=to]);
    Some(ShortValue { key, display: quote[words[from].from..words[to].to].to_owned(), anchored: cue, counts: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short(kind: QuestionKind, question: &str, quote: &str) -> Option<String> {
        let a = Analyzer::default();
        let terms = a.query_terms(question);
        let set: HashSet<&str> = terms.iter().map(String::as_str).collect();
        Reading::new(&a, quote, &set, terms.len()).value(kind).map(|v| v.display)
    }

    #[test]
    fn count_takes_the_number_with_the_questions_noun() {
        let q = "كم سفينة في الأسطول؟";
        assert_eq!(short(QuestionKind::Count, q, "أبحرت 23 سفينةً حربية، معًا").as_deref(), Some("23 سفينةً"));
        // spelled-out numbers are shown in digits with their noun
        assert_eq!(short(QuestionKind::Count, q, "يضم ثلاث وعشرين سفينة حربية").as_deref(), Some("23 سفينة"));
        assert_eq!(short(QuestionKind::Count, "how many ships?", "the fleet had 12 ships and 3 ports").as_deref(), Some("12 ships"));
        // the noun before the number, without its conjunction and stray article
        assert_eq!(short(QuestionKind::Count, "كم عدد مراكب الأسطول؟", "وقال إن ومراكب الأسطول ال 17 ستبحر").as_deref(), Some("17 مراكب"));
        // … the head of that noun, even when the question names only the word after it
        assert_eq!(
            short(QuestionKind::Count, "how many boats in the fleet?", "وقال إن ومراكب الأسطول ال 17 ستبحر").as_deref(),
            Some("17 مراكب")
        );
    }

    #[test]
    fn a_count_knows_what_it_counts() {
        let counts = |q: &str| {
            let a = Analyzer::default();
            Reading::new(&a, q, &HashSet::new(), 2).value(QuestionKind::Count).and_then(|v| v.counts)
        };
        // no question word beside either number (an English question): digits and words, with
        // and without case endings, count the same ships; a table is not a ship
        let digits = counts("يضم الأسطول 23 سفينةً حربية، معًا");
        assert!(digits.is_some());
        assert_eq!(counts("ويضم الأسطول ثلاث وعشرين سفينة حربية"), digits);
        assert_ne!(counts("اجتمع القادة حول 23 طاولة في الميناء"), digits);
        assert_eq!(counts("The crew counted to one, then slept."), None, "a number counting nothing");
    }

    #[test]
    fn count_without_a_number_gives_nothing() {
        assert_eq!(short(QuestionKind::Count, "كم عدد السفن؟", "السفن الحربية تبحر معا"), None);
    }

    #[test]
    fn a_lone_number_does_not_reach_across_punctuation() {
        let q = "how many ports?";
        assert_eq!(short(QuestionKind::Count, q, "The crew counted to one, then slept.").as_deref(), Some("1"));
        assert_eq!(short(QuestionKind::Count, q, "They sailed on one ship for a month.").as_deref(), Some("1 ship"));
        assert_eq!(short(QuestionKind::Count, "كم عدد الموانئ؟", "اجتمعوا على طاولة واحدة، لمناقشة الخطة").as_deref(), Some("1"));
    }

    #[test]
    fn time_takes_a_date_or_a_year() {
        let q = "When did the fleet sail?";
        assert_eq!(short(QuestionKind::Time, q, "The fleet sailed on 4 March 1911 from the bay.").as_deref(), Some("4 March 1911"));
        assert_eq!(short(QuestionKind::Time, q, "The fleet sailed in 1911 with 40 ships.").as_deref(), Some("1911"));
        assert_eq!(short(QuestionKind::Time, "متى أبحر الأسطول؟", "أبحر الأسطول في يناير 1911 نحو الجنوب").as_deref(), Some("يناير 1911"));
        assert_eq!(short(QuestionKind::Time, q, "The fleet sailed with 40 ships."), None);
    }

    #[test]
    fn place_takes_the_words_after_a_preposition() {
        assert_eq!(
            short(QuestionKind::Place, "Where did the fleet anchor?", "The fleet anchored at Port Vela, then left.").as_deref(),
            Some("Port Vela")
        );
        assert_eq!(
            short(QuestionKind::Place, "أين رسا الأسطول؟", "رسا الأسطول في ميناء الواحة الكبير، ثم غادر").as_deref(),
            Some("ميناء الواحة الكبير")
        );
        // a place noun with its preposition attached (`بالعاصمة`, "in the capital") introduces
        // the place, past the question's own words after `في`
        assert_eq!(
            short(QuestionKind::Place, "أين مقر الأسطول؟", "اجتمع القادة في مقر الأسطول بالعاصمة الساحلية نورفا.").as_deref(),
            Some("الساحلية نورفا")
        );
    }

    #[test]
    fn percent_takes_the_number_with_its_mark() {
        let q = "What percentage of the crew were sailors?";
        let quote = "Of the 40 men aboard, sailors made up 62.5% of the crew.";
        assert_eq!(short(QuestionKind::Percent, q, quote).as_deref(), Some("62.5%"));
        assert_eq!(short(QuestionKind::Percent, q, "The crew was 30 percent sailors.").as_deref(), Some("30 percent"));
        let q = "ما نسبة البحارة في الطاقم؟";
        assert_eq!(short(QuestionKind::Percent, q, "شكّل البحارة 62 ٪ من الطاقم البالغ 40 رجلًا").as_deref(), Some("62 ٪"));
        assert_eq!(short(QuestionKind::Percent, q, "بلغت نسبة البحارة 30 في المئة من الطاقم").as_deref(), Some("30 في المئة"));
        // a number without a mark is no percent
        assert_eq!(short(QuestionKind::Percent, q, "كان على السفينة 40 رجلًا"), None);
    }

    #[test]
    fn title_takes_a_quoted_name_or_the_words_after_a_naming_word() {
        let q = "What was the flagship called?";
        assert_eq!(short(QuestionKind::Title, q, "The flagship, “Morning Star”, led the fleet.").as_deref(), Some("Morning Star"));
        assert_eq!(short(QuestionKind::Title, q, "The flagship was named Morning Star by the crew.").as_deref(), Some("Morning Star"));
        let q = "ماذا تسمى السفينة الكبرى؟";
        assert_eq!(short(QuestionKind::Title, q, "قادت السفينة الكبرى «نجمة الصباح» الأسطول").as_deref(), Some("نجمة الصباح"));
        assert_eq!(short(QuestionKind::Title, q, "وكانت السفينة الكبرى تسمى نجمة الصباح، وقادت الأسطول").as_deref(), Some("نجمة الصباح"));
        // quotation marks around the question's own words only are no answer
        assert_eq!(short(QuestionKind::Title, q, "قادت «السفينة الكبرى» الأسطول"), None);
    }

    #[test]
    fn a_preposition_inside_a_quoted_title_is_no_place() {
        let quote = "ألقى الربان محاضرة بعنوان “الإبحار في العصر الحديث” في ميناء الواحة، ثم عاد";
        assert_eq!(short(QuestionKind::Place, "أين ألقى الربان المحاضرة؟", quote).as_deref(), Some("ميناء الواحة"));
        let quote = "The captain gave a talk, \"Sailing in Winter\", at Port Vela.";
        assert_eq!(short(QuestionKind::Place, "Where did the captain give the talk?", quote).as_deref(), Some("Port Vela"));
        // nothing outside the quotes: no short answer rather than the title's words
        let quote = "ألقى الربان محاضرة بعنوان “الإبحار في العصر الحديث”";
        assert_eq!(short(QuestionKind::Place, "أين ألقى الربان المحاضرة؟", quote), None);
    }

    #[test]
    fn answer_type_evidence_per_kind() {
        let a = Analyzer::default();
        let kind_of = |kind, question: &str, quote: &str| {
            let terms = a.query_terms(question);
            let set: HashSet<&str> = terms.iter().map(String::as_str).collect();
            Reading::new(&a, quote, &set, terms.len()).answer_type(kind)
        };
        assert_eq!(kind_of(QuestionKind::Time, "when did it sail?", "It sailed in 1911."), 1.0);
        assert_eq!(kind_of(QuestionKind::Time, "when did it sail?", "It sailed with joy."), 0.0);
        assert_eq!(kind_of(QuestionKind::Place, "where did it sail?", "It sailed to the harbour in Vela."), 1.0);
        assert_eq!(kind_of(QuestionKind::Count, "how many ships?", "The ships were many."), 0.0);
        assert_eq!(kind_of(QuestionKind::Person, "who led the fleet?", "The fleet was led by Jane Doe."), 1.0);
        assert_eq!(kind_of(QuestionKind::Other, "what is it?", "It is 1911."), 0.0);
    }

    #[test]
    fn person_takes_the_name_after_a_rank() {
        let q = "من هو قائد الأسطول؟";
        let quote = "وأشار قائد الأسطول العميد سالم حمدان، بحضور ربان السفينة";
        assert_eq!(short(QuestionKind::Person, q, quote).as_deref(), Some("سالم حمدان"));
        let chain = "قال المدير المكلف اللواء الطيار الركن خالد بن عمر الزيدي: إن";
        assert_eq!(short(QuestionKind::Person, "من هو المدير؟", chain).as_deref(), Some("خالد بن عمر الزيدي"));
        assert_eq!(
            short(QuestionKind::Person, "who leads the fleet?", "The fleet is led by Admiral Jane Doe since May.").as_deref(),
            Some("Jane Doe")
        );
        // the name of someone in another role is not the answer
        let other = "وأشار قائد الأسطول العميد سالم حمدان، بحضور مدير الميناء";
        assert_eq!(short(QuestionKind::Person, "من هو مدير الميناء؟", other), None);
        // the role may stand far before the title, in the same clause …
        let far = "قال مدير الميناء البحري الجنوبي للشحن والتفريغ المكلف اللواء الطيار سالم بن علي الحمداني: إن";
        assert_eq!(short(QuestionKind::Person, "من هو مدير الميناء؟", far).as_deref(), Some("سالم بن علي الحمداني"));
        let comma = "وقال مدير الميناء، الدكتور سالم حمدان، إن";
        assert_eq!(short(QuestionKind::Person, "من هو مدير الميناء؟", comma).as_deref(), Some("سالم حمدان"));
        // … but not in an earlier clause, nor before another person's name
        let earlier = "زار مدير الميناء السفينة، وقال العميد سالم حمدان إن";
        assert_eq!(short(QuestionKind::Person, "من هو مدير الميناء؟", earlier), None);
        let another = "رافق مدير الميناء العقيد فهد صالح والعميد سالم حمدان";
        assert_eq!(short(QuestionKind::Person, "من هو مدير الميناء؟", another).as_deref(), Some("فهد صالح"));
    }
}
