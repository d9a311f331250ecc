//! Every scenario, written once for either backend.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::{Method, StatusCode, header};
use actix_web::test::TestRequest;
use actix_web::web::Bytes;
use chrono::{TimeDelta, Utc};
use futures_util::FutureExt as _;
use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

pub use super::sync::{
    a_chosen_id_is_kept_and_a_taken_one_is_409_for_anyone, concurrent_taggers_and_editors_all_win,
    two_writers_of_one_version_get_exactly_one_200_and_one_412,
};

use super::support::{
    Backend, PASSWORD, Reply, Request, api, api_with_ann_and_bob, assert_time, expected_task, generic, id, ids, query,
    reference_order, task_routes, time, uuid,
};

/// The journey of a first-time user: register, create a task, list, complete, sign
/// out; the token is then refused on every route.
pub async fn the_journey_ends_with_the_token_revoked_on_every_route(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let api = api(&database).await;

    let ann = api.register("  Ann@Example.COM ").await;
    // The email is stored trimmed and lowercased, and found that way at login.
    let login = api.login(" ANN@example.com", PASSWORD).await;
    super::support::check_auth_response(login.ok(), "ann@example.com");
    assert_eq!(login.body["user_id"], ann.id.as_str());

    let created = api
        .create(&ann, json!({"title": "  Buy milk ", "description": "2 litres", "tags": ["Home", "home", "errands"]}))
        .await;
    assert_eq!(
        generic(&created),
        expected_task(&ann, &json!({"title": "Buy milk", "description": "2 litres", "tags": ["errands", "home"]}))
    );
    assert_eq!(created["created_at"], created["updated_at"]);
    let task_id = id(&created);

    let list = api.get(&ann.tasks(), &ann.token).await;
    assert_eq!(
        list.ok(),
        &json!({"tasks": [created], "total": 1, "pending_count": 1, "completed_count": 0, "next_cursor": null})
    );

    let completed = api.complete(&ann, &task_id, None).await;
    let completed = completed.ok();
    assert_eq!(
        generic(completed),
        expected_task(
            &ann,
            &json!({"title": "Buy milk", "description": "2 litres", "tags": ["errands", "home"],
                    "status": "Completed", "completed_at": "<generated>", "version": 2})
        )
    );
    assert_eq!(completed["id"], created["id"]);
    assert_eq!(completed["created_at"], created["created_at"]);
    assert!(time(&completed["updated_at"]) >= time(&created["updated_at"]));
    assert!(time(&completed["completed_at"]) >= time(&created["created_at"]));
    assert_eq!(&api.task(&ann, &task_id).await, completed);
    let list = api.get(&ann.tasks(), &ann.token).await;
    assert_eq!(
        list.ok(),
        &json!({"tasks": [completed], "total": 1, "pending_count": 0, "completed_count": 1, "next_cursor": null})
    );

    let logout = api.post("/auth/logout", &ann.token, &json!({})).await;
    assert_eq!(logout.ok(), &json!({"message": "signed out"}));

    let mut routes = task_routes(&ann.id, &task_id);
    routes.push(super::support::Route { method: Method::GET, path: "/auth/me".into(), body: None });
    routes.push(super::support::Route { method: Method::POST, path: "/auth/logout".into(), body: None });
    for route in &routes {
        let reply = api.route(route, &ann.token).await;
        assert_eq!(reply.error(StatusCode::UNAUTHORIZED, "TOKEN_REVOKED"), &Value::Null, "{route:?}");
    }
    // Nothing was changed by the refused requests.
    let other_token = login.body["access_token"].as_str().unwrap();
    let list = api.get(&ann.tasks(), other_token).await;
    assert_eq!(list.ok()["tasks"], json!([completed]));
}

