//! Operations.

use super::*;

#[actix_web::test]
async fn health_is_200_ok() {
    let answer = send(Ports::new(), get("/health")).await;
    answer.is(StatusCode::OK, json!({"status": "ok"}));
}

#[actix_web::test]
async fn ready_is_200_when_the_database_answers() {
    let answer = send(Ports::new(), get("/health/ready")).await;
    answer.is(StatusCode::OK, json!({"status": "ready", "database": "ok"}));
}

#[actix_web::test]
async fn ready_is_503_when_the_database_does_not_answer() {
    let answer = send(Ports { database_up: false, ..Ports::new() }, get("/health/ready")).await;
    answer.is(
        StatusCode::SERVICE_UNAVAILABLE,
        error("SERVICE_UNAVAILABLE", "the database is unavailable; try again later"),
    );
}

#[actix_web::test]
async fn every_response_carries_a_fresh_request_id_when_the_client_sent_none() {
    for request in [get("/health"), get("/nope"), get(&tasks_url(ALICE))] {
        let answer = send(Ports::new(), request).await;
        let id = answer.header(REQUEST_ID).unwrap();
        let parsed = Uuid::parse_str(id).unwrap_or_else(|_| panic!("not a UUID: {id}"));
        assert_eq!(parsed.hyphenated().to_string(), id, "lowercase, hyphenated");
    }
}

#[actix_web::test]
async fn a_sane_client_request_id_is_echoed() {
    for id in ["client-req-42", "0190a000-0000-7000-8000-00000000a11c", &"r".repeat(200)] {
        let answer = send(Ports::new(), get("/health").insert_header((REQUEST_ID, id))).await;
        assert_eq!(answer.header(REQUEST_ID), Some(id));
        let answer = send(Ports::new(), get(&tasks_url(ALICE)).insert_header((REQUEST_ID, id))).await;
        assert_eq!((answer.status, answer.header(REQUEST_ID)), (StatusCode::UNAUTHORIZED, Some(id)));
    }
}

#[actix_web::test]
async fn a_garbage_client_request_id_is_replaced_by_a_fresh_one() {
    for garbage in ["x".repeat(500), "has spaces in it".to_owned(), String::new(), "tab\there".to_owned()] {
        let answer = send(Ports::new(), get("/health").insert_header((REQUEST_ID, garbage.as_str()))).await;
        let id = answer.header(REQUEST_ID).unwrap();
        assert_ne!(id, garbage);
        assert!(Uuid::parse_str(id).is_ok(), "{id}");
    }
}

#[actix_web::test]
async fn cors_preflight_names_authorization_and_content_type() {
    let answer = send(
        Ports::new(),
        request(Method::OPTIONS, &tasks_url(ALICE))
            .insert_header((header::ORIGIN, ORIGIN))
            .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"))
            .insert_header((header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization,content-type")),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("access-control-allow-origin"), Some(ORIGIN));
    let allowed: Vec<String> = answer
        .header("access-control-allow-headers")
        .unwrap()
        .split(',')
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    assert!(allowed.contains(&"authorization".to_owned()), "{allowed:?}");
    assert!(allowed.contains(&"content-type".to_owned()), "{allowed:?}");
    let methods = answer.header("access-control-allow-methods").unwrap();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
}

#[actix_web::test]
async fn cors_headers_are_on_error_responses_too() {
    let cases = [
        (get(&tasks_url(ALICE)), StatusCode::UNAUTHORIZED),
        (get("/nope"), StatusCode::NOT_FOUND),
        (request(Method::DELETE, "/health"), StatusCode::METHOD_NOT_ALLOWED),
        (get("/api/x/tasks").signed_in_as(ALICE), StatusCode::UNPROCESSABLE_ENTITY),
        (
            post(&tasks_url(ALICE)).signed_in_as(ALICE).raw(Some("application/json"), &padded_body(70_000)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (get("/health"), StatusCode::OK),
    ];
    for (request, status) in cases {
        let answer = send(Ports::signed_in(), request.insert_header((header::ORIGIN, ORIGIN))).await;
        assert_eq!(answer.status, status);
        assert_eq!(answer.header("access-control-allow-origin"), Some(ORIGIN), "{status}");
        let exposed = answer.header("access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
        assert!(exposed.contains("x-request-id"), "{status}: {exposed}");
    }
}

#[actix_web::test]
async fn a_refused_cors_preflight_is_answered_in_the_error_shape() {
    for (origin, headers) in [(ORIGIN, "authorization,x-secret"), ("https://evil.example", "authorization")] {
        let answer = send(
            Ports::new(),
            request(Method::OPTIONS, &tasks_url(ALICE))
                .insert_header((header::ORIGIN, origin))
                .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "GET"))
                .insert_header((header::ACCESS_CONTROL_REQUEST_HEADERS, headers)),
        )
        .await;
        answer.is_for(StatusCode::BAD_REQUEST, malformed("the request is malformed"), format!("{origin} {headers}"));
    }
}

#[actix_web::test]
async fn cors_headers_are_not_given_to_other_origins() {
    let answer = send(Ports::new(), get("/health").insert_header((header::ORIGIN, "https://evil.example"))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("access-control-allow-origin"), None);
}
