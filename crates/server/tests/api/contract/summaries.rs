//! Tasks: statistics, reminders, tags.

use super::*;

/// Alice's statistics when the repository counts `counts` for her, now.
async fn statistics(counts: TaskCounts) -> Answer {
    let mut ports = Ports::signed_in();
    ports
        .tasks
        .expect_counts()
        .withf(|user, at| *user == uid(ALICE) && *at == now())
        .times(1)
        .returning(move |_, _| Ok(counts));
    send(ports, get(&statistics_url(ALICE)).signed_in_as(ALICE)).await
}

#[actix_web::test]
async fn statistics_is_200_with_exactly_the_contracts_counts() {
    let by_status = StatusCounts { pending: 3, completed: 2 };
    let counts =
        TaskCounts { by_status, overdue: 1, due_next_24h: 1, pending_low: 0, pending_medium: 2, pending_high: 1 };
    let answer = statistics(counts).await;
    answer.is(
        StatusCode::OK,
        json!({
            "total": 5, "pending": 3, "completed": 2, "completion_rate": 0.4, "overdue": 1,
            "due_next_24h": 1, "pending_by_priority": {"low": 0, "medium": 2, "high": 1},
        }),
    );
}

#[actix_web::test]
async fn statistics_completion_rate_is_0_without_tasks() {
    let none = json!({
        "total": 0, "pending": 0, "completed": 0, "completion_rate": 0.0, "overdue": 0, "due_next_24h": 0,
        "pending_by_priority": {"low": 0, "medium": 0, "high": 0},
    });
    statistics(TaskCounts::default()).await.is(StatusCode::OK, none);
}

#[actix_web::test]
async fn reminders_are_the_due_pending_tasks_at_most_100() {
    let due = Task { remind_at: Some(at("2026-01-03T10:00:00Z")), ..stored(T1, ALICE) };
    let returned = due.clone();
    let mut ports = Ports::signed_in();
    ports
        .tasks
        .expect_due_reminders()
        .withf(|user, at, limit| *user == uid(ALICE) && *at == now() && *limit == 100)
        .times(1)
        .returning(move |_, _, _| Ok(vec![returned.clone()]));
    let answer = send(ports, get(&format!("{}/reminders", tasks_url(ALICE))).signed_in_as(ALICE)).await;
    answer.is(StatusCode::OK, json!({"tasks": [task_json(&due)]}));
}

#[actix_web::test]
async fn tags_lists_every_tag_with_its_count() {
    let mut ports = Ports::signed_in();
    ports.tasks.expect_tag_counts().withf(|user| *user == uid(ALICE)).times(1).returning(|_| {
        Ok(vec![
            TagCount { tag: Tag::parse("home").unwrap(), count: 3 },
            TagCount { tag: Tag::parse("work").unwrap(), count: 1 },
        ])
    });
    let answer = send(ports, get(&format!("/api/{ALICE}/tags")).signed_in_as(ALICE)).await;
    answer.is(StatusCode::OK, json!({"tags": [{"name": "home", "count": 3}, {"name": "work", "count": 1}]}));
}
