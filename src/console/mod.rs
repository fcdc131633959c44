//! The web console (SPEC §9): server-rendered pages at `/` for organizers, committees and
//! admins, in Vietnamese and English. Every page and form calls the same use cases as the API
//! (`crate::app`) with the caller of the session's token, so scope, rules, problem codes and
//! audit entries are the API's. Scripts and styles are files embedded in the binary, served
//! from `/assets/`; the Content-Security-Policy lets nothing else run or load.
mod admin;
mod assets;
mod chart;
mod forms;
mod pages;
mod session;
mod view;
mod words;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use self::words::Lang;
use crate::app;
use crate::domain::problem::{Code, Problem};

/// Every page of the console.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .wrap(actix_web::middleware::from_fn(guard))
            .wrap(actix_web::middleware::from_fn(crate::http::health::gate))
            .configure(assets::configure)
            .configure(forms::configure)
            .configure(admin::configure)
            .configure(pages::configure),
    );
}

pub const CSP: &str =
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The headers of every console answer, the language a `?lang=` chose kept in a cookie, and
/// a POST from another origin refused before it reaches a handler.
async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::POST && !same_origin(req.request()) {
        let res = ConsoleError::CrossSite.error_response();
        return Ok(req.into_response(res).map_into_right_body());
    }
    // The cookie is made before the call: a clone of the request kept across it would stop
    // the router from writing the path's parameters.
    let lang_cookie = Lang::asked(req.request()).map(|lang| {
        session::cookie(
            req.request(),
            words::COOKIE,
            lang.code().to_owned(),
            actix_web::cookie::time::Duration::days(365),
        )
        .to_string()
    });
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    );
    if let Some(Ok(v)) = lang_cookie.map(|c| header::HeaderValue::from_str(&c)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res.map_into_left_body())
}

/// A POST whose `Origin` (browsers send it on every POST) is this service, or none at all.
fn same_origin(req: &HttpRequest) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let host = req.connection_info().host().to_owned();
    url::Url::parse(origin).is_ok_and(|u| {
        let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
        format!("{}{port}", u.host_str().unwrap_or_default()) == host
    })
}

/// Why a console request could not be answered with its page.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("not signed in")]
    SignIn,
    #[error("the form did not come from this console")]
    CrossSite,
    #[error(transparent)]
    App(#[from] app::Error),
    #[error("the page could not be drawn: {0}")]
    Render(#[from] askama::Error),
}

impl From<Problem> for ConsoleError {
    fn from(p: Problem) -> Self {
        ConsoleError::App(p.into())
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage<'a> {
    status: u16,
    code: &'a str,
    detail: &'a str,
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn => StatusCode::SEE_OTHER,
            ConsoleError::CrossSite => StatusCode::FORBIDDEN,
            ConsoleError::App(app::Error::Problem(p)) => {
                StatusCode::from_u16(p.code.status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
            ConsoleError::App(app::Error::Db(_)) => StatusCode::SERVICE_UNAVAILABLE,
            ConsoleError::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ConsoleError::SignIn = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/sign-in"))
                .finish();
        }
        let status = self.status_code();
        let (code, detail) = match self {
            ConsoleError::App(app::Error::Problem(p)) => (p.code.as_str(), p.detail.clone()),
            ConsoleError::CrossSite => (
                Code::Forbidden.as_str(),
                "this form did not come from this console; reload the page and try again"
                    .to_owned(),
            ),
            ConsoleError::App(app::Error::Db(e)) => {
                tracing::warn!(error = %e, "console: database trouble");
                (
                    Code::Unavailable.as_str(),
                    "the service could not answer; retry shortly".to_owned(),
                )
            }
            other => {
                tracing::error!(error = %other, "console error");
                (
                    Code::InternalError.as_str(),
                    "an internal error occurred; it has been logged".to_owned(),
                )
            }
        };
        let page = ErrorPage {
            status: status.as_u16(),
            code,
            detail: &detail,
        };
        let body = page.render().unwrap_or_else(|_| detail.clone());
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body)
    }
}

/// A rendered page, never cached (it shows live counters and the caller's own data).
pub fn html(page: &impl Template) -> Result<HttpResponse, ConsoleError> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(page.render()?))
}

pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// An election's zone (its stored name always parses; the default zone otherwise).
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::Asia::Ho_Chi_Minh)
}

/// A time as people there read it: `dd/mm/yyyy HH:MM` in the election's zone.
pub fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string()
}

/// A time for an `<input type="datetime-local">` in the election's zone.
pub fn local_input(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}
