use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = rigmarket::cli::Cli::parse();
    rigmarket::telemetry::init(cli.default_log_filter());
    match rigmarket::cli::run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(1);
        }
    }
}
