//! Building the application: adapters, use cases, the actix app, the listener.
//! `main` and the tests share it (tests bind port 0).

use std::net::TcpListener;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::web::Data;
use actix_web::{App, HttpResponse, HttpServer};
use paperclip::actix::OpenApiExt as _;
use todo_auth::{AuthConfig, AuthPorts, AuthService};
use todo_domain::task::TaskService;
use todo_domain::{Clock, SystemClock};
use todo_persistence::{Database, DatabaseConfig};

use crate::api::docs::OpenApiDocument;
use crate::config::{Config, CorsOrigins};
use crate::error::{ApiError, contract_errors};
use crate::state::AppState;
use crate::telemetry::{REQUEST_ID, request_id};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("jsonwebtoken has no crypto backend (exactly one of its backend features must be enabled)")]
    NoCryptoBackend,
    #[error(transparent)]
    Database(#[from] todo_persistence::ConnectError),
    #[error("cannot set up tokens: {0}")]
    Tokens(#[from] todo_auth::TokenConfigError),
    #[error("cannot listen on {address}: {source}")]
    Listen { address: String, source: std::io::Error },
}

/// A built server, listening, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    database: Database,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("port", &self.port).finish_non_exhaustive()
    }
}

impl Application {
    /// Connects to (and migrates) the database, builds the use cases and binds the
    /// listener.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        if !todo_auth::crypto_backend_ready() {
            return Err(StartupError::NoCryptoBackend);
        }
        if config.jwt_secret.is_generated() {
            tracing::warn!(
                "JWT_SECRET is not set: using a random key. Tokens will not survive a restart \
                 and other instances will not accept them. Set JWT_SECRET (32+ bytes) in production."
            );
        }
        let database = Database::connect(DatabaseConfig {
            url: config.database_url.clone(),
            pool_size: config.database_pool_size,
            acquire_timeout: config.database_timeout,
            statement_timeout: config.database_timeout,
        })
        .await?;
        let state = state(&database, &config)?;

        let address = format!("{}:{}", config.host, config.port);
        let listen_error = |source| StartupError::Listen { address: address.clone(), source };
        let listener = TcpListener::bind(&address).map_err(listen_error)?;
        let port = listener.local_addr().map_err(listen_error)?.port();

        spawn_purge(state.auth.clone(), config.purge_interval);
        let cors_origins = config.cors_origins.clone();
        let backend = database.backend();
        let stopped = database.clone();
        // Each worker thread gets its own share of the connections, so that a connection
        // is only ever used by the thread that drives it (no cross-thread wake-ups).
        let workers = if config.workers > 0 {
            config.workers
        } else {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        };
        let per_worker = config.database_pool_size.div_ceil(workers).max(1);
        let server = HttpServer::new(move || {
            let state = match database.with_pool(per_worker) {
                Ok(own) => worker_state(&state, &own),
                Err(error) => {
                    tracing::warn!(%error, "a worker shares the main connection pool");
                    state.clone()
                }
            };
            app(state, cors_origins.clone())
        })
        // A slow client cannot hold a connection: headers within 5 s, idle
        // keep-alive connections closed after 5 s.
        .client_request_timeout(Duration::from_secs(5))
        .client_disconnect_timeout(Duration::from_secs(1))
        .keep_alive(Duration::from_secs(5))
        // SIGTERM/SIGINT: stop accepting, let in-flight requests finish (30 s at most).
        .shutdown_timeout(30)
        .workers(workers);
        let server = server.listen(listener).map_err(listen_error)?.run();
        tracing::info!(address = %format!("{}:{port}", config.host), backend = ?backend, "listening");
        Ok(Self { port, server, database: stopped })
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM/SIGINT (or the server handle stops it), then, with every
    /// request answered, leaves the database as a clean stop should (see
    /// [`Database::shutdown`]).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Err(error) = self.database.shutdown().await {
            tracing::warn!(error = &error as &dyn std::error::Error, "the database was not shut down cleanly");
        }
        served
    }

    /// A handle to stop the server (graceful) from elsewhere.
    #[must_use]
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}

