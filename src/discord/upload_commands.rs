//! `/knowledge add|list|remove` (Manage Server): a server adds `.md`/`.txt` documents from a
//! Discord attachment, lists them, and removes them; [`super::uploads`] checks, stores and
//! indexes them. The file is fetched only from the attachment Discord resolved in the
//! interaction (never from a URL in a member's text), only from Discord's file servers (or
//! `DISCORD_PROXY`'s host, which stands in for Discord), without the bot's token, without
//! following redirects, and never more than the size limit is read.
//!
//! Each subcommand checks the member's permissions as the interaction gives them (Discord's own
//! computation, channel overwrites included): Manage Server or Administrator; a member without
//! them is refused even if poise's check let them through, and gets no autocomplete choices.

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use tracing::{error, info};

use super::bot::{BoxError, Context};
use super::reply::{reply, text_reply};
use super::uploads::{self, FetchError, UploadError};
use crate::labels;

/// Discord's file servers: attachments are fetched from these only (over HTTPS), or from the
/// host of `DISCORD_PROXY`.
const CDN_HOSTS: [&str; 2] = ["cdn.discordapp.com", "media.discordapp.net"];

/// The address to fetch an attachment from, if it is one of Discord's: HTTPS on [`CDN_HOSTS`],
/// or the scheme and host of the configured proxy (which answers for Discord, gateway address
/// included, so it is trusted as much). Anything else is refused without a request.
pub(super) fn attachment_url(raw: &str, proxy: Option<&str>) -> Result<reqwest::Url, UploadError> {
    let refused = || UploadError::Fetch(FetchError::NotDiscord);
    let url = reqwest::Url::parse(raw).map_err(|_| refused())?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused());
    }
    let host = url.host_str().ok_or_else(refused)?;
    if url.scheme() == "https" && CDN_HOSTS.contains(&host) && url.port().is_none() {
        return Ok(url);
    }
    let proxy = proxy.and_then(|p| reqwest::Url::parse(p).ok());
    if proxy.is_some_and(|p| p.scheme() == url.scheme() && p.host_str() == Some(host)) {
        return Ok(url);
    }
    Err(refused())
}

