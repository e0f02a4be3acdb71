//! Character-level normalization of one word: the folding that makes spelling variants of the
//! same word compare equal, before stemming.
//!
//! The rules follow the choices of Lucene's `ArabicNormalizer` (alef variants, alef maqsura,
//! teh marbuta, harakat and tatweel) with two additions that Arabic web text needs: Arabic-Indic
//! digits become ASCII, and invisible format characters (ZWJ/ZWNJ, bidi marks) are dropped instead
//! of splitting the word. Hamza on waw/yeh (ؤ ئ) is *not* folded: it distinguishes real words and
//! Lucene leaves it too.

use unicode_normalization::UnicodeNormalization;

use super::chars::{is_arabic, is_arabic_mark, is_invisible_format, TATWEEL};

/// Folds one character after compatibility decomposition; `None` drops it.
fn fold_char(c: char) -> Option<char> {
    if is_arabic_mark(c) || c == TATWEEL || is_invisible_format(c) {
        return None;
    }
    Some(match c {
        // alef with madda, hamza above, hamza below, wasla → bare alef
        'آ' | 'أ' | 'إ' | 'ٱ' => 'ا',
        // alef maqsura → yeh; Farsi yeh → yeh
        'ى' | 'ی' => 'ي',
        // teh marbuta → heh
        'ة' => 'ه',
        // Farsi keheh → kaf
        'ک' => 'ك',
        // Arabic-Indic and extended Arabic-Indic digits → ASCII
        '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
        '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
        _ => return Some(c),
    })
}

/// Normalizes one word: NFKC (presentation forms, full-width letters), diacritics and tatweel
/// removed, letter variants folded, digits made ASCII, lower-cased. Accents on Latin letters are
/// dropped too, so `café` and `cafe` agree.
pub fn normalize_word(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut push = |c: char| {
        if ('\u{00C0}'..='\u{024F}').contains(&c) {
            // accented Latin letter: keep its base letter
            for d in std::iter::once(c).nfd() {
                if !unicode_normalization::char::is_combining_mark(d) {
                    out.extend(d.to_lowercase());
                }
            }
            return;
        }
        if unicode_normalization::char::is_combining_mark(c) && !is_arabic(c) {
            return;
        }
        match fold_char(c) {
            Some(f) if f.is_ascii() => out.push(f.to_ascii_lowercase()),
            Some(f) if is_arabic(f) => out.push(f), // the script has no case
            Some(f) => out.extend(f.to_lowercase()),
            None => {}
        }
    };
    // most words are already in NFKC (the quick check answers from a table, without composing):
    // skip the normalizer's buffering for them
    if unicode_normalization::is_nfkc_quick(word.chars()) == unicode_normalization::IsNormalized::Yes {
        word.chars().for_each(&mut push);
    } else {
        word.nfkc().for_each(&mut push);
    }
    out
}

/// Folds a whole text for loose substring comparison (used by evaluation to compare a quote with
/// an expected answer): every word normalized, joined by single spaces.
pub fn fold_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in super::tokenize::words(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&normalize_word(&text[word]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diacritics_are_removed_not_split() {
        // real spellings from the corpus: shadda + fatha, shadda alone, bare
        assert_eq!(normalize_word("الدَّولية"), "الدوليه");
        assert_eq!(normalize_word("الدّولية"), "الدوليه");
        assert_eq!(normalize_word("الدولية"), "الدوليه");
        assert_eq!(normalize_word("دولةً"), "دوله");
        assert_eq!(normalize_word("السِّلم"), "السلم");
    }

    #[test]
    fn alef_variants_and_yeh_fold() {
        assert_eq!(normalize_word("الإسلامي"), normalize_word("الاسلامي"));
        assert_eq!(normalize_word("أربع"), "اربع");
        assert_eq!(normalize_word("آخر"), "اخر");
        assert_eq!(normalize_word("على"), "علي");
    }

    #[test]
    fn hamza_carriers_stay_distinct() {
        assert_eq!(normalize_word("مسؤول"), "مسؤول");
        assert_eq!(normalize_word("رئيس"), "رئيس");
    }

    #[test]
    fn tatweel_and_invisible_characters_vanish() {
        assert_eq!(normalize_word("الإرهـــاب"), normalize_word("الإرهاب"));
        assert_eq!(normalize_word("دو\u{200C}لة"), "دوله");
    }

    #[test]
    fn digits_become_ascii_and_latin_lowercase() {
        assert_eq!(normalize_word("٥٧"), "57");
        assert_eq!(normalize_word("۶۸"), "68");
        assert_eq!(normalize_word("Café"), "cafe");
        assert_eq!(normalize_word("ＡＢＣ"), "abc");
    }

    #[test]
    fn presentation_forms_fold_to_letters() {
        // U+FEDF U+FEE0 ... are isolated/initial forms of lam etc.
        assert_eq!(normalize_word("\u{FEDF}\u{FEE0}"), "لل");
    }
}
