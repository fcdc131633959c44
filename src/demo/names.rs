//! The demo's words: the two provinces (Hà Tĩnh mid-campaign, Thái Nguyên after it) with
//! their districts and communes, Vietnamese names, places, what voters said, and the
//! references of the rules in force.

/// The public-health regime a district lives under during the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Covid {
    Normal,
    /// A Chỉ thị 15 variant for the last part of the campaign: indoor halls at most 50, 2 m²
    /// a person.
    Tightened,
    /// In-person gatherings banned for three days (as Đà Nẵng's Công văn 82 did); its
    /// meetings of those days go online.
    Banned,
}

pub struct DistrictSeed {
    pub name: &'static str,
    pub code: &'static str,
    /// Index into the province's National Assembly units of the one covering it.
    pub national_unit: usize,
    /// Provincial-council units drawn in the district.
    pub province_units: usize,
    /// The district council's seats (0: its units are not loaded).
    pub district_seats: i32,
    /// Communes whose council units are loaded, when the province does not load them all.
    pub commune_councils: usize,
    pub covid: Covid,
    /// Comma-separated.
    pub communes: &'static str,
}

pub struct ProvinceSeed {
    pub name: &'static str,
    pub code: &'static str,
    pub mail_domain: &'static str,
    /// Seats of each National Assembly unit.
    pub national_seats: &'static [i32],
    /// Provincial-council seats, over the districts' units.
    pub province_seats: i32,
    /// Commune-council seats over every commune; `None`: two units of three seats in each
    /// district's first `commune_councils` communes.
    pub commune_seats: Option<i32>,
    pub districts: &'static [DistrictSeed],
}

pub const ELECTION: &str =
    "Bầu cử đại biểu Quốc hội khóa XV và đại biểu HĐND các cấp nhiệm kỳ 2021-2026";

/// Hà Tĩnh: 7 National Assembly deputies; a sample of its district and commune councils.
pub const HA_TINH: ProvinceSeed = ProvinceSeed {
    name: "Tỉnh Hà Tĩnh",
    code: "42",
    mail_domain: "hatinh.example",
    national_seats: &[3, 2, 2],
    province_seats: 56,
    commune_seats: None,
    districts: &HA_TINH_DISTRICTS,
};

const HA_TINH_DISTRICTS: [DistrictSeed; 13] = [
    DistrictSeed {
        name: "Thành phố Hà Tĩnh",
        code: "436",
        national_unit: 0,
        province_units: 1,
        district_seats: 12,
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
        district_seats: 0,
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
        district_seats: 12,
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
        district_seats: 0,
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
        district_seats: 0,
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
        district_seats: 12,
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
        district_seats: 12,
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
        district_seats: 12,
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
        district_seats: 12,
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
        district_seats: 12,
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
        district_seats: 12,
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
        district_seats: 0,
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
        district_seats: 0,
        commune_councils: 2,
        covid: Covid::Normal,
        communes: "Phường Hưng Trí, Phường Kỳ Ninh, Phường Kỳ Long, Phường Kỳ Thịnh, \
             Phường Kỳ Trinh, Phường Kỳ Phương, Phường Kỳ Liên, Xã Kỳ Hà, Xã Kỳ Hoa, \
             Xã Kỳ Lợi, Xã Kỳ Nam, Xã Kỳ Hưng",
    },
];

/// Thái Nguyên, the reference province of SPEC §1: its nine district-level units, which
/// elected 7 National Assembly, 66 provincial, 319 district and 4,073 commune deputies.
pub const THAI_NGUYEN: ProvinceSeed = ProvinceSeed {
    name: "Tỉnh Thái Nguyên",
    code: "19",
    mail_domain: "thainguyen.example",
    national_seats: &[3, 2, 2],
    province_seats: 66,
    commune_seats: Some(4_073),
    districts: &THAI_NGUYEN_DISTRICTS,
};

