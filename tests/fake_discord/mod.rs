//! A small fake Discord on 127.0.0.1 for end-to-end tests of `isnad serve`: a gateway on a
//! WebSocket (HELLO, IDENTIFY → READY, heartbeats, RESUME with replay of missed dispatches) and
//! the REST endpoints the bot uses. Every REST body is validated against Discord's OpenAPI
//! description; violations are collected and fail the test.
//!
//! Fixtures follow Discord's gateway and HTTP docs (developer docs: Gateway, Interactions, Message).

#![allow(dead_code)]

pub mod openapi;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::mpsc;

pub const BOT_ID: u64 = 1000;
pub const GUILD_ID: u64 = 2000;
pub const CHANNEL_ID: u64 = 3000;
pub const MEMBER_ID: u64 = 4001;
pub const MODERATOR_ID: u64 = 4002;

/// Someone else: the guild's owner (every permission).
pub const OWNER_ID: u64 = 4999;
/// A member with the Pin Messages permission (and nothing else beyond a member's).
pub const PINNER_ID: u64 = 4003;

/// VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY
pub const MEMBER_PERMS: u64 = (1 << 10) | (1 << 11) | (1 << 16);
pub const MANAGE_MESSAGES: u64 = 1 << 13;
pub const MANAGE_GUILD: u64 = 1 << 5;
/// Since 2026-02-23 the only permission that allows pinning (Discord change log).
pub const PIN_MESSAGES: u64 = 1 << 51;
/// … plus MANAGE_MESSAGES and MANAGE_GUILD (no longer enough to pin)
pub const MODERATOR_PERMS: u64 = MEMBER_PERMS | MANAGE_MESSAGES | MANAGE_GUILD;
pub const PINNER_PERMS: u64 = MEMBER_PERMS | PIN_MESSAGES;
/// Starting public threads (on a message or not).
pub const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
/// Posting in threads (SEND_MESSAGES is not inherited by threads).
pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;
/// The bot's own permissions by default: a member's, EMBED_LINKS, PIN_MESSAGES and the thread
/// permissions.
pub const BOT_PERMS: u64 = MEMBER_PERMS | (1 << 14) | PIN_MESSAGES | CREATE_PUBLIC_THREADS | SEND_MESSAGES_IN_THREADS;

/// The guild's roles: @everyone (id = the guild's), moderators, pinners. A member in an
/// interaction carries the roles that give the permissions the test hands it.
pub const MODERATOR_ROLE: u64 = 5001;
pub const PINNER_ROLE: u64 = 5002;

/// One REST request the bot made.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path without the `/api/v10` prefix.
    pub path: String,
    pub body: Value,
    /// When the fake received it.
    pub at: std::time::Instant,
}

/// A failure the REST API plays on the next reply the bot posts (a channel message or an
/// interaction follow-up).
#[derive(Debug, Clone, Copy)]
pub enum RestFault {
    /// Answer with this status and an error body; nothing is created.
    Status(u16),
    /// 429 with Discord's body and `Retry-After` header; nothing is created.
    RateLimited { retry_after_s: f64 },
    /// Create the message, but answer only after this long (the client times out first: the
    /// reply exists, the bot does not know it).
    Stall(Duration),
}

/// What the test wants the current gateway connection to do.
enum Control {
    Frame(String),
    Close(u16),
    /// Drop the TCP connection without a close frame.
    Drop,
}

#[derive(Default)]
struct Gateway {
    conn: Option<mpsc::UnboundedSender<Control>>,
    session: String,
    seq: u64,
    /// Dispatches of the current session, for RESUME.
    log: Vec<(u64, String)>,
    identifies: usize,
    resumes: usize,
}

struct Shared {
    spec: openapi::Spec,
    requests: Mutex<Vec<Request>>,
    violations: Mutex<Vec<String>>,
    messages: Mutex<HashMap<u64, Value>>,
    gateway: Mutex<Gateway>,
    next_id: AtomicU64,
    gateway_url: Mutex<String>,
    /// Heartbeat interval announced in HELLO, ms.
    heartbeat_ms: AtomicU64,
    /// Answer heartbeats with op 11 (a test turns it off to play a zombie connection).
    ack_heartbeats: std::sync::atomic::AtomicBool,
    /// Failures to play on the next replies, in order.
    faults: Mutex<std::collections::VecDeque<RestFault>>,
    /// Messages created with an enforced nonce, by nonce (Discord returns the first one again).
    nonces: Mutex<HashMap<String, Value>>,
    /// Bodies of the messages and follow-ups actually created (after nonce deduplication).
    created: Mutex<Vec<Value>>,
    /// The bot's permissions in the channel (`app_permissions`; what a pin needs).
    bot_perms: AtomicU64,
    /// The channel's permission overwrites (GET /channels/{id}).
    overwrites: Mutex<Value>,
    /// Keep the READY of the next IDENTIFY until [`FakeDiscord::release_ready`].
    hold_ready: std::sync::atomic::AtomicBool,
    held_ready: Mutex<Option<String>>,
    /// Files the fake CDN serves, by URL path: (bytes, Content-Type).
    files: Mutex<HashMap<String, (Vec<u8>, String)>>,
    /// Paths the CDN was asked for.
    cdn_requests: Mutex<Vec<String>>,
    /// Threads by id (channel objects of type 11, `parent_id` their channel).
    threads: Mutex<HashMap<u64, Value>>,
}

