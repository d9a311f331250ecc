//! Tasks: the list.

use super::*;

/// `list` receives exactly `expected` once and returns `tasks`; `count_by_status` says
/// 1 pending and 1 completed.
fn lists(ports: &mut Ports, expected: TaskQuery, tasks: Vec<Task>) {
    ports
        .tasks
        .expect_list()
        .withf(move |user, query| *user == uid(ALICE) && *query == expected)
        .times(1)
        .returning(move |_, _| Ok(tasks.clone()));
    ports.tasks.expect_count_by_status().times(1).returning(|_| Ok(StatusCounts { pending: 1, completed: 1 }));
}

fn query(filter: TaskFilter, key: SortKey, direction: Direction) -> TaskQuery {
    TaskQuery { filter, order: TaskOrder { key, direction }, after: None, limit: 1001 }
}

#[actix_web::test]
async fn list_without_parameters_is_every_task_newest_first() {
    let (first, second) = (stored(T2, ALICE), completed(T1));
    let mut ports = Ports::signed_in();
    lists(
        &mut ports,
        query(TaskFilter::default(), SortKey::CreatedAt, Direction::Desc),
        vec![first.clone(), second.clone()],
    );
    ports.tasks.expect_count().never();
    let answer = send(ports, get(&tasks_url(ALICE)).signed_in_as(ALICE)).await;
    answer.is(
        StatusCode::OK,
        json!({
            "tasks": [task_json(&first), task_json(&second)],
            "total": 2, "pending_count": 1, "completed_count": 1, "next_cursor": null,
        }),
    );
}

#[actix_web::test]
async fn list_status_accepts_its_spellings_and_total_counts_the_status() {
    for (value, status, total) in [
        ("Pending", Some(TaskStatus::Pending), 1),
        ("pending", Some(TaskStatus::Pending), 1),
        ("Completed", Some(TaskStatus::Completed), 1),
        ("completed", Some(TaskStatus::Completed), 1),
        ("All", None, 2),
        ("all", None, 2),
    ] {
        let mut ports = Ports::signed_in();
        let filter = TaskFilter { status, ..TaskFilter::default() };
        lists(&mut ports, query(filter, SortKey::CreatedAt, Direction::Desc), vec![]);
        ports.tasks.expect_count().never();
        let answer = send(ports, get(&format!("{}?status={value}", tasks_url(ALICE))).signed_in_as(ALICE)).await;
        answer.is_for(
            StatusCode::OK,
            json!({"tasks": [], "total": total, "pending_count": 1, "completed_count": 1, "next_cursor": null}),
            value,
        );
    }
}

#[actix_web::test]
async fn list_passes_every_filter_to_the_repository_and_counts_the_matches() {
    let mut ports = Ports::signed_in();
    let filter = TaskFilter {
        status: Some(TaskStatus::Pending),
        search: Some(SearchTerm::parse("Milk").unwrap()),
        priorities: vec![Priority::Low, Priority::High],
        tags: vec![Tag::parse("urgent").unwrap(), Tag::parse("work").unwrap()],
        due_after: Some(at("2026-01-01T00:00:00Z")),
        due_before: Some(at("2026-02-01T00:00:00Z")),
        overdue_at: Some(now()),
    };
    let expected = TaskQuery { limit: 11, ..query(filter, SortKey::DueAt, Direction::Asc) };
    lists(&mut ports, expected.clone(), vec![]);
    ports.tasks.expect_count().withf(move |_, q| *q == expected).times(1).returning(|_, _| Ok(7));
    let url = format!(
        "{}?status=pending&q=%20Milk%20&priority=high,low,high&tag=Work&tag=urgent&tag=work\
         &due_after=2026-01-01T01:00:00%2B01:00&due_before=2026-02-01T00:00:00Z&overdue=true&sort=due_at&limit=10",
        tasks_url(ALICE)
    );
    let answer = send(ports, get(&url).signed_in_as(ALICE)).await;
    answer.is(
        StatusCode::OK,
        json!({"tasks": [], "total": 7, "pending_count": 1, "completed_count": 1, "next_cursor": null}),
    );
}

#[actix_web::test]
async fn list_sort_keys_have_their_default_directions() {
    for (params, key, direction) in [
        ("sort=created_at", SortKey::CreatedAt, Direction::Desc),
        ("sort=updated_at", SortKey::UpdatedAt, Direction::Desc),
        ("sort=priority", SortKey::Priority, Direction::Desc),
        ("sort=due_at", SortKey::DueAt, Direction::Asc),
        ("sort=title", SortKey::Title, Direction::Asc),
        ("sort=title&order=desc", SortKey::Title, Direction::Desc),
        ("order=asc", SortKey::CreatedAt, Direction::Asc),
        ("overdue=false", SortKey::CreatedAt, Direction::Desc),
    ] {
        let mut ports = Ports::signed_in();
        lists(&mut ports, query(TaskFilter::default(), key, direction), vec![]);
        let answer = send(ports, get(&format!("{}?{params}", tasks_url(ALICE))).signed_in_as(ALICE)).await;
        assert_eq!(answer.status, StatusCode::OK, "{params}");
    }
}

