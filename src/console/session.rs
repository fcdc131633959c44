//! Who is signed in: a session cookie (HttpOnly, SameSite=Strict, Secure when the request came
//! over TLS) whose secret the database keeps only as a hash; and protection against
//! cross-site requests: every POST carries a token derived from the session secret (a form
//! field or the `X-CSRF-Token` header), which a page of another site cannot know.
use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time::Duration as CookieAge, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use sha2::{Digest, Sha256};

use super::words::Lang;
use super::ConsoleError;
use crate::app::{self, Ctx};
use crate::domain::scope::Caller;

pub const COOKIE: &str = "vm_session";
/// The sign-in form's own cross-site token, before there is a session.
pub const PRE_COOKIE: &str = "vm_presession";

/// A signed-in request: its caller (the session's token), its secret, its language.
pub struct Signed {
    pub caller: Caller,
    pub secret: String,
    pub lang: Lang,
}

/// The cross-site request token of a session (or of a sign-in form's pre-session value).
pub fn csrf_of(secret: &str) -> String {
    hex::encode(Sha256::digest(format!("csrf:{secret}").as_bytes()))
}

/// Compares two tokens in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

impl Signed {
    pub fn csrf(&self) -> String {
        csrf_of(&self.secret)
    }

    /// Refuses a POST whose token is not this session's.
    pub fn check(&self, sent: &str) -> Result<(), ConsoleError> {
        if same(sent, &self.csrf()) {
            Ok(())
        } else {
            Err(ConsoleError::CrossSite)
        }
    }

    /// Refuses a POST whose `X-CSRF-Token` header is not this session's.
    pub fn check_header(&self, req: &HttpRequest) -> Result<(), ConsoleError> {
        let sent = req
            .headers()
            .get("X-CSRF-Token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        self.check(sent)
    }
}

/// Whether the request reached the service over TLS (directly, or as a proxy in front says
/// with `Forwarded` / `X-Forwarded-Proto`): the cookie is then `Secure`.
fn over_tls(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

pub fn cookie<'a>(req: &HttpRequest, name: &'a str, value: String, age: CookieAge) -> Cookie<'a> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(over_tls(req))
        .max_age(age)
        .finish()
}

/// A cookie that ends the one of this name.
pub fn removal<'a>(req: &HttpRequest, name: &'a str) -> Cookie<'a> {
    cookie(req, name, String::new(), CookieAge::ZERO)
}

pub fn session_cookie(req: &HttpRequest, secret: String) -> Cookie<'static> {
    let age = CookieAge::seconds(app::sessions::LASTS.num_seconds());
    cookie(req, COOKIE, secret, age)
}

async fn signed(req: HttpRequest) -> Result<Signed, ConsoleError> {
    let secret = req
        .cookie(COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|s| s.len() == 64)
        .ok_or(ConsoleError::SignIn)?;
    let ctx = req
        .app_data::<web::Data<Ctx>>()
        .cloned()
        .ok_or_else(|| ConsoleError::App(app::Error::internal("the service state is missing")))?;
    let lookup = secret.clone();
    let caller = ctx
        .read(move |tx| app::sessions::caller(tx, &lookup))
        .await?
        .ok_or(ConsoleError::SignIn)?;
    Ok(Signed {
        caller,
        secret,
        lang: Lang::of(&req),
    })
}

impl FromRequest for Signed {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(signed(req.clone()))
    }
}
