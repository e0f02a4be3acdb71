//! Getting the bot's replies through Discord's REST API when it misbehaves: which failures are
//! worth another try and after how long, and a loop that tries, waits, and finally gives up
//! with a log line naming what was not delivered. Pure policy plus one small async loop; the
//! callers make their requests idempotent (a channel message carries a nonce Discord enforces,
//! so a retry after a lost response cannot post the answer twice).
//!
//! Retried: 429 (after the advertised wait, at least [`MIN_RATE_LIMIT_WAIT`]; serenity's own
//! rate limiter does this already unless a proxy owns rate limiting), 500/502/503/504 and
//! transport failures (timeouts, refused or reset connections), with exponential backoff.
//! Not retried: every other 4xx (the request itself is wrong or not allowed; trying again
//! cannot help).

use std::future::Future;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use serenity::HttpError;

use super::metrics::Metrics;

/// Tries per request, the first included.
pub const ATTEMPTS: u32 = 4;
/// Wait before the first retry; doubled for each further one.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Least wait after a 429 whose wait could not be read.
pub const MIN_RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    RetryAfter(Duration),
    GiveUp,
}

/// What failed: Discord answered with an HTTP status, or the request never got an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Status(u16),
    /// Timeout, refused or reset connection: the request may or may not have arrived.
    Transport,
    /// Anything else (a body that does not serialize, a model error): not worth retrying.
    Other,
}

impl Failure {
    pub fn of(error: &serenity::Error) -> Failure {
        match error {
            serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => Failure::Status(response.status_code.as_u16()),
            serenity::Error::Http(HttpError::Request(e)) if e.is_timeout() || e.is_connect() || e.is_request() => Failure::Transport,
            _ => Failure::Other,
        }
    }
}

/// Whether sending the same request twice could post the reply twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Discord deduplicates it (a channel message with an enforced nonce): any failure may be
    /// retried.
    Safe,
    /// No deduplication (an interaction follow-up): retried only when Discord said it created
    /// nothing (429, 5xx), never after a transport failure whose request may have arrived.
    Unsafe,
}

/// The verdict for a failure on attempt `attempt` (1-based).
pub fn classify(failure: Failure, attempt: u32, repeat: Repeat) -> Verdict {
    if attempt >= ATTEMPTS || (failure == Failure::Transport && repeat == Repeat::Unsafe) {
        return Verdict::GiveUp;
    }
    let backoff = FIRST_BACKOFF * 2u32.pow(attempt - 1);
    match failure {
        Failure::Status(429) => Verdict::RetryAfter(backoff.max(MIN_RATE_LIMIT_WAIT)),
        Failure::Status(500 | 502 | 503 | 504) | Failure::Transport => Verdict::RetryAfter(backoff),
        Failure::Status(_) | Failure::Other => Verdict::GiveUp,
    }
}

/// Runs `attempt` until it succeeds or [`classify`] gives up; `what` names the reply in logs.
/// Each retry and a reply given up are counted in `metrics`.
pub async fn with_retries<T, F, Fut>(what: &str, repeat: Repeat, metrics: &Metrics, mut attempt: F) -> Result<T, serenity::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, serenity::Error>>,
{
    let mut n = 1;
    loop {
        match attempt().await {
            Ok(v) => {
                if n > 1 {
                    tracing::info!(what, attempts = n, "delivered after retrying");
                }
                return Ok(v);
            }
            Err(e) => match classify(Failure::of(&e), n, repeat) {
                Verdict::RetryAfter(wait) => {
                    tracing::warn!(what, attempt = n, error = %e, wait_ms = wait.as_millis() as u64, "Discord refused a reply; retrying");
                    metrics.rest_retry();
                    tokio::time::sleep(wait).await;
                    n += 1;
                }
                Verdict::GiveUp => {
                    metrics.undelivered();
                    tracing::error!(what, attempts = n, error = %e, "reply not delivered");
                    return Err(e);
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use Failure::Status;

    #[test]
    fn server_errors_and_rate_limits_are_retried_with_growing_waits() {
        assert_eq!(classify(Status(500), 1, Repeat::Safe), Verdict::RetryAfter(FIRST_BACKOFF));
        assert_eq!(classify(Status(502), 2, Repeat::Safe), Verdict::RetryAfter(FIRST_BACKOFF * 2));
        assert_eq!(classify(Status(503), 3, Repeat::Safe), Verdict::RetryAfter(FIRST_BACKOFF * 4));
        assert_eq!(classify(Status(429), 1, Repeat::Safe), Verdict::RetryAfter(MIN_RATE_LIMIT_WAIT));
        assert_eq!(classify(Status(500), ATTEMPTS, Repeat::Safe), Verdict::GiveUp, "bounded");
    }

    #[test]
    fn requests_discord_rejects_are_not_retried() {
        for code in [400, 401, 403, 404, 413] {
            assert_eq!(classify(Status(code), 1, Repeat::Safe), Verdict::GiveUp, "{code}");
        }
        assert_eq!(classify(Failure::Other, 1, Repeat::Safe), Verdict::GiveUp);
        assert_eq!(classify(Failure::Transport, 1, Repeat::Safe), Verdict::RetryAfter(FIRST_BACKOFF));
    }

    #[test]
    fn a_reply_without_deduplication_is_not_retried_after_a_lost_response() {
        assert_eq!(classify(Failure::Transport, 1, Repeat::Unsafe), Verdict::GiveUp);
        assert_eq!(classify(Status(502), 1, Repeat::Unsafe), Verdict::RetryAfter(FIRST_BACKOFF));
        assert_eq!(classify(Status(429), 1, Repeat::Unsafe), Verdict::RetryAfter(MIN_RATE_LIMIT_WAIT));
    }
}
