//! Sync: versions and entity tags, `If-Match`, `If-None-Match`, client-chosen ids, and
//! tags merged in place.

use todo_domain::task::TaskDeletion;

use super::*;

fn with_header(request: TestRequest, name: header::HeaderName, value: &str) -> TestRequest {
    request.insert_header((name, value))
}

fn stale(current: &Task) -> Value {
    json!({
        "error": "PRECONDITION_FAILED",
        "message": "the task is not at the version If-Match names; nothing was changed",
        "details": {"current": task_json(current)},
    })
}

#[actix_web::test]
async fn every_answer_that_is_one_task_carries_its_version_as_a_strong_etag() {
    let task = Task { version: Version(4), ..stored(T1, ALICE) };
    let answer = send(Ports::signed_in().finds(&task), get(&task_url(ALICE, T1)).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("etag"), Some("\"4\""));
    assert_eq!(answer.json()["version"], 4);

    let mut ports = Ports::signed_in().finds(&task);
    let applied = applies(&mut ports);
    let answer = send(ports, patch(&complete_url(T1)).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("etag"), Some("\"5\""));
    assert_eq!(taken(&applied).updates[0].expected, Version(4));
}

#[actix_web::test]
async fn if_none_match_with_the_current_tag_is_304_with_the_etag_and_no_body() {
    let task = Task { version: Version(3), ..stored(T1, ALICE) };
    for held in ["\"3\"", "W/\"3\"", "\"1\", \"3\"", "*"] {
        let request = with_header(get(&task_url(ALICE, T1)).signed_in_as(ALICE), header::IF_NONE_MATCH, held);
        let answer = send(Ports::signed_in().finds(&task), request).await;
        assert_eq!(answer.status, StatusCode::NOT_MODIFIED, "{held}");
        assert_eq!(answer.header("etag"), Some("\"3\""), "{held}");
        assert!(answer.body.is_empty(), "{held}");
    }
    let request = with_header(get(&task_url(ALICE, T1)).signed_in_as(ALICE), header::IF_NONE_MATCH, "\"2\"");
    let answer = send(Ports::signed_in().finds(&task), request).await;
    answer.is(StatusCode::OK, task_json(&task));
}

#[actix_web::test]
async fn if_match_with_another_version_is_412_with_the_current_task_and_changes_nothing() {
    let task = Task { version: Version(3), ..stored(T1, ALICE) };
    let requests: [fn() -> TestRequest; 3] = [
        || put(&task_url(ALICE, T1)).json(&json!({"title": "Buy oat milk"})),
        || patch(&complete_url(T1)),
        || delete(&task_url(ALICE, T1)),
    ];
    for request in requests {
        // A weak tag never matches, even the current version's.
        for named in ["\"2\"", "W/\"3\"", "\"1\", \"2\""] {
            let request = with_header(request().signed_in_as(ALICE), header::IF_MATCH, named);
            let answer = send(Ports::signed_in().no_task_writes().finds(&task), request).await;
            answer.is_for(StatusCode::PRECONDITION_FAILED, stale(&task), named);
            assert_eq!(answer.header("etag"), Some("\"3\""));
        }
    }
}

#[actix_web::test]
async fn if_match_with_the_current_version_writes_at_that_version_only() {
    let task = Task { version: Version(3), ..stored(T1, ALICE) };
    let mut ports = Ports::signed_in().finds(&task);
    let applied = applies(&mut ports);
    let request = with_header(
        put(&task_url(ALICE, T1)).signed_in_as(ALICE).json(&json!({"title": "Buy oat milk"})),
        header::IF_MATCH,
        "\"2\", \"3\"",
    );
    let answer = send(ports, request).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("etag"), Some("\"4\""));
    let update = &taken(&applied).updates[0];
    assert_eq!((update.expected, update.task.version), (Version(3), Version(4)));

    // `If-Match: *` asks nothing of the version: one delete, no read first.
    let mut ports = Ports::signed_in();
    ports.tasks.expect_get().never();
    ports.tasks.expect_delete_all().times(1).returning(|_, ids| Ok(Some(ids.len() as u64)));
    let request = with_header(delete(&task_url(ALICE, T1)).signed_in_as(ALICE), header::IF_MATCH, "*");
    assert_eq!(send(ports, request).await.status, StatusCode::NO_CONTENT);

    // A conditional delete deletes the version it read, which If-Match allowed.
    let mut ports = Ports::signed_in().finds(&task);
    let applied = applies(&mut ports);
    let request = with_header(delete(&task_url(ALICE, T1)).signed_in_as(ALICE), header::IF_MATCH, "\"3\"");
    assert_eq!(send(ports, request).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        taken(&applied),
        TaskChanges { deletions: vec![TaskDeletion { id: tid(T1), expected: Version(3) }], ..TaskChanges::default() }
    );
}

