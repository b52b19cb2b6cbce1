//! The teardown check every test gets (as crates.io's harness does): no job
//! left in the queue that could never run (an unknown kind, a payload its type
//! does not accept), and no job that failed.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rigmarket::db::schema::jobs;
use rigmarket::jobs::JobRunner;

/// One line per unexpected job. Runs on its own thread and runtime, because it
/// is called from `Drop`.
pub fn stray_jobs(database_url: &str, runner: JobRunner) -> Vec<String> {
    let url = database_url.to_string();
    let rows = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        runtime.block_on(async {
            let mut conn = AsyncPgConnection::establish(&url).await.expect("connect to the test database");
            jobs::table
                .select((jobs::id, jobs::kind, jobs::payload, jobs::status, jobs::attempts, jobs::last_error))
                .order(jobs::id)
                .load::<(i64, String, serde_json::Value, String, i32, Option<String>)>(&mut conn)
                .await
                .expect("read the job queue")
        })
    })
    .join()
    .expect("the job check thread");
    let mut stray = Vec::new();
    for (id, kind, payload, status, attempts, last_error) in rows {
        if let Some(problem) = runner.registry().problem_with(&kind, &payload) {
            stray.push(format!("job {id}: {problem}"));
        } else if attempts > 0 {
            let error = last_error.unwrap_or_default();
            stray.push(format!("job {id} ({kind}, {status}) failed {attempts} time(s): {error}"));
        }
    }
    stray
}
