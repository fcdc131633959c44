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
