//! Tasks: create.

use super::*;

#[actix_web::test]
async fn create_is_201_with_location_and_the_full_task() {
    let body = json!({
        "title": "  Buy milk  ",
        "description": "2 litres",
        "priority": "high",
        "tags": [" Home ", "ERRANDS", "home"],
        "due_at": "2026-01-10T12:00:00+02:00",
        "remind_at": "2026-01-10T09:00:00Z",
        "recurrence": "weekly",
    });
    let mut ports = Ports::signed_in();
    let inserted = captures_insert(&mut ports);
    let answer = create(ports, &body).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let task = taken(&inserted);
    let id = task.id.to_string();
    assert_eq!(answer.header("location"), Some(format!("/api/{ALICE}/tasks/{id}").as_str()));
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(
        answer.json(),
        json!({
            "id": id,
            "user_id": ALICE.to_string(),
            "title": "Buy milk",
            "description": "2 litres",
            "status": "Pending",
            "priority": "high",
            "tags": ["errands", "home"],
            "due_at": "2026-01-10T10:00:00.000000Z",
            "remind_at": "2026-01-10T09:00:00.000000Z",
            "recurrence": "weekly",
            "next_occurrence_id": null,
            "version": 1,
            "created_at": "2026-01-03T10:15:30.123456Z",
            "updated_at": "2026-01-03T10:15:30.123456Z",
            "completed_at": null,
        })
    );
    assert_eq!(
        task,
        // A new weekly task: what `weekly` stores, but for its id, tags, times and creation.
        Task {
            id: task.id,
            tags: tags(&["errands", "home"]),
            due_at: Some(at("2026-01-10T10:00:00Z")),
            remind_at: Some(at("2026-01-10T09:00:00Z")),
            created_at: now(),
            updated_at: now(),
            ..weekly(T1)
        }
    );
}

#[actix_web::test]
async fn create_with_only_a_title_takes_the_defaults() {
    let nulls =
        json!({"title": "Buy milk", "description": null, "due_at": null, "remind_at": null, "recurrence": null});
    let mut ports = Ports::signed_in();
    let inserted = captures_insert(&mut ports);
    let answer = create(ports, &nulls).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let id = taken(&inserted).id.to_string();
    assert_eq!(
        answer.json(),
        json!({
            "id": id, "user_id": ALICE.to_string(), "title": "Buy milk", "description": null,
            "status": "Pending", "priority": "medium", "tags": [], "due_at": null, "remind_at": null,
            "recurrence": null, "next_occurrence_id": null, "version": 1, "created_at": NOW, "updated_at": NOW,
            "completed_at": null,
        })
    );
}

#[actix_web::test]
async fn create_title_is_required_trimmed_and_1_to_500_characters() {
    for (body, field, message) in [
        (json!({}), "title", "is required"),
        (json!({"title": null}), "title", "is required"),
        (json!({"title": ""}), "title", "must not be empty"),
        (json!({"title": " \t\n "}), "title", "must not be empty"),
        (json!({"title": "x".repeat(501)}), "title", "must be at most 500 characters"),
        (json!({"title": "é".repeat(501)}), "title", "must be at most 500 characters"),
    ] {
        let answer = create(Ports::signed_in().no_task_writes(), &body).await;
        answer.is_for(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[(field, message)]), &body);
    }
}

#[actix_web::test]
async fn create_title_of_500_multibyte_characters_is_accepted() {
    let title = "é".repeat(500);
    let ports = Ports::signed_in().inserts();
    let answer = create(ports, &json!({"title": format!("  {title}  ")})).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.json()["title"], json!(title));
}

#[actix_web::test]
async fn create_description_is_at_most_10000_characters() {
    let answer =
        create(Ports::signed_in().no_task_writes(), &json!({"title": "x", "description": "d".repeat(10_001)})).await;
    answer.is(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[("description", "must be at most 10000 characters")]));

    let ports = Ports::signed_in().inserts();
    let answer = create(ports, &json!({"title": "x", "description": "d".repeat(10_000)})).await;
    assert_eq!(answer.status, StatusCode::CREATED);
}

#[actix_web::test]
async fn create_tags_are_trimmed_lowercased_deduplicated_and_sorted() {
    let mut ports = Ports::signed_in();
    ports.tasks.expect_insert().withf(|task| task.tags == tags(&["b", "work", "äpfel"])).times(1).returning(|_| Ok(()));
    let answer = create(ports, &json!({"title": "x", "tags": ["  Work ", "work", "ÄPFEL", "b", "WORK"]})).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.json()["tags"], json!(["b", "work", "äpfel"]));
}

#[actix_web::test]
async fn create_ten_tags_with_case_duplicates_are_normalised() {
    let raw = json!(["t0", "T0", "t1", "T1", "t2", "T2", "t3", "T3", "t4", "T4"]);
    let ports = Ports::signed_in().inserts();
    let answer = create(ports, &json!({"title": "x", "tags": raw})).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.json()["tags"], json!(["t0", "t1", "t2", "t3", "t4"]));
}

#[actix_web::test]
async fn create_copies_of_one_tag_are_one_tag() {
    // "0 to 10 labels", "duplicates dropped" (after lowercasing).
    let ports = Ports::signed_in().inserts();
    let copies = json!(["home", "Home", " HOME ", "home", "hOme", "home", "home", "home", "home", "home"]);
    let answer = create(ports, &json!({"title": "x", "tags": copies})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json());
    assert_eq!(answer.json()["tags"], json!(["home"]));
}

