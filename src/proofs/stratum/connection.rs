//! Per-connection plumbing kept small, because a farm proof holds thousands of
//! idle-most-of-the-time sessions: a line reader whose buffer shrinks back to a
//! few hundred bytes between lines, and the caps on connections per IP and in
//! total.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::io::AsyncReadExt;
use tokio::net::tcp::ReadHalf;

/// What reading a line came to.
pub enum Read {
    Line(String),
    /// Longer than the cap: garbage (the rest of it up to the newline is skipped).
    TooLong,
    /// The miner closed the connection, or it failed.
    Closed,
}

/// Newline-delimited lines from a socket, at most `max` bytes each. Cancel
/// safe: bytes read are kept in the reader until a whole line is there.
pub struct LineReader {
    buf: Vec<u8>,
    max: usize,
    /// Skipping the rest of a too-long line.
    discarding: bool,
}

impl LineReader {
    pub fn new(max: usize) -> Self {
        Self { buf: Vec::new(), max, discarding: false }
    }

    pub async fn next(&mut self, socket: &mut ReadHalf<'_>) -> Read {
        loop {
            if let Some(read) = self.take_line() {
                return read;
            }
            self.buf.reserve(512);
            // Cancel safe: when another branch wins, nothing was read.
            match socket.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => return Read::Closed,
                Ok(_) => {}
            }
        }
    }

    fn take_line(&mut self) -> Option<Read> {
        match self.buf.iter().position(|&b| b == b'\n') {
            Some(end) => {
                let rest = self.buf.split_off(end + 1);
                let mut line = std::mem::replace(&mut self.buf, rest);
                if std::mem::take(&mut self.discarding) {
                    self.release();
                    return self.take_line();
                }
                line.truncate(end);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.release();
                if line.len() > self.max {
                    return Some(Read::TooLong);
                }
                Some(match String::from_utf8(line) {
                    Ok(line) => Read::Line(line),
                    // Not text: as garbage as it gets, and parsed as such.
                    Err(_) => Read::Line(String::from("\u{fffd}")),
                })
            }
            None if self.buf.len() > self.max => {
                // No newline within the cap: report once, skip to the next newline.
                self.buf = Vec::new();
                if std::mem::replace(&mut self.discarding, true) {
                    None
                } else {
                    Some(Read::TooLong)
                }
            }
            None => None,
        }
    }

    /// An idle connection holds no more than a small buffer.
    fn release(&mut self) {
        if self.buf.is_empty() && self.buf.capacity() > 1024 {
            self.buf = Vec::new();
        }
    }
}

/// Connections held, in total and per IP; a [`Slot`] is one of them.
#[derive(Clone, Default)]
pub struct Occupancy {
    inner: Arc<Mutex<Counts>>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// Why a connection was turned away.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Full,
    TooManyFromIp,
}

impl Occupancy {
    /// A slot for a connection from `ip`, unless a cap is reached.
    pub fn take(&self, ip: IpAddr, max_total: usize, max_per_ip: usize) -> Result<Slot, Refused> {
        let mut counts = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if counts.total >= max_total {
            return Err(Refused::Full);
        }
        let from_ip = counts.per_ip.entry(ip).or_default();
        if *from_ip >= max_per_ip {
            return Err(Refused::TooManyFromIp);
        }
        *from_ip += 1;
        counts.total += 1;
        Ok(Slot { occupancy: self.clone(), ip })
    }

    pub fn total(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

/// Held for the life of a connection; gives its place back when dropped.
pub struct Slot {
    occupancy: Occupancy,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.occupancy.inner.lock().unwrap_or_else(|e| e.into_inner());
        counts.total -= 1;
        if let Some(from_ip) = counts.per_ip.get_mut(&self.ip) {
            *from_ip -= 1;
            if *from_ip == 0 {
                counts.per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_per_ip_and_in_total_and_slots_give_their_place_back() {
        let occupancy = Occupancy::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = occupancy.take(a, 3, 2).unwrap();
        let _second = occupancy.take(a, 3, 2).unwrap();
        assert_eq!(occupancy.take(a, 3, 2).err(), Some(Refused::TooManyFromIp));
        let _third = occupancy.take(b, 3, 2).unwrap();
        assert_eq!(occupancy.take(b, 3, 2).err(), Some(Refused::Full));
        drop(first);
        let _back = occupancy.take(a, 3, 2).expect("the freed place");
        assert_eq!(occupancy.total(), 3);
    }
}