pub struct FakeDiscord {
    pub rest: SocketAddr,
    pub gateway: SocketAddr,
    /// The fake CDN (Discord's `cdn.discordapp.com`): serves the attachments the test hosts.
    pub cdn: SocketAddr,
    shared: Arc<Shared>,
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let shared = Arc::new(Shared {
            spec: openapi::Spec::load(),
            requests: Mutex::new(Vec::new()),
            violations: Mutex::new(Vec::new()),
            messages: Mutex::new(HashMap::new()),
            gateway: Mutex::new(Gateway::default()),
            next_id: AtomicU64::new(900_000_000_000_000_000),
            gateway_url: Mutex::new(String::new()),
            heartbeat_ms: AtomicU64::new(41_250),
            ack_heartbeats: std::sync::atomic::AtomicBool::new(true),
            faults: Mutex::new(std::collections::VecDeque::new()),
            nonces: Mutex::new(HashMap::new()),
            created: Mutex::new(Vec::new()),
            bot_perms: AtomicU64::new(BOT_PERMS),
            overwrites: Mutex::new(json!([])),
            hold_ready: std::sync::atomic::AtomicBool::new(false),
            held_ready: Mutex::new(None),
            files: Mutex::new(HashMap::new()),
            cdn_requests: Mutex::new(Vec::new()),
            threads: Mutex::new(HashMap::new()),
        });
        let gw_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind gateway");
        let rest_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind rest");
        let gateway = gw_listener.local_addr().unwrap();
        let rest = rest_listener.local_addr().unwrap();
        *shared.gateway_url.lock().unwrap() = format!("ws://{gateway}");
        let gw_app = Router::new().fallback(ws_handler).with_state(Arc::clone(&shared));
        let rest_app = Router::new().fallback(rest_handler).with_state(Arc::clone(&shared));
        let cdn_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind cdn");
        let cdn = cdn_listener.local_addr().unwrap();
        let cdn_app = Router::new().fallback(cdn_handler).with_state(Arc::clone(&shared));
        tokio::spawn(async move { axum::serve(gw_listener, gw_app).await });
        tokio::spawn(async move { axum::serve(rest_listener, rest_app).await });
        tokio::spawn(async move { axum::serve(cdn_listener, cdn_app).await });
        FakeDiscord { rest, gateway, cdn, shared }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Request bodies Discord's schema rejects, as readable strings.
    pub fn violations(&self) -> Vec<String> {
        self.shared.violations.lock().unwrap().clone()
    }

    pub fn message(&self, id: u64) -> Option<Value> {
        self.shared.messages.lock().unwrap().get(&id).cloned()
    }

    pub fn identifies(&self) -> usize {
        self.shared.gateway.lock().unwrap().identifies
    }

    pub fn resumes(&self) -> usize {
        self.shared.gateway.lock().unwrap().resumes
    }

    pub fn connected(&self) -> bool {
        self.shared.gateway.lock().unwrap().conn.as_ref().is_some_and(|c| !c.is_closed())
    }

