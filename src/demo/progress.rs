//! What `seed-demo` shows while it works, on stderr (stdout carries the report):
//! on a terminal, an indicatif spinner or bar per phase; anywhere else (a pipe,
//! a log file, CI) plain lines, one when a phase starts, a few as it goes and
//! one when it ends, with no control codes.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where progress goes.
#[derive(Clone)]
pub enum Progress {
    Terminal,
    Plain(Arc<Mutex<dyn Write + Send>>),
}

impl Progress {
    /// Bars when stderr is a terminal, plain lines on stderr otherwise.
    pub fn on_stderr() -> Self {
        if std::io::stderr().is_terminal() {
            Self::Terminal
        } else {
            Self::Plain(Arc::new(Mutex::new(std::io::stderr())))
        }
    }

    /// Starts a phase of `len` steps (`None`: a spinner, for one long step).
    pub fn phase(&self, name: &'static str, len: Option<u64>) -> Phase {
        let out = match self {
            Self::Terminal => Out::Bar(bar(name, len)),
            Self::Plain(writer) => {
                let out = Out::Lines(writer.clone());
                out.line(&match len {
                    Some(len) => format!("{name}: 0/{len}"),
                    None => format!("{name} ..."),
                });
                out
            }
        };
        Phase { name, len, done: 0, started: Instant::now(), out }
    }
}

fn bar(name: &'static str, len: Option<u64>) -> ProgressBar {
    let bar = match len {
        Some(len) => ProgressBar::new(len).with_style(
            ProgressStyle::with_template("{prefix:>9} {bar:32} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{prefix:>9} {spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar.set_prefix(name);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

enum Out {
    Bar(ProgressBar),
    Lines(Arc<Mutex<dyn Write + Send>>),
}

impl Out {
    fn line(&self, text: &str) {
        if let Self::Lines(writer) = self {
            // Progress is a courtesy: a closed stderr must not stop the seeding.
            let _ = writeln!(writer.lock().unwrap_or_else(|e| e.into_inner()), "{text}");
        }
    }
}

/// One phase: advanced step by step, then finished with a summary.
pub struct Phase {
    name: &'static str,
    len: Option<u64>,
    done: u64,
    started: Instant,
    out: Out,
}

impl Phase {
    /// One more step done; `what` says which (shown on a terminal only).
    pub fn advance(&mut self, what: &str) {
        self.done += 1;
        match (&self.out, self.len) {
            (Out::Bar(bar), _) => {
                bar.set_message(what.to_string());
                bar.inc(1);
            }
            // A line at every quarter, so a long phase shows it is moving.
            (Out::Lines(_), Some(len)) if len >= 8 && self.done < len && self.done.is_multiple_of(len.div_ceil(4)) => {
                self.out.line(&format!("{}: {}/{len}", self.name, self.done));
            }
            _ => {}
        }
    }

    pub fn finish(self, summary: &str) {
        let took = self.started.elapsed().as_secs_f32();
        match &self.out {
            Out::Bar(bar) => bar.finish_with_message(format!("{summary} ({took:.1} s)")),
            Out::Lines(_) => self.out.line(&format!("{}: {summary} ({took:.1} s)", self.name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_terminal_each_phase_is_a_few_plain_lines() {
        let written = Arc::new(Mutex::new(Vec::<u8>::new()));
        struct Shared(Arc<Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().write(buf)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let progress = Progress::Plain(Arc::new(Mutex::new(Shared(written.clone()))));
        progress.phase("database", None).finish("migrated");
        let mut lots = progress.phase("lots", Some(8));
        for n in 0..8 {
            lots.advance(&format!("lot {n}"));
        }
        lots.finish("8 written");

        let text = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7, "{text}");
        assert_eq!(lines[0], "database ...");
        assert!(lines[1].starts_with("database: migrated ("), "{text}");
        assert_eq!(lines[2..6], ["lots: 0/8", "lots: 2/8", "lots: 4/8", "lots: 6/8"], "{text}");
        assert!(lines[6].starts_with("lots: 8 written ("), "{text}");
        assert!(!text.contains('\u{1b}'), "no control codes off a terminal: {text:?}");
    }
}
