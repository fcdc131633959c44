//! Cursor pagination: `?limit=` (default 50, max 500) and `?cursor=`; answers `{items, next_cursor}`.
use actix_web::HttpResponse;
use serde::Serialize;
use uuid::Uuid;

use super::problem::ApiError;
use crate::app::{self, Ctx, Tx};
use crate::domain::problem::Problem;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// The validated `limit` and `cursor` of a list request.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: i64,
    pub cursor: Option<String>,
}

impl PageRequest {
    pub fn parse(limit: Option<i64>, cursor: Option<String>) -> Result<Self, Problem> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Problem::field(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        Ok(Self {
            limit,
            cursor: cursor.filter(|c| !c.is_empty()),
        })
    }

    /// Rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// The cursor of a list ordered by id (ids are UUIDv7, so this is creation order).
    pub fn after_id(&self) -> Result<Option<Uuid>, Problem> {
        self.cursor
            .as_deref()
            .map(|c| {
                Uuid::parse_str(c)
                    .map_err(|_| Problem::field("cursor", "is not a cursor this API issued"))
            })
            .transpose()
    }

    /// Cuts the extra row off and derives `next_cursor` from the last item kept.
    pub fn page<T>(&self, mut rows: Vec<T>, cursor_of: impl Fn(&T) -> String) -> Page<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(cursor_of)
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }

    /// Answers one page of a list ordered by id: `list` reads the rows after the cursor's id,
    /// at most the given number of them, and `id_of` names the id of a row.
    pub async fn by_id<T, F>(
        self,
        ctx: &Ctx,
        mut list: F,
        id_of: impl Fn(&T) -> Uuid,
    ) -> Result<HttpResponse, ApiError>
    where
        F: FnMut(&mut Tx<'_>, Option<Uuid>, i64) -> app::Result<Vec<T>> + Send + 'static,
        T: Serialize + Send + 'static,
    {
        let (after, limit) = (self.after_id()?, self.fetch());
        let rows = ctx
            .page(self.limit, move |tx| list(tx, after, limit))
            .await?;
        Ok(HttpResponse::Ok().json(self.page(rows, |r| id_of(r).to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_and_bounds() {
        assert_eq!(
            PageRequest::parse(None, None).map(|p| p.limit).ok(),
            Some(50)
        );
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(501), None).is_err());
        assert_eq!(
            PageRequest::parse(Some(500), None).map(|p| p.limit).ok(),
            Some(500)
        );
    }

    #[test]
    fn a_full_extra_row_yields_a_cursor_from_the_last_kept_item() {
        let req = PageRequest::parse(Some(2), None).expect("valid");
        let page = req.page(vec![1, 2, 3], |n| n.to_string());
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor.as_deref(), Some("2"));
        let last = req.page(vec![4, 5], |n| n.to_string());
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn a_foreign_cursor_is_a_field_error() {
        let req = PageRequest::parse(None, Some("nope".into())).expect("valid");
        assert_eq!(
            req.after_id().map_err(|p| p.code),
            Err(crate::domain::problem::Code::ValidationFailed)
        );
    }
}
