//! `/openapi.json` and `/docs`: the OpenAPI document and Swagger UI, fully offline.
//!
//! The UI's assets come bundled in paperclip; our own small page at `/docs` loads them
//! and points them at `/openapi.json`. Only the files paperclip really has reach its
//! handler (which panics on any other name): every other path under `/docs` is a 404.

use std::sync::{Arc, OnceLock};

use actix_web::http::header;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse, guard};
use paperclip::actix::api_v2_operation;
use paperclip::actix::web;

use crate::error::ApiError;

/// The files of paperclip's Swagger UI distribution that `/docs` may serve.
pub const SWAGGER_FILES: [&str; 6] = [
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "favicon-32x32.png",
    "favicon-16x16.png",
    "oauth2-redirect.html",
];

const PAGE: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>Todo API</title>
  <link rel="stylesheet" type="text/css" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
  <style>html { box-sizing: border-box; overflow-y: scroll; } *, *:before, *:after { box-sizing: inherit; } body { margin: 0; background: #fafafa; }</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="/docs/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
  <script>
    window.onload = function () {
      window.ui = SwaggerUIBundle({
        url: "/openapi.json",
        // No badge fetched from validator.swagger.io: the page works offline.
        validatorUrl: null,
        dom_id: "#swagger-ui",
        deepLinking: true,
        persistAuthorization: true,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        plugins: [SwaggerUIBundle.plugins.DownloadUrl],
        layout: "StandaloneLayout"
      });
    };
  </script>
</body>
</html>
"##;

/// The OpenAPI document: paperclip's, finished (see `crate::openapi`) and serialized on
/// first request, so that starting the server does not wait for it.
#[derive(Clone, Debug)]
pub struct OpenApiDocument(Arc<(serde_json::Value, OnceLock<Bytes>)>);

impl OpenApiDocument {
    pub fn new(paperclip: serde_json::Value) -> Self {
        Self(Arc::new((paperclip, OnceLock::new())))
    }

    /// The published document.
    pub fn bytes(&self) -> Bytes {
        let (paperclip, finished) = &*self.0;
        finished
            .get_or_init(|| {
                Bytes::from(serde_json::to_vec(&crate::openapi::finish(paperclip.clone())).unwrap_or_default())
            })
            .clone()
    }
}

/// Our routes under `/docs` and `/openapi.json`. Registered before paperclip's own UI
/// handler, so that they win for the paths they match.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(web::resource("/openapi.json").route(web::get().to(openapi)))
        .service(web::resource("/docs").route(web::get().to(page)))
        .service(web::resource("/docs/").route(web::get().to(page)))
        .service(web::resource("/docs/index.html").route(web::get().to(page)))
        .service(
            web::resource("/docs/{filename:.*}")
                .guard(guard::fn_guard(|ctx| {
                    let filename = ctx.head().uri.path().trim_start_matches("/docs/");
                    !SWAGGER_FILES.contains(&filename) || !ctx.head().uri.query().unwrap_or_default().is_empty()
                }))
                .to(unknown_file),
        );
}

#[api_v2_operation(skip)]
async fn openapi(document: Data<OpenApiDocument>) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CONTENT_TYPE, "application/json")).body(document.bytes())
}

#[api_v2_operation(skip)]
async fn page() -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8")).body(PAGE)
}

#[api_v2_operation(skip)]
async fn unknown_file(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!("no such file: {}", request.path())))
}
