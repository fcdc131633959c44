//! `voter-meetings demo`: loads a realistic province — Hà Tĩnh in the 2021 elections, with
//! Covid-era gathering rules — through the same domain functions the API calls, so every rule
//! is checked exactly as for a client. The data are drawn from a seeded generator: the same
//! command gives the same data, placed around today so the campaign is in progress.
use std::collections::HashMap;

use anyhow::{anyhow, bail};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::attendance::{self, Submission};
use crate::audit::{self, Change};
use crate::auth::{self, Caller, Role};
use crate::db::attendance::{Opinion, SiteAttendance};
use crate::db::elections::{
    self, Body, CandidateInsertForm, CandidateUpdateForm, Election, ElectionInsertForm, UnitForm,
};
use crate::db::health_rules::{self, HealthRuleForm};
use crate::db::meetings::MeetingView;
use crate::db::regions::{self, Level, Region, RegionForm};
use crate::db::reports::{self, Figures};
use crate::db::schema as s;
use crate::db::venues::{self, VenueInsertForm};
use crate::domain::assessment::RegionalRule;
use crate::domain::capacity::{
    effective_capacity, CapacityVerdict, RuleFacts, Setting, VenueFacts,
};
use crate::domain::values::EmailAddress;
use crate::error::ApiError;
use crate::planning::{self, Format, MeetingPlan, OnlinePlan, SiteRequest};

/// What to load.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Meetings to plan over the campaign (the reference province held 1,893).
    pub meetings: u32,
    /// Delete an earlier demo province, its election and tokens first.
    pub reset: bool,
    /// `scheduling.travel_buffer_minutes`: a candidate's time between two meetings.
    pub travel_buffer: Duration,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            meetings: 1_900,
            reset: false,
            travel_buffer: Duration::minutes(30),
        }
    }
}

/// The tokens a user tries the demo with (shown once: only their hashes are stored).
#[derive(Debug, Clone)]
pub struct DemoTokens {
    pub admin: String,
    pub organizer: String,
    pub observer: String,
}

/// What the demo created, and the figures the attendance report now shows for the province.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub province_id: Uuid,
    pub province_name: String,
    pub election: Election,
    pub districts: usize,
    pub communes: usize,
    pub electoral_units: usize,
    pub candidates: usize,
    pub withdrawn: usize,
    pub venues: usize,
    pub health_rules: usize,
    /// Meetings created (including the ones cancelled afterwards).
    pub meetings_created: usize,
    /// Meetings asked for that found no free slot.
    pub meetings_unscheduled: usize,
    pub check_ins: usize,
    pub corrections: usize,
    /// Upcoming meetings flagged `needs_attention` by the last rule, and that rule's reference.
    pub needs_attention: usize,
    pub attention_rule: Option<String>,
    /// `reports::attendance_totals` for the province: what `GET /reports/attendance` shows.
    pub figures: Figures,
    pub tokens: DemoTokens,
}

/// Loads the demo data set; refuses when it is already there, unless `options.reset`.
pub fn load(conn: &mut PgConnection, options: DemoOptions) -> anyhow::Result<DemoSummary> {
    if let Some((id, name)) = existing_demo(conn)? {
        if !options.reset {
            bail!(
                "demo data already exist ({name}, region {id}, code {PROVINCE_CODE}); \
                 run `voter-meetings demo --reset` to replace them"
            );
        }
        tracing::info!(province = %id, "demo: removing the earlier demo province");
        remove_demo(conn, id)?;
    }
    let mut rng = StdRng::seed_from_u64(SEED);
    let clock = Clock::new(Utc::now())?;
    let world = conn.transaction(|conn| set_up(conn, &mut rng, &clock))?;
    tracing::info!(
        districts = world.districts.len(),
        communes = world.communes.len(),
        units = world.units.len(),
        venues = world.venues.len(),
        "demo: regions, election, units, candidates, venues and health rules created"
    );
    let planned = plan_meetings(conn, &world, &clock, &mut rng, &options)?;
    let attendance = report_attendance(conn, &world, &clock, &mut rng, &planned, &options)?;
    let attention = flag_upcoming(conn, &world, &clock, &planned)?;
    let figures = reports::attendance_totals(conn, world.election.id, Some(world.province.id))
        .or_refused("attendance totals")?;
    Ok(DemoSummary {
        province_id: world.province.id,
        province_name: world.province.name.clone(),
        election: world.election.clone(),
        districts: world.districts.len(),
        communes: world.communes.len(),
        electoral_units: world.units.len(),
        candidates: world.candidates,
        withdrawn: world.withdrawn,
        venues: world.venues.len(),
        health_rules: world.rules.len() + usize::from(attention.is_some()),
        meetings_created: planned.meetings.len(),
        meetings_unscheduled: planned.unscheduled,
        check_ins: attendance.check_ins,
        corrections: attendance.corrections,
        needs_attention: attention.as_ref().map_or(0, |a| a.1),
        attention_rule: attention.map(|a| a.0),
        figures,
        tokens: world.tokens,
    })
}

// ---------------------------------------------------------------------------------------------
// The data set.

const SEED: u64 = 20_210_523;
/// The audit actor and the admin token's name.
const DEMO_ACTOR: &str = "demo";
const PROVINCE: &str = "Tỉnh Hà Tĩnh";
const PROVINCE_CODE: &str = "42";
const MAIL_DOMAIN: &str = "hatinh.example";
const CANDIDATE_MAIL_DOMAIN: &str = "ungcuvien.example";
const ELECTION: &str =
    "Bầu cử đại biểu Quốc hội khóa XV và đại biểu HĐND các cấp nhiệm kỳ 2021–2026";
const TIME_ZONE: Tz = chrono_tz::Asia::Ho_Chi_Minh;
/// The campaign opened this many days before today and polling opens this many days after.
const CAMPAIGN_DAYS_BEFORE_TODAY: i64 = 20;
const POLLING_DAYS_AFTER_TODAY: i64 = 8;
const REPORT_DEADLINE_HOURS: i32 = 24;
/// The reference province: about 130,000 voter attendances over about 1,900 meetings.
const REFERENCE_ATTENDANCES: i64 = 130_000;
const REFERENCE_MEETINGS: i64 = 1_900;
/// ~1.1% of the reference province's meetings were online (21 of 1,893).
const ONLINE_SHARE: f64 = 21.0 / 1_893.0;
const CANCELLED_SHARE: f64 = 0.015;
const CHECKED_IN_SHARE: f64 = 0.10;
const MISSING_SHARE: f64 = 0.02;
const LATE_SHARE: f64 = 0.05;
const CORRECTED_SHARE: f64 = 0.012;
/// Meetings per transaction while planning, and while reporting.
const PLAN_BATCH: usize = 50;
const REPORT_BATCH: usize = 100;
/// Local start (hour, minute) and length in minutes of the day's meeting slots.
const SLOTS: [(u32, u32, i64); 4] = [(7, 30, 120), (10, 0, 90), (14, 0, 120), (19, 30, 120)];
/// The share of meetings of each kind.
const MIX: [(Kind, f64); 5] = [
    (Kind::National, 0.02),
    (Kind::Joint, 0.04),
    (Kind::Province, 0.28),
    (Kind::District, 0.26),
    (Kind::Commune, 0.40),
];

/// The public-health regime a district lives under during the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Covid {
    Normal,
    /// Chỉ thị 15 variant from eight days ago: indoor halls at most 50, 2 m² a person.
    Tightened,
    /// In-person gatherings banned for three days (as Đà Nẵng's Công văn 82 did).
    Banned,
}

struct DistrictSeed {
    name: &'static str,
    code: &'static str,
    /// Index into `NATIONAL_UNITS` of the National Assembly unit covering it.
    national_unit: usize,
    province_units: usize,
    district_units: usize,
    /// Communes whose council units are loaded (two units each).
    commune_councils: usize,
    covid: Covid,
    /// Comma-separated.
    communes: &'static str,
}

/// (name, seats): Hà Tĩnh elected 7 deputies to the 15th National Assembly.
const NATIONAL_UNITS: [(&str, i32); 3] = [
    ("Đơn vị bầu cử Quốc hội số 1", 3),
    ("Đơn vị bầu cử Quốc hội số 2", 2),
    ("Đơn vị bầu cử Quốc hội số 3", 2),
];

