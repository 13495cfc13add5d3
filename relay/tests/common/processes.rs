//! Processes the tests start: relay binaries and a real `redis-server`, each killed when its
//! handle drops so a failed test leaves nothing running.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The relay binary Cargo built for these tests.
pub const RELAY_BIN: &str = env!("CARGO_BIN_EXE_app-conversions-relay");

/// Set (by CI) when the tests must find `redis-server` on PATH rather than pass without it.
pub const REQUIRE_REDIS: &str = "RELAY_TESTS_REQUIRE_REDIS";

/// A child process killed and reaped when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the relay binary with `env` (on top of a clean `RELAY_*` environment that listens
/// on a free loopback port and does not log requests), under `ulimit -n` when given; its
/// base URL and the process.
pub fn spawn_relay(open_files: Option<u32>, env: &[(&str, String)]) -> (String, Killed) {
    let limit = open_files.map_or(String::new(), |n| format!("ulimit -n {n} && "));
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("{limit}exec \"$0\""))
        .arg(RELAY_BIN)
        .env_remove("RELAY_CONFIG")
        .env_remove("RELAY_TRUSTED_PROXIES")
        .env_remove("RELAY_REDIS_URL")
        .env("RELAY_LISTEN", "127.0.0.1:0")
        .env("RELAY_LOG", "off")
        .env("RELAY_DRAIN_MS", "0")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = Killed(command.spawn().unwrap());
    let mut stderr = BufReader::new(child.0.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .trim_end_matches(',')
        .to_string();
    std::thread::spawn(move || for _ in stderr.lines() {});
    (base, child)
}

/// A `redis-server` of the distribution's package on a free loopback port, with nothing
/// saved to disk.
pub struct RedisServer {
    /// `redis://127.0.0.1:PORT`.
    pub url: String,
    port: u16,
    process: Option<Killed>,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts `redis-server` from PATH. Without it: `None`, or a failure when
    /// [`REQUIRE_REDIS`] is set.
    pub fn start() -> Option<RedisServer> {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let spawned = spawn_redis(port, dir.path());
        let child = match spawned {
            Ok(child) => Killed(child),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                assert!(
                    std::env::var_os(REQUIRE_REDIS).is_none(),
                    "redis-server is not on PATH but {REQUIRE_REDIS} is set: install the \
                     distribution's redis-server package (CI's .ci/run does)"
                );
                eprintln!(
                    "redis-server not on PATH: this test checks nothing here \
                     (set {REQUIRE_REDIS}=1 to make that a failure)"
                );
                return None;
            }
            Err(e) => panic!("cannot start redis-server: {e}"),
        };
        let server = RedisServer {
            url: format!("redis://127.0.0.1:{port}"),
            port,
            process: Some(child),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !server.answers_ping() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    /// Stops the server (as if it crashed).
    pub fn stop(&mut self) {
        self.process = None;
    }

    /// Stops the server and starts an empty one on the same port, as a crashed Redis without
    /// persistence comes back.
    pub fn restart(&mut self) {
        self.stop();
        self.process = Some(Killed(spawn_redis(self.port, self._dir.path()).unwrap()));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.answers_ping() {
            assert!(Instant::now() < deadline, "redis-server did not restart");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }
}

/// `redis-server` on `port`, saving nothing.
fn spawn_redis(port: u16, dir: &std::path::Path) -> std::io::Result<Child> {
    Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no", "--dir"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
