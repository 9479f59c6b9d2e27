use anyhow::Context;
#[global_allocator]
static ALLOCATOR: portico::server::allocator::Allocator = portico::server::allocator::Allocator;

use clap::{Parser, Subcommand};
use portico::config;
use portico::server::{self, Gateway};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Portico runs Amazon API Gateway REST APIs locally, unchanged.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// How log lines look on stderr (filter them with RUST_LOG, e.g. `portico=debug`).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Check an API document and print every problem with its location.
    Check {
        #[arg(long)]
        config: PathBuf,
    },
    /// Serve an API document.
    Serve(ServeArgs),
    /// Render a mapping template without a backend, or run a file of template cases.
    Render(RenderArgs),
    /// Write a document out as OpenAPI 3 (for `aws apigateway import-rest-api`) or as a native
    /// document (from an OpenAPI one).
    Export {
        #[arg(long, required_unless_present = "state", conflicts_with = "state")]
        config: Option<PathBuf>,
        /// A management API state directory (`serve --state`); with `--api`, writes that API.
        #[arg(long, requires = "api")]
        state: Option<PathBuf>,
        /// The RestApi id to export from `--state`.
        #[arg(long)]
        api: Option<String>,
        #[arg(long, value_enum, default_value_t = ExportFormat::Native)]
        format: ExportFormat,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    Openapi,
    Native,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The API document; with `--admin-listen` it seeds an empty state (and gives the load
    /// balancers and Lambda endpoint).
    #[arg(long, required_unless_present = "admin_listen")]
    config: Option<PathBuf>,
    /// Serve API Gateway's management API (boto3, the AWS CLI) on this address.
    #[arg(long, value_name = "ADDR")]
    admin_listen: Option<SocketAddr>,
    /// Keep every management change in this directory (written durably before it is
    /// acknowledged) and serve it again after a restart.
    #[arg(long, value_name = "DIR", requires = "admin_listen")]
    state: Option<PathBuf>,
    /// Verify SigV4 signatures against these keys (`ACCESS_KEY_ID SECRET` per line); without
    /// it any signature is accepted.
    #[arg(long, value_name = "FILE", requires = "admin_listen")]
    admin_credentials: Option<PathBuf>,
    /// Management calls per second before `TooManyRequestsException` (AWS limits them per
    /// account); unlimited unless given.
    #[arg(long, requires_all = ["admin_listen", "admin_throttle_burst"])]
    admin_throttle_rate: Option<f64>,
    /// The burst of management calls `--admin-throttle-rate` allows.
    #[arg(long, requires = "admin_throttle_rate")]
    admin_throttle_burst: Option<u64>,
    #[arg(long, default_value = "127.0.0.1:4000")]
    listen: SocketAddr,
    /// A process-wide steady request rate (requests per second) over every API and stage.
    #[arg(long, requires = "throttle_burst")]
    throttle_rate: Option<f64>,
    /// The burst the process-wide limit allows.
    #[arg(long, requires = "throttle_rate")]
    throttle_burst: Option<u64>,
    /// Do not watch the document for changes (SIGHUP still reloads it).
    #[arg(long)]
    no_watch: bool,
    /// Threads serving requests; one per core by default. With 1, one thread runs everything
    /// without cross-thread wake-ups (about 8 % more proxied requests per second on one core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    worker_threads: Option<u16>,
    /// How often the document is checked for changes, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    watch_interval_ms: u64,
    /// Log every request (`-` for stdout, or a file), stages without `accessLogSettings` in a
    /// default JSON format. Stages with `accessLogSettings` are logged to stdout without it.
    #[arg(long, value_name = "FILE")]
    access_log: Option<String>,
    /// Serve Prometheus `/metrics`, `/healthz` and `/readyz` on this address.
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
    /// Terminate TLS with this certificate chain (PEM); HTTP/2 and HTTP/1.1 by ALPN.
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// The private key of `--tls-cert` (PEM).
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Also speak cleartext HTTP/2 (h2c) on a plain listener.
    #[arg(long)]
    h2c: bool,
    /// Connections served at once; past it, new ones get a 503.
    #[arg(long, default_value_t = 10_000)]
    max_connections: usize,
    /// Seconds a client may take to send a request's headers (also the idle keep-alive time).
    #[arg(long, default_value_t = 30)]
    header_read_timeout: u64,
    /// The largest request body, in bytes (413 past it).
    #[arg(long, default_value_t = portico::pipeline::MAX_PAYLOAD_BYTES)]
    max_body_bytes: usize,
    /// The longest request URL, in characters (414 past it).
    #[arg(long, default_value_t = portico::pipeline::MAX_URL_LENGTH)]
    max_url_length: usize,
    /// The largest request head (request line and headers), in bytes (431 past it).
    #[arg(long, default_value_t = 16 * 1024)]
    max_header_bytes: usize,
}

#[derive(clap::Args)]
struct RenderArgs {
    /// The template to render.
    #[arg(long, required_unless_present = "cases", conflicts_with = "cases")]
    template: Option<PathBuf>,
    /// A JSON file of cases (name, template, body, params, context, stageVariables, expected).
    #[arg(long)]
    cases: Option<PathBuf>,
    /// The request body (`$input.body`).
    #[arg(long)]
    body: Option<PathBuf>,
    #[arg(long = "header", value_name = "NAME=VALUE")]
    headers: Vec<String>,
    #[arg(long = "query", value_name = "NAME=VALUE")]
    query: Vec<String>,
    #[arg(long = "path", value_name = "NAME=VALUE")]
    path: Vec<String>,
    #[arg(long = "stage-variable", value_name = "NAME=VALUE")]
    stage_variables: Vec<String>,
    /// A `$context` variable by dotted name, e.g. `identity.sourceIp=10.0.0.1`.
    #[arg(long = "context", value_name = "NAME=VALUE")]
    context: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    match cli.command {
        Command::Check { config } => check(&config),
        Command::Serve(args) => report(serve(args)),
        Command::Render(args) => report(render(args)),
        Command::Export { config, state, api, format } => match (config, state, api) {
            (_, Some(state), Some(api)) => report(export_state(&state, &api, format)),
            (Some(config), _, _) => report(export(&config, format)),
            _ => ExitCode::from(2),
        },
    }
}

fn report(result: anyhow::Result<ExitCode>) -> ExitCode {
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(1)
    })
}

