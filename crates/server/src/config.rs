//! The server's settings: read once from the environment (and `.env`), validated, and
//! passed down. A bad value stops the server with one line naming the variable.

use std::fmt;
use std::time::Duration;

use chrono::TimeDelta;
use todo_auth::JwtSecret;
use todo_persistence::DatabaseUrl;
use tracing_subscriber::EnvFilter;

/// Every setting, valid.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub database_pool_size: usize,
    /// Longest wait for a database connection, and longest a statement may run.
    pub database_timeout: Duration,
    pub jwt_secret: JwtSecret,
    pub jwt_lifetime: TimeDelta,
    pub host: String,
    pub port: u16,
    pub cors_origins: CorsOrigins,
    pub log_filter: String,
    pub log_format: LogFormat,
    /// actix worker threads; 0 = one per core.
    pub workers: usize,
    /// Password hashes computed at once (each holds 19 MiB while it runs).
    pub hashing_concurrency: usize,
    /// How often expired revocations and old login failures are purged.
    pub purge_interval: Duration,
}

/// Browser origins allowed by CORS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    Any,
    List(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (for log collectors).
    Json,
    /// Human-readable lines.
    Text,
}

/// A setting that cannot be used; its Display is the one line the server prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {} {}", self.variable, self.problem)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads `.env` (if present, without overriding the environment), then the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is fine; a broken one is not.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(error) if error.not_found() => {}
            Err(error) => return Err(ConfigError { variable: ".env", problem: format!("cannot be read: {error}") }),
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests).
    /// An empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let error = |variable: &'static str, problem: String| ConfigError { variable, problem };

        let database_url = get("DATABASE_URL")
            .unwrap_or_else(|| "sqlite://todo.db".into())
            .parse()
            .map_err(|e| error("DATABASE_URL", format!("{e}")))?;
        let database_pool_size = number("DATABASE_POOL_SIZE", get("DATABASE_POOL_SIZE"), 10, 1..=1000)?;
        let database_timeout = millis(number("DATABASE_TIMEOUT_MS", get("DATABASE_TIMEOUT_MS"), 5000, 100..=600_000)?);

        let (secret_variable, secret) = match (get("JWT_SECRET"), get("BETTER_AUTH_SECRET")) {
            (Some(secret), _) => ("JWT_SECRET", Some(secret)),
            (None, Some(secret)) => ("BETTER_AUTH_SECRET", Some(secret)),
            (None, None) => ("JWT_SECRET", None),
        };
        let jwt_secret =
            JwtSecret::from_config(secret.as_deref()).map_err(|e| error(secret_variable, format!("{e}")))?;
        let hours = number("JWT_EXPIRATION_HOURS", get("JWT_EXPIRATION_HOURS"), 24, 1..=87_600)?;
        let jwt_lifetime = TimeDelta::hours(i64::try_from(hours).unwrap_or(24));

        let host = get("HOST").unwrap_or_else(|| "127.0.0.1".into());
        if host.contains(|c: char| c.is_whitespace() || c == '/') {
            return Err(error("HOST", format!("must be an IP address or host name, not {host:?}")));
        }
        let port = number("PORT", get("PORT"), 8000, 0..=65_535)?;
        let port = u16::try_from(port).unwrap_or(8000);

        let cors_origins = cors_origins(&get("CORS_ORIGINS").unwrap_or_else(|| "http://localhost:3000".into()))
            .map_err(|problem| error("CORS_ORIGINS", problem))?;

        let log_filter = get("RUST_LOG").unwrap_or_else(|| "info".into());
        EnvFilter::try_new(&log_filter).map_err(|e| error("RUST_LOG", format!("is not a log filter: {e}")))?;
        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(error("LOG_FORMAT", format!("must be json or text, not {other:?}"))),
        };

        Ok(Self {
            database_url,
            database_pool_size,
            database_timeout,
            jwt_secret,
            jwt_lifetime,
            host,
            port,
            cors_origins,
            log_filter,
            log_format,
            workers: number("WORKERS", get("WORKERS"), 0, 0..=256)?,
            hashing_concurrency: number("HASHING_CONCURRENCY", get("HASHING_CONCURRENCY"), 1, 1..=64)?,
            purge_interval: millis(1000 * number("PURGE_INTERVAL_SECS", get("PURGE_INTERVAL_SECS"), 600, 1..=86_400)?),
        })
    }
}

fn millis(n: usize) -> Duration {
    Duration::from_millis(u64::try_from(n).unwrap_or(u64::MAX))
}

