//! Every write of the binary to stdout and stderr.
//!
//! `println!` and `eprintln!` panic when a write fails, and a reader that closes the pipe
//! early (`reingest --json bmu list | head -c 400`) makes every later write fail with
//! `BrokenPipe`. That is the reader saying it has read enough, not an error of the
//! command: the output ends quietly, with no message, and the command keeps its own exit
//! code (0 for a listing, as `ls` or ripgrep exit 0 into `head`; a run's 0 or 1 still says
//! whether it verified). Any other write error (a full disk behind `> file`) is one error
//! line on stderr and exit 2.

use std::fmt::Display;
use std::io::{self, Write};

use serde::Serialize;

/// Writes what a command prints (`value` as JSON when `json`, else the text `human` builds,
/// see [`reingest::output::render::output`]) to stdout and returns `code`, the command's exit code;
/// or, when stdout cannot be written for another reason than a closed pipe, says so on
/// stderr and returns exit 2.
pub fn print<T: Serialize>(
    json: bool,
    value: &T,
    human: impl FnOnce() -> String,
    code: i32,
) -> i32 {
    let text = match reingest::output::render::output(json, value, human) {
        Ok(text) => text,
        Err(e) => {
            error_line(format_args!("error: cannot render JSON: {e}"));
            return reingest::EXIT_ERROR;
        }
    };
    match stdout(&text) {
        Ok(()) => code,
        Err(e) => {
            error_line(format_args!("error: cannot write the output: {e}"));
            reingest::EXIT_ERROR
        }
    }
}

/// Writes `text` to a locked stdout and flushes it; a closed pipe counts as written.
pub fn stdout(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    closed_is_done(write!(out, "{text}").and_then(|()| out.flush()))
}

/// One line on stderr. When stderr itself cannot be written there is nowhere left to say
/// so: the error is dropped, never a panic.
pub fn error_line(line: impl Display) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// `BrokenPipe` is the reader's quiet end, not a failure.
fn closed_is_done(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_done_and_other_errors_stay() {
        let closed = io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(closed_is_done(Err(closed)).is_ok());
        let full = io::Error::from(io::ErrorKind::PermissionDenied);
        assert_eq!(
            closed_is_done(Err(full)).map_err(|e| e.kind()),
            Err(io::ErrorKind::PermissionDenied)
        );
    }
}
