//! What every stratum session of one process shares.

use crate::proofs::share_writer::ShareWriter;
use crate::state::AppState;

pub struct Context {
    pub state: AppState,
    /// The process's group-commit writer of shares and reject counts.
    pub writer: ShareWriter,
}
