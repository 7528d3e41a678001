//! A launcher for [localstripe](https://github.com/adrienverge/localstripe)
//! 1.15.10, a Python fake of Stripe's payments API (PaymentIntents,
//! PaymentMethods, charges, refunds, customers, ...): [`LocalStripe`]
//! starts one on a free port with an empty store, waits until it answers,
//! plays the paying customer ([`LocalStripe::pay`]), registers webhook
//! receivers, and kills it on drop. What localstripe does and does not do
//! is written down in the [module docs](super).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::http;

/// The secret key tests give their Stripe client when it talks to
/// localstripe (which takes any `sk_` key longer than 5 characters, sent as
/// `Authorization: Bearer <key>`). The [`StripeFake`](super::StripeFake)
/// takes it too.
pub const SECRET_KEY: &str = "sk_test_droply_localstripe";

/// The environment variable that may name the localstripe executable.
pub const BINARY_ENV: &str = "DROPLY_LOCALSTRIPE";

/// Where `.ci/run` installs localstripe when it is not on `PATH`.
pub const DEFAULT_BINARY: &str = "/var/cache/droply/localstripe-venv/bin/localstripe";

/// How long [`LocalStripe::start`] waits for the server to answer.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// The card [`LocalStripe::pay`] pays with.
pub const CARD_OK: &str = "4242424242424242";

/// The card [`LocalStripe::pay_declined`] pays with: localstripe declines
/// charges on it (`card_declined`). (Its "declined" card
/// `4000000000000002` is only refused when attached to a customer: a
/// PaymentIntent confirmed with it succeeds.)
pub const CARD_DECLINED: &str = "4000000000000341";

/// A running localstripe process on `127.0.0.1:<port>`, with an empty
/// store; killed (and reaped) on drop.
pub struct LocalStripe {
    child: Child,
    port: u16,
    log_path: PathBuf,
    // Holds the log file's directory until the process is gone.
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for LocalStripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStripe")
            .field("port", &self.port)
            .field("pid", &self.child.id())
            .field("log", &self.log_path)
            .finish()
    }
}

/// The localstripe executable: `$DROPLY_LOCALSTRIPE`, else `localstripe`
/// on `PATH`, else [`DEFAULT_BINARY`], which is installed from PyPI
/// (`python3 -m venv` and `pip install localstripe==1.15.10`) the first
/// time it is missing, so `cargo test` works on a fresh machine with
/// Python.
///
/// # Panics
/// When none of them exists and the install fails, saying how to install it.
pub fn find_binary() -> PathBuf {
    if let Some(path) = std::env::var_os(BINARY_ENV) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{BINARY_ENV} is set to {}, which is not a file",
            path.display()
        );
        return path;
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join("localstripe");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    let default = PathBuf::from(DEFAULT_BINARY);
    if !default.is_file()
        && let Err(why) = install_default()
    {
        panic!(
            "localstripe is not installed and installing it failed ({why}): set {BINARY_ENV} to \
             its path, put it on PATH, or install it where the tests look for it (`.ci/run` does \
             this):\n  python3 -m venv /var/cache/droply/localstripe-venv && \
             /var/cache/droply/localstripe-venv/bin/pip install localstripe==1.15.10"
        );
    }
    default
}

/// Installs localstripe into the virtual environment of [`DEFAULT_BINARY`].
/// One process installs (it holds `<venv>.lock`, made with `create_new`);
/// the others wait for the executable to appear. A lock older than ten
/// minutes is taken to be left by a killed install and removed.
fn install_default() -> Result<(), String> {
    static IN_PROCESS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_thread = IN_PROCESS.lock().unwrap_or_else(|e| e.into_inner());
    let binary = Path::new(DEFAULT_BINARY);
    let venv = binary
        .parent()
        .and_then(Path::parent)
        .ok_or("the default path has no virtual environment")?;
    let lock = venv.with_extension("lock");
    let started = Instant::now();
    while !binary.is_file() {
        if let Some(parent) = venv.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        match std::fs::File::create_new(&lock) {
            Ok(_) => {
                let result = run_install(venv);
                let _ = std::fs::remove_file(&lock);
                return result;
            }
            Err(_) => {
                let stale = std::fs::metadata(&lock)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > Duration::from_secs(600));
                if stale {
                    let _ = std::fs::remove_file(&lock);
                }
                if started.elapsed() > Duration::from_secs(900) {
                    return Err("waited 15 minutes for another install".to_owned());
                }
                thread::sleep(Duration::from_millis(500));
            }
        }
    }
    Ok(())
}