#[actix_web::test]
async fn create_tags_are_counted_after_normalising_so_eleven_copies_are_one_tag() {
    // "each list holds at most 10 labels after normalising": the domain's one rule.
    let ports = Ports::signed_in().inserts();
    let answer = create(ports, &json!({"title": "x", "tags": vec!["home"; 11]})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json());
    assert_eq!(answer.json()["tags"], json!(["home"]));
}

#[actix_web::test]
async fn create_tags_break_their_rules_with_422() {
    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    for (tags, field, message) in [
        (json!(["a,b"]), "tags[0]", "must not contain a comma"),
        (json!(["ok", "bell\u{7}"]), "tags[1]", "must not contain control characters"),
        (json!(["next\u{85}line"]), "tags[0]", "must not contain control characters"),
        (json!(["t".repeat(51)]), "tags[0]", "must be at most 50 characters"),
        (json!(["   "]), "tags[0]", "must not be empty"),
        (json!(eleven), "tags", "must hold at most 10 tags"),
        (Value::Null, "tags", "must not be null"),
        (json!([null]), "tags[0]", "must be a string"),
    ] {
        let body = json!({"title": "x", "tags": tags});
        let answer = create(Ports::signed_in().no_task_writes(), &body).await;
        answer.is_for(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[(field, message)]), &body);
    }
}

#[actix_web::test]
async fn create_tag_of_50_multibyte_characters_is_accepted() {
    let ports = Ports::signed_in().inserts();
    let answer = create(ports, &json!({"title": "x", "tags": ["ü".repeat(50)]})).await;
    assert_eq!(answer.status, StatusCode::CREATED);
}

#[actix_web::test]
async fn create_priority_and_recurrence_are_accepted_only_in_lower_case() {
    let refused = [
        ("priority", &["High", "HIGH", ""][..], "must be one of low, medium, high"),
        ("recurrence", &["Weekly", "biweekly"][..], "must be one of daily, weekly, monthly, yearly"),
    ];
    for (field, values, message) in refused {
        for value in values {
            let body = json!({"title": "x", "due_at": "2026-01-10T10:00:00Z", field: value});
            let answer = create(Ports::signed_in().no_task_writes(), &body).await;
            answer.is_for(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[(field, message)]), &body);
        }
    }
    for (priority, recurrence) in [("low", "daily"), ("medium", "monthly"), ("high", "yearly")] {
        let ports = Ports::signed_in().inserts();
        let body =
            json!({"title": "x", "due_at": "2026-01-10T10:00:00Z", "priority": priority, "recurrence": recurrence});
        let answer = create(ports, &body).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{body}");
        assert_eq!(
            (answer.json()["priority"].clone(), answer.json()["recurrence"].clone()),
            (json!(priority), json!(recurrence))
        );
    }
}

#[actix_web::test]
async fn create_priority_and_tags_are_not_nullable() {
    let answer =
        create(Ports::signed_in().no_task_writes(), &json!({"title": "x", "priority": null, "tags": null})).await;
    answer.is(
        StatusCode::UNPROCESSABLE_ENTITY,
        invalid(&[("priority", "must not be null"), ("tags", "must not be null")]),
    );
}

#[actix_web::test]
async fn create_remind_at_after_due_at_is_422() {
    let answer = create(
        Ports::signed_in().no_task_writes(),
        &json!({"title": "x", "due_at": "2026-01-10T10:00:00Z", "remind_at": "2026-01-10T12:00:00+01:00"}),
    )
    .await;
    answer.is(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[("remind_at", "remind_at must not be after due_at")]));
}

#[actix_web::test]
async fn create_remind_at_equal_to_due_at_or_without_due_at_is_accepted() {
    for body in [
        json!({"title": "x", "due_at": "2026-01-10T10:00:00Z", "remind_at": "2026-01-10T11:00:00+01:00"}),
        json!({"title": "x", "remind_at": "2026-01-10T10:00:00Z"}),
    ] {
        let ports = Ports::signed_in().inserts();
        let answer = create(ports, &body).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{body}");
        assert_eq!(answer.json()["remind_at"], json!("2026-01-10T10:00:00.000000Z"), "{body}");
    }
}

#[actix_web::test]
async fn create_recurrence_without_due_at_is_422() {
    let answer = create(Ports::signed_in().no_task_writes(), &json!({"title": "x", "recurrence": "daily"})).await;
    answer.is(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[("recurrence", "a recurring task needs a due_at")]));
}

#[actix_web::test]
async fn create_timestamps_must_carry_an_offset() {
    for value in ["2026-01-10", "2026-01-10T10:00:00", "2026-01-10 10:00:00", "10:00:00Z", "tomorrow", ""] {
        let body = json!({"title": "x", "due_at": value, "remind_at": value});
        let answer = create(Ports::signed_in().no_task_writes(), &body).await;
        answer.is_for(
            StatusCode::UNPROCESSABLE_ENTITY,
            invalid(&[("due_at", TIMESTAMP_RULE), ("remind_at", TIMESTAMP_RULE)]),
            value,
        );
    }
}

#[actix_web::test]
async fn create_for_another_user_is_403() {
    let answer = send(
        Ports::signed_in().no_task_writes(),
        post(&tasks_url(BOB)).signed_in_as(ALICE).json(&json!({"title": "x"})),
    )
    .await;
    answer.is(StatusCode::FORBIDDEN, not_yours());
}
