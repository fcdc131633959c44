//! Regions: the administrative tree that scopes tokens and rolls reports up (admins create them).
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::audit::{self, Change};
use super::{Result, Tx};
use crate::db::regions::{self as db, Region, RegionFilter, RegionInsertForm, RegionUpdateForm};
use crate::domain::email_address::EmailAddress;
use crate::domain::kinds::{self, Level};
use crate::domain::problem::{FieldErrors, Problem};
use crate::domain::scope::Caller;
use crate::domain::text;

/// A region as asked for.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegion {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(value_type = crate::domain::kinds::Level)]
    pub level: String,
    /// Required for districts (a province) and communes (a district); absent for provinces.
    pub parent_id: Option<Uuid>,
    #[schema(max_length = 32)]
    pub code: Option<String>,
    /// The organizing committee's address; receives notices about meetings in this subtree.
    #[schema(format = Email)]
    pub contact_email: Option<String>,
}

/// The fields a PATCH may correct; `code` and `contact_email` may be cleared with `null`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "super::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(max_length = 32)]
    pub code: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "super::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    /// The organizing committee's address; receives notices about meetings in this subtree.
    #[schema(format = Email)]
    pub contact_email: Option<Option<String>>,
}

pub fn contact_email(raw: Option<&str>) -> std::result::Result<Option<String>, String> {
    raw.filter(|s| !s.trim().is_empty())
        .map(EmailAddress::parse)
        .transpose()
        .map(|e| e.map(|e| e.as_str().to_owned()))
}

/// Creates a region under a parent of the level above.
pub fn create(tx: &mut Tx<'_>, who: &Caller, new: NewRegion) -> Result<Region> {
    who.ensure_admin()?;
    let mut e = FieldErrors::new();
    let name = e.take("name", text::name(&new.name, 200));
    let level = e.take("level", kinds::parse::<Level>(&new.level));
    let code = e.take("code", text::optional_name(new.code.as_deref(), 32));
    let contact_email = e.take("contact_email", contact_email(new.contact_email.as_deref()));
    let parent = match new.parent_id {
        Some(pid) => db::find(tx, pid)?,
        None => None,
    };
    if let Some(level) = level {
        match (level.parent_level(), &parent, new.parent_id) {
            (None, _, Some(_)) => e.add("parent_id", "a province has no parent"),
            (Some(want), None, None) => {
                e.add("parent_id", format!("a {level} needs a parent {want}"))
            }
            (Some(_), None, Some(_)) => e.add("parent_id", "no such region"),
            (Some(want), Some(p), _) if p.level != want => e.add(
                "parent_id",
                format!(
                    "the parent of a {level} must be a {want}, not a {}",
                    p.level
                ),
            ),
            _ => {}
        }
    }
    let (name, level) = e.done(name.zip(level))?;
    let id = Uuid::now_v7();
    let (province_id, path) = match &parent {
        Some(p) => (p.province_id, p.path.iter().copied().chain([id]).collect()),
        None => (id, vec![id]),
    };
    let region = db::insert(
        tx,
        RegionInsertForm {
            id,
            province_id,
            parent_id: new.parent_id,
            level,
            name,
            code: code.flatten(),
            contact_email: contact_email.flatten(),
            path,
        },
    )?;
    audit::record(
        tx,
        who,
        Change::created("region", region.id, Some(region.province_id), &region),
    )?;
    Ok(region)
}

/// A region inside the caller's subtree.
pub fn find(tx: &mut Tx<'_>, who: &Caller, id: Uuid) -> Result<Region> {
    let region = db::find(tx, id)?.ok_or_else(|| Problem::not_found("region"))?;
    who.ensure_reads(&region.path)?;
    Ok(region)
}

/// Regions inside the caller's subtree.
pub fn list(tx: &mut Tx<'_>, who: &Caller, mut filter: RegionFilter) -> Result<Vec<Region>> {
    filter.scope = who.scope();
    Ok(db::list(tx, filter)?)
}

impl RegionPatch {
    fn parse(&self) -> std::result::Result<RegionUpdateForm, Problem> {
        let mut e = FieldErrors::new();
        let form = RegionUpdateForm {
            name: self
                .name
                .as_deref()
                .and_then(|n| e.take("name", text::name(n, 200))),
            code: self
                .code
                .as_ref()
                .and_then(|c| e.take("code", text::optional_name(c.as_deref(), 32))),
            contact_email: self
                .contact_email
                .as_ref()
                .and_then(|m| e.take("contact_email", contact_email(m.as_deref()))),
        };
        e.finish()?;
        Ok(form)
    }
}

/// Corrects a region's name, code or committee address (admins only, audited).
pub fn patch(tx: &mut Tx<'_>, who: &Caller, id: Uuid, patch: &RegionPatch) -> Result<Region> {
    who.ensure_admin()?;
    let current = db::find(tx, id)?.ok_or_else(|| Problem::not_found("region"))?;
    let changes = patch.parse()?;
    let before =
        db::lock(tx, current.province_id, id)?.ok_or_else(|| Problem::not_found("region"))?;
    let now = tx.now();
    let after = db::update(tx, current.province_id, id, changes, now)?;
    audit::record(
        tx,
        who,
        Change::updated("region", id, Some(after.province_id), &before, &after),
    )?;
    Ok(after)
}
