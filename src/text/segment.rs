//! Sentence boundaries in the original text, as byte ranges, so a citation can quote a sentence
//! exactly as written.
//!
//! A sentence ends at `.` `!` `?` `؟` `؛` `…` followed by white space or the end of the text
//! (closing quotes and brackets stay with the sentence they close), and at a line break. Not
//! boundaries: a point between digits (`3.5`), a run of points (`..`, the Arabic press's
//! "continued" mark), and a point after a one-letter word, an initial or abbreviation (`J. Smith`,
//! `c. 300`, `د. أحمد`, `م. ثيو`: Arabic writes Dr and transliterated initials so). Arabic
//! sentences glued together without a space (`…السفن.تبحر…`) are still two. A sentence longer
//! than [`MAX_SENTENCE_BYTES`] is cut at its last comma (`،` or `,`) before the limit, so one
//! run-on paragraph without punctuation cannot become one huge citation.

use std::ops::Range;

/// Sentences longer than this are split at a comma (about 60–80 Arabic words).
pub const MAX_SENTENCE_BYTES: usize = 900;

fn is_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '؟' | '؛' | '…' | '。')
}

fn is_arabic_letter(c: char) -> bool {
    matches!(c, '\u{0621}'..='\u{064A}' | '\u{0671}'..='\u{06D3}')
}

fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | '”' | '’' | '»' | ')' | ']' | '}' | '›')
}

/// Byte ranges of the sentences of `text`, trimmed of surrounding white space, in order, never
/// empty, never overlapping.
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if c == '\n' {
            push_trimmed(text, start..pos, &mut out);
            start = pos + 1;
            i += 1;
            continue;
        }
        if is_terminator(c) {
            // a run of terminators ("..", "?!", "...") is read as one
            let mut j = i;
            while j + 1 < chars.len() && is_terminator(chars[j + 1].1) {
                j += 1;
            }
            let run_is_dots = j > i && chars[i..=j].iter().all(|&(_, c)| c == '.');
            let between_digits =
                c == '.' && j == i && i > 0 && chars[i - 1].1.is_numeric() && chars.get(i + 1).is_some_and(|&(_, n)| n.is_numeric());
            // a single letter before the point is an initial or an abbreviation: Latin (`J.
            // Smith`, `c. 300`) or Arabic (`د. أحمد` for Dr, `م. ثيو` for a transliterated M.)
            let initial = c == '.'
                && j == i
                && i > 0
                && (chars[i - 1].1.is_ascii_alphabetic() || is_arabic_letter(chars[i - 1].1))
                && (i < 2 || !chars[i - 2].1.is_alphanumeric());
            // closing quotes/brackets belong to the sentence
            let mut k = j;
            while k + 1 < chars.len() && is_closer(chars[k + 1].1) {
                k += 1;
            }
            let at_space = chars.get(k + 1).is_none_or(|&(_, n)| n.is_whitespace());
            // Arabic text glued to the next sentence without a space (`السفن.تبحر`)
            let glued = k == j && i > 0 && is_arabic_letter(chars[i - 1].1) && chars.get(k + 1).is_some_and(|&(_, n)| is_arabic_letter(n));
            if (at_space || glued) && !run_is_dots && !between_digits && !initial {
                let end = chars[k].0 + chars[k].1.len_utf8();
                push_trimmed(text, start..end, &mut out);
                start = end;
            }
            i = k + 1;
            continue;
        }
        i += 1;
    }
    push_trimmed(text, start..text.len(), &mut out);
    out.into_iter().flat_map(|r| split_long(text, r)).collect()
}

fn push_trimmed(text: &str, range: Range<usize>, out: &mut Vec<Range<usize>>) {
    let s = &text[range.clone()];
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    if lead + trail < s.len() {
        let r = range.start + lead..range.end - trail;
        // a "sentence" of punctuation only (a lone `***` line) carries nothing to cite
        if text[r.clone()].chars().any(super::chars::is_alphanumeric) {
            out.push(r);
        }
    }
}

