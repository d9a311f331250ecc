//! Check order.

use super::*;

#[actix_web::test]
async fn check_order_authentication_comes_first() {
    // No token, a malformed path id, a malformed body.
    let answer = send(Ports::new(), put("/api/not-a-uuid/tasks/nope").raw(Some("application/json"), "{")).await;
    answer.is(StatusCode::UNAUTHORIZED, unauthorized());
}

#[actix_web::test]
async fn check_order_a_revoked_token_answers_before_the_path() {
    let mut ports = Ports::new();
    ports.revoked.expect_is_revoked().times(1).returning(|_| Ok(true));
    let answer =
        send(ports, put("/api/not-a-uuid/tasks/nope").signed_in_as(ALICE).raw(Some("application/json"), "{")).await;
    answer.is(StatusCode::UNAUTHORIZED, error("TOKEN_REVOKED", "the token was signed out"));
}

#[actix_web::test]
async fn check_order_malformed_path_ids_come_before_the_path_user() {
    // Bob's (valid) user id, a malformed task id, a malformed body: the task id answers.
    let answer = send(
        Ports::signed_in().no_task_writes(),
        put(&format!("/api/{BOB}/tasks/not-a-uuid")).signed_in_as(ALICE).raw(Some("application/json"), "{"),
    )
    .await;
    answer.is(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[("task_id", "must be a UUID")]));
}

#[actix_web::test]
async fn a_malformed_uuid_in_the_path_is_422_naming_the_parameter() {
    for (path, fields) in [
        ("/api/not-a-uuid/tasks".to_owned(), vec![("user_id", "must be a UUID")]),
        (format!("/api/{ALICE}/tasks/12345"), vec![("task_id", "must be a UUID")]),
        ("/api/x/tasks/y".to_owned(), vec![("user_id", "must be a UUID"), ("task_id", "must be a UUID")]),
        (format!("/api/{ALICE}x/tags"), vec![("user_id", "must be a UUID")]),
    ] {
        let answer = send(Ports::signed_in().no_task_writes(), get(&path).signed_in_as(ALICE)).await;
        answer.is_for(StatusCode::UNPROCESSABLE_ENTITY, invalid(&fields), &path);
    }
}

#[actix_web::test]
async fn check_order_the_path_user_comes_before_the_body() {
    let answer = send(
        Ports::signed_in().no_task_writes(),
        post(&tasks_url(BOB)).signed_in_as(ALICE).raw(Some("application/json"), "{"),
    )
    .await;
    answer.is(StatusCode::FORBIDDEN, not_yours());
}

#[actix_web::test]
async fn check_order_the_path_user_comes_before_the_query() {
    let answer =
        send(Ports::signed_in().no_task_writes(), get(&format!("{}?limit=0&x=1", tasks_url(BOB))).signed_in_as(ALICE))
            .await;
    answer.is(StatusCode::FORBIDDEN, not_yours());
}

#[actix_web::test]
async fn the_path_user_must_be_the_token_user_on_every_task_route() {
    let base = tasks_url(BOB);
    for (method, path) in [
        (Method::GET, base.clone()),
        (Method::GET, task_url(BOB, T1)),
        (Method::DELETE, task_url(BOB, T1)),
        (Method::PATCH, format!("{}/complete", task_url(BOB, T1))),
        (Method::GET, format!("{base}/statistics")),
        (Method::GET, format!("{base}/reminders")),
        (Method::GET, format!("/api/{BOB}/tags")),
    ] {
        let answer =
            send(Ports::signed_in().no_task_writes(), request(method.clone(), &path).signed_in_as(ALICE)).await;
        answer.is_for(StatusCode::FORBIDDEN, not_yours(), format!("{method} {path}"));
    }
}

#[actix_web::test]
async fn check_order_the_body_comes_before_the_task_lookup() {
    // The task does not exist, but a bad body answers first: `get` is never called.
    for (raw, status, body) in [
        ("{", StatusCode::BAD_REQUEST, not_json("{")),
        (r#"{"title": ""}"#, StatusCode::UNPROCESSABLE_ENTITY, invalid(&[("title", "must not be empty")])),
        ("{}", StatusCode::UNPROCESSABLE_ENTITY, invalid(&[("body", "must set at least one field")])),
    ] {
        let mut ports = Ports::refused_before_lookup();
        ports.tasks.expect_owners().never();
        let answer =
            send(ports, put(&task_url(ALICE, T1)).signed_in_as(ALICE).raw(Some("application/json"), raw)).await;
        answer.is_for(status, body, raw);
    }
}

#[actix_web::test]
async fn check_order_a_missing_task_is_404_after_the_body() {
    let ports = Ports::signed_in().no_task_writes().misses(T1, None);
    let answer = update(ports, &json!({"title": "New"})).await;
    answer.is(StatusCode::NOT_FOUND, no_such_task());
}

#[actix_web::test]
async fn check_order_a_task_of_another_user_is_403_last() {
    let ports = Ports::signed_in().no_task_writes().misses(T1, Some(BOB));
    let answer = update(ports, &json!({"title": "New"})).await;
    answer.is(StatusCode::FORBIDDEN, someone_elses_task());
}