const DISTRICTS: [DistrictSeed; 13] = [
    DistrictSeed {
        name: "Thành phố Hà Tĩnh",
        code: "436",
        national_unit: 0,
        province_units: 1,
        district_units: 3,
        commune_councils: 2,
        covid: Covid::Tightened,
        communes: "Phường Bắc Hà, Phường Nam Hà, Phường Tân Giang, Phường Trần Phú, \
             Phường Hà Huy Tập, Phường Đại Nài, Phường Nguyễn Du, Phường Thạch Linh, \
             Phường Thạch Quý, Phường Văn Yên, Xã Thạch Trung, Xã Thạch Hạ, Xã Đồng Môn, \
             Xã Thạch Hưng, Xã Thạch Bình",
    },
    DistrictSeed {
        name: "Thị xã Hồng Lĩnh",
        code: "437",
        national_unit: 1,
        province_units: 1,
        district_units: 0,
        commune_councils: 1,
        covid: Covid::Banned,
        communes: "Phường Bắc Hồng, Phường Nam Hồng, Phường Trung Lương, Phường Đức Thuận, \
             Phường Đậu Liêu, Xã Thuận Lộc",
    },
    DistrictSeed {
        name: "Huyện Hương Sơn",
        code: "439",
        national_unit: 2,
        province_units: 1,
        district_units: 3,
        commune_councils: 2,
        covid: Covid::Normal,
        communes: "Thị trấn Phố Châu, Thị trấn Tây Sơn, Xã Sơn Hồng, Xã Sơn Tiến, Xã Sơn Lâm, \
             Xã Sơn Lễ, Xã Sơn Giang, Xã Sơn Lĩnh, Xã An Hòa Thịnh, Xã Sơn Tây, Xã Sơn Ninh, \
             Xã Sơn Châu, Xã Tân Mỹ Hà, Xã Quang Diệm, Xã Sơn Trung, Xã Sơn Bằng, Xã Sơn Bình, \
             Xã Sơn Kim 1, Xã Sơn Kim 2, Xã Sơn Trà",
    },
    DistrictSeed {
        name: "Huyện Đức Thọ",
        code: "440",
        national_unit: 2,
        province_units: 1,
        district_units: 0,
        commune_councils: 2,
        covid: Covid::Normal,
        communes: "Thị trấn Đức Thọ, Xã Quang Vĩnh, Xã Tùng Châu, Xã Trường Sơn, Xã Liên Minh, \
             Xã Yên Hồ, Xã Tùng Ảnh, Xã Bùi La Nhân, Xã Thanh Bình Thịnh, Xã Lâm Trung Thủy, \
             Xã Hòa Lạc, Xã Tân Dân, Xã An Dũng, Xã Đức Đồng, Xã Đức Lạng, Xã Tân Hương",
    },
    DistrictSeed {
        name: "Huyện Vũ Quang",
        code: "441",
        national_unit: 2,
        province_units: 1,
        district_units: 0,
        commune_councils: 2,
        covid: Covid::Normal,
        communes: "Thị trấn Vũ Quang, Xã Ân Phú, Xã Đức Giang, Xã Đức Lĩnh, Xã Thọ Điền, \
             Xã Đức Hương, Xã Đức Bồng, Xã Đức Liên, Xã Hương Minh, Xã Quang Thọ, \
             Xã Hương Thọ, Xã Hương Quang",
    },
    DistrictSeed {
        name: "Huyện Nghi Xuân",
        code: "442",
        national_unit: 1,
        province_units: 1,
        district_units: 3,
        commune_councils: 2,
        covid: Covid::Normal,
        communes: "Thị trấn Xuân An, Thị trấn Tiên Điền, Xã Xuân Hội, Xã Đan Trường, Xã Xuân Phổ, \
             Xã Xuân Hải, Xã Xuân Giang, Xã Xuân Yên, Xã Xuân Mỹ, Xã Xuân Thành, Xã Xuân Viên, \
             Xã Xuân Hồng, Xã Cổ Đạm, Xã Xuân Liên, Xã Xuân Lĩnh, Xã Xuân Lam, Xã Cương Gián",
    },
    DistrictSeed {
        name: "Huyện Can Lộc",
        code: "443",
        national_unit: 1,
        province_units: 1,
        district_units: 3,
        commune_councils: 2,
        covid: Covid::Normal,
        communes: "Thị trấn Nghèn, Xã Thiên Lộc, Xã Thuần Thiện, Xã Vượng Lộc, Xã Thanh Lộc, \
             Xã Kim Song Trường, Xã Thường Nga, Xã Tùng Lộc, Xã Phú Lộc, Xã Gia Hanh, \
             Xã Khánh Vĩnh Yên, Xã Trung Lộc, Xã Xuân Lộc, Xã Thượng Lộc, Xã Quang Lộc, \
             Xã Đồng Lộc, Xã Mỹ Lộc, Xã Sơn Lộc",
    },
    DistrictSeed {
        name: "Huyện Hương Khê",
        code: "444",
        national_unit: 2,
        province_units: 1,
        district_units: 3,
        commune_councils: 2,
        covid: Covid::Normal,
        communes: "Thị trấn Hương Khê, Xã Điền Mỹ, Xã Hà Linh, Xã Hương Thủy, Xã Hòa Hải, \
             Xã Phúc Đồng, Xã Hương Giang, Xã Lộc Yên, Xã Hương Bình, Xã Hương Long, \
             Xã Phú Gia, Xã Gia Phố, Xã Phú Phong, Xã Hương Đô, Xã Hương Vĩnh, Xã Hương Xuân, \
             Xã Phúc Trạch, Xã Hương Trà, Xã Hương Trạch, Xã Hương Lâm",
    },
    DistrictSeed {
        name: "Huyện Thạch Hà",
        code: "445",
        national_unit: 0,
        province_units: 2,
        district_units: 3,
        commune_councils: 2,
        covid: Covid::Tightened,
        communes: "Thị trấn Thạch Hà, Xã Thạch Hải, Xã Thạch Kênh, Xã Thạch Sơn, Xã Thạch Liên, \
             Xã Đỉnh Bàn, Xã Việt Tiến, Xã Thạch Khê, Xã Thạch Long, Xã Thạch Trị, \
             Xã Thạch Lạc, Xã Thạch Ngọc, Xã Tượng Sơn, Xã Thạch Văn, Xã Lưu Vĩnh Sơn, \
             Xã Thạch Thắng, Xã Thạch Đài, Xã Thạch Hội, Xã Tân Lâm Hương, Xã Nam Điền",
    },
    DistrictSeed {
        name: "Huyện Cẩm Xuyên",
        code: "446",
        national_unit: 0,
        province_units: 2,
        district_units: 3,
        commune_councils: 2,
        covid: Covid::Tightened,
        communes: "Thị trấn Cẩm Xuyên, Thị trấn Thiên Cầm, Xã Yên Hòa, Xã Cẩm Dương, Xã Cẩm Bình, \
             Xã Cẩm Vịnh, Xã Cẩm Thành, Xã Cẩm Quang, Xã Cẩm Thạch, Xã Cẩm Nhượng, \
             Xã Nam Phúc Thăng, Xã Cẩm Duệ, Xã Cẩm Lĩnh, Xã Cẩm Quan, Xã Cẩm Hà, Xã Cẩm Lộc, \
             Xã Cẩm Hưng, Xã Cẩm Thịnh, Xã Cẩm Mỹ, Xã Cẩm Trung",
    },
    DistrictSeed {
        name: "Huyện Kỳ Anh",
        code: "447",
        national_unit: 0,
        province_units: 2,
        district_units: 3,
        commune_councils: 2,
        covid: Covid::Normal,
        communes: "Xã Kỳ Xuân, Xã Kỳ Bắc, Xã Kỳ Phú, Xã Kỳ Phong, Xã Kỳ Tiến, Xã Kỳ Giang, \
             Xã Kỳ Đồng, Xã Kỳ Khang, Xã Kỳ Văn, Xã Kỳ Trung, Xã Kỳ Thọ, Xã Kỳ Tây, \
             Xã Kỳ Thượng, Xã Kỳ Hải, Xã Kỳ Thư, Xã Kỳ Châu, Xã Kỳ Tân, Xã Lâm Hợp, Xã Kỳ Sơn, \
             Xã Kỳ Lạc",
    },
    DistrictSeed {
        name: "Huyện Lộc Hà",
        code: "448",
        national_unit: 1,
        province_units: 1,
        district_units: 0,
        commune_councils: 2,
        covid: Covid::Normal,
        communes: "Thị trấn Lộc Hà, Xã Bình An, Xã Thịnh Lộc, Xã Thạch Kim, Xã Thạch Châu, \
             Xã Phù Lưu, Xã Hồng Lộc, Xã Tân Lộc, Xã Ích Hậu, Xã Hộ Độ, Xã Thạch Mỹ, \
             Xã Mai Phụ",
    },
    DistrictSeed {
        name: "Thị xã Kỳ Anh",
        code: "449",
        national_unit: 0,
        province_units: 1,
        district_units: 0,
        commune_councils: 2,
        covid: Covid::Normal,
        communes: "Phường Hưng Trí, Phường Kỳ Ninh, Phường Kỳ Long, Phường Kỳ Thịnh, \
             Phường Kỳ Trinh, Phường Kỳ Phương, Phường Kỳ Liên, Xã Kỳ Hà, Xã Kỳ Hoa, \
             Xã Kỳ Lợi, Xã Kỳ Nam, Xã Kỳ Hưng",
    },
];

/// Administrative prefixes, longest first, so "Thị xã" is not read as "Xã".
const REGION_KINDS: [&str; 6] = [
    "Thành phố ",
    "Thị trấn ",
    "Thị xã ",
    "Huyện ",
    "Phường ",
    "Xã ",
];

const FAMILY_NAMES: [&str; 16] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý",
];
const MALE_MIDDLE_NAMES: [&str; 10] = [
    "Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Đình", "Xuân", "Thanh", "Trọng",
];
const FEMALE_MIDDLE_NAMES: [&str; 8] =
    ["Thị", "Thu", "Ngọc", "Thanh", "Hồng", "Minh", "Thúy", "Kim"];
const MALE_GIVEN_NAMES: [&str; 20] = [
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Hưng", "Khánh", "Long", "Nam", "Phong",
    "Quân", "Sơn", "Thắng", "Trung", "Tuấn", "Việt", "Hoàng", "Lâm",
];
const FEMALE_GIVEN_NAMES: [&str; 20] = [
    "Anh", "Giang", "Hà", "Hạnh", "Hiền", "Hoa", "Hương", "Lan", "Linh", "Mai", "Nga", "Nhung",
    "Phương", "Tâm", "Thảo", "Trang", "Vân", "Yến", "Huyền", "Loan",
];
const VILLAGES: [&str; 16] = [
    "Trung Sơn",
    "Đông Hà",
    "Tây Yên",
    "Nam Phong",
    "Bắc Tiến",
    "Tân Phú",
    "Hòa Bình",
    "Thượng Long",
    "Hạ Vinh",
    "Liên Giang",
    "Yên Thịnh",
    "Sơn Bình",
    "Phú Mậu",
    "Thanh Hoa",
    "Đồng Lạc",
    "Xuân Thủy",
];

const PROVINCE_RULE: &str =
    "Kế hoạch phòng, chống dịch COVID-19 của UBND tỉnh khi tổ chức hội nghị tiếp xúc cử tri";
const TIGHTENED_RULE: &str =
    "Chỉ thị 15/CT-TTg (biến thể địa phương): hội trường tối đa 50 người, 2 m²/người";
const BAN_RULE: &str = "Công văn 82: tạm dừng hội nghị trực tiếp, chuyển sang trực tuyến";
const ATTENTION_RULE: &str =
    "Công điện khẩn của Chủ tịch UBND tỉnh: hội nghị trong nhà không quá 30 người";
