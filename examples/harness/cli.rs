//! Flags and commands of the harness, and the single-step commands (launch, foreground,
//! background, track, flush, diagnostics, sandbox); `demo`, `inspect`, `validate` and `replay`
//! have their own modules.

use std::path::PathBuf;
use std::sync::Arc;

use app_conversions::{
    ActionSource, AppInfo, ClientConfig, ConversionsClient, DeviceInfo, FormFactor, NetworkType,
    PrivacyState, TrackingAuthorization,
};
use app_conversions_sandbox::{Sandbox, SandboxConfig};

use crate::proxy::Proxy;
use crate::session::Session;
use crate::timeline::{plural, Mode, Timeline};
use crate::{demo, event_json, inspect, replay, report, validate};

/// The `--help` text.
pub const HELP: &str = "\
app-conversions desktop harness

USAGE: cargo run --example harness -- [FLAGS] [COMMAND]

COMMANDS
  demo                 (default) the whole story against an embedded sandbox: install, open,
                       checkout, Limit Ad Tracking, a server outage and recovery, as a timeline
  launch               a cold start: app_install on the first launch of a database, else app_open
  foreground           return to the foreground (app_open if the last `background` was long enough ago)
  background           go to the background (sends what waits)
  track --json EVENT   track one event given in the API's JSON names, e.g.
                       '{\"event_name\":\"checkout\",\"custom_data\":{\"currency\":\"USD\",\"value\":\"9.99\"},\"user_data\":{\"em\":[\"Person@Example.com\"]}}'
  flush                send what is due and print the timeline
  diagnostics --db F   the SDK's diagnostics of buffer F as a short table (--json: every field)
  inspect --db FILE    what a buffer holds (queued events, dead letters, drops, install record,
                       backoff), read-only: works on a copy pulled from a device
  validate --json EVENT | --file FILE [--all]
                       check events offline with the SDK's own validation and the official
                       5.23 schema; prints each problem with its field and rule, then a summary
                       (--all: a line for every event); exit code 1 on any
  replay --db FILE [--endpoint URL --test-mode]
                       send a buffer's events again, from a copy (FILE is not changed); without
                       --endpoint to the embedded sandbox; a real endpoint only with --test-mode
  sandbox --port N [--host ADDR]
                       run only the sandbox endpoint (until killed); --host 0.0.0.0 lets a
                       phone on the same network reach it (default: loopback only)
  relay --config FILE [--upstream URL] [--listen ADDR]
                       run the reference relay (same as `cargo run -p app-conversions-relay`)

