//! Docs.

use todo_domain::task::{BulkIds, PageSize, SearchTerm};
use todo_domain::user::Password;
use todo_server::limits::MAX_BODY_BYTES;

use super::*;

#[actix_web::test]
async fn openapi_json_is_an_openapi_3_document() {
    let answer = send(Ports::new(), get("/openapi.json")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let document = answer.json();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."), "{}", document["openapi"]);
    assert_eq!(document["info"]["title"], json!("Todo API"));
}

/// The document as published: every route, parameter, schema, status and header.
/// A change to any of them is a diff to review (`cargo insta review`, or run the tests
/// with `INSTA_UPDATE=always` and read `git diff`).
#[actix_web::test]
async fn openapi_json_is_the_reviewed_document() {
    let document = send(Ports::new(), get("/openapi.json")).await.json();
    insta::assert_json_snapshot!("openapi", document);
}

/// The limits the document states are the domain's, whatever either says next.
#[actix_web::test]
async fn openapi_json_states_the_domains_limits() {
    let document = send(Ports::new(), get("/openapi.json")).await.json();
    let schema = |name: &str, property: &str| document["components"]["schemas"][name]["properties"][property].clone();
    let number = |value: &Value| usize::try_from(value.as_u64().unwrap()).unwrap();
    let pattern = |value: &Value| value["pattern"].as_str().unwrap().to_owned();
    // A pattern for trimmed text of up to `max` characters counts the inner ones.
    let inner = |max: usize| format!("{{0,{}}}", max - 2);

    assert_eq!(number(&schema("Task", "title")["maxLength"]), TaskTitle::MAX_CHARS);
    assert_eq!(number(&schema("Task", "description")["maxLength"]), TaskDescription::MAX_CHARS);
    assert_eq!(number(&schema("Task", "tags")["maxItems"]), Tags::MAX);
    assert_eq!(number(&schema("Task", "tags")["items"]["maxLength"]), Tag::MAX_CHARS);
    assert_eq!(number(&schema("UserInfo", "email")["maxLength"]), Email::MAX_CHARS);
    assert_eq!(number(&schema("UserInfo", "name")["maxLength"]), UserName::MAX_CHARS);
    assert_eq!(number(&schema("Register", "password")["minLength"]), Password::MIN_CHARS);
    for bulk in ["BulkComplete", "BulkDelete"] {
        assert_eq!(number(&schema(bulk, "task_ids")["maxItems"]), BulkIds::MAX, "{bulk}");
    }
    for request in ["CreateTask", "UpdateTask"] {
        assert!(pattern(&schema(request, "title")).contains(&inner(TaskTitle::MAX_CHARS)), "{request}");
        assert!(pattern(&schema(request, "description")).contains(&inner(TaskDescription::MAX_CHARS)), "{request}");
        assert!(pattern(&schema(request, "tags")["items"]).contains(&inner(Tag::MAX_CHARS)), "{request}");
        let tags = schema(request, "tags")["description"].as_str().unwrap().to_owned();
        assert!(tags.contains(&format!("At most {} distinct tags", Tags::MAX)), "{request}: {tags}");
    }
    assert!(pattern(&schema("Register", "name")).contains(&inner(UserName::MAX_CHARS)));
    let password = format!("{{{},{}}}", Password::MIN_CHARS - 2, Password::MAX_CHARS - 2);
    assert!(pattern(&schema("Register", "password")).contains(&password));
    assert!(pattern(&schema("Register", "email")).contains(&format!("{{1,{}}}", Email::MAX_CHARS)));

    let tasks = &document["paths"]["/api/{user_id}/tasks"];
    let parameter = |name: &str| {
        tasks["get"]["parameters"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()["schema"].clone()
    };
    assert_eq!(parameter("limit")["maximum"].as_u64(), Some(u64::from(PageSize::MAX.get())));
    assert!(pattern(&parameter("q")).contains(&inner(SearchTerm::MAX_CHARS)));
    let too_large = tasks["post"]["responses"]["413"]["description"].as_str().unwrap();
    assert!(too_large.contains(&MAX_BODY_BYTES.to_string()), "{too_large}");
}

/// Whether `value` fits `schema` of `document`: types, enumerations, `nullable`,
/// `required` and, for objects, no property that the schema does not name.
fn fits(document: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            &document["components"]["schemas"][name]
        }
        None => schema,
    };
    if value.is_null() {
        return if schema["nullable"] == json!(true) { Ok(()) } else { Err(format!("{at} is null but not nullable")) };
    }
    if let Some(choices) = schema["oneOf"].as_array() {
        return if choices.iter().any(|choice| fits(document, choice, value, at).is_ok()) {
            Ok(())
        } else {
            Err(format!("{at} fits none of oneOf: {value}"))
        };
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        return Err(format!("{at} = {value} is not one of {allowed:?}"));
    }
    let fits_type = match schema["type"].as_str() {
        Some("object") => {
            let object = value.as_object().ok_or_else(|| format!("{at} is not an object"))?;
            for name in schema["required"].as_array().into_iter().flatten() {
                if !object.contains_key(name.as_str().unwrap()) {
                    return Err(format!("{at}.{name} is required but missing"));
                }
            }
            for (name, item) in object {
                let property = &schema["properties"][name];
                if property.is_null() {
                    return Err(format!("{at}.{name} is not documented"));
                }
                fits(document, property, item, &format!("{at}.{name}"))?;
            }
            true
        }
        Some("array") => {
            let items = value.as_array().ok_or_else(|| format!("{at} is not an array"))?;
            for (i, item) in items.iter().enumerate() {
                fits(document, &schema["items"], item, &format!("{at}[{i}]"))?;
            }
            true
        }
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        _ => true,
    };
    if fits_type { Ok(()) } else { Err(format!("{at} = {value} is not of type {}", schema["type"])) }
}