fn split_long(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut r = range;
    while r.len() > MAX_SENTENCE_BYTES {
        let window = &text[r.start..r.start + floor_char_boundary(&text[r.clone()], MAX_SENTENCE_BYTES)];
        let cut = window.rfind(['،', ',']).map(|i| i + window[i..].chars().next().map_or(1, char::len_utf8));
        let cut = match cut {
            Some(c) if c > MAX_SENTENCE_BYTES / 4 => c,
            // no comma: cut at the last space before the limit, or give up splitting
            _ => match window.rfind(char::is_whitespace) {
                Some(c) if c > MAX_SENTENCE_BYTES / 4 => c,
                _ => break,
            },
        };
        let mut head = Vec::new();
        push_trimmed(text, r.start..r.start + cut, &mut head);
        out.extend(head);
        r = r.start + cut..r.end;
    }
    push_trimmed(text, r, &mut out);
    out
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        sentences(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn arabic_and_latin_terminators() {
        assert_eq!(split("كم عدد السفن؟ إنها 17. Really! Yes"), vec!["كم عدد السفن؟", "إنها 17.", "Really!", "Yes"]);
        assert_eq!(split("أولا؛ ثانيا"), vec!["أولا؛", "ثانيا"]);
    }

    #[test]
    fn double_dots_and_decimals_do_not_end_sentences() {
        assert_eq!(split("حماية البيئة.. بحرياً وبرياً. التالي"), vec!["حماية البيئة.. بحرياً وبرياً.", "التالي"]);
        assert_eq!(split("It grew 3.5 percent. Then"), vec!["It grew 3.5 percent.", "Then"]);
    }

    #[test]
    fn abbreviations_and_glued_arabic_sentences() {
        assert_eq!(split("بني المعبد (c. 300 ميلادية.) ثم هُدم"), vec!["بني المعبد (c. 300 ميلادية.)", "ثم هُدم"]);
        assert_eq!(split("رست السفن.تبحر غدا نحو الميناء"), vec!["رست السفن.", "تبحر غدا نحو الميناء"]);
        // an Arabic one-letter abbreviation or initial is not a sentence's end
        assert_eq!(split("استقبله د. سامر الحلبي. ثم غادر"), vec!["استقبله د. سامر الحلبي.", "ثم غادر"]);
        assert_eq!(split("سمي الشارع باسم م. جود بارلو الذي بناه."), vec!["سمي الشارع باسم م. جود بارلو الذي بناه."]);
        // … but a word's last letter is: only a word of one letter is an initial
        assert_eq!(split("وصلت السفن. ثم غادر"), vec!["وصلت السفن.", "ثم غادر"]);
        // a Latin abbreviation glued to a word is not split
        assert_eq!(split("see e.g.the list"), vec!["see e.g.the list"]);
    }

    #[test]
    fn closing_quotes_stay_with_their_sentence() {
        assert_eq!(split("قال \"نعم.\" ثم ذهب"), vec!["قال \"نعم.\"", "ثم ذهب"]);
    }

    #[test]
    fn line_breaks_end_sentences_and_blank_lines_vanish() {
        assert_eq!(split("عنوان\n\nنص أول.\n*** \nنص"), vec!["عنوان", "نص أول.", "نص"]);
    }

    #[test]
    fn run_on_text_is_cut_at_a_comma() {
        let long = "كلمة ".repeat(150) + "، " + &"أخرى ".repeat(150);
        let parts = sentences(&long);
        assert!(parts.len() >= 2, "{parts:?}");
        assert!(parts.iter().all(|r| r.len() <= MAX_SENTENCE_BYTES));
    }

    #[test]
    fn ranges_are_in_order_and_inside_the_text() {
        let text = "أ. ب؟ ج! د";
        let ranges = sentences(text);
        assert!(ranges.windows(2).all(|w| w[0].end <= w[1].start));
        assert!(ranges.iter().all(|r| r.end <= text.len() && text.is_char_boundary(r.start)));
    }
}