/// The use cases over `database`, as the handlers reach them.
pub fn state(database: &Database, config: &Config) -> Result<AppState, StartupError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let auth = AuthService::new(
        &AuthConfig {
            secret: config.jwt_secret.clone(),
            token_lifetime: config.jwt_lifetime,
            hashing_concurrency: config.hashing_concurrency,
        },
        AuthPorts {
            users: database.users(),
            revoked_tokens: database.revoked_tokens(),
            login_attempts: database.login_attempts(),
            clock: clock.clone(),
        },
    )?;
    Ok(AppState { tasks: TaskService::new(database.tasks(), clock), auth, readiness: Arc::new(database.clone()) })
}

/// `shared`'s use cases over `database`'s connections (keys and hashing stay shared).
fn worker_state(shared: &AppState, database: &Database) -> AppState {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    AppState {
        tasks: TaskService::new(database.tasks(), clock.clone()),
        auth: shared.auth.with_ports(AuthPorts {
            users: database.users(),
            revoked_tokens: database.revoked_tokens(),
            login_attempts: database.login_attempts(),
            clock,
        }),
        readiness: Arc::new(database.clone()),
    }
}

/// Purges expired revocations and old login failures every `interval`.
fn spawn_purge(auth: AuthService, interval: Duration) {
    actix_web::rt::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        loop {
            ticks.tick().await;
            match auth.purge_expired().await {
                Ok(purged) => tracing::debug!(purged, "purged expired revocations and login failures"),
                Err(error) => tracing::warn!(error = &error as &dyn std::error::Error, "purge failed; will retry"),
            }
        }
    });
}

/// The OpenAPI document, one per process.
static DOCUMENT: OnceLock<OpenApiDocument> = OnceLock::new();

/// The actix application: routes, OpenAPI, docs, and the middleware of the contract.
pub fn app(
    state: AppState,
    cors_origins: CorsOrigins,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .wrap_api()
        .app_data(Data::new(state))
        .configure(crate::api::health::routes)
        .configure(crate::api::auth::routes)
        .configure(crate::api::tasks::routes)
        .with_raw_json_spec_v3(|app, spec| {
            let document = DOCUMENT.get_or_init(|| OpenApiDocument::new(spec));
            app.app_data(Data::new(document.clone()))
        })
        .configure(crate::api::docs::routes)
        // paperclip's Swagger UI asset handler; `docs::routes` shadows its index and
        // its (v2) spec route, and keeps unknown names away from it.
        .with_json_spec_at("/openapi.json")
        .with_swagger_ui_at("/docs")
        .default_service(actix_web::web::to(no_such_route))
        .wrap(from_fn(crate::guard::request_limits))
        .wrap(cors(&cors_origins))
        .wrap(from_fn(contract_errors))
        .wrap(from_fn(request_id))
        .build()
}

async fn no_such_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("no such route"))
}

/// Sync's retry key (`Idempotency-Key`) and the mark of a replayed answer.
const IDEMPOTENCY_KEY: header::HeaderName = header::HeaderName::from_static("idempotency-key");
const IDEMPOTENT_REPLAYED: header::HeaderName = header::HeaderName::from_static("idempotent-replayed");

fn cors(origins: &CorsOrigins) -> Cors {
    let cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            IDEMPOTENCY_KEY,
            REQUEST_ID,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
            REQUEST_ID,
            IDEMPOTENT_REPLAYED,
        ])
        .max_age(3600)
        // Not a browser? Then CORS is not our business: serve without its headers.
        .block_on_origin_mismatch(false);
    match origins {
        CorsOrigins::Any => cors.allow_any_origin(),
        CorsOrigins::List(origins) => origins.iter().fold(cors, |cors, origin| cors.allowed_origin(origin)),
    }
}