/// The documented schema of `method path`'s `status` answer.
fn documented<'a>(document: &'a Value, method: &str, path: &str, status: &str) -> &'a Value {
    &document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
}

/// A stored task with every field set, and one with every nullable field null.
fn full_and_empty_tasks() -> Vec<Task> {
    vec![
        Task { next_occurrence_id: Some(tid(T3)), ..completed(T1) },
        Task { next_occurrence_id: Some(tid(T3)), completed_at: Some(now()), ..weekly(T2) },
        stored(T3, ALICE),
    ]
}

#[actix_web::test]
async fn openapi_json_documents_the_task_user_and_error_bodies_the_server_sends() {
    let document = send(Ports::new(), get("/openapi.json")).await.json();
    let user = ann().await;
    let mut ports = Ports::signed_in();
    for task in full_and_empty_tasks() {
        let id = task.id;
        ports.tasks.expect_get().withf(move |_, i| *i == id).returning(move |_, _| Ok(Some(task.clone())));
    }
    ports.users.expect_find_by_id().returning(move |_| Ok(Some(User { name: None, ..user.clone() })));
    ports.tasks.expect_counts().returning(|_, _| Ok(TaskCounts::default()));
    ports.tasks.expect_tag_counts().returning(|_| Ok(vec![TagCount { tag: Tag::parse("home").unwrap(), count: 2 }]));
    let app = test::init_service(app(state(ports), cors())).await;
    let cases = [
        ("get", "/api/{user_id}/tasks/{task_id}", "200", task_url(ALICE, T1)),
        ("get", "/api/{user_id}/tasks/{task_id}", "200", task_url(ALICE, T2)),
        ("get", "/api/{user_id}/tasks/{task_id}", "200", task_url(ALICE, T3)),
        ("get", "/auth/me", "200", "/auth/me".to_owned()),
        ("get", "/api/{user_id}/tasks/statistics", "200", statistics_url(ALICE)),
        ("get", "/api/{user_id}/tags", "200", format!("/api/{ALICE}/tags")),
        ("get", "/api/{user_id}/tasks", "422", format!("{}?limit=0", tasks_url(ALICE))),
        ("get", "/api/{user_id}/tasks", "403", tasks_url(BOB)),
        ("get", "/health", "200", "/health".to_owned()),
        ("get", "/health/ready", "200", "/health/ready".to_owned()),
    ];
    for (method, path, status, url) in cases {
        let answer = call(&app, get(&url).signed_in_as(ALICE).to_request()).await;
        assert_eq!(answer.status.as_str(), status, "{url}");
        let schema = documented(&document, method, path, status);
        assert!(!schema.is_null(), "{method} {path} {status} has no schema");
        fits(&document, schema, &answer.json(), "body").unwrap_or_else(|e| panic!("{method} {path} {status}: {e}"));
    }
}

