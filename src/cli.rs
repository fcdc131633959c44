//! The command line: `serve`, `migrate`, `import`, `token create|list|revoke`, `demo`.
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::app::{tokens, Clock, Ctx};
use crate::config::Settings;
use crate::domain::kinds::Role;
use crate::domain::scope::Caller;

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
    /// Import regions, venues, candidates or meetings from a CSV or XLSX file: all rows or none.
    Import {
        #[arg(value_parser = ["regions", "venues", "candidates", "meetings"])]
        kind: String,
        file: std::path::PathBuf,
        /// Check every row without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// The election that candidates' units and meetings belong to.
        #[arg(long)]
        election: Option<Uuid>,
    },
    /// Load a demo province through the use cases: Hà Tĩnh in the middle of its campaign,
    /// or with --finished the reference province (Thái Nguyên) after it.
    Demo {
        /// Meetings to plan in the campaign in progress.
        #[arg(long, default_value_t = 1_900)]
        meetings: usize,
        /// Replace the earlier demo province of the same kind.
        #[arg(long)]
        reset: bool,
        /// A campaign that is over, every meeting held or cancelled: the reference province.
        #[arg(long)]
        finished: bool,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Run the database on a Citus cluster (SPEC §8).
    Citus {
        #[command(subcommand)]
        action: CitusCommand,
    },
}