    /// Waits (up to `within`) for a request matching `pred` that is not among the first `after`
    /// requests; returns it.
    pub async fn wait_for(&self, after: usize, within: Duration, pred: impl Fn(&Request) -> bool) -> Option<Request> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(r) = self.shared.requests.lock().unwrap().iter().skip(after).find(|r| pred(r)).cloned() {
                return Some(r);
            }
            if tokio::time::Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `cond` holds (up to `within`).
    pub async fn wait_until(&self, within: Duration, cond: impl Fn(&FakeDiscord) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while !cond(self) {
            if tokio::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// Sends a dispatch (op 0) on the current session; it is logged for RESUME replay.
    pub fn dispatch(&self, t: &str, d: Value) {
        dispatch(&self.shared, t, d);
    }

    /// A public thread on `parent` started by `owner` (not from a message): Discord creates it
    /// and sends THREAD_CREATE. Returns its id.
    pub fn start_thread(&self, parent: u64, owner: u64, name: &str) -> u64 {
        let id = self.next_id();
        let thread = thread_object(id, parent, owner, name);
        self.shared.threads.lock().unwrap().insert(id, thread.clone());
        let mut event = thread;
        event["newly_created"] = true.into();
        self.dispatch("THREAD_CREATE", event);
        id
    }

    /// The thread with this id, if one was started.
    pub fn thread(&self, id: u64) -> Option<Value> {
        self.shared.threads.lock().unwrap().get(&id).cloned()
    }

    /// Deletes a thread: THREAD_DELETE with the fields Discord sends.
    pub fn delete_thread(&self, id: u64) {
        if let Some(t) = self.shared.threads.lock().unwrap().remove(&id) {
            self.dispatch("THREAD_DELETE", json!({"id": t["id"], "guild_id": t["guild_id"], "parent_id": t["parent_id"], "type": 11}));
        }
    }

    /// Closes the gateway connection with a close frame `code`.
    pub fn close(&self, code: u16) {
        if let Some(c) = self.shared.gateway.lock().unwrap().conn.take() {
            let _ = c.send(Control::Close(code));
        }
    }

    /// Drops the gateway TCP connection without a close frame.
    pub fn drop_connection(&self) {
        if let Some(c) = self.shared.gateway.lock().unwrap().conn.take() {
            let _ = c.send(Control::Drop);
        }
    }

    /// Plays `fault` on the next reply the bot posts (queued after earlier ones).
    pub fn fail_next_reply(&self, fault: RestFault) {
        self.shared.faults.lock().unwrap().push_back(fault);
    }

    /// Bodies of the messages and follow-ups that exist (a request Discord deduplicated by its
    /// nonce, or answered with an error, created nothing).
    pub fn created(&self) -> Vec<Value> {
        self.shared.created.lock().unwrap().clone()
    }

    /// Heartbeat interval announced to the next connections (Discord's is ~41 s).
    pub fn set_heartbeat_interval(&self, ms: u64) {
        self.shared.heartbeat_ms.store(ms, Ordering::Relaxed);
    }

    /// Stops (or resumes) acknowledging heartbeats: the connection looks alive but is a zombie.
    pub fn ack_heartbeats(&self, ack: bool) {
        self.shared.ack_heartbeats.store(ack, Ordering::Relaxed);
    }

    /// Sends op 7 RECONNECT: the client should reconnect and resume.
    pub fn request_reconnect(&self) {
        if let Some(c) = &self.shared.gateway.lock().unwrap().conn {
            let _ = c.send(Control::Frame(json!({"op": 7, "d": null, "s": null, "t": null}).to_string()));
        }
    }

    /// Sends op 9 INVALID_SESSION (not resumable) and forgets the session, as Discord does: the
    /// client must identify again; dispatches of the old session are not replayed.
    pub fn invalidate_session(&self) {
        let mut g = self.shared.gateway.lock().unwrap();
        g.session = String::from("invalidated");
        if let Some(c) = &g.conn {
            let _ = c.send(Control::Frame(json!({"op": 9, "d": false, "s": null, "t": null}).to_string()));
        }
    }

    /// The bot's permissions in the channel from now on (Discord refuses what they lack).
    pub fn set_bot_permissions(&self, perms: u64) {
        self.shared.bot_perms.store(perms, Ordering::Relaxed);
    }

    /// The channel's permission overwrites from now on (`[{id, type, allow, deny}]`).
    pub fn set_overwrites(&self, overwrites: Value) {
        *self.shared.overwrites.lock().unwrap() = overwrites;
    }

    /// From now on an IDENTIFY gets no READY until [`FakeDiscord::release_ready`] (a gateway
    /// slow to accept the session).
    pub fn hold_ready(&self) {
        self.shared.hold_ready.store(true, Ordering::Relaxed);
    }

    /// Sends the READY kept back (if an IDENTIFY came) and stops holding.
    pub fn release_ready(&self) {
        self.shared.hold_ready.store(false, Ordering::Relaxed);
        let frame = self.shared.held_ready.lock().unwrap().take();
        if let (Some(frame), Some(c)) = (frame, &self.shared.gateway.lock().unwrap().conn) {
            let _ = c.send(Control::Frame(frame));
        }
    }

    pub fn next_id(&self) -> u64 {
        self.shared.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Puts `bytes` on the fake CDN as a member's upload and returns the attachment object
    /// Discord would put in an interaction's `resolved.attachments` (message resource docs,
    /// "Attachment Object"): the declared `size` is the bytes' length (a test may change it to
    /// play a lying client), the `url` a signed CDN address. As on Discord, the address uses a
    /// cleaned-up file name; `filename` keeps the name as sent.
    pub fn host_attachment(&self, filename: &str, bytes: &[u8], content_type: Option<&str>) -> Value {
        let id = self.next_id();
        let clean: String = filename.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
        let path = format!("/attachments/{CHANNEL_ID}/{id}/{clean}");
        let served_type = content_type.unwrap_or("application/octet-stream").to_owned();
        self.shared.files.lock().unwrap().insert(path.clone(), (bytes.to_vec(), served_type));
        let url = format!("http://{}{path}?ex=6a1b2c3d&is=6a1a0000&hm=0f1e2d3c4b5a69788796a5b4c3d2e1f0", self.cdn);
        let mut a = json!({
            "id": id.to_string(), "filename": filename, "size": bytes.len(), "url": url, "proxy_url": url,
            "ephemeral": true
        });
        if let Some(t) = content_type {
            a["content_type"] = t.into();
        }
        a
    }

    /// The paths the fake CDN was asked for, in order.
    pub fn cdn_fetches(&self) -> Vec<String> {
        self.shared.cdn_requests.lock().unwrap().clone()
    }
}

// ---------------------------------------------------------------------------------------------
// gateway

fn dispatch(shared: &Shared, t: &str, d: Value) {
    let mut g = shared.gateway.lock().unwrap();
    g.seq += 1;
    let frame = json!({"op": 0, "t": t, "s": g.seq, "d": d}).to_string();
    let seq = g.seq;
    g.log.push((seq, frame.clone()));
    if let Some(c) = &g.conn {
        let _ = c.send(Control::Frame(frame));
    }
}

async fn ws_handler(ws: WebSocketUpgrade, State(shared): State<Arc<Shared>>) -> Response {
    ws.on_upgrade(move |socket| gateway_session(socket, shared))
}

async fn gateway_session(mut socket: WebSocket, shared: Arc<Shared>) {
    let interval = shared.heartbeat_ms.load(Ordering::Relaxed);
    let hello = json!({"op": 10, "d": {"heartbeat_interval": interval}, "s": null, "t": null}).to_string();
    if socket.send(WsMessage::Text(hello.into())).await.is_err() {
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Control>();
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(Ok(msg)) = incoming else { break };
                let WsMessage::Text(text) = msg else {
                    if matches!(msg, WsMessage::Close(_)) { break }
                    continue;
                };
                let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
                let replies = on_gateway_op(&shared, &v, &tx);
                for r in replies {
                    if socket.send(WsMessage::Text(r.into())).await.is_err() {
                        return;
                    }
                }
            }
            control = rx.recv() => match control {
                Some(Control::Frame(f)) => {
                    if socket.send(WsMessage::Text(f.into())).await.is_err() { break }
                }
                Some(Control::Close(code)) => {
                    let _ = socket.send(WsMessage::Close(Some(CloseFrame { code, reason: "fake close".into() }))).await;
                    break;
                }
                Some(Control::Drop) | None => return,
            }
        }
    }
}

/// Handles one client opcode; returns frames to send back at once.
fn on_gateway_op(shared: &Shared, v: &Value, tx: &mpsc::UnboundedSender<Control>) -> Vec<String> {
    let url = shared.gateway_url.lock().unwrap().clone();
    let mut g = shared.gateway.lock().unwrap();
    match v["op"].as_u64() {
        // heartbeat → ACK
        Some(1) if shared.ack_heartbeats.load(Ordering::Relaxed) => vec![json!({"op": 11, "d": null, "s": null, "t": null}).to_string()],
        Some(1) => Vec::new(),
        // IDENTIFY → READY on a new session
        Some(2) => {
            g.identifies += 1;
            g.session = format!("session-{}", g.identifies);
            g.seq = 1;
            g.log.clear();
            g.conn = Some(tx.clone());
            let shard = v["d"]["shard"].clone();
            let ready = json!({
                "op": 0, "t": "READY", "s": 1,
                "d": {
                    "v": 10,
                    "user": {"id": BOT_ID.to_string(), "username": "isnad", "discriminator": "0", "global_name": null,
                             "avatar": null, "bot": true, "verified": true, "mfa_enabled": false, "flags": 0},
                    "guilds": [{"id": GUILD_ID.to_string(), "unavailable": true}],
                    "session_id": g.session,
                    "resume_gateway_url": url,
                    "shard": if shard.is_null() { json!([0, 1]) } else { shard },
                    "application": {"id": BOT_ID.to_string(), "flags": 0}
                }
            });
            if shared.hold_ready.load(Ordering::Relaxed) {
                *shared.held_ready.lock().unwrap() = Some(ready.to_string());
                return Vec::new();
            }
            vec![ready.to_string()]
        }
        // RESUME → replay what the client missed, then RESUMED; unknown session → op 9
        Some(6) => {
            let session = v["d"]["session_id"].as_str().unwrap_or_default();
            if session != g.session {
                return vec![json!({"op": 9, "d": false, "s": null, "t": null}).to_string()];
            }
            g.resumes += 1;
            g.conn = Some(tx.clone());
            let last = v["d"]["seq"].as_u64().unwrap_or(0);
            let mut out: Vec<String> = g.log.iter().filter(|(s, _)| *s > last).map(|(_, f)| f.clone()).collect();
            g.seq += 1;
            out.push(json!({"op": 0, "t": "RESUMED", "s": g.seq, "d": {}}).to_string());
            out
        }
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// CDN

async fn cdn_handler(State(shared): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().to_owned();
    shared.cdn_requests.lock().unwrap().push(path.clone());
    if headers.contains_key("authorization") {
        // Discord's CDN needs no token, and the bot must not hand its token to another host
        shared.violations.lock().unwrap().push(format!("{method} {path} on the CDN carried an Authorization header"));
    }
    match shared.files.lock().unwrap().get(&path) {
        Some((bytes, content_type)) if method == Method::GET => ([("content-type", content_type.clone())], bytes.clone()).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// REST

async fn rest_handler(State(shared): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().strip_prefix("/api/v10").unwrap_or(uri.path()).to_owned();
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body_json = parse_body(&content_type, &body);
    if !headers.get("authorization").and_then(|v| v.to_str().ok()).is_some_and(|a| a.starts_with("Bot ")) {
        shared.violations.lock().unwrap().push(format!("{method} {path}: no `Authorization: Bot …` header"));
    }
    match shared.spec.operation(method.as_str(), &path) {
        Some(template) => {
            if let Err(errors) = shared.spec.validate(method.as_str(), &template, &body_json) {
                shared.violations.lock().unwrap().push(format!("{method} {path} ({template}): {}\nbody: {body_json}", errors.join("; ")));
            }
        }
        None => shared.violations.lock().unwrap().push(format!("{method} {path}: no such operation in Discord's API")),
    }
    let is_reply =
        method == Method::POST && (path.starts_with("/webhooks/") || (path.starts_with("/channels/") && path.ends_with("/messages")));
    let fault = if is_reply { shared.faults.lock().unwrap().pop_front() } else { None };
    let response = match fault {
        Some(RestFault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, axum::Json(json!({"message": format!("fake {code}"), "code": 0}))).into_response()
        }
        Some(RestFault::RateLimited { retry_after_s }) => {
            let body = json!({"message": "You are being rate limited.", "retry_after": retry_after_s, "global": false});
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", format!("{}", retry_after_s.ceil() as u64))], axum::Json(body)).into_response()
        }
        Some(RestFault::Stall(_)) | None => respond(&shared, &method, &path, &body_json),
    };
    shared.requests.lock().unwrap().push(Request { method: method.to_string(), path, body: body_json, at: std::time::Instant::now() });
    if let Some(RestFault::Stall(d)) = fault {
        tokio::time::sleep(d).await;
    }
    response
}

fn parse_body(content_type: &str, body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    if content_type.starts_with("multipart/form-data") {
        // the JSON part is named payload_json
        let text = String::from_utf8_lossy(body);
        if let Some(start) = text.find("name=\"payload_json\"") {
            let rest = &text[start..];
            if let Some(begin) = rest.find("\r\n\r\n") {
                let json_part = &rest[begin + 4..];
                let end = json_part.find("\r\n--").unwrap_or(json_part.len());
                return serde_json::from_str(&json_part[..end]).unwrap_or(Value::Null);
            }
        }
        return Value::Null;
    }
    serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

fn respond(shared: &Shared, method: &Method, path: &str, body: &Value) -> Response {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let id = || shared.next_id.fetch_add(1, Ordering::Relaxed);
    let url = shared.gateway_url.lock().unwrap().clone();
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["gateway"]) => axum::Json(json!({"url": url})).into_response(),
        ("GET", ["gateway", "bot"]) => axum::Json(json!({
            "url": url, "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        }))
        .into_response(),
        ("GET", ["users", "@me"]) => axum::Json(user(BOT_ID, "isnad", true)).into_response(),
        ("PUT", ["applications", _, "commands"]) | ("PUT", ["applications", _, "guilds", _, "commands"]) => {
            let guild = if segs.len() == 5 { Value::String(segs[3].into()) } else { Value::Null };
            let commands: Vec<Value> = body
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|mut c| {
                    c["id"] = id().to_string().into();
                    c["application_id"] = BOT_ID.to_string().into();
                    c["guild_id"] = guild.clone();
                    c["version"] = id().to_string().into();
                    if c.get("type").is_none() {
                        c["type"] = 1.into();
                    }
                    if c.get("description").is_none() {
                        c["description"] = "".into();
                    }
                    c
                })
                .collect();
            axum::Json(Value::Array(commands)).into_response()
        }
        ("POST", ["interactions", _, _, "callback"]) => StatusCode::NO_CONTENT.into_response(),
        ("POST", ["webhooks", _, _]) => {
            shared.created.lock().unwrap().push(body.clone());
            let m = message_from(shared, id(), CHANNEL_ID, body);
            axum::Json(m).into_response()
        }
        ("PATCH", ["webhooks", _, _, "messages", _]) => {
            let m = message_from(shared, id(), CHANNEL_ID, body);
            axum::Json(m).into_response()
        }
        ("POST", ["channels", channel, "messages", message, "threads"]) => {
            let perms = shared.bot_perms.load(Ordering::Relaxed);
            let (channel, message): (u64, u64) = (channel.parse().unwrap_or(0), message.parse().unwrap_or(0));
            if perms & CREATE_PUBLIC_THREADS == 0 {
                return (StatusCode::FORBIDDEN, axum::Json(json!({"message": "Missing Permissions", "code": 50013}))).into_response();
            }
            if shared.threads.lock().unwrap().contains_key(&channel) {
                let body = json!({"message": "Cannot execute action on this channel type", "code": 50024});
                return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
            }
            // a thread started from a message has the message's id; one message, one thread
            if shared.threads.lock().unwrap().contains_key(&message) {
                let body = json!({"message": "A thread has already been created for this message", "code": 160004});
                return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
            }
            let thread = thread_object(message, channel, BOT_ID, body["name"].as_str().unwrap_or_default());
            shared.threads.lock().unwrap().insert(message, thread.clone());
            let mut event = thread.clone();
            event["newly_created"] = true.into();
            dispatch(shared, "THREAD_CREATE", event);
            axum::Json(thread).into_response()
        }
        ("POST", ["channels", channel, "messages"]) => {
            // SEND_MESSAGES is not inherited by threads: posting there takes SEND_MESSAGES_IN_THREADS
            let in_thread = channel.parse().ok().is_some_and(|c: u64| shared.threads.lock().unwrap().contains_key(&c));
            if in_thread && shared.bot_perms.load(Ordering::Relaxed) & SEND_MESSAGES_IN_THREADS == 0 {
                return (StatusCode::FORBIDDEN, axum::Json(json!({"message": "Missing Permissions", "code": 50013}))).into_response();
            }
            // Discord's nonce enforcement: the same nonce again returns the first message
            let nonce = body["nonce"].as_str().map(str::to_owned).or_else(|| body["nonce"].as_u64().map(|n| n.to_string()));
            if let (Some(nonce), true) = (&nonce, body["enforce_nonce"] == json!(true)) {
                if let Some(m) = shared.nonces.lock().unwrap().get(nonce) {
                    return axum::Json(m.clone()).into_response();
                }
            }
            shared.created.lock().unwrap().push(body.clone());
            let m = message_from(shared, id(), channel.parse().unwrap_or(CHANNEL_ID), body);
            if let (Some(nonce), true) = (nonce, body["enforce_nonce"] == json!(true)) {
                shared.nonces.lock().unwrap().insert(nonce, m.clone());
            }
            axum::Json(m).into_response()
        }
        ("GET", ["guilds", guild]) if *guild == GUILD_ID.to_string() => axum::Json(guild_object()).into_response(),
        ("GET", ["channels", channel]) if channel.parse().ok().is_some_and(|c: u64| shared.threads.lock().unwrap().contains_key(&c)) => {
            let id: u64 = channel.parse().unwrap_or(0);
            axum::Json(shared.threads.lock().unwrap()[&id].clone()).into_response()
        }
        ("GET", ["channels", channel]) => axum::Json(json!({
            "id": channel, "type": 0, "guild_id": GUILD_ID.to_string(), "name": "general", "position": 0,
            "permission_overwrites": shared.overwrites.lock().unwrap().clone(), "nsfw": false, "parent_id": null,
            "last_message_id": null, "rate_limit_per_user": 0, "topic": null, "flags": 0
        }))
        .into_response(),
        // both routes check PIN_MESSAGES (the deprecated one is still served, as by Discord)
        ("PUT", ["channels", _, "pins", message]) | ("PUT", ["channels", _, "messages", "pins", message]) => {
            if shared.bot_perms.load(Ordering::Relaxed) & PIN_MESSAGES == 0 {
                return (StatusCode::FORBIDDEN, axum::Json(json!({"message": "Missing Permissions", "code": 50013}))).into_response();
            }
            if let Some(m) = message.parse().ok().and_then(|id: u64| shared.messages.lock().unwrap().get_mut(&id).map(|m| m.clone())) {
                let mut m = m;
                m["pinned"] = true.into();
                shared.messages.lock().unwrap().insert(message.parse().unwrap_or(0), m);
            }
            StatusCode::NO_CONTENT.into_response()
        }
        _ => (StatusCode::NOT_FOUND, axum::Json(json!({"message": "404: Not Found", "code": 0}))).into_response(),
    }
}

/// The message object Discord returns for a created message, stored for later lookups.
fn message_from(shared: &Shared, id: u64, channel: u64, body: &Value) -> Value {
    let embeds: Vec<Value> = body["embeds"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut e| {
            e["type"] = "rich".into();
            e
        })
        .collect();
    let m = json!({
        "id": id.to_string(), "channel_id": channel.to_string(), "author": user(BOT_ID, "isnad", true),
        "content": body["content"].as_str().unwrap_or(""), "timestamp": "2026-11-25T10:00:00.000000+00:00",
        "edited_timestamp": null, "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
        "attachments": [], "embeds": embeds, "pinned": false, "type": 0, "flags": body["flags"].as_u64().unwrap_or(0),
        "components": []
    });
    shared.messages.lock().unwrap().insert(id, m.clone());
    m
}

// ---------------------------------------------------------------------------------------------
// fixtures

pub fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({"id": id.to_string(), "username": name, "discriminator": "0", "global_name": name, "avatar": null, "bot": bot})
}

/// The guild object (GET /guilds/{id}): its owner and roles.
fn guild_object() -> Value {
    let role = |id: u64, name: &str, perms: u64, position: u64| {
        json!({"id": id.to_string(), "name": name, "color": 0, "hoist": false, "position": position, "permissions": perms.to_string(),
               "managed": false, "mentionable": false, "flags": 0, "icon": null, "unicode_emoji": null})
    };
    json!({
        "id": GUILD_ID.to_string(), "name": "invented guild", "icon": null, "splash": null, "discovery_splash": null,
        "owner_id": OWNER_ID.to_string(), "afk_channel_id": null, "afk_timeout": 300, "verification_level": 0,
        "default_message_notifications": 0, "explicit_content_filter": 0, "features": [], "mfa_level": 0,
        "application_id": null, "system_channel_id": null, "system_channel_flags": 0, "rules_channel_id": null,
        "vanity_url_code": null, "description": null, "banner": null, "premium_tier": 0, "preferred_locale": "en-US",
        "public_updates_channel_id": null, "nsfw_level": 0, "premium_progress_bar_enabled": false, "emojis": [], "stickers": [],
        "roles": [
            role(GUILD_ID, "@everyone", MEMBER_PERMS, 0),
            role(MODERATOR_ROLE, "moderators", MANAGE_MESSAGES | MANAGE_GUILD, 1),
            role(PINNER_ROLE, "pinners", PIN_MESSAGES, 2)
        ]
    })
}

/// The role ids that give a member `perms` in the fake guild.
fn roles_for(perms: u64) -> Vec<String> {
    let mut roles = Vec::new();
    if perms & (MANAGE_MESSAGES | MANAGE_GUILD) != 0 {
        roles.push(MODERATOR_ROLE.to_string());
    }
    if perms & PIN_MESSAGES != 0 {
        roles.push(PINNER_ROLE.to_string());
    }
    roles
}

fn member(id: u64, perms: u64) -> Value {
    json!({
        "user": user(id, &format!("user{id}"), false), "roles": roles_for(perms), "joined_at": "2025-01-01T00:00:00.000000+00:00",
        "deaf": false, "mute": false, "flags": 0, "pending": false, "permissions": perms.to_string(), "nick": null, "avatar": null
    })
}

/// A member's message in the guild channel (MESSAGE_CREATE payload).
pub fn guild_message(id: u64, author: u64, content: &str, mentions: &[Value], reply_to: Option<Value>) -> Value {
    let mut m = json!({
        "id": id.to_string(), "channel_id": CHANNEL_ID.to_string(), "guild_id": GUILD_ID.to_string(),
        "author": user(author, &format!("user{author}"), false),
        "member": {"roles": [], "joined_at": "2025-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false, "flags": 0},
        "content": content, "timestamp": "2026-11-25T10:00:00.000000+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": mentions, "mention_roles": [], "attachments": [], "embeds": [],
        "pinned": false, "type": 0, "flags": 0, "components": []
    });
    if let Some(r) = reply_to {
        m["message_reference"] =
            json!({"type": 0, "message_id": r["id"], "channel_id": CHANNEL_ID.to_string(), "guild_id": GUILD_ID.to_string()});
        m["referenced_message"] = r;
        m["type"] = 19.into();
    }
    m
}

/// A thread channel object (type 11: PUBLIC_THREAD), as Discord returns and sends it.
pub fn thread_object(id: u64, parent: u64, owner: u64, name: &str) -> Value {
    json!({
        "id": id.to_string(), "type": 11, "guild_id": GUILD_ID.to_string(), "parent_id": parent.to_string(),
        "owner_id": owner.to_string(), "name": name, "last_message_id": null, "message_count": 0, "member_count": 1,
        "rate_limit_per_user": 0, "flags": 0, "total_message_sent": 0,
        "thread_metadata": {"archived": false, "auto_archive_duration": 1440, "archive_timestamp": "2026-11-25T10:00:00.000000+00:00",
                            "locked": false, "create_timestamp": "2026-11-25T10:00:00.000000+00:00"}
    })
}

/// A member's message in a thread (MESSAGE_CREATE payload: the thread's id is the channel id).
pub fn thread_message(id: u64, author: u64, thread: u64, content: &str, mentions: &[Value]) -> Value {
    let mut m = guild_message(id, author, content, mentions, None);
    m["channel_id"] = thread.to_string().into();
    m
}

/// A direct message to the bot.
pub fn direct_message(id: u64, author: u64, channel: u64, content: &str) -> Value {
    json!({
        "id": id.to_string(), "channel_id": channel.to_string(), "author": user(author, &format!("user{author}"), false),
        "content": content, "timestamp": "2026-11-25T10:00:00.000000+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
        "pinned": false, "type": 0, "flags": 0, "components": []
    })
}

fn interaction_base(id: u64, kind: u8, user_id: u64, perms: u64) -> Value {
    let app_permissions = BOT_PERMS.to_string();
    json!({
        "id": id.to_string(), "application_id": BOT_ID.to_string(), "type": kind,
        "guild_id": GUILD_ID.to_string(), "channel_id": CHANNEL_ID.to_string(),
        "channel": {"id": CHANNEL_ID.to_string(), "type": 0, "name": "general", "permissions": perms.to_string()},
        "member": member(user_id, perms), "token": format!("itoken-{id}"), "version": 1,
        "app_permissions": app_permissions, "locale": "en-US", "guild_locale": "en-US",
        "entitlements": [], "authorizing_integration_owners": {"0": GUILD_ID.to_string()}, "context": 0,
        "attachment_size_limit": 10485760
    })
}

/// A slash command invocation (INTERACTION_CREATE, type 2). `options`: (name, type, value).
pub fn slash_command(id: u64, user_id: u64, perms: u64, name: &str, options: &[(&str, u8, Value)]) -> Value {
    let mut i = interaction_base(id, 2, user_id, perms);
    i["data"] = json!({
        "id": "5000", "name": name, "type": 1, "guild_id": GUILD_ID.to_string(),
        "options": options.iter().map(|(n, t, v)| json!({"name": n, "type": t, "value": v})).collect::<Vec<_>>()
    });
    i
}

/// A slash command's subcommand (`/name sub …`). Channel options (type 7) get their resolved
/// channel, as Discord sends it.
pub fn slash_subcommand(id: u64, user_id: u64, perms: u64, name: &str, sub: &str, options: &[(&str, u8, Value)]) -> Value {
    let mut i = interaction_base(id, 2, user_id, perms);
    let mut channels = serde_json::Map::new();
    for (_, t, v) in options {
        if *t == 7 {
            let cid = v.as_str().unwrap_or_default().to_owned();
            channels.insert(cid.clone(), json!({"id": cid, "type": 0, "name": format!("channel-{cid}"), "permissions": perms.to_string()}));
        }
    }
    i["data"] = json!({
        "id": "5002", "name": name, "type": 1, "guild_id": GUILD_ID.to_string(),
        "options": [{"name": sub, "type": 1, "options": options.iter().map(|(n, t, v)| json!({"name": n, "type": t, "value": v})).collect::<Vec<_>>()}],
        "resolved": {"channels": channels}
    });
    i
}

/// A message context-menu command on `target` (INTERACTION_CREATE, type 2, command type 3):
/// Discord sends the target message in `resolved.messages`, content included.
pub fn message_command(id: u64, user_id: u64, perms: u64, name: &str, target: Value) -> Value {
    let mut i = interaction_base(id, 2, user_id, perms);
    let target_id = target["id"].clone();
    let mut messages = serde_json::Map::new();
    messages.insert(target_id.as_str().unwrap_or_default().to_owned(), target);
    i["data"] = json!({
        "id": "5001", "name": name, "type": 3, "guild_id": GUILD_ID.to_string(), "target_id": target_id,
        "resolved": {"messages": messages}
    });
    i
}

/// `interaction` as sent from another server (`guild`): the same member and channel ids,
/// another guild id everywhere the payload names one.
pub fn in_guild(mut interaction: Value, guild: u64) -> Value {
    let g = Value::String(guild.to_string());
    interaction["guild_id"] = g.clone();
    interaction["authorizing_integration_owners"]["0"] = g.clone();
    if interaction["data"].get("guild_id").is_some() {
        interaction["data"]["guild_id"] = g;
    }
    interaction
}

/// Adds `attachment` to the interaction's `resolved.attachments`, as Discord does for an
/// attachment option (whose value is the attachment's id).
pub fn with_attachment(mut interaction: Value, attachment: &Value) -> Value {
    let id = attachment["id"].as_str().unwrap_or_default().to_owned();
    interaction["data"]["resolved"]["attachments"][id] = attachment.clone();
    interaction
}

/// A button click on `message` (INTERACTION_CREATE, type 3).
pub fn button_click(id: u64, user_id: u64, perms: u64, custom_id: &str, message: Value) -> Value {
    let mut i = interaction_base(id, 3, user_id, perms);
    i["data"] = json!({"custom_id": custom_id, "component_type": 2});
    i["message"] = message;
    i
}

// ---------------------------------------------------------------------------------------------
// the bot under test

/// `isnad serve` as a child process, pointed at the fake. Killed on drop.
pub struct Bot {
    pub child: tokio::process::Child,
    pub log: PathBuf,
    pub data: PathBuf,
    pub knowledge: PathBuf,
    _dir: tempfile::TempDir,
}

pub const TOKEN: &str = "FAKE.t0ken.isnad-test-secret";

impl Bot {
    /// Starts the bot over a private copy of `base` (a folder with `knowledge/` and `data/`),
    /// with extra environment variables.
    pub fn start(fake: &FakeDiscord, base: &Path, env: &[(&str, &str)]) -> Bot {
        let dir = tempfile::tempdir().expect("temp dir");
        copy_dir(base, dir.path());
        let knowledge = dir.path().join("knowledge");
        let data = dir.path().join("data");
        let log = dir.path().join("bot.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_isnad"));
        cmd.arg("serve")
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .env("DISCORD_TOKEN", TOKEN)
            .env("DISCORD_PROXY", format!("http://{}", fake.rest))
            .env("ISNAD_KNOWLEDGE_DIR", &knowledge)
            .env("ISNAD_DATA_DIR", &data)
            .env("ISNAD_LOG", "info,serenity=warn,poise=warn,isnad=debug")
            .env("ISNAD_WATCH", "false")
            .env("ISNAD_COOLDOWN_SECS", "0")
            .stdout(Stdio::null())
            .stderr(log_file)
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(model) = std::env::var_os("ISNAD_MODEL") {
            cmd.env("ISNAD_MODEL", model);
        }
        let child = cmd.spawn().expect("isnad serve starts");
        Bot { child, log, data, knowledge, _dir: dir }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let rel = entry.path().strip_prefix(from).expect("prefix");
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