#[actix_web::test]
async fn openapi_json_documents_the_list_reminder_and_session_bodies_the_server_sends() {
    let document = send(Ports::new(), get("/openapi.json")).await.json();
    let mut ports = Ports::signed_in();
    let tasks = full_and_empty_tasks();
    let listed = tasks.clone();
    ports.tasks.expect_list().returning(move |_, _| Ok(listed.clone()));
    ports.tasks.expect_count_by_status().returning(|_| Ok(StatusCounts { pending: 2, completed: 1 }));
    ports.tasks.expect_due_reminders().returning(move |_, _, _| Ok(tasks.clone()));
    ports.users.expect_insert().returning(|_| Ok(()));
    let app = test::init_service(app(state(ports), cors())).await;
    let register = post("/auth/register").json(&json!({"email": "bo@example.com", "password": PASSWORD}));
    let cases = [
        ("get", "/api/{user_id}/tasks", "200", get(&tasks_url(ALICE)).signed_in_as(ALICE)),
        (
            "get",
            "/api/{user_id}/tasks/reminders",
            "200",
            get(&format!("{}/reminders", tasks_url(ALICE))).signed_in_as(ALICE),
        ),
        ("post", "/auth/register", "201", register),
    ];
    for (method, path, status, request) in cases {
        let answer = call(&app, request.to_request()).await;
        assert_eq!(answer.status.as_str(), status, "{method} {path}");
        let schema = documented(&document, method, path, status);
        fits(&document, schema, &answer.json(), "body").unwrap_or_else(|e| panic!("{method} {path} {status}: {e}"));
    }
}

#[actix_web::test]
async fn docs_is_an_html_page() {
    for path in ["/docs", "/docs/", "/docs/index.html", "/docs/index.html?x=1"] {
        let answer = send(Ports::new(), get(path)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert!(answer.header("content-type").unwrap().starts_with("text/html"), "{path}");
        let page = String::from_utf8_lossy(&answer.body);
        assert!(page.contains("/openapi.json") && page.contains("/docs/swagger-ui-bundle.js"), "{path}");
    }
}

#[actix_web::test]
async fn docs_serves_swagger_ui_assets_offline() {
    for file in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"] {
        let answer = send(Ports::new(), get(&format!("/docs/{file}"))).await;
        assert_eq!(answer.status, StatusCode::OK, "{file}");
        assert!(!answer.body.is_empty(), "{file}");
    }
}

#[actix_web::test]
async fn docs_unknown_files_are_json_404_and_never_panic() {
    for path in [
        "/docs/nope.js",
        "/docs/../etc/passwd",
        "/docs/%2e%2e/etc/passwd",
        "/docs/swagger-ui.css/x",
        "/docs/swagger-ui.css?x=1",
    ] {
        let answer = send(Ports::new(), get(path)).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        let expected = format!("no such file: {}", path.split('?').next().unwrap());
        assert_eq!(answer.json(), error("NOT_FOUND", &expected), "{path}");
    }
}
