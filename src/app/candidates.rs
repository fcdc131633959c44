//! Candidates (admins create and change them, emails included: SPEC §3 rule 11). A candidate
//! who withdraws leaves their future meetings (rule 13).
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::audit::{self, Change};
use super::{meetings, units, Result, Tx};
use crate::db::candidates::{self as db, Candidate, CandidateInsertForm, CandidateUpdateForm};
use crate::domain::email_address::EmailAddress;
use crate::domain::kinds::{self, CandidateStatus, Locale};
use crate::domain::problem::{FieldErrors, Problem};
use crate::domain::scope::Caller;
use crate::domain::text;
use crate::email::notices;

/// A candidate as asked for.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCandidate {
    #[schema(min_length = 1, max_length = 200)]
    pub full_name: String,
    #[schema(format = Email)]
    pub email: String,
    #[schema(default = "vi", value_type = Option<crate::domain::kinds::Locale>)]
    pub locale: Option<String>,
}

/// The fields a PATCH may change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CandidatePatch {
    #[schema(min_length = 1, max_length = 200)]
    pub full_name: Option<String>,
    #[schema(format = Email)]
    pub email: Option<String>,
    #[schema(value_type = Option<crate::domain::kinds::Locale>)]
    pub locale: Option<String>,
    #[schema(value_type = Option<crate::domain::kinds::CandidateStatus>)]
    pub status: Option<String>,
}

fn email(raw: &str) -> std::result::Result<String, String> {
    EmailAddress::parse(raw).map(|e| e.as_str().to_owned())
}

pub fn create(
    tx: &mut Tx<'_>,
    who: &Caller,
    unit_id: Uuid,
    new: NewCandidate,
) -> Result<Candidate> {
    who.ensure_admin()?;
    let (unit, _) = units::find(tx, who, unit_id)?;
    let mut e = FieldErrors::new();
    let full_name = e.take("full_name", text::name(&new.full_name, 200));
    let address = e.take("email", email(&new.email));
    let locale = e.take(
        "locale",
        new.locale
            .as_deref()
            .map(kinds::parse::<Locale>)
            .transpose(),
    );
    let ((full_name, address), locale) = e.done(full_name.zip(address).zip(locale))?;
    let candidate = db::insert(
        tx,
        CandidateInsertForm {
            id: Uuid::now_v7(),
            province_id: unit.province_id,
            electoral_unit_id: unit.id,
            full_name,
            email: address,
            locale: locale.unwrap_or_default(),
        },
    )?;
    audit::record(
        tx,
        who,
        Change::created(
            "candidate",
            candidate.id,
            Some(candidate.province_id),
            &candidate,
        ),
    )?;
    Ok(candidate)
}

/// A candidate the caller may read (as their unit), with the unit region's path.
pub fn find(tx: &mut Tx<'_>, who: &Caller, id: Uuid) -> Result<(Candidate, Vec<Uuid>)> {
    let (candidate, path) = db::find(tx, id)?.ok_or_else(|| Problem::not_found("candidate"))?;
    if !who.reads_unit(&path) {
        return Err(Problem::forbidden("this candidate is outside your region").into());
    }
    Ok((candidate, path))
}

pub fn list(
    tx: &mut Tx<'_>,
    who: &Caller,
    unit_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Candidate>> {
    units::find(tx, who, unit_id)?;
    Ok(db::list(tx, unit_id, after, limit)?)
}

impl CandidatePatch {
    fn parse(&self) -> std::result::Result<CandidateUpdateForm, Problem> {
        let mut e = FieldErrors::new();
        let form = CandidateUpdateForm {
            full_name: self
                .full_name
                .as_deref()
                .and_then(|n| e.take("full_name", text::name(n, 200))),
            email: self
                .email
                .as_deref()
                .and_then(|m| e.take("email", email(m))),
            locale: self
                .locale
                .as_deref()
                .and_then(|l| e.take("locale", kinds::parse::<Locale>(l))),
            status: self
                .status
                .as_deref()
                .and_then(|s| e.take("status", kinds::parse::<CandidateStatus>(s))),
        };
        e.finish()?;
        Ok(form)
    }
}

/// Changes a candidate; a withdrawal takes them off every future planned meeting.
pub fn patch(tx: &mut Tx<'_>, who: &Caller, id: Uuid, patch: CandidatePatch) -> Result<Candidate> {
    who.ensure_admin()?;
    let (current, _) = find(tx, who, id)?;
    let changes = patch.parse()?;
    let before =
        db::lock(tx, current.province_id, id)?.ok_or_else(|| Problem::not_found("candidate"))?;
    let now = tx.now();
    let after = db::update(tx, current.province_id, id, changes, now)?;
    if before.status == CandidateStatus::Active && after.status == CandidateStatus::Withdrawn {
        meetings::withdraw_candidate(tx, who, &after)?;
    }
    if before.full_name != after.full_name {
        let named = crate::db::meetings::naming(tx, None, Some(id))?;
        crate::db::meetings::refresh_search(tx, &named)?;
    }
    // Whoever re-points a candidate's mail, the candidate hears of it at the old address.
    if !before.email.eq_ignore_ascii_case(&after.email) {
        let ctx = notices::Context::new(tx.settings(), now);
        notices::email_changed(tx, &ctx, id, &before.email, &after.email)?;
    }
    audit::record(
        tx,
        who,
        Change::updated("candidate", id, Some(after.province_id), &before, &after),
    )?;
    Ok(after)
}