fn number(
    variable: &'static str,
    value: Option<String>,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, ConfigError> {
    let Some(value) = value else { return Ok(default) };
    match value.trim().parse::<usize>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(ConfigError {
            variable,
            problem: format!("must be a whole number from {} to {}, not {value:?}", range.start(), range.end()),
        }),
    }
}

/// `*`, or a comma-separated list of `scheme://host[:port]` origins.
fn cors_origins(value: &str) -> Result<CorsOrigins, String> {
    if value.trim() == "*" {
        return Ok(CorsOrigins::Any);
    }
    let mut origins = Vec::new();
    for origin in value.split(',').map(|o| o.trim().trim_end_matches('/')).filter(|o| !o.is_empty()) {
        let valid = origin.split_once("://").is_some_and(|(scheme, host)| {
            matches!(scheme, "http" | "https") && !host.is_empty() && !host.contains(['/', ' ', '?', '#'])
        });
        if !valid {
            return Err(format!("must list origins like https://app.example.com, not {origin:?}"));
        }
        origins.push(origin.to_owned());
    }
    if origins.is_empty() {
        return Err("must list at least one origin (or *)".into());
    }
    Ok(CorsOrigins::List(origins))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn every_setting_is_in_env_example_with_its_default() {
        const KEY: &str = "a key of at least 32 bytes, for this test";
        // Every variable the configuration reads, as it reads them.
        let read = std::cell::RefCell::new(Vec::new());
        Config::from_lookup(|name| {
            read.borrow_mut().push(name.to_owned());
            None
        })
        .unwrap();
        let example = include_str!("../../../.env.example");
        let defaults = config(&[("JWT_SECRET", KEY)]).unwrap();
        for name in read.into_inner() {
            let line = example.lines().find(|line| line.trim_start_matches("# ").starts_with(&format!("{name}=")));
            assert!(line.is_some(), "{name} is not in .env.example");
            let value = line.unwrap().trim_start_matches("# ").split_once('=').unwrap().1;
            // Each value shown (secrets are left empty) is what the server takes when unset.
            if !value.is_empty() {
                let explicit = config(&[("JWT_SECRET", KEY), (name.as_str(), value)]).unwrap();
                assert_eq!(format!("{explicit:?}"), format!("{defaults:?}"), "{name}={value} is not the default");
            }
        }
    }

    #[test]
    fn defaults_follow_the_contract() {
        let config = config(&[]).unwrap();
        assert_eq!(config.database_url, "sqlite://todo.db".parse().unwrap());
        assert_eq!((config.host.as_str(), config.port), ("127.0.0.1", 8000));
        assert_eq!(config.database_pool_size, 10);
        assert_eq!(config.jwt_lifetime, TimeDelta::hours(24));
        assert_eq!(config.cors_origins, CorsOrigins::List(vec!["http://localhost:3000".into()]));
        assert_eq!(config.log_filter, "info");
        assert!(config.jwt_secret.is_generated());
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (variable, value) in [
            ("DATABASE_URL", "mysql://x"),
            ("JWT_SECRET", "too short"),
            ("BETTER_AUTH_SECRET", "short"),
            ("JWT_EXPIRATION_HOURS", "0"),
            ("JWT_EXPIRATION_HOURS", "a day"),
            ("PORT", "70000"),
            ("HOST", "a b"),
            ("CORS_ORIGINS", "localhost:3000"),
            ("DATABASE_POOL_SIZE", "0"),
            ("RUST_LOG", "[["),
            ("LOG_FORMAT", "xml"),
        ] {
            let error = config(&[(variable, value)]).unwrap_err();
            assert_eq!(error.variable, variable, "{value}");
            assert!(error.to_string().starts_with(&format!("invalid configuration: {variable} ")), "{error}");
        }
    }

    #[test]
    fn the_jwt_secret_alias_is_read_and_the_main_name_wins() {
        let long = "x".repeat(32);
        assert!(!config(&[("BETTER_AUTH_SECRET", &long)]).unwrap().jwt_secret.is_generated());
        let error = config(&[("JWT_SECRET", "short"), ("BETTER_AUTH_SECRET", &long)]).unwrap_err();
        assert_eq!(error.variable, "JWT_SECRET");
    }

    #[test]
    fn cors_origins_are_a_list_or_any() {
        let config = config(&[("CORS_ORIGINS", "https://a.example.com, http://localhost:5173/")]).unwrap();
        assert_eq!(
            config.cors_origins,
            CorsOrigins::List(vec!["https://a.example.com".into(), "http://localhost:5173".into()])
        );
        assert_eq!(cors_origins("*"), Ok(CorsOrigins::Any));
    }
}