fn run_install(venv: &Path) -> Result<(), String> {
    let run = |program: &Path, args: &[&str]| -> Result<(), String> {
        let status = Command::new(program)
            .args(args)
            .status()
            .map_err(|e| format!("{}: {e}", program.display()))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("{} {args:?} failed: {status}", program.display()))
        }
    };
    let venv_text = venv.to_str().ok_or("the venv path is not UTF-8")?;
    run(Path::new("python3"), &["-m", "venv", venv_text])?;
    run(
        &venv.join("bin/pip"),
        &["install", "--quiet", "localstripe==1.15.10"],
    )
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding 127.0.0.1:0 to find a free port")
}

/// The last `max` bytes of the file at `path`, as text.
fn tail(path: &Path, max: u64) -> String {
    let Ok(mut file) = File::open(path) else {
        return String::from("(no log)");
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(max)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

enum Startup {
    Ready(LocalStripe),
    /// The process exited before answering (a lost race for the port is
    /// retried); the log's tail.
    Exited(String),
}

impl LocalStripe {
    /// Starts localstripe ([`find_binary`]) as `localstripe --port P
    /// --from-scratch` on a free port P, its output logged to a file in a
    /// temporary directory, and waits (up to 20 s) until an authenticated
    /// `GET /v1/payment_intents` answers 200.
    ///
    /// localstripe has no host option: it listens on every address (`::`,
    /// dual-stack); tests only ever talk to 127.0.0.1.
    ///
    /// # Panics
    /// When localstripe is not installed, or does not come up (with the
    /// tail of its log).
    pub fn start() -> LocalStripe {
        let binary = find_binary();
        let mut last_log = String::new();
        for _ in 0..3 {
            match Self::try_start(&binary) {
                Startup::Ready(ls) => return ls,
                Startup::Exited(log) => last_log = log,
            }
        }
        panic!(
            "localstripe ({}) exited three times before answering; last log:\n{last_log}",
            binary.display()
        );
    }

    fn try_start(binary: &Path) -> Startup {
        let dir = tempfile::Builder::new()
            .prefix("droply-localstripe-")
            .tempdir()
            .expect("creating a temporary directory for localstripe's log");
        let log_path = dir.path().join("localstripe.log");
        let log = File::create(&log_path).expect("creating localstripe's log file");
        let log_err = log
            .try_clone()
            .expect("cloning localstripe's log file handle");
        let port = free_port();
        let child = Command::new(binary)
            .arg("--port")
            .arg(port.to_string())
            .arg("--from-scratch")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", binary.display()));
        let mut ls = LocalStripe {
            child,
            port,
            log_path,
            _dir: dir,
        };

        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = ls.child.try_wait() {
                return Startup::Exited(format!("({status})\n{}", tail(&ls.log_path, 4000)));
            }
            if let Ok(r) = ls.call("GET", "v1/payment_intents", b"")
                && r.status == 200
            {
                return Startup::Ready(ls);
            }
            if Instant::now() >= deadline {
                panic!(
                    "localstripe on port {port} did not answer within {STARTUP_TIMEOUT:?}; log tail:\n{}",
                    tail(&ls.log_path, 4000)
                );
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `"http://127.0.0.1:P/"` (with the trailing slash: the Stripe client
    /// appends `v1/...`).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The path of its log (stdout and stderr: one access-log line per
    /// request, and one line per webhook delivery).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The last 4 KB of its log, for failure messages.
    pub fn log_tail(&self) -> String {
        tail(&self.log_path, 4000)
    }

    fn call(&self, method: &str, path: &str, body: &[u8]) -> std::io::Result<http::HttpResponse> {
        let auth = format!("Bearer {SECRET_KEY}");
        let mut headers = vec![("Authorization", auth.as_str())];
        if !body.is_empty() {
            headers.push(("Content-Type", "application/x-www-form-urlencoded"));
        }
        http::request(method, &http::join(&self.base_url(), path), &headers, body)
    }

    fn call_or_panic(&self, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
        let response = self.call(method, path, body).unwrap_or_else(|e| {
            panic!(
                "{method} {path} to localstripe failed: {e}; log tail:\n{}",
                self.log_tail()
            )
        });
        (response.status, response.json())
    }

    /// A raw authenticated `GET` of `path` (like `v1/refunds?payment_intent=pi_...`,
    /// with or without the leading slash); the JSON body.
    ///
    /// # Panics
    /// When localstripe answers other than 2xx (use [`get_status`](Self::get_status) to
    /// look at errors).
    pub fn get(&self, path: &str) -> Value {
        let (status, body) = self.get_status(path);
        assert!(
            (200..300).contains(&status),
            "GET {path} from localstripe answered {status}: {body}"
        );
        body
    }

    /// A raw authenticated `GET` of `path`; the status and the JSON body.
    pub fn get_status(&self, path: &str) -> (u16, Value) {
        self.call_or_panic("GET", path, b"")
    }

    /// A raw authenticated form-encoded `POST` of `form` to `path`; the
    /// status and the JSON body (localstripe's errors are
    /// `{"error": {"type": "invalid_request_error", "message": ...}}`).
    pub fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let body = encode_form(form);
        self.call_or_panic("POST", path, body.as_bytes())
    }

    fn post_ok(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let (status, body) = self.post(path, form);
        assert!(
            (200..300).contains(&status),
            "POST {path} to localstripe answered {status}: {body}"
        );
        body
    }

    /// Registers (or replaces) the webhook endpoint `droply`: localstripe
    /// then POSTs every event, signed with `secret` (`Stripe-Signature:
    /// t=...,v1=...`), to `url` about one second after it happens (once,
    /// with no retry).
    pub fn register_webhook(&self, url: &str, secret: &str) {
        let (status, body) = self.post(
            "_config/webhooks/droply",
            &[("url", url), ("secret", secret)],
        );
        assert_eq!(
            status, 200,
            "registering a webhook with localstripe: {body}"
        );
    }

    /// Empties localstripe's store (`DELETE /_config/data`); registered
    /// webhooks stay.
    pub fn reset(&self) {
        let (status, body) = self.call_or_panic("DELETE", "_config/data", b"");
        assert_eq!(status, 200, "flushing localstripe's store: {body}");
    }

    /// Plays the paying customer for the PaymentIntent `intent_id`: creates
    /// a card PaymentMethod ([`CARD_OK`]), sets it on the intent, and
    /// confirms; returns the confirmed intent (status `succeeded`; localstripe
    /// emits `payment_intent.succeeded` about a second later).
    ///
    /// (localstripe answers 500 "Not implemented" to a confirm that carries
    /// `payment_method`, so the method is set by updating the intent first.)
    ///
    /// # Panics
    /// When a step fails.
    pub fn pay(&self, intent_id: &str) -> Value {
        let (status, body) = self.pay_with(intent_id, CARD_OK);
        assert_eq!(
            status, 200,
            "confirming {intent_id} with card {CARD_OK}: {body}"
        );
        body
    }

    /// Like [`pay`](Self::pay) with a card whose charge localstripe declines
    /// ([`CARD_DECLINED`]): the confirm answers 402 `card_declined`, the
    /// intent ends in `requires_payment_method` with `last_payment_error`
    /// set, and localstripe emits `payment_intent.payment_failed`. Returns
    /// the intent as fetched after the failed confirm.
    ///
    /// # Panics
    /// When a step fails other than the expected decline.
    pub fn pay_declined(&self, intent_id: &str) -> Value {
        let (status, body) = self.pay_with(intent_id, CARD_DECLINED);
        assert_eq!(
            status, 402,
            "confirming {intent_id} with the declined card {CARD_DECLINED} should answer 402: {body}"
        );
        self.get(&format!("v1/payment_intents/{intent_id}"))
    }

    /// Creates a card PaymentMethod for `card_number`, sets it on the
    /// intent and confirms; the confirm's status and body.
    fn pay_with(&self, intent_id: &str, card_number: &str) -> (u16, Value) {
        let method = self.post_ok(
            "v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", card_number),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2030"),
                ("card[cvc]", "123"),
            ],
        );
        let method_id = method["id"]
            .as_str()
            .unwrap_or_else(|| panic!("localstripe created a PaymentMethod without id: {method}"));
        self.post_ok(
            &format!("v1/payment_intents/{intent_id}"),
            &[("payment_method", method_id)],
        );
        self.post(&format!("v1/payment_intents/{intent_id}/confirm"), &[])
    }
}

/// `form` encoded as `application/x-www-form-urlencoded`.
pub(crate) fn encode_form(form: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form {
        serializer.append_pair(k, v);
    }
    serializer.finish()
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