/// User A can neither read nor change user B's tasks, on any route, by B's path or by
/// B's task ids on A's own path; B's data is byte for byte the same afterwards.
pub async fn no_route_lets_a_user_reach_another_users_tasks(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let api = api(&database).await;
    let a = api.register("a@example.com").await;
    let b = api.register("b@example.com").await;

    let past = (Utc::now() - TimeDelta::hours(1)).to_rfc3339();
    let a_task = api.create(&a, json!({"title": "A's own", "tags": ["mine"], "remind_at": past})).await;
    let b_task = api
        .create(&b, json!({"title": "B's secret", "tags": ["private"], "priority": "high", "remind_at": past}))
        .await;
    let b_done = api.create(&b, json!({"title": "B's done", "tags": ["private", "x"]})).await;
    api.complete(&b, &id(&b_done), None).await.ok();
    let b_recurring =
        api.create(&b, json!({"title": "B's weekly", "due_at": "2040-01-01T10:00:00Z", "recurrence": "weekly"})).await;
    let b_ids = [id(&b_task), id(&b_done), id(&b_recurring)];

    let b_views = [
        b.tasks(),
        format!("{}/statistics", b.tasks()),
        format!("{}/reminders", b.tasks()),
        format!("/api/{}/tags", b.id),
    ];
    let mut before = Vec::new();
    for path in &b_views {
        before.push(api.get(path, &b.token).await.bytes);
    }

    // A's token on B's path: 403 whatever the route, the task or the body.
    for task_id in &b_ids {
        for route in task_routes(&b.id, task_id) {
            let reply = api.route(&route, &a.token).await;
            assert_eq!(reply.error(StatusCode::FORBIDDEN, "FORBIDDEN"), &Value::Null, "{route:?}");
        }
    }
    // The path's user is checked before the body.
    let reply = api.post(&b.tasks(), &a.token, &json!({"title": ""})).await;
    reply.error(StatusCode::FORBIDDEN, "FORBIDDEN");

    // A's token on A's path with B's task ids: 403 too.
    for task_id in &b_ids {
        for route in task_routes(&a.id, task_id) {
            let single_task = route.path.contains(task_id.as_str());
            let names_ids = route.body.as_ref().is_some_and(|body| body.get("task_ids").is_some());
            if !single_task && !names_ids {
                continue; // the collection routes on A's path are A's own; checked below
            }
            let reply = api.route(&route, &a.token).await;
            let details = reply.error(StatusCode::FORBIDDEN, "FORBIDDEN");
            if names_ids {
                assert_eq!(details, &json!({"forbidden_ids": [task_id]}), "{route:?}");
            } else {
                assert_eq!(details, &Value::Null, "{route:?}");
            }
        }
    }
    let both = json!({"task_ids": [id(&a_task), b_ids[0], b_ids[1]]});
    for action in ["complete", "delete"] {
        let reply = api.post(&format!("{}/bulk/{action}", a.tasks()), &a.token, &both).await;
        let details = reply.error(StatusCode::FORBIDDEN, "FORBIDDEN");
        let forbidden: BTreeSet<&str> =
            details["forbidden_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(forbidden, BTreeSet::from([b_ids[0].as_str(), b_ids[1].as_str()]), "{action}");
    }

    // A's collection routes show A's tasks only.
    let a_now = api.task(&a, &id(&a_task)).await;
    assert_eq!(a_now, a_task, "the refused bulk requests changed A's task");
    let list = api.get(&a.tasks(), &a.token).await;
    assert_eq!(
        list.ok(),
        &json!({"tasks": [a_task], "total": 1, "pending_count": 1, "completed_count": 0, "next_cursor": null})
    );
    let search = api.list(&a, "q=secret").await;
    assert_eq!(search.ok()["tasks"], json!([]));
    let reminders = api.get(&format!("{}/reminders", a.tasks()), &a.token).await;
    assert_eq!(reminders.ok(), &json!({"tasks": [a_task]}));
    let tags = api.get(&format!("/api/{}/tags", a.id), &a.token).await;
    assert_eq!(tags.ok(), &json!({"tags": [{"name": "mine", "count": 1}]}));
    let statistics = api.get(&format!("{}/statistics", a.tasks()), &a.token).await;
    assert_eq!(
        statistics.ok(),
        &json!({"total": 1, "pending": 1, "completed": 0, "completion_rate": 0.0, "overdue": 0,
                "due_next_24h": 0, "pending_by_priority": {"low": 0, "medium": 1, "high": 0}})
    );
    // Deleting by status on A's path deletes A's tasks only.
    for status in ["Pending", "Completed"] {
        let reply = api.post(&format!("{}/bulk/delete", a.tasks()), &a.token, &json!({"status": status})).await;
        let deleted = usize::from(status == "Pending");
        assert_eq!(
            reply.ok(),
            &json!({"message": format!("{deleted} task{} deleted", if deleted == 1 { "" } else { "s" }),
                    "deleted_count": deleted})
        );
    }
    assert_eq!(api.all_tasks(&a).await, Vec::<Value>::new());

    for (path, before) in b_views.iter().zip(before) {
        let after = api.get(path, &b.token).await;
        assert_eq!(after.status, StatusCode::OK);
        assert_eq!(String::from_utf8_lossy(&after.bytes), String::from_utf8_lossy(&before), "{path} changed");
    }
}

/// Signing out revokes that token only; signing out twice with it is refused.
pub async fn logout_revokes_only_that_token(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let api = api(&database).await;
    let first = api.register("ann@example.com").await;
    let second = api.login("ann@example.com", PASSWORD).await;
    let second = super::support::check_auth_response(second.ok(), "ann@example.com");
    assert_ne!(first.token, second.token);
    let other_user = api.register("bob@example.com").await;

    let logout = api.post("/auth/logout", &first.token, &json!({})).await;
    assert_eq!(logout.ok(), &json!({"message": "signed out"}));

    api.get("/auth/me", &first.token).await.error(StatusCode::UNAUTHORIZED, "TOKEN_REVOKED");
    api.get(&first.tasks(), &first.token).await.error(StatusCode::UNAUTHORIZED, "TOKEN_REVOKED");
    assert_eq!(api.get("/auth/me", &second.token).await.ok()["id"], second.id.as_str());
    api.create(&second, json!({"title": "Still signed in"})).await;
    assert_eq!(api.get("/auth/me", &other_user.token).await.ok()["id"], other_user.id.as_str());

    // The second sign-out with the same token is refused.
    api.post("/auth/logout", &first.token, &json!({})).await.error(StatusCode::UNAUTHORIZED, "TOKEN_REVOKED");
    // Without a token, or with a forged one: 401 UNAUTHORIZED.
    api.post("/auth/logout", "", &json!({})).await.error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let forged = format!("{}x", second.token);
    api.post("/auth/logout", &forged, &json!({})).await.error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert_eq!(api.get("/auth/me", &second.token).await.ok()["id"], second.id.as_str());

    // And the second token can sign out on its own.
    api.post("/auth/logout", &second.token, &json!({})).await.ok();
    api.get("/auth/me", &second.token).await.error(StatusCode::UNAUTHORIZED, "TOKEN_REVOKED");
    assert_eq!(api.get("/auth/me", &other_user.token).await.ok()["id"], other_user.id.as_str());
}

/// Two server instances over one database: a token of one works on the other, and a
/// sign-out on one is refused by the other at once.
pub async fn instances_over_one_database_share_tokens_and_revocations(backend: Backend) {
    let Some((first_database, second_database)) = backend.two_handles().await else { return };
    let first = api(&first_database).await;
    let second = api(&second_database).await;

    let ann = first.register("ann@example.com").await;
    assert_eq!(second.get("/auth/me", &ann.token).await.ok()["id"], ann.id.as_str());
    let task = first.create(&ann, json!({"title": "Made on the first"})).await;
    assert_eq!(second.task(&ann, &id(&task)).await, task);
    let done = second.complete(&ann, &id(&task), None).await;
    assert_eq!(first.task(&ann, &id(&task)).await, done.ok().clone());

    // A token signed in on the second works on the first.
    let login = second.login("ann@example.com", PASSWORD).await;
    let other = super::support::check_auth_response(login.ok(), "ann@example.com");
    assert_eq!(first.get("/auth/me", &other.token).await.ok()["id"], ann.id.as_str());

    second.post("/auth/logout", &ann.token, &json!({})).await.ok();
    first.get("/auth/me", &ann.token).await.error(StatusCode::UNAUTHORIZED, "TOKEN_REVOKED");
    first.get(&ann.tasks(), &ann.token).await.error(StatusCode::UNAUTHORIZED, "TOKEN_REVOKED");
    second.get(&ann.tasks(), &ann.token).await.error(StatusCode::UNAUTHORIZED, "TOKEN_REVOKED");
    assert_eq!(first.get("/auth/me", &other.token).await.ok()["id"], ann.id.as_str());

    first.post("/auth/logout", &other.token, &json!({})).await.ok();
    second.get("/auth/me", &other.token).await.error(StatusCode::UNAUTHORIZED, "TOKEN_REVOKED");

    // Failed logins count across instances.
    for attempt in 0..10 {
        let instance = if attempt % 2 == 0 { &first } else { &second };
        let reply = instance.login("ann@example.com", "wrong password 1").await;
        reply.error(StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS");
    }
    first.login("ann@example.com", PASSWORD).await.error(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    second.login("ann@example.com", PASSWORD).await.error(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");

    // A registration on one is an existing email on the other.
    let again = second
        .post("/auth/register", "", &json!({"email": " ANN@example.com", "password": PASSWORD, "name": null}))
        .await;
    again.error(StatusCode::BAD_REQUEST, "EMAIL_ALREADY_REGISTERED");
}

/// Bulk requests are all or nothing: one missing id is a 404 naming it, one id of
/// another user a 403 naming it, and then no task changed.
pub async fn bulk_requests_with_a_bad_id_change_nothing(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let (api, ann, bob) = api_with_ann_and_bob(&database).await;

    let plain = api.create(&ann, json!({"title": "Plain"})).await;
    let recurring =
        api.create(&ann, json!({"title": "Recurring", "due_at": "2026-05-01T08:00:00Z", "recurrence": "daily"})).await;
    let done = api.create(&ann, json!({"title": "Done"})).await;
    api.complete(&ann, &id(&done), None).await.ok();
    let bobs = api.create(&bob, json!({"title": "Bob's"})).await;
    let missing = uuid::Uuid::new_v4().to_string();

    let ann_before = api.all_tasks(&ann).await;
    let bob_before = api.all_tasks(&bob).await;
    assert_eq!(ann_before.len(), 3);
    let unchanged = async || {
        assert_eq!(api.all_tasks(&ann).await, ann_before);
        assert_eq!(api.all_tasks(&bob).await, bob_before);
        for task in &ann_before {
            assert_eq!(&api.task(&ann, &id(task)).await, task);
        }
    };

    let (plain, recurring, done, bobs) = (id(&plain), id(&recurring), id(&done), id(&bobs));
    for action in ["complete", "delete"] {
        let path = format!("{}/bulk/{action}", ann.tasks());
        let body = json!({"task_ids": [plain, recurring, missing, done]});
        let reply = api.post(&path, &ann.token, &body).await;
        assert_eq!(reply.error(StatusCode::NOT_FOUND, "NOT_FOUND"), &json!({"missing_ids": [missing]}));
        unchanged().await;

        let body = json!({"task_ids": [plain, recurring, bobs]});
        let reply = api.post(&path, &ann.token, &body).await;
        assert_eq!(reply.error(StatusCode::FORBIDDEN, "FORBIDDEN"), &json!({"forbidden_ids": [bobs]}));
        unchanged().await;

        // Missing ids are reported before forbidden ones.
        let body = json!({"task_ids": [bobs, plain, missing]});
        let reply = api.post(&path, &ann.token, &body).await;
        assert_eq!(reply.error(StatusCode::NOT_FOUND, "NOT_FOUND"), &json!({"missing_ids": [missing]}));
        unchanged().await;
    }

    // The same ids without the bad one go through; duplicates count once.
    let path = format!("{}/bulk/complete", ann.tasks());
    let reply = api.post(&path, &ann.token, &json!({"task_ids": [plain, recurring, plain, done]})).await;
    assert_eq!(reply.ok(), &json!({"message": "3 tasks marked as completed", "updated_count": 3, "created_count": 1}));
    let path = format!("{}/bulk/delete", ann.tasks());
    let reply = api.post(&path, &ann.token, &json!({"task_ids": [plain, plain]})).await;
    assert_eq!(reply.ok(), &json!({"message": "1 task deleted", "deleted_count": 1}));
    let reply = api.post(&path, &ann.token, &json!({"task_ids": [recurring, done]})).await;
    assert_eq!(reply.ok(), &json!({"message": "2 tasks deleted", "deleted_count": 2}));
    // The next occurrence of the recurring task is all that is left.
    let left = api.all_tasks(&ann).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["title"], "Recurring");
    assert_time(&left[0]["due_at"], "2026-05-02T08:00:00Z");
    assert_eq!(api.all_tasks(&bob).await, bob_before);
}

/// The query of `pairs`, and then of `cursor` if there is one.
fn paged<'a>(pairs: &[(&'a str, &'a str)], cursor: Option<&'a str>) -> String {
    let mut pairs = pairs.to_vec();
    pairs.extend(cursor.map(|cursor| ("cursor", cursor)));
    query(&pairs)
}

/// A list's `total`, `pending_count` and `completed_count`.
fn counts(body: &Value) -> Value {
    json!([body["total"], body["pending_count"], body["completed_count"]])
}

/// Following `next_cursor` visits every task exactly once, in the contract's order,
/// for every sort; the counts are right on every page.
pub async fn paging_visits_every_task_once_in_order(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let (api, ann, bob) = api_with_ann_and_bob(&database).await;
    api.create(&bob, json!({"title": "Bob's"})).await;

    let mut tasks: BTreeMap<String, Value> = BTreeMap::new();
    for i in 0..25_usize {
        let title = match i % 5 {
            0 => format!("alpha {:02}", 24 - i),
            1 => format!("Alpha {:02}", 24 - i),
            2 => "Same".to_owned(),
            3 => "same".to_owned(),
            _ => format!("BETA {i:02}"),
        };
        // Every fourth task has no due date; the others share a few dates.
        let due_at = if i % 4 == 0 { Value::Null } else { json!(format!("2030-01-{:02}T09:00:00Z", 1 + (i * 7) % 6)) };
        let priority = ["low", "medium", "high"][i % 3];
        let task = api.create(&ann, json!({"title": title, "due_at": due_at, "priority": priority})).await;
        tasks.insert(id(&task), task);
    }
    for task_id in tasks.keys().step_by(5).cloned().collect::<Vec<_>>() {
        let done = api.complete(&ann, &task_id, None).await;
        tasks.insert(task_id, done.ok().clone());
    }

    for (sort, order, descending) in [
        ("", "", true),
        ("created_at", "asc", false),
        ("updated_at", "", true),
        ("title", "", false),
        ("title", "desc", true),
        ("due_at", "", false),
        ("due_at", "desc", true),
        ("priority", "asc", false),
        ("priority", "", true),
    ] {
        let mut expected: Vec<Value> = tasks.values().cloned().collect();
        reference_order(&mut expected, if sort.is_empty() { "created_at" } else { sort }, descending);
        let mut pairs = vec![("limit", "7")];
        if !sort.is_empty() {
            pairs.push(("sort", sort));
        }
        if !order.is_empty() {
            pairs.push(("order", order));
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for page in 0..10 {
            let reply = api.list(&ann, &paged(&pairs, cursor.as_deref())).await;
            let body = reply.ok();
            assert_eq!(counts(body), json!([25, 20, 5]), "{sort} {order}");
            let page_tasks = body["tasks"].as_array().unwrap();
            let last = body["next_cursor"].is_null();
            assert_eq!(page_tasks.len(), if last { 4 } else { 7 }, "{sort} {order} page {page}");
            seen.extend(page_tasks.iter().cloned());
            if last {
                break;
            }
            cursor = Some(body["next_cursor"].as_str().unwrap().to_owned());
        }
        assert_eq!(ids(&Value::from(seen.clone())), ids(&Value::from(expected.clone())), "{sort} {order}");
        assert_eq!(seen, expected, "{sort} {order}");
    }

    // Tasks without a due date come last in both directions.
    let by_due = api.ids(&ann, "sort=due_at", 25).await;
    let by_due_desc = api.ids(&ann, "sort=due_at&order=desc", 25).await;
    let undated: BTreeSet<String> = tasks.values().filter(|task| task["due_at"].is_null()).map(id).collect();
    assert_eq!(undated.len(), 7);
    for order in [&by_due, &by_due_desc] {
        assert_eq!(order[18..].iter().cloned().collect::<BTreeSet<_>>(), undated);
    }

    // A filtered listing: `total` counts the matches, the status counts all tasks.
    let mut completed = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let reply = api.list(&ann, &paged(&[("status", "Completed"), ("limit", "2")], cursor.as_deref())).await;
        let body = reply.ok();
        assert_eq!(counts(body), json!([5, 20, 5]));
        completed.extend(ids(&body["tasks"]));
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let mut expected: Vec<Value> = tasks.values().filter(|t| t["status"] == "Completed").cloned().collect();
    reference_order(&mut expected, "created_at", true);
    assert_eq!(completed, ids(&Value::from(expected)));

    // A cursor belongs to its query: another sort, order or filter is refused.
    let first = api.list(&ann, "sort=title&limit=7").await;
    let cursor = first.ok()["next_cursor"].as_str().unwrap().to_owned();
    for other in [
        vec![("sort", "due_at")],
        vec![],
        vec![("sort", "title"), ("order", "desc")],
        vec![("sort", "title"), ("priority", "high")],
        vec![("sort", "title"), ("status", "Pending")],
        vec![("sort", "title"), ("q", "alpha")],
    ] {
        let mut pairs = other.clone();
        pairs.push(("cursor", &cursor));
        api.list(&ann, &query(&pairs)).await.invalid(&["cursor"]);
    }
    api.list(&ann, "cursor=not-a-cursor").await.invalid(&["cursor"]);
    // The limit may change between pages.
    let next = api.list(&ann, &query(&[("sort", "title"), ("limit", "18"), ("cursor", &cursor)])).await;
    let mut expected: Vec<Value> = tasks.values().cloned().collect();
    reference_order(&mut expected, "title", false);
    assert_eq!(ids(&next.ok()["tasks"]), ids(&Value::from(expected[7..].to_vec())));
    assert_eq!(next.body["next_cursor"], Value::Null);
}

/// Errors the framework makes (unknown route, wrong method, unreadable body, bad path
/// id, oversized body) have the contract's shape; checks come in the contract's order.
pub async fn every_error_has_the_contract_shape(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let (api, ann, bob) = api_with_ann_and_bob(&database).await;
    let bobs = api.create(&bob, json!({"title": "Bob's"})).await;
    let token = ann.token.as_str();

    for path in ["/nope", "/api", &format!("/api/{}/nope", ann.id), &format!("{}/x/y/z", ann.tasks())] {
        api.get(path, token).await.error(StatusCode::NOT_FOUND, "NOT_FOUND");
        api.get(path, "").await.error(StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    for (method, path) in [
        (Method::DELETE, "/health".to_owned()),
        (Method::POST, "/health/ready".to_owned()),
        (Method::GET, "/auth/login".to_owned()),
        (Method::PUT, "/auth/me".to_owned()),
        (Method::DELETE, ann.tasks()),
        (Method::POST, format!("{}/statistics", ann.tasks())),
        (Method::GET, format!("{}/bulk/complete", ann.tasks())),
        (Method::POST, ann.task(&id(&bobs))),
        (Method::GET, format!("{}/complete", ann.task(&id(&bobs)))),
    ] {
        let reply = api.call(method.clone(), &path, token, None).await;
        assert_eq!(reply.error(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"), &Value::Null, "{method} {path}");
    }

    let raw = |path: &str, content_type: Option<&str>, body: &str| {
        let mut request = TestRequest::post()
            .uri(path)
            .insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
            .set_payload(Bytes::copy_from_slice(body.as_bytes()));
        if let Some(content_type) = content_type {
            request = request.insert_header((header::CONTENT_TYPE, content_type));
        }
        request.to_request()
    };
    for (content_type, body) in [
        (Some("application/json"), r#"{"title": "#),
        (Some("application/json"), "[1, 2]"),
        (Some("application/json"), r#""title""#),
        (Some("application/json"), ""),
        (Some("text/plain"), r#"{"title": "x"}"#),
        (None, r#"{"title": "x"}"#),
    ] {
        for path in [ann.tasks(), "/auth/register".to_owned(), "/auth/login".to_owned()] {
            let reply = api.send(raw(&path, content_type, body)).await;
            assert_eq!(
                reply.error(StatusCode::BAD_REQUEST, "MALFORMED_REQUEST"),
                &Value::Null,
                "{path} {content_type:?} {body}"
            );
        }
    }

    let reply = api.get(&ann.task("not-a-uuid"), token).await;
    reply.invalid(&["task_id"]);
    let reply = api.get("/api/42/tasks", token).await;
    reply.invalid(&["user_id"]);
    let reply = api.call(Method::PUT, "/api/42/tasks/43", token, Some(&json!({"title": "x"}))).await;
    reply.invalid(&["user_id", "task_id"]);

    // 413 over 65,536 bytes, with Content-Length or without, before anything else.
    let padded = |size: usize| {
        let mut body = br#"{"title": "Padded"}"#.to_vec();
        body.resize(size, b' ');
        body
    };
    let sized = |size: usize, token: &str| {
        let mut request = TestRequest::post().uri(&ann.tasks()).insert_header(header::ContentType::json());
        if !token.is_empty() {
            request = request.insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
        }
        request.set_payload(padded(size)).to_request()
    };
    let reply = api.send(sized(65_536, token)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    // (With a valid token too: see `an_oversized_body_with_a_valid_token_is_refused`.)
    for size in [65_537, 70_000, 1 << 20] {
        let reply = api.send(sized(size, "")).await;
        reply.error(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");
        let reply = api.send(sized(size, "not.a.jwt")).await;
        reply.error(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");
    }
    // Chunked: no Content-Length, the body arrives in pieces.
    let reply = api.send(chunked(sized(65_536, token), padded(65_536))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    let reply = api.send(chunked(sized(65_537, ""), padded(65_537))).await;
    reply.error(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");

    // An oversized body is refused before the token or the path is looked at.
    let request = TestRequest::put()
        .uri("/api/x/tasks/y")
        .insert_header(header::ContentType::json())
        .set_payload(padded(70_000))
        .to_request();
    api.send(request).await.error(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");

    // Strict bodies: unknown fields, wrong types and U+0000 are 422, one entry each.
    let reply = api.post(&ann.tasks(), token, &json!({"title": "a\u{0}b", "colour": "red", "priority": 3})).await;
    reply.invalid(&["colour", "priority", "title"]);
    let reply = api.post(&ann.tasks(), token, &json!({"title": "ok", "tags": ["a\u{0}"]})).await;
    let details = reply.error(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
    assert!(details[0]["field"].as_str().unwrap().starts_with("tags"), "{reply:?}");
    let reply = api.post(&ann.tasks(), token, &json!({"title": "ok", "priority": null, "tags": null})).await;
    reply.invalid(&["priority", "tags"]);
    let reply = api.get(&format!("{}?q=a%00b", ann.tasks()), token).await;
    reply.invalid(&["q"]);

    // The order of checks: 401, 422 (path), 403 (path user), 400/422 (body),
    // 404 (task), 403 (owner).
    let bad_body = json!({"title": "", "bogus": 1});
    let bad_path = format!("/api/{}/tasks/not-a-uuid", bob.id);
    let reply = api.call(Method::PUT, &bad_path, "", Some(&bad_body)).await;
    reply.error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let reply = api.call(Method::PUT, &bad_path, "not.a.jwt", Some(&bad_body)).await;
    reply.error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    api.call(Method::PUT, &bad_path, token, Some(&bad_body)).await.invalid(&["task_id"]);
    let reply = api.call(Method::PUT, &bob.task(&id(&bobs)), token, Some(&bad_body)).await;
    reply.error(StatusCode::FORBIDDEN, "FORBIDDEN");
    let missing = uuid::Uuid::new_v4().to_string();
    let reply = api.call(Method::PUT, &ann.task(&missing), token, Some(&bad_body)).await;
    reply.invalid(&["bogus", "title"]);
    let reply = api.call(Method::PUT, &ann.task(&id(&bobs)), token, Some(&json!({}))).await;
    reply.error(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
    let reply = api.call(Method::PUT, &ann.task(&missing), token, Some(&json!({"title": "x"}))).await;
    reply.error(StatusCode::NOT_FOUND, "NOT_FOUND");
    let reply = api.call(Method::PUT, &ann.task(&id(&bobs)), token, Some(&json!({"title": "x"}))).await;
    reply.error(StatusCode::FORBIDDEN, "FORBIDDEN");
    let reply = api.list(&ann, "status=PENDING&overdue=maybe&priority=high,&sort=&limit=0").await;
    reply.invalid(&["status", "overdue", "priority", "sort", "limit"]);
}

/// `request` with `body` sent in 4 KiB chunks without a `Content-Length`.
fn chunked(request: Request, body: Vec<u8>) -> Request {
    let chunks: Vec<Result<Bytes, actix_web::error::PayloadError>> =
        body.chunks(4096).map(|chunk| Ok(Bytes::copy_from_slice(chunk))).collect();
    let stream: actix_http::BoxedPayloadStream = Box::pin(futures_util::stream::iter(chunks));
    let (mut request, _) = request.replace_payload(actix_web::dev::Payload::from(stream));
    request.headers_mut().remove(header::CONTENT_LENGTH);
    request.headers_mut().insert(header::TRANSFER_ENCODING, header::HeaderValue::from_static("chunked"));
    request
}

/// A body over 64 KiB with a valid token is refused with 413, every time, however it
/// is sent, and the server goes on serving.
///
/// Server bug on SQLite: the handler's extractors run together; `Caller`
/// (`src/extract.rs`, `from_request`) starts the revocation lookup, `Body` then fails
/// with 413 and actix drops the `Caller` future mid-query. diesel-async 0.9.2's
/// `SyncConnectionWrapper` (`CancelWrapper::drop`, `sync_connection_wrapper/mod.rs:552`)
/// then calls `tokio::task::block_in_place`, which panics ("can call blocking only when
/// running on the multi-threaded runtime") on the current-thread runtime of every actix
/// worker: the client gets no 413 (the connection's task dies). PostgreSQL is fine.
pub async fn an_oversized_body_with_a_valid_token_is_refused(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let api = api(&database).await;
    let ann = api.register("ann@example.com").await;
    let body = || {
        let mut body = br#"{"title": "Padded"}"#.to_vec();
        body.resize(70_000, b' ');
        body
    };
    for attempt in 0..20 {
        let request = TestRequest::post()
            .uri(&ann.tasks())
            .insert_header(header::ContentType::json())
            .insert_header((header::AUTHORIZATION, format!("Bearer {}", ann.token)))
            .set_payload(body())
            .to_request();
        let request = if attempt % 2 == 0 { request } else { chunked(request, body()) };
        let reply = api.send(request).await;
        assert_eq!(reply.error(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"), &Value::Null, "{attempt}");
    }
    assert_eq!(api.all_tasks(&ann).await, Vec::<Value>::new());
}

/// A request whose client goes away while the server is reading the database (the
/// future is dropped, as actix does on a disconnect) leaves the server serving.
///
/// Server bug on SQLite: the same panic as in
/// [`an_oversized_body_with_a_valid_token_is_refused`], for any request dropped while
/// one of its SQLite statements runs on the blocking pool.
pub async fn a_request_abandoned_mid_query_leaves_the_server_serving(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let api = api(&database).await;
    let ann = api.register("ann@example.com").await;
    let task = api.create(&ann, json!({"title": "Still here"})).await;
    for _ in 0..20 {
        // Polled once, so the request is (most likely) in the middle of a query, then
        // dropped.
        if let Some(finished) = api.get(&ann.tasks(), &ann.token).now_or_never() {
            finished.ok();
        }
    }
    assert_eq!(api.all_tasks(&ann).await, vec![task]);
}

/// Completing a recurring task, by any route, makes exactly one next occurrence one
/// period later (clamped to the month's end), with the same fields.
pub async fn completing_a_recurring_task_makes_exactly_one_next_occurrence(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let api = api(&database).await;
    let ann = api.register("ann@example.com").await;

    let fields = json!({"title": "Pay rent", "description": "to the landlord", "priority": "high",
                        "tags": ["Bills", "home"], "recurrence": "monthly"});
    let mut body = fields.clone();
    body["due_at"] = json!("2026-01-31T09:00:00Z");
    body["remind_at"] = json!("2026-01-30T10:00:00+01:00");
    let rent = api.create(&ann, body).await;
    assert_time(&rent["due_at"], "2026-01-31T09:00:00Z");
    assert_time(&rent["remind_at"], "2026-01-30T09:00:00Z");
    let mut expected_fields = fields.clone();
    expected_fields["tags"] = json!(["bills", "home"]);

    let completed = api.complete(&ann, &id(&rent), None).await;
    let completed = completed.ok().clone();
    assert_eq!(completed["status"], "Completed");
    let next_id = uuid(&completed["next_occurrence_id"]).to_owned();
    let next = api.task(&ann, &next_id).await;
    let mut expected = expected_task(&ann, &expected_fields);
    expected["due_at"] = next["due_at"].clone();
    expected["remind_at"] = next["remind_at"].clone();
    assert_eq!(generic(&next), expected);
    assert_time(&next["due_at"], "2026-02-28T09:00:00Z");
    assert_time(&next["remind_at"], "2026-02-27T09:00:00Z");
    assert_eq!(api.all_tasks(&ann).await, vec![next.clone(), completed.clone()]);

    // Un-completing keeps the link; completing again makes no second occurrence.
    let pending = api.complete(&ann, &id(&rent), Some(false)).await;
    let pending = pending.ok();
    assert_eq!((&pending["status"], &pending["completed_at"]), (&json!("Pending"), &Value::Null));
    assert_eq!(pending["next_occurrence_id"], next_id.as_str());
    let complete_path = format!("{}/complete", ann.task(&id(&rent)));
    let again = api.call(Method::PATCH, &complete_path, &ann.token, Some(&json!({}))).await;
    assert_eq!((&again.ok()["status"], &again.body["next_occurrence_id"]), (&json!("Completed"), &json!(next_id)));
    api.complete(&ann, &id(&rent), Some(false)).await.ok();
    let again = api.complete(&ann, &id(&rent), Some(true)).await;
    assert_eq!(again.ok()["next_occurrence_id"], next_id.as_str());
    let all = api.all_tasks(&ann).await;
    assert_eq!(ids(&Value::from(all.clone())), [next_id.clone(), id(&rent)]);
    assert_eq!(all[0], next, "the next occurrence changed");

    // Bulk complete: one occurrence per recurring task, none for the others.
    let weekly = api
        .create(
            &ann,
            json!({"title": "Water plants", "due_at": "2026-03-01T18:30:00+02:00", "recurrence": "weekly",
                   "remind_at": "2026-03-01T12:00:00Z"}),
        )
        .await;
    let plain = api.create(&ann, json!({"title": "Once", "due_at": "2026-03-01T00:00:00Z"})).await;
    let path = format!("{}/bulk/complete", ann.tasks());
    let ids_body = json!({"task_ids": [id(&weekly), id(&plain)]});
    let reply = api.post(&path, &ann.token, &ids_body).await;
    assert_eq!(reply.ok(), &json!({"message": "2 tasks marked as completed", "updated_count": 2, "created_count": 1}));
    let weekly_done = api.task(&ann, &id(&weekly)).await;
    assert_eq!(api.task(&ann, &id(&plain)).await["next_occurrence_id"], Value::Null);
    let weekly_next = api.task(&ann, uuid(&weekly_done["next_occurrence_id"])).await;
    assert_time(&weekly_next["due_at"], "2026-03-08T16:30:00Z");
    assert_time(&weekly_next["remind_at"], "2026-03-08T12:00:00Z");
    assert_eq!(
        (&weekly_next["title"], &weekly_next["recurrence"], &weekly_next["status"]),
        (&json!("Water plants"), &json!("weekly"), &json!("Pending"))
    );
    let reply = api.post(&path, &ann.token, &ids_body).await;
    assert_eq!(reply.ok(), &json!({"message": "2 tasks marked as completed", "updated_count": 2, "created_count": 0}));
    let reply = api.post(&path, &ann.token, &json!({"task_ids": [id(&rent)]})).await;
    assert_eq!(reply.ok(), &json!({"message": "1 task marked as completed", "updated_count": 1, "created_count": 0}));
    assert_eq!(api.all_tasks(&ann).await.len(), 5);

    // PUT status Completed: a leap day, a year later, is clamped to Feb 28.
    let yearly =
        api.create(&ann, json!({"title": "Leap day", "due_at": "2028-02-29T23:59:00Z", "recurrence": "yearly"})).await;
    // A recurring task needs its due date; remind_at may not pass due_at; moving both is fine.
    let yearly_path = ann.task(&id(&yearly));
    let reply = api.put(&yearly_path, &ann.token, &json!({"due_at": null})).await;
    reply.error(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
    let reply = api.put(&yearly_path, &ann.token, &json!({"remind_at": "2028-03-01T00:00:00Z"})).await;
    reply.error(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
    let reply = api.put(&yearly_path, &ann.token, &json!({"recurrence": null, "due_at": null})).await;
    assert_eq!((&reply.ok()["recurrence"], &reply.body["due_at"]), (&Value::Null, &Value::Null));
    let reply =
        api.put(&yearly_path, &ann.token, &json!({"recurrence": "yearly", "due_at": "2028-02-29T23:59:00Z"})).await;
    reply.ok();
    let no_due = api.post(&ann.tasks(), &ann.token, &json!({"title": "x", "recurrence": "daily"})).await;
    no_due.error(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
    let reply = api.put(&ann.task(&id(&yearly)), &ann.token, &json!({"status": "Completed"})).await;
    let yearly_done = reply.ok();
    assert_eq!(yearly_done["status"], "Completed");
    let yearly_next = api.task(&ann, uuid(&yearly_done["next_occurrence_id"])).await;
    assert_time(&yearly_next["due_at"], "2029-02-28T23:59:00Z");
    assert_eq!(yearly_next["remind_at"], Value::Null);
    let reply = api.put(&ann.task(&id(&yearly)), &ann.token, &json!({"status": "Pending"})).await;
    assert_eq!(reply.ok()["next_occurrence_id"], yearly_done["next_occurrence_id"]);
    api.put(&ann.task(&id(&yearly)), &ann.token, &json!({"status": "Completed"})).await.ok();
    assert_eq!(api.all_tasks(&ann).await.len(), 7);

    // Deleting a recurring task deletes that occurrence only.
    assert_eq!(api.delete(&ann.task(&id(&rent)), &ann.token).await.status, StatusCode::NO_CONTENT);
    assert_eq!(api.task(&ann, &next_id).await, next);
    api.get(&ann.task(&id(&rent)), &ann.token).await.error(StatusCode::NOT_FOUND, "NOT_FOUND");
}

/// Many concurrent completions of one task all report one `completed_at`, and a
/// recurring task gets exactly one next occurrence.
pub async fn concurrent_completions_agree_and_make_one_occurrence(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let api = api(&database).await;
    let ann = api.register("ann@example.com").await;

    for round in 0..3 {
        let task = api
            .create(
                &ann,
                json!({"title": format!("Daily {round}"), "due_at": "2026-06-01T07:00:00Z", "recurrence": "daily"}),
            )
            .await;
        let task_id = id(&task);
        let replies = futures_util::future::join_all((0..10).map(|_| api.complete(&ann, &task_id, None))).await;
        let mut completed_at = BTreeSet::new();
        let mut next = BTreeSet::new();
        for reply in &replies {
            let body = reply.ok();
            assert_eq!(body["status"], "Completed");
            completed_at.insert(body["completed_at"].as_str().unwrap().to_owned());
            next.insert(uuid(&body["next_occurrence_id"]).to_owned());
        }
        assert_eq!(completed_at.len(), 1, "{completed_at:?}");
        assert_eq!(next.len(), 1, "{next:?}");
        let stored = api.task(&ann, &id(&task)).await;
        assert_eq!(stored["completed_at"].as_str(), completed_at.first().map(String::as_str));
        let all = api.all_tasks(&ann).await;
        assert_eq!(all.len(), 2 * (round + 1), "one next occurrence per completed task");
        let next_task = api.task(&ann, next.first().unwrap()).await;
        assert_time(&next_task["due_at"], "2026-06-02T07:00:00Z");
    }

    // The three completing routes at once: still one `completed_at`, one occurrence.
    let task =
        api.create(&ann, json!({"title": "Mixed", "due_at": "2026-06-01T07:00:00Z", "recurrence": "monthly"})).await;
    let task_id = id(&task);
    let bulk = json!({"task_ids": [task_id]});
    let status = json!({"status": "Completed"});
    let bulk_path = format!("{}/bulk/complete", ann.tasks());
    let task_path = ann.task(&task_id);
    let mut calls: Vec<LocalBoxFuture<'_, (&str, Reply)>> = Vec::new();
    for i in 0..12 {
        calls.push(match i % 3 {
            0 => api.complete(&ann, &task_id, None).map(|reply| ("patch", reply)).boxed_local(),
            1 => api.put(&task_path, &ann.token, &status).map(|reply| ("put", reply)).boxed_local(),
            _ => api.post(&bulk_path, &ann.token, &bulk).map(|reply| ("bulk", reply)).boxed_local(),
        });
    }
    let mut completed_at = BTreeSet::new();
    let mut created = 0;
    for (route, reply) in futures_util::future::join_all(calls).await {
        let body = reply.ok();
        if route == "bulk" {
            assert_eq!(body["updated_count"], 1);
            created += body["created_count"].as_u64().unwrap();
        } else {
            completed_at.insert(body["completed_at"].as_str().unwrap().to_owned());
        }
    }
    let stored = api.task(&ann, &task_id).await;
    assert_eq!(completed_at, BTreeSet::from([stored["completed_at"].as_str().unwrap().to_owned()]));
    assert!(created <= 1, "{created} occurrences reported by bulk completions");
    let all = api.all_tasks(&ann).await;
    assert_eq!(all.len(), 8, "one next occurrence per completed task");
    let next_task = api.task(&ann, uuid(&stored["next_occurrence_id"])).await;
    assert_time(&next_task["due_at"], "2026-07-01T07:00:00Z");
}

/// `q` is a literal, Unicode case-insensitive substring of title or description.
pub async fn search_is_literal_and_ignores_unicode_case(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let (api, ann, bob) = api_with_ann_and_bob(&database).await;
    api.create(&bob, json!({"title": "Grüne Äpfel too"})).await;

    let mut made = BTreeMap::new();
    for (name, title, description) in [
        ("apples", "Grüne ÄPFEL kaufen", None),
        ("percent", "100% organic", None),
        ("hundred", "100 organic", Some("one hundred")),
        ("underscore", "a_b plan", None),
        ("axb", "axb plan", None),
        ("backslash", r"path C:\temp", None),
        ("milk", "Shopping", Some("МОЛОКО and ÖL")),
    ] {
        let task = api.create(&ann, json!({"title": title, "description": description})).await;
        made.insert(name, id(&task));
    }
    let names = |found: Vec<String>| -> BTreeSet<&str> {
        found.iter().map(|found| *made.iter().find(|(_, id)| *id == found).unwrap().0).collect()
    };
    for (q, expected) in [
        ("äpfel", vec!["apples"]),
        ("ÄPFEL", vec!["apples"]),
        ("grüne äpfel", vec!["apples"]),
        ("GRÜNE", vec!["apples"]),
        ("%", vec!["percent"]),
        ("100%", vec!["percent"]),
        ("100", vec!["percent", "hundred"]),
        ("_", vec!["underscore"]),
        ("a_b", vec!["underscore"]),
        ("a%b", vec![]),
        (r"\", vec!["backslash"]),
        (r"c:\t", vec!["backslash"]),
        ("молоко", vec!["milk"]),
        ("öl", vec!["milk"]),
        ("HUNDRED", vec!["hundred"]),
        ("plan", vec!["underscore", "axb"]),
        ("too", vec![]),
    ] {
        let found = api.ids(&ann, &query(&[("q", q)]), expected.len()).await;
        assert_eq!(names(found), expected.into_iter().collect::<BTreeSet<_>>(), "q={q}");
    }
    api.list(&ann, "q=").await.invalid(&["q"]);
    api.list(&ann, &query(&[("q", &"x".repeat(201))])).await.invalid(&["q"]);
    api.ids(&ann, &query(&[("q", &"x".repeat(200))]), 0).await;
}

/// Tag, priority, due-date and overdue filters, combined with AND.
pub async fn filters_combine_with_and(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let (api, ann, bob) = api_with_ann_and_bob(&database).await;
    api.create(&bob, json!({"title": "Bob's", "tags": ["work"], "priority": "high", "due_at": "2020-01-01T00:00:00Z"}))
        .await;

    let mut t = Vec::new();
    for body in [
        json!({"title": "Write report", "tags": ["Work", "Urgent"], "priority": "high",
               "due_at": "2030-01-01T10:00:00Z"}),
        json!({"title": "Team meeting", "tags": ["work"], "due_at": "2030-01-02T10:00:00Z"}),
        json!({"title": "Fix the sink", "tags": ["urgent", "home"], "priority": "low",
               "due_at": "2030-01-03T10:00:00Z"}),
        json!({"title": "Read a book", "priority": "low"}),
        json!({"title": "Pay old bill", "tags": ["home"], "priority": "high", "due_at": "2020-01-01T00:00:00Z"}),
        json!({"title": "Old and done", "due_at": "2020-01-02T00:00:00Z"}),
    ] {
        t.push(id(&api.create(&ann, body).await));
    }
    api.complete(&ann, &t[5], None).await.ok();
    let pick = |indexes: &[usize]| -> Vec<String> { indexes.iter().map(|&i| t[i].clone()).collect() };

    for (pairs, expected) in [
        (vec![("tag", "work"), ("tag", "urgent")], pick(&[0])),
        (vec![("tag", "WORK")], pick(&[1, 0])),
        (vec![("tag", "work"), ("tag", "home")], vec![]),
        (vec![("tag", "nothing")], vec![]),
        (vec![("priority", "low,high")], pick(&[4, 3, 2, 0])),
        (vec![("priority", "high,low,high")], pick(&[4, 3, 2, 0])),
        (vec![("priority", "medium")], pick(&[5, 1])),
        (vec![("due_after", "2030-01-02T10:00:00Z")], pick(&[2, 1])),
        (vec![("due_before", "2030-01-02T10:00:00Z")], pick(&[5, 4, 0])),
        (vec![("due_after", "2030-01-02T11:00:00+01:00"), ("due_before", "2030-01-03T10:00:00Z")], pick(&[1])),
        (vec![("due_after", "2030-01-03T10:00:00.000001Z")], vec![]),
        (vec![("overdue", "true")], pick(&[4])),
        (vec![("overdue", "false")], pick(&[5, 4, 3, 2, 1, 0])),
        (vec![("status", "Completed")], pick(&[5])),
        (vec![("status", "pending")], pick(&[4, 3, 2, 1, 0])),
        (vec![("status", "all")], pick(&[5, 4, 3, 2, 1, 0])),
        (vec![("tag", "urgent"), ("priority", "high")], pick(&[0])),
        (vec![("tag", "home"), ("overdue", "true")], pick(&[4])),
        (vec![("priority", "high"), ("status", "Completed")], vec![]),
        (vec![("q", "SINK"), ("priority", "low"), ("due_after", "2000-01-01T00:00:00Z")], pick(&[2])),
        (vec![("sort", "due_at")], pick(&[4, 5, 0, 1, 2, 3])),
        (vec![("sort", "priority")], pick(&[4, 0, 5, 1, 3, 2])),
    ] {
        let reply = api.list(&ann, &query(&pairs)).await;
        let body = reply.ok();
        let found = ids(&body["tasks"]);
        if pairs[0].0 == "sort" && pairs[0].1 == "priority" {
            // Ties are broken by id: compare the priority groups.
            let mut expected_sorted = expected.clone();
            let mut found_sorted = found.clone();
            for group in [0..2, 2..4, 4..6] {
                expected_sorted[group.clone()].sort();
                found_sorted[group].sort();
            }
            assert_eq!(found_sorted, expected_sorted, "{pairs:?}");
        } else {
            assert_eq!(found, expected, "{pairs:?}");
        }
        assert_eq!(
            (&body["total"], &body["pending_count"], &body["completed_count"]),
            (&json!(expected.len()), &json!(5), &json!(1)),
            "{pairs:?}"
        );
    }
    // Each bad parameter is named in the 422.
    for (field, value) in [
        ("priority", "high,"),
        ("priority", "HIGH"),
        ("overdue", "maybe"),
        ("sort", ""),
        ("sort", "Title"),
        ("order", "up"),
        ("status", "PENDING"),
        ("due_after", "2030-01-01"),
        ("due_before", "2030-01-01T10:00:00"),
        ("limit", "1001"),
        ("tag", "a,b"),
        ("colour", "red"),
    ] {
        api.list(&ann, &query(&[(field, value)])).await.invalid(&[field]);
    }
}

/// Statistics and tag counts follow a known set of tasks.
pub async fn statistics_and_tags_count_the_users_tasks(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let (api, ann, bob) = api_with_ann_and_bob(&database).await;
    api.create(&bob, json!({"title": "Bob's", "tags": ["work", "bob"], "due_at": Utc::now().to_rfc3339()})).await;

    let statistics = format!("{}/statistics", ann.tasks());
    let tags = format!("/api/{}/tags", ann.id);
    assert_eq!(
        api.get(&statistics, &ann.token).await.ok(),
        &json!({"total": 0, "pending": 0, "completed": 0, "completion_rate": 0.0, "overdue": 0,
                "due_next_24h": 0, "pending_by_priority": {"low": 0, "medium": 0, "high": 0}})
    );
    assert_eq!(api.get(&tags, &ann.token).await.ok(), &json!({"tags": []}));

    let in_hours = |hours: i64| (Utc::now() + TimeDelta::hours(hours)).to_rfc3339();
    for body in [
        json!({"title": "Soon", "priority": "high", "tags": ["work"], "due_at": in_hours(2)}),
        json!({"title": "Late", "tags": ["Work", "home"], "due_at": in_hours(-1)}),
        json!({"title": "Someday", "priority": "low", "tags": ["HOME"]}),
        json!({"title": "Later", "due_at": in_hours(48)}),
        json!({"title": "Tomorrow", "priority": "low", "tags": ["zebra"], "due_at": in_hours(23)}),
    ] {
        api.create(&ann, body).await;
    }
    let done = api
        .create(&ann, json!({"title": "Done", "priority": "high", "tags": ["work", "Ärger"], "due_at": in_hours(-2)}))
        .await;
    api.complete(&ann, &id(&done), None).await.ok();
    assert_eq!(
        api.get(&statistics, &ann.token).await.ok(),
        &json!({"total": 6, "pending": 5, "completed": 1, "completion_rate": 1.0 / 6.0, "overdue": 1,
                "due_next_24h": 2, "pending_by_priority": {"low": 2, "medium": 2, "high": 1}})
    );
    assert_eq!(
        api.get(&tags, &ann.token).await.ok(),
        &json!({"tags": [{"name": "home", "count": 2}, {"name": "work", "count": 3},
                         {"name": "zebra", "count": 1}, {"name": "ärger", "count": 1}]})
    );
}

/// Reminders: the user's `Pending` tasks whose `remind_at` has come, earliest first.
pub async fn reminders_are_pending_tasks_whose_time_has_come(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let (api, ann, bob) = api_with_ann_and_bob(&database).await;
    let ago = |hours: i64| (Utc::now() - TimeDelta::hours(hours)).to_rfc3339();
    api.create(&bob, json!({"title": "Bob's", "remind_at": ago(5)})).await;

    let one_hour = api.create(&ann, json!({"title": "1 h ago", "remind_at": ago(1), "due_at": ago(-1)})).await;
    let three_hours = api.create(&ann, json!({"title": "3 h ago", "remind_at": ago(3)})).await;
    api.create(&ann, json!({"title": "In an hour", "remind_at": ago(-1)})).await;
    let done = api.create(&ann, json!({"title": "Done", "remind_at": ago(2)})).await;
    api.complete(&ann, &id(&done), None).await.ok();
    api.create(&ann, json!({"title": "No reminder"})).await;
    let long_ago = api.create(&ann, json!({"title": "Long ago", "remind_at": "2020-01-01T00:00:00+05:00"})).await;

    let reminders = format!("{}/reminders", ann.tasks());
    let reply = api.get(&reminders, &ann.token).await;
    assert_eq!(reply.ok(), &json!({"tasks": [long_ago, three_hours, one_hour]}));

    // The client clears or moves the reminder with PUT.
    api.put(&ann.task(&id(&three_hours)), &ann.token, &json!({"remind_at": null})).await.ok();
    let moved = api.put(&ann.task(&id(&long_ago)), &ann.token, &json!({"remind_at": ago(-2)})).await;
    moved.ok();
    let reply = api.get(&reminders, &ann.token).await;
    assert_eq!(reply.ok(), &json!({"tasks": [one_hour]}));
    // Completing a task takes it off the list.
    api.complete(&ann, &id(&one_hour), None).await.ok();
    let reply = api.get(&reminders, &ann.token).await;
    assert_eq!(reply.ok(), &json!({"tasks": []}));
}

/// Ten failed logins for one email lock it (even with the right password), with
/// `Retry-After`; other emails are not affected.
pub async fn ten_failed_logins_lock_that_email_only(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let api = api(&database).await;
    let ann = api.register("ann@example.com").await;
    api.register("bob@example.com").await;

    for attempt in 0..10 {
        let email = if attempt % 2 == 0 { "ann@example.com" } else { "  ANN@Example.com " };
        let reply = api.login(email, "wrong password 1").await;
        assert_eq!(reply.error(StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS"), &Value::Null, "{attempt}");
    }
    for email in ["ann@example.com", " Ann@EXAMPLE.com"] {
        let reply = api.login(email, PASSWORD).await;
        assert_eq!(reply.error(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"), &Value::Null);
        let retry_after: u64 = reply.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry_after), "{retry_after}");
    }
    // Another email, with or without an account, is not affected.
    super::support::check_auth_response(api.login("bob@example.com", PASSWORD).await.ok(), "bob@example.com");
    let reply = api.login("nobody@example.com", PASSWORD).await;
    reply.error(StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS");

    // Failures count for an email that has no account too.
    for _ in 0..9 {
        let reply = api.login("nobody@example.com", PASSWORD).await;
        reply.error(StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS");
    }
    let reply = api.login("nobody@example.com", PASSWORD).await;
    reply.error(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    assert!(reply.header("retry-after").is_some());
    // The lock is on signing in: a token the user already holds still works.
    assert_eq!(api.get("/auth/me", &ann.token).await.ok()["id"], ann.id.as_str());
    let reply = api.login("ann@example.com", PASSWORD).await;
    reply.error(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
}

/// The configured origin may call every route with `Authorization`, errors included.
pub async fn cors_lets_the_configured_origin_call_every_route(backend: Backend) {
    const ORIGIN: &str = "http://localhost:3000"; // the default of `CORS_ORIGINS`
    let Some(database) = backend.database().await else { return };
    let api = api(&database).await;
    let ann = api.register("ann@example.com").await;

    let preflight = TestRequest::default()
        .method(Method::OPTIONS)
        .uri(&ann.tasks())
        .insert_header((header::ORIGIN, ORIGIN))
        .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"))
        .insert_header((header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization, content-type"))
        .to_request();
    let reply = api.send(preflight).await;
    assert!(reply.status.is_success(), "{reply:?}");
    assert_eq!(reply.header("access-control-allow-origin"), Some(ORIGIN));
    let allowed = reply.header("access-control-allow-headers").unwrap().to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");

    let with_origin = |method: Method, path: &str, token: &str| {
        let mut request = TestRequest::default().method(method).uri(path).insert_header((header::ORIGIN, ORIGIN));
        if !token.is_empty() {
            request = request.insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
        }
        request.to_request()
    };
    let missing = ann.task(&uuid::Uuid::new_v4().to_string());
    for (method, path, token, status) in [
        (Method::GET, ann.tasks(), ann.token.as_str(), StatusCode::OK),
        (Method::GET, ann.tasks(), "", StatusCode::UNAUTHORIZED),
        (Method::GET, missing.clone(), ann.token.as_str(), StatusCode::NOT_FOUND),
        (Method::GET, "/api/x/tasks".to_owned(), ann.token.as_str(), StatusCode::UNPROCESSABLE_ENTITY),
        (Method::GET, "/nope".to_owned(), "", StatusCode::NOT_FOUND),
        (Method::DELETE, "/health".to_owned(), "", StatusCode::METHOD_NOT_ALLOWED),
        (Method::POST, ann.tasks(), ann.token.as_str(), StatusCode::BAD_REQUEST),
    ] {
        let reply = api.send(with_origin(method.clone(), &path, token)).await;
        assert_eq!(reply.status, status, "{method} {path}: {reply:?}");
        assert_eq!(reply.header("access-control-allow-origin"), Some(ORIGIN), "{method} {path}");
    }
    api.post("/auth/logout", &ann.token, &json!({})).await.ok();
    let reply = api.send(with_origin(Method::GET, &ann.tasks(), &ann.token)).await;
    reply.error(StatusCode::UNAUTHORIZED, "TOKEN_REVOKED");
    assert_eq!(reply.header("access-control-allow-origin"), Some(ORIGIN));
}

/// The readiness probe answers 200 while the database answers; every response has
/// an `X-Request-Id`.
pub async fn the_service_is_ready_with_its_database(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let api = api(&database).await;
    let reply = api.get("/health/ready", "").await;
    assert_eq!(reply.ok(), &json!({"status": "ready", "database": "ok"}));
    assert!(reply.header("x-request-id").is_some_and(|id| !id.is_empty()));
    let reply = api.get("/health", "").await;
    assert_eq!(reply.ok(), &json!({"status": "ok"}));

    let request = TestRequest::get().uri("/health/ready").insert_header(("X-Request-Id", "e2e-42")).to_request();
    let reply = api.send(request).await;
    assert_eq!(reply.ok(), &json!({"status": "ready", "database": "ok"}));
    assert_eq!(reply.header("x-request-id"), Some("e2e-42"));
    let request = TestRequest::get().uri("/nope").insert_header(("X-Request-Id", "e2e-43")).to_request();
    let reply = api.send(request).await;
    reply.error(StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(reply.header("x-request-id"), Some("e2e-43"));
}
