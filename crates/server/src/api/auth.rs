//! `/auth/*`: register, sign in, sign out, who am I.

use actix_web::web::Data;
use paperclip::actix::web::{self, Json};
use paperclip::actix::{Apiv2Schema, api_v2_operation};
use serde::Serialize;
use todo_auth::Session;
use todo_domain::user::{Email, Password, User, UserName};
use uuid::Uuid;

use super::{ApiTime, Created, Message};
use crate::error::ApiError;
use crate::extract::{Authorized, Body};
use crate::json::Fields;
use crate::state::AppState;

pub fn routes(config: &mut web::ServiceConfig) {
    config.service(
        web::scope("/auth")
            .service(web::resource("/register").route(web::post().to(register)))
            .service(web::resource("/login").route(web::post().to(login)))
            .service(web::resource("/logout").route(web::post().to(logout)))
            .service(web::resource("/me").route(web::get().to(me))),
    );
}

#[allow(dead_code)] // documentation only: never built
pub mod schema {
    use paperclip::actix::Apiv2Schema;
    use serde::Serialize;

    /// Create an account.
    #[derive(Debug, Serialize, Apiv2Schema)]
    pub struct Register {
        pub email: String,
        pub password: String,
        pub name: Option<String>,
    }

    /// Sign in.
    #[derive(Debug, Serialize, Apiv2Schema)]
    pub struct Login {
        pub email: String,
        pub password: String,
    }
}

/// A user as others may see them.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct UserInfo {
    pub id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub created_at: ApiTime,
}

impl From<User> for UserInfo {
    fn from(user: User) -> Self {
        Self {
            id: user.id.as_uuid(),
            email: user.email.into(),
            name: user.name.map(Into::into),
            created_at: ApiTime(user.created_at),
        }
    }
}

/// A signed-in session: the bearer token and its user.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct AuthResponse {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    pub expires_at: ApiTime,
    pub user_id: Uuid,
    pub user: UserInfo,
}

impl From<Session> for AuthResponse {
    fn from(session: Session) -> Self {
        Self {
            access_token: session.token,
            token_type: "bearer".into(),
            expires_at: ApiTime(session.expires_at),
            user_id: session.user.id.as_uuid(),
            user: session.user.into(),
        }
    }
}

/// Create an account and sign in.
#[api_v2_operation(tags(auth), operation_id = "register")]
async fn register(state: Data<AppState>, body: Body<schema::Register>) -> Result<Created<AuthResponse>, ApiError> {
    let mut fields = Fields::new(body.object()?, &["email", "password", "name"]);
    let email = fields.required_string("email", Email::parse);
    let password = fields.required_string("password", Password::parse);
    let name = fields.nullable_string("name", UserName::parse);
    let name = match name {
        crate::json::Field::Set(name) => name,
        crate::json::Field::Absent | crate::json::Field::Null => None,
    };
    let (email, password) = match (email, password) {
        (Some(email), Some(password)) => (email, fields.finish(password)?),
        _ => return Err(fields.finish(()).err().unwrap_or_default().into()),
    };
    let session = state.auth.register(email, password, name).await?;
    let location = "/auth/me".to_owned();
    Ok(Created::at(location, session.into()))
}

/// Sign in with email and password.
#[api_v2_operation(tags(auth), operation_id = "login")]
async fn login(state: Data<AppState>, body: Body<schema::Login>) -> Result<Json<AuthResponse>, ApiError> {
    let mut fields = Fields::new(body.object()?, &["email", "password"]);
    let email = fields.required_string("email", |s| Ok::<_, &str>(s.to_owned()));
    let password = fields.required_string("password", |s| Ok::<_, &str>(s.to_owned()));
    let (Some(email), Some(password)) = (email, password) else {
        return Err(fields.finish(()).err().unwrap_or_default().into());
    };
    fields.finish(())?;
    Ok(Json(state.auth.login(&email, &password).await?.into()))
}

/// Sign out: the token is refused everywhere from now on.
#[api_v2_operation(tags(auth), operation_id = "logout")]
async fn logout(state: Data<AppState>, auth: Authorized) -> Result<Json<Message>, ApiError> {
    let caller = auth.caller()?;
    state.auth.logout(&caller).await?;
    Ok(Json(Message { message: "signed out".into() }))
}

/// The signed-in user.
#[api_v2_operation(tags(auth), operation_id = "me")]
async fn me(state: Data<AppState>, auth: Authorized) -> Result<Json<UserInfo>, ApiError> {
    let caller = auth.caller()?;
    Ok(Json(state.auth.me(&caller).await?.into()))
}
