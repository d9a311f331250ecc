DROP INDEX tasks_user_statistics;
