//! What every page shows around its content, and small pieces several pages share.
use actix_web::HttpRequest;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use uuid::Uuid;

use super::local;
use super::session::Signed;
use super::words::Lang;
use crate::app::{self, elections::Election, meetings::Meeting, Tx};
use crate::db::meetings::MeetingFilter;
use crate::domain::kinds::Role;

/// The frame of a page: language, the signed-in caller, the form token, the language switch.
pub struct Layout {
    pub lang: Lang,
    pub csrf: String,
    pub who: String,
    pub admin: bool,
    pub writer: bool,
    /// This page in the other language.
    pub switch: String,
}

impl Layout {
    pub fn new(s: &Signed, req: &HttpRequest) -> Self {
        Self::bare(s.lang, s.csrf(), req, Some(s))
    }

    pub fn bare(lang: Lang, csrf: String, req: &HttpRequest, s: Option<&Signed>) -> Self {
        let other = match lang {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        };
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
            if k != "lang" {
                q.append_pair(&k, &v);
            }
        }
        q.append_pair("lang", other.code());
        Layout {
            lang,
            csrf,
            who: s.map(|s| s.caller.name.clone()).unwrap_or_default(),
            admin: s.is_some_and(|s| s.caller.role == Role::Admin),
            writer: s.is_some_and(|s| s.caller.role != Role::Observer),
            switch: format!("{}?{}", req.path(), q.finish()),
        }
    }

    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }

    pub fn other(&self) -> &'static str {
        match self.lang {
            Lang::Vi => "English",
            Lang::En => "Tiếng Việt",
        }
    }
}

/// The election a page is about: the one asked for, else the one whose campaign runs now,
/// else the latest.
pub fn election_of(tx: &mut Tx<'_>, asked: Option<Uuid>) -> app::Result<Option<Election>> {
    if let Some(id) = asked {
        return Ok(Some(app::elections::find(tx, id)?));
    }
    let all = app::elections::list(tx, None, 500)?;
    let now = tx.now();
    let running = all
        .iter()
        .find(|e| e.campaign_starts_at <= now && now < e.campaign_ends_at)
        .cloned();
    Ok(running.or_else(|| all.into_iter().max_by_key(|e| e.polling_starts_at)))
}

pub fn elections(tx: &mut Tx<'_>) -> app::Result<Vec<(Uuid, String)>> {
    Ok(app::elections::list(tx, None, 500)?
        .into_iter()
        .map(|e| (e.id, e.name))
        .collect())
}

pub fn filter(election_id: Option<Uuid>, limit: i64) -> MeetingFilter {
    MeetingFilter {
        scope: None,
        election_id,
        electoral_unit_id: None,
        region_id: None,
        candidate_id: None,
        status: None,
        format: None,
        from: None,
        to: None,
        needs_attention: None,
        updated_since: None,
        q: None,
        after: None,
        limit,
    }
}

/// One meeting in a list.
pub struct Line {
    pub id: Uuid,
    pub title: String,
    pub when: String,
    pub day: String,
    pub status: &'static str,
    pub format: &'static str,
    pub present: i32,
    pub capacity: i32,
    pub attention: bool,
}

impl Line {
    pub fn of(m: &Meeting, tz: Tz) -> Self {
        Line {
            id: m.id,
            title: m.title.clone(),
            when: format!(
                "{} – {}",
                local(m.starts_at, tz),
                m.ends_at.with_timezone(&tz).format("%H:%M")
            ),
            day: m
                .starts_at
                .with_timezone(&tz)
                .format("%d/%m/%Y")
                .to_string(),
            status: m.status.as_str(),
            format: m.format.as_str(),
            present: m.sites.iter().map(|s| s.present).sum::<i32>()
                + m.online.as_ref().map_or(0, |o| o.present),
            capacity: m.capacity,
            attention: m.needs_attention,
        }
    }
}

/// Time left until `to`, as "3 ngày 4 giờ".
pub fn countdown(lang: Lang, now: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let left = to - now;
    format!(
        "{} {} {} {}",
        left.num_days(),
        lang.t("days"),
        left.num_hours() % 24,
        lang.t("hours")
    )
}

/// A time typed in the election's zone (`datetime-local`) as the API's RFC 3339 text; text
/// that is no time goes on unchanged, for the use case to refuse by its field.
pub fn utc_of(local: &str, tz: Tz) -> String {
    NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|n| tz.from_local_datetime(&n).earliest())
        .map(|t| t.to_utc().to_rfc3339())
        .unwrap_or_else(|| local.to_owned())
}

/// A form field left empty is no value; anything else must parse.
pub fn blank<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let raw = String::deserialize(d)?;
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse().map(Some).map_err(serde::de::Error::custom)
}
