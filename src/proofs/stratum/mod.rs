//! The Stratum V1 listener rigs mine against during a hashrate proof
//! (`RIGMARKET_STRATUM_ADDR`; `RIGMARKET_STRATUM_JOB_INTERVAL_SECS`, default 30;
//! connection hygiene in [`crate::config::StratumSettings`]). Each connection is
//! an independent task: garbage on one never affects another, and all shared
//! state (proofs, accepted shares) lives in PostgreSQL, so any number of stratum
//! processes can serve one database (behind one TCP load balancer): the share
//! writer's batches lock the proofs they touch, so verdicts stay exact.
//!
//! Hygiene, as pools do it: a deadline to subscribe and authorize, a line-length
//! cap, caps on connections per IP and in total, an idle timeout, a bounded
//! send side (a small `SO_SNDBUF` and a write deadline: a miner that stops
//! reading is dropped, it does not grow memory), and a garbage flood closes only
//! its own connection. On shutdown the listener stops accepting, every session
//! finishes the answer in flight, sends `client.reconnect` and closes; the
//! caller then flushes the share writer.
//!
//! The share difficulty is fixed for a proof (`mining.set_difficulty` once, no
//! vardiff): the verdict turns a share count N into a hashrate through N·D·2³²/T,
//! which needs one known D over the whole window. Changing D mid-proof would
//! make the count a sum over differently weighted periods, and a miner
//! influencing D (`mining.suggest_difficulty` is acknowledged and ignored)
//! would influence the verdict's variance. D is instead chosen at issue time
//! from the claim and the window, for the number of shares the interval needs.

pub mod connection;
pub mod context;
pub mod protocol;
pub mod session;
pub mod work;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use rand::RngCore;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::{sleep_until, timeout, Instant};
use tokio_util::task::TaskTracker;

use crate::proofs::share_writer::ShareWriter;
use crate::state::AppState;
use connection::{LineReader, Occupancy, Read, Slot};
use context::Context;
use session::Session;

/// How long the listener pauses after a failed accept (e.g. `EMFILE`).
const ACCEPT_ERROR_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// Accepts miners until `shutdown` flips, then drains every session.
pub async fn serve(state: AppState, writer: ShareWriter, listener: TcpListener, shutdown: watch::Receiver<bool>) {
    let context = Arc::new(Context { state, writer });
    let settings = context.state.config.stratum.clone();
    // Extranonce1 values count up from a random start: unique for every
    // connection of this process, and unlikely to meet another process's range.
    let next_extranonce1 = Arc::new(AtomicU32::new(rand::rng().next_u32()));
    let occupancy = Occupancy::default();
    let sessions = TaskTracker::new();
    let mut stop = shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let slot = match occupancy.take(peer.ip(), settings.max_connections, settings.max_connections_per_ip) {
                        Ok(slot) => slot,
                        Err(refused) => {
                            tracing::debug!(%peer, ?refused, "stratum connection refused");
                            continue; // dropping the socket closes it
                        }
                    };
                    let extranonce1 = next_extranonce1.fetch_add(1, Ordering::Relaxed).to_be_bytes();
                    sessions.spawn(run_session(context.clone(), socket, extranonce1, shutdown.clone(), slot));
                }
                Err(err) => {
                    // Out of file descriptors (or another resource): the next
                    // accept would fail at once, so pause instead of spinning,
                    // as actix-server and tokio's examples do.
                    tracing::warn!(error = %err, "stratum accept failed; pausing accepts for 100 ms");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                }
            },
            _ = stopped(&mut stop) => break,
        }
    }
    drop(listener);
    sessions.close();
    tracing::info!(sessions = occupancy.total(), "stratum listener stopped; draining sessions");
    sessions.wait().await;
    tracing::info!("stratum sessions drained");
}

async fn run_session(
    context: Arc<Context>,
    mut socket: TcpStream,
    extranonce1: [u8; 4],
    mut shutdown: watch::Receiver<bool>,
    _slot: Slot,
) {
    let settings = &context.state.config.stratum;
    let job_interval = context.state.config.stratum_job_interval;
    let _ = socket.set_nodelay(true);
    // A bounded send side: the kernel holds at most this much for a miner that
    // does not read, and the write deadline below drops it.
    let _ = socket2::SockRef::from(&socket).set_send_buffer_size(settings.send_buffer_bytes);
    let (mut input, mut output) = socket.split();
    let mut session = Session::new(extranonce1);
    let mut reader = LineReader::new(settings.max_line_bytes);
    let handshake_deadline = Instant::now() + settings.handshake_deadline;
    let mut idle_deadline = Instant::now() + settings.idle_timeout;
    let mut next_job = Instant::now() + job_interval;
    loop {
        // Checked on every line too: a miner that keeps talking without ever
        // authorizing must not outlive the handshake deadline.
        if !session.is_mining() && Instant::now() >= handshake_deadline {
            tracing::debug!("closing a stratum connection that did not subscribe and authorize in time");
            break;
        }
        let mut wake = idle_deadline.min(next_job);
        if !session.is_mining() {
            wake = wake.min(handshake_deadline);
        }
        if let Some(window_end) = session.window_ends_in(&context.state) {
            wake = wake.min(Instant::now() + window_end);
        }
        let replies = tokio::select! {
            biased;
            _ = stopped(&mut shutdown) => {
                let reconnect = protocol::notification("client.reconnect", serde_json::json!([]));
                let _ = timeout(settings.write_timeout, output.write_all(reconnect.as_bytes())).await;
                break;
            }
            read = reader.next(&mut input) => match read {
                Read::Line(line) if line.trim().is_empty() => continue,
                Read::Line(line) => {
                    idle_deadline = Instant::now() + settings.idle_timeout;
                    // Boxed: the big future lives on the heap only while a line
                    // is handled, not in every idle session.
                    Box::pin(session.handle(&context, &line)).await
                }
                Read::TooLong => vec![session.count_garbage()],
                Read::Closed => break,
            },
            _ = sleep_until(wake) => {
                let now = Instant::now();
                if !session.is_mining() && now >= handshake_deadline {
                    tracing::debug!("closing a stratum connection that did not subscribe and authorize in time");
                    break;
                }
                if now >= idle_deadline {
                    tracing::debug!("closing an idle stratum connection");
                    break;
                }
                if session.window_ended(&context.state) {
                    // The proof's window is over: end the session instead of
                    // refusing every later share.
                    break;
                }
                if now >= next_job {
                    next_job = now + job_interval;
                    if session.is_mining() { vec![session.new_job(&context.state)] } else { Vec::new() }
                } else {
                    Vec::new()
                }
            }
        };
        if !replies.is_empty() {
            let out: String = replies.concat();
            match timeout(settings.write_timeout, output.write_all(out.as_bytes())).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => break,
                Err(_) => {
                    tracing::info!("dropping a stratum connection that does not read its answers");
                    break;
                }
            }
        }
        if session.should_close() {
            tracing::debug!("closing a stratum connection (garbage or the proof's window ended)");
            break;
        }
    }
}

/// Resolves once `shutdown` is (or already was) true.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopped| *stopped).await;
}
