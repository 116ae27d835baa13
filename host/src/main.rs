//! The `crm-consent` command line; everything but the process lives in
//! [`crm_consent::cli`].

use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;

use crm_consent::cli;
use tracing_subscriber::EnvFilter;

// The server's requests run on a pool of threads that all allocate
// (JSON, SQL rows, plugin calls); glibc's allocator made them wait on its
// arena locks, a tenth of the dial hook's CPU in a profile. mimalloc keeps a
// heap per thread.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How much free memory glibc's allocator may keep at the top of a heap
/// before it gives it back to the kernel. SQLite allocates with the C
/// allocator, not the one above, and frees whole page caches: a pooled
/// connection's cache at every read after another connection wrote, and a
/// temporary table's at every logged refusal. At glibc's 128 KiB each free
/// trimmed the heap (`madvise`, a TLB shootdown on every core) and the next
/// allocation faulted the pages back: under the dial hook's load, 7% of the
/// server's CPU in one profile and nothing in another, as the heaps fell.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MALLOC_TRIM_THRESHOLD: libc::c_int = 64 << 20;

fn main() -> ExitCode {
    // SAFETY: mallopt only sets a tuning parameter of the C allocator; it
    // runs before any other thread exists.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD);
    }
    // Logs go to stderr so stdout stays clean for `--json`: warnings, and
    // the server's one line per request.
    let default = format!("warn,{}=info", crm_consent::http::LOG_TARGET);
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in a log file.
        .with_ansi(std::io::stderr().is_terminal())
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