#[actix_web::test]
async fn list_every_malformed_parameter_is_422_naming_it() {
    let malformed_timestamp = ("due_after", TIMESTAMP_RULE);
    for (params, field, message) in [
        ("status=PENDING", "status", "must be one of Pending, Completed, All"),
        ("status=", "status", "must be one of Pending, Completed, All"),
        ("status=done", "status", "must be one of Pending, Completed, All"),
        ("q=", "q", "must not be empty"),
        ("q=%20%20", "q", "must not be empty"),
        ("q=a%00b", "q", "must not contain the character U+0000"),
        ("priority=high,", "priority", "must be one of low, medium, high"),
        ("priority=High", "priority", "must be one of low, medium, high"),
        ("priority=", "priority", "must be one of low, medium, high"),
        ("tag=", "tag", "must not be empty"),
        ("tag=a,b", "tag", "must not contain a comma"),
        ("overdue=maybe", "overdue", "must be true or false"),
        ("overdue=", "overdue", "must be true or false"),
        ("sort=", "sort", "must be one of created_at, updated_at, due_at, priority, title"),
        ("sort=nope", "sort", "must be one of created_at, updated_at, due_at, priority, title"),
        ("sort=Title", "sort", "must be one of created_at, updated_at, due_at, priority, title"),
        ("order=up", "order", "must be one of asc, desc"),
        ("order=DESC", "order", "must be one of asc, desc"),
        ("limit=0", "limit", "must be a whole number from 1 to 1000"),
        ("limit=1001", "limit", "must be a whole number from 1 to 1000"),
        ("limit=abc", "limit", "must be a whole number from 1 to 1000"),
        ("limit=-1", "limit", "must be a whole number from 1 to 1000"),
        ("limit=", "limit", "must be a whole number from 1 to 1000"),
        ("due_after=2026-01-01", malformed_timestamp.0, malformed_timestamp.1),
        ("due_before=2026-01-01T10:00:00", "due_before", TIMESTAMP_RULE),
        ("colour=red", "colour", "is not a known query parameter"),
        ("status=all&status=pending", "status", "must be given at most once"),
        ("limit=5&limit=5", "limit", "must be given at most once"),
        ("cursor=", "cursor", "must not be empty"),
        ("cursor=abc", "cursor", "is not a cursor of this API"),
        ("cursor=AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cursor", "is not a cursor of this API"),
    ] {
        let mut ports = Ports::signed_in();
        ports.tasks.expect_list().never();
        ports.tasks.expect_count().never();
        ports.tasks.expect_count_by_status().never();
        let answer = send(ports, get(&format!("{}?{params}", tasks_url(ALICE))).signed_in_as(ALICE)).await;
        answer.is_for(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[(field, message)]), params);
    }
}

#[actix_web::test]
async fn list_several_bad_parameters_give_several_details_entries() {
    let mut ports = Ports::signed_in();
    ports.tasks.expect_list().never();
    let answer = send(ports, get(&format!("{}?status=x&limit=0&foo=1", tasks_url(ALICE))).signed_in_as(ALICE)).await;
    answer.is(
        StatusCode::UNPROCESSABLE_ENTITY,
        invalid(&[
            ("status", "must be one of Pending, Completed, All"),
            ("limit", "must be a whole number from 1 to 1000"),
            ("foo", "is not a known query parameter"),
        ]),
    );
}

#[actix_web::test]
async fn list_pages_with_next_cursor_and_refuses_it_for_another_query() {
    let (first, second) = (stored(T3, ALICE), stored(T2, ALICE));
    let mut ports = Ports::signed_in();
    let page_one = vec![first.clone(), second.clone()];
    ports
        .tasks
        .expect_list()
        .withf(|_, q| q.after.is_none() && q.limit == 2)
        .times(1)
        .returning(move |_, _| Ok(page_one.clone()));
    let position = TaskOrder::default().position_of(&first);
    let page_two = vec![second.clone()];
    ports
        .tasks
        .expect_list()
        .withf(move |_, q| q.after.as_ref() == Some(&position) && q.limit == 2)
        .times(1)
        .returning(move |_, _| Ok(page_two.clone()));
    ports.tasks.expect_count_by_status().times(2).returning(|_| Ok(StatusCounts { pending: 2, completed: 0 }));
    let app = test::init_service(app(state(ports), cors())).await;

    let answer = call(&app, get(&format!("{}?limit=1", tasks_url(ALICE))).signed_in_as(ALICE).to_request()).await;
    assert_eq!(answer.status, StatusCode::OK);
    let mut body = answer.json();
    let cursor = body["next_cursor"].as_str().expect("a next_cursor on a full page").to_owned();
    body["next_cursor"] = json!("<cursor>");
    assert_eq!(
        body,
        json!({"tasks": [task_json(&first)], "total": 2, "pending_count": 2, "completed_count": 0, "next_cursor": "<cursor>"})
    );

    let answer =
        call(&app, get(&format!("{}?limit=1&cursor={cursor}", tasks_url(ALICE))).signed_in_as(ALICE).to_request())
            .await;
    let last_page = json!({
        "tasks": [task_json(&second)], "total": 2, "pending_count": 2, "completed_count": 0, "next_cursor": null,
    });
    answer.is(StatusCode::OK, last_page);

    for other in ["sort=title", "order=asc", "status=pending", "q=milk"] {
        let url = format!("{}?limit=1&cursor={cursor}&{other}", tasks_url(ALICE));
        let answer = call(&app, get(&url).signed_in_as(ALICE).to_request()).await;
        answer.is_for(
            StatusCode::UNPROCESSABLE_ENTITY,
            invalid(&[("cursor", "belongs to a different query (sort, order or filter changed)")]),
            other,
        );
    }
}