/// The attachment's bytes, at most `max` of them: a declared length over it stops before the
/// body, and reading stops as soon as the body passes it.
async fn fetch(url: reqwest::Url, name: &str, max: u64, timeout: Duration) -> Result<Vec<u8>, UploadError> {
    let failed = |e: reqwest::Error| UploadError::Fetch(FetchError::Transport(e.without_url()));
    let client =
        reqwest::Client::builder().use_rustls_tls().redirect(reqwest::redirect::Policy::none()).timeout(timeout).build().map_err(failed)?;
    let mut response = client.get(url).send().await.map_err(failed)?;
    let status = response.status();
    if !status.is_success() {
        return Err(UploadError::Fetch(FetchError::Status(status)));
    }
    let too_large = |size: u64| UploadError::TooLarge { name: uploads::display_name(name), size, max };
    if let Some(n) = response.content_length().filter(|&n| n > max) {
        return Err(too_large(n));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        let size = (bytes.len() + chunk.len()) as u64;
        if size > max {
            return Err(too_large(size));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Whether the member may change this server's documents: Manage Server or Administrator in the
/// interaction's own permission bits (absent bits: no).
fn may_manage(ctx: Context<'_>) -> bool {
    let poise::Context::Application(a) = ctx else { return false };
    a.interaction.member.as_ref().and_then(|m| m.permissions).is_some_and(|p| p.manage_guild() || p.administrator())
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Documents this server adds to what I answer from (Manage Server).
#[poise::command(
    slash_command,
    guild_only,
    subcommands("knowledge_add", "knowledge_list", "knowledge_remove"),
    subcommand_required,
    required_permissions = "MANAGE_GUILD",
    default_member_permissions = "MANAGE_GUILD"
)]
pub(super) async fn knowledge(_ctx: Context<'_>) -> Result<(), BoxError> {
    Ok(())
}

/// Add a .md or .txt file (UTF-8) to the documents I answer from in this server.
#[poise::command(slash_command, rename = "add", guild_only, required_permissions = "MANAGE_GUILD")]
async fn knowledge_add(
    ctx: Context<'_>,
    #[description = "A .md or .txt file, UTF-8 text"] file: serenity::Attachment,
    #[description = "The title answers show (default: the file's own)"]
    #[max_length = 200]
    title: Option<String>,
) -> Result<(), BoxError> {
    let Some(guild) = ctx.guild_id() else { return Ok(()) };
    if !may_manage(ctx) {
        ctx.send(text_reply(&labels::needs_manage_server(ctx.data().language(ctx.guild_id())))).await?;
        return Ok(());
    }
    let data = ctx.data();
    let max = data.uploads.max_bytes();
    // what Discord declares is checked first: a file refused on it is never fetched
    let declared = uploads::check_declared(&file.filename, u64::from(file.size), file.content_type.as_deref(), max)
        .and_then(|kind| Ok((kind, attachment_url(&file.url, data.config.proxy.as_deref())?)));
    let (kind, url) = match declared {
        Ok(ok) => ok,
        Err(e) => {
            info!(guild = guild.get(), reason = %e, "upload refused");
            ctx.send(text_reply(&e.message(ctx.data().language(ctx.guild_id())))).await?;
            return Ok(());
        }
    };
    ctx.defer_ephemeral().await?;
    let timeout = Duration::from_secs(data.config.http_timeout_secs);
    let prepared = match fetch(url, &file.filename, max, timeout).await {
        Ok(bytes) => uploads::prepare(&file.filename, kind, &bytes, title.as_deref(), max, ctx.author().id.get(), now()),
        Err(e) => Err(e),
    };
    let result = match prepared {
        Ok(prepared) => {
            let store = Arc::clone(&data.uploads);
            tokio::task::spawn_blocking(move || store.add(guild.get(), prepared)).await?
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(changed) => {
            ctx.send(reply(&uploads::changed_card(&changed, true, ctx.data().language(ctx.guild_id())), true)).await?;
        }
        Err(e) => {
            if e.is_refusal() {
                info!(guild = guild.get(), reason = %e, "upload refused");
            } else {
                error!(guild = guild.get(), error = %e, "upload failed; nothing changed");
            }
            ctx.send(text_reply(&e.message(ctx.data().language(ctx.guild_id())))).await?;
        }
    }
    Ok(())
}

/// List the documents this server added.
#[poise::command(slash_command, rename = "list", guild_only, required_permissions = "MANAGE_GUILD")]
async fn knowledge_list(ctx: Context<'_>) -> Result<(), BoxError> {
    let Some(guild) = ctx.guild_id() else { return Ok(()) };
    if !may_manage(ctx) {
        ctx.send(text_reply(&labels::needs_manage_server(ctx.data().language(ctx.guild_id())))).await?;
        return Ok(());
    }
    let store = Arc::clone(&ctx.data().uploads);
    let list = tokio::task::spawn_blocking(move || store.list(guild.get())).await?;
    ctx.send(reply(&uploads::list_card(&list, ctx.data().uploads.max_bytes(), ctx.data().language(ctx.guild_id())), true)).await?;
    Ok(())
}

/// Remove a document this server added.
#[poise::command(slash_command, rename = "remove", guild_only, required_permissions = "MANAGE_GUILD")]
async fn knowledge_remove(
    ctx: Context<'_>,
    #[description = "The document to remove"]
    #[autocomplete = "upload_choices"]
    #[max_length = 100]
    document: String,
) -> Result<(), BoxError> {
    let Some(guild) = ctx.guild_id() else { return Ok(()) };
    if !may_manage(ctx) {
        ctx.send(text_reply(&labels::needs_manage_server(ctx.data().language(ctx.guild_id())))).await?;
        return Ok(());
    }
    let key = document.trim().to_owned();
    if !uploads::is_key(&key) {
        // a typed value, not a choice from the list: refused before it comes near a path
        ctx.send(text_reply(&UploadError::Unknown(key).message(ctx.data().language(ctx.guild_id())))).await?;
        return Ok(());
    }
    ctx.defer_ephemeral().await?;
    let store = Arc::clone(&ctx.data().uploads);
    match tokio::task::spawn_blocking(move || store.remove(guild.get(), &key)).await? {
        Ok(changed) => {
            ctx.send(reply(&uploads::changed_card(&changed, false, ctx.data().language(ctx.guild_id())), true)).await?;
        }
        Err(e) => {
            if !e.is_refusal() {
                error!(guild = guild.get(), error = %e, "removing an upload failed; it is still served");
            }
            ctx.send(text_reply(&e.message(ctx.data().language(ctx.guild_id())))).await?;
        }
    }
    Ok(())
}

/// `/knowledge remove`'s choices: this server's uploads (none for a member who may not manage
/// them).
async fn upload_choices(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let choices = match ctx.guild_id() {
        Some(guild) if may_manage(ctx) => {
            let store = Arc::clone(&ctx.data().uploads);
            let partial = partial.to_owned();
            tokio::task::spawn_blocking(move || uploads::remove_choices(&store.list(guild.get()), &partial)).await.unwrap_or_default()
        }
        _ => Vec::new(),
    };
    serenity::CreateAutocompleteResponse::new()
        .set_choices(choices.into_iter().map(|(name, value)| serenity::AutocompleteChoice::new(name, value)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachments_are_fetched_from_discord_only() {
        let cdn = "https://cdn.discordapp.com/attachments/1/2/notes.md?ex=1&is=2&hm=3";
        assert_eq!(attachment_url(cdn, None).unwrap().as_str(), cdn);
        assert!(attachment_url("https://media.discordapp.net/attachments/1/2/a.txt", None).is_ok());
        for bad in [
            "http://cdn.discordapp.com/attachments/1/2/a.md",   // not HTTPS
            "https://cdn.discordapp.com:8443/attachments/a.md", // another port
            "https://cdn.discordapp.com.example.org/a.md",
            "https://user:pw@cdn.discordapp.com/a.md",
            "https://example.org/a.md",
            "file:///etc/passwd",
            "../../a.md",
        ] {
            assert!(attachment_url(bad, None).is_err(), "{bad}");
        }
        // behind a proxy that stands in for Discord, its host serves attachments too
        let proxy = Some("http://127.0.0.1:3000");
        assert!(attachment_url("http://127.0.0.1:4555/attachments/1/2/a.md", proxy).is_ok());
        assert!(attachment_url("http://10.0.0.1/attachments/1/2/a.md", proxy).is_err());
        assert!(attachment_url("https://127.0.0.1/a.md", proxy).is_err(), "scheme as the proxy's");
    }

    /// A file server on a thread that answers one request with `response` (raw HTTP).
    fn serve_once(response: Vec<u8>) -> reqwest::Url {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let mut request = [0u8; 4096];
                let _ = s.read(&mut request);
                let _ = s.write_all(&response);
            }
        });
        reqwest::Url::parse(&format!("http://{addr}/attachments/1/2/a.txt")).unwrap()
    }

    /// A body without a declared length (chunked) is read only up to the limit; a redirect is
    /// not followed.
    #[tokio::test]
    async fn fetching_stops_at_the_limit_and_follows_no_redirect() {
        let chunked = |n: usize| {
            let mut r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
            for _ in 0..n {
                r.extend_from_slice(b"400\r\n");
                r.extend_from_slice(&[b'a'; 0x400]);
                r.extend_from_slice(b"\r\n");
            }
            r.extend_from_slice(b"0\r\n\r\n");
            r
        };
        let timeout = Duration::from_secs(30);
        let e = fetch(serve_once(chunked(10)), "a.txt", 4096, timeout).await.unwrap_err();
        // stopped past the limit, before the end of the body
        assert!(matches!(e, UploadError::TooLarge { size, max: 4096, .. } if size > 4096 && size < 10 * 1024), "{e}");
        let bytes = fetch(serve_once(chunked(3)), "a.txt", 4096, timeout).await.unwrap();
        assert_eq!(bytes, vec![b'a'; 3 * 1024]);
        let redirect = b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n\r\n".to_vec();
        let e = fetch(serve_once(redirect), "a.txt", 4096, timeout).await.unwrap_err();
        assert!(matches!(&e, UploadError::Fetch(FetchError::Status(s)) if s.as_u16() == 302), "{e}");
    }
}
