//! Which code runs which kind of job. Capabilities register their handlers
//! (`<capability>::register_jobs`); the composition root adds the handlers that
//! connect one capability's events to another's use cases.

use std::collections::{BTreeMap, HashMap};

use diesel_async::AsyncPgConnection;
use futures_util::future::BoxFuture;

use super::job::{Job, PeriodicJob};
use super::periodic::PeriodicTask;

/// What a handler returns: a future borrowing the job's connection.
pub type JobFuture<'c> = BoxFuture<'c, anyhow::Result<()>>;

type Handler = Box<dyn for<'c> Fn(&'c mut AsyncPgConnection, serde_json::Value) -> JobFuture<'c> + Send + Sync>;
type Decoder = fn(&serde_json::Value) -> Result<(), serde_json::Error>;

#[derive(Default)]
pub struct JobRegistry {
    handlers: HashMap<&'static str, (Handler, Decoder)>,
    periodic: BTreeMap<&'static str, PeriodicTask>,
}

impl JobRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `handler` for every job of kind `J`. Panics when `J` already has one:
    /// two handlers for one kind is a wiring mistake, found at start-up.
    pub fn on<J, F>(&mut self, handler: F) -> &mut Self
    where
        J: Job,
        F: for<'c> Fn(&'c mut AsyncPgConnection, J) -> JobFuture<'c> + Send + Sync + 'static,
    {
        let run: Handler = Box::new(move |conn, payload| match serde_json::from_value::<J>(payload) {
            Ok(job) => handler(conn, job),
            Err(err) => Box::pin(async move { Err(anyhow::anyhow!("malformed {} payload: {err}", J::KIND)) }),
        });
        let decode: Decoder = |payload| serde_json::from_value::<J>(payload.clone()).map(drop);
        let previous = self.handlers.insert(J::KIND, (run, decode));
        assert!(previous.is_none(), "job kind {} has two handlers", J::KIND);
        self
    }

    /// Like [`JobRegistry::on`], and schedules `J` every `J::EVERY`.
    pub fn every<J, F>(&mut self, handler: F) -> &mut Self
    where
        J: PeriodicJob,
        F: for<'c> Fn(&'c mut AsyncPgConnection, J) -> JobFuture<'c> + Send + Sync + 'static,
    {
        let tick = serde_json::to_value(super::periodic::Tick { due_at: Some(chrono::DateTime::UNIX_EPOCH) })
            .expect("a tick serializes");
        if let Err(err) = serde_json::from_value::<J>(tick) {
            panic!("periodic job {} does not accept a Tick payload: {err}", J::KIND);
        }
        self.periodic.insert(J::KIND, PeriodicTask { name: J::KIND, every: J::EVERY });
        self.on(handler)
    }

    pub(super) fn handler(&self, kind: &str) -> Option<&Handler> {
        self.handlers.get(kind).map(|(run, _)| run)
    }

    pub(super) fn periodic_tasks(&self) -> Vec<PeriodicTask> {
        self.periodic.values().cloned().collect()
    }

    /// Why a stored job could never run: an unknown kind or a payload its type
    /// does not accept. `None` when it can.
    pub fn problem_with(&self, kind: &str, payload: &serde_json::Value) -> Option<String> {
        match self.handlers.get(kind) {
            None => Some(format!("no handler for job kind {kind:?}")),
            Some((_, decode)) => decode(payload).err().map(|err| format!("{kind} payload {payload}: {err}")),
        }
    }
}
