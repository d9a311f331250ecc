//! Errors.

use super::*;

#[actix_web::test]
async fn an_unknown_route_is_404_not_found() {
    for path in ["/nope".to_owned(), "/api".to_owned(), format!("/api/{ALICE}/nope"), "/auth/nope".to_owned()] {
        let answer = send(Ports::new(), get(&path)).await;
        answer.is_for(StatusCode::NOT_FOUND, error("NOT_FOUND", "no such route"), &path);
    }
}

#[actix_web::test]
async fn a_wrong_method_on_a_known_route_is_405_method_not_allowed() {
    for (method, path, allowed) in [
        (Method::POST, "/health".to_owned(), "GET"),
        (Method::DELETE, tasks_url(ALICE), "GET, POST"),
        (Method::PATCH, task_url(ALICE, T1), "GET, PUT, DELETE"),
        (Method::GET, "/auth/login".to_owned(), "POST"),
        (Method::POST, statistics_url(ALICE), "GET"),
    ] {
        let answer = send(Ports::new(), request(method.clone(), &path).signed_in_as(ALICE)).await;
        let refused = error("METHOD_NOT_ALLOWED", "this route does not take that method");
        answer.is_for(StatusCode::METHOD_NOT_ALLOWED, refused, format!("{method} {path}"));
        assert_eq!(answer.header("allow"), Some(allowed), "{method} {path}");
    }
}

#[actix_web::test]
async fn an_empty_body_is_400_malformed_request_on_every_route_that_takes_one() {
    for (method, path) in [
        (Method::POST, "/auth/register".to_owned()),
        (Method::POST, "/auth/login".to_owned()),
        (Method::POST, tasks_url(ALICE)),
        (Method::PUT, task_url(ALICE, T1)),
        (Method::POST, format!("{}/bulk/complete", tasks_url(ALICE))),
        (Method::POST, format!("{}/bulk/delete", tasks_url(ALICE))),
    ] {
        let answer = send(
            Ports::signed_in().no_task_writes(),
            request(method.clone(), &path).signed_in_as(ALICE).raw(Some("application/json"), ""),
        )
        .await;
        answer.is_for(StatusCode::BAD_REQUEST, malformed("the request body is empty"), format!("{method} {path}"));
    }
}

#[actix_web::test]
async fn a_body_that_is_not_valid_json_is_400_malformed_request() {
    for raw in [r#"{"title":"#, "{title: 'x'}", r#"{"title":"x"} trailing"#, "\u{feff}{}"] {
        let answer = send(
            Ports::signed_in().no_task_writes(),
            post(&tasks_url(ALICE)).signed_in_as(ALICE).raw(Some("application/json"), raw),
        )
        .await;
        answer.is_for(StatusCode::BAD_REQUEST, not_json(raw), raw);
    }
}

#[actix_web::test]
async fn a_json_body_that_is_not_an_object_is_400_malformed_request() {
    for raw in ["[]", r#"[{"title":"x"}]"#, "42", r#""title""#, "null", "true"] {
        let answer = send(
            Ports::signed_in().no_task_writes(),
            post(&tasks_url(ALICE)).signed_in_as(ALICE).raw(Some("application/json"), raw),
        )
        .await;
        answer.is_for(StatusCode::BAD_REQUEST, malformed("the request body must be a JSON object"), raw);
    }
}

