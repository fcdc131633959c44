//! Queries that the connection keeps prepared although diesel would not.
//!
//! diesel never caches a `sql_query`, since its text may be built from values and would then
//! fill the cache. It caches no `UPDATE` either, and not every `INSERT` (one whose values may
//! be `DEFAULT`, unless its type alone names the statement). A creation runs a long constant
//! query (its notice's lines): planned afresh on every call, it cost the server more than any
//! other statement of the creation. The meeting's `INSERT` and the worker's record of each
//! delivery were planned afresh too (the `profile` step and `PSS=1` of bench/run.sh,
//! docs/benchmarks.md).
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

/// `query`, kept prepared on the connection under its SQL text. Only for SQL that takes one of
/// a few texts (values go in binds; an `INSERT` writes `DEFAULT` for a `None`), or the cache
/// grows without end. Run it by loading (`load`, `get_result`, `get_results`), never by
/// `execute`: that takes the query by reference, and diesel's `QueryFragment` for `&T` does
/// not pass `is_safe_to_cache_prepared` on, so the statement would be parsed every time. A
/// statement that returns nothing can end in `RETURNING … AS id` and load [`Id`]s.
pub fn cached<Q>(query: Q) -> Cached<Q> {
    Cached(query)
}

/// See [`cached`].
pub struct Cached<Q>(Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Cached<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

/// No static id: the cache keys the statement by its SQL text and bind types.
impl<Q> QueryId for Cached<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Cached<Q> {}

/// A row of `RETURNING … AS id`, for a [`cached`] statement that writes.
#[derive(Debug, QueryableByName)]
pub struct Id {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: uuid::Uuid,
}