const THAI_NGUYEN_DISTRICTS: [DistrictSeed; 9] = [
    DistrictSeed {
        name: "Thành phố Thái Nguyên",
        code: "164",
        national_unit: 0,
        province_units: 4,
        district_seats: 40,
        commune_councils: 0,
        covid: Covid::Normal,
        communes: "Phường Quán Triều, Phường Quang Vinh, Phường Túc Duyên, \
             Phường Hoàng Văn Thụ, Phường Trưng Vương, Phường Quang Trung, \
             Phường Phan Đình Phùng, Phường Tân Thịnh, Phường Thịnh Đán, Phường Đồng Quang, \
             Phường Gia Sàng, Phường Tân Lập, Phường Cam Giá, Phường Phú Xá, \
             Phường Hương Sơn, Phường Trung Thành, Phường Tân Thành, Phường Tân Long, \
             Phường Tích Lương, Phường Chùa Hang, Phường Đồng Bẩm, Phường Quyết Thắng, \
             Xã Phúc Hà, Xã Phúc Xuân, Xã Phúc Trìu, Xã Thịnh Đức, Xã Tân Cương, \
             Xã Cao Ngạn, Xã Sơn Cẩm, Xã Linh Sơn, Xã Huống Thượng, Xã Đồng Liên",
    },
    DistrictSeed {
        name: "Thành phố Sông Công",
        code: "165",
        national_unit: 0,
        province_units: 1,
        district_seats: 31,
        commune_councils: 0,
        covid: Covid::Normal,
        communes: "Phường Mỏ Chè, Phường Thắng Lợi, Phường Phố Cò, Phường Cải Đan, \
             Phường Lương Sơn, Phường Châu Sơn, Phường Bách Quang, Xã Tân Quang, \
             Xã Bá Xuyên, Xã Bình Sơn, Xã Vinh Sơn",
    },
    DistrictSeed {
        name: "Huyện Định Hóa",
        code: "167",
        national_unit: 1,
        province_units: 2,
        district_seats: 35,
        commune_councils: 0,
        covid: Covid::Normal,
        communes: "Thị trấn Chợ Chu, Xã Linh Thông, Xã Lam Vỹ, Xã Quy Kỳ, Xã Tân Thịnh, \
             Xã Kim Phượng, Xã Bảo Linh, Xã Phúc Chu, Xã Tân Dương, Xã Phượng Tiến, \
             Xã Bảo Cường, Xã Đồng Thịnh, Xã Định Biên, Xã Thanh Định, Xã Trung Hội, \
             Xã Trung Lương, Xã Bình Yên, Xã Điềm Mặc, Xã Phú Tiến, Xã Sơn Phú, \
             Xã Phú Đình, Xã Bình Thành, Xã Bộc Nhiêu",
    },
    DistrictSeed {
        name: "Huyện Phú Lương",
        code: "168",
        national_unit: 1,
        province_units: 2,
        district_seats: 35,
        commune_councils: 0,
        covid: Covid::Normal,
        communes: "Thị trấn Đu, Thị trấn Giang Tiên, Xã Yên Ninh, Xã Yên Trạch, Xã Yên Đổ, \
             Xã Yên Lạc, Xã Ôn Lương, Xã Động Đạt, Xã Phủ Lý, Xã Phú Đô, Xã Hợp Thành, \
             Xã Tức Tranh, Xã Phấn Mễ, Xã Vô Tranh, Xã Cổ Lũng",
    },
    DistrictSeed {
        name: "Huyện Đồng Hỷ",
        code: "169",
        national_unit: 2,
        province_units: 2,
        district_seats: 35,
        commune_councils: 0,
        covid: Covid::Normal,
        communes: "Thị trấn Trại Cau, Thị trấn Sông Cầu, Xã Cây Thị, Xã Hóa Trung, \
             Xã Hóa Thượng, Xã Khe Mo, Xã Văn Hán, Xã Hợp Tiến, Xã Minh Lập, Xã Nam Hòa, \
             Xã Quang Sơn, Xã Tân Long, Xã Tân Lợi, Xã Văn Lăng, Xã Hòa Bình",
    },
    DistrictSeed {
        name: "Huyện Võ Nhai",
        code: "170",
        national_unit: 2,
        province_units: 1,
        district_seats: 33,
        commune_councils: 0,
        covid: Covid::Normal,
        communes: "Thị trấn Đình Cả, Xã Sảng Mộc, Xã Nghinh Tường, Xã Thần Sa, Xã Vũ Chấn, \
             Xã Thượng Nung, Xã Phú Thượng, Xã Cúc Đường, Xã La Hiên, Xã Lâu Thượng, \
             Xã Tràng Xá, Xã Phương Giao, Xã Liên Minh, Xã Dân Tiến, Xã Bình Long",
    },
    DistrictSeed {
        name: "Huyện Đại Từ",
        code: "171",
        national_unit: 1,
        province_units: 3,
        district_seats: 40,
        commune_councils: 0,
        covid: Covid::Normal,
        communes: "Thị trấn Hùng Sơn, Thị trấn Quân Chu, Xã Phúc Lương, Xã Minh Tiến, \
             Xã Yên Lãng, Xã Đức Lương, Xã Phú Cường, Xã Na Mao, Xã Phú Lạc, Xã Tân Linh, \
             Xã Phú Thịnh, Xã Phục Linh, Xã Phú Xuyên, Xã Bản Ngoại, Xã Tiên Hội, \
             Xã Cù Vân, Xã Hà Thượng, Xã La Bằng, Xã Hoàng Nông, Xã Khôi Kỳ, Xã An Khánh, \
             Xã Tân Thái, Xã Bình Thuận, Xã Lục Ba, Xã Mỹ Yên, Xã Vạn Thọ, Xã Văn Yên, \
             Xã Ký Phú, Xã Cát Nê, Xã Quân Chu",
    },
    DistrictSeed {
        name: "Thị xã Phổ Yên",
        code: "172",
        national_unit: 0,
        province_units: 2,
        district_seats: 35,
        commune_councils: 0,
        covid: Covid::Banned,
        communes: "Phường Ba Hàng, Phường Bãi Bông, Phường Đồng Tiến, Phường Bắc Sơn, \
             Xã Phúc Tân, Xã Phúc Thuận, Xã Thành Công, Xã Minh Đức, Xã Vạn Phái, \
             Xã Đắc Sơn, Xã Hồng Tiến, Xã Nam Tiến, Xã Tân Phú, Xã Thuận Thành, \
             Xã Trung Thành, Xã Tân Hương, Xã Tiên Phong, Xã Đông Cao",
    },
    DistrictSeed {
        name: "Huyện Phú Bình",
        code: "173",
        national_unit: 2,
        province_units: 2,
        district_seats: 35,
        commune_councils: 0,
        covid: Covid::Tightened,
        communes: "Thị trấn Hương Sơn, Xã Bàn Đạt, Xã Bảo Lý, Xã Đào Xá, Xã Điềm Thụy, \
             Xã Dương Thành, Xã Hà Châu, Xã Kha Sơn, Xã Lương Phú, Xã Nga My, Xã Nhã Lộng, \
             Xã Tân Đức, Xã Tân Hòa, Xã Tân Khánh, Xã Tân Kim, Xã Tân Thành, \
             Xã Thanh Ninh, Xã Thượng Đình, Xã Úc Kỳ, Xã Xuân Phương",
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

/// "Huyện Kỳ Anh" → ("huyện", "Kỳ Anh"): the kind as written inside a sentence, and the name.
pub fn split_kind(name: &str) -> (String, &str) {
    REGION_KINDS
        .iter()
        .find_map(|k| {
            name.strip_prefix(k)
                .map(|rest| (k.trim_end().to_lowercase(), rest))
        })
        .unwrap_or_else(|| (String::new(), name))
}

/// "Huyện Kỳ Anh" → "huyện Kỳ Anh".
pub fn in_sentence(name: &str) -> String {
    match split_kind(name) {
        (kind, rest) if !kind.is_empty() => format!("{kind} {rest}"),
        (_, rest) => rest.to_owned(),
    }
}

/// Vietnamese letters folded to ASCII, lower case, without spaces: "Kỳ Đồng" → "kydong".
pub fn ascii_slug(s: &str) -> String {
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

pub const FAMILY_NAMES: [&str; 16] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý",
];
pub const MALE_MIDDLE_NAMES: [&str; 10] = [
    "Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Đình", "Xuân", "Thanh", "Trọng",
];
pub const FEMALE_MIDDLE_NAMES: [&str; 8] =
    ["Thị", "Thu", "Ngọc", "Thanh", "Hồng", "Minh", "Thúy", "Kim"];
pub const MALE_GIVEN_NAMES: [&str; 20] = [
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Hưng", "Khánh", "Long", "Nam", "Phong",
    "Quân", "Sơn", "Thắng", "Trung", "Tuấn", "Việt", "Hoàng", "Lâm",
];
pub const FEMALE_GIVEN_NAMES: [&str; 20] = [
    "Anh", "Giang", "Hà", "Hạnh", "Hiền", "Hoa", "Hương", "Lan", "Linh", "Mai", "Nga", "Nhung",
    "Phương", "Tâm", "Thảo", "Trang", "Vân", "Yến", "Huyền", "Loan",
];
pub const VILLAGES: [&str; 16] = [
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

pub const PROVINCE_RULE: &str =
    "Kế hoạch phòng, chống dịch COVID-19 của UBND tỉnh khi tổ chức hội nghị tiếp xúc cử tri";
pub const TIGHTENED_RULE: &str =
    "Chỉ thị 15/CT-TTg (biến thể địa phương): hội trường tối đa 50 người, 2 m²/người";
pub const BAN_RULE: &str = "Công văn 82: tạm dừng hội nghị trực tiếp, chuyển sang trực tuyến";
pub const ATTENTION_RULE: &str =
    "Công điện khẩn của Chủ tịch UBND tỉnh: hội nghị trong nhà không quá 30 người";

pub const CANCEL_REASONS: [&str; 4] = [
    "Mưa bão, giao thông bị chia cắt",
    "Ứng cử viên bận công tác đột xuất",
    "Địa phương tạm dừng tụ tập đông người để truy vết ca nghi nhiễm COVID-19",
    "Điểm hội nghị bị ngập, chưa bố trí được địa điểm thay thế",
];
pub const CORRECTION_REASON: &str = "Điều chỉnh số lượt cử tri theo biên bản hội nghị đã ký";
pub const OPINIONS: [(&str, &str); 12] = [
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
pub const NOTES: [&str; 4] = [
    "Thực hiện nghiêm 5K: đeo khẩu trang, khử khuẩn, giãn cách chỗ ngồi, đo thân nhiệt và khai báo y tế tại cửa.",
    "Cử tri được mời theo danh sách, thông báo qua Zalo và loa truyền thanh của xã.",
    "Một người ứng cử vắng mặt có lý do (đang công tác), chương trình hành động được đọc tại hội nghị.",
    "Các ý kiến thuộc thẩm quyền cấp tỉnh được tổng hợp gửi Ủy ban MTTQ tỉnh.",
];
pub const PLATFORMS: [&str; 3] = ["VNPT Meeting", "Zoom", "Microsoft Teams"];
