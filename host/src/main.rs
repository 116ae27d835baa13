//! The `crm-consent` command line; everything but the process lives in
//! [`crm_consent::cli`].

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    // Logs go to stderr so stdout stays clean for `--json`.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut stdout = std::io::stdout().lock();
    match crm_consent::cli::run(std::env::args_os(), &mut stdout) {
        Ok(finished) => ExitCode::from(finished.exit_code()),
        Err(e) => {
            drop(stdout);
            // Usage errors: clap prints its own message with the usage, exit 2.
            if let Some(usage) = e.downcast_ref::<clap::Error>() {
                usage.exit();
            }
            // `crm-consent ... | head` closing the pipe early is not a failure.
            let broken_pipe = e.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
