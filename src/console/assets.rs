//! The console's styles and scripts, compiled into the binary: nothing is fetched from
//! anywhere else, so the console works on a network cut off from the internet.
use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::ConsoleError;
use crate::domain::problem::Problem;

const FILES: &[(&str, &str, &str)] = &[
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("assets/console.css"),
    ),
    (
        "checkin.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/checkin.js"),
    ),
    (
        "report.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/report.js"),
    ),
    (
        "plan.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/plan.js"),
    ),
    (
        "meeting.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/meeting.js"),
    ),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/{name}", web::get().to(asset));
}

async fn asset(name: web::Path<String>) -> Result<HttpResponse, ConsoleError> {
    let (_, content_type, body) = FILES
        .iter()
        .find(|(n, _, _)| *n == name.as_str())
        .ok_or_else(|| Problem::not_found("asset"))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, *content_type))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(*body))
}

#[cfg(test)]
mod tests {
    use super::FILES;

    /// Every `/assets/…` a template names is one of the embedded files.
    #[test]
    fn every_asset_a_template_names_is_embedded() {
        for entry in std::fs::read_dir("templates/console").expect("templates") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("readable");
            for piece in text.split("/assets/").skip(1) {
                let name = piece.split('"').next().unwrap_or_default();
                assert!(
                    FILES.iter().any(|(n, _, _)| *n == name),
                    "{} names {name}, which is not embedded",
                    path.display()
                );
            }
        }
    }
}
