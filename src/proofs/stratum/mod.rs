//! The Stratum V1 listener rigs mine against during a hashrate proof
//! (`RIGMARKET_STRATUM_ADDR`; `RIGMARKET_STRATUM_JOB_INTERVAL_SECS`, default 30).
//! Each connection is an independent task: garbage on one never affects another,
//! and all shared state (proofs, accepted shares) lives in PostgreSQL, so any
//! number of stratum processes can serve one database.

pub mod protocol;
pub mod session;
pub mod work;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand::RngCore;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};

use crate::state::AppState;
use session::Session;

/// Accepts miners until `shutdown` flips, then lets every session close.
pub async fn serve(state: AppState, listener: TcpListener, shutdown: watch::Receiver<bool>) {
    let job_interval = state.config.stratum_job_interval;
    // Extranonce1 values count up from a random start: unique for every
    // connection of this process, and unlikely to meet another process's range.
    let next_extranonce1 = Arc::new(AtomicU32::new(rand::rng().next_u32()));
    let mut stop = shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    tracing::debug!(%peer, "miner connected");
                    let extranonce1 = next_extranonce1.fetch_add(1, Ordering::Relaxed).to_be_bytes();
                    tokio::spawn(run_session(state.clone(), socket, extranonce1, shutdown.clone(), job_interval));
                }
                Err(err) => tracing::warn!(error = %err, "stratum accept failed"),
            },
            _ = stop.changed() => break,
        }
    }
    tracing::info!("stratum listener stopped");
}

async fn run_session(
    state: AppState,
    socket: TcpStream,
    extranonce1: [u8; 4],
    mut shutdown: watch::Receiver<bool>,
    job_interval: Duration,
) {
    let _ = socket.set_nodelay(true);
    let mut session = Session::new(extranonce1);
    let mut lines = Framed::new(socket, LinesCodec::new_with_max_length(protocol::MAX_LINE_BYTES));
    let mut refresh = tokio::time::interval(job_interval);
    refresh.tick().await;
    loop {
        let replies = tokio::select! {
            line = lines.next() => match line {
                Some(Ok(line)) if line.trim().is_empty() => continue,
                Some(Ok(line)) => session.handle(&state, &line).await,
                Some(Err(LinesCodecError::MaxLineLengthExceeded)) => vec![session.count_garbage()],
                Some(Err(_)) | None => break,
            },
            _ = refresh.tick(), if session.is_mining() => vec![session.new_job(&state)],
            _ = shutdown.changed() => break,
        };
        for reply in replies {
            if lines.send(reply.trim_end_matches('\n')).await.is_err() {
                return;
            }
        }
        if session.should_close() {
            tracing::info!("closing a stratum connection after repeated garbage");
            break;
        }
    }
}
