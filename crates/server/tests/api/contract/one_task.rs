//! Tasks: get, update, complete, delete.

use super::*;

/// Alice's `request` over ports on which `get` finds `before` and `apply` is called
/// once: the answer, and the slot that holds what `apply` received.
async fn send_applying(before: &Task, request: TestRequest) -> (Answer, Slot<TaskChanges>) {
    let mut ports = Ports::signed_in().finds(before);
    let applied = applies(&mut ports);
    (send(ports, request).await, applied)
}

/// `before`, completed now by a request: one version later.
fn completed_now(before: Task) -> Task {
    let version = Version(before.version.0 + 1);
    Task { status: TaskStatus::Completed, completed_at: Some(now()), updated_at: now(), version, ..before }
}

/// `before` (completed), made pending again now by a request: one version later.
fn reopened_now(before: Task) -> Task {
    let version = Version(before.version.0 + 1);
    Task { status: TaskStatus::Pending, completed_at: None, updated_at: now(), version, ..before }
}

#[actix_web::test]
async fn get_is_200_with_the_task() {
    let task = Task { completed_at: None, ..weekly(T1) };
    let answer = send(Ports::signed_in().finds(&task), get(&task_url(ALICE, T1)).signed_in_as(ALICE)).await;
    answer.is(
        StatusCode::OK,
        json!({
            "id": T1.to_string(), "user_id": ALICE.to_string(), "title": "Buy milk", "description": "2 litres",
            "status": "Pending", "priority": "high", "tags": ["home"], "due_at": "2026-01-05T09:00:00.000000Z",
            "remind_at": "2026-01-05T08:00:00.000000Z", "recurrence": "weekly", "next_occurrence_id": null,
            "version": 1, "created_at": "2026-01-01T08:00:00.250000Z", "updated_at": "2026-01-01T08:00:00.250000Z",
            "completed_at": null,
        }),
    );
}

#[actix_web::test]
async fn get_a_missing_task_is_404_not_found() {
    let answer = send(Ports::signed_in().misses(T1, None), get(&task_url(ALICE, T1)).signed_in_as(ALICE)).await;
    answer.is(StatusCode::NOT_FOUND, no_such_task());
}

#[actix_web::test]
async fn get_a_task_of_another_user_is_403_forbidden() {
    let answer = send(Ports::signed_in().misses(T1, Some(BOB)), get(&task_url(ALICE, T1)).signed_in_as(ALICE)).await;
    answer.is(StatusCode::FORBIDDEN, someone_elses_task());
}

