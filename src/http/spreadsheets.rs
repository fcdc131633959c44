//! Reports as spreadsheets people open in Excel: CSV (RFC 4180, CRLF, a UTF-8 byte-order mark)
//! and XLSX (one sheet per region level, frozen header row, column widths, numbers as numbers,
//! a totals row as a value), headers and body names in Vietnamese or English. A text cell a
//! spreadsheet would run as a formula is prefixed with `'` (SPEC §4).
use rust_xlsxwriter::{Format, Workbook};

use crate::app::reports::{AttendanceReport, Fairness};
use crate::db::reports::{Figures, GroupBy, Overdue, Row};
use crate::domain::kinds::{self, Body, CandidateStatus, Level};

/// The language of headers and body names.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
    utoipa::ToSchema,
)]
#[strum(serialize_all = "snake_case")]
#[schema(rename_all = "snake_case")]
pub enum Lang {
    Vi,
    En,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(i64),
}

/// One sheet: a header, rows, and a totals row.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub total: Option<Vec<Cell>>,
}

impl Sheet {
    /// A sheet of `rows` under `headers`, without a totals row.
    fn plain(name: &str, headers: &[&str], rows: Vec<Vec<Cell>>) -> Self {
        Self {
            name: name.to_owned(),
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows,
            total: None,
        }
    }
}

/// A cell a spreadsheet would run as a formula is prefixed with `'`.
pub fn neutral(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(neutral(&s.into()))
}

fn pick(lang: Lang, vi: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

pub fn level_name(lang: Lang, level: Level) -> &'static str {
    match level {
        Level::Province => pick(lang, "Tỉnh", "Province"),
        Level::District => pick(lang, "Huyện", "District"),
        Level::Commune => pick(lang, "Xã", "Commune"),
    }
}

pub fn body_name(lang: Lang, body: Body) -> &'static str {
    match body {
        Body::NationalAssembly => pick(lang, "Quốc hội", "National Assembly"),
        Body::ProvinceCouncil => pick(lang, "HĐND cấp tỉnh", "Provincial People's Council"),
        Body::DistrictCouncil => pick(lang, "HĐND cấp huyện", "District People's Council"),
        Body::CommuneCouncil => pick(lang, "HĐND cấp xã", "Commune People's Council"),
    }
}

fn status_name(lang: Lang, status: CandidateStatus) -> &'static str {
    match status {
        CandidateStatus::Active => pick(lang, "Đang ứng cử", "Standing"),
        CandidateStatus::Withdrawn => pick(lang, "Đã rút", "Withdrawn"),
    }
}

/// What a row's `kind` says, in words: a level, a body or a candidate's status.
fn kind_name(lang: Lang, kind: Option<&str>) -> String {
    let Some(kind) = kind else {
        return String::new();
    };
    if let Ok(l) = kinds::parse::<Level>(kind) {
        return level_name(lang, l).to_owned();
    }
    if let Ok(b) = kinds::parse::<Body>(kind) {
        return body_name(lang, b).to_owned();
    }
    if let Ok(s) = kinds::parse::<CandidateStatus>(kind) {
        return status_name(lang, s).to_owned();
    }
    kind.to_owned()
}

fn figure_headers(lang: Lang) -> Vec<String> {
    [
        pick(lang, "Số hội nghị", "Meetings"),
        pick(lang, "Trực tiếp", "In person"),
        pick(lang, "Trực tuyến", "Online"),
        pick(lang, "Đã hủy", "Cancelled"),
        pick(lang, "Lượt cử tri", "Attendances"),
        pick(lang, "Báo cáo đã nộp", "Reports filed"),
        pick(lang, "Báo cáo nộp trễ", "Reports late"),
        pick(lang, "Báo cáo quá hạn", "Reports overdue"),
    ]
    .map(str::to_owned)
    .to_vec()
}

fn figures(f: &Figures) -> Vec<Cell> {
    [
        f.meetings,
        f.in_person,
        f.online,
        f.cancelled,
        f.attendees,
        f.reports_filed,
        f.reports_late,
        f.reports_overdue,
    ]
    .map(Cell::Number)
    .to_vec()
}

