//! The terminal: while a progress bar is on screen, log lines are printed above it (through
//! indicatif's `suspend`) instead of tearing through it.

use std::io::{self, Write};
use std::sync::Mutex;

use indicatif::ProgressBar;

/// The progress bar on screen, if any.
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Makes `bar` the one log lines are printed above (`None`: none is on screen).
pub fn set_active_bar(bar: Option<ProgressBar>) {
    if let Ok(mut active) = ACTIVE.lock() {
        *active = bar;
    }
}

/// stderr for tracing: each formatted event arrives as one write.
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let bar = ACTIVE.lock().ok().and_then(|active| active.clone());
        match bar {
            Some(bar) => bar
                .suspend(|| io::stderr().write_all(buf))
                .map(|()| buf.len()),
            None => io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}
