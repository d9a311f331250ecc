//! Tasks: bulk.

use super::*;

fn bulk_complete_url() -> String {
    format!("{}/bulk/complete", tasks_url(ALICE))
}

fn bulk_delete_url() -> String {
    format!("{}/bulk/delete", tasks_url(ALICE))
}

fn ids(ids: &[Uuid]) -> Vec<String> {
    ids.iter().map(Uuid::to_string).collect()
}

/// 404 for a bulk request naming tasks that do not exist.
fn missing(missing_ids: &[Uuid]) -> Value {
    let message = "some of the tasks do not exist; nothing was changed";
    error_with("NOT_FOUND", message, json!({"missing_ids": ids(missing_ids)}))
}

/// 403 for a bulk request naming tasks of another user.
fn foreign(forbidden_ids: &[Uuid]) -> Value {
    let message = "some of the tasks belong to another user; nothing was changed";
    error_with("FORBIDDEN", message, json!({"forbidden_ids": ids(forbidden_ids)}))
}

#[actix_web::test]
async fn bulk_complete_is_200_with_counts_and_a_plural_message() {
    let found = vec![stored(T1, ALICE), weekly(T2), completed(T3)];
    let mut ports = Ports::signed_in();
    ports
        .tasks
        .expect_get_many()
        .withf(|user, ids| *user == uid(ALICE) && ids == [tid(T1), tid(T2), tid(T3)])
        .times(1)
        .returning(move |_, _| Ok(found.clone()));
    let applied = applies(&mut ports);
    let answer =
        send(ports, post(&bulk_complete_url()).signed_in_as(ALICE).json(&json!({"task_ids": [T1, T2, T1, T3, T2]})))
            .await;
    answer
        .is(StatusCode::OK, json!({"message": "3 tasks marked as completed", "updated_count": 3, "created_count": 1}));
    let changes = taken(&applied);
    // The already completed task is left as it was.
    let updated: Vec<TaskId> = changes.updates.iter().map(|u| u.task.id).collect();
    assert_eq!(updated, [tid(T1), tid(T2)]);
    assert!(changes.updates.iter().all(|u| u.task.completed_at == Some(now())));
    assert_eq!(changes.inserts.len(), 1);
}

#[actix_web::test]
async fn bulk_complete_of_one_task_says_1_task() {
    let mut ports = Ports::signed_in();
    ports.tasks.expect_get_many().times(1).returning(|_, _| Ok(vec![stored(T1, ALICE)]));
    let _applied = applies(&mut ports);
    let answer = send(ports, post(&bulk_complete_url()).signed_in_as(ALICE).json(&json!({"task_ids": [T1]}))).await;
    answer.is(StatusCode::OK, json!({"message": "1 task marked as completed", "updated_count": 1, "created_count": 0}));
}

#[actix_web::test]
async fn bulk_complete_with_a_missing_id_is_404_with_missing_ids_and_changes_nothing() {
    let mut ports = Ports::signed_in().no_task_writes();
    ports.tasks.expect_get_many().times(1).returning(|_, _| Ok(vec![stored(T1, ALICE)]));
    ports
        .tasks
        .expect_owners()
        .withf(|ids| ids == [tid(T2), tid(T3)])
        .times(1)
        .returning(|_| Ok(vec![(tid(T3), uid(BOB))]));
    let answer =
        send(ports, post(&bulk_complete_url()).signed_in_as(ALICE).json(&json!({"task_ids": [T1, T2, T3]}))).await;
    answer.is(StatusCode::NOT_FOUND, missing(&[T2]));
}

#[actix_web::test]
async fn bulk_complete_with_a_foreign_id_is_403_with_forbidden_ids_and_changes_nothing() {
    let mut ports = Ports::signed_in().no_task_writes();
    ports.tasks.expect_get_many().times(1).returning(|_, _| Ok(vec![stored(T1, ALICE)]));
    ports.tasks.expect_owners().times(1).returning(|_| Ok(vec![(tid(T2), uid(BOB)), (tid(T3), uid(BOB))]));
    let answer =
        send(ports, post(&bulk_complete_url()).signed_in_as(ALICE).json(&json!({"task_ids": [T1, T2, T3]}))).await;
    answer.is(StatusCode::FORBIDDEN, foreign(&[T2, T3]));
}

