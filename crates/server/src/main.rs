//! `todo-server`: read the configuration, build the application, serve until stopped.

use std::process::ExitCode;

use todo_server::{Application, Config, telemetry};

#[actix_web::main]
async fn main() -> ExitCode {
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