/// The cap of the upcoming tightening that makes a few planned meetings need attention.
const ATTENTION_CAP: i32 = 30;

const CANCEL_REASONS: [&str; 4] = [
    "Mưa bão, giao thông bị chia cắt",
    "Ứng cử viên bận công tác đột xuất",
    "Địa phương tạm dừng tụ tập đông người để truy vết ca nghi nhiễm COVID-19",
    "Điểm hội nghị bị ngập, chưa bố trí được địa điểm thay thế",
];
const CORRECTION_REASON: &str = "Điều chỉnh số lượt cử tri theo biên bản hội nghị đã ký";
const OPINIONS: [(&str, &str); 12] = [
    ("đất đai", "Đề nghị đẩy nhanh việc cấp giấy chứng nhận quyền sử dụng đất cho các hộ dân đã sử dụng đất ổn định."),
    ("đất đai", "Đề nghị công khai quy hoạch và giải quyết dứt điểm tranh chấp đất rừng giữa các hộ dân."),
    ("giao thông nông thôn", "Tuyến đường liên xã xuống cấp nghiêm trọng, đề nghị sớm đầu tư nâng cấp."),
    ("giao thông nông thôn", "Đề nghị hỗ trợ xi măng làm đường giao thông nội đồng."),
    ("y tế", "Trạm y tế xã thiếu bác sĩ và trang thiết bị, đề nghị bổ sung."),
    ("giáo dục", "Đề nghị sửa chữa các phòng học cấp bốn đã xuống cấp tại trường tiểu học."),
    ("phòng chống dịch COVID-19", "Đề nghị hỗ trợ kinh phí cho các khu cách ly tập trung và lực lượng chốt chặn."),
    ("phòng chống dịch COVID-19", "Đề nghị sớm triển khai tiêm vắc-xin phòng COVID-19 cho người dân."),
    ("nông nghiệp", "Đề nghị có chính sách bao tiêu sản phẩm cho nông dân trồng cam, bưởi."),
    ("môi trường", "Đề nghị xử lý dứt điểm tình trạng ô nhiễm ở khu vực bãi rác của xã."),
    ("chính sách xã hội", "Đề nghị giải quyết chế độ còn tồn đọng cho người có công với cách mạng."),
    ("thủy lợi", "Đề nghị nạo vét kênh mương và nâng cấp trạm bơm trước mùa mưa lũ."),
];
const NOTES: [&str; 4] = [
    "Thực hiện nghiêm 5K: đeo khẩu trang, khử khuẩn, giãn cách chỗ ngồi, đo thân nhiệt và khai báo y tế tại cửa.",
    "Cử tri được mời theo danh sách, thông báo qua Zalo và loa truyền thanh của xã.",
    "Một người ứng cử vắng mặt có lý do (đang công tác), chương trình hành động được đọc tại hội nghị.",
    "Các ý kiến thuộc thẩm quyền cấp tỉnh được tổng hợp gửi Ủy ban MTTQ tỉnh.",
];
const PLATFORMS: [&str; 3] = ["VNPT Meeting", "Zoom", "Microsoft Teams"];

// ---------------------------------------------------------------------------------------------
// Existing demo data.

/// The demo province, if a province with its code exists.
fn existing_demo(conn: &mut PgConnection) -> anyhow::Result<Option<(Uuid, String)>> {
    Ok(s::regions::table
        .filter(s::regions::level.eq("province"))
        .filter(s::regions::code.eq(PROVINCE_CODE))
        .select((s::regions::id, s::regions::name))
        .first(conn)
        .optional()?)
}

