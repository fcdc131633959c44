//! The `voter-meetings` binary: `migrate` and `token create|list|revoke`.
use std::process::Command;

use crate::helpers::spawn_app;

pub fn binary() -> Command {
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

/// A PostgreSQL cluster of the test's own on a free port, never the shared server.
pub struct PrivateCluster {
    pub dir: std::path::PathBuf,
    port: u16,
}

impl PrivateCluster {
    pub fn create() -> Self {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("vm-serve-{port}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("dir");
        Command::new("chown")
            .args(["postgres:postgres", dir.to_str().expect("path")])
            .status()
            .expect("chown");
        let initdb = Command::new("runuser")
            .args([
                "-u",
                "postgres",
                "--",
                "/usr/lib/postgresql/15/bin/initdb",
                "-D",
            ])
            .arg(&dir)
            .args(["-A", "trust", "-U", "postgres"])
            .output()
            .expect("initdb");
        assert!(
            initdb.status.success(),
            "{}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        PrivateCluster { dir, port }
    }

    pub fn pg_ctl(&self, action: &str) {
        let out = Command::new("runuser")
            .args([
                "-u",
                "postgres",
                "--",
                "/usr/lib/postgresql/15/bin/pg_ctl",
                "-D",
            ])
            .arg(&self.dir)
            .arg("-l")
            .arg(self.dir.join("log"))
            .arg("-o")
            .arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1",
                self.port,
                self.dir.display()
            ))
            .args(["-w", "-t", "30", action])
            .output()
            .expect("pg_ctl");
        assert!(
            out.status.success(),
            "pg_ctl {action}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args([
                "-u",
                "postgres",
                "--",
                "/usr/lib/postgresql/15/bin/pg_ctl",
                "-D",
            ])
            .arg(&self.dir)
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// SPEC §6 / issue 11: `serve` starts while its database is down, answers `/healthz` 200 and
/// everything else 503 until the database is reachable and migrated, then serves.
#[actix_web::test]
async fn serve_starts_before_its_database_and_serves_once_it_is_up() {
    let cluster = PrivateCluster::create();
    let listen = free_port();
    let _service = Running(
        binary()
            .arg("serve")
            .env("DATABASE_URL", cluster.url("vm_serve"))
            .env("LISTEN_ADDR", format!("127.0.0.1:{listen}"))
            .env("MAIL_DIR", cluster.dir.join("mail"))
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("serve"),
    );
    let base = format!("http://127.0.0.1:{listen}");
    let client = reqwest::Client::new();
    let status = |path: &'static str| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            match client
                .get(format!("{base}{path}"))
                .bearer_auth("vm_nobody")
                .send()
                .await
            {
                Ok(r) => r.status().as_u16(),
                Err(_) => 0,
            }
        }
    };
    let started = std::time::Instant::now();
    while status("/healthz").await != 200 {
        assert!(
            started.elapsed().as_secs() < 30,
            "the service did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        status("/readyz").await,
        503,
        "not ready while the database is down"
    );
    assert_eq!(
        status("/api/v1/me").await,
        503,
        "the API says it is starting"
    );
    cluster.pg_ctl("start");
    let up = std::time::Instant::now();
    while status("/readyz").await != 200 {
        assert!(
            up.elapsed().as_secs() < 40,
            "not ready 40 s after the database came up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        status("/api/v1/me").await,
        401,
        "served: an unknown token is refused, not a 503"
    );
}
