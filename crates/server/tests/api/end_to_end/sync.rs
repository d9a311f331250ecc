//! Sync scenarios: conditional writes that race, tags merged by concurrent writers, and
//! client-chosen ids, over a real database (two server instances where it matters).

use actix_web::http::{Method, StatusCode, header};
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use super::support::{Backend, Session, api, api_with_ann_and_bob, id};

/// `method path` as `user`, with a JSON body and one extra header.
fn conditional(
    method: Method,
    path: &str,
    user: &Session,
    body: Option<&Value>,
    name: header::HeaderName,
    value: &str,
) -> TestRequest {
    let mut request = TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header((header::AUTHORIZATION, format!("Bearer {}", user.token)))
        .insert_header((name, value));
    if let Some(body) = body {
        request = request.set_json(body);
    }
    request
}

/// Two instances, two writers holding the same version: exactly one wins, the other is
/// told the task as the winner left it (412), every round. When the winner deleted the
/// task, the other finds no task at all: 404, which the contract's order of checks puts
/// before 412.
pub async fn two_writers_of_one_version_get_exactly_one_200_and_one_412(backend: Backend) {
    let Some((first_database, second_database)) = backend.two_handles().await else { return };
    let (first, second) = (api(&first_database).await, api(&second_database).await);
    let ann = first.register("ann@example.com").await;

    for round in 0..6 {
        let task = first.create(&ann, json!({"title": format!("Contended {round}")})).await;
        let path = ann.task(&id(&task));
        let held = format!("\"{}\"", task["version"]);
        let (one, other) = (json!({"title": "from the first"}), json!({"title": "from the second"}));
        // In the last rounds the second writer deletes: the same rule.
        let deletes = round >= 4;
        let second_write = if deletes {
            conditional(Method::DELETE, &path, &ann, None, header::IF_MATCH, &held)
        } else {
            conditional(Method::PUT, &path, &ann, Some(&other), header::IF_MATCH, &held)
        };
        let (put, second_reply) = futures_util::join!(
            first.send(conditional(Method::PUT, &path, &ann, Some(&one), header::IF_MATCH, &held).to_request()),
            second.send(second_write.to_request()),
        );
        let now = first.get(&path, &ann.token).await;
        if second_reply.status == StatusCode::NO_CONTENT {
            put.error(StatusCode::NOT_FOUND, "NOT_FOUND");
            assert_eq!(now.status, StatusCode::NOT_FOUND, "round {round}");
            continue;
        }
        let (winner, loser) = if put.status == StatusCode::OK { (put, second_reply) } else { (second_reply, put) };
        assert_eq!(winner.status, StatusCode::OK, "round {round}: {winner:?} / {loser:?}");
        let details = loser.error(StatusCode::PRECONDITION_FAILED, "PRECONDITION_FAILED");
        assert_eq!(details["current"], winner.body, "round {round}");
        assert_eq!(now.ok(), &winner.body);
        assert_eq!(now.ok()["version"], 2);
        assert_eq!(now.header("etag"), Some("\"2\""));
    }

    // Both outcomes of a write racing a delete, in a fixed order.
    let task = first.create(&ann, json!({"title": "Deleted first"})).await;
    let path = ann.task(&id(&task));
    let deleted = second.send(conditional(Method::DELETE, &path, &ann, None, header::IF_MATCH, "\"1\"").to_request());
    assert_eq!(deleted.await.status, StatusCode::NO_CONTENT);
    let late = conditional(Method::PUT, &path, &ann, Some(&json!({"title": "late"})), header::IF_MATCH, "\"1\"");
    first.send(late.to_request()).await.error(StatusCode::NOT_FOUND, "NOT_FOUND");

    let task = first.create(&ann, json!({"title": "Changed first"})).await;
    let path = ann.task(&id(&task));
    let changed = first.put(&path, &ann.token, &json!({"title": "changed"})).await;
    let late = conditional(Method::DELETE, &path, &ann, None, header::IF_MATCH, "\"1\"");
    let refused = second.send(late.to_request()).await;
    assert_eq!(refused.error(StatusCode::PRECONDITION_FAILED, "PRECONDITION_FAILED")["current"], *changed.ok());
    assert_eq!(first.get(&path, &ann.token).await.ok(), changed.ok());
}

/// Twenty writers at once on one task, none naming a version: ten add a tag each, ten
/// rename it. Every one wins and no change is lost: the task ends with all ten tags and
/// one version per request.
pub async fn concurrent_taggers_and_editors_all_win(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let api = api(&database).await;
    let ann = api.register("ann@example.com").await;
    let task = api.create(&ann, json!({"title": "Shared"})).await;
    let path = ann.task(&id(&task));

    let bodies: Vec<Value> = (0..10)
        .flat_map(|n| [json!({"add_tags": [format!("tag-{n}")]}), json!({"title": format!("title {n}")})])
        .collect();
    let replies = futures_util::future::join_all(bodies.iter().map(|body| api.put(&path, &ann.token, body))).await;
    for reply in &replies {
        reply.ok();
    }

    let stored = api.get(&path, &ann.token).await;
    let expected: Vec<String> = {
        let mut tags: Vec<String> = (0..10).map(|n| format!("tag-{n}")).collect();
        tags.sort();
        tags
    };
    assert_eq!(stored.ok()["tags"], json!(expected));
    assert_eq!(stored.ok()["version"], 21, "one version per request: none was lost");
    assert!(stored.ok()["title"].as_str().unwrap().starts_with("title "));

    // And taken out the same way, all at once.
    let removals = (0..10).map(|n| json!({"remove_tags": [format!("tag-{n}")]})).collect::<Vec<_>>();
    let replies = futures_util::future::join_all(removals.iter().map(|body| api.put(&path, &ann.token, body))).await;
    for reply in &replies {
        reply.ok();
    }
    assert_eq!(api.get(&path, &ann.token).await.ok()["tags"], json!([]));
}

/// A client-chosen id is kept, and a taken one is 409 for anyone; If-None-Match saves
/// the body of a read that would change nothing.
pub async fn a_chosen_id_is_kept_and_a_taken_one_is_409_for_anyone(backend: Backend) {
    let Some(database) = backend.database().await else { return };
    let (api, ann, bob) = api_with_ann_and_bob(&database).await;
    let chosen = "0193aaaa-bbbb-7ccc-8ddd-000000000001";

    let created = api.create(&ann, json!({"id": chosen, "title": "Made offline"})).await;
    assert_eq!(created["id"], chosen);
    for user in [&ann, &bob] {
        api.post(&user.tasks(), &user.token, &json!({"id": chosen, "title": "Again"}))
            .await
            .error(StatusCode::CONFLICT, "CONFLICT");
    }
    assert_eq!(api.all_tasks(&bob).await, Vec::<Value>::new());
    assert_eq!(api.task(&ann, chosen).await, created);

    let read = conditional(Method::GET, &ann.task(chosen), &ann, None, header::IF_NONE_MATCH, "\"1\"");
    let reply = api.send(read.to_request()).await;
    assert_eq!(reply.status, StatusCode::NOT_MODIFIED);
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert!(reply.bytes.is_empty());

    // Deleted for good, the id is free again.
    assert_eq!(api.delete(&ann.task(chosen), &ann.token).await.status, StatusCode::NO_CONTENT);
    api.create(&bob, json!({"id": chosen, "title": "Bob's now"})).await;
}