/// The attendance report: for a region report one sheet per level, so each sheet's columns
/// add up without counting a meeting at two levels.
pub fn attendance(report: &AttendanceReport, lang: Lang) -> Vec<Sheet> {
    let kind_header = match report.group_by {
        GroupBy::Region => pick(lang, "Cấp", "Level"),
        GroupBy::ElectoralUnit => pick(lang, "Cơ quan", "Body"),
        GroupBy::Candidate => pick(lang, "Tình trạng", "Status"),
        GroupBy::Day => pick(lang, "Ngày", "Day"),
    };
    let parent_header = match report.group_by {
        GroupBy::Candidate => pick(lang, "Đơn vị bầu cử", "Electoral unit"),
        GroupBy::ElectoralUnit => pick(lang, "Địa bàn", "Region"),
        _ => pick(lang, "Thuộc", "Within"),
    };
    let mut headers: Vec<String> = vec![
        pick(lang, "Mã", "Key").to_owned(),
        pick(lang, "Tên", "Name").to_owned(),
        kind_header.to_owned(),
        parent_header.to_owned(),
    ];
    if report.group_by == GroupBy::Candidate {
        headers.push(pick(lang, "Địa bàn", "Region").to_owned());
    }
    headers.extend(figure_headers(lang));
    let line = |row: &Row| -> Vec<Cell> {
        let mut cells = vec![
            text(row.key.clone()),
            text(row.label.clone()),
            text(kind_name(lang, row.kind.as_deref())),
            text(row.parent_name.clone().unwrap_or_default()),
        ];
        if report.group_by == GroupBy::Candidate {
            cells.push(text(row.region_name.clone().unwrap_or_default()));
        }
        cells.extend(figures(&row.figures));
        cells
    };
    let total = {
        let mut cells = vec![
            text(pick(lang, "Tổng cộng", "Total")),
            text(""),
            text(""),
            text(""),
        ];
        if report.group_by == GroupBy::Candidate {
            cells.push(text(""));
        }
        cells.extend(figures(&report.totals));
        cells
    };
    let sheet = |name: &str, rows: Vec<Vec<Cell>>| Sheet {
        name: name.to_owned(),
        headers: headers.clone(),
        rows,
        total: Some(total.clone()),
    };
    if report.group_by == GroupBy::Region {
        return [Level::Province, Level::District, Level::Commune]
            .into_iter()
            .map(|level| {
                let rows = report
                    .rows
                    .iter()
                    .filter(|r| r.level == Some(level))
                    .map(line)
                    .collect();
                sheet(level_name(lang, level), rows)
            })
            .filter(|s| !s.rows.is_empty())
            .collect();
    }
    vec![sheet(
        pick(lang, "Báo cáo", "Report"),
        report.rows.iter().map(line).collect(),
    )]
}

pub fn fairness(report: &Fairness, lang: Lang) -> Vec<Sheet> {
    let candidates = Sheet::plain(
        pick(lang, "Ứng cử viên", "Candidates"),
        &[
            pick(lang, "Họ và tên", "Full name"),
            pick(lang, "Đơn vị bầu cử", "Electoral unit"),
            pick(lang, "Cơ quan", "Body"),
            pick(lang, "Hội nghị dự kiến", "Meetings planned"),
            pick(lang, "Hội nghị đã tổ chức", "Meetings held"),
            pick(lang, "Tối thiểu", "Minimum"),
            pick(lang, "Dưới mức tối thiểu", "Below minimum"),
        ],
        report
            .candidates
            .iter()
            .map(|c| {
                vec![
                    text(c.meetings.full_name.clone()),
                    text(c.meetings.electoral_unit.clone()),
                    text(body_name(lang, c.meetings.body)),
                    Cell::Number(c.meetings.meetings_planned),
                    Cell::Number(c.meetings.meetings_held),
                    c.minimum.map_or_else(|| text(""), Cell::Number),
                    text(if c.below_minimum {
                        pick(lang, "có", "yes")
                    } else {
                        ""
                    }),
                ]
            })
            .collect(),
    );
    let units = Sheet::plain(
        pick(lang, "Đơn vị bầu cử", "Electoral units"),
        &[
            pick(lang, "Đơn vị bầu cử", "Electoral unit"),
            pick(lang, "Cơ quan", "Body"),
            pick(lang, "Số ứng cử viên", "Candidates"),
            pick(lang, "Tối thiểu", "Minimum"),
            pick(lang, "Nhiều nhất", "Most meetings"),
            pick(lang, "Ít nhất", "Fewest meetings"),
            pick(lang, "Chênh lệch", "Spread"),
            pick(lang, "Dưới mức tối thiểu", "Below minimum"),
        ],
        report
            .units
            .iter()
            .map(|u| {
                vec![
                    text(u.electoral_unit.clone()),
                    text(body_name(lang, u.body)),
                    Cell::Number(u.candidates as i64),
                    u.minimum.map_or_else(|| text(""), Cell::Number),
                    Cell::Number(u.most_meetings),
                    Cell::Number(u.least_meetings),
                    Cell::Number(u.spread),
                    Cell::Number(u.below_minimum as i64),
                ]
            })
            .collect(),
    );
    vec![candidates, units]
}

