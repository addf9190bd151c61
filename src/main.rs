//! Flags → config → `rackboot::start`, or a CLI subcommand. Nothing else lives here.

use std::process::ExitCode;

use clap::Parser;
use rackboot::cli::{Cli, Command, ServeArgs};
use rackboot::config::{Config, Settings};

// The appliance allocates many small short-lived buffers per BMC request and boot script;
// mimalloc measured faster than glibc's malloc for that (bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = rt.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(*args).await,
            other => rackboot::cli::run_client(other).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let file = match &args.config {
        Some(p) => Settings::from_file(p)?,
        None => Settings::default(),
    };
    let config = Config::resolve(args.settings.or(file))?;
    rackboot::telemetry::init_logging(config.log_format, &config.log_level)?;
    for flag in ["--s3-secret-key", "--cfs-token"] {
        if std::env::args().any(|a| a == flag || a.starts_with(&format!("{flag}="))) {
            tracing::warn!(
                "{flag} was given as a flag: its value is readable by every local user in /proc/{}/cmdline; use {flag}-file or the environment instead",
                std::process::id()
            );
        }
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    let backends = rackboot::Backends::open(&config).await?;
    let running = rackboot::start(config, backends, listener, rackboot::shutdown::signal()).await?;
    running.wait().await
}