#[actix_web::test]
async fn bulk_ids_are_1_to_1000_uuids() {
    let too_many: Vec<String> = (0..1001u128).map(|i| Uuid::from_u128(i + 1).to_string()).collect();
    for (body, fields) in [
        (json!({"task_ids": []}), vec![("task_ids", "must hold 1 to 1000 ids")]),
        (json!({"task_ids": too_many}), vec![("task_ids", "must hold 1 to 1000 ids")]),
        (json!({}), vec![("task_ids", "is required")]),
        (json!({"task_ids": null}), vec![("task_ids", "is required")]),
        (json!({"task_ids": T1}), vec![("task_ids", "must be an array of strings")]),
        (
            json!({"task_ids": [T1, "nope", 3]}),
            vec![("task_ids[1]", "must be a UUID"), ("task_ids[2]", "must be a string")],
        ),
    ] {
        let mut ports = Ports::signed_in().no_task_writes();
        ports.tasks.expect_get_many().never();
        let answer = send(ports, post(&bulk_complete_url()).signed_in_as(ALICE).json(&body)).await;
        answer.is(StatusCode::UNPROCESSABLE_ENTITY, invalid(&fields));
    }
}

#[actix_web::test]
async fn bulk_complete_accepts_1000_ids() {
    let ids: Vec<Uuid> = (0..1000u128).map(|i| Uuid::from_u128(i + 1)).collect();
    let found: Vec<Task> = ids.iter().map(|id| completed(*id)).collect();
    let mut ports = Ports::signed_in().no_task_writes();
    ports.tasks.expect_get_many().withf(|_, ids| ids.len() == 1000).times(1).returning(move |_, _| Ok(found.clone()));
    let answer = send(ports, post(&bulk_complete_url()).signed_in_as(ALICE).json(&json!({"task_ids": ids}))).await;
    answer.is(
        StatusCode::OK,
        json!({"message": "1000 tasks marked as completed", "updated_count": 1000, "created_count": 0}),
    );
}

#[actix_web::test]
async fn bulk_delete_by_ids_is_200_with_the_count() {
    let ports = Ports::signed_in().deletes(&[T1]);
    let answer = send(ports, post(&bulk_delete_url()).signed_in_as(ALICE).json(&json!({"task_ids": [T1, T1]}))).await;
    answer.is(StatusCode::OK, json!({"message": "1 task deleted", "deleted_count": 1}));
}

#[actix_web::test]
async fn bulk_delete_by_status_deletes_all_tasks_in_that_status() {
    for (status, expected, count, message) in [
        ("Completed", TaskStatus::Completed, 3, "3 tasks deleted"),
        ("Pending", TaskStatus::Pending, 0, "0 tasks deleted"),
    ] {
        let mut ports = Ports::signed_in();
        ports
            .tasks
            .expect_delete_with_status()
            .withf(move |user, s| *user == uid(ALICE) && *s == expected)
            .times(1)
            .returning(move |_, _| Ok(count));
        let answer = send(ports, post(&bulk_delete_url()).signed_in_as(ALICE).json(&json!({"status": status}))).await;
        answer.is(StatusCode::OK, json!({"message": message, "deleted_count": count}));
    }
}

#[actix_web::test]
async fn bulk_delete_with_both_or_neither_is_422() {
    for (body, fields) in [
        (
            json!({"task_ids": [T1], "status": "Completed"}),
            vec![("body", "must hold exactly one of task_ids and status")],
        ),
        (json!({}), vec![("body", "must hold exactly one of task_ids and status")]),
        (json!({"status": "completed"}), vec![("status", "must be one of Pending, Completed")]),
        (json!({"status": null}), vec![("status", "must not be null")]),
        (json!({"task_ids": []}), vec![("task_ids", "must hold 1 to 1000 ids")]),
    ] {
        let answer =
            send(Ports::signed_in().no_task_writes(), post(&bulk_delete_url()).signed_in_as(ALICE).json(&body)).await;
        answer.is_for(StatusCode::UNPROCESSABLE_ENTITY, invalid(&fields), &body);
    }
}

#[actix_web::test]
async fn bulk_delete_with_a_missing_id_is_404_with_missing_ids() {
    let mut ports = Ports::signed_in();
    ports.tasks.expect_delete_all().times(1).returning(|_, _| Ok(None));
    ports.tasks.expect_get_many().times(1).returning(|_, _| Ok(vec![stored(T1, ALICE)]));
    ports.tasks.expect_owners().withf(|ids| ids == [tid(T2)]).times(1).returning(|_| Ok(vec![]));
    let answer = send(ports, post(&bulk_delete_url()).signed_in_as(ALICE).json(&json!({"task_ids": [T1, T2]}))).await;
    answer.is(StatusCode::NOT_FOUND, missing(&[T2]));
}