FLAGS
  --endpoint URL           a real or relay endpoint instead of the embedded sandbox
  --ad-account ID          ad account id (default 549768257474)
  --token TOKEN            bearer token (or APP_CONVERSIONS_TOKEN; default: the sandbox's)
  --db PATH                keep the buffer in PATH between runs (default: a fresh temporary folder)
  --test-mode              send ?test=true (validated, not recorded; 20 events per request)
  --platform ios|android   action source and device facts (default android)
  --advertising-id ID      the IDFA or GAID
  --opt-out                Limit Ad Tracking / Ads Personalization opt-out
  --att STATUS             iOS tracking authorization: authorized, denied, restricted or
                           not-determined (the default: the prompt not answered yet)
  --first-install-time S   the OS's first install time, Unix seconds
  --relay                  the endpoint is a relay that adds the client IP
  --via-relay              (demo) run the whole chain locally: SDK -> relay -> sandbox
  --no-flush               do not flush before exiting
  -v, --verbose            print request and answer bodies under their timeline lines
  --json                   (without a JSON value after it) print JSON for machines: one object
                           per timeline line; inspect and validate print one JSON document
  --file FILE              (validate) a file of events: a JSON array, one event per line, or a
                           request body {\"data\": [...]}
  --all                    (validate) a line for every event, valid ones too
  -h, --help               this text

EXIT CODES
  0 success; 1 otherwise: validate found a problem, the demo or a delivery failed, or the
  command could not run (a message on stderr says why)
";

const DEFAULT_ACCOUNT: &str = "549768257474";
/// The advertising id the single steps use on Android when none is given: a fixed test GAID.
pub const TEST_GAID: &str = "38400000-8cf0-11bd-b23e-10b96e40000d";
/// The advertising id the single steps use on iOS when none is given: a fixed test IDFA.
pub const TEST_IDFA: &str = "6D92078A-8246-4BA4-AE5B-76104861E7DC";
/// The embedded sandbox's token, used when no `--token` is given.
pub const SANDBOX_TOKEN: &str = "sandbox-token";

/// Parsed command line.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// `--endpoint`: a real or relay endpoint instead of the embedded sandbox.
    pub endpoint: Option<String>,
    /// `--ad-account`.
    pub ad_account: String,
    /// `--token` or `APP_CONVERSIONS_TOKEN`; never printed.
    pub token: Option<String>,
    /// `--db`: the buffer file.
    pub db: Option<PathBuf>,
    /// `--test-mode`: `?test=true`.
    pub test_mode: bool,
    /// `--platform ios`.
    pub ios: bool,
    /// `--advertising-id`.
    pub advertising_id: Option<String>,
    /// `--opt-out`.
    pub opt_out: bool,
    /// `--att`: the iOS tracking authorization (absent: not determined).
    pub tracking_authorization: Option<TrackingAuthorization>,
    /// `--first-install-time`, Unix seconds.
    pub first_install_time: Option<i64>,
    /// `--relay`: the endpoint adds the client IP.
    pub relay: bool,
    /// `--via-relay` (demo).
    pub via_relay: bool,
    /// `--no-flush`.
    pub no_flush: bool,
    /// `--json EVENT`: an event (or array of events) as JSON.
    pub json: Option<String>,
    /// `--port` (sandbox).
    pub port: Option<u16>,
    /// `--host` (sandbox): the address to listen on.
    pub host: Option<String>,
    /// The command; `demo` when none is given.
    pub command: Option<String>,
    /// `--verbose`: bodies under their timeline lines.
    pub verbose: bool,
    /// `--json` without a value: JSON output for machines.
    pub machine: bool,
    /// `--file` (validate): a file of events.
    pub file: Option<PathBuf>,
    /// `--all` (validate): a line for every event, valid ones included.
    pub all: bool,
}

impl Options {
    /// How the timeline prints.
    pub fn mode(&self) -> Mode {
        match (self.machine, self.verbose) {
            (true, _) => Mode::Json,
            (false, true) => Mode::Verbose,
            (false, false) => Mode::Text,
        }
    }
}

fn parse(args: Vec<String>) -> Result<Options, String> {
    let mut o = Options {
        ad_account: DEFAULT_ACCOUNT.into(),
        ..Default::default()
    };
    let mut it = args.into_iter().peekable();
    while let Some(arg) = it.next() {
        // `--json` takes a value only when one follows (`{...}` or `[...]`); alone it asks
        // for machine output.
        if arg == "--json" {
            match it.next_if(|next| next.trim_start().starts_with(['{', '['])) {
                Some(json) => o.json = Some(json),
                None => o.machine = true,
            }
            continue;
        }
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => o.command = Some("help".into()),
            "--endpoint" => o.endpoint = Some(value("--endpoint")?),
            "--ad-account" => o.ad_account = value("--ad-account")?,
            "--token" => o.token = Some(value("--token")?),
            "--db" => o.db = Some(PathBuf::from(value("--db")?)),
            "--test-mode" => o.test_mode = true,
            "--platform" => match value("--platform")?.as_str() {
                "ios" => o.ios = true,
                "android" => o.ios = false,
                other => return Err(format!("--platform must be ios or android, not {other}")),
            },
            "--advertising-id" => o.advertising_id = Some(value("--advertising-id")?),
            "--opt-out" => o.opt_out = true,
            "--att" => {
                o.tracking_authorization = Some(match value("--att")?.as_str() {
                    "authorized" => TrackingAuthorization::Authorized,
                    "denied" => TrackingAuthorization::Denied,
                    "restricted" => TrackingAuthorization::Restricted,
                    "not-determined" => TrackingAuthorization::NotDetermined,
                    other => {
                        return Err(format!(
                            "--att must be authorized, denied, restricted or not-determined, \
                             not {other}"
                        ))
                    }
                })
            }
            "--first-install-time" => {
                let v = value("--first-install-time")?;
                o.first_install_time = Some(
                    v.parse()
                        .map_err(|_| format!("--first-install-time: {v} is not Unix seconds"))?,
                );
            }
            "--relay" => o.relay = true,
            "--via-relay" => o.via_relay = true,
            "--no-flush" => o.no_flush = true,
            "--all" => o.all = true,
            "--file" => o.file = Some(PathBuf::from(value("--file")?)),
            "-v" | "--verbose" => o.verbose = true,
            "--host" => o.host = Some(value("--host")?),
            "--port" => {
                let v = value("--port")?;
                o.port = Some(
                    v.parse()
                        .map_err(|_| format!("--port: {v} is not a port number"))?,
                );
            }
            flag if flag.starts_with('-') => {
                return Err(format!("unknown flag {flag} (see --help)"))
            }
            command if o.command.is_none() => o.command = Some(command.to_string()),
            extra if extra.ends_with(".json") || extra.ends_with(".jsonl") => {
                return Err(format!(
                    "unexpected argument {extra}: a file of events goes after --file (see --help)"
                ))
            }
            extra => return Err(format!("unexpected argument {extra} (see --help)")),
        }
    }
    if o.token.is_none() {
        o.token = std::env::var("APP_CONVERSIONS_TOKEN")
            .ok()
            .filter(|t| !t.is_empty());
    }
    Ok(o)
}

