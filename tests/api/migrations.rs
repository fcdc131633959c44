//! Every `down.sql` really reverts its `up.sql`.
use crate::helpers::app::MIGRATIONS;
use diesel::prelude::*;
use diesel_migrations::MigrationHarness;

use crate::helpers::spawn_app;

fn user_tables(conn: &mut PgConnection) -> Vec<String> {
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' ORDER BY 1",
    )
    .load::<T>(conn)
    .expect("tables")
    .into_iter()
    .map(|t| t.name)
    .collect()
}

#[actix_web::test]
async fn migrations_revert_to_nothing_and_apply_again() {
    let app = spawn_app().await;
    let mut conn = app.conn();
    let before = user_tables(&mut conn);
    assert!(before.contains(&"meetings".to_owned()));
    conn.revert_all_migrations(MIGRATIONS).expect("revert all");
    assert_eq!(user_tables(&mut conn), Vec::<String>::new());
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let extensions: N =
        diesel::sql_query("SELECT count(*) AS n FROM pg_extension WHERE extname = 'btree_gist'")
            .get_result(&mut conn)
            .expect("extensions");
    assert_eq!(extensions.n, 0);
    conn.run_pending_migrations(MIGRATIONS)
        .expect("apply again");
    assert_eq!(user_tables(&mut conn), before);
}
