//! PostgreSQL specifics: the schema as diesel sees it, and connecting (with TLS when asked).

pub(crate) mod schema;

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use tokio_postgres::config::SslMode;

/// Opens one connection: the URL's own settings, a connect timeout unless the URL sets
/// one, TLS when the URL's `sslmode` is `prefer` or `require`, and a statement timeout so
/// that no query can hold a connection (and a client) forever.
pub(crate) async fn connect(
    url: &str,
    connect_timeout: Duration,
    statement_timeout: Duration,
) -> Result<AsyncPgConnection, ConnectionError> {
    let mut config: tokio_postgres::Config =
        url.parse().map_err(|e| ConnectionError::InvalidConnectionUrl(format!("{e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(connect_timeout);
    }
    let setup_error = |e: tokio_postgres::Error| {
        ConnectionError::CouldntSetupConfiguration(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UnableToSendCommand,
            Box::new(e.to_string()),
        ))
    };
    let mut connection = if config.get_ssl_mode() == SslMode::Disable {
        let (client, connection) = config.connect(tokio_postgres::NoTls).await.map_err(setup_error)?;
        AsyncPgConnection::try_from_client_and_connection(client, connection).await?
    } else {
        let (client, connection) = config.connect(tls_connector()).await.map_err(setup_error)?;
        AsyncPgConnection::try_from_client_and_connection(client, connection).await?
    };
    let millis = statement_timeout.as_millis();
    connection
        .batch_execute(&format!("SET statement_timeout = {millis}"))
        .await
        .map_err(ConnectionError::CouldntSetupConfiguration)?;
    Ok(connection)
}

/// rustls with Mozilla's root certificates: the server's certificate is verified.
fn tls_connector() -> tokio_postgres_rustls::MakeRustlsConnect {
    static CONFIG: LazyLock<Arc<rustls::ClientConfig>> = LazyLock::new(|| {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap_or_else(|_| unreachable!("ring supports the default protocol versions"));
        Arc::new(builder.with_root_certificates(roots).with_no_client_auth())
    });
    tokio_postgres_rustls::MakeRustlsConnect::new((*CONFIG).as_ref().clone())
}
