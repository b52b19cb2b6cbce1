//! Logging: `tracing` with `RUST_LOG` filters; JSON lines when
//! `RUST_LOG_FORMAT=json`. Request spans carry `request_id`, so every line logged
//! while serving a request names it. Text lines are coloured only when stdout is
//! a terminal (and `NO_COLOR` is unset): redirected logs stay plain text.

use std::io::IsTerminal;

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// `default_filter` applies when `RUST_LOG` is unset.
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("RUST_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let registry = tracing_subscriber::registry().with(filter);
    if json {
        let _ = registry.with(fmt::layer().json().with_current_span(true).with_span_list(false)).try_init();
    } else {
        let _ = registry.with(fmt::layer().with_target(false).with_ansi(colour_wanted())).try_init();
    }
}

/// Colour codes are for a person at a terminal; in a file, a pipe, journald or
/// a container log they are noise that breaks grep.
fn colour_wanted() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}
