//! `airtemp-api`: the local air-temperature API, served until Ctrl-C.

use airtemp_api::cli::Args;
use airtemp_api::{PATH, Server};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let config = Args::parse().config();
    let served = airtemp_api::cli::runtime().and_then(|runtime| {
        runtime.block_on(async {
            let server = Server::start(config).await?;
            println!("airtemp-api listening on {}", server.url());
            println!("try: curl '{}{PATH}?date=2020-03-20'", server.url());
            tokio::signal::ctrl_c().await?;
            println!("shutting down");
            server.shutdown().await
        })
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("airtemp-api: {e}");
            ExitCode::FAILURE
        }
    }
}
