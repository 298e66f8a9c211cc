//! `loadgen`: the command line of the load generator. Prints what it will
//! do on stderr, then one line of `key=value` results on stdout.

use std::num::NonZeroU64;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use hyper::Method;
use hyper::header::HeaderMap;
use steward_loadgen::request::{parse_duration, parse_header};
use steward_loadgen::{BodyTemplate, Config, Pace, Schedule, Stop, Target};

/// Send HTTP/1.1 requests at a fixed rate and report latency percentiles
/// measured from each request's scheduled send time.
#[derive(Debug, Parser)]
#[command(name = "loadgen", version)]
struct Args {
    /// The URL every request goes to (http:// only).
    url: String,
    /// The request method.
    #[arg(short = 'X', long, default_value = "GET")]
    method: String,
    /// A header `Name: value`; repeat for more.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The request body; every `{n}` in it becomes the request's number
    /// (1, 2, … across warm-up and run), so POSTs create distinct objects.
    #[arg(short, long)]
    body: Option<String>,
    /// Requests per second, in total; 0 sends each connection's next
    /// request as soon as its last is answered (maximum throughput).
    #[arg(short = 'R', long, default_value_t = 1_000)]
    rate: u64,
    /// Keep-alive connections the requests are spread over.
    #[arg(short, long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    connections: u64,
    /// How long to measure, after the warm-up (e.g. 500ms, 10s, 1m).
    #[arg(short, long, default_value = "10s", value_parser = parse_duration, conflicts_with = "requests")]
    duration: Duration,
    /// Measure this many requests (after the warm-up) instead of a duration.
    #[arg(short = 'n', long)]
    requests: Option<u64>,
    /// Requests sent before measuring starts: answered, not counted.
    #[arg(short, long, default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// How long one request may take before it counts as an error.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// Runtime threads for the connections (the pacing has its own).
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    threads: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match configure(&args).and_then(|config| execute(&args, config)) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("loadgen: {message}");
            ExitCode::from(2)
        }
    }
}

fn configure(args: &Args) -> Result<Config, String> {
    let target = Target::parse(&args.url)?;
    let method = Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("{:?} is not a method", args.method))?;
    let mut headers = HeaderMap::new();
    for text in &args.headers {
        let (name, value) = parse_header(text)?;
        headers.append(name, value);
    }
    let pace = NonZeroU64::new(args.rate).map_or(Pace::Unthrottled, |rate| Pace::Fixed(Schedule::new(rate)));
    let stop = args.requests.map_or(Stop::After(args.duration), Stop::Count);
    Ok(Config {
        target,
        method,
        headers,
        body: args.body.as_deref().map(BodyTemplate::new),
        pace,
        connections: usize::try_from(args.connections).map_err(|_| "too many connections".to_owned())?,
        warmup: args.warmup,
        stop,
        timeout: args.timeout,
    })
}

fn execute(args: &Args, config: Config) -> Result<String, String> {
    let rate = match config.pace {
        Pace::Fixed(schedule) => format!("{}/s", schedule.per_second()),
        Pace::Unthrottled => "full speed".to_owned(),
    };
    let length = match config.stop {
        Stop::After(duration) => format!("{duration:?}"),
        Stop::Count(count) => format!("{count} requests"),
    };
    eprintln!(
        "loadgen: {} {} at {rate} over {} connections, {length} after {:?} of warm-up",
        config.method, args.url, config.connections, config.warmup
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::try_from(args.threads).unwrap_or(1))
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the runtime: {error}"))?;
    let report = runtime.block_on(steward_loadgen::run(config))?;
    Ok(report.summary())
}
