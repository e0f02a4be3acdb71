//! Number words: `سبع وخمسين` and `fifty-seven` read as 57, so a question asked with digits finds
//! a text that spells the number out, and the other way round.
//!
//! This is language data (Arabic and English cardinals up to 99, plus hundred/thousand alone),
//! not knowledge of any corpus. Words are matched in their normalized form (see
//! [`super::normalize`]); the analyzer emits the value as an extra token at the position of the
//! first word, spanning all the words that spell it.

/// Value of a single normalized number word, and whether it is a "unit" (1–9) that may combine
/// with a following ten (Arabic: unit و ten) or with عشر (11–19).
fn word_value(w: &str) -> Option<u32> {
    Some(match w {
        // Arabic, normalized (alef folded, teh marbuta as heh, alef maqsura as yeh)
        "واحد" | "واحده" | "احد" | "احدي" => 1,
        "اثنان" | "اثنين" | "اثنتان" | "اثنتين" | "اثنا" | "اثني" | "اثنتا" | "اثنتي" => 2,
        "ثلاث" | "ثلاثه" => 3,
        "اربع" | "اربعه" => 4,
        "خمس" | "خمسه" => 5,
        "ست" | "سته" => 6,
        "سبع" | "سبعه" => 7,
        "ثمان" | "ثماني" | "ثمانيه" => 8,
        "تسع" | "تسعه" => 9,
        "عشر" | "عشره" => 10,
        "عشرون" | "عشرين" => 20,
        "ثلاثون" | "ثلاثين" => 30,
        "اربعون" | "اربعين" => 40,
        "خمسون" | "خمسين" => 50,
        "ستون" | "ستين" => 60,
        "سبعون" | "سبعين" => 70,
        "ثمانون" | "ثمانين" => 80,
        "تسعون" | "تسعين" => 90,
        "مئه" | "مائه" => 100,
        "الف" => 1000,
        // English
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        "twenty" => 20,
        "thirty" => 30,
        "forty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        "hundred" => 100,
        "thousand" => 1000,
        _ => return None,
    })
}

/// A word that is a ten (20..90) when written with the conjunction waw glued to it (`وخمسين`).
fn conjoined_ten(w: &str) -> Option<u32> {
    let rest = w.strip_prefix('و')?;
    word_value(rest).filter(|v| (20..=90).contains(v) && v % 10 == 0)
}

/// Reads a cardinal starting at `words[0]`. Returns its value and how many words it used.
/// `words` are normalized words; the caller has already made sure they are adjacent.
pub fn read_number(words: &[&str]) -> Option<(u32, usize)> {
    let first = word_value(words.first()?)?;
    let second = words.get(1).copied();
    if (1..=9).contains(&first) {
        if let Some(w) = second {
            // Arabic unit + و + ten: سبع وخمسين = 57
            if let Some(ten) = conjoined_ten(w) {
                return Some((first + ten, 2));
            }
            if w == "و" {
                if let Some(ten) = words.get(2).and_then(|t| word_value(t)).filter(|v| (20..=90).contains(v) && v % 10 == 0) {
                    return Some((first + ten, 3));
                }
            }
            // Arabic unit + عشر: أحد عشر = 11, ثلاثة عشر = 13
            if w == "عشر" || w == "عشره" {
                return Some((10 + first, 2));
            }
        }
    }
    if (20..=90).contains(&first) && first % 10 == 0 {
        // English ten + unit: forty one / forty-one
        if let Some(unit) = second.and_then(word_value).filter(|v| (1..=9).contains(v)) {
            if second.is_some_and(|w| w.is_ascii()) {
                return Some((first + unit, 2));
            }
        }
    }
    Some((first, 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize::normalize_word;

    fn read(s: &str) -> Option<(u32, usize)> {
        let words: Vec<String> = s.split_whitespace().map(normalize_word).collect();
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        read_number(&refs)
    }

    #[test]
    fn arabic_compound_numbers() {
        assert_eq!(read("إحدى وخمسين سفينة"), Some((51, 2)));
        assert_eq!(read("ست وسبعين"), Some((76, 2)));
        assert_eq!(read("أربع أسس"), Some((4, 1)));
        assert_eq!(read("ثلاثة عشر"), Some((13, 2)));
        assert_eq!(read("اثنتي عشرة سفينة"), Some((12, 2)));
    }

    #[test]
    fn english_compound_numbers() {
        assert_eq!(read("fifty seven"), Some((57, 2)));
        assert_eq!(read("twelve"), Some((12, 1)));
        assert_eq!(read("states"), None);
    }
}
