//! End-to-end tests: the real actix app over a real database, driven only through HTTP
//! requests, the way a client uses it. `API.md` is the contract these tests check.
//!
//! Each scenario is written once (in `scenarios`) and stamped out per backend at the
//! bottom: `sqlite::*` always runs (in-memory); `postgres::*` runs against
//! `TEST_DATABASE_URL`, one fresh database per test (skipped without it, failing
//! without it when `CI=true`).

mod scenarios;
mod support;
mod sync;

/// Stamps every scenario out for one backend.
macro_rules! stamp {
    ($backend:ident, $variant:ident; $($(#[$attr:meta])* $scenario:ident),* $(,)?) => {
        mod $backend {
            $(
                $(#[$attr])*
                #[actix_web::test]
                async fn $scenario() {
                    super::scenarios::$scenario(super::support::Backend::$variant).await;
                }
            )*
        }
    };
}

macro_rules! every_scenario {
    ($backend:ident, $variant:ident; $($more:tt)*) => {
        stamp!($backend, $variant;
            the_journey_ends_with_the_token_revoked_on_every_route,
            no_route_lets_a_user_reach_another_users_tasks,
            logout_revokes_only_that_token,
            instances_over_one_database_share_tokens_and_revocations,
            bulk_requests_with_a_bad_id_change_nothing,
            paging_visits_every_task_once_in_order,
            every_error_has_the_contract_shape,
            completing_a_recurring_task_makes_exactly_one_next_occurrence,
            concurrent_completions_agree_and_make_one_occurrence,
            search_is_literal_and_ignores_unicode_case,
            filters_combine_with_and,
            statistics_and_tags_count_the_users_tasks,
            reminders_are_pending_tasks_whose_time_has_come,
            ten_failed_logins_lock_that_email_only,
            the_service_is_ready_with_its_database,
            cors_lets_the_configured_origin_call_every_route,
            two_writers_of_one_version_get_exactly_one_200_and_one_412,
            concurrent_taggers_and_editors_all_win,
            a_chosen_id_is_kept_and_a_taken_one_is_409_for_anyone,
            $($more)*
        );
    };
}

every_scenario!(sqlite, Sqlite;
        an_oversized_body_with_a_valid_token_is_refused,
        a_request_abandoned_mid_query_leaves_the_server_serving,
);
every_scenario!(postgres, Postgres;
    an_oversized_body_with_a_valid_token_is_refused,
    a_request_abandoned_mid_query_leaves_the_server_serving,
);