fn pairs(items: &[String], flag: &str) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    items
        .iter()
        .map(|item| {
            item.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| anyhow::anyhow!("--{flag} {item:?}: expected NAME=VALUE"))
        })
        .collect()
}

fn render(args: RenderArgs) -> anyhow::Result<ExitCode> {
    use portico::mapping::cases::{render_case, run_cases, Case, CaseParams};
    if let Some(file) = args.cases {
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        let report = run_cases(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        for f in &report.failures {
            let got = match &f.got {
                Ok(out) => format!("{out:?}"),
                Err(e) => format!("error: {e}"),
            };
            println!("FAIL {}: expected {:?}, got {got}", f.name, f.expected);
        }
        println!("{} passed, {} failed", report.passed, report.failures.len());
        return Ok(if report.failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    let path = args.template.context("--template is required")?;
    let template = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let body = match &args.body {
        Some(b) => Some(std::fs::read_to_string(b).with_context(|| format!("reading {}", b.display()))?),
        None => None,
    };
    let context =
        pairs(&args.context, "context")?.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
    let case = Case {
        name: path.display().to_string(),
        template,
        body,
        params: CaseParams {
            path: pairs(&args.path, "path")?,
            querystring: pairs(&args.query, "query")?,
            header: pairs(&args.headers, "header")?,
        },
        context,
        stage_variables: pairs(&args.stage_variables, "stage-variable")?,
        expected: None,
        error: None,
        source: None,
    };
    match render_case(&case) {
        Ok(out) => {
            print!("{out}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            Ok(ExitCode::from(1))
        }
    }
}

fn export(path: &Path, format: ExportFormat) -> anyhow::Result<ExitCode> {
    let value = match format {
        ExportFormat::Openapi => match config::load_document(path) {
            Ok(doc) => config::export::to_openapi(&doc),
            Err(e) => {
                print_load_error(&e);
                return Ok(ExitCode::from(1));
            }
        },
        ExportFormat::Native => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
            match config::export::to_native(&text, is_json) {
                Ok(v) => v,
                Err(problems) => {
                    print_load_error(&config::LoadError::Invalid {
                        path: path.to_path_buf(),
                        problems: config::problem::Problems(problems),
                    });
                    return Ok(ExitCode::from(1));
                }
            }
        }
    };
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(ExitCode::SUCCESS)
}

fn export_state(dir: &Path, api: &str, format: ExportFormat) -> anyhow::Result<ExitCode> {
    let state = portico::admin::load_state(dir).map_err(|e| anyhow::anyhow!(e))?;
    let native = portico::admin::export(&state, api).map_err(|e| anyhow::anyhow!("{e}"))?;
    let value = match format {
        ExportFormat::Native => native,
        ExportFormat::Openapi => {
            let (doc, problems) = config::load::load(&serde_json::to_string(&native)?, true);
            if !problems.is_empty() {
                anyhow::bail!("the stored API is not a valid document: {}", config::problem::Problems(problems));
            }
            config::export::to_openapi(&doc)
        }
    };
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(ExitCode::SUCCESS)
}

fn check(path: &Path) -> ExitCode {
    match config::load_file(path) {
        Ok(plan) => {
            for w in &plan.warnings {
                println!("{}: warning: {w}", path.display());
            }
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

/// With the management API the document only seeds it; the data plane then serves what is
/// deployed, and the document's own plan is an empty one.
const EMPTY_API: &str = r#"{"restApi": {"name": "none"}}"#;

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let listen = args.listen;
    let path = args.config.clone();
    let plan = match &path {
        Some(path) => match config::load_file(path) {
            Ok(plan) => {
                for w in &plan.warnings {
                    tracing::warn!("{}: {w}", path.display());
                }
                plan
            }
            Err(e) => {
                print_load_error(&e);
                return Ok(ExitCode::from(1));
            }
        },
        None => config::compile_text(EMPTY_API, true).map_err(|_| anyhow::anyhow!("the empty API does not compile"))?,
    };
    let seed = match (&path, args.admin_listen) {
        (Some(path), Some(_)) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
            Some(
                config::export::to_native(&text, is_json)
                    .map_err(|_| anyhow::anyhow!("{} is not valid", path.display()))?,
            )
        }
        _ => None,
    };
    let plan = if args.admin_listen.is_some() {
        config::compile_text(EMPTY_API, true).map_err(|_| anyhow::anyhow!("the empty API does not compile"))?
    } else {
        plan
    };
    let credentials = match &args.admin_credentials {
        Some(file) => {
            let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
            Some(
                portico::admin::sigv4::Credentials::parse(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
            )
        }
        None => None,
    };
    let throttle = args.throttle_rate.zip(args.throttle_burst);
    let (max_body, max_url) = (args.max_body_bytes, args.max_url_length);
    let prepare = Box::new(move |plan: &mut portico::plan::Plan| {
        plan.max_payload_bytes = max_body;
        plan.max_url_length = max_url;
        if let Some((rate, burst)) = throttle {
            plan.account_throttle = Some(Arc::new(portico::plan::throttle::TokenBucket::new(rate, burst)));
        }
    });
    let workers = args
        .worker_threads
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let runtime = if workers == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build()
    }
    .context("starting the runtime")?;
    runtime.block_on(async move {
        let stages: Vec<String> = plan.stages.iter().map(|s| s.name.to_string()).collect();
        let name = format!("{} ({})", plan.api_name, plan.api_id);
        let destination = match args.access_log.as_deref() {
            None | Some("-") => server::access_log::Destination::Stdout,
            Some(file) => server::access_log::Destination::File(file.into()),
        };
        let access_log = server::access_log::AccessLog::start(destination, args.access_log.is_some())
            .await
            .context("opening the access log")?;
        let gateway = Gateway::with(plan, prepare, Some(access_log));
        let admin = match args.admin_listen {
            Some(addr) => {
                let options = portico::admin::AdminOptions {
                    state_dir: args.state.as_deref(),
                    seed,
                    credentials,
                    throttle: args.admin_throttle_rate.zip(args.admin_throttle_burst),
                };
                let admin = portico::admin::Admin::open(gateway.clone(), options).map_err(|e| anyhow::anyhow!(e))?;
                let listener =
                    tokio::net::TcpListener::bind(addr).await.with_context(|| format!("listening on {addr}"))?;
                println!("Management API on http://{}", listener.local_addr()?);
                tokio::spawn(portico::admin::serve(admin.clone(), listener));
                Some(admin)
            }
            None => None,
        };
        if let Some(addr) = args.metrics_listen {
            let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("listening on {addr}"))?;
            println!("Metrics on http://{}/metrics", listener.local_addr()?);
            tokio::spawn(server::metrics::serve(gateway.clone(), listener));
        }
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(server::tls_config(cert, key).map_err(|e| anyhow::anyhow!("TLS: {e}"))?),
            _ => None,
        };
        let https = tls.is_some();
        let options = server::Options {
            limits: server::Limits {
                max_connections: args.max_connections,
                header_read_timeout: Duration::from_secs(args.header_read_timeout.max(1)),
                max_head_bytes: args.max_header_bytes,
            },
            tls,
            h2c: args.h2c,
        };
        let running = server::start_with(gateway.clone(), listen, options)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let scheme = if https { "https" } else { "http" };
        match &admin {
            None => {
                println!("Portico is serving {name}");
                for stage in &stages {
                    let url = running.url(stage);
                    println!("  {}", if https { url.replacen("http://", "https://", 1) } else { url });
                }
            }
            Some(admin) => {
                println!("Portico is serving the deployed APIs on {scheme}://{}", running.addr);
                for (id, api) in &admin.snapshot().apis {
                    for stage in api.stages.keys() {
                        println!("  {scheme}://{}/restapis/{id}/{stage}/_user_request_/", running.addr);
                    }
                }
            }
        }
        let watched = path.clone().filter(|_| admin.is_none());
        if let (false, Some(path)) = (args.no_watch, &watched) {
            server::reload::watch(gateway.clone(), path.clone(), Duration::from_millis(args.watch_interval_ms));
        }
        wait_for_signals(&gateway, watched.as_deref()).await?;
        gateway.metrics.ready.store(false, std::sync::atomic::Ordering::Relaxed);
        tracing::info!("shutting down: finishing in-flight requests");
        running.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Returns on SIGINT or SIGTERM; reloads the document on SIGHUP.
async fn wait_for_signals(gateway: &Arc<Gateway>, path: Option<&std::path::Path>) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        let mut hangup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return Ok(()),
                _ = term.recv() => return Ok(()),
                _ = hangup.recv() => {
                    let Some(path) = path else { continue };
                    let (gateway, path) = (gateway.clone(), path.to_path_buf());
                    let _ = tokio::task::spawn_blocking(move || server::reload::reload(&gateway, &path)).await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (gateway, path);
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")
    }
}
