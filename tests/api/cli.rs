//! The `voter-meetings` binary: `migrate` and `token create|list|revoke`.
use std::process::Command;

use crate::helpers::spawn_app;

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_voter-meetings"))
}

#[actix_web::test]
async fn token_create_prints_a_working_token_on_its_last_line() {
    let app = spawn_app().await;
    let out = binary()
        .args([
            "token",
            "create",
            "--role",
            "admin",
            "--name",
            "Quản trị viên",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "error")
        .output()
        .expect("run binary");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let token = stdout
        .lines()
        .last()
        .expect("a last line")
        .trim()
        .to_owned();
    let me = app.get("/me", &token).await;
    assert_eq!(me.ok(200)["role"], "admin");
    assert_eq!(me.body["name"], "Quản trị viên");
}

#[actix_web::test]
async fn token_create_refuses_an_organizer_without_a_region() {
    let app = spawn_app().await;
    let out = binary()
        .args(["token", "create", "--role", "organizer", "--name", "x"])
        .env("DATABASE_URL", &app.database_url)
        .output()
        .expect("run binary");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("region_id"));
}

#[actix_web::test]
async fn token_list_shows_no_secret_and_token_revoke_ends_a_token() {
    let app = spawn_app().await;
    let run = |args: &[&str]| {
        let out = binary()
            .args(args)
            .env("DATABASE_URL", &app.database_url)
            .env("RUST_LOG", "error")
            .output()
            .expect("run binary");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let created = run(&[
        "token",
        "create",
        "--role",
        "observer",
        "--name",
        "Giám sát",
    ]);
    let secret = created
        .lines()
        .last()
        .expect("token line")
        .trim()
        .to_owned();
    app.get("/me", &secret).await.ok(200);
    let listed = run(&["token", "list"]);
    assert!(!listed.contains(&secret), "{listed}");
    let line = listed
        .lines()
        .find(|l| l.contains("Giám sát"))
        .expect("listed by name");
    let id = line.split('\t').next().expect("id column").to_owned();
    assert!(line.contains("observer"));
    let revoked = run(&["token", "revoke", &id]);
    assert!(revoked.contains(&id), "{revoked}");
    let listed = run(&["token", "list"]);
    let line = listed
        .lines()
        .find(|l| l.starts_with(&id))
        .expect("still listed");
    assert!(
        !line.ends_with("\t-"),
        "the revoked column is filled: {line}"
    );
}

#[actix_web::test]
async fn migrate_creates_a_missing_database_and_is_repeatable() {
    let app = spawn_app().await;
    let fresh = format!("{}_cli", app.db_name);
    let url = app.database_url.replace(&app.db_name, &fresh);
    let migrations = std::fs::read_dir("migrations").expect("migrations").count();
    for expected in [
        format!("applied {migrations} migration(s)"),
        "applied 0 migration(s)".to_owned(),
    ] {
        let out = binary()
            .arg("migrate")
            .env("DATABASE_URL", &url)
            .output()
            .expect("run binary");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), expected);
    }
    let mut admin =
        diesel::Connection::establish(&app.database_url.replace(&app.db_name, "postgres"))
            .map(|c: diesel::PgConnection| c)
            .expect("connect");
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!("DROP DATABASE {fresh} WITH (FORCE)")),
        &mut admin,
    )
    .expect("drop");
}
