//! Bulk import of regions, venues, candidates and meetings from the spreadsheets election
//! committees publish (CSV or XLSX, Vietnamese or English headers, references by name). Every
//! row goes through the same use case as its single POST (a meeting row through rules 1–5);
//! all rows or none: each row runs in a savepoint so every bad row is found, and one bad row
//! fails the whole import (`import_failed`, naming every row, field and reason).
pub mod table;

use std::collections::HashMap;

use chrono::{NaiveDateTime, TimeZone};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use self::table::{Format, Table};
use super::{candidates, meetings, regions, venues, Result, Tx};
use crate::db;
use crate::domain::problem::{Code, Problem};
use crate::domain::scope::Caller;
use crate::domain::text::fold;

/// What a file holds.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Kind {
    Regions,
    Venues,
    Candidates,
    Meetings,
}

/// An import as asked for.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub kind: Kind,
    pub format: Format,
    pub body: Vec<u8>,
    /// The election candidates' units and meetings belong to.
    pub election_id: Option<Uuid>,
}

/// One row that was (or, in a dry run, would be) created.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ImportedRow)]
pub struct Created {
    /// The line of the file (the header is line 1).
    #[schema(minimum = 1)]
    pub row: usize,
    pub id: Uuid,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportOutcome {
    pub kind: Kind,
    /// True when nothing was kept (`?dry_run=true`): what the import would have created.
    pub dry_run: bool,
    #[schema(minimum = 0)]
    pub created: usize,
    pub rows: Vec<Created>,
    /// Columns of the file no field is read from.
    pub ignored_columns: Vec<String>,
}

/// A column: the field it fills and the headers people write for it (folded, see `fold`).
struct Column {
    field: &'static str,
    headers: &'static [&'static str],
    required: bool,
}

const fn col(field: &'static str, headers: &'static [&'static str], required: bool) -> Column {
    Column {
        field,
        headers,
        required,
    }
}

const REGION_COLUMNS: &[Column] = &[
    col(
        "name",
        &[
            "ten",
            "ten_don_vi",
            "ten_don_vi_hanh_chinh",
            "don_vi_hanh_chinh",
        ],
        true,
    ),
    col("level", &["cap", "cap_hanh_chinh", "loai"], true),
    col(
        "parent",
        &["thuoc", "don_vi_cap_tren", "cap_tren", "parent_name"],
        false,
    ),
    col("parent_id", &[], false),
    col("code", &["ma", "ma_so", "ma_don_vi"], false),
    col(
        "contact_email",
        &["email", "email_lien_he", "thu_dien_tu"],
        false,
    ),
];

const VENUE_COLUMNS: &[Column] = &[
    col("name", &["ten", "ten_dia_diem", "dia_diem", "venue"], true),
    col("address", &["dia_chi"], true),
    col("capacity", &["suc_chua", "so_cho", "so_cho_ngoi"], true),
    col("area_m2", &["dien_tich", "dien_tich_m2", "area"], false),
    col(
        "setting",
        &["loai", "trong_nha_ngoai_troi", "khong_gian"],
        true,
    ),
    col(
        "commune",
        &["xa", "xa_phuong", "xa_phuong_thi_tran", "phuong"],
        false,
    ),
    col(
        "district",
        &["huyen", "quan_huyen", "huyen_thi_xa_thanh_pho"],
        false,
    ),
    col("region_id", &[], false),
];

const CANDIDATE_COLUMNS: &[Column] = &[
    col("full_name", &["ho_va_ten", "ho_ten", "name", "ten"], true),
    col("email", &["thu_dien_tu", "dia_chi_email"], true),
    col("locale", &["ngon_ngu", "language"], false),
    col(
        "unit",
        &["don_vi_bau_cu", "don_vi", "electoral_unit"],
        false,
    ),
    col("electoral_unit_id", &[], false),
];

const MEETING_COLUMNS: &[Column] = &[
    col("title", &["ten_hoi_nghi", "hoi_nghi", "tieu_de"], false),
    col(
        "units",
        &["don_vi_bau_cu", "don_vi", "electoral_units"],
        false,
    ),
    col("electoral_unit_ids", &[], false),
    col("format", &["hinh_thuc"], true),
    col("starts_at", &["bat_dau", "thoi_gian_bat_dau", "tu"], true),
    col("ends_at", &["ket_thuc", "thoi_gian_ket_thuc", "den"], true),
    col("venue", &["dia_diem", "ten_dia_diem"], false),
    col("venue_commune", &["xa", "xa_phuong"], false),
    col(
        "expected_attendees",
        &["so_nguoi_du_kien", "so_cu_tri_du_kien", "du_kien"],
        false,
    ),
    col("platform", &["nen_tang"], false),
    col("join_url", &["duong_dan", "link"], false),
    col(
        "max_participants",
        &["so_nguoi_toi_da", "toi_da_truc_tuyen"],
        false,
    ),
    col("chair_name", &["chu_tri", "nguoi_chu_tri"], false),
    col("chair_role", &["chuc_vu_chu_tri", "chuc_vu"], false),
];

fn columns(kind: Kind) -> &'static [Column] {
    match kind {
        Kind::Regions => REGION_COLUMNS,
        Kind::Venues => VENUE_COLUMNS,
        Kind::Candidates => CANDIDATE_COLUMNS,
        Kind::Meetings => MEETING_COLUMNS,
    }
}

