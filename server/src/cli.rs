//! The `lummmen-server` command line: serving (the default) and the operator's
//! project management (`projects add|set|list|remove`), which works on the same
//! `<data-dir>/lummmen.db` as a running server.

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::meta::MetaStore;
use crate::projects::{Project, ProjectError};

/// Lummmen's backend: receives tracker and pixel batches, stores them, serves the
/// merchant's admin page and a demo storefront. Options go before the subcommand:
/// `lummmen-server --data-dir data projects list`.
#[derive(Debug, Parser)]
#[command(name = "lummmen-server", version)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve (the default when no subcommand is given).
    Serve,
    /// Manage projects (site ids, names, sampling, shops, retention).
    Projects {
        #[command(subcommand)]
        command: ProjectsCommand,
    },
    /// Delete the events past each project's retention now (the server also
    /// does it every few hours), in the store the options name.
    Retention,
}

#[derive(Debug, Subcommand)]
pub enum ProjectsCommand {
    /// Create a project (or replace it, when --id names an existing one).
    Add {
        /// Site id (the Matomo site id); default: one more than the largest.
        #[arg(long)]
        id: Option<u32>,
        #[arg(long)]
        name: String,
        /// Percentage of visitors tracked.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(0..=100))]
        sample: u8,
        /// A myshopify domain of the project (repeatable), e.g. demo-shop.myshopify.com.
        #[arg(long = "shop")]
        shops: Vec<String>,
        /// Months of events kept before the current one (default 13).
        #[arg(long)]
        retention_months: Option<u16>,
    },
    /// Change a project's name, sampling or shops.
    Set {
        id: u32,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
        sample: Option<u8>,
        /// Add a shop (repeatable).
        #[arg(long = "add-shop")]
        add_shops: Vec<String>,
        /// Remove a shop (repeatable).
        #[arg(long = "remove-shop")]
        remove_shops: Vec<String>,
        /// Months of events kept before the current one (1 to 120).
        #[arg(long)]
        retention_months: Option<u16>,
    },
    /// List projects as JSON lines.
    List,
    /// Delete a project (its stored events stay until deleted separately).
    Remove { id: u32 },
}

/// Runs a projects subcommand on the configured metadata store; answers what
/// to print: a project as a JSON line, with its retention in months.
pub async fn run_projects(config: &Config, command: ProjectsCommand) -> Result<String, ProjectError> {
    let store = crate::meta::open(config.database_url.as_deref(), &config.data_dir).await?;
    let store = store.as_ref();
    let set_retention = |id: u32, months: Option<u16>| async move {
        match months {
            Some(m) => store.set_retention_months(id, m).await,
            None => Ok(()),
        }
    };
    match command {
        ProjectsCommand::Add { id: Some(id), name, sample, shops, retention_months } => {
            let p = Project { id, name, sample, shops };
            store.upsert_project(&p).await?;
            set_retention(p.id, retention_months).await?;
            json(store, &p).await
        }
        ProjectsCommand::Add { id: None, name, sample, shops, retention_months } => {
            let p = store.create_project(&name, sample, &shops).await?;
            set_retention(p.id, retention_months).await?;
            json(store, &p).await
        }
        ProjectsCommand::Set { id, name, sample, add_shops, remove_shops, retention_months } => {
            let mut p = store.project(id).await?.ok_or(ProjectError::NotFound(id))?;
            if let Some(name) = name {
                p.name = name;
            }
            if let Some(sample) = sample {
                p.sample = sample;
            }
            p.shops.retain(|s| !remove_shops.contains(s));
            for s in add_shops {
                if !p.shops.contains(&s) {
                    p.shops.push(s);
                }
            }
            store.upsert_project(&p).await?;
            set_retention(id, retention_months).await?;
            json(store, &p).await
        }
        ProjectsCommand::List => {
            let mut lines = Vec::new();
            for p in store.projects().await? {
                lines.push(json(store, &p).await?);
            }
            Ok(lines.join("\n"))
        }
        ProjectsCommand::Remove { id } => {
            if store.delete_project(id).await? {
                Ok(format!("removed project {id}"))
            } else {
                Err(ProjectError::NotFound(id))
            }
        }
    }
}

/// A project as the CLI prints it: a JSON line with its retention.
async fn json(store: &dyn MetaStore, p: &Project) -> Result<String, ProjectError> {
    let mut value = serde_json::to_value(p).unwrap_or_default();
    value["retentionMonths"] = store.retention_months(p.id).await?.into();
    Ok(value.to_string())
}

/// `retention`: one pass now; answers what to print.
pub async fn run_retention(config: &Config) -> anyhow::Result<String> {
    let projects = crate::meta::open(config.database_url.as_deref(), &config.data_dir).await?;
    let events = crate::store::open(config).await?;
    let expired =
        crate::retention::run(projects.as_ref(), events.as_ref(), crate::clock::now_ms_i64()).await?;
    Ok(format!("{expired} events past their project's retention deleted"))
}
