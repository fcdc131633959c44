//! Regions: the province > district > commune tree.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::db::schema::regions;
use crate::error::{ApiError, FieldErrors};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = regions)]
pub struct Region {
    pub id: Uuid,
    pub province_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub level: String,
    pub name: String,
    pub code: Option<String>,
    pub contact_email: Option<String>,
    #[serde(skip)]
    pub path: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Province,
    District,
    Commune,
}

impl Level {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "province" => Ok(Level::Province),
            "district" => Ok(Level::District),
            "commune" => Ok(Level::Commune),
            other => Err(format!(
                "must be province, district or commune, not {other:?}"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::District => "district",
            Level::Commune => "commune",
        }
    }

    /// The level a parent of this level must have.
    fn parent_level(self) -> Option<Level> {
        match self {
            Level::Province => None,
            Level::District => Some(Level::Province),
            Level::Commune => Some(Level::District),
        }
    }
}

/// A validated new region.
pub struct RegionForm {
    pub name: String,
    pub level: Level,
    pub parent_id: Option<Uuid>,
    pub code: Option<String>,
    pub contact_email: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = regions)]
struct RegionInsertForm<'a> {
    id: Uuid,
    province_id: Uuid,
    parent_id: Option<Uuid>,
    level: &'a str,
    name: &'a str,
    code: Option<&'a str>,
    contact_email: Option<&'a str>,
    path: Vec<Uuid>,
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<Region, ApiError> {
    regions::table
        .find(id)
        .select(Region::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("region"))
}

/// Inserts a region under a parent of the right level.
pub fn create(conn: &mut PgConnection, form: RegionForm) -> Result<Region, ApiError> {
    let parent = match form.parent_id {
        Some(pid) => regions::table
            .find(pid)
            .select(Region::as_select())
            .first(conn)
            .optional()?,
        None => None,
    };
    let mut errors = FieldErrors::new();
    match (form.level.parent_level(), &parent, form.parent_id) {
        (None, _, Some(_)) => errors.add("parent_id", "a province has no parent"),
        (Some(want), None, None) => errors.add(
            "parent_id",
            format!("a {} needs a parent {}", form.level.as_str(), want.as_str()),
        ),
        (Some(_), None, Some(_)) => errors.add("parent_id", "no such region"),
        (Some(want), Some(p), _) if p.level != want.as_str() => errors.add(
            "parent_id",
            format!(
                "the parent of a {} must be a {}, not a {}",
                form.level.as_str(),
                want.as_str(),
                p.level
            ),
        ),
        _ => {}
    }
    errors.finish()?;
    let id = Uuid::now_v7();
    let (province_id, path) = match &parent {
        Some(p) => (p.province_id, p.path.iter().copied().chain([id]).collect()),
        None => (id, vec![id]),
    };
    let region = diesel::insert_into(regions::table)
        .values(RegionInsertForm {
            id,
            province_id,
            parent_id: form.parent_id,
            level: form.level.as_str(),
            name: &form.name,
            code: form.code.as_deref(),
            contact_email: form.contact_email.as_deref(),
            path,
        })
        .returning(Region::as_returning())
        .get_result(conn)?;
    Ok(region)
}

pub struct RegionFilter {
    pub scope: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub level: Option<Level>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

pub fn list(conn: &mut PgConnection, f: RegionFilter) -> Result<Vec<Region>, ApiError> {
    let mut q = regions::table.select(Region::as_select()).into_boxed();
    if let Some(scope) = f.scope {
        q = q.filter(regions::path.contains(vec![scope]));
    }
    if let Some(parent) = f.parent_id {
        q = q.filter(regions::parent_id.eq(parent));
    }
    if let Some(level) = f.level {
        q = q.filter(regions::level.eq(level.as_str()));
    }
    if let Some(after) = f.after {
        q = q.filter(regions::id.gt(after));
    }
    Ok(q.order(regions::id).limit(f.limit).load(conn)?)
}

/// The nearest `contact_email` from this region up to its province.
pub fn nearest_contact_email(
    conn: &mut PgConnection,
    region_id: Uuid,
) -> Result<Option<String>, ApiError> {
    let path: Vec<Uuid> = regions::table
        .find(region_id)
        .select(regions::path)
        .first(conn)?;
    let emails: Vec<(Uuid, Option<String>)> = regions::table
        .filter(regions::id.eq_any(&path))
        .select((regions::id, regions::contact_email))
        .load(conn)?;
    Ok(path.iter().rev().find_map(|id| {
        emails
            .iter()
            .find(|(rid, _)| rid == id)
            .and_then(|(_, e)| e.clone())
    }))
}