pub fn overdue(items: &[Overdue], lang: Lang, tz: chrono_tz::Tz) -> Vec<Sheet> {
    let local = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
    };
    vec![Sheet::plain(
        pick(lang, "Quá hạn", "Overdue"),
        &[
            pick(lang, "Hội nghị", "Meeting"),
            pick(lang, "Địa bàn", "Region"),
            pick(lang, "Bắt đầu", "Starts"),
            pick(lang, "Kết thúc", "Ends"),
            pick(lang, "Hạn báo cáo", "Report due"),
        ],
        items
            .iter()
            .map(|o| {
                vec![
                    text(o.title.clone()),
                    text(o.region_name.clone()),
                    text(local(o.starts_at)),
                    text(local(o.ends_at)),
                    text(local(o.report_due_at)),
                ]
            })
            .collect(),
    )]
}

/// Every sheet's rows under the first sheet's header, then one totals row.
pub fn csv(sheets: &[Sheet]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .flexible(true)
            .from_writer(&mut out);
        let as_text = |c: &Cell| match c {
            Cell::Text(t) => t.clone(),
            Cell::Number(n) => n.to_string(),
        };
        if let Some(first) = sheets.first() {
            w.write_record(&first.headers)?;
        }
        for sheet in sheets {
            for row in &sheet.rows {
                w.write_record(row.iter().map(as_text))?;
            }
        }
        if let Some(total) = sheets.iter().find_map(|s| s.total.as_ref()) {
            w.write_record(total.iter().map(as_text))?;
        }
        w.flush()?;
    }
    Ok(out)
}

pub fn xlsx(sheets: &[Sheet]) -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    for sheet in sheets {
        let ws = book.add_worksheet();
        // Excel refuses sheet names over 31 characters.
        ws.set_name(sheet.name.chars().take(31).collect::<String>())?;
        let mut widths: Vec<usize> = sheet.headers.iter().map(|h| h.chars().count()).collect();
        for (col, h) in sheet.headers.iter().enumerate() {
            ws.write_with_format(0, col as u16, h.as_str(), &bold)?;
        }
        let rows = sheet.rows.iter().chain(sheet.total.iter());
        for (r, row) in rows.enumerate() {
            let at = (r + 1) as u32;
            let is_total = sheet.total.is_some() && r == sheet.rows.len();
            for (col, cell) in row.iter().enumerate() {
                let c = col as u16;
                let width = match cell {
                    Cell::Text(t) => {
                        if is_total {
                            ws.write_with_format(at, c, t.as_str(), &bold)?;
                        } else {
                            ws.write(at, c, t.as_str())?;
                        }
                        t.chars().count()
                    }
                    Cell::Number(n) => {
                        // i64 → f64 is exact below 2^53, far beyond any count here.
                        if is_total {
                            ws.write_with_format(at, c, *n as f64, &bold)?;
                        } else {
                            ws.write(at, c, *n as f64)?;
                        }
                        n.to_string().len()
                    }
                };
                if let Some(w) = widths.get_mut(col) {
                    *w = (*w).max(width);
                }
            }
        }
        for (col, w) in widths.iter().enumerate() {
            ws.set_column_width(col as u16, (*w).clamp(6, 60) as f64 + 2.0)?;
        }
        ws.set_freeze_panes(1, 0)?;
    }
    Ok(book.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised() {
        assert_eq!(
            neutral("=HYPERLINK(\"http://evil.example/x\",\"Bấm vào đây\")"),
            "'=HYPERLINK(\"http://evil.example/x\",\"Bấm vào đây\")"
        );
        for risky in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutral(risky).starts_with('\''), "{risky:?}");
        }
        assert_eq!(neutral("Xã Kỳ Đồng"), "Xã Kỳ Đồng");
    }

    #[test]
    fn bodies_and_levels_have_names_in_both_languages() {
        assert_eq!(body_name(Lang::Vi, Body::CommuneCouncil), "HĐND cấp xã");
        assert_eq!(level_name(Lang::En, Level::District), "District");
        assert_eq!(kind_name(Lang::Vi, Some("national_assembly")), "Quốc hội");
    }
}
