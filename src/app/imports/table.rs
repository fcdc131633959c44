//! A spreadsheet as rows of text: CSV (UTF-8, with or without a byte-order mark, comma or
//! semicolon as Excel writes them) or XLSX (read with calamine), the first non-empty row
//! being the header. Row numbers are the ones a spreadsheet shows (the header is row 1).
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use crate::domain::problem::Problem;

/// The most data rows one import takes.
pub const MAX_ROWS: usize = 20_000;

/// The two kinds of file an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// The format of a body: by its content type, else by its first bytes (an XLSX file is a
    /// ZIP archive).
    pub fn of(content_type: Option<&str>, body: &[u8]) -> Format {
        let xlsx_type =
            content_type.is_some_and(|t| t.contains("spreadsheetml") || t.contains("excel"));
        if xlsx_type || body.starts_with(b"PK\x03\x04") {
            Format::Xlsx
        } else {
            Format::Csv
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    /// `(row number, cells)`, empty rows left out.
    pub rows: Vec<(usize, Vec<String>)>,
}

fn unreadable(why: impl std::fmt::Display) -> Problem {
    Problem::field("file", format!("cannot be read: {why}"))
}

pub fn read(format: Format, body: &[u8]) -> Result<Table, Problem> {
    let grid = match format {
        Format::Csv => csv_grid(body)?,
        Format::Xlsx => xlsx_grid(body)?,
    };
    let mut lines = grid
        .into_iter()
        .enumerate()
        .map(|(i, cells)| (i + 1, cells))
        .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()));
    let (_, headers) = lines
        .next()
        .ok_or_else(|| Problem::field("file", "is empty: the first row names the columns"))?;
    let rows: Vec<(usize, Vec<String>)> = lines.collect();
    if rows.len() > MAX_ROWS {
        return Err(Problem::field(
            "file",
            format!(
                "has {} rows; an import takes at most {MAX_ROWS}",
                rows.len()
            ),
        ));
    }
    Ok(Table { headers, rows })
}

fn csv_grid(body: &[u8]) -> Result<Vec<Vec<String>>, Problem> {
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|_| unreadable("it is not UTF-8 text"))?;
    let first = text.lines().next().unwrap_or_default();
    // Excel writes `;` where the decimal separator is a comma, as in Vietnamese settings.
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| {
            r.map(|record| record.iter().map(|c| c.trim().to_owned()).collect())
                .map_err(unreadable)
        })
        .collect()
}

fn xlsx_grid(body: &[u8]) -> Result<Vec<Vec<String>>, Problem> {
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(body)).map_err(unreadable)?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| unreadable("it has no sheet"))?
        .map_err(unreadable)?;
    let offset = range.start().map_or(0, |(row, _)| row as usize);
    let mut grid: Vec<Vec<String>> = vec![Vec::new(); offset];
    grid.extend(range.rows().map(|row| row.iter().map(cell).collect()));
    Ok(grid)
}

/// A cell as the text a person typed: whole numbers without `.0`, dates as `YYYY-MM-DD HH:MM`.
fn cell(c: &Data) -> String {
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Int(n) => n.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => {
            let (y, mo, day, h, mi, _, _) = d.to_ymd_hms_milli();
            format!("{y:04}-{mo:02}-{day:02} {h:02}:{mi:02}")
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_a_bom_and_semicolons_as_excel_writes_it() {
        let body = "\u{feff}Họ và tên;Email\r\nNguyễn Thị Lan;lan@example.vn\r\n;\r\nTrần Văn B; b@example.vn \r\n";
        let t = read(
            Format::of(Some("text/csv"), body.as_bytes()),
            body.as_bytes(),
        )
        .expect("read");
        assert_eq!(t.headers, vec!["Họ và tên", "Email"]);
        assert_eq!(
            t.rows,
            vec![
                (
                    2,
                    vec!["Nguyễn Thị Lan".to_owned(), "lan@example.vn".to_owned()]
                ),
                (4, vec!["Trần Văn B".to_owned(), "b@example.vn".to_owned()]),
            ]
        );
    }

    #[test]
    fn commas_and_quotes() {
        let body = b"name,address\n\"Nh\xc3\xa0 v\xc4\x83n h\xc3\xb3a\",\"Th\xc3\xb4n 1, x\xc3\xa3 K\xe1\xbb\xb3 \xc4\x90\xe1\xbb\x93ng\"\n";
        let t = read(Format::Csv, body).expect("read");
        assert_eq!(t.rows[0].1[1], "Thôn 1, xã Kỳ Đồng");
    }

    #[test]
    fn an_empty_file_or_one_that_is_not_text_is_refused() {
        assert!(read(Format::Csv, b"").is_err());
        assert!(read(Format::Csv, &[0xff, 0xfe, 0x00]).is_err());
        assert_eq!(Format::of(None, b"PK\x03\x04rest"), Format::Xlsx);
    }

    #[test]
    fn an_xlsx_sheet_reads_as_typed() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write(0, 0, "Tên").expect("write");
        sheet.write(0, 1, "Sức chứa").expect("write");
        sheet.write(1, 0, "Hội trường").expect("write");
        sheet.write(1, 1, 120.0).expect("write");
        sheet.write(2, 1, 80.5).expect("write");
        let bytes = book.save_to_buffer().expect("save");
        let t = read(Format::of(None, &bytes), &bytes).expect("read");
        assert_eq!(t.headers, vec!["Tên", "Sức chứa"]);
        assert_eq!(
            t.rows[0],
            (2, vec!["Hội trường".to_owned(), "120".to_owned()])
        );
        assert_eq!(t.rows[1].1[1], "80.5");
    }
}
