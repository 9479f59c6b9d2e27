use anyhow::Context;
use clap::{Parser, Subcommand};
use portico::config;
use portico::server::{self, Gateway};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Portico runs Amazon API Gateway REST APIs locally, unchanged.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check an API document and print every problem with its location.
    Check {
        #[arg(long)]
        config: PathBuf,
    },
    /// Serve an API document.
    Serve {
        #[arg(long)]
        config: PathBuf,
        #[arg(long, default_value = "127.0.0.1:4000")]
        listen: SocketAddr,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Check { config } => check(&config),
        Command::Serve { config, listen } => match serve(&config, listen) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(1)
            }
        },
    }
}

fn check(path: &PathBuf) -> ExitCode {
    match config::load_file(path) {
        Ok(plan) => {
            println!("{}: valid ({} resources, {} methods)", path.display(), plan.resource_count, plan.methods.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            print_load_error(&e);
            ExitCode::from(1)
        }
    }
}

fn print_load_error(e: &config::LoadError) {
    match e {
        config::LoadError::Io { .. } => eprintln!("error: {e}"),
        config::LoadError::Invalid { path, problems } => {
            let n = problems.0.len();
            eprintln!("{} is not a valid API document ({n} problem{}):", path.display(), if n == 1 { "" } else { "s" });
            for p in &problems.0 {
                eprintln!("{}: {p}", path.display());
            }
        }
    }
}

fn serve(path: &PathBuf, listen: SocketAddr) -> anyhow::Result<ExitCode> {
    let plan = match config::load_file(path) {
        Ok(plan) => plan,
        Err(e) => {
            print_load_error(&e);
            return Ok(ExitCode::from(1));
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async move {
        let stages: Vec<String> = plan.stages.iter().map(|s| s.name.clone()).collect();
        let name = format!("{} ({})", plan.api_name, plan.api_id);
        let running = server::start(Gateway::new(plan), listen).await.with_context(|| format!("listening on {listen}"))?;
        println!("Portico is serving {name}");
        for stage in &stages {
            println!("  {}", running.url(stage));
        }
        wait_for_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        running.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
