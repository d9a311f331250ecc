//! What every handler can reach: the use cases and the readiness probe, as ports.

use std::sync::Arc;

use async_trait::async_trait;
use todo_auth::AuthService;
use todo_domain::RepoError;
use todo_domain::task::TaskService;
use todo_persistence::Database;

/// The application state shared by all workers (cheap to clone).
#[derive(Clone, Debug)]
pub struct AppState {
    pub tasks: TaskService,
    pub auth: AuthService,
    pub readiness: Arc<dyn Readiness>,
}

/// Whether the service can serve requests that need the database.
#[async_trait]
pub trait Readiness: Send + Sync {
    async fn check(&self) -> Result<(), RepoError>;
}

#[async_trait]
impl Readiness for Database {
    async fn check(&self) -> Result<(), RepoError> {
        self.ping().await
    }
}

impl std::fmt::Debug for dyn Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Readiness")
    }
}
