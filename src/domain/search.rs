//! What a meeting is found by (`GET /meetings?q=`, SPEC §4): its title, the name and address
//! of each of its venues, and the name of each of its active candidates. The database folds
//! this text (case and diacritics, `search_fold`) as it stores it.

/// A meeting's words on one line: the title, then each venue's name and address, then each
/// active candidate's name, separated by spaces.
pub fn meeting_words<'a>(
    title: &str,
    venues: impl IntoIterator<Item = (&'a str, &'a str)>,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    let mut words = title.to_owned();
    for (name, address) in venues {
        for part in [name, address] {
            words.push(' ');
            words.push_str(part);
        }
    }
    for name in candidates {
        words.push(' ');
        words.push_str(name);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_are_the_title_then_each_venue_then_each_candidate() {
        let words = meeting_words(
            "Tiếp xúc cử tri",
            [("Nhà văn hóa", "Xã Kỳ Đồng"), ("Trường THCS", "Thị trấn")],
            ["Nguyễn Văn A", "Trần Thị B"],
        );
        assert_eq!(
            words,
            "Tiếp xúc cử tri Nhà văn hóa Xã Kỳ Đồng Trường THCS Thị trấn Nguyễn Văn A Trần Thị B"
        );
    }

    #[test]
    fn a_meeting_without_venues_or_candidates_is_found_by_its_title() {
        assert_eq!(meeting_words("Trực tuyến", [], []), "Trực tuyến");
    }
}
