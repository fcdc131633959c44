//! The console's words in Vietnamese (the default) and English, and how a request picks one:
//! `?lang=` first (which the page then remembers in a cookie), then the cookie.
use actix_web::HttpRequest;

/// Where the language choice is kept.
pub const COOKIE: &str = "vm_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    pub fn parse(raw: &str) -> Option<Lang> {
        match raw {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The language `?lang=` asks for, if it names one.
    pub fn asked(req: &HttpRequest) -> Option<Lang> {
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(&v))
    }

    pub fn of(req: &HttpRequest) -> Lang {
        Lang::asked(req)
            .or_else(|| req.cookie(COOKIE).and_then(|c| Lang::parse(c.value())))
            .unwrap_or(Lang::Vi)
    }

    /// A word of the console in this language (`?` for a key it does not know).
    pub fn t(self, key: &str) -> &'static str {
        WORDS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or("?", |(_, vi, en)| match self {
                Lang::Vi => vi,
                Lang::En => en,
            })
    }
}

/// `(key, Vietnamese, English)`.
const WORDS: &[(&str, &str, &str)] = &[
    ("app", "Hội nghị tiếp xúc cử tri", "Voter meetings"),
    ("overview", "Tổng quan", "Overview"),
    ("meetings", "Hội nghị", "Meetings"),
    ("reports", "Báo cáo", "Reports"),
    ("plan", "Lập kế hoạch", "Plan"),
    ("admin", "Quản trị", "Admin"),
    ("sign_in", "Đăng nhập", "Sign in"),
    ("sign_out", "Đăng xuất", "Sign out"),
    ("token", "Mã truy cập (API token)", "API token"),
    (
        "bad_token",
        "Mã truy cập không đúng hoặc đã bị thu hồi.",
        "Unknown or revoked token.",
    ),
    ("signed_in_as", "Đăng nhập với", "Signed in as"),
    (
        "campaign_starts_in",
        "Chiến dịch bắt đầu sau",
        "Campaign starts in",
    ),
    (
        "campaign_ends_in",
        "Chiến dịch kết thúc sau",
        "Campaign ends in",
    ),
    (
        "campaign_over",
        "Chiến dịch đã kết thúc",
        "The campaign is over",
    ),
    ("days", "ngày", "days"),
    ("hours", "giờ", "hours"),
    (
        "meetings_count",
        "Hội nghị (không tính bị hủy)",
        "Meetings (not cancelled)",
    ),
    ("in_person", "Trực tiếp", "In person"),
    ("online", "Trực tuyến", "Online"),
    ("cancelled", "Đã hủy", "Cancelled"),
    ("planned", "Đã lên kế hoạch", "Planned"),
    ("held", "Đã tổ chức", "Held"),
    ("attendees", "Lượt cử tri", "Attendances"),
    ("reports_filed", "Báo cáo đã nộp", "Reports filed"),
    ("reports_late", "Báo cáo nộp muộn", "Reports late"),
    ("reports_overdue", "Báo cáo quá hạn", "Reports overdue"),
    ("by_subregion", "Theo địa bàn trực thuộc", "By sub-region"),
    (
        "needs_attention",
        "Hội nghị cần xem lại",
        "Meetings needing attention",
    ),
    ("overdue_reports", "Báo cáo quá hạn", "Overdue reports"),
    ("none", "Không có", "None"),
    (
        "no_election",
        "Chưa có cuộc bầu cử nào.",
        "No election yet.",
    ),
    ("checkin", "Điểm danh tại cửa", "Door check-in"),
    ("present", "Có mặt", "Present"),
    ("capacity", "Sức chứa", "Capacity"),
    ("admitted", "Đã vào", "Admitted"),
    ("full", "ĐÃ ĐỦ CHỖ", "FULL"),
    (
        "offline",
        "Mất kết nối — các lượt bấm được lưu và sẽ gửi khi có mạng",
        "Offline — taps are saved and sent when the connection returns",
    ),
    ("queued", "lượt đang chờ gửi", "taps waiting to be sent"),
    ("connected", "Đã kết nối", "Connected"),
    (
        "signed_out",
        "Phiên đăng nhập đã kết thúc: tải lại trang và đăng nhập; các lượt bấm vẫn được giữ",
        "The session ended: reload the page and sign in; the taps are kept",
    ),
    ("agenda", "Lịch hội nghị", "Agenda"),
    ("day", "Ngày", "Day"),
    ("week", "Tuần", "Week"),
    ("search", "Tìm kiếm", "Search"),
    ("apply", "Lọc", "Apply"),
    ("status", "Trạng thái", "Status"),
    ("format", "Hình thức", "Format"),
    ("all", "Tất cả", "All"),
    ("title", "Tiêu đề", "Title"),
    ("time", "Thời gian", "Time"),
    ("starts_at", "Bắt đầu", "Starts"),
    ("ends_at", "Kết thúc", "Ends"),
    ("venue", "Địa điểm", "Venue"),
    ("sites", "Điểm tổ chức", "Sites"),
    ("candidates", "Ứng cử viên", "Candidates"),
    ("report", "Báo cáo kết quả", "Attendance report"),
    ("history", "Lịch sử thay đổi", "History"),
    (
        "effective_capacity",
        "Sức chứa hiệu lực",
        "Effective capacity",
    ),
    ("binding_rule", "Quy định áp dụng", "Binding rule"),
    (
        "expected_attendees",
        "Số người dự kiến",
        "Expected attendees",
    ),
    ("file_report", "Nộp báo cáo", "File the report"),
    ("correct_report", "Đính chính báo cáo", "Correct the report"),
    (
        "correction_reason",
        "Lý do đính chính",
        "Reason for the correction",
    ),
    ("total", "Tổng số lượt", "Total attendances"),
    ("online_attendees", "Lượt trực tuyến", "Online attendances"),
    ("opinions_count", "Số ý kiến, kiến nghị", "Opinions raised"),
    ("notes", "Ghi chú", "Notes"),
    ("save", "Lưu", "Save"),
    ("sums_ok", "Tổng khớp", "The sums match"),
    (
        "sums_bad",
        "Tổng các điểm và trực tuyến khác tổng số lượt",
        "Sites and online do not add up to the total",
    ),
    ("download_csv", "Tải CSV", "Download CSV"),
    ("download_xlsx", "Tải XLSX", "Download XLSX"),
    ("fairness", "Cân đối giữa các ứng cử viên", "Fairness"),
    ("below_minimum", "Dưới mức tối thiểu", "Below minimum"),
    ("health_rules", "Quy định y tế", "Health rules"),
    ("venues", "Địa điểm", "Venues"),
    ("tokens", "Mã truy cập", "Tokens"),
    ("election", "Cuộc bầu cử", "Election"),
    ("region", "Địa bàn", "Region"),
    ("unit", "Đơn vị bầu cử", "Electoral unit"),
    ("plan_meeting", "Lập kế hoạch hội nghị", "Plan a meeting"),
    ("change", "Sửa", "Change"),
    ("cancel", "Hủy hội nghị", "Cancel the meeting"),
    ("reason", "Lý do", "Reason"),
    ("clashing", "Trùng với hội nghị", "Clashes with meeting"),
    ("error", "Không thực hiện được", "Could not be done"),
    ("back", "Quay lại", "Back"),
    ("name", "Tên", "Name"),
    ("role", "Vai trò", "Role"),
    ("address", "Địa chỉ", "Address"),
    ("setting", "Loại", "Setting"),
    ("email", "Email", "Email"),
    ("reference", "Số hiệu", "Reference"),
    ("period", "Hiệu lực", "In force"),
    ("max_attendees", "Tối đa", "Max attendees"),
    (
        "in_person_allowed",
        "Cho phép trực tiếp",
        "In person allowed",
    ),
    ("revoked", "Đã thu hồi", "Revoked"),
    ("last_used", "Dùng lần cuối", "Last used"),
    ("late", "Muộn", "Late"),
    ("due", "Hạn nộp", "Due"),
    ("revision", "Lần", "Revision"),
    ("yes", "Có", "Yes"),
    ("no", "Không", "No"),
    (
        "max_participants",
        "Số người tối đa trực tuyến",
        "Online max participants",
    ),
    ("choose", "— chọn —", "— choose —"),
    ("saved", "Đã lưu", "Saved"),
    ("add", "Thêm mới", "Add"),
    ("revoke", "Thu hồi", "Revoke"),
    (
        "token_once",
        "Mã truy cập mới — chỉ hiện một lần, hãy lưu lại ngay:",
        "New token — shown this once, keep it now:",
    ),
    (
        "affected",
        "Số hội nghị cần xem lại theo quy định này",
        "Meetings this rule puts in breach",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `l.t("…")` of the console's templates names a word with both languages.
    #[test]
    fn every_word_the_templates_use_exists_in_both_languages() {
        let mut used = 0;
        for entry in std::fs::read_dir("templates/console").expect("templates") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("readable");
            for piece in text.split("l.t(\"").skip(1) {
                let key = piece.split('"').next().unwrap_or_default();
                let found = WORDS.iter().find(|(k, _, _)| *k == key);
                assert!(found.is_some(), "{}: no word {key:?}", path.display());
                assert!(found.is_some_and(|(_, vi, en)| !vi.is_empty() && !en.is_empty()));
                used += 1;
            }
        }
        assert!(used > 50, "the templates use {used} words");
    }

    #[test]
    fn keys_are_unique() {
        for (i, (k, _, _)) in WORDS.iter().enumerate() {
            assert!(
                WORDS[i + 1..].iter().all(|(other, _, _)| other != k),
                "{k} twice"
            );
        }
    }
}
