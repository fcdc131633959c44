//! Every `down.sql` reverts its `up.sql` exactly, and every `up.sql` applies again to the
//! same schema: `pg_dump --schema-only` is compared before and after each step, so a
//! forgotten index, constraint, function or extension shows, not only a forgotten table.
use std::collections::BTreeSet;

use diesel_migrations::MigrationHarness;

use crate::helpers::app::MIGRATIONS;
use crate::helpers::database::{base_template, pg_dump, TestDatabase};

/// The database's schema as pg_dump writes it, without what varies from one dump to the
/// next (comments, session settings, pg_dump's random `\restrict` key) and without diesel's
/// own bookkeeping table.
fn schema(database_url: &str) -> Vec<String> {
    pg_dump(
        database_url,
        &[
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--exclude-table=__diesel_schema_migrations",
        ],
    )
    .lines()
    .map(str::trim_end)
    .filter(|l| {
        !l.is_empty()
            && !l.starts_with("--")
            && !l.starts_with("SET ")
            && !l.starts_with("SELECT pg_catalog.set_config")
            && !l.starts_with("\\restrict")
            && !l.starts_with("\\unrestrict")
    })
    .map(str::to_owned)
    .collect()
}

/// The lines one schema has and the other lacks, for a failure message.
fn difference(expected: &[String], found: &[String]) -> String {
    let (e, f): (BTreeSet<&String>, BTreeSet<&String>) =
        (expected.iter().collect(), found.iter().collect());
    let missing: Vec<_> = e.difference(&f).collect();
    let extra: Vec<_> = f.difference(&e).collect();
    format!("missing: {missing:#?}\nextra: {extra:#?}")
}

#[actix_web::test]
async fn each_migration_reverts_to_the_schema_before_it_and_applies_again_identically() {
    let db = TestDatabase::empty();
    let mut conn = db.conn();
    let migrations = conn.pending_migrations(MIGRATIONS).expect("migrations");
    assert!(migrations.len() >= 5);
    let mut before = schema(&db.url);
    for m in &migrations {
        let name = m.name().to_string();
        conn.run_migration(m.as_ref())
            .unwrap_or_else(|e| panic!("up {name}: {e}"));
        let up = schema(&db.url);
        assert_ne!(up, before, "{name} changes the schema");
        conn.revert_migration(m.as_ref())
            .unwrap_or_else(|e| panic!("down {name}: {e}"));
        let down = schema(&db.url);
        assert!(
            down == before,
            "down of {name} leaves another schema than before its up:\n{}",
            difference(&before, &down)
        );
        conn.run_migration(m.as_ref())
            .unwrap_or_else(|e| panic!("up {name} again: {e}"));
        let again = schema(&db.url);
        assert!(
            again == up,
            "up of {name} applied again gives another schema:\n{}",
            difference(&up, &again)
        );
        before = again;
    }
    // Step by step, the schema is the one every test runs on (a copy of the template is
    // dumped: a connection to the template itself would stop other tests cloning it).
    let migrated = schema(&TestDatabase::clone_of(base_template()).url);
    assert!(before == migrated, "{}", difference(&migrated, &before));
}
