//! Command line: parse arguments and hand over to the library.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use dynadns::server::{ServeOptions, serve};

/// Authoritative DNS server with GSLB answers.
#[derive(Parser)]
#[command(name = "dynadns", version, about)]
struct Cli {
    /// Log lines as plain text (colour only on a terminal) or one JSON object per line.
    #[arg(long, value_enum, global = true, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// How `serve` writes its log to stderr.
#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    /// One line per event; ANSI colour only when stderr is a terminal.
    Text,
    /// One JSON object per line (journald, Loki, Elasticsearch), never coloured.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve DNS over UDP and TCP.
    Serve {
        /// Configuration file.
        #[arg(short = 'c', long = "config", default_value = "dynadns.yaml")]
        config: PathBuf,
        /// Listen address (UDP and TCP); repeatable; overrides listen.dns.
        #[arg(long)]
        listen: Vec<SocketAddr>,
        /// Admin HTTP address; overrides listen.admin.
        #[arg(long)]
        admin: Option<SocketAddr>,
    },
    /// Validate the configuration and every zone; exit 1 listing every error.
    Check {
        /// Configuration file.
        #[arg(short = 'c', long = "config", default_value = "dynadns.yaml")]
        config: PathBuf,
    },
    /// Show how a name is answered for a client, without a running server.
    Explain {
        /// Configuration file.
        #[arg(short = 'c', long = "config", default_value = "dynadns.yaml")]
        config: PathBuf,
        /// The client's address.
        #[arg(long)]
        client: IpAddr,
        /// EDNS client subnet, e.g. 198.51.100.0/24.
        #[arg(long)]
        ecs: Option<String>,
        /// Name to look up.
        name: String,
        /// Record type (default A).
        #[arg(default_value = "A")]
        qtype: String,
    },
    /// Convert an RFC 1035 master file to zone YAML on stdout.
    ImportZone {
        /// Master file.
        file: PathBuf,
        /// Zone origin, e.g. example.com.
        #[arg(long)]
        origin: String,
    },
}

/// Logs go to stderr (journald and containers collect it there). `RUST_LOG` filters them
/// (`warn`, `dynadns=debug`, ...; default `info`); colour codes are written only to a terminal,
/// never into files or the journal.
fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::try_new(&spec).unwrap_or_else(|e| {
            eprintln!("dynadns: RUST_LOG '{spec}' is not a valid filter ({e}); logging at info");
            EnvFilter::new("info")
        }),
        _ => EnvFilter::new("info"),
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_env_filter(filter);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            config,
            listen,
            admin,
        } => {
            init_logging(cli.log_format);
            match serve(ServeOptions {
                config_path: config,
                listen,
                admin,
            }) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("dynadns: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Check { config } => match dynadns::config::load_with_warnings(&config) {
            Ok((loaded, warnings)) => {
                if !warnings.is_empty() {
                    eprintln!("{warnings}");
                    eprintln!("{} warning(s)", warnings.len());
                }
                let records: usize = loaded
                    .zones
                    .iter()
                    .flat_map(|z| z.nodes())
                    .flat_map(|n| n.rrsets.iter())
                    .map(|s| s.rdata.len())
                    .sum();
                println!(
                    "{}: ok ({} zone(s), {} record(s))",
                    config.display(),
                    loaded.zones.len(),
                    records
                );
                for u in &loaded.config.gslb.bgp_dumps {
                    println!(
                        "geo map '{}': {} prefix(es) from BGP dump {} ({} route(s))",
                        u.map,
                        u.prefixes,
                        u.dump.display(),
                        u.routes
                    );
                }
                ExitCode::SUCCESS
            }
            Err(diags) => {
                eprintln!("{diags}");
                match diags.warning_count() {
                    0 => eprintln!("{} error(s)", diags.error_count()),
                    w => eprintln!("{} error(s), {w} warning(s)", diags.error_count()),
                }
                ExitCode::FAILURE
            }
        },
        Command::Explain {
            config,
            client,
            ecs,
            name,
            qtype,
        } => match dynadns::explain::run(&config, client, ecs.as_deref(), &name, &qtype) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        Command::ImportZone { file, origin } => {
            match dynadns::import::import_master_file(&file, &origin) {
                Ok(yaml) => {
                    print!("{yaml}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