/// Deletes the demo province with everything in it, in dependency order, and its election
/// when no other province uses it; revokes the demo's admin tokens. There is no API to delete
/// election data, so this is the one place the demo writes rows itself.
fn remove_demo(conn: &mut PgConnection, province: Uuid) -> anyhow::Result<()> {
    conn.transaction(|conn| {
        diesel::delete(
            s::attendance_reports::table.filter(s::attendance_reports::province_id.eq(province)),
        )
        .execute(conn)?;
        let candidates = s::candidates::table
            .filter(s::candidates::province_id.eq(province))
            .select(s::candidates::id.nullable());
        diesel::delete(
            s::outbox::table.filter(
                s::outbox::province_id
                    .eq(province)
                    .or(s::outbox::candidate_id.eq_any(candidates)),
            ),
        )
        .execute(conn)?;
        diesel::delete(s::meetings::table.filter(s::meetings::province_id.eq(province)))
            .execute(conn)?;
        diesel::delete(s::health_rules::table.filter(s::health_rules::province_id.eq(province)))
            .execute(conn)?;
        diesel::delete(s::candidates::table.filter(s::candidates::province_id.eq(province)))
            .execute(conn)?;
        let elections: Vec<Uuid> = s::electoral_units::table
            .filter(s::electoral_units::province_id.eq(province))
            .select(s::electoral_units::election_id)
            .distinct()
            .load(conn)?;
        diesel::delete(
            s::electoral_units::table.filter(s::electoral_units::province_id.eq(province)),
        )
        .execute(conn)?;
        diesel::delete(
            s::elections::table
                .filter(s::elections::id.eq_any(&elections))
                .filter(diesel::dsl::not(diesel::dsl::exists(
                    s::electoral_units::table
                        .filter(s::electoral_units::election_id.eq(s::elections::id)),
                )))
                .filter(diesel::dsl::not(diesel::dsl::exists(
                    s::meetings::table.filter(s::meetings::election_id.eq(s::elections::id)),
                ))),
        )
        .execute(conn)?;
        diesel::delete(s::venues::table.filter(s::venues::province_id.eq(province)))
            .execute(conn)?;
        let scoped_tokens: Vec<Uuid> = s::api_tokens::table
            .inner_join(
                s::regions::table.on(s::api_tokens::region_id.eq(s::regions::id.nullable())),
            )
            .filter(s::regions::province_id.eq(province))
            .select(s::api_tokens::id)
            .load(conn)?;
        diesel::delete(
            s::idempotency_keys::table.filter(s::idempotency_keys::token_id.eq_any(&scoped_tokens)),
        )
        .execute(conn)?;
        diesel::delete(s::api_tokens::table.filter(s::api_tokens::id.eq_any(&scoped_tokens)))
            .execute(conn)?;
        diesel::update(
            s::api_tokens::table
                .filter(s::api_tokens::name.eq(DEMO_ACTOR))
                .filter(s::api_tokens::role.eq(Role::Admin.as_str()))
                .filter(s::api_tokens::revoked_at.is_null()),
        )
        .set(s::api_tokens::revoked_at.eq(diesel::dsl::now))
        .execute(conn)?;
        diesel::delete(s::regions::table.filter(s::regions::province_id.eq(province)))
            .execute(conn)?;
        audit::record_system(
            conn,
            DEMO_ACTOR,
            Change {
                action: "delete",
                entity_type: "region",
                entity_id: province,
                province_id: None,
                before: Some(
                    json!({"id": province, "code": PROVINCE_CODE, "reason": "demo --reset"}),
                ),
                after: None,
            },
        )?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Time.

/// Campaign days in the election's zone: day 0 is when the candidate lists were published,
/// `today` is today.
struct Clock {
    now: DateTime<Utc>,
    first_midnight: DateTime<Utc>,
    today: i64,
    /// Days with meetings: the last day of the campaign closes at 07:00, before any slot.
    days: i64,
}

impl Clock {
    fn new(now: DateTime<Utc>) -> anyhow::Result<Self> {
        let first_day =
            now.with_timezone(&TIME_ZONE).date_naive() - Duration::days(CAMPAIGN_DAYS_BEFORE_TODAY);
        let first_midnight = first_day
            .and_time(NaiveTime::MIN)
            .and_local_timezone(TIME_ZONE)
            .earliest()
            .ok_or_else(|| anyhow!("no midnight on {first_day} in {TIME_ZONE}"))?
            .with_timezone(&Utc);
        Ok(Self {
            now,
            first_midnight,
            today: CAMPAIGN_DAYS_BEFORE_TODAY,
            days: CAMPAIGN_DAYS_BEFORE_TODAY + POLLING_DAYS_AFTER_TODAY - 1,
        })
    }

    /// Midnight starting campaign day `day` (Việt Nam keeps no daylight saving time).
    fn day_start(&self, day: i64) -> DateTime<Utc> {
        self.first_midnight + Duration::days(day)
    }

    fn campaign_starts_at(&self) -> DateTime<Utc> {
        self.day_start(0)
    }

    /// Polling opens at 07:00, eight days from today.
    fn polling_starts_at(&self) -> DateTime<Utc> {
        self.day_start(self.today + POLLING_DAYS_AFTER_TODAY) + Duration::hours(7)
    }

    fn slot(&self, day: i64, slot: usize) -> (DateTime<Utc>, DateTime<Utc>) {
        let (hour, minute, minutes) = SLOTS[slot % SLOTS.len()];
        let starts_at = self.day_start(day)
            + Duration::hours(i64::from(hour))
            + Duration::minutes(i64::from(minute));
        (starts_at, starts_at + Duration::minutes(minutes))
    }

    fn day_of(&self, t: DateTime<Utc>) -> i64 {
        (t - self.first_midnight).num_days()
    }

    /// Most meetings were held early: the days left get fewer of them.
    fn day_weight(&self, day: i64) -> f64 {
        match day.cmp(&self.today) {
            std::cmp::Ordering::Less => 1.0,
            std::cmp::Ordering::Equal => 0.6,
            std::cmp::Ordering::Greater => 0.4,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

/// Turns an API refusal into a message that names what was refused.
trait OrRefused<T> {
    fn or_refused(self, what: &str) -> anyhow::Result<T>;
}

impl<T> OrRefused<T> for Result<T, ApiError> {
    fn or_refused(self, what: &str) -> anyhow::Result<T> {
        self.map_err(|e| match e {
            ApiError::Invalid(fields) => anyhow!(
                "{what}: {}",
                fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            ApiError::Problem { code, detail, .. } => anyhow!("{what}: {code}: {detail}"),
            ApiError::Internal(cause) => cause.context(what.to_owned()),
        })
    }
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// `n` scaled by a random factor in `[lo, hi)`, rounded down.
fn scaled(rng: &mut StdRng, n: i32, lo: f64, hi: f64) -> i32 {
    (f64::from(n) * rng.random_range(lo..hi)).floor() as i32
}

/// "Huyện Kỳ Anh" → ("huyện", "Kỳ Anh"): the kind as written inside a sentence, and the name.
fn split_kind(name: &str) -> (String, &str) {
    REGION_KINDS
        .iter()
        .find_map(|k| {
            name.strip_prefix(k)
                .map(|rest| (k.trim_end().to_lowercase(), rest))
        })
        .unwrap_or_else(|| (String::new(), name))
}

/// "Huyện Kỳ Anh" → "huyện Kỳ Anh".
fn in_sentence(name: &str) -> String {
    match split_kind(name) {
        (kind, rest) if !kind.is_empty() => format!("{kind} {rest}"),
        (_, rest) => rest.to_owned(),
    }
}

/// Vietnamese letters folded to ASCII, lower case, without spaces: "Kỳ Đồng" → "kydong".
fn ascii_slug(s: &str) -> String {
    const FOLDS: [(char, &str); 7] = [
        ('a', "àáảãạăằắẳẵặâầấẩẫậ"),
        ('e', "èéẻẽẹêềếểễệ"),
        ('i', "ìíỉĩị"),
        ('o', "òóỏõọôồốổỗộơờớởỡợ"),
        ('u', "ùúủũụưừứửữự"),
        ('y', "ỳýỷỹỵ"),
        ('d', "đ"),
    ];
    s.chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| {
            if c.is_ascii_alphanumeric() {
                Some(c)
            } else {
                FOLDS
                    .iter()
                    .find(|(_, from)| from.contains(c))
                    .map(|(to, _)| *to)
            }
        })
        .collect()
}

/// A Vietnamese full name (family, middle, given).
fn person(rng: &mut StdRng) -> [&'static str; 3] {
    let family = *pick(rng, &FAMILY_NAMES);
    if rng.random_bool(0.4) {
        [
            family,
            *pick(rng, &FEMALE_MIDDLE_NAMES),
            *pick(rng, &FEMALE_GIVEN_NAMES),
        ]
    } else {
        [
            family,
            *pick(rng, &MALE_MIDDLE_NAMES),
            *pick(rng, &MALE_GIVEN_NAMES),
        ]
    }
}

fn email(raw: String) -> anyhow::Result<String> {
    EmailAddress::parse(&raw)
        .map(|e| e.as_str().to_owned())
        .map_err(|e| anyhow!(e))
}

fn audit_created(
    conn: &mut PgConnection,
    who: &Caller,
    entity_type: &str,
    entity_id: Uuid,
    province_id: Option<Uuid>,
    after: &impl Serialize,
) -> anyhow::Result<()> {
    audit::record(
        conn,
        who,
        Change {
            action: "create",
            entity_type,
            entity_id,
            province_id,
            before: None,
            after: serde_json::to_value(after).ok(),
        },
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Setting up: regions, tokens, the election, units, candidates, venues, rules.

struct District {
    region: Region,
    seed: &'static DistrictSeed,
    communes: Vec<usize>,
    /// The district's hall: the connection point of online meetings.
    hall: usize,
    mttq_chair: String,
}

struct Commune {
    region: Region,
    district: usize,
    venues: Vec<usize>,
    mttq_chair: String,
}

struct Venue {
    id: Uuid,
    facts: VenueFacts,
    path: Vec<Uuid>,
    district: usize,
}

struct Unit {
    id: Uuid,
    kind: Kind,
    /// For `Kind::National`, the index into `NATIONAL_UNITS`.
    number: usize,
    district: Option<usize>,
    commune: Option<usize>,
    /// Where its voters live.
    communes: Vec<usize>,
    active_candidates: Vec<Uuid>,
}

/// Everything set up, kept in memory so meetings can be scheduled without asking the database.
struct World {
    caller: Caller,
    province: Region,
    election: Election,
    districts: Vec<District>,
    communes: Vec<Commune>,
    venues: Vec<Venue>,
    units: Vec<Unit>,
    candidates: usize,
    withdrawn: usize,
    rules: Vec<RegionalRule>,
    province_chairs: Vec<String>,
    tokens: DemoTokens,
}

impl World {
    /// What an in-person site at this venue may hold over `[from, to)`: the same computation
    /// as the API's capacity check, over the rules created.
    fn capacity(&self, venue: usize, from: DateTime<Utc>, to: DateTime<Utc>) -> CapacityVerdict {
        let v = &self.venues[venue];
        let rules: Vec<RuleFacts> = self
            .rules
            .iter()
            .filter(|r| v.path.contains(&r.region_id))
            .map(|r| r.facts)
            .collect();
        effective_capacity(&v.facts, &rules, from, to)
    }
}

fn set_up(conn: &mut PgConnection, rng: &mut StdRng, clock: &Clock) -> anyhow::Result<World> {
    let (admin_id, admin) =
        auth::create_token(conn, DEMO_ACTOR, Role::Admin, None).or_refused("admin token")?;
    let caller = Caller {
        id: admin_id,
        name: DEMO_ACTOR.to_owned(),
        role: Role::Admin,
        region_id: None,
    };
    audit::record_system(
        conn,
        DEMO_ACTOR,
        Change {
            action: "create",
            entity_type: "token",
            entity_id: admin_id,
            province_id: None,
            before: None,
            after: Some(json!({"id": admin_id, "name": DEMO_ACTOR, "role": "admin"})),
        },
    )?;
    let province = create_region(
        conn,
        &caller,
        PROVINCE,
        Level::Province,
        None,
        Some(PROVINCE_CODE),
        Some(format!("ubmttq@{MAIL_DOMAIN}")),
    )?;
    let organizer = scoped_token(
        conn,
        &caller,
        "Ban Thường trực Ủy ban MTTQ tỉnh Hà Tĩnh",
        Role::Organizer,
        province.id,
    )?;
    let observer = scoped_token(
        conn,
        &caller,
        "Ủy ban bầu cử tỉnh Hà Tĩnh",
        Role::Observer,
        province.id,
    )?;
    let (districts, communes) = create_regions(conn, rng, &caller, &province)?;
    let election = create_election(conn, &caller, clock)?;
    let mut world = World {
        caller,
        province,
        election,
        districts,
        communes,
        venues: Vec::new(),
        units: Vec::new(),
        candidates: 0,
        withdrawn: 0,
        rules: Vec::new(),
        province_chairs: (0..3).map(|_| person(rng).join(" ")).collect(),
        tokens: DemoTokens {
            admin,
            organizer,
            observer,
        },
    };
    create_units(conn, rng, &mut world)?;
    create_venues(conn, rng, &mut world)?;
    create_health_rules(conn, clock, &mut world)?;
    Ok(world)
}

fn create_region(
    conn: &mut PgConnection,
    who: &Caller,
    name: &str,
    level: Level,
    parent_id: Option<Uuid>,
    code: Option<&str>,
    contact_email: Option<String>,
) -> anyhow::Result<Region> {
    let region = regions::create(
        conn,
        RegionForm {
            name: name.to_owned(),
            level,
            parent_id,
            code: code.map(str::to_owned),
            contact_email: contact_email.map(email).transpose()?,
        },
    )
    .or_refused(name)?;
    audit_created(
        conn,
        who,
        "region",
        region.id,
        Some(region.province_id),
        &region,
    )?;
    Ok(region)
}

fn scoped_token(
    conn: &mut PgConnection,
    who: &Caller,
    name: &str,
    role: Role,
    region: Uuid,
) -> anyhow::Result<String> {
    let (id, token) = auth::create_token(conn, name, role, Some(region)).or_refused(name)?;
    audit_created(
        conn,
        who,
        "token",
        id,
        Some(region),
        &json!({"id": id, "name": name, "role": role, "region_id": region}),
    )?;
    Ok(token)
}

/// Districts and communes; every district has a contact address, about a third of the
/// communes have none (their notices go to the district).
fn create_regions(
    conn: &mut PgConnection,
    rng: &mut StdRng,
    who: &Caller,
    province: &Region,
) -> anyhow::Result<(Vec<District>, Vec<Commune>)> {
    let mut districts = Vec::new();
    let mut communes = Vec::new();
    for seed in &DISTRICTS {
        let district_slug = ascii_slug(seed.name);
        let region = create_region(
            conn,
            who,
            seed.name,
            Level::District,
            Some(province.id),
            Some(seed.code),
            Some(format!("ubmttq.{district_slug}@{MAIL_DOMAIN}")),
        )?;
        let index = districts.len();
        let mut members = Vec::new();
        for name in seed.communes.split(", ") {
            let contact = rng
                .random_bool(0.65)
                .then(|| format!("ubmttq.{}@{district_slug}.{MAIL_DOMAIN}", ascii_slug(name)));
            let commune = create_region(
                conn,
                who,
                name,
                Level::Commune,
                Some(region.id),
                None,
                contact,
            )?;
            members.push(communes.len());
            communes.push(Commune {
                region: commune,
                district: index,
                venues: Vec::new(),
                mttq_chair: person(rng).join(" "),
            });
        }
        districts.push(District {
            region,
            seed,
            communes: members,
            hall: 0,
            mttq_chair: person(rng).join(" "),
        });
    }
    Ok((districts, communes))
}

fn create_election(
    conn: &mut PgConnection,
    who: &Caller,
    clock: &Clock,
) -> anyhow::Result<Election> {
    let minimums = elections::parse_minimums(&json!({
        "national_assembly": 10,
        "province_council": 5,
        "district_council": 3,
        "commune_council": 2,
    }))
    .map_err(|e| anyhow!(e))?;
    let election = elections::create_election(
        conn,
        ElectionInsertForm {
            id: Uuid::now_v7(),
            name: ELECTION.to_owned(),
            polling_starts_at: clock.polling_starts_at(),
            campaign_starts_at: clock.campaign_starts_at(),
            timezone: TIME_ZONE.name().to_owned(),
            report_deadline_hours: REPORT_DEADLINE_HOURS,
            min_meetings_per_candidate: minimums,
        },
    )
    .or_refused("election")?;
    audit_created(conn, who, "election", election.id, None, &election)?;
    Ok(election)
}

/// A unit's slice of a list: part `i` of `n` nearly equal parts.
fn share<T: Clone>(items: &[T], i: usize, n: usize) -> Vec<T> {
    let (from, to) = (items.len() * i / n, items.len() * (i + 1) / n);
    items[from..to].to_vec()
}

/// National Assembly units over the province, provincial-council units in every district,
/// district- and commune-council units where the seeds load them; their candidates.
fn create_units(conn: &mut PgConnection, rng: &mut StdRng, w: &mut World) -> anyhow::Result<()> {
    for (number, (name, seats)) in NATIONAL_UNITS.iter().enumerate() {
        let communes: Vec<usize> = w
            .districts
            .iter()
            .filter(|d| d.seed.national_unit == number)
            .flat_map(|d| d.communes.iter().copied())
            .collect();
        let areas: Vec<&str> = w
            .districts
            .iter()
            .filter(|d| d.seed.national_unit == number)
            .map(|d| d.seed.name)
            .collect();
        let name = format!("{name} ({})", areas.join(", "));
        let region = w.province.clone();
        let unit = Unit {
            id: Uuid::nil(),
            kind: Kind::National,
            number,
            district: None,
            commune: None,
            communes,
            active_candidates: Vec::new(),
        };
        create_unit(conn, rng, w, unit, &region, name, *seats)?;
    }
    let mut province_number = 0;
    for d in 0..w.districts.len() {
        let seed = w.districts[d].seed;
        let region = w.districts[d].region.clone();
        let members = w.districts[d].communes.clone();
        let district_name = in_sentence(seed.name);
        for i in 0..seed.province_units {
            province_number += 1;
            let unit = Unit {
                id: Uuid::nil(),
                kind: Kind::Province,
                number: 0,
                district: Some(d),
                commune: None,
                communes: share(&members, i, seed.province_units),
                active_candidates: Vec::new(),
            };
            let name = format!("Đơn vị bầu cử HĐND tỉnh số {province_number} ({district_name})");
            let seats = rng.random_range(3..=5);
            create_unit(conn, rng, w, unit, &region, name, seats)?;
        }
        for i in 0..seed.district_units {
            let unit = Unit {
                id: Uuid::nil(),
                kind: Kind::District,
                number: 0,
                district: Some(d),
                commune: None,
                communes: share(&members, i, seed.district_units),
                active_candidates: Vec::new(),
            };
            let name = format!("Đơn vị bầu cử HĐND {district_name} số {}", i + 1);
            let seats = rng.random_range(3..=5);
            create_unit(conn, rng, w, unit, &region, name, seats)?;
        }
        // Spread the communes with council units over the district.
        for k in 0..seed.commune_councils {
            let c = members[(2 * k + 1) * members.len() / (2 * seed.commune_councils)];
            let commune_region = w.communes[c].region.clone();
            for i in 0..2 {
                let unit = Unit {
                    id: Uuid::nil(),
                    kind: Kind::Commune,
                    number: 0,
                    district: Some(d),
                    commune: Some(c),
                    communes: vec![c],
                    active_candidates: Vec::new(),
                };
                let name = format!(
                    "Đơn vị bầu cử HĐND {} số {}",
                    in_sentence(&commune_region.name),
                    i + 1
                );
                let seats = rng.random_range(3..=5);
                create_unit(conn, rng, w, unit, &commune_region, name, seats)?;
            }
        }
    }
    Ok(())
}

/// Creates the unit and its candidates: at least two more than seats, as the law requires
/// (about 1.7 a seat); a few are `en`; in a few large units one candidate has withdrawn.
fn create_unit(
    conn: &mut PgConnection,
    rng: &mut StdRng,
    w: &mut World,
    mut unit: Unit,
    region: &Region,
    name: String,
    seats: i32,
) -> anyhow::Result<()> {
    let body = unit.kind.body();
    let region = elections::unit_region(conn, body, region.id).or_refused(&name)?;
    let created = elections::create_unit(
        conn,
        w.election.id,
        &region,
        UnitForm {
            name: name.clone(),
            body,
            region_id: region.id,
            seats,
        },
    )
    .or_refused(&name)?;
    audit_created(
        conn,
        &w.caller,
        "electoral_unit",
        created.id,
        Some(created.province_id),
        &created,
    )?;
    unit.id = created.id;
    let count = seats + 2 + i32::from(seats >= 4);
    let withdraws = seats >= 4 && w.units.len() % 9 == 4;
    for i in 0..count {
        w.candidates += 1;
        let [family, middle, given] = person(rng);
        let candidate = elections::create_candidate(
            conn,
            CandidateInsertForm {
                id: Uuid::now_v7(),
                province_id: created.province_id,
                electoral_unit_id: created.id,
                full_name: format!("{family} {middle} {given}"),
                email: email(format!(
                    "{}.{}.{}.{}@{CANDIDATE_MAIL_DOMAIN}",
                    ascii_slug(family),
                    ascii_slug(middle),
                    ascii_slug(given),
                    w.candidates
                ))?,
                locale: if w.candidates % 17 == 5 { "en" } else { "vi" }.to_owned(),
            },
        )
        .or_refused(&name)?;
        audit_created(
            conn,
            &w.caller,
            "candidate",
            candidate.id,
            Some(candidate.province_id),
            &candidate,
        )?;
        if withdraws && i == count - 1 {
            withdraw(conn, &w.caller, candidate.id)?;
            w.withdrawn += 1;
        } else {
            unit.active_candidates.push(candidate.id);
        }
    }
    w.units.push(unit);
    Ok(())
}

/// As `PATCH /candidates/{id}` with `{"status": "withdrawn"}` (before any meeting is planned,
/// so they leave none).
fn withdraw(conn: &mut PgConnection, who: &Caller, id: Uuid) -> anyhow::Result<()> {
    let before = elections::lock_candidate(conn, id).or_refused("candidate")?;
    let after = elections::update_candidate(
        conn,
        id,
        CandidateUpdateForm {
            status: Some("withdrawn".to_owned()),
            ..Default::default()
        },
    )
    .or_refused("candidate")?;
    planning::withdraw_from_future_meetings(conn, id).or_refused("candidate")?;
    audit::record(
        conn,
        who,
        Change {
            action: "update",
            entity_type: "candidate",
            entity_id: id,
            province_id: Some(after.province_id),
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
    )?;
    Ok(())
}

struct VenueSeed {
    name: String,
    address: String,
    capacity: i32,
    setting: Setting,
}

/// One to three places per commune — its People's Committee hall always, often a village
/// cultural house, sometimes a school hall or a sports ground — and one hall per district.
fn create_venues(conn: &mut PgConnection, rng: &mut StdRng, w: &mut World) -> anyhow::Result<()> {
    for d in 0..w.districts.len() {
        let district = &w.districts[d].region;
        let where_ = format!("{}, tỉnh Hà Tĩnh", district.name);
        let hall = VenueSeed {
            name: format!("Hội trường UBND {}", in_sentence(&district.name)),
            address: where_,
            capacity: rng.random_range(250..=400),
            setting: Setting::Indoor,
        };
        let path = district.path.clone();
        let region = district.id;
        w.districts[d].hall = create_venue(conn, rng, w, hall, region, path, d)?;
    }
    for c in 0..w.communes.len() {
        let commune = &w.communes[c];
        let district = &w.districts[commune.district].region;
        let (kind, name) = split_kind(&commune.region.name);
        let where_ = format!("{}, {}, tỉnh Hà Tĩnh", commune.region.name, district.name);
        let mut seeds = vec![VenueSeed {
            name: format!("Hội trường UBND {kind} {name}"),
            address: where_.clone(),
            capacity: rng.random_range(120..=250),
            setting: Setting::Indoor,
        }];
        if rng.random_bool(0.6) {
            let (name, address) = if kind == "xã" {
                let village = pick(rng, &VILLAGES);
                (
                    format!("Nhà văn hóa thôn {village}"),
                    format!("Thôn {village}, {where_}"),
                )
            } else {
                let block = rng.random_range(1..=12);
                (
                    format!("Nhà văn hóa tổ dân phố {block}"),
                    format!("Tổ dân phố {block}, {where_}"),
                )
            };
            seeds.push(VenueSeed {
                name,
                address,
                capacity: rng.random_range(60..=140),
                setting: Setting::Indoor,
            });
        }
        if rng.random_bool(0.35) {
            seeds.push(if rng.random_bool(0.7) {
                VenueSeed {
                    name: format!("Hội trường Trường THCS {name}"),
                    address: where_.clone(),
                    capacity: rng.random_range(150..=300),
                    setting: Setting::Indoor,
                }
            } else {
                VenueSeed {
                    name: format!("Sân vận động {kind} {name}"),
                    address: where_.clone(),
                    capacity: rng.random_range(250..=400),
                    setting: Setting::Outdoor,
                }
            });
        }
        let (region, path, district) = (
            commune.region.id,
            commune.region.path.clone(),
            commune.district,
        );
        for seed in seeds {
            let v = create_venue(conn, rng, w, seed, region, path.clone(), district)?;
            w.communes[c].venues.push(v);
        }
    }
    Ok(())
}

fn create_venue(
    conn: &mut PgConnection,
    rng: &mut StdRng,
    w: &mut World,
    seed: VenueSeed,
    region_id: Uuid,
    path: Vec<Uuid>,
    district: usize,
) -> anyhow::Result<usize> {
    // Halls were measured for the distancing rules more often than not; grounds always.
    let area_m2 = match seed.setting {
        Setting::Outdoor => Some((f64::from(seed.capacity) * rng.random_range(2.5..4.0)).round()),
        Setting::Indoor => rng
            .random_bool(0.75)
            .then(|| (f64::from(seed.capacity) * rng.random_range(1.2..1.8)).round()),
    };
    let venue = venues::create(
        conn,
        VenueInsertForm {
            id: Uuid::now_v7(),
            province_id: w.province.id,
            region_id,
            name: seed.name.clone(),
            address: seed.address,
            capacity: seed.capacity,
            area_m2,
            setting: seed.setting.as_str().to_owned(),
        },
    )
    .or_refused(&seed.name)?;
    audit_created(
        conn,
        &w.caller,
        "venue",
        venue.id,
        Some(venue.province_id),
        &venue,
    )?;
    w.venues.push(Venue {
        id: venue.id,
        facts: venue.facts().or_refused(&seed.name)?,
        path,
        district,
    });
    Ok(w.venues.len() - 1)
}

/// The rules in force over the campaign: 75% occupancy province-wide from the start; from
/// eight days ago a Chỉ thị 15 variant in the tightened districts; a three-day ban on
/// in-person meetings in the banned district, eleven to eight days ago.
fn create_health_rules(
    conn: &mut PgConnection,
    clock: &Clock,
    w: &mut World,
) -> anyhow::Result<()> {
    let base = HealthRuleForm {
        region_id: w.province.id,
        province_id: w.province.id,
        effective_from: clock.campaign_starts_at(),
        effective_until: None,
        applies_to: "any".to_owned(),
        max_attendees: None,
        max_occupancy_percent: Some(75),
        min_area_per_person_m2: None,
        combine: "min".to_owned(),
        reference: Some(PROVINCE_RULE.to_owned()),
        in_person_allowed: true,
    };
    let mut forms = vec![base.clone()];
    for d in &w.districts {
        match d.seed.covid {
            Covid::Normal => {}
            Covid::Tightened => forms.push(HealthRuleForm {
                region_id: d.region.id,
                effective_from: clock.day_start(clock.today - 8),
                applies_to: "indoor".to_owned(),
                max_attendees: Some(50),
                max_occupancy_percent: None,
                min_area_per_person_m2: Some(2.0),
                reference: Some(TIGHTENED_RULE.to_owned()),
                ..base.clone()
            }),
            Covid::Banned => forms.push(HealthRuleForm {
                region_id: d.region.id,
                effective_from: clock.day_start(clock.today - 11),
                effective_until: Some(clock.day_start(clock.today - 8)),
                max_occupancy_percent: None,
                reference: Some(BAN_RULE.to_owned()),
                in_person_allowed: false,
                ..base.clone()
            }),
        }
    }
    for form in forms {
        let (rule, _) = create_rule(conn, &w.caller, form)?;
        w.rules.push(rule.regional().or_refused("health rule")?);
    }
    Ok(())
}

/// As `POST /health-rules`: under the province's rule lock, create the rule and re-evaluate
/// the planned meetings it reaches. Returns the rule and the meetings it flagged.
fn create_rule(
    conn: &mut PgConnection,
    who: &Caller,
    form: HealthRuleForm,
) -> anyhow::Result<(health_rules::HealthRule, Vec<planning::AffectedMeeting>)> {
    let what = form.reference.clone().unwrap_or_default();
    health_rules::lock_province_rules(conn, form.province_id, true)?;
    let rule = health_rules::create(conn, &form).or_refused(&what)?;
    let reached = planning::meetings_reached(
        conn,
        rule.region_id,
        rule.effective_from,
        rule.effective_until,
    )
    .or_refused(&what)?;
    let affected =
        planning::reevaluate(conn, &reached, rule.reference.as_deref()).or_refused(&what)?;
    audit_created(
        conn,
        who,
        "health_rule",
        rule.id,
        Some(rule.province_id),
        &rule,
    )?;
    Ok((rule, affected))
}

// ---------------------------------------------------------------------------------------------
// Planning meetings.

/// Who a meeting is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    National,
    /// One meeting for a National Assembly unit and a provincial-council unit together.
    Joint,
    Province,
    District,
    Commune,
}

impl Kind {
    fn body(self) -> Body {
        match self {
            Kind::National | Kind::Joint => Body::NationalAssembly,
            Kind::Province => Body::ProvinceCouncil,
            Kind::District => Body::DistrictCouncil,
            Kind::Commune => Body::CommuneCouncil,
        }
    }
}

/// A meeting to schedule: its units (the last one says where its voters live).
struct Request {
    kind: Kind,
    units: Vec<usize>,
    online: bool,
}

/// The meetings to schedule: `MIX` of `n`, spread evenly over the units of each kind, in a
/// random order; a share of the National Assembly and provincial ones online (the ban adds
/// more).
fn requests(w: &World, n: u32, rng: &mut StdRng) -> Vec<Request> {
    let n = n as usize;
    let mut out = Vec::with_capacity(n);
    let mut assigned = 0;
    for (i, (kind, share)) in MIX.iter().enumerate() {
        let count = if i + 1 == MIX.len() {
            n - assigned
        } else {
            ((n as f64 * share).round() as usize).min(n - assigned)
        };
        assigned += count;
        let owners: Vec<usize> = w
            .units
            .iter()
            .enumerate()
            .filter(|(_, u)| {
                u.kind
                    == if *kind == Kind::Joint {
                        Kind::Province
                    } else {
                        *kind
                    }
            })
            .map(|(i, _)| i)
            .collect();
        if owners.is_empty() {
            continue;
        }
        for k in 0..count {
            let unit = owners[k % owners.len()];
            let units =
                match kind {
                    Kind::Joint => {
                        let national_unit = w.units[unit]
                            .district
                            .map(|d| w.districts[d].seed.national_unit);
                        match w.units.iter().position(|u| {
                            u.kind == Kind::National && Some(u.number) == national_unit
                        }) {
                            Some(national) => vec![national, unit],
                            None => vec![unit],
                        }
                    }
                    _ => vec![unit],
                };
            out.push(Request {
                kind: *kind,
                units,
                online: false,
            });
        }
    }
    out.shuffle(rng);
    let online = (n as f64 * ONLINE_SHARE * 0.75).round() as usize;
    let eligible: Vec<usize> = (0..out.len())
        .filter(|&i| matches!(out[i].kind, Kind::National | Kind::Joint | Kind::Province))
        .collect();
    if online > 0 && !eligible.is_empty() {
        let step = (eligible.len() / online).max(1);
        for &i in eligible.iter().step_by(step).take(online) {
            out[i].online = true;
        }
    }
    out
}

/// Who is busy when: candidates until the travel buffer after each meeting, venues for the
/// meeting itself. The database enforces the same; checking here first keeps retries rare.
#[derive(Default)]
struct Calendar(HashMap<Uuid, Vec<Period>>);

/// `[from, to)`.
type Period = (DateTime<Utc>, DateTime<Utc>);

impl Calendar {
    fn free(&self, id: Uuid, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        self.0
            .get(&id)
            .is_none_or(|busy| busy.iter().all(|(f, t)| *t <= from || to <= *f))
    }

    fn book(&mut self, id: Uuid, from: DateTime<Utc>, to: DateTime<Utc>) {
        self.0.entry(id).or_default().push((from, to));
    }
}

struct Planner<'a> {
    world: &'a World,
    clock: &'a Clock,
    travel_buffer: Duration,
    calendar: Calendar,
    /// Cumulative day weights, to draw a campaign day.
    days: Vec<f64>,
    online_meetings: usize,
}

/// How many slots to try for one meeting before giving up on it.
const TRIES: usize = 60;

impl<'a> Planner<'a> {
    fn new(world: &'a World, clock: &'a Clock, travel_buffer: Duration) -> Self {
        let days = (0..clock.days)
            .scan(0.0, |total, d| {
                *total += clock.day_weight(d);
                Some(*total)
            })
            .collect();
        Self {
            world,
            clock,
            travel_buffer,
            calendar: Calendar::default(),
            days,
            online_meetings: 0,
        }
    }

    fn day(&self, rng: &mut StdRng) -> i64 {
        let total = self.days.last().copied().unwrap_or(1.0);
        let x = rng.random_range(0.0..total);
        self.days.iter().position(|&c| x < c).unwrap_or(0) as i64
    }

    /// A plan for the request in a slot where its candidates and venues are free and the
    /// rules let it happen, booked in the calendar; `None` when no slot was found.
    fn draft(&mut self, req: &Request, rng: &mut StdRng) -> Option<MeetingPlan> {
        let w = self.world;
        let candidates: Vec<Uuid> = req
            .units
            .iter()
            .flat_map(|&u| w.units[u].active_candidates.iter().copied())
            .collect();
        let home = &w.units[*req.units.last()?];
        if candidates.is_empty() || home.communes.is_empty() {
            return None;
        }
        for _ in 0..TRIES {
            let day = self.day(rng);
            let (starts_at, ends_at) = self.clock.slot(day, rng.random_range(0..SLOTS.len()));
            let busy_until = ends_at + self.travel_buffer;
            if !candidates
                .iter()
                .all(|c| self.calendar.free(*c, starts_at, busy_until))
            {
                continue;
            }
            let plan = if req.online {
                Some(self.online(req, home, starts_at, ends_at, rng))
            } else {
                self.in_person(req, home, starts_at, ends_at, rng)
            };
            let Some(plan) = plan else { continue };
            for c in &candidates {
                self.calendar.book(*c, starts_at, busy_until);
            }
            for site in &plan.sites {
                self.calendar.book(site.venue_id, starts_at, ends_at);
            }
            if plan.format == Format::Online {
                self.online_meetings += 1;
            }
            return Some(plan);
        }
        None
    }

    fn in_person(
        &self,
        req: &Request,
        home: &Unit,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        rng: &mut StdRng,
    ) -> Option<MeetingPlan> {
        let w = self.world;
        let commune = &w.communes[*pick(rng, &home.communes)];
        // Provincial and national candidates now and then meet voters at the district hall.
        let venue = if !matches!(req.kind, Kind::Commune | Kind::District) && rng.random_bool(0.1) {
            w.districts[commune.district].hall
        } else {
            *pick(rng, &commune.venues)
        };
        if !self.calendar.free(w.venues[venue].id, starts_at, ends_at) {
            return None;
        }
        let verdict = w.capacity(venue, starts_at, ends_at);
        if !verdict.in_person_allowed {
            // Under a ban, about half the meetings move online; the rest wait for a later day.
            return rng
                .random_bool(0.5)
                .then(|| self.online(req, home, starts_at, ends_at, rng));
        }
        if verdict.effective_capacity < 15 {
            return None;
        }
        let place = if venue == w.districts[commune.district].hall {
            in_sentence(&w.districts[commune.district].region.name)
        } else {
            in_sentence(&commune.region.name)
        };
        Some(MeetingPlan {
            election_id: w.election.id,
            unit_ids: req.units.iter().map(|&u| w.units[u].id).collect(),
            format: Format::InPerson,
            title: format!(
                "Hội nghị tiếp xúc cử tri của {} tại {place}",
                self.audience(req)
            ),
            chair: Some(self.chair(req, commune.district, rng)),
            starts_at,
            ends_at,
            candidate_ids: None,
            sites: vec![SiteRequest {
                venue_id: w.venues[venue].id,
                expected_attendees: scaled(rng, verdict.effective_capacity, 0.7, 0.9).max(1),
            }],
            online: None,
        })
    }

    /// An online meeting: the platform for voters joining on their own, and two to six
    /// connection points (district halls and commune halls of the unit's area).
    fn online(
        &self,
        req: &Request,
        home: &Unit,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        rng: &mut StdRng,
    ) -> MeetingPlan {
        let w = self.world;
        let mut points: Vec<usize> = home
            .communes
            .iter()
            .map(|&c| w.districts[w.communes[c].district].hall)
            .collect();
        for _ in 0..6 {
            let commune = &w.communes[*pick(rng, &home.communes)];
            points.extend(commune.venues.first().copied());
        }
        points.sort_unstable();
        points.dedup();
        points.shuffle(rng);
        let wanted = rng.random_range(2..=6);
        let mut sites = Vec::new();
        for venue in points {
            if sites.len() == wanted {
                break;
            }
            let capacity = w.capacity(venue, starts_at, ends_at).effective_capacity;
            if capacity >= 15 && self.calendar.free(w.venues[venue].id, starts_at, ends_at) {
                sites.push(SiteRequest {
                    venue_id: w.venues[venue].id,
                    expected_attendees: scaled(rng, capacity, 0.7, 0.9).max(1),
                });
            }
        }
        let max_participants = *pick(rng, &[200, 300, 500]);
        let district = w.communes[home.communes[0]].district;
        MeetingPlan {
            election_id: w.election.id,
            unit_ids: req.units.iter().map(|&u| w.units[u].id).collect(),
            format: Format::Online,
            title: format!(
                "Hội nghị trực tuyến tiếp xúc cử tri của {} ({} điểm cầu)",
                self.audience(req),
                sites.len() + 1
            ),
            chair: Some(self.chair(req, district, rng)),
            starts_at,
            ends_at,
            candidate_ids: None,
            sites,
            online: Some(OnlinePlan {
                platform: Some((*pick(rng, &PLATFORMS)).to_owned()),
                join_url: Some(format!(
                    "https://hop-truc-tuyen.{MAIL_DOMAIN}/tiep-xuc-cu-tri/{}",
                    self.online_meetings + 1
                )),
                max_participants,
                expected_attendees: scaled(rng, max_participants, 0.2, 0.5),
            }),
        }
    }

    /// Whose candidates meet the voters, as a title says it.
    fn audience(&self, req: &Request) -> String {
        let w = self.world;
        let home = req.units.last().map(|&u| &w.units[u]);
        let district = home
            .and_then(|u| u.district)
            .map(|d| in_sentence(&w.districts[d].region.name))
            .unwrap_or_default();
        let commune = home
            .and_then(|u| u.commune)
            .map(|c| in_sentence(&w.communes[c].region.name))
            .unwrap_or_default();
        match req.kind {
            Kind::National => format!(
                "người ứng cử đại biểu Quốc hội khóa XV, đơn vị bầu cử số {}",
                home.map_or(1, |u| u.number + 1)
            ),
            Kind::Joint => {
                "người ứng cử đại biểu Quốc hội khóa XV và đại biểu HĐND tỉnh".to_owned()
            }
            Kind::Province => "người ứng cử đại biểu HĐND tỉnh".to_owned(),
            Kind::District => format!("người ứng cử đại biểu HĐND {district}"),
            Kind::Commune => format!("người ứng cử đại biểu HĐND {commune}"),
        }
    }

    /// The organizing Fatherland Front committee chairs: the province's for national and
    /// provincial candidates (a district chair stands in now and then), else the unit's level.
    fn chair(&self, req: &Request, district: usize, rng: &mut StdRng) -> (String, Option<String>) {
        let w = self.world;
        let d = &w.districts[district];
        let district_name = in_sentence(&d.region.name);
        match req.kind {
            Kind::National | Kind::Joint | Kind::Province if rng.random_bool(0.8) => (
                pick(rng, &w.province_chairs).clone(),
                Some("Phó Chủ tịch Ủy ban MTTQ Việt Nam tỉnh Hà Tĩnh".to_owned()),
            ),
            Kind::National | Kind::Joint | Kind::Province => (
                d.mttq_chair.clone(),
                Some(format!(
                    "Chủ tịch Ủy ban MTTQ Việt Nam {district_name} (chủ trì thay)"
                )),
            ),
            Kind::District => (
                d.mttq_chair.clone(),
                Some(format!("Chủ tịch Ủy ban MTTQ Việt Nam {district_name}")),
            ),
            Kind::Commune => {
                let commune = req
                    .units
                    .last()
                    .and_then(|&u| w.units[u].commune)
                    .map(|c| &w.communes[c]);
                match commune {
                    Some(c) => (
                        c.mttq_chair.clone(),
                        Some(format!(
                            "Chủ tịch Ủy ban MTTQ Việt Nam {}",
                            in_sentence(&c.region.name)
                        )),
                    ),
                    None => (d.mttq_chair.clone(), None),
                }
            }
        }
    }
}

struct Planned {
    meetings: Vec<MeetingView>,
    unscheduled: usize,
}

/// Plans `options.meetings` meetings through `planning::create`, one transaction per batch and
/// a savepoint per meeting; cancels about 1.5% of them through `planning::cancel`.
fn plan_meetings(
    conn: &mut PgConnection,
    w: &World,
    clock: &Clock,
    rng: &mut StdRng,
    options: &DemoOptions,
) -> anyhow::Result<Planned> {
    let requests = requests(w, options.meetings, rng);
    let mut planner = Planner::new(w, clock, options.travel_buffer);
    let mut planned = Planned {
        meetings: Vec::with_capacity(requests.len()),
        unscheduled: 0,
    };
    let mut progress = Progress::new("planning meetings", requests.len());
    for batch in requests.chunks(PLAN_BATCH) {
        conn.transaction(|conn| {
            for req in batch {
                match plan_one(conn, w, &mut planner, req, rng, options.travel_buffer)? {
                    Some(view) => planned.meetings.push(view),
                    None => planned.unscheduled += 1,
                }
            }
            anyhow::Ok(())
        })?;
        progress.advance(batch.len());
    }
    if planned.unscheduled > 0 {
        tracing::warn!(
            unscheduled = planned.unscheduled,
            "demo: some meetings found no free slot"
        );
    }
    Ok(planned)
}

/// One meeting: drafted, created in a savepoint (a clash the calendar missed only costs
/// another slot), and sometimes cancelled.
fn plan_one(
    conn: &mut PgConnection,
    w: &World,
    planner: &mut Planner<'_>,
    req: &Request,
    rng: &mut StdRng,
    travel_buffer: Duration,
) -> anyhow::Result<Option<MeetingView>> {
    for _ in 0..3 {
        let Some(plan) = planner.draft(req, rng) else {
            return Ok(None);
        };
        let title = plan.title.clone();
        let created =
            conn.transaction(|conn| planning::create(conn, &w.caller, plan, travel_buffer));
        let view = match created {
            Ok(view) => view,
            Err(e) if matches!(e.code(), "candidate_conflict" | "venue_conflict") => continue,
            Err(e) => return Err(e).or_refused(&title),
        };
        if !rng.random_bool(CANCELLED_SHARE) {
            return Ok(Some(view));
        }
        let reason = (*pick(rng, &CANCEL_REASONS)).to_owned();
        return planning::cancel(conn, &w.caller, view.id, reason)
            .map(Some)
            .or_refused(&title);
    }
    Ok(None)
}

/// Progress on stderr (through the log), every tenth of the way.
struct Progress {
    what: &'static str,
    total: usize,
    done: usize,
}

impl Progress {
    fn new(what: &'static str, total: usize) -> Self {
        Self {
            what,
            total,
            done: 0,
        }
    }

    fn advance(&mut self, n: usize) {
        let before = self.done * 10 / self.total.max(1);
        self.done += n;
        if self.done * 10 / self.total.max(1) > before {
            tracing::info!(done = self.done, total = self.total, "demo: {}", self.what);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Attendance.

#[derive(Default)]
struct AttendanceCounts {
    check_ins: usize,
    corrections: usize,
}

/// For every meeting that has ended: door counts at a sample, then the report — on time a few
/// hours after, late a day or two after, or not yet (overdue) — scaled so the reports add up
/// to the reference province's attendances for this many meetings.
fn report_attendance(
    conn: &mut PgConnection,
    w: &World,
    clock: &Clock,
    rng: &mut StdRng,
    planned: &Planned,
    options: &DemoOptions,
) -> anyhow::Result<AttendanceCounts> {
    let ended: Vec<(&MeetingView, Option<DateTime<Utc>>)> = planned
        .meetings
        .iter()
        .filter(|m| m.status == "planned" && m.ends_at <= clock.now)
        .map(|m| {
            let fate: f64 = rng.random();
            let delay = if fate < MISSING_SHARE {
                None
            } else if fate < MISSING_SHARE + LATE_SHARE {
                Some(Duration::minutes(rng.random_range(30 * 60..60 * 60)))
            } else {
                Some(Duration::minutes(rng.random_range(60..20 * 60)))
            };
            // A report due in the future is simply not filed yet.
            let filed_at = delay.map(|d| m.ends_at + d).filter(|t| *t <= clock.now);
            (m, filed_at)
        })
        .collect();
    let mut target = REFERENCE_ATTENDANCES * i64::from(options.meetings) / REFERENCE_MEETINGS;
    let mut expected: i64 = ended
        .iter()
        .filter(|(_, filed)| filed.is_some())
        .map(|(m, _)| expected_of(m))
        .sum();
    let mut counts = AttendanceCounts::default();
    let mut progress = Progress::new("reporting attendance", ended.len());
    for batch in ended.chunks(REPORT_BATCH) {
        conn.transaction(|conn| {
            for (m, filed_at) in batch {
                if rng.random_bool(CHECKED_IN_SHARE) {
                    counts.check_ins += check_in_at_the_door(conn, m, rng)?;
                }
                let Some(filed_at) = *filed_at else { continue };
                let factor = target as f64 / expected.max(1) as f64;
                expected -= expected_of(m);
                let (reported, corrected) = file_report(conn, w, clock, m, filed_at, factor, rng)?;
                target -= i64::from(reported);
                counts.corrections += usize::from(corrected);
            }
            anyhow::Ok(())
        })?;
        progress.advance(batch.len());
    }
    Ok(counts)
}

fn expected_of(m: &MeetingView) -> i64 {
    m.sites
        .iter()
        .map(|s| i64::from(s.expected_attendees))
        .sum::<i64>()
        + m.online
            .as_ref()
            .map_or(0, |o| i64::from(o.expected_attendees))
}

/// Voters arriving in small groups from 45 minutes before the start, a few leaving near the
/// end, counted through the same conditional update as `POST /meetings/{id}/checkins`.
/// Returns how many check-ins were counted.
fn check_in_at_the_door(
    conn: &mut PgConnection,
    m: &MeetingView,
    rng: &mut StdRng,
) -> anyhow::Result<usize> {
    let site = m.sites.first().map(|s| s.id);
    let calls = rng.random_range(20..=40);
    let mut at = m.starts_at - Duration::minutes(45);
    let mut counted = 0;
    for i in 0..calls {
        at += Duration::minutes(rng.random_range(1..=3));
        if at >= m.ends_at {
            break;
        }
        let count = if i > calls * 3 / 4 && rng.random_bool(0.3) {
            -1
        } else {
            rng.random_range(1..=3)
        };
        match crate::db::attendance::check_in(conn, m.id, site, count, None, at)? {
            Some(_) => counted += 1,
            None if count > 0 => break,
            None => {}
        }
    }
    Ok(counted)
}

/// Files the meeting's report at `filed_at`, each site at about `factor` times its expected
/// attendance and never above what it may hold; now and then a correction follows.
/// Returns the attendances finally reported and whether it was corrected.
fn file_report(
    conn: &mut PgConnection,
    w: &World,
    clock: &Clock,
    m: &MeetingView,
    filed_at: DateTime<Utc>,
    factor: f64,
    rng: &mut StdRng,
) -> anyhow::Result<(i32, bool)> {
    let count = |rng: &mut StdRng, expected: i32, most: i32| {
        ((f64::from(expected) * factor * rng.random_range(0.9..1.1)).round() as i32).clamp(0, most)
    };
    let sites: Vec<SiteAttendance> = m
        .sites
        .iter()
        .map(|s| SiteAttendance {
            site_id: s.id,
            attendees: count(rng, s.expected_attendees, s.effective_capacity),
        })
        .collect();
    let online = m
        .online
        .as_ref()
        .map(|o| count(rng, o.expected_attendees, o.max_participants));
    let opinions_count = if m.online.is_some() {
        rng.random_range(10..=30)
    } else {
        rng.random_range(2..=15)
    };
    let listed = rng.random_range(0..=3.min(opinions_count));
    let submission = Submission {
        attendees: sites.iter().map(|s| s.attendees).sum::<i32>() + online.unwrap_or(0),
        sites,
        online_attendees: online,
        opinions_count: Some(opinions_count),
        opinions: (0..listed)
            .map(|_| {
                let (topic, text) = *pick(rng, &OPINIONS);
                Opinion {
                    topic: Some(topic.to_owned()),
                    text: Some(text.to_owned()),
                }
            })
            .collect(),
        notes: rng
            .random_bool(0.3)
            .then(|| (*pick(rng, &NOTES)).to_owned()),
        correction_reason: None,
    };
    let first = attendance::file(conn, &w.caller, m.id, submission.clone(), filed_at)
        .or_refused(&m.title)?;
    if !rng.random_bool(CORRECTED_SHARE) {
        return Ok((first.attendees, false));
    }
    // The signed minutes counted a few people fewer at the first site (or online).
    let fewer = rng.random_range(1..=4);
    let mut corrected = submission;
    match corrected.sites.first_mut() {
        Some(site) => site.attendees = (site.attendees - fewer).max(0),
        None => corrected.online_attendees = corrected.online_attendees.map(|n| (n - fewer).max(0)),
    }
    corrected.attendees = corrected.sites.iter().map(|s| s.attendees).sum::<i32>()
        + corrected.online_attendees.unwrap_or(0);
    corrected.correction_reason = Some(CORRECTION_REASON.to_owned());
    let at = (filed_at + Duration::hours(rng.random_range(3..30))).min(clock.now);
    let second = attendance::file(conn, &w.caller, m.id, corrected, at).or_refused(&m.title)?;
    Ok((second.attendees, true))
}

// ---------------------------------------------------------------------------------------------
// A rule change that reaches planned meetings.

/// Tightens the rules for two coming days in the district with the most planned indoor
/// meetings expecting more than `ATTENTION_CAP`, as `POST /health-rules` does: those meetings
/// are flagged `needs_attention` and their organizers notified. Returns the rule's reference
/// and how many meetings it flagged; `None` when no planned meeting would be reached.
fn flag_upcoming(
    conn: &mut PgConnection,
    w: &World,
    clock: &Clock,
    planned: &Planned,
) -> anyhow::Result<Option<(String, usize)>> {
    let venue_at: HashMap<Uuid, &Venue> = w.venues.iter().map(|v| (v.id, v)).collect();
    let mut reached: HashMap<(usize, i64), usize> = HashMap::new();
    for m in &planned.meetings {
        if m.status != "planned" || m.format != Format::InPerson.as_str() {
            continue;
        }
        let Some(site) = m.sites.first() else {
            continue;
        };
        let Some(venue) = venue_at.get(&site.venue_id) else {
            continue;
        };
        let day = clock.day_of(m.starts_at);
        if day <= clock.today
            || venue.facts.setting != Setting::Indoor
            || site.expected_attendees <= ATTENTION_CAP
        {
            continue;
        }
        // Counted for the two-day windows starting that day and the day before.
        for from in [day - 1, day] {
            if from > clock.today {
                *reached.entry((venue.district, from)).or_default() += 1;
            }
        }
    }
    // Most meetings reached; ties go to the first district and day, so the choice is stable.
    let Some((&(district, from), _)) = reached
        .iter()
        .max_by_key(|(key, n)| (**n, std::cmp::Reverse(**key)))
    else {
        return Ok(None);
    };
    let form = HealthRuleForm {
        region_id: w.districts[district].region.id,
        province_id: w.province.id,
        effective_from: clock.day_start(from),
        effective_until: Some(clock.day_start(from + 2)),
        applies_to: "indoor".to_owned(),
        max_attendees: Some(ATTENTION_CAP),
        max_occupancy_percent: None,
        min_area_per_person_m2: None,
        combine: "min".to_owned(),
        reference: Some(ATTENTION_RULE.to_owned()),
        in_person_allowed: true,
    };
    let (_, affected) = conn.transaction(|conn| create_rule(conn, &w.caller, form))?;
    Ok(Some((
        format!("{ATTENTION_RULE} ({})", w.districts[district].region.name),
        affected.len(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_names_fold_to_ascii() {
        assert_eq!(ascii_slug("Huyện Kỳ Anh"), "huyenkyanh");
        assert_eq!(ascii_slug("Đặng Thị Thúy"), "dangthithuy");
        assert_eq!(ascii_slug("Xã Sơn Kim 1"), "xasonkim1");
    }

    #[test]
    fn region_kinds_read_inside_a_sentence() {
        assert_eq!(in_sentence("Thị xã Kỳ Anh"), "thị xã Kỳ Anh");
        assert_eq!(in_sentence("Xã Kỳ Đồng"), "xã Kỳ Đồng");
        assert_eq!(in_sentence("Thành phố Hà Tĩnh"), "thành phố Hà Tĩnh");
        assert_eq!(split_kind("Thị trấn Nghèn").1, "Nghèn");
    }

    #[test]
    fn every_seed_email_parses() {
        for d in &DISTRICTS {
            assert!(
                EmailAddress::parse(&format!("ubmttq.{}@{MAIL_DOMAIN}", ascii_slug(d.name)))
                    .is_ok()
            );
            for c in d.communes.split(", ") {
                let slug = ascii_slug(c);
                assert!(slug.is_ascii() && !slug.is_empty(), "{c}");
            }
        }
    }

    #[test]
    fn slots_leave_room_for_the_travel_buffer_and_end_before_campaigning_closes() {
        let clock = Clock::new(Utc::now()).expect("clock");
        for slot in 1..SLOTS.len() {
            let (_, end) = clock.slot(0, slot - 1);
            let (next, _) = clock.slot(0, slot);
            assert!(end + Duration::minutes(30) <= next);
        }
        let (_, last) = clock.slot(clock.days - 1, SLOTS.len() - 1);
        assert!(last <= clock.polling_starts_at() - Duration::hours(24));
    }
}
