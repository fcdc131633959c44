//! `spawn_app()`: the service on port 0 with its own database, cloned from a migrated
//! template and dropped when the test ends; plus builders for the reference data.
use std::sync::OnceLock;

use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use voter_meetings::app::{tokens, Clock, Ctx};
use voter_meetings::config::Settings;
use voter_meetings::domain::kinds::Role;
use voter_meetings::domain::scope::Caller;
use voter_meetings::startup::Application;

/// A token made directly in the database, like `voter-meetings token create`.
fn create_token(
    conn: &mut PgConnection,
    name: &str,
    role: Role,
    region: Option<Uuid>,
) -> voter_meetings::app::Result<(Uuid, String)> {
    let settings = test_settings();
    let ctx = Ctx::new(
        voter_meetings::startup::pools(&settings),
        settings,
        Clock::system(),
    );
    let new = tokens::NewToken {
        name: name.to_owned(),
        role: role.as_str().to_owned(),
        region_id: region,
    };
    let issued = ctx.tx_on(conn, |tx| tokens::create(tx, &Caller::system("test"), new))?;
    Ok((issued.record.id, issued.token))
}

const SERVER: &str = "postgres://postgres@127.0.0.1:5432";

fn server_url(db: &str) -> String {
    let base = std::env::var("TEST_DATABASE_SERVER").unwrap_or_else(|_| SERVER.to_owned());
    // No TLS to the local server: libpq then never enters OpenSSL, whose exit-time cleanup
    // can race a pool thread still reconnecting to a dropped test database.
    format!("{base}/{db}?sslmode=disable")
}

/// The migrated template, named by a hash of the migrations so a schema change makes a new one.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let mut h = Sha256::new();
        let mut dirs: Vec<_> = std::fs::read_dir("migrations")
            .expect("migrations dir")
            .flatten()
            .map(|e| e.path())
            .collect();
        dirs.sort();
        for d in dirs {
            for f in ["up.sql", "down.sql"] {
                h.update(std::fs::read(d.join(f)).unwrap_or_default());
            }
        }
        let name = format!("vm_template_{}", &hex::encode(h.finalize())[..16]);
        let mut admin =
            PgConnection::establish(&server_url("postgres")).expect("connect to postgres");
        // Several test processes may start at once: one builds the template, the others wait.
        diesel::sql_query("SELECT pg_advisory_lock(727401)")
            .execute(&mut admin)
            .expect("lock");
        let exists = diesel::sql_query(format!(
            "SELECT 1 FROM pg_database WHERE datname = '{name}'"
        ))
        .execute(&mut admin)
        .expect("query")
            == 1;
        if !exists {
            let building = format!("{name}_building");
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .execute(&mut admin)
                .expect("drop");
            diesel::sql_query(format!("CREATE DATABASE {building}"))
                .execute(&mut admin)
                .expect("create template");
            voter_meetings::db::migrate(&server_url(&building)).expect("migrate template");
            diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
                .execute(&mut admin)
                .expect("rename");
        }
        diesel::sql_query("SELECT pg_advisory_unlock(727401)")
            .execute(&mut admin)
            .expect("unlock");
        name
    })
}

pub struct TestApp {
    pub address: String,
    pub db_name: String,
    pub database_url: String,
    pub admin: String,
    pub client: reqwest::Client,
    pub settings: Settings,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.settings.mail_dir);
        if let Ok(mut admin) = PgConnection::establish(&server_url("postgres")) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.db_name
            ))
            .execute(&mut admin);
        }
    }
}

pub fn test_settings() -> Settings {
    let mut settings = Settings::load_from("config", Some("test")).expect("test settings");
    settings.listen_addr = "127.0.0.1:0".to_owned();
    settings.smtp_url = None;
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let template = template();
    let db_name = format!("vm_test_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(&server_url("postgres")).expect("connect");
    diesel::sql_query(format!("CREATE DATABASE {db_name} TEMPLATE {template}"))
        .execute(&mut admin)
        .expect("clone template");
    let database_url = server_url(&db_name);
    let mut settings = test_settings();
    settings.database_url = database_url.clone();
    settings.mail_dir = std::env::temp_dir().join(format!("vm-mail-{db_name}"));
    configure(&mut settings);
    let mut conn = PgConnection::establish(&database_url).expect("connect test db");
    let (_, admin_token) =
        create_token(&mut conn, "test admin", Role::Admin, None).expect("admin token");
    let pools = voter_meetings::startup::pools(&settings);
    let app = Application::build(settings.clone(), pools, Clock::system()).expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address,
        db_name,
        database_url,
        admin: admin_token,
        client: reqwest::Client::new(),
        settings,
    }
}