/// The words people write for a stored value, folded, and the value.
const VALUES: &[(&str, &str)] = &[
    ("tinh", "province"),
    ("thanh_pho_truc_thuoc_trung_uong", "province"),
    ("huyen", "district"),
    ("quan", "district"),
    ("thi_xa", "district"),
    ("thanh_pho_thuoc_tinh", "district"),
    ("xa", "commune"),
    ("phuong", "commune"),
    ("thi_tran", "commune"),
    ("trong_nha", "indoor"),
    ("ngoai_troi", "outdoor"),
    ("truc_tiep", "in_person"),
    ("truc_tuyen", "online"),
    ("in_person", "in_person"),
    ("tieng_viet", "vi"),
    ("english", "en"),
    ("tieng_anh", "en"),
];

/// A stored value for what a person wrote (`"Trực tiếp"` → `in_person`), or the text as it is.
fn value(raw: &str) -> String {
    let folded = fold(raw);
    VALUES
        .iter()
        .find(|(written, _)| *written == folded)
        .map_or_else(|| raw.trim().to_owned(), |(_, v)| (*v).to_owned())
}

/// One data row, by field.
struct Row<'a> {
    number: usize,
    cells: HashMap<&'static str, &'a str>,
}

impl<'a> Row<'a> {
    fn get(&self, field: &str) -> Option<&'a str> {
        self.cells.get(field).copied().filter(|v| !v.is_empty())
    }

    fn text(&self, field: &str) -> String {
        self.get(field).unwrap_or_default().to_owned()
    }
}

/// One bad row, field and reason, as `import_failed` lists them.
#[derive(Debug, Clone, Serialize)]
struct RowError {
    row: usize,
    field: String,
    message: String,
}