/// Runs the command line; `Ok(false)` when a check found problems (exit code 1, already
/// printed).
pub fn run(args: Vec<String>) -> Result<bool, String> {
    if args.first().map(String::as_str) == Some("relay") {
        return app_conversions_relay::run_cli(args.into_iter().skip(1)).map(|()| true);
    }
    let options = parse(args)?;
    match options.command.as_deref().unwrap_or("demo") {
        "help" => {
            say!("{}", HELP.trim_end());
            Ok(true)
        }
        "demo" => demo::run(&options).map(|()| true),
        "inspect" => inspect::run(&options).map(|()| true),
        "validate" => validate::run(&options),
        "replay" => replay::run(&options),
        "sandbox" => {
            let port = options.port.unwrap_or(8787).to_string();
            let mut args = vec!["--port".to_string(), port];
            if let Some(host) = &options.host {
                args.extend(["--host".to_string(), host.clone()]);
            }
            app_conversions_sandbox::run_standalone(args.into_iter()).map(|()| true)
        }
        "diagnostics" if options.db.is_none() => Err(
            "diagnostics needs --db FILE: without it the harness would open a fresh, empty \
             buffer and show zeros (to look at a buffer without changing it, use inspect --db FILE)"
                .into(),
        ),
        "launch" | "foreground" | "background" | "track" | "flush" | "diagnostics" => {
            step(&options).map(|()| true)
        }
        other => Err(format!("unknown command {other} (see --help)")),
    }
}

/// Platform facts for the chosen platform.
pub fn platform(ios: bool) -> (ActionSource, DeviceInfo) {
    if ios {
        (
            ActionSource::AppIos,
            DeviceInfo {
                brand: Some("Apple".into()),
                model: Some("iPhone15,2".into()),
                device_type: Some("phone".into()),
                os_version: Some("18.1".into()),
                language: Some("en".into()),
                carrier: None,
                wifi: Some(true),
                user_agent: Some("Shop/3.1.0 CFNetwork/1568.200.51 Darwin/24.1.0".into()),
                form_factor: Some(FormFactor::Cellphone),
                network_type: Some(NetworkType::Wifi),
                locale: Some("en-US".into()),
                languages: vec!["en-US".into()],
                timezone: Some("America/New_York".into()),
                timezone_abbr: Some("EST".into()),
                screen_width: Some(1179),
                screen_height: Some(2556),
                cpu_cores: Some(6),
                ..Default::default()
            },
        )
    } else {
        (
            ActionSource::AppAndroid,
            DeviceInfo {
                brand: Some("Google".into()),
                model: Some("Pixel 8".into()),
                device_type: Some("phone".into()),
                os_version: Some("14".into()),
                language: Some("en".into()),
                carrier: Some("T-Mobile".into()),
                wifi: Some(true),
                user_agent: Some(
                    "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UQ1A.240205.004)".into(),
                ),
                form_factor: Some(FormFactor::Cellphone),
                network_type: Some(NetworkType::Wifi),
                locale: Some("en-US".into()),
                languages: vec!["en-US".into()],
                timezone: Some("America/New_York".into()),
                timezone_abbr: Some("EST".into()),
                screen_width: Some(1080),
                screen_height: Some(2400),
                screen_density: Some(428),
                cpu_cores: Some(8),
                ..Default::default()
            },
        )
    }
}

/// The endpoint to use: the given one, or a freshly started embedded sandbox.
pub fn endpoint(options: &Options) -> Result<(String, Option<Sandbox>), String> {
    match &options.endpoint {
        Some(url) => Ok((url.clone(), None)),
        None => {
            let sandbox = Sandbox::start(SandboxConfig {
                token: SANDBOX_TOKEN.into(),
                ad_account_id: options.ad_account.clone(),
                ..Default::default()
            })
            .map_err(|e| format!("cannot start the sandbox: {e}"))?;
            Ok((sandbox.base_url(), Some(sandbox)))
        }
    }
}