#[actix_web::test]
async fn a_malformed_conditional_header_is_400_before_the_task_is_looked_up() {
    for bad in ["3", "\"3", "W/3", "*, \"3\"", "\"3\" \"4\"", " , "] {
        let requests = [
            (header::IF_MATCH, "If-Match", put(&task_url(ALICE, T1)).json(&json!({"title": "x"}))),
            (header::IF_MATCH, "If-Match", delete(&task_url(ALICE, T1))),
            (header::IF_NONE_MATCH, "If-None-Match", get(&task_url(ALICE, T1))),
        ];
        for (name, spelled, request) in requests {
            let request = with_header(request.signed_in_as(ALICE), name, bad);
            let answer = send(Ports::signed_in().no_task_writes(), request).await;
            answer.is_for(
                StatusCode::BAD_REQUEST,
                malformed(&format!("{spelled} must be * or a list of entity tags such as \"3\"")),
                format!("{spelled}: {bad:?}"),
            );
        }
    }
}

#[actix_web::test]
async fn a_create_may_choose_the_id_and_a_taken_one_is_409() {
    let chosen = "0193aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee";
    let ports = Ports::signed_in().inserts();
    let answer = create(ports, &json!({"id": chosen.to_uppercase(), "title": "Offline"})).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.json()["id"], chosen);
    assert_eq!(answer.header("location"), Some(format!("/api/{ALICE}/tasks/{chosen}").as_str()));
    assert_eq!(answer.header("etag"), Some("\"1\""));

    let mut ports = Ports::signed_in();
    ports.tasks.expect_insert().times(1).returning(|_| Err(RepoError::Duplicate("task id")));
    let answer = create(ports, &json!({"id": chosen, "title": "Again"})).await;
    answer.is(StatusCode::CONFLICT, error("CONFLICT", "a task with this id exists already"));
}

#[actix_web::test]
async fn a_chosen_id_is_a_uuid_other_than_nil_and_never_null() {
    for (id, message) in [
        (json!(null), "must not be null"),
        (json!("00000000-0000-0000-0000-000000000000"), "must not be the nil UUID"),
        (json!("not-a-uuid"), "must be a UUID"),
        (json!(7), "must be a string"),
    ] {
        let answer = create(Ports::signed_in().no_task_writes(), &json!({"id": id, "title": "x"})).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{id}");
        assert_eq!(answer.json()["details"], json!([{"field": "id", "message": message}]), "{id}");
    }
}

#[actix_web::test]
async fn add_tags_and_remove_tags_change_the_list_as_it_is() {
    let task = Task { tags: tags(&["home", "shop"]), ..stored(T1, ALICE) };
    let mut ports = Ports::signed_in().finds(&task);
    let applied = applies(&mut ports);
    let body = json!({"add_tags": ["Urgent", "home"], "remove_tags": ["shop", "urgent", "absent"]});
    let answer = update(ports, &body).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["tags"], json!(["home"]));
    let update = &taken(&applied).updates[0];
    assert!(update.tags_changed);
    assert_eq!(update.task.tags, tags(&["home"]));

    // Adding what is there already changes nothing: no write, the same version.
    let answer = send(
        Ports::signed_in().no_task_writes().finds(&task),
        put(&task_url(ALICE, T1)).signed_in_as(ALICE).json(&json!({"add_tags": ["HOME"], "remove_tags": []})),
    )
    .await;
    answer.is(StatusCode::OK, task_json(&task));
}

