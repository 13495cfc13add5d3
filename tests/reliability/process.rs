//! Talking to a child process while it runs (see [`super::child`]): its stdout as complete
//! lines the moment they come, its stderr collected to the end, a bounded wait for it to end
//! by itself, and a SIGKILL that checks the child really died of it.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus};
use std::sync::mpsc::{channel, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Waits up to `limit` for the child to exit by itself; `Some` if it did.
pub fn wait_or_exit(process: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = process.try_wait() {
            return Some(status);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(5)));
    }
}

/// SIGKILLs the child and reaps it; true when it died of the signal (false when it had ended
/// by itself before the signal came).
pub fn sigkill(process: &mut Child) -> bool {
    let _ = process.kill();
    let status = process.wait().expect("reap the child");
    status.signal() == Some(9)
}

/// The complete lines (ending in a newline) the child writes, as they come; a line cut short
/// by the kill is dropped. The channel closes when the child's stdout does.
pub fn read_lines(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        while matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
            if let Some(complete) = line.strip_suffix('\n') {
                if sender.send(complete.to_string()).is_err() {
                    return;
                }
            }
            line.clear();
        }
    });
    receiver
}

/// Everything the stream carries until it closes.
pub fn read_all(mut stream: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        text
    })
}