#[derive(Subcommand)]
enum CitusCommand {
    /// On a Citus coordinator, after `migrate`, with the workers registered: shard the tables
    /// of election data by province_id and make the shared tables reference tables. Runs
    /// again safely; refuses on plain PostgreSQL.
    Distribute,
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
    /// List every token: id, role, region, name, created, last used, revoked (never a secret).
    List,
    /// Revoke a token by its id; every instance refuses it within 5 seconds.
    Revoke { id: Uuid },
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
        Command::Token {
            action: TokenCommand::List,
        } => list_tokens(&settings),
        Command::Import {
            kind,
            file,
            dry_run,
            election,
        } => import(&settings, &kind, &file, dry_run, election),
        Command::Token {
            action: TokenCommand::Revoke { id },
        } => revoke_token(&settings, id),
        Command::Citus {
            action: CitusCommand::Distribute,
        } => distribute(&settings),
        Command::Demo {
            meetings,
            reset,
            finished,
        } => demo(
            &settings,
            crate::demo::Options {
                meetings,
                reset,
                finished,
            },
        ),
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

/// `citus distribute`: what it did, one line per kind, or that everything was in place.
fn distribute(settings: &Settings) -> anyhow::Result<()> {
    let done = crate::db::citus::distribute(settings.database_url.expose_secret())?;
    if done == crate::db::citus::Distributed::default() {
        println!("already distributed: nothing to do");
        return Ok(());
    }
    for (what, items) in [
        ("reference tables", &done.reference_tables),
        ("distributed by province_id", &done.distributed_tables),
        ("functions run on their province's node", &done.functions),
    ] {
        if !items.is_empty() {
            println!("{what}: {}", items.join(", "));
        }
    }
    Ok(())
}

/// Creates the database if it is missing and applies pending migrations.
fn prepare_database(settings: &Settings) -> anyhow::Result<usize> {
    crate::db::create_database_if_missing(settings.database_url.expose_secret())?;
    crate::db::migrate(settings.database_url.expose_secret())
}

/// Serves at once, answering 503 (and `/readyz` 503, `/healthz` 200) while the database is
/// down or not migrated yet; meanwhile it retries creating and migrating the database with
/// a growing delay, logging each attempt.
fn serve(settings: Settings) -> anyhow::Result<()> {
    tracing::info!(settings = ?settings, "starting");
    actix_web::rt::System::new().block_on(async move {
        let pools = crate::startup::pools(&settings);
        let app = crate::startup::Application::build_waiting(settings.clone(), pools, Clock::system())?;
        let readiness = app.readiness();
        tracing::info!(port = app.port(), "listening");
        actix_web::rt::spawn(async move {
            let mut delay = std::time::Duration::from_millis(500);
            for attempt in 1.. {
                let s = settings.clone();
                match tokio::task::spawn_blocking(move || prepare_database(&s)).await {
                    Ok(Ok(applied)) => {
                        tracing::info!(applied, attempt, "database ready");
                        readiness.set_ready();
                        return;
                    }
                    Ok(Err(e)) => tracing::warn!(attempt, retry_in = ?delay, error = %format!("{e:#}"), "database not ready"),
                    Err(e) => tracing::error!(attempt, error = %e, "database preparation failed"),
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(30));
            }
        });
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
    let mut conn = crate::db::connect(settings.database_url.expose_secret())?;
    let ctx = Ctx::new(
        crate::startup::pools_on_demand(settings),
        settings.clone(),
        Clock::system(),
    );
    let new = tokens::NewToken {
        name: name.to_owned(),
        role: role.as_str().to_owned(),
        region_id: region,
    };
    let issued = ctx
        .tx_on(&mut conn, |tx| {
            tokens::create(tx, &Caller::system("cli"), new)
        })
        .map_err(|e| anyhow::anyhow!("{}", refusal(&e)))?;
    println!(
        "created {} token {} ({name})",
        role.as_str(),
        issued.record.id
    );
    println!("{}", issued.token);
    Ok(())
}

/// Runs one use case as the system administrator on a connection of its own.
fn as_system<T>(
    settings: &Settings,
    work: impl FnOnce(&mut crate::app::Tx<'_>, &Caller) -> crate::app::Result<T>,
) -> anyhow::Result<T> {
    prepare_database(settings)?;
    let mut conn = crate::db::connect(settings.database_url.expose_secret())?;
    let ctx = Ctx::new(
        crate::startup::pools_on_demand(settings),
        settings.clone(),
        Clock::system(),
    );
    ctx.tx_on(&mut conn, |tx| work(tx, &Caller::system("cli")))
        .map_err(|e| anyhow::anyhow!("{}", refusal(&e)))
}

/// The same import as `POST /imports/{kind}`, with a progress bar on a terminal.
fn import(
    settings: &Settings,
    kind: &str,
    file: &std::path::Path,
    dry_run: bool,
    election_id: Option<Uuid>,
) -> anyhow::Result<()> {
    use crate::app::imports::{self, table::Format, ImportRequest};
    let body =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let content_type = file
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.eq_ignore_ascii_case("xlsx"))
        .map(|_| "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let request = ImportRequest {
        kind: crate::domain::kinds::parse(kind).map_err(|m| anyhow::anyhow!("{kind}: {m}"))?,
        format: Format::of(content_type, &body),
        body,
        election_id,
    };
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::new(0)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows, {per_sec}, {eta} left")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    prepare_database(settings)?;
    let mut conn = crate::db::connect(settings.database_url.expose_secret())?;
    let ctx = Ctx::new(
        crate::startup::pools_on_demand(settings),
        settings.clone(),
        Clock::system(),
    );
    let mut progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let who = Caller::system("cli");
    let work = |tx: &mut crate::app::Tx<'_>| imports::run(tx, &who, &request, &mut progress);
    let outcome = if dry_run {
        ctx.dry_run_on(&mut conn, work)
    } else {
        ctx.tx_on(&mut conn, work)
    };
    bar.finish_and_clear();
    let outcome = outcome.map_err(|e| anyhow::anyhow!("{}", import_refusal(&e)))?;
    let took = started.elapsed().as_secs_f64();
    println!(
        "{} {} {kind} row(s) in {took:.1} s ({:.0} rows/s){}",
        if dry_run { "checked" } else { "imported" },
        outcome.created,
        outcome.created as f64 / took.max(0.001),
        if dry_run { "; nothing was written" } else { "" }
    );
    if !outcome.ignored_columns.is_empty() {
        println!("ignored columns: {}", outcome.ignored_columns.join(", "));
    }
    Ok(())
}

/// A failed import as the command line says it: every bad row, field and reason.
fn import_refusal(e: &crate::app::Error) -> String {
    match e {
        crate::app::Error::Problem(p) => match p.extra.get("errors").and_then(|v| v.as_array()) {
            Some(rows) => std::iter::once(p.detail.clone())
                .chain(rows.iter().map(|r| {
                    format!(
                        "row {}, {}: {}",
                        r["row"],
                        r["field"].as_str().unwrap_or_default(),
                        r["message"].as_str().unwrap_or_default()
                    )
                }))
                .collect::<Vec<_>>()
                .join("\n"),
            None => refusal(e),
        },
        other => refusal(other),
    }
}

fn list_tokens(settings: &Settings) -> anyhow::Result<()> {
    let mut after = None;
    println!("id\trole\tregion\tname\tcreated\tlast used\trevoked");
    loop {
        let page = as_system(settings, |tx, who| tokens::list(tx, who, after, 500))?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = Some(last.id);
        let when =
            |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or("-".to_owned(), |t| t.to_rfc3339());
        for t in &page {
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                t.id,
                t.role,
                t.region_id.map_or("-".to_owned(), |r| r.to_string()),
                t.name,
                t.created_at.to_rfc3339(),
                when(t.last_used_at),
                when(t.revoked_at)
            );
        }
    }
}

fn revoke_token(settings: &Settings, id: Uuid) -> anyhow::Result<()> {
    let token = as_system(settings, |tx, who| tokens::revoke(tx, who, id))?;
    println!("revoked {} token {} ({})", token.role, token.id, token.name);
    Ok(())
}

/// Loads the demo and prints what the attendance report now shows, and the tokens.
fn demo(settings: &Settings, options: crate::demo::Options) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    prepare_database(settings)?;
    let mut conn = crate::db::connect(settings.database_url.expose_secret())?;
    let ctx = Ctx::new(
        crate::startup::pools_on_demand(settings),
        settings.clone(),
        Clock::system(),
    );
    let s = crate::demo::run(&ctx, &mut conn, options)?;
    let (l, c, r) = (&s.loaded, &s.loaded.counted, &s.loaded.report);
    println!(
        "loaded {} ({}) in {:.1} s",
        s.province,
        if s.finished {
            "campaign over"
        } else {
            "campaign in progress"
        },
        started.elapsed().as_secs_f64()
    );
    println!("province id              {}", l.province_id);
    println!("election id              {}", l.election_id);
    println!(
        "regions                  {} districts, {} communes",
        c.districts, c.communes
    );
    println!(
        "electoral units          {} (seats: {} National Assembly, {} provincial, {} district, {} commune)",
        c.electoral_units, c.seats[0], c.seats[1], c.seats[2], c.seats[3]
    );
    println!(
        "candidates               {} ({} withdrawn)",
        c.candidates, c.withdrawn
    );
    println!("venues                   {}", c.venues);
    println!("health rules             {}", c.health_rules);
    println!(
        "meetings created         {}{}",
        c.meetings_created,
        if s.unscheduled > 0 {
            format!(" ({} found no free slot)", s.unscheduled)
        } else {
            String::new()
        }
    );
    println!("meetings checked in      {}", c.check_ins);
    println!("corrections              {}", c.corrections);
    if c.needs_attention > 0 {
        println!("needs attention          {}", c.needs_attention);
    }
    println!(
        "GET /api/v1/reports/attendance?election_id={}&group_by=region:",
        l.election_id
    );
    println!("meetings held            {}", r.reports_filed);
    println!("meetings planned         {}", r.meetings - r.reports_filed);
    println!("in person                {}", r.in_person);
    println!("online                   {}", r.online);
    println!("cancelled                {}", r.cancelled);
    println!("attendances              {}", r.attendees);
    println!("reports late             {}", r.reports_late);
    println!("reports overdue          {}", r.reports_overdue);
    println!("tokens (shown once):");
    println!("admin                    {}", l.tokens.admin);
    println!(
        "organizer ({})  {}",
        l.tokens.organizer_region, l.tokens.organizer
    );
    println!("observer (province)      {}", l.tokens.observer);
    Ok(())
}

/// A refusal as the command line says it: each field and what is wrong with it.
fn refusal(e: &crate::app::Error) -> String {
    match e {
        crate::app::Error::Problem(p) if !p.errors.is_empty() => p
            .errors
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}
