//! The command line: `serve`, `migrate`, `token create`, `demo`.
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use crate::auth::Role;
use crate::config::Settings;

#[derive(Parser)]
#[command(
    name = "voter-meetings",
    version,
    about = "Plan voter-contact meetings inside public-health rules, count and report attendance, email candidates their schedules."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations (creating the database if needed), serve HTTP and deliver email.
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Load a realistic demo data set: Hà Tĩnh province in the 2021 elections, campaign in
    /// progress, Covid-era rules, about 1,900 meetings; prints what the reports then show.
    Demo {
        /// How many meetings to plan (the reference province held 1,893).
        #[arg(long, default_value_t = 1_900, value_parser = clap::value_parser!(u32).range(1..=20_000))]
        meetings: u32,
        /// Delete an earlier demo province, its election and its tokens first.
        #[arg(long)]
        reset: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token; prints it alone on the last line (it is shown only once).
    Create {
        #[arg(long, value_enum)]
        role: RoleArg,
        #[arg(long)]
        name: String,
        /// The region subtree the token reaches (required for organizers).
        #[arg(long)]
        region: Option<Uuid>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Admin,
    Organizer,
    Observer,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::Organizer => Role::Organizer,
            RoleArg::Observer => Role::Observer,
        }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&settings.rust_log);
    let outcome = match cli.command {
        Command::Serve => serve(settings),
        Command::Migrate => prepare_database(&settings).map(|n| {
            println!("applied {n} migration(s)");
        }),
        Command::Token {
            action: TokenCommand::Create { role, name, region },
        } => create_token(&settings, role.into(), &name, region),
        Command::Demo { meetings, reset } => demo(&settings, meetings, reset),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

/// Creates the database if it is missing and applies pending migrations.
fn prepare_database(settings: &Settings) -> anyhow::Result<usize> {
    crate::db::create_database_if_missing(&settings.database_url)?;
    crate::db::migrate(&settings.database_url)
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let applied = prepare_database(&settings)?;
    tracing::info!(applied, settings = ?settings, "database ready");
    actix_web::rt::System::new().block_on(async move {
        let pool = crate::db::pool(&settings.database_url, settings.database_pool_size);
        let app = crate::startup::Application::build(settings, pool)?;
        tracing::info!(port = app.port(), "listening");
        app.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok(())
    })
}

fn create_token(
    settings: &Settings,
    role: Role,
    name: &str,
    region: Option<Uuid>,
) -> anyhow::Result<()> {
    prepare_database(settings)?;
    let mut conn = PgConnection::establish(&settings.database_url)?;
    let (id, token) =
        crate::auth::create_token(&mut conn, name, role, region).map_err(|e| match e {
            crate::error::ApiError::Invalid(errors) => anyhow::anyhow!(
                "{}",
                errors
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            other => anyhow::anyhow!("{other}"),
        })?;
    crate::audit::record_system(
        &mut conn,
        "cli",
        crate::audit::Change {
            action: "create",
            entity_type: "token",
            entity_id: id,
            province_id: None,
            before: None,
            after: Some(
                serde_json::json!({"id": id, "name": name, "role": role, "region_id": region}),
            ),
        },
    )?;
    println!("created {} token {id} ({name})", role.as_str());
    println!("{token}");
    Ok(())
}

fn demo(settings: &Settings, meetings: u32, reset: bool) -> anyhow::Result<()> {
    prepare_database(settings)?;
    let mut conn = PgConnection::establish(&settings.database_url)?;
    let started = std::time::Instant::now();
    let summary = crate::demo::load(
        &mut conn,
        crate::demo::DemoOptions {
            meetings,
            reset,
            travel_buffer: chrono::Duration::minutes(settings.scheduling.travel_buffer_minutes),
        },
    )?;
    print!(
        "{}",
        demo_summary(&summary, &settings.listen_addr, started.elapsed())
    );
    Ok(())
}

/// The demo's closing block: what was loaded, the province's figures as
/// `GET /reports/attendance` shows them, the tokens, and requests to try.
fn demo_summary(
    s: &crate::demo::DemoSummary,
    listen_addr: &str,
    took: std::time::Duration,
) -> String {
    let (e, f) = (&s.election, &s.figures);
    let tz: chrono_tz::Tz = e.timezone.parse().unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);
    let local = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M");
    let mut out = format!("\nDemo data loaded in {:.1} s.\n\n", took.as_secs_f64());
    let mut line = |label: &str, value: String| {
        out.push_str(format!("{label:<25}{value}").trim_end());
        out.push('\n');
    };
    line(
        "province",
        format!("{} ({})", s.province_name, s.province_id),
    );
    line("election id", e.id.to_string());
    line("election", e.name.clone());
    line(
        "campaign",
        format!(
            "{} to {} ({}), polling {}",
            local(e.campaign_starts_at),
            local(e.campaign_ends_at),
            e.timezone,
            local(e.polling_starts_at)
        ),
    );
    line(
        "created",
        format!(
            "{} districts, {} communes, {} electoral units, {} candidates ({} withdrawn), \
             {} venues, {} health rules",
            s.districts,
            s.communes,
            s.electoral_units,
            s.candidates,
            s.withdrawn,
            s.venues,
            s.health_rules
        ),
    );
    let unscheduled = match s.meetings_unscheduled {
        0 => String::new(),
        n => format!(" ({n} found no free slot)"),
    };
    line(
        "meetings created",
        format!("{}{unscheduled}", s.meetings_created),
    );
    line("check-ins counted", s.check_ins.to_string());
    line("report corrections", s.corrections.to_string());
    if let Some(rule) = &s.attention_rule {
        line(
            "needs attention",
            format!(
                "{} upcoming meeting(s), after \"{rule}\"",
                s.needs_attention
            ),
        );
    }
    line("", String::new());
    line(
        "Attendance report for the province (GET /reports/attendance):",
        String::new(),
    );
    line("meetings (planned+held)", f.meetings.to_string());
    line("in person", f.in_person.to_string());
    line("online", f.online.to_string());
    line("cancelled", f.cancelled.to_string());
    line("attendances", f.attendees.to_string());
    line("reports filed", f.reports_filed.to_string());
    line("late", f.reports_late.to_string());
    line("overdue", f.reports_overdue.to_string());
    line("", String::new());
    line("Tokens (shown once):", String::new());
    line("admin", s.tokens.admin.clone());
    line("organizer (province)", s.tokens.organizer.clone());
    line("observer (province)", s.tokens.observer.clone());
    line("", String::new());
    line("Try, with `voter-meetings serve` running:", String::new());
    let (id, province) = (e.id, s.province_id);
    for request in [
        format!("/api/v1/reports/attendance?election_id={id}&group_by=region"),
        format!("/api/v1/reports/overdue?election_id={id}"),
        format!("/api/v1/reports/fairness?election_id={id}&region_id={province}"),
        format!("/api/v1/meetings?election_id={id}&needs_attention=true"),
    ] {
        line(&format!("GET {request}"), String::new());
    }
    line(
        &format!(
            "curl -H 'Authorization: Bearer {}' \
             'http://{listen_addr}/api/v1/reports/attendance?election_id={id}&group_by=region'",
            s.tokens.observer
        ),
        String::new(),
    );
    out
}
