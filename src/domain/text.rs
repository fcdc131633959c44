//! Text as SPEC §2 wants it stored: trimmed, in Unicode NFC (Vietnamese keyboards often send
//! decomposed letters), without control characters or bidirectional overrides. Names are one
//! line; free text (addresses, notes, reasons, opinions) may also hold line breaks and tabs.
use unicode_normalization::UnicodeNormalization;

/// Characters no stored text may hold: C0 and C1 controls, DEL, and the bidirectional
/// embeddings, overrides and isolates that can make a name read differently than it is.
fn forbidden(c: char, free_text: bool) -> bool {
    let control = matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}');
    let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    let layout = matches!(c, '\n' | '\r' | '\t');
    bidi || (control && !(free_text && layout))
}

fn describe(c: char) -> String {
    format!("must not contain the character U+{:04X}", u32::from(c))
}

fn clean(raw: &str, max: usize, free_text: bool) -> Result<String, String> {
    let t: String = raw.trim().nfc().collect();
    if let Some(c) = t.chars().find(|c| forbidden(*c, free_text)) {
        return Err(describe(c));
    }
    let n = t.chars().count();
    if n == 0 {
        Err("must not be empty".to_owned())
    } else if n > max {
        Err(format!("must be at most {max} characters"))
    } else {
        Ok(t)
    }
}

/// A one-line name, title, code, label or reference of 1 to `max` characters.
pub fn name(raw: &str, max: usize) -> Result<String, String> {
    clean(raw, max, false)
}

/// Optional one-line text: absent or blank stays `None`.
pub fn optional_name(raw: Option<&str>, max: usize) -> Result<Option<String>, String> {
    match raw.filter(|t| !t.trim().is_empty()) {
        None => Ok(None),
        Some(t) => name(t, max).map(Some),
    }
}

/// Free text of 1 to `max` characters: line breaks and tabs allowed.
pub fn free_text(raw: &str, max: usize) -> Result<String, String> {
    clean(raw, max, true)
}

/// Optional free text: absent or blank stays `None`.
pub fn optional_free_text(raw: Option<&str>, max: usize) -> Result<Option<String>, String> {
    match raw.filter(|t| !t.trim().is_empty()) {
        None => Ok(None),
        Some(t) => free_text(t, max).map(Some),
    }
}

/// The form headers and names are matched in when people type them: lower case, without
/// diacritics (`đ` as `d`), runs of anything but letters and digits as one `_`.
/// `"Họ và tên"` → `"ho_va_ten"`, `"Diện tích (m²)"` → `"dien_tich_m2"`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.nfd() {
        let c = match c {
            'đ' | 'Đ' => 'd',
            '²' => '2',
            c if unicode_normalization::char::is_combining_mark(c) => continue,
            c => c,
        };
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// The form two names are compared in for uniqueness: NFC, then lower case.
pub fn comparable(s: &str) -> String {
    s.nfc().collect::<String>().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_composed_and_bounded() {
        let decomposed = "Nha\u{300} va\u{306}n ho\u{301}a";
        assert_eq!(name(decomposed, 50), Ok("Nhà văn hóa".to_owned()));
        assert_eq!(name("  Hà Nội ", 10), Ok("Hà Nội".to_owned()));
        assert!(name("   ", 10).is_err());
        assert!(name("abcdef", 5).is_err());
        assert_eq!(optional_name(Some("  "), 5), Ok(None));
        assert_eq!(optional_name(None, 5), Ok(None));
    }

    #[test]
    fn names_refuse_controls_line_breaks_and_bidi_overrides() {
        for bad in [
            "Evil\r\nBcc: x@y.vn",
            "a\u{0}b",
            "tab\there",
            "del\u{7f}",
            "c1\u{85}x",
            "\u{202e}gnp.exe",
            "iso\u{2066}late",
        ] {
            assert!(name(bad, 100).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            name("a\u{0}b", 10),
            Err("must not contain the character U+0000".to_owned())
        );
    }

    #[test]
    fn free_text_keeps_line_breaks_and_tabs_only() {
        assert_eq!(
            free_text("Thôn 1\r\nxã Kỳ Đồng\t", 100),
            Ok("Thôn 1\r\nxã Kỳ Đồng".to_owned())
        );
        assert!(free_text("a\u{0}b", 100).is_err());
        assert!(free_text("a\u{1b}[31mred", 100).is_err());
        assert!(free_text("\u{202d}x", 100).is_err());
        assert_eq!(optional_free_text(Some(" \n "), 5), Ok(None));
    }

    #[test]
    fn typed_headers_and_names_fold_to_one_form() {
        assert_eq!(fold("Họ và tên"), "ho_va_ten");
        assert_eq!(fold("  Diện tích (m²) "), "dien_tich_m2");
        assert_eq!(fold("ĐƠN VỊ BẦU CỬ"), fold("don vi bau cu"));
        assert_eq!(fold("full_name"), "full_name");
        assert_eq!(fold("Xa\u{300} Kỳ Đồng"), "xa_ky_dong");
    }

    #[test]
    fn names_compare_without_case_or_composition() {
        assert_eq!(
            comparable("NHÀ VĂN HÓA XÃ KỲ ĐỒNG"),
            comparable("Nha\u{300} va\u{306}n ho\u{301}a xã Kỳ Đồng")
        );
    }
}
