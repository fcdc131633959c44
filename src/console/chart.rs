//! A bar chart drawn on the server as SVG: no script, no library, nothing to download. Each
//! bar links to the region below (drill-down).
use askama::filters::Escaper;

/// One bar: its label, its length, a figure written beside it, where it leads.
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub note: i64,
    pub href: String,
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let _ = askama::filters::Html.write_escaped_str(&mut out, s);
    out
}

const ROW: i64 = 28;
const LABEL: i64 = 140;
const WIDTH: i64 = 600;

/// Horizontal bars of `value` (named `what`), each with its `note` (named `notes`) written
/// after it; scales to its container's width.
pub fn bars(bars: &[Bar], what: &str, notes: &str) -> String {
    if bars.is_empty() {
        return String::new();
    }
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let height = ROW * bars.len() as i64 + 8;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" \
         aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(what)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = ROW * i as i64 + 4;
        let len = (WIDTH - LABEL - 120) * b.value / max;
        let label: String = b.label.chars().take(20).collect();
        svg.push_str(&format!(
            "<a href=\"{href}\"><title>{full}: {v} {what}, {n} {notes}</title>\
             <text x=\"0\" y=\"{ty}\" font-size=\"13\" fill=\"#1b3a5c\">{label}</text>\
             <rect x=\"{LABEL}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"#2f6fb0\"/>\
             <text x=\"{tx}\" y=\"{ty}\" font-size=\"12\" fill=\"#222\">{v} · {n}</text></a>",
            href = escape(&b.href),
            full = escape(&b.label),
            label = escape(&label),
            what = escape(what),
            notes = escape(notes),
            v = b.value,
            n = b.note,
            ty = y + 15,
            w = len.max(1),
            h = ROW - 8,
            tx = LABEL + len + 6,
        ));
    }
    svg.push_str("</svg>");
    svg
}