#[actix_web::test]
async fn a_body_without_content_type_is_400_malformed_request() {
    let answer = send(
        Ports::signed_in().no_task_writes(),
        post(&tasks_url(ALICE)).signed_in_as(ALICE).raw(None, r#"{"title":"x"}"#),
    )
    .await;
    answer.is(StatusCode::BAD_REQUEST, malformed("Content-Type application/json is missing"));
}

#[actix_web::test]
async fn a_body_with_a_content_type_that_is_not_json_is_400_malformed_request() {
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"] {
        let answer = send(
            Ports::signed_in().no_task_writes(),
            post(&tasks_url(ALICE)).signed_in_as(ALICE).raw(Some(content_type), r#"{"title":"x"}"#),
        )
        .await;
        answer.is_for(StatusCode::BAD_REQUEST, malformed("Content-Type must be application/json"), content_type);
    }
}

#[actix_web::test]
async fn json_content_types_with_parameters_or_a_json_suffix_are_accepted() {
    for content_type in ["application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"] {
        let ports = Ports::signed_in().inserts();
        let answer =
            send(ports, post(&tasks_url(ALICE)).signed_in_as(ALICE).raw(Some(content_type), r#"{"title":"x"}"#)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{content_type}");
    }
}

#[actix_web::test]
async fn a_body_over_65536_bytes_with_content_length_is_413_payload_too_large() {
    let body = padded_body(65_537);
    let answer = send(
        Ports::signed_in().no_task_writes(),
        post(&tasks_url(ALICE)).signed_in_as(ALICE).raw(Some("application/json"), &body),
    )
    .await;
    answer.is(StatusCode::PAYLOAD_TOO_LARGE, error("PAYLOAD_TOO_LARGE", "the request body is larger than 65536 bytes"));
}

#[actix_web::test]
async fn a_body_over_65536_bytes_without_content_length_is_413_payload_too_large() {
    let body = padded_body(65_537);
    let mut request = post(&tasks_url(ALICE)).signed_in_as(ALICE).raw(Some("application/json"), &body).to_request();
    request.headers_mut().remove(header::CONTENT_LENGTH);
    assert!(!request.headers().contains_key(header::CONTENT_LENGTH));
    let app = test::init_service(app(state(Ports::signed_in().no_task_writes()), cors())).await;
    let answer = call(&app, request).await;
    answer.is(StatusCode::PAYLOAD_TOO_LARGE, error("PAYLOAD_TOO_LARGE", "the request body is larger than 65536 bytes"));
}

#[actix_web::test]
async fn a_body_of_exactly_65536_bytes_is_read() {
    for chunked in [false, true] {
        let ports = Ports::signed_in().inserts();
        let mut request = post(&tasks_url(ALICE))
            .signed_in_as(ALICE)
            .raw(Some("application/json"), &padded_body(65_536))
            .to_request();
        if chunked {
            request.headers_mut().remove(header::CONTENT_LENGTH);
        }
        let app = test::init_service(app(state(ports), cors())).await;
        let answer = call(&app, request).await;
        assert_eq!(answer.status, StatusCode::CREATED, "chunked: {chunked}");
    }
}

#[actix_web::test]
async fn an_oversized_body_is_refused_before_anything_else() {
    // No token, a malformed path id and an unreadable body: the size answers first.
    let answer =
        send(Ports::new(), put("/api/not-a-uuid/tasks/nope").raw(Some("text/plain"), &"x".repeat(70_000))).await;
    answer.is(StatusCode::PAYLOAD_TOO_LARGE, error("PAYLOAD_TOO_LARGE", "the request body is larger than 65536 bytes"));
}

#[actix_web::test]
async fn unknown_fields_are_422_with_a_details_entry_for_each() {
    let answer =
        create(Ports::signed_in().no_task_writes(), &json!({"title": "x", "zeta": 1, "alpha": null, "Title": "y"}))
            .await;
    answer.is(
        StatusCode::UNPROCESSABLE_ENTITY,
        invalid(&[
            ("Title", "is not a known field"),
            ("alpha", "is not a known field"),
            ("zeta", "is not a known field"),
        ]),
    );
}

#[actix_web::test]
async fn unknown_fields_are_422_on_every_body() {
    for (method, path, body) in [
        (Method::POST, "/auth/register".to_owned(), json!({"email": "a@b.co", "password": PASSWORD, "admin": true})),
        (Method::POST, "/auth/login".to_owned(), json!({"email": "a@b.co", "password": PASSWORD, "admin": true})),
        (Method::PUT, task_url(ALICE, T1), json!({"title": "x", "admin": true})),
        (Method::PATCH, complete_url(T1), json!({"admin": true})),
        (Method::POST, format!("{}/bulk/complete", tasks_url(ALICE)), json!({"task_ids": [T1], "admin": true})),
        (Method::POST, format!("{}/bulk/delete", tasks_url(ALICE)), json!({"status": "Completed", "admin": true})),
    ] {
        let answer =
            send(Ports::signed_in().no_task_writes(), request(method.clone(), &path).signed_in_as(ALICE).json(&body))
                .await;
        answer.is_for(
            StatusCode::UNPROCESSABLE_ENTITY,
            invalid(&[("admin", "is not a known field")]),
            format!("{method} {path}"),
        );
    }
}

#[actix_web::test]
async fn a_string_containing_u0000_is_422() {
    let nul = "must not contain the character U+0000";
    for (method, path, body, field) in [
        (Method::POST, tasks_url(ALICE), json!({"title": "a\u{0}b"}), "title"),
        (Method::POST, tasks_url(ALICE), json!({"title": "x", "description": "\u{0}"}), "description"),
        (Method::POST, tasks_url(ALICE), json!({"title": "x", "tags": ["ok", "a\u{0}"]}), "tags[1]"),
        (Method::PUT, task_url(ALICE, T1), json!({"title": "\u{0}"}), "title"),
        (
            Method::POST,
            "/auth/register".to_owned(),
            json!({"email": "a@b.co", "password": "abcdefg1\u{0}"}),
            "password",
        ),
        (Method::POST, "/auth/login".to_owned(), json!({"email": "a\u{0}@b.co", "password": PASSWORD}), "email"),
    ] {
        let answer =
            send(Ports::signed_in().no_task_writes(), request(method.clone(), &path).signed_in_as(ALICE).json(&body))
                .await;
        answer.is_for(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[(field, nul)]), &body);
    }
}

#[actix_web::test]
async fn wrong_json_types_are_422_naming_the_field() {
    for (body, field, message) in [
        (json!({"title": 5}), "title", "must be a string"),
        (json!({"title": ["x"]}), "title", "must be a string"),
        (json!({"title": "x", "description": false}), "description", "must be a string"),
        (json!({"title": "x", "priority": 2}), "priority", "must be a string"),
        (json!({"title": "x", "tags": "home"}), "tags", "must be an array of strings"),
        (json!({"title": "x", "tags": ["home", 3]}), "tags[1]", "must be a string"),
        (json!({"title": "x", "due_at": 1_767_434_400}), "due_at", "must be a string"),
        (json!({"title": "x", "recurrence": {"every": "week"}}), "recurrence", "must be a string"),
    ] {
        let answer = create(Ports::signed_in().no_task_writes(), &body).await;
        answer.is_for(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[(field, message)]), &body);
    }
}

#[actix_web::test]
async fn several_bad_fields_give_several_details_entries() {
    let answer = create(
        Ports::signed_in().no_task_writes(),
        &json!({
            "title": "  ",
            "priority": "urgent",
            "tags": ["a,b"],
            "due_at": "2026-01-10",
            "recurrence": "fortnightly",
            "extra": 1,
        }),
    )
    .await;
    answer.is(
        StatusCode::UNPROCESSABLE_ENTITY,
        invalid(&[
            ("extra", "is not a known field"),
            ("title", "must not be empty"),
            ("priority", "must be one of low, medium, high"),
            ("tags[0]", "must not contain a comma"),
            ("due_at", TIMESTAMP_RULE),
            ("recurrence", "must be one of daily, weekly, monthly, yearly"),
        ]),
    );
}

#[actix_web::test]
async fn an_internal_repository_error_is_500_without_internals() {
    let exploded = || RepoError::Internal("SELECT * FROM tasks WHERE id = $1: relation exploded".into());
    let mut ports = Ports::signed_in();
    ports.tasks.expect_get().times(1).returning(move |_, _| Err(exploded()));
    let answer = send(ports, get(&task_url(ALICE, T1)).signed_in_as(ALICE)).await;
    answer.is(StatusCode::INTERNAL_SERVER_ERROR, error("INTERNAL_ERROR", "an unexpected error occurred"));
    let text = String::from_utf8_lossy(&answer.body);
    assert!(!text.contains("SELECT") && !text.contains("exploded"), "{text}");
}

#[actix_web::test]
async fn an_internal_error_behind_auth_is_500_without_internals() {
    let mut ports = Ports::signed_in();
    ports.users.expect_find_by_id().times(1).returning(|_| Err(RepoError::Internal("users table corrupt".into())));
    let answer = send(ports, get("/auth/me").signed_in_as(ALICE)).await;
    answer.is(StatusCode::INTERNAL_SERVER_ERROR, error("INTERNAL_ERROR", "an unexpected error occurred"));
}

#[actix_web::test]
async fn an_unreachable_database_is_503_service_unavailable() {
    let refused = || RepoError::Unavailable("connection refused: 10.0.0.5:5432".into());
    let mut ports = Ports::signed_in();
    ports.tasks.expect_counts().times(1).returning(move |_, _| Err(refused()));
    let answer = send(ports, get(&statistics_url(ALICE)).signed_in_as(ALICE)).await;
    answer.is(
        StatusCode::SERVICE_UNAVAILABLE,
        error("SERVICE_UNAVAILABLE", "the database is unavailable; try again later"),
    );
}

#[actix_web::test]
async fn an_unreachable_revocation_list_is_503_not_401() {
    let mut ports = Ports::new();
    ports.revoked.expect_is_revoked().times(1).returning(|_| Err(RepoError::Unavailable("timeout".into())));
    let answer = send(ports, get(&tasks_url(ALICE)).signed_in_as(ALICE)).await;
    answer.is(
        StatusCode::SERVICE_UNAVAILABLE,
        error("SERVICE_UNAVAILABLE", "the database is unavailable; try again later"),
    );
}