#[actix_web::test]
async fn merged_tags_keep_the_tag_rules() {
    let ten: Vec<String> = (0..10).map(|n| format!("t{n}")).collect();
    let full = Task { tags: Tags::new(ten.iter().map(|t| Tag::parse(t).unwrap())).unwrap(), ..stored(T1, ALICE) };
    let answer = send(
        Ports::signed_in().no_task_writes().finds(&full),
        put(&task_url(ALICE, T1)).signed_in_as(ALICE).json(&json!({"add_tags": ["one-more"]})),
    )
    .await;
    answer.is(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[("add_tags", "must leave the task with at most 10 tags")]));

    for (body, fields) in [
        (
            json!({"tags": ["a"], "add_tags": ["b"]}),
            vec![("add_tags", "cannot be given with tags, which replaces the whole list")],
        ),
        (
            json!({"tags": [], "add_tags": [], "remove_tags": []}),
            vec![
                ("add_tags", "cannot be given with tags, which replaces the whole list"),
                ("remove_tags", "cannot be given with tags, which replaces the whole list"),
            ],
        ),
        (json!({"add_tags": null}), vec![("add_tags", "must not be null")]),
        (json!({"remove_tags": ["a,b"]}), vec![("remove_tags[0]", "must not contain a comma")]),
    ] {
        let answer = update(Ports::signed_in().no_task_writes(), &body).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(
            answer.json()["details"],
            json!(fields.iter().map(|(f, m)| json!({"field": f, "message": m})).collect::<Vec<_>>()),
            "{body}"
        );
    }
}

#[actix_web::test]
async fn a_browser_may_send_the_sync_headers_and_read_the_etag() {
    let preflight = TestRequest::default()
        .method(Method::OPTIONS)
        .uri(&task_url(ALICE, T1))
        .insert_header((header::ORIGIN, ORIGIN))
        .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "PUT"))
        .insert_header((header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization, if-match, idempotency-key"));
    let answer = send(Ports::new(), preflight).await;
    assert!(answer.status.is_success(), "{}", answer.status);
    let allowed = answer.header("access-control-allow-headers").unwrap().to_lowercase();
    for name in ["authorization", "content-type", "if-match", "if-none-match", "idempotency-key"] {
        assert!(allowed.contains(name), "{name} not in {allowed}");
    }

    let task = stored(T1, ALICE);
    let request = get(&task_url(ALICE, T1)).signed_in_as(ALICE).insert_header((header::ORIGIN, ORIGIN));
    let answer = send(Ports::signed_in().finds(&task), request).await;
    let exposed = answer.header("access-control-expose-headers").unwrap().to_lowercase();
    for name in ["etag", "location", "retry-after", "x-request-id", "idempotent-replayed"] {
        assert!(exposed.contains(name), "{name} not in {exposed}");
    }
}

#[actix_web::test]
async fn if_match_is_judged_after_the_owner_and_the_body_and_before_nothing_else() {
    let stale = || put(&task_url(ALICE, T1)).signed_in_as(ALICE).insert_header((header::IF_MATCH, "\"9\""));
    // Someone else's task: 403, and nothing of it leaks into a 412's details.
    let answer = send(Ports::signed_in().no_task_writes().misses(T1, Some(BOB)), stale().json(&json!({"title": "x"})));
    answer.await.is(StatusCode::FORBIDDEN, someone_elses_task());
    // No such task: 404 comes before 412.
    let answer = send(Ports::signed_in().no_task_writes().misses(T1, None), stale().json(&json!({"title": "x"})));
    answer.await.is(StatusCode::NOT_FOUND, no_such_task());
    // A bad body is refused before the task is read, so before any 412.
    let answer = send(Ports::signed_in().no_task_writes(), stale().json(&json!({"title": ""}))).await;
    answer.is(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[("title", "must not be empty")]));
    // Another user's path: 403 before a malformed header is even read.
    let request = put(&task_url(BOB, T1)).signed_in_as(ALICE).insert_header((header::IF_MATCH, "nonsense"));
    send(Ports::signed_in().no_task_writes(), request.json(&json!({"title": "x"})))
        .await
        .is(StatusCode::FORBIDDEN, not_yours());
}

#[actix_web::test]
async fn with_tags_a_merge_list_has_its_one_error_whatever_it_holds() {
    let answer = send(
        Ports::signed_in().no_task_writes(),
        put(&task_url(ALICE, T1)).signed_in_as(ALICE).json(&json!({"tags": ["a"], "add_tags": null})),
    )
    .await;
    answer.is(
        StatusCode::UNPROCESSABLE_ENTITY,
        invalid(&[("add_tags", "cannot be given with tags, which replaces the whole list")]),
    );
}