/// A client for `endpoint` with the options' database, platform and privacy.
pub fn client(
    options: &Options,
    endpoint: &str,
    db: PathBuf,
    min_background_secs: u64,
) -> Result<Arc<ConversionsClient>, String> {
    let (action_source, device) = platform(options.ios);
    let token = options
        .token
        .clone()
        .unwrap_or_else(|| SANDBOX_TOKEN.into());
    let config = ClientConfig {
        test_mode: options.test_mode,
        // The client talks to the harness's recording proxy on loopback, so the relay rule
        // is applied to the endpoint behind it: the embedded sandbox stands in for the API.
        endpoint_is_relay: Some(options.relay || relay_by_host(options)),
        retry_base_delay_ms: 200,
        min_background_for_open_secs: min_background_secs,
        ..ClientConfig::new(
            endpoint,
            options.ad_account.clone(),
            token,
            db.to_string_lossy(),
            action_source,
        )
    };
    let app = AppInfo {
        app_id: Some("com.example.shop".into()),
        app_name: Some("Shop".into()),
        app_version: Some("3.1.0".into()),
        first_install_time: options.first_install_time,
        app_package_name: Some("com.example.shop".into()),
        app_store: None,
    };
    let privacy = PrivacyState {
        opt_out: options.opt_out,
        tracking_authorization: options.tracking_authorization,
        advertising_id: options.advertising_id.clone(),
        limited_data_processing: false,
        collection_enabled: true,
    };
    ConversionsClient::new(config, app, device, privacy).map_err(|e| e.to_string())
}

/// Whether `--endpoint` names a relay by the SDK's rule (any host but the Conversions API's).
pub fn relay_by_host(options: &Options) -> bool {
    options
        .endpoint
        .as_deref()
        .and_then(app_conversions::is_relay_host)
        .unwrap_or(false)
}

/// Where the buffer lives: `--db`, or a temporary folder kept for this run.
pub fn database(options: &Options) -> Result<(PathBuf, Option<tempfile::TempDir>), String> {
    match &options.db {
        Some(path) => Ok((path.clone(), None)),
        None => {
            let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
            Ok((dir.path().join("buffer.db"), Some(dir)))
        }
    }
}

fn step(options: &Options) -> Result<(), String> {
    let (url, _sandbox) = endpoint(options)?;
    let (db, _temp) = database(options)?;
    let timeline = Arc::new(Timeline::new(options.mode()));
    // A device usually has an advertising id: without one (and without a relay to add the
    // IP) an event with no email meets none of the API's identity options.
    let mut options = options.clone();
    if options.advertising_id.is_none() && options.command.as_deref() != Some("diagnostics") {
        let (id, kind) = if options.ios {
            (TEST_IDFA, "IDFA")
        } else {
            (TEST_GAID, "GAID")
        };
        timeline.info(&format!(
            "advertising id {id} (a fixed test {kind}; --advertising-id ID to change it)"
        ));
        options.advertising_id = Some(id.into());
    }
    let options = &options;
    let proxy = Proxy::start(&url, "", Arc::clone(&timeline))?;
    // Foreground after background in separate runs: the background time is not persisted by
    // the SDK (a killed process relaunches with `launch`), so within the harness any gap counts.
    let session = Session::start(options, &proxy.base_url(), db, 0, Arc::clone(&timeline))?;
    let client = Arc::clone(&session.client);
    let command = options.command.as_deref().unwrap_or_default();
    let queues = match command {
        "launch" | "foreground" | "background" => {
            timeline.action(command);
            match command {
                "launch" => client.on_launch(),
                "background" => client.on_background(),
                _ => client.on_background().and_then(|()| client.on_foreground()),
            }
            .map_err(|e| e.to_string())?;
            true
        }
        "track" => {
            let json = options
                .json
                .as_deref()
                .ok_or("track needs --json '<event>'")?;
            let event = event_json::parse(json).map_err(|p| p.to_string())?;
            let event_id = session.track(event)?;
            timeline.result(&format!("tracked {event_id}"));
            true
        }
        "flush" => true,
        _ => false,
    };
    if queues && !options.no_flush {
        let report = session.flush(15_000)?;
        let dropped = session.report_drops(options);
        if report.remaining > 0 || report.failed > 0 || dropped > 0 {
            session.shutdown()?;
            return Err(format!(
                "{} not delivered: {} waiting, {} refused by the endpoint, {} dropped on the device",
                plural(
                    (report.remaining + report.failed + dropped) as usize,
                    "event"
                ),
                report.remaining,
                report.failed,
                dropped
            ));
        }
    }
    if command == "diagnostics" {
        let diagnostics = client.diagnostics();
        if options.machine {
            say!("{}", report::diagnostics_json(&diagnostics));
        } else {
            report::print_diagnostics(&timeline, &diagnostics);
        }
    }
    session.shutdown()
}
