//! `todo-server`: read the configuration, build the application, serve until stopped.

use std::process::ExitCode;

use todo_server::{Application, Config, telemetry};

fn main() -> ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fix_malloc_mmap_threshold();
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
    telemetry::init(&config.log_filter, config.log_format);
    let served = match Application::build(config).await {
        Ok(application) => application.run_until_stopped().await.map_err(|e| e.to_string()),
        Err(error) => Err(error.to_string()),
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("todo-server: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Keeps big allocations out of glibc's heap, so that memory freed is memory returned.
///
/// glibc raises its mmap threshold to the size of the biggest block freed so far (up to
/// 32 MiB). Once the first 19 MiB Argon2 buffer is freed, every later one, and every
/// large response buffer, is carved from the heap instead of a mapping of its own: it
/// stays resident after use and fragments, so a login storm in the benchmark took the
/// server from 37 to 58 MB (SQLite) and from 49 to 99 MB (PostgreSQL). A fixed
/// threshold (`MALLOC_MMAP_THRESHOLD_`, read by glibc only at start-up) turns that off.
/// The process therefore executes itself again, once, with it set; an operator's own
/// value is left alone, and if the exec fails the server runs on glibc's defaults.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fix_malloc_mmap_threshold() {
    use std::os::unix::process::CommandExt;

    const VARIABLE: &str = "MALLOC_MMAP_THRESHOLD_";
    if std::env::var_os(VARIABLE).is_some() {
        return;
    }
    let Ok(executable) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(executable);
    if let Some(name) = args.next() {
        command.arg0(name);
    }
    // glibc's initial threshold (128 KiB), no longer moving. `exec` only returns on failure.
    let error = command.args(args).env(VARIABLE, "131072").exec();
    eprintln!("todo-server: running on glibc's malloc defaults (re-executing with {VARIABLE} set failed: {error})");
}
