//! Raw REST requests for what serenity 0.12.5 cannot do: pinning on the current route
//! (`PUT /channels/{channel.id}/messages/pins/{message.id}`; serenity calls the deprecated
//! `/channels/{id}/pins/{id}`), and reading a guild or channel as JSON so that permission bits
//! newer than serenity survive (see [`super::permissions`]).
//!
//! The requests go through the bot's own HTTP client (the reqwest client serenity was built
//! with), to the same base URL (the proxy when one is configured) with the same token. They
//! bypass serenity's rate limiter: they are rare (a moderator's click), and a 429 is reported
//! like any other refusal.

use poise::serenity_prelude as serenity;
use serde::de::DeserializeOwned;

const DISCORD: &str = "https://discord.com";

/// Why a raw request failed.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// Discord answered with an error status; `code` is Discord's JSON error code (50013:
    /// Missing Permissions).
    #[error("Discord answered {status} (code {code}): {message}")]
    Status { status: u16, code: u64, message: String },
    #[error("request failed: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("unexpected answer: {0}")]
    Decode(#[from] serde_json::Error),
}

impl RestError {
    /// Discord's "Missing Permissions" (403, code 50013): the bot lacks a permission.
    pub fn missing_permissions(&self) -> bool {
        matches!(self, RestError::Status { status: 403, code: 50013, .. })
    }
}

/// The client and address raw requests use.
#[derive(Clone)]
pub struct Rest {
    client: reqwest::Client,
}

impl Rest {
    pub fn new(client: reqwest::Client) -> Rest {
        Rest { client }
    }

    fn url(http: &serenity::Http, path: &str) -> String {
        let base = http.proxy.as_deref().map_or(DISCORD, |p| p.trim_end_matches('/'));
        format!("{base}/api/v10{path}")
    }

    async fn send(&self, http: &serenity::Http, request: reqwest::RequestBuilder) -> Result<reqwest::Response, RestError> {
        let response = request
            .header(reqwest::header::AUTHORIZATION, http.token())
            .header(reqwest::header::USER_AGENT, ::serenity::constants::USER_AGENT)
            .send()
            .await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        #[derive(serde::Deserialize, Default)]
        struct ErrorBody {
            #[serde(default)]
            code: u64,
            #[serde(default)]
            message: String,
        }
        let body: ErrorBody = response.bytes().await.ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
        Err(RestError::Status { status: status.as_u16(), code: body.code, message: body.message })
    }

    /// `GET path` (without `/api/v10`), decoded from JSON.
    pub async fn get<T: DeserializeOwned>(&self, http: &serenity::Http, path: &str) -> Result<T, RestError> {
        let response = self.send(http, self.client.get(Self::url(http, path))).await?;
        Ok(serde_json::from_slice(&response.bytes().await?)?)
    }

    /// Pins `message` in `channel` on the current route.
    pub async fn pin(&self, http: &serenity::Http, channel: u64, message: u64) -> Result<(), RestError> {
        let url = Self::url(http, &format!("/channels/{channel}/messages/pins/{message}"));
        self.send(http, self.client.put(url).header(reqwest::header::CONTENT_LENGTH, 0)).await?;
        Ok(())
    }
}
