//! `reingest`: rebuild GB wind-curtailment settlement data for any date, and prove it.
//!
//! Thin glue: parse and validate arguments (`cli`), build the source, store and pipeline,
//! run one command (`commands`), write the human or JSON report the library's `render` builds
//! to stdout (`out`: a pipe closed early ends the output quietly, never a panic), and map the
//! outcome to an exit code in one place: 0 verified, 1 mismatch, 2 error, 130 interrupted;
//! then write the `--metrics-file` (`metrics`), whatever the outcome.

mod cli;
mod commands;
mod error_line;
mod metrics;
mod out;
mod registry_note;
mod remedy;
mod setup_error;
mod statements;
mod term;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    if let Err(e) = cli::init_logging(&args.global).and_then(|()| statements::install()) {
        out::error_line(format_args!("error: {e}"));
        return exit(reingest::EXIT_ERROR);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out::error_line(format_args!("error: cannot start the async runtime: {e}"));
            return exit(reingest::EXIT_ERROR);
        }
    };
    let (date, from, to) = args.command.dates();
    let recorder = metrics::Recorder::new(
        args.global.metrics_file.clone(),
        metrics::Labels {
            command: args.command.name().to_owned(),
            date,
            from,
            to,
        },
    );
    if let Some(path) = &args.global.metrics_file {
        if let Err(e) = metrics::check_path(path) {
            out::error_line(format_args!("error: {e}"));
            if args.global.json {
                let doc =
                    serde_json::json!({"error": e.to_string(), "exit_code": reingest::EXIT_ERROR});
                // Already exit 2: a stdout that cannot take the document changes nothing.
                let _ = out::stdout(&format!("{doc}\n"));
            }
            return exit(reingest::EXIT_ERROR);
        }
    }
    let hint = match &args.command {
        cli::Command::Range(_) => {
            "; run the same range again with --resume to redo only the dates that did not finish"
        }
        _ => "",
    };
    let code = runtime.block_on(async {
        tokio::select! {
            code = commands::dispatch(args, &recorder) => code,
            _ = tokio::signal::ctrl_c() => {
                out::error_line(format_args!("interrupted: stopped by Ctrl-C; an unfinished day swap was rolled back by the database, nothing partial was written{hint}"));
                reingest::EXIT_INTERRUPTED
            }
        }
    });
    // Do not wait for blocking store calls still running: exiting closes their
    // connections, and the database rolls back any open transaction. Nor stop the runtime's
    // threads: a thread that used libpq (and so OpenSSL) exiting while the process runs
    // OpenSSL's exit handlers crashes it. Idle threads end with the process.
    std::mem::forget(runtime);
    recorder.db_statements(statements::sent());
    // Written for failed and interrupted commands too: that is what an alert needs.
    let code = match recorder.write(code) {
        Ok(()) => code,
        Err(e) => {
            out::error_line(format_args!("error: {e}"));
            // A success whose metrics are missing would look like a silent cron job.
            if code == reingest::EXIT_OK {
                reingest::EXIT_ERROR
            } else {
                code
            }
        }
    };
    exit(code)
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(2))
}
