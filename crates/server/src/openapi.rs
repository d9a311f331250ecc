//! Finishing the OpenAPI document paperclip derives from the routes.

use serde_json::Value;

/// Turns paperclip's v3 document into the published one.
pub fn finish(mut document: Value) -> Value {
    document["info"] = serde_json::json!({"title": "Todo API", "version": env!("CARGO_PKG_VERSION")});
    document
}
