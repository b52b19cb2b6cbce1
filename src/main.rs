use clap::Parser;

#[tokio::main]
async fn main() {
    rigmarket::telemetry::init();
    let cli = rigmarket::cli::Cli::parse();
    match rigmarket::cli::run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(1);
        }
    }
}
