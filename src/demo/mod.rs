//! `voter-meetings demo`: a province with its districts, communes, election, units,
//! candidates, venues, public-health rules and meetings, loaded through the use cases of
//! [`crate::app`] as the service itself (every rule checked, every change audited), each
//! action "as at" its moment of the campaign by the injectable clock.
//!
//! - `plan` — what to load, drawn from a seeded generator (the same data every run)
//! - `schedule` — the meetings of the plan and what becomes of them
//! - `names` — the provinces, people's names, places, opinions, references
//! - `load` — carrying the plan out through the use cases
//! - `reset` — finding and removing an earlier demo province
mod load;
mod names;
mod plan;
mod reset;
mod schedule;

use chrono::Utc;
use diesel::PgConnection;

pub use self::load::{Counted, Loaded, Tokens};
use crate::app::Ctx;
use crate::domain::scope::Caller;

/// The audit log's actor for everything the demo does, and its admin token's name.
pub const ACTOR: &str = "demo";

/// The name of the admin token the demo issues with a province.
pub fn admin_token_name(province: &str) -> String {
    format!("{ACTOR}: quản trị {province}")
}

/// What to load.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Meetings to plan in the campaign in progress (the reference province held 1,893).
    pub meetings: usize,
    /// Replace an earlier demo province of the same kind.
    pub reset: bool,
    /// The campaign that is over, in the reference province.
    pub finished: bool,
}

/// What was loaded.
pub struct Summary {
    pub province: String,
    pub finished: bool,
    pub loaded: Loaded,
    /// Meetings asked for that found no free slot.
    pub unscheduled: usize,
}

/// Loads the demo; refuses while its province exists, unless `options.reset`.
pub fn run(ctx: &Ctx, conn: &mut PgConnection, options: Options) -> anyhow::Result<Summary> {
    let mode = if options.finished {
        plan::Mode::Finished
    } else {
        plan::Mode::MidCampaign {
            meetings: options.meetings,
        }
    };
    let (mut plan, mut rng) =
        plan::setting(mode, Utc::now()).map_err(|e| anyhow::anyhow!("demo plan: {e}"))?;
    schedule::meetings(&mut plan, &mut rng).map_err(|e| anyhow::anyhow!("demo plan: {e}"))?;
    let who = Caller::system(ACTOR);
    if let Some(existing) = reset::existing(conn, plan.seed.code)? {
        if !options.reset {
            anyhow::bail!(
                "the demo province already exists ({}, region {existing}); \
                 run `voter-meetings demo{} --reset` to replace it",
                plan.seed.name,
                if options.finished { " --finished" } else { "" }
            );
        }
        tracing::info!(province = %existing, "demo: removing the earlier demo province");
        ctx.env.clock.set(Utc::now());
        reset::remove(ctx, conn, &who, existing, &admin_token_name(plan.seed.name))?;
    }
    let loaded = load::load(ctx, conn, &plan, &who);
    ctx.env.clock.set(Utc::now());
    Ok(Summary {
        province: plan.seed.name.to_owned(),
        finished: options.finished,
        loaded: loaded?,
        unscheduled: plan.unscheduled,
    })
}