/// A response read whole: status, headers and body (JSON when it is JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts the answer is a problem+json with this status and code, and returns it.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "body: {}",
            self.text
        );
        assert_eq!(self.body["code"], code, "body: {}", self.text);
        assert_eq!(self.body["status"], status);
        assert!(self.body["type"].is_string() && self.body["title"].is_string());
        assert!(self.body["detail"].is_string());
        &self.body
    }

    /// The fields named in a 422 `validation_failed`.
    #[track_caller]
    pub fn invalid_fields(&self) -> Vec<String> {
        self.problem(422, "validation_failed");
        let mut fields: Vec<String> = self.body["errors"]
            .as_array()
            .expect("errors array")
            .iter()
            .map(|e| e["field"].as_str().expect("field").to_owned())
            .collect();
        fields.sort();
        fields
    }

    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        &self.body
    }

    pub fn id(&self) -> Uuid {
        Uuid::parse_str(
            self.body["id"]
                .as_str()
                .unwrap_or_else(|| panic!("no id in {}", self.text)),
        )
        .expect("uuid")
    }
}

impl TestApp {
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let url = if path.starts_with("/healthz")
            || path.starts_with("/readyz")
            || path.starts_with("/metrics")
        {
            format!("{}{}", self.address, path)
        } else {
            format!("{}/api/v1{}", self.address, path)
        };
        let mut rb = self.client.request(method, url);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.request(Method::GET, path, Some(token), None, &[])
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.request(Method::POST, path, Some(token), Some(body), &[])
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Answer {
        self.request(Method::PATCH, path, Some(token), Some(body), &[])
            .await
    }

    /// Sends a raw body with a content type, for malformed-input tests.
    pub async fn post_raw(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let resp = self
            .client
            .post(format!("{}/api/v1{}", self.address, path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.database_url).expect("connect test db")
    }

    /// A token made directly in the database, like `voter-meetings token create`.
    pub fn token(&self, role: Role, region: Option<Uuid>) -> String {
        create_token(&mut self.conn(), "test token", role, region)
            .expect("token")
            .1
    }

    pub async fn region(&self, name: &str, level: &str, parent: Option<Uuid>) -> Uuid {
        self.post(
            "/regions",
            &self.admin,
            json!({"name": name, "level": level, "parent_id": parent, "contact_email": format!("{}@mttq.example.vn", level)}),
        )
        .await
        .ok(201);
        self.last_id("regions")
    }

    fn last_id(&self, table: &str) -> Uuid {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: Uuid,
        }
        let rows: Vec<Row> =
            diesel::sql_query(format!("SELECT id FROM {table} ORDER BY id DESC LIMIT 1"))
                .load(&mut self.conn())
                .expect("last id");
        rows[0].id
    }

    /// A province with one district and one commune in it.
    pub async fn tree(&self) -> Tree {
        let province = self.region("Tỉnh Hà Tĩnh", "province", None).await;
        let district = self
            .region("Huyện Kỳ Anh", "district", Some(province))
            .await;
        let commune = self.region("Xã Kỳ Đồng", "commune", Some(district)).await;
        Tree {
            province,
            district,
            commune,
        }
    }

    /// An election whose campaign runs from 2021-04-27 to 2021-05-22 07:00 (+07:00).
    pub async fn election(&self) -> Uuid {
        self.election_with("2021-04-27T00:00:00+07:00", "2021-05-23T07:00:00+07:00")
            .await
    }

    /// An election in 2031, so its meetings are still to come (rule changes re-evaluate
    /// only future meetings): campaign 2031-04-27 to 2031-05-22 07:00 (+07:00).
    pub async fn future_election(&self) -> Uuid {
        self.election_with("2031-04-27T00:00:00+07:00", "2031-05-23T07:00:00+07:00")
            .await
    }

    pub async fn election_with(&self, campaign_starts_at: &str, polling_starts_at: &str) -> Uuid {
        self.post(
            "/elections",
            &self.admin,
            json!({
                "name": "Bầu cử đại biểu Quốc hội khóa XV và HĐND các cấp nhiệm kỳ 2021–2026",
                "polling_starts_at": polling_starts_at,
                "campaign_starts_at": campaign_starts_at,
                "min_meetings_per_candidate": {"national_assembly": 10, "province_council": 5}
            }),
        )
        .await
        .ok(201);
        self.last_id("elections")
    }

    pub async fn unit(&self, election: Uuid, region: Uuid, body: &str, name: &str) -> Uuid {
        self.post(
            &format!("/elections/{election}/electoral-units"),
            &self.admin,
            json!({"name": name, "body": body, "region_id": region, "seats": 3}),
        )
        .await
        .ok(201)["id"]
            .as_str()
            .map(|s| Uuid::parse_str(s).expect("uuid"))
            .expect("id")
    }

    pub async fn candidate(&self, unit: Uuid, name: &str, email: &str) -> Uuid {
        self.post(
            &format!("/electoral-units/{unit}/candidates"),
            &self.admin,
            json!({"full_name": name, "email": email}),
        )
        .await
        .id()
    }

    pub async fn venue(
        &self,
        region: Uuid,
        name: &str,
        capacity: i32,
        area: Option<f64>,
        setting: &str,
    ) -> Uuid {
        self.post(
            "/venues",
            &self.admin,
            json!({"name": name, "region_id": region, "address": format!("{name}, Kỳ Anh, Hà Tĩnh"),
                   "capacity": capacity, "area_m2": area, "setting": setting}),
        )
        .await
        .id()
    }
}

pub struct Tree {
    pub province: Uuid,
    pub district: Uuid,
    pub commune: Uuid,
}
