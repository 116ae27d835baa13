//! The `crm-consent` command line; everything but the process lives in
//! [`crm_consent::cli`].

use std::ffi::OsString;
use std::process::ExitCode;

use crm_consent::cli;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    // Logs go to stderr so stdout stays clean for `--json`.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("warn,tower_http=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<OsString> = std::env::args_os().collect();
    let json = cli::wants_json(&args);
    let mut stdout = std::io::stdout().lock();
    let e = match cli::run(args, &mut stdout) {
        Ok(finished) => return ExitCode::from(finished.exit_code()),
        Err(e) => e,
    };
    // `crm-consent ... | head` closing the pipe early is not a failure.
    let broken_pipe = e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    });
    if broken_pipe {
        return ExitCode::SUCCESS;
    }
    // Usage errors in text: clap prints its own message with the usage (in
    // colour on a terminal) and exits 2.
    if !json && let Some(usage) = e.downcast_ref::<clap::Error>() {
        drop(stdout);
        usage.exit();
    }
    let status = cli::report(&e, json, &mut stdout, &mut std::io::stderr().lock());
    ExitCode::from(status)
}