#[actix_web::test]
async fn put_changes_only_the_given_fields() {
    let before = weekly(T1);
    let (answer, applied) = send_applying(&before, put_t1(&json!({"title": " Buy oat milk "}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let after = Task {
        title: TaskTitle::parse("Buy oat milk").unwrap(),
        updated_at: now(),
        version: Version(2),
        ..before.clone()
    };
    assert_eq!(
        taken(&applied),
        TaskChanges {
            updates: vec![TaskUpdate { task: after.clone(), expected: Version::FIRST, tags_changed: false }],
            ..TaskChanges::default()
        }
    );
    assert_eq!(answer.json(), task_json(&after));
    assert_eq!(answer.json()["created_at"], json!(CREATED));
}

#[actix_web::test]
async fn put_null_clears_a_nullable_field_and_tags_replace_the_list() {
    let before = Task { recurrence: None, ..weekly(T1) };
    let (answer, applied) = send_applying(
        &before,
        put_t1(&json!({"description": null, "remind_at": null, "tags": ["Work", "urgent"], "priority": "low"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let after = Task {
        description: None,
        remind_at: None,
        tags: tags(&["urgent", "work"]),
        priority: Priority::Low,
        updated_at: now(),
        version: Version(2),
        ..before
    };
    assert_eq!(
        taken(&applied).updates,
        vec![TaskUpdate { task: after.clone(), expected: Version::FIRST, tags_changed: true }]
    );
    assert_eq!(answer.json(), task_json(&after));
}

#[actix_web::test]
async fn put_an_empty_body_object_is_422() {
    let answer = update(Ports::refused_before_lookup(), &json!({})).await;
    answer.is(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[("body", "must set at least one field")]));
}

#[actix_web::test]
async fn put_non_nullable_fields_refuse_null() {
    let answer =
        update(Ports::refused_before_lookup(), &json!({"title": null, "status": null, "priority": null, "tags": null}))
            .await;
    answer.is(
        StatusCode::UNPROCESSABLE_ENTITY,
        invalid(&[
            ("title", "must not be null"),
            ("status", "must not be null"),
            ("priority", "must not be null"),
            ("tags", "must not be null"),
        ]),
    );
}

#[actix_web::test]
async fn put_status_is_pending_or_completed_exactly() {
    let answer = update(Ports::refused_before_lookup(), &json!({"status": "completed"})).await;
    answer.is(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[("status", "must be one of Pending, Completed")]));
}

#[actix_web::test]
async fn put_clearing_due_at_of_a_recurring_task_is_422() {
    let answer =
        update(Ports::signed_in().no_task_writes().finds(&weekly(T1)), &json!({"due_at": null, "remind_at": null}))
            .await;
    answer.is(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[("due_at", "a recurring task needs a due_at")]));
}

#[actix_web::test]
async fn put_checks_the_task_as_it_would_be_after_the_change() {
    // Moving due_at before the stored remind_at breaks the rule...
    let answer =
        update(Ports::signed_in().no_task_writes().finds(&weekly(T1)), &json!({"due_at": "2026-01-05T07:00:00Z"}))
            .await;
    answer.is(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[("due_at", "remind_at must not be after due_at")]));
    // ...moving both together is fine.
    let (answer, _applied) = send_applying(
        &weekly(T1),
        put_t1(&json!({"due_at": "2026-01-05T07:00:00Z", "remind_at": "2026-01-05T06:00:00Z"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[actix_web::test]
async fn put_status_completed_sets_completed_at_and_pending_clears_it() {
    let before = stored(T1, ALICE);
    let (answer, _applied) = send_applying(&before, put_t1(&json!({"status": "Completed"}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let done = completed_now(before);
    assert_eq!(answer.json(), task_json(&done));

    let before = completed(T1);
    let (answer, _applied) = send_applying(&before, put_t1(&json!({"status": "Pending"}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let undone = reopened_now(before);
    assert_eq!(answer.json(), task_json(&undone));
}

#[actix_web::test]
async fn patch_complete_with_no_body_or_an_empty_or_true_body_marks_the_task_completed() {
    for body in [None, Some("{}"), Some(r#"{"completed": true}"#)] {
        let before = stored(T1, ALICE);
        let mut request = patch(&complete_url(T1)).signed_in_as(ALICE);
        if let Some(body) = body {
            request = request.raw(Some("application/json"), body);
        }
        let (answer, applied) = send_applying(&before, request).await;
        assert_eq!(answer.status, StatusCode::OK, "{body:?}");
        let done = completed_now(before);
        assert_eq!(taken(&applied).updates[0].task, done, "{body:?}");
        assert_eq!(answer.json(), task_json(&done), "{body:?}");
    }
}

#[actix_web::test]
async fn patch_complete_false_marks_the_task_pending_again() {
    let before = completed(T1);
    let (answer, _applied) =
        send_applying(&before, patch(&complete_url(T1)).signed_in_as(ALICE).json(&json!({"completed": false}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let undone = reopened_now(before);
    assert_eq!(answer.json(), task_json(&undone));
}

#[actix_web::test]
async fn patch_complete_with_a_bad_completed_value_is_422() {
    for (body, message) in [
        (json!({"completed": "yes"}), "must be a boolean"),
        (json!({"completed": 1}), "must be a boolean"),
        (json!({"completed": null}), "must not be null"),
    ] {
        let answer =
            send(Ports::refused_before_lookup(), patch(&complete_url(T1)).signed_in_as(ALICE).json(&body)).await;
        answer.is_for(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[("completed", message)]), &body);
    }
}

#[actix_web::test]
async fn patch_complete_with_a_body_that_is_not_json_is_400() {
    for (content_type, raw, body) in [
        (Some("application/json"), "yes", not_json("yes")),
        (None, "{}", malformed("Content-Type application/json is missing")),
        (Some("text/plain"), "{}", malformed("Content-Type must be application/json")),
        (Some("application/json"), "[]", malformed("the request body must be a JSON object")),
    ] {
        let answer =
            send(Ports::refused_before_lookup(), patch(&complete_url(T1)).signed_in_as(ALICE).raw(content_type, raw))
                .await;
        answer.is_for(StatusCode::BAD_REQUEST, body, raw);
    }
}

#[actix_web::test]
async fn completing_a_completed_task_keeps_its_completed_at() {
    let before = completed(T1);
    let mut ports = Ports::signed_in().finds(&before).no_task_writes();
    ports.tasks.expect_owners().never();
    let answer = send(ports, patch(&complete_url(T1)).signed_in_as(ALICE)).await;
    answer.is(StatusCode::OK, task_json(&before));
    assert_eq!(answer.json()["completed_at"], json!("2026-01-01T09:00:00.000000Z"));
}

#[actix_web::test]
async fn completing_a_recurring_task_creates_its_next_occurrence() {
    let before = weekly(T1);
    let (answer, applied) = send_applying(&before, patch(&complete_url(T1)).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let changes = taken(&applied);
    assert_eq!(changes.inserts.len(), 1);
    let next = changes.inserts[0].clone();
    assert_eq!(
        next,
        Task {
            id: next.id,
            due_at: Some(at("2026-01-12T09:00:00Z")),
            remind_at: Some(at("2026-01-12T08:00:00Z")),
            created_at: now(),
            updated_at: now(),
            ..before.clone()
        }
    );
    let done = Task { next_occurrence_id: Some(next.id), ..completed_now(before) };
    assert_eq!(changes.updates, vec![TaskUpdate { task: done.clone(), expected: Version::FIRST, tags_changed: false }]);
    assert_eq!(answer.json(), task_json(&done));
}

#[actix_web::test]
async fn put_status_completed_on_a_recurring_task_creates_its_next_occurrence() {
    let before = weekly(T1);
    let (answer, applied) = send_applying(&before, put_t1(&json!({"status": "Completed"}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let changes = taken(&applied);
    assert_eq!(changes.inserts.len(), 1);
    assert_eq!(changes.inserts[0].due_at, Some(at("2026-01-12T09:00:00Z")));
    assert_eq!(answer.json()["next_occurrence_id"], json!(changes.inserts[0].id.to_string()));
}

#[actix_web::test]
async fn a_task_that_already_has_a_next_occurrence_never_makes_another() {
    // Un-completing keeps the link...
    let done = Task {
        status: TaskStatus::Completed,
        completed_at: Some(at("2026-01-02T09:00:00Z")),
        next_occurrence_id: Some(tid(T3)),
        ..weekly(T1)
    };
    let url = complete_url(T1);
    let (answer, applied) =
        send_applying(&done, patch(&url).signed_in_as(ALICE).json(&json!({"completed": false}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["next_occurrence_id"], json!(T3.to_string()));
    let undone = taken(&applied).updates[0].task.clone();
    // ...and completing again makes no second occurrence.
    let (answer, applied) = send_applying(&undone, patch(&url).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(taken(&applied).inserts, vec![]);
    assert_eq!(answer.json()["next_occurrence_id"], json!(T3.to_string()));
}

#[actix_web::test]
async fn patch_complete_of_a_missing_or_foreign_task_is_404_or_403() {
    let url = complete_url(T1);
    let answer = send(Ports::signed_in().no_task_writes().misses(T1, None), patch(&url).signed_in_as(ALICE)).await;
    answer.is(StatusCode::NOT_FOUND, no_such_task());
    let answer = send(Ports::signed_in().no_task_writes().misses(T1, Some(BOB)), patch(&url).signed_in_as(ALICE)).await;
    answer.is(StatusCode::FORBIDDEN, someone_elses_task());
}

#[actix_web::test]
async fn delete_is_204_with_an_empty_body() {
    let ports = Ports::signed_in().deletes(&[T1]);
    let answer = send(ports, delete(&task_url(ALICE, T1)).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert!(answer.body.is_empty());
}

#[actix_web::test]
async fn delete_a_missing_task_is_404_and_a_foreign_one_403() {
    for (owner, status, body) in
        [(None, StatusCode::NOT_FOUND, no_such_task()), (Some(BOB), StatusCode::FORBIDDEN, someone_elses_task())]
    {
        let mut ports = Ports::signed_in();
        ports.tasks.expect_delete_all().times(1).returning(|_, _| Ok(None));
        ports
            .tasks
            .expect_owners()
            .withf(|ids| ids == [tid(T1)])
            .times(1)
            .returning(move |_| Ok(owner.map(|owner| (tid(T1), uid(owner))).into_iter().collect()));
        let answer = send(ports, delete(&task_url(ALICE, T1)).signed_in_as(ALICE)).await;
        answer.is(status, body);
    }
}