fn row_error(row: usize, field: &str, message: impl Into<String>) -> RowError {
    RowError {
        row,
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Maps the header to fields; a missing required column is an error of row 1.
fn map_columns(
    kind: Kind,
    table: &Table,
) -> (Vec<Option<&'static str>>, Vec<String>, Vec<RowError>) {
    let cols = columns(kind);
    let mut ignored = Vec::new();
    let fields: Vec<Option<&'static str>> = table
        .headers
        .iter()
        .map(|h| {
            let folded = fold(h);
            let found = cols
                .iter()
                .find(|c| c.field == folded || c.headers.contains(&folded.as_str()))
                .map(|c| c.field);
            if found.is_none() && !h.trim().is_empty() {
                ignored.push(h.clone());
            }
            found
        })
        .collect();
    let errors = cols
        .iter()
        .filter(|c| c.required && !fields.contains(&Some(c.field)))
        .map(|c| row_error(1, c.field, "the file has no column for this field"))
        .collect();
    (fields, ignored, errors)
}

/// What a use case's refusal says of one row: each field it names, or its detail.
fn refusal(row: usize, e: super::Error) -> Result<Vec<RowError>> {
    match e {
        // Out of the caller's scope (rule 11) is not a bad row: the import is refused whole.
        super::Error::Problem(p) if p.code == Code::Forbidden => {
            Err(Problem::forbidden(format!("row {row}: {}", p.detail)).into())
        }
        super::Error::Problem(p) if !p.errors.is_empty() => Ok(p
            .errors
            .into_iter()
            .map(|f| row_error(row, &f.field, f.message))
            .collect()),
        super::Error::Problem(p) => Ok(vec![row_error(
            row,
            "",
            format!("{}: {}", p.code.as_str(), p.detail),
        )]),
        super::Error::Db(db::DbError::Violated { violation, .. }) => Ok(vec![row_error(
            row,
            "",
            match violation {
                db::Violation::Unique => {
                    "already_exists: a record with these values already exists"
                }
                _ => "validation_failed: the row refers to a record that does not exist",
            },
        )]),
        other => Err(other),
    }
}

/// Regions, venues and units found by the names people write.
#[derive(Default)]
struct Names {
    /// folded name → regions, with their level and path.
    regions: HashMap<String, Vec<db::regions::Region>>,
    venues: HashMap<String, Vec<(db::venues::Venue, Vec<Uuid>)>>,
    units: HashMap<String, Vec<Uuid>>,
}

impl Names {
    fn load(tx: &mut Tx<'_>, who: &Caller, kind: Kind, election_id: Option<Uuid>) -> Result<Self> {
        let mut names = Names::default();
        let scope = who.scope();
        if matches!(kind, Kind::Regions | Kind::Venues | Kind::Meetings) {
            let mut after = None;
            loop {
                let page = db::regions::list(
                    tx,
                    db::regions::RegionFilter {
                        scope: if kind == Kind::Regions { None } else { scope },
                        parent_id: None,
                        level: None,
                        after,
                        limit: 5_000,
                    },
                )?;
                let Some(last) = page.last() else { break };
                after = Some(last.id);
                for r in page {
                    names.regions.entry(fold(&r.name)).or_default().push(r);
                }
            }
        }
        if kind == Kind::Meetings {
            let mut after = None;
            loop {
                let page = db::venues::list(
                    tx,
                    db::venues::VenueFilter {
                        scope,
                        region_id: None,
                        setting: None,
                        min_capacity: None,
                        after,
                        limit: 5_000,
                    },
                )?;
                let Some(last) = page.last() else { break };
                after = Some(last.id);
                let ids: Vec<Uuid> = page.iter().map(|v| v.id).collect();
                for found in db::venues::find_many(tx, &ids, None)? {
                    names
                        .venues
                        .entry(fold(&found.0.name))
                        .or_default()
                        .push(found);
                }
            }
        }
        if let (Kind::Candidates | Kind::Meetings, Some(election_id)) = (kind, election_id) {
            let mut after = None;
            loop {
                let page = db::units::list(
                    tx,
                    db::units::UnitFilter {
                        election_id,
                        scope: None,
                        region_id: None,
                        after,
                        limit: 5_000,
                    },
                )?;
                let Some(last) = page.last() else { break };
                after = Some(last.id);
                for u in page {
                    names.units.entry(fold(&u.name)).or_default().push(u.id);
                }
            }
        }
        Ok(names)
    }

    /// The region of this name, at one of `levels`, inside `within` when given.
    fn region(
        &self,
        name: &str,
        levels: &[&str],
        within: Option<Uuid>,
    ) -> std::result::Result<&db::regions::Region, String> {
        let found: Vec<&db::regions::Region> = self
            .regions
            .get(&fold(name))
            .into_iter()
            .flatten()
            .filter(|r| levels.contains(&r.level.as_str()))
            .filter(|r| within.is_none_or(|w| r.path.contains(&w)))
            .collect();
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(format!("no {} named {name:?}", levels.join(" or "))),
            _ => Err(format!(
                "{} regions are named {name:?}; name the one above it too, or give its id",
                found.len()
            )),
        }
    }

    fn unit(&self, name: &str) -> std::result::Result<Uuid, String> {
        match self.units.get(&fold(name)).map(Vec::as_slice) {
            Some([one]) => Ok(*one),
            Some([_, ..]) => Err(format!(
                "several electoral units of the election are named {name:?}; give its id"
            )),
            _ => Err(format!("the election has no electoral unit named {name:?}")),
        }
    }

    fn venue(&self, name: &str, commune: Option<&str>) -> std::result::Result<Uuid, String> {
        let candidates: Vec<&(db::venues::Venue, Vec<Uuid>)> = self
            .venues
            .get(&fold(name))
            .into_iter()
            .flatten()
            .filter(|(v, _)| {
                commune.is_none_or(|c| {
                    self.regions
                        .get(&fold(c))
                        .into_iter()
                        .flatten()
                        .any(|r| r.id == v.region_id)
                })
            })
            .collect();
        match candidates.as_slice() {
            [(v, _)] => Ok(v.id),
            [] => Err(format!("no venue named {name:?}")),
            _ => Err(format!(
                "several venues are named {name:?}; add its commune"
            )),
        }
    }
}

fn uuid(row: &Row<'_>, field: &str) -> std::result::Result<Option<Uuid>, RowError> {
    row.get(field)
        .map(|raw| {
            Uuid::parse_str(raw)
                .map_err(|_| row_error(row.number, field, format!("{raw:?} is not an id")))
        })
        .transpose()
}

fn number<T: std::str::FromStr>(
    row: &Row<'_>,
    field: &str,
) -> std::result::Result<Option<T>, RowError> {
    row.get(field)
        .map(|raw| {
            raw.replace(' ', "")
                .parse::<T>()
                .map_err(|_| row_error(row.number, field, format!("{raw:?} is not a number")))
        })
        .transpose()
}

/// A time as people write it — `2021-05-10 08:00`, `10/05/2021 08:00` (in the election's zone)
/// or RFC 3339 — as RFC 3339.
fn time(raw: &str, tz: chrono_tz::Tz) -> std::result::Result<String, String> {
    if chrono::DateTime::parse_from_rfc3339(raw.trim()).is_ok() {
        return Ok(raw.trim().to_owned());
    }
    [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y %Hh%M",
        "%d-%m-%Y %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(raw.trim(), f).ok())
    .and_then(|local| tz.from_local_datetime(&local).earliest())
    .map(|t| t.to_rfc3339())
    .ok_or_else(|| format!("{raw:?} is not a time such as 2021-05-10 08:00 or 10/05/2021 08:00"))
}

/// Runs one row's use case in a savepoint; `Ok(Err(..))` is a bad row.
fn attempt<T>(
    tx: &mut Tx<'_>,
    number: usize,
    work: impl FnOnce(&mut Tx<'_>) -> Result<T>,
) -> Result<std::result::Result<T, Vec<RowError>>> {
    match tx.savepoint(work) {
        Ok(v) => Ok(Ok(v)),
        Err(e) => Ok(Err(refusal(number, e)?)),
    }
}

/// Imports every row, or none: the caller's transaction is to be rolled back on an error (and
/// for a dry run). `progress` hears of each row done.
pub fn run(
    tx: &mut Tx<'_>,
    who: &Caller,
    req: &ImportRequest,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportOutcome> {
    // Role (rule 11) before the file is read: regions, units and candidates are an admin's.
    match req.kind {
        Kind::Regions | Kind::Candidates => who.ensure_admin()?,
        Kind::Venues | Kind::Meetings => who.ensure_can_mutate()?,
    }
    let table = table::read(req.format, &req.body)?;
    let (fields, ignored_columns, mut errors) = map_columns(req.kind, &table);
    let election = match (req.kind, req.election_id) {
        (Kind::Candidates | Kind::Meetings, None) => {
            return Err(
                Problem::field("election_id", "name the election the rows belong to").into(),
            )
        }
        (_, Some(id)) => Some(super::elections::find(tx, id)?),
        (_, None) => None,
    };
    let mut names = Names::load(tx, who, req.kind, req.election_id)?;
    let mut created = Vec::new();
    let mut province: Option<Uuid> = None;
    let total = table.rows.len();
    for (done, (number, cells)) in table.rows.iter().enumerate() {
        let row = Row {
            number: *number,
            cells: fields
                .iter()
                .zip(cells)
                .filter_map(|(f, c)| f.map(|f| (f, c.as_str())))
                .collect(),
        };
        let outcome = match req.kind {
            Kind::Regions => region_row(tx, who, &row, &mut names),
            Kind::Venues => venue_row(tx, who, &row, &names),
            Kind::Candidates => candidate_row(tx, who, &row, &names),
            Kind::Meetings => meeting_row(tx, who, &row, &names, election.as_ref()),
        }?;
        match outcome {
            Ok((made, in_province)) => {
                match province {
                    Some(p) if p != in_province => errors.push(row_error(
                        row.number,
                        "",
                        "this row is in another province than the rows before it; import each province on its own",
                    )),
                    _ => province = Some(in_province),
                }
                created.push(made);
            }
            Err(mut bad) => errors.append(&mut bad),
        }
        progress(done + 1, total);
    }
    if !errors.is_empty() {
        let bad_rows = {
            let mut rows: Vec<usize> = errors.iter().map(|e| e.row).collect();
            rows.dedup();
            rows.len()
        };
        return Err(Problem::new(
            Code::ImportFailed,
            format!("{bad_rows} row(s) of the file cannot be imported; nothing was imported"),
        )
        .with(json!({ "errors": errors }))
        .into());
    }
    Ok(ImportOutcome {
        kind: req.kind,
        dry_run: false,
        created: created.len(),
        rows: created,
        ignored_columns,
    })
}

type RowResult = Result<std::result::Result<(Created, Uuid), Vec<RowError>>>;

fn region_row(tx: &mut Tx<'_>, who: &Caller, row: &Row<'_>, names: &mut Names) -> RowResult {
    let level = value(&row.text("level"));
    let parent_id = match (uuid(row, "parent_id"), row.get("parent")) {
        (Err(e), _) => return Ok(Err(vec![e])),
        (Ok(Some(id)), _) => Some(id),
        (Ok(None), Some(name)) => {
            let above = match level.as_str() {
                "district" => &["province"][..],
                "commune" => &["district"][..],
                _ => &[][..],
            };
            match names.region(name, above, None) {
                Ok(r) => Some(r.id),
                Err(m) => return Ok(Err(vec![row_error(row.number, "parent", m)])),
            }
        }
        (Ok(None), None) => None,
    };
    let new = regions::NewRegion {
        name: row.text("name"),
        level,
        parent_id,
        code: row.get("code").map(str::to_owned),
        contact_email: row.get("contact_email").map(str::to_owned),
    };
    Ok(
        attempt(tx, row.number, |tx| regions::create(tx, who, new))?.map(|r| {
            let made = Created {
                row: row.number,
                id: r.id,
                label: r.name.clone(),
            };
            let province = r.province_id;
            names.regions.entry(fold(&r.name)).or_default().push(r);
            (made, province)
        }),
    )
}

fn venue_row(tx: &mut Tx<'_>, who: &Caller, row: &Row<'_>, names: &Names) -> RowResult {
    let region_id = match uuid(row, "region_id") {
        Err(e) => return Ok(Err(vec![e])),
        Ok(Some(id)) => id,
        Ok(None) => {
            let district = match row.get("district") {
                Some(d) => match names.region(d, &["district"], None) {
                    Ok(r) => Some(r.id),
                    Err(m) => return Ok(Err(vec![row_error(row.number, "district", m)])),
                },
                None => None,
            };
            let found = match (row.get("commune"), district) {
                (Some(c), within) => names.region(c, &["commune"], within).map(|r| r.id),
                (None, Some(d)) => Ok(d),
                (None, None) => Err("name the venue's commune (or district)".to_owned()),
            };
            match found {
                Ok(id) => id,
                Err(m) => return Ok(Err(vec![row_error(row.number, "commune", m)])),
            }
        }
    };
    let (capacity, area_m2) = match (
        number::<i32>(row, "capacity"),
        number::<f64>(row, "area_m2"),
    ) {
        (Ok(c), Ok(a)) => (c.unwrap_or(0), a),
        (c, a) => return Ok(Err(c.err().into_iter().chain(a.err()).collect())),
    };
    let new = venues::NewVenue {
        name: row.text("name"),
        region_id,
        address: row.text("address"),
        capacity,
        area_m2,
        setting: value(&row.text("setting")),
    };
    Ok(
        attempt(tx, row.number, |tx| venues::create(tx, who, &new))?.map(|v| {
            (
                Created {
                    row: row.number,
                    id: v.id,
                    label: v.name,
                },
                v.province_id,
            )
        }),
    )
}

fn candidate_row(tx: &mut Tx<'_>, who: &Caller, row: &Row<'_>, names: &Names) -> RowResult {
    let unit = match (uuid(row, "electoral_unit_id"), row.get("unit")) {
        (Err(e), _) => return Ok(Err(vec![e])),
        (Ok(Some(id)), _) => id,
        (Ok(None), Some(name)) => match names.unit(name) {
            Ok(id) => id,
            Err(m) => return Ok(Err(vec![row_error(row.number, "unit", m)])),
        },
        (Ok(None), None) => {
            return Ok(Err(vec![row_error(
                row.number,
                "unit",
                "name the candidate's electoral unit",
            )]))
        }
    };
    let new = candidates::NewCandidate {
        full_name: row.text("full_name"),
        email: row.text("email"),
        locale: row.get("locale").map(value),
    };
    Ok(
        attempt(tx, row.number, |tx| candidates::create(tx, who, unit, new))?.map(|c| {
            (
                Created {
                    row: row.number,
                    id: c.id,
                    label: c.full_name,
                },
                c.province_id,
            )
        }),
    )
}

fn meeting_row(
    tx: &mut Tx<'_>,
    who: &Caller,
    row: &Row<'_>,
    names: &Names,
    election: Option<&super::elections::Election>,
) -> RowResult {
    let Some(election) = election else {
        return Ok(Err(vec![row_error(
            row.number,
            "election_id",
            "name the election",
        )]));
    };
    let tz: chrono_tz::Tz = election
        .timezone
        .parse()
        .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);
    let mut bad = Vec::new();
    let mut unit_ids = Vec::new();
    if let Some(ids) = row.get("electoral_unit_ids") {
        for raw in ids
            .split([';', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match Uuid::parse_str(raw) {
                Ok(id) => unit_ids.push(id),
                Err(_) => bad.push(row_error(
                    row.number,
                    "electoral_unit_ids",
                    format!("{raw:?} is not an id"),
                )),
            }
        }
    }
    if let Some(units) = row.get("units") {
        for name in units.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            match names.unit(name) {
                Ok(id) => unit_ids.push(id),
                Err(m) => bad.push(row_error(row.number, "units", m)),
            }
        }
    }
    if unit_ids.is_empty() && bad.is_empty() {
        bad.push(row_error(
            row.number,
            "units",
            "name the meeting's electoral units",
        ));
    }
    let mut when = |field: &str| match row.get(field).map(|raw| time(raw, tz)) {
        Some(Ok(t)) => t,
        Some(Err(m)) => {
            bad.push(row_error(row.number, field, m));
            String::new()
        }
        None => String::new(),
    };
    let (starts_at, ends_at) = (when("starts_at"), when("ends_at"));
    let format = value(&row.text("format"));
    let expected = number::<i32>(row, "expected_attendees");
    let max = number::<i32>(row, "max_participants");
    let (expected, max) = match (expected, max) {
        (Ok(e), Ok(m)) => (e.unwrap_or(0), m),
        (e, m) => {
            bad.extend(e.err().into_iter().chain(m.err()));
            (0, None)
        }
    };
    let sites = match row.get("venue") {
        Some(name) => match names.venue(name, row.get("venue_commune")) {
            Ok(venue_id) => vec![meetings::SiteIn {
                venue_id,
                expected_attendees: expected,
            }],
            Err(m) => {
                bad.push(row_error(row.number, "venue", m));
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    if !bad.is_empty() {
        return Ok(Err(bad));
    }
    let online = (format == "online").then(|| meetings::OnlineIn {
        platform: row.get("platform").map(str::to_owned),
        join_url: row.get("join_url").map(str::to_owned),
        max_participants: max.unwrap_or(expected),
        expected_attendees: expected,
    });
    let new = meetings::NewMeeting {
        election_id: election.id,
        electoral_unit_ids: unit_ids,
        format,
        title: row.get("title").map(str::to_owned),
        chair: row.get("chair_name").map(|name| meetings::ChairIn {
            name: name.to_owned(),
            role: row.get("chair_role").map(str::to_owned),
        }),
        starts_at,
        ends_at,
        candidate_ids: None,
        sites,
        online,
    };
    Ok(
        attempt(tx, row.number, |tx| meetings::plan(tx, who, &new))?.map(|m| {
            (
                Created {
                    row: row.number,
                    id: m.id,
                    label: m.title,
                },
                m.province_id,
            )
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_values_become_stored_ones() {
        assert_eq!(value("Trực tiếp"), "in_person");
        assert_eq!(value("TRONG NHÀ"), "indoor");
        assert_eq!(value("Xã"), "commune");
        assert_eq!(value("outdoor"), "outdoor");
    }

    #[test]
    fn times_as_people_write_them_are_local_to_the_election() {
        let tz = chrono_tz::Asia::Ho_Chi_Minh;
        assert_eq!(
            time("2021-05-10 08:00", tz),
            Ok("2021-05-10T08:00:00+07:00".to_owned())
        );
        assert_eq!(
            time("10/05/2021 08:00", tz),
            Ok("2021-05-10T08:00:00+07:00".to_owned())
        );
        assert_eq!(
            time("2021-05-10T01:00:00Z", tz),
            Ok("2021-05-10T01:00:00Z".to_owned())
        );
        assert!(time("sáng thứ Hai", tz).is_err());
    }

    #[test]
    fn headers_in_either_language_find_their_field() {
        let table = Table {
            headers: vec![
                "Họ và tên".into(),
                "Email".into(),
                "Đơn vị bầu cử".into(),
                "Ghi chú".into(),
            ],
            rows: Vec::new(),
        };
        let (fields, ignored, errors) = map_columns(Kind::Candidates, &table);
        assert_eq!(
            fields,
            vec![Some("full_name"), Some("email"), Some("unit"), None]
        );
        assert_eq!(ignored, vec!["Ghi chú".to_owned()]);
        assert!(errors.is_empty());
        let (_, _, missing) = map_columns(Kind::Venues, &table);
        let fields: Vec<&str> = missing.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["name", "address", "capacity", "setting"]);
    }
}
