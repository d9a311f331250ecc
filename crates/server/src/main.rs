//! `todo-server`: read the configuration, build the application, serve until stopped.

use std::process::ExitCode;

use todo_server::{Application, Config, telemetry};

fn main() -> ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fix_malloc_thresholds();
    serve()
}

#[actix_web::main]
async fn serve() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = telemetry::init(&config.log_filter, config.log_format) {
        eprintln!("todo-server: cannot start the log writer: {error}");
        return ExitCode::FAILURE;
    }
    let served = match Application::build(config).await {
        Ok(application) => application.run_until_stopped().await.map_err(|e| e.to_string()),
        Err(error) => Err(with_causes(&error)),
    };
    let code = match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("todo-server: {error}");
            ExitCode::FAILURE
        }
    };
    telemetry::flush();
    code
}

/// `error` and each of its causes, so that a failed start says why ("storage
/// unavailable" alone does not): each cause not already written is appended.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let text = error.to_string();
        if !message.ends_with(&text) {
            message = format!("{message}: {text}");
        }
        cause = error.source();
    }
    message
}

/// Fixes glibc's malloc thresholds, so that memory freed is memory returned.
///
/// glibc raises its mmap threshold to the size of the biggest block freed so far (up to
/// 32 MiB). Once the first 19 MiB Argon2 buffer is freed, every later one is carved from
/// the heap instead of a mapping of its own: it stays resident after use and fragments,
/// so a login storm in the benchmark took the server from 37 to 58 MB (SQLite) and from
/// 49 to 99 MB (PostgreSQL). Fixed thresholds (read by glibc only at start-up) turn that
/// off:
/// - `MALLOC_MMAP_THRESHOLD_` = 4 MiB: an Argon2 buffer gets a mapping of its own and
///   is unmapped when freed, while a page of 1,000 tasks (about 0.5 MB of JSON, and the
///   rows behind it) comes from the heap. At glibc's initial 128 KiB, those blocks were
///   mapped and unmapped on every request, and faulting their pages in again cost a
///   fifth of `list_1000`'s throughput (607 -> 727 req/s);
/// - `MALLOC_TRIM_THRESHOLD_` = 8 MiB: the heap keeps that much free space at its top
///   for the next request instead of returning it to the system after each one.
///
/// The process therefore executes itself again, once, with both set; an operator who
/// sets either is left alone, and if the exec fails the server runs on glibc's defaults.
///
/// Kept over `mimalloc` as the global allocator, measured (`bench/run --baseline`, SQLite,
/// 2 rounds, same run, 2026-12-03): mimalloc served 7-9 % more on `list_1000` and `create`
/// and the same on `get_task` and the login storm, but held 15-24 MB more resident: 37.7
/// against 18.4 MB after start-up, 38.9 against 23.8 MB over `get_task`, 54.8 against
/// 44.1 MB over the login storm. Memory is the budget this server is sized by.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fix_malloc_thresholds() {
    use std::os::unix::process::CommandExt;

    const THRESHOLDS: [(&str, &str); 2] =
        [("MALLOC_MMAP_THRESHOLD_", "4194304"), ("MALLOC_TRIM_THRESHOLD_", "8388608")];
    if THRESHOLDS.iter().any(|(variable, _)| std::env::var_os(variable).is_some()) {
        return;
    }
    let Ok(executable) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(executable);
    if let Some(name) = args.next() {
        command.arg0(name);
    }
    // `exec` only returns on failure.
    let error = command.args(args).envs(THRESHOLDS).exec();
    eprintln!("todo-server: running on glibc's malloc defaults (re-executing with fixed thresholds failed: {error})");
}
