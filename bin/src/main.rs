//! The `steward` binary: parses the command line, runs one command, and maps
//! its failure to a message and an exit code (see [`errors`]). Each command
//! is one domain operation; the rules live in `steward-core`.

mod activity;
mod agent;
mod allocator;
mod checks;
mod cli;
mod config_file;
mod content_key;
mod database;
mod errors;
mod ids;
mod kept_config;
mod logging;
mod output;
mod preferences;
mod queue;
mod server;
mod suggestions;
mod tasks;
mod thoughts;
mod transfer;
mod users;
mod webhooks;
mod when;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command};
use crate::errors::Failure;
use crate::output::Output;

fn main() -> ExitCode {
    allocator::settle();
    let command = match config_file::apply(Cli::command()) {
        Ok(command) => command,
        Err(problem) => {
            eprintln!("error: {problem}");
            return ExitCode::from(2);
        }
    };
    let cli = match Cli::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    if let Err(problem) = logging::init(&cli.command) {
        eprintln!("error: {problem}");
        return ExitCode::from(2);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => errors::report(&failure),
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    // Parsing needs neither a database nor a runtime.
    if let Command::Parse(args) = &cli.command {
        return tasks::parse(args);
    }
    if let Command::Completions { shell } = cli.command {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "steward", &mut script);
        std::io::Write::write_all(&mut std::io::stdout().lock(), &script)?;
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::Io { doing: "start the async runtime", error })?;
    runtime.block_on(dispatch(cli))
}

async fn dispatch(cli: Cli) -> Result<(), Failure> {
    let Cli { global, command } = cli;
    let out = Output::new(global.json);
    match command {
        Command::Parse(args) => tasks::parse(&args),
        Command::Completions { .. } => Ok(()),
        Command::Migrate => database::migrate(&global, out).await,
        Command::Task(command) => {
            let (steward, p) = database::session(&global).await?;
            tasks::run(command, &steward, &p, out).await
        }
        Command::Thought(command) => {
            let (steward, p) = database::session(&global).await?;
            thoughts::run(command, &steward, &p, out).await
        }
        Command::Chat(args) => {
            let (steward, p) = database::session(&global).await?;
            agent::chat(args, &steward, &p, out).await
        }
        Command::Approval(command) => {
            let (steward, p) = database::session(&global).await?;
            agent::approval(command, &steward, &p, out).await
        }
        Command::Run(command) => {
            let (steward, p) = database::session(&global).await?;
            agent::run(command, &steward, &p, out).await
        }
        Command::Conversation(command) => {
            let (steward, p) = database::session(&global).await?;
            agent::conversation(command, &steward, &p, out).await
        }
        Command::Suggestion(command) => {
            let (steward, p) = database::session(&global).await?;
            suggestions::run(command, &steward, &p, out).await
        }
        Command::Check(command) => {
            let (steward, p) = database::session(&global).await?;
            checks::run(command, &steward, &p, out).await
        }
        Command::Webhook(command) => {
            let (steward, p) = database::session(&global).await?;
            webhooks::run(command, &steward, &p, out).await
        }
        Command::Settings(command) => {
            let (steward, p) = database::session(&global).await?;
            preferences::run_settings(command, &steward, &p, out).await
        }
        Command::Profile(command) => {
            let (steward, p) = database::session(&global).await?;
            preferences::run_profile(command, &steward, &p, out).await
        }
        Command::Log(args) => {
            let (steward, p) = database::session(&global).await?;
            activity::log(args, &steward, &p, out).await
        }
        // Admins only: the local operator, by default.
        Command::Config(command) => {
            let (steward, p) = database::session(&global).await?;
            kept_config::run(command, &steward, &p, out).await
        }
        // Creating users needs an admin: the local operator, by default.
        Command::User(command) => {
            let (steward, p) = database::session(&global).await?;
            users::run_user(command, &steward, &p, out).await
        }
        Command::Export { file } => {
            let (steward, p) = database::session(&global).await?;
            transfer::export(&steward, &p, &file, out).await
        }
        Command::Import { file, batch_size, new_ids } => {
            let (steward, p) = database::session(&global).await?;
            transfer::import(&steward, &p, &file, transfer::ImportOptions { batch_size, new_ids }, out).await
        }
        Command::Backup { file } => {
            let steward = database::open(&global).await?;
            transfer::backup(&steward, &file, out).await
        }
        Command::Restore { file } => transfer::restore(&global, &file, out).await,
        Command::Serve(args) => {
            let steward = database::open(&global).await?;
            server::serve(steward, &global, args).await
        }
        Command::Worker(args) => {
            let steward = database::open(&global).await?;
            queue::worker(&steward, &args, out).await
        }
        Command::Queue(args) => {
            let (steward, p) = database::session(&global).await?;
            queue::run(args.command, &steward, &p, out).await
        }
        Command::Key(command) => {
            let steward = database::open(&global).await?;
            let p = database::required_principal(&steward, &global).await?;
            users::run_key(command, &steward, &p, out).await
        }
    }
}
