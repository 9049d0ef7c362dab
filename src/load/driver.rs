//! How the load generator reaches the runtime: in-process through `Session`s, or over the
//! network through a running `timsg serve` (one WebSocket per user for its events and, with
//! `--calls ws`, its calls; HTTP calls otherwise and before a user's socket is open).
//! Both give each user's received messages as `(conversation as the user names it, seq)`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;

use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use timsg_actors::element::{ElementBody, ImageElement};
use timsg_actors::group::GroupKind;
use timsg_actors::ids::{ConvRef, ConvType};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::inbox::Inbox;
use super::rest_sender::RestSender;
use super::ws_caller::{WsCaller, spawn_frame_writer};
use crate::session::Session;
use crate::{Element, Event, HistoryQuery, MessageContent, MessageTarget, ReceiveOpt, SearchQuery};

/// What a sent message is named by for a later revoke.
pub enum SentHandle {
    Id(timsg_actors::ids::MsgId),
    Json(Value),
}

impl SentHandle {
    /// The message's ID.
    pub fn id(&self) -> String {
        match self {
            SentHandle::Id(id) => id.to_string(),
            SentHandle::Json(v) => v["message_msg_id"].as_str().unwrap_or("").to_string(),
        }
    }
}

/// A group the load creates may exist from an earlier run on the same service (same seed,
/// same members): then it is used as it is.
const GROUP_ID_IN_USE: i32 = crate::error::code::ERR_SVR_GROUP_GROUPID_IN_USED;

/// What the generator reads of a frame from the service: whether it is a reply, and which
/// messages a new-message event carries. Everything else is skipped without being built
/// (parsing every delivered message into a `Value` was a large share of the generator's CPU,
/// which shares the machine with the service it measures). A frame this does not fit (an event
/// whose `json` is not an array of objects) is not one the generator needs.
#[derive(Debug, Deserialize)]
struct IncomingFrame {
    #[serde(default)]
    reply: Option<Value>,
    #[serde(default)]
    cursor: Option<u64>,
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    json: Option<Vec<DeliveredMessage>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeliveredMessage {
    message_conv_type: Option<u32>,
    message_conv_id: Option<String>,
    message_seq: Option<u64>,
}

/// Events an in-process user's feed takes from its stream at one wake-up.
const EVENTS_PER_WAKE: usize = 64;

/// Peers one `TIMMsgSetC2CReceiveMessageOpt` call may name, and calls a user may make a second.
const C2C_OPT_IDS_PER_CALL: usize = 30;
const C2C_OPT_CALLS_PER_SECOND: usize = 5;

/// The kinds of message the load sends.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text,
    Custom,
    Image,
}

/// The network side: the service's base URLs (several: the nodes of a cluster, users spread
/// over them) and a UserSig per user.
pub struct Remote {
    pub http: reqwest::Client,
    pub bases: Arc<Vec<String>>,
    pub sigs: Arc<Vec<String>>,
    /// Each user's name (see `names`), by index.
    pub names: Arc<Vec<String>>,
    /// Calls go over each user's WebSocket once it is open (`--calls ws`), else over HTTP.
    pub calls_over_ws: bool,
    /// Per user, the caller on its WebSocket, set when its event stream opens (and again when
    /// it reconnects to another node).
    pub sockets: Arc<Vec<RwLock<Option<Arc<WsCaller>>>>>,
    /// Sockets that closed under the load and were opened again on the next node.
    pub reconnects: Arc<AtomicU64>,
    /// With `--via rest`: messages are sent as the admin over the REST API.
    pub rest: Option<RestSender>,
}

pub enum Driver {
    InProc(Vec<Arc<Session>>),
    Remote(Remote),
}

/// A user's feed of received messages: the switch that ends it, and the task that hands back
/// the user's inbox when it has ended.
pub struct Feed {
    pub stop: watch::Sender<bool>,
    pub done: tokio::task::JoinHandle<Inbox>,
}

impl Remote {
    /// `names[u]` is user `u`, with UserSig `sigs[u]`.
    pub fn new(bases: Vec<String>, names: Vec<String>, sigs: Vec<String>, calls_over_ws: bool) -> Remote {
        let sockets = Arc::new(sigs.iter().map(|_| RwLock::new(None)).collect());
        Remote {
            http: reqwest::Client::new(),
            bases: Arc::new(bases),
            sigs: Arc::new(sigs),
            names: Arc::new(names),
            calls_over_ws,
            sockets,
            reconnects: Arc::default(),
            rest: None,
        }
    }

    /// The node `user` is served by: users are spread over the nodes in turn.
    fn base_of(&self, user: u32) -> &str {
        &self.bases[user as usize % self.bases.len()]
    }

    async fn call(&self, user: u32, api: &str, body: Value) -> Result<Value, String> {
        let mut v = self.call_answer(user, api, body).await?;
        match v["code"].as_i64() {
            Some(0) => Ok(v["json_params"].take()),
            _ => Err(format!("{api}: {v}")),
        }
    }

    /// The whole answer of a call (`code`, `desc`, `json_params`), whatever its code.
    async fn call_answer(&self, user: u32, api: &str, body: Value) -> Result<Value, String> {
        let mut over_ws = if self.calls_over_ws { self.sockets[user as usize].read().clone() } else { None };
        // A socket whose node went away is being opened on another node: a call waits for it
        // rather than failing without having been sent.
        let began = std::time::Instant::now();
        while over_ws.as_ref().is_some_and(|s| s.is_closed()) && began.elapsed() < RECONNECT_FOR {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            over_ws = self.sockets[user as usize].read().clone();
        }
        match over_ws {
            Some(socket) => socket.call(api, body).await,
            None => self.http_call(user, api, body).await,
        }
    }

    async fn http_call(&self, user: u32, api: &str, body: Value) -> Result<Value, String> {
        let body = body.to_string();
        let home = user as usize % self.bases.len();
        let mut tried = 0;
        let resp = loop {
            let base = &self.bases[(home + tried) % self.bases.len()];
            let sent = self
                .http
                .post(format!("{base}/v1/{api}"))
                .header("X-TIM-User", &self.names[user as usize])
                .header("X-TIM-UserSig", &self.sigs[user as usize])
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(resp) => break resp,
                // A node that cannot be reached got nothing: the next one is asked.
                Err(e) if e.is_connect() && tried + 1 < self.bases.len() => tried += 1,
                Err(e) => return Err(e.to_string()),
            }
        };
        serde_json::from_slice(&resp.bytes().await.map_err(|e| e.to_string())?).map_err(|e| e.to_string())
    }
}

fn conv_body(conv: &ConvRef) -> (String, u32) {
    (conv.id.to_string(), conv.conv_type.number())
}

impl Driver {
    pub async fn create_group(&self, owner: u32, gid: &str, others: Vec<String>) -> Result<(), String> {
        match self {
            Driver::InProc(users) => {
                match users[owner as usize].create_group(gid, gid, GroupKind::Private, others).await {
                    Err(e) if e.code != GROUP_ID_IN_USE => Err(e.to_string()),
                    _ => Ok(()),
                }
            }
            Driver::Remote(r) => {
                let members: Vec<Value> = others.iter().map(|o| json!({"group_member_info_identifier": o})).collect();
                let param = json!({"create_group_param_group_id": gid, "create_group_param_group_name": gid, "create_group_param_group_type": 1, "create_group_param_group_member_array": members});
                let v = r.call_answer(owner, "TIMGroupCreate", json!({"param": param})).await?;
                match v["code"].as_i64() {
                    Some(0) => Ok(()),
                    Some(code) if code == i64::from(GROUP_ID_IN_USE) => Ok(()),
                    _ => Err(format!("TIMGroupCreate: {v}")),
                }
            }
        }
    }

    /// Before the load: `user` stops receiving the messages of each of `convs` as it names them
    /// (C2C: from that peer, 30 peers a call; a group: of that group). The C2C option may be
    /// set 5 times a second per user, so a user with more peers than that waits between calls.
    pub async fn stop_receiving(&self, user: u32, convs: &[&ConvRef]) -> Result<(), String> {
        let peers: Vec<String> =
            convs.iter().filter(|c| c.conv_type == ConvType::C2c).map(|c| c.id.to_string()).collect();
        for (n, chunk) in peers.chunks(C2C_OPT_IDS_PER_CALL).enumerate() {
            if n > 0 && n % C2C_OPT_CALLS_PER_SECOND == 0 {
                tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
            }
            match self {
                Driver::InProc(users) => users[user as usize]
                    .set_c2c_receive_message_opt(chunk, ReceiveOpt::NotReceive)
                    .await
                    .map_err(|e| e.to_string())?,
                Driver::Remote(r) => {
                    let body = json!({"param": chunk, "opt": ReceiveOpt::NotReceive.number()});
                    r.call(user, "TIMMsgSetC2CReceiveMessageOpt", body).await.map(drop)?
                }
            }
        }
        for group in convs.iter().filter(|c| c.conv_type == ConvType::Group) {
            match self {
                Driver::InProc(users) => users[user as usize]
                    .set_group_receive_message_opt(&group.id, ReceiveOpt::NotReceive)
                    .await
                    .map_err(|e| e.to_string())?,
                Driver::Remote(r) => {
                    let body = json!({"conv_id": &*group.id, "opt": ReceiveOpt::NotReceive.number()});
                    r.call(user, "TIMMsgSetGroupReceiveMessageOpt", body).await.map(drop)?
                }
            }
        }
        Ok(())
    }

    pub async fn send(&self, user: u32, conv: &ConvRef, kind: Kind, image: &str) -> Result<(u64, SentHandle), String> {
        match self {
            Driver::InProc(users) => {
                let element = match kind {
                    Kind::Text => Element::text("load text message"),
                    Kind::Custom => Element::custom("{\"load\":true}"),
                    Kind::Image => Element::new(ElementBody::Image(Box::new(ImageElement {
                        orig_path: image.into(),
                        ..Default::default()
                    }))),
                };
                let view = users[user as usize]
                    .send(conv, MessageContent::with_elements(vec![element]))
                    .await
                    .map_err(|e| e.to_string())?;
                Ok((view.message.seq, SentHandle::Id(view.message.id.clone())))
            }
            Driver::Remote(r @ Remote { rest: Some(rest), http, .. }) => {
                let base = r.base_of(user);
                let body = match kind {
                    Kind::Custom => json!([{"MsgType": "TIMCustomElem", "MsgContent": {"Data": "{\"load\":true}"}}]),
                    _ => json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": "load text message"}}]),
                };
                let (seq, reply) = rest.send(http, base, &r.names[user as usize], conv, body).await?;
                Ok((seq, SentHandle::Json(reply)))
            }
            Driver::Remote(r) => {
                let elem = match kind {
                    Kind::Text => json!({"elem_type": 0, "text_elem_content": "load text message"}),
                    Kind::Custom => json!({"elem_type": 3, "custom_elem_data": "{\"load\":true}"}),
                    Kind::Image => json!({"elem_type": 1, "image_elem_orig_path": image}),
                };
                let (id, t) = conv_body(conv);
                let sent = r
                    .call(
                        user,
                        "TIMMsgSendMessage",
                        json!({"conv_id": id, "conv_type": t, "param": {"message_elem_array": [elem]}}),
                    )
                    .await?;
                Ok((sent["message_seq"].as_u64().unwrap_or(0), SentHandle::Json(sent)))
            }
        }
    }

    /// One message from `from` (no load user: the run's bot) to each of `receivers` over the
    /// REST API's `batchsendmsg`; answers the receivers it failed for. Only with `--via rest`.
    pub async fn batch_send(&self, from: &str, receivers: &[u32]) -> Result<Vec<u32>, String> {
        let Driver::Remote(r @ Remote { rest: Some(rest), http, .. }) = self else {
            return Err("batch sends go over the REST API: --via rest".into());
        };
        let base = r.base_of(receivers.first().copied().unwrap_or(0));
        let names: Vec<String> = receivers.iter().map(|u| r.names[*u as usize].clone()).collect();
        let failed = rest.batch(http, base, from, &names).await?;
        Ok(receivers.iter().copied().filter(|u| failed.contains(&r.names[*u as usize])).collect())
    }

    pub async fn revoke(&self, user: u32, conv: &ConvRef, handle: SentHandle) -> bool {
        match (self, handle) {
            (Driver::InProc(users), SentHandle::Id(id)) => {
                users[user as usize].revoke(conv, MessageTarget::Id(id)).await.is_ok()
            }
            (Driver::Remote(r), SentHandle::Json(msg)) => {
                let (id, t) = conv_body(conv);
                r.call(user, "TIMMsgRevoke", json!({"conv_id": id, "conv_type": t, "param": msg})).await.is_ok()
            }
            _ => false,
        }
    }

    /// Sets `user`'s C2C receive option for `peer`.
    pub async fn set_c2c_opt(&self, user: u32, peer: &str, opt: ReceiveOpt) -> bool {
        match self {
            Driver::InProc(users) => {
                users[user as usize].set_c2c_receive_message_opt(&[peer.to_string()], opt).await.is_ok()
            }
            Driver::Remote(r) => {
                let body = json!({"param": [peer], "opt": opt.number()});
                r.call(user, "TIMMsgSetC2CReceiveMessageOpt", body).await.is_ok()
            }
        }
    }

    /// Sets the text of `user`'s local custom data on a message it sent.
    pub async fn set_custom_data(&self, user: u32, conv: &ConvRef, handle: &SentHandle, text: &str) -> bool {
        match (self, handle) {
            (Driver::InProc(users), SentHandle::Id(id)) => {
                let data = timsg_actors::message::LocalCustomData { int: 0, text: text.into() };
                users[user as usize].set_local_custom_data(conv, MessageTarget::Id(id.clone()), data).await.is_ok()
            }
            (Driver::Remote(r), SentHandle::Json(msg)) => {
                let mut msg = msg.clone();
                msg["message_custom_str"] = json!(text);
                let (id, t) = conv_body(conv);
                (msg["message_conv_id"], msg["message_conv_type"]) = (json!(id), json!(t));
                r.call(user, "TIMMsgSetLocalCustomData", json!({"param": msg})).await.is_ok()
            }
            _ => false,
        }
    }

    pub async fn read(&self, user: u32, conv: &ConvRef) -> bool {
        match self {
            Driver::InProc(users) => users[user as usize].report_readed(conv, None).await.is_ok(),
            Driver::Remote(r) => {
                let (id, t) = conv_body(conv);
                r.call(user, "TIMMsgReportReaded", json!({"conv_id": id, "conv_type": t})).await.is_ok()
            }
        }
    }

    pub async fn history(&self, user: u32, conv: &ConvRef) -> bool {
        match self {
            Driver::InProc(users) => {
                users[user as usize].get_msg_list(conv, HistoryQuery { count: 20, ..Default::default() }).await.is_ok()
            }
            Driver::Remote(r) => {
                let (id, t) = conv_body(conv);
                r.call(
                    user,
                    "TIMMsgGetMsgList",
                    json!({"conv_id": id, "conv_type": t, "param": {"msg_getmsglist_param_count": 20}}),
                )
                .await
                .is_ok()
            }
        }
    }

    /// Every seq of `conv` as `user` sees it, oldest first, page by page.
    pub async fn history_seqs(&self, user: u32, conv: &ConvRef) -> Result<Vec<u64>, String> {
        const PAGE: usize = 100;
        let mut seqs = Vec::new();
        loop {
            let page: Vec<u64> = match self {
                Driver::InProc(users) => {
                    let anchor = match seqs.last() {
                        Some(seq) => crate::HistoryAnchor::Message(MessageTarget::Seq(*seq)),
                        None => crate::HistoryAnchor::None,
                    };
                    let query = HistoryQuery { count: PAGE, forward: true, anchor, ..Default::default() };
                    let page = users[user as usize].get_msg_list(conv, query).await.map_err(|e| e.to_string())?;
                    page.iter().map(|m| m.message.seq).collect()
                }
                Driver::Remote(r) => {
                    let (id, t) = conv_body(conv);
                    let mut param =
                        json!({"msg_getmsglist_param_count": PAGE, "msg_getmsglist_param_is_forward": true});
                    if let Some(seq) = seqs.last() {
                        param["msg_getmsglist_param_last_msg"] = json!({"message_seq": seq});
                    }
                    let page = r
                        .call(user, "TIMMsgGetMsgList", json!({"conv_id": id, "conv_type": t, "param": param}))
                        .await?;
                    page.as_array().into_iter().flatten().filter_map(|m| m["message_seq"].as_u64()).collect()
                }
            };
            let full = page.len() == PAGE;
            seqs.extend(page);
            if !full {
                return Ok(seqs);
            }
        }
    }

    pub async fn search(&self, user: u32) -> bool {
        match self {
            Driver::InProc(users) => {
                let q = SearchQuery { keywords: vec!["load".into()], page_size: 20, ..Default::default() };
                users[user as usize].search_local_messages(q).await.is_ok()
            }
            Driver::Remote(r) => {
                let param = json!({"msg_search_param_keyword_array": ["load"], "msg_search_param_page_size": 20});
                r.call(user, "TIMMsgSearchLocalMessages", json!({"param": param})).await.is_ok()
            }
        }
    }

    /// Starts recording `user`'s new messages in `inbox`.
    pub async fn subscribe(&self, user: u32, mut inbox: Inbox) -> Result<Feed, String> {
        let (stop, mut stopped) = watch::channel(false);
        let done = match self {
            Driver::InProc(users) => {
                let mut events = users[user as usize].take_events().ok_or("events already taken")?;
                tokio::spawn(async move {
                    // Every event waiting is taken at each wake-up, not one per turn of the
                    // `select!` (whose stop future was remade for each event).
                    let mut batch = Vec::with_capacity(EVENTS_PER_WAKE);
                    // Made once: a `changed()` made at every turn registered a new waiter.
                    let stop = stopped.changed();
                    tokio::pin!(stop);
                    loop {
                        tokio::select! {
                            n = events.recv_many(&mut batch, EVENTS_PER_WAKE) => {
                                if n == 0 {
                                    return inbox;
                                }
                                for e in batch.drain(..) {
                                    if let Event::NewMessages { messages, .. } = e {
                                        for m in &messages {
                                            inbox.record(m.conv.conv_type, &m.conv.id, m.message.seq);
                                        }
                                    }
                                }
                            }
                            _ = &mut stop => return inbox,
                        }
                    }
                })
            }
            Driver::Remote(r) => {
                let socket = UserSocket {
                    user,
                    name: r.names[user as usize].clone(),
                    bases: r.bases.clone(),
                    sig: r.sigs[user as usize].clone(),
                    sockets: r.sockets.clone(),
                    reconnects: r.reconnects.clone(),
                };
                let home = user as usize % r.bases.len();
                let first = socket.open(home, None, &stopped).await?;
                tokio::spawn(socket.run(first, home, inbox, stopped))
            }
        };
        Ok(Feed { stop, done })
    }
}

/// How long a user whose socket closed under the load keeps trying the other nodes.
const RECONNECT_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// One user's event socket over the network: opened on the user's node and, if it closes
/// under the load (its node died), opened again on the next node with the cursor of the last
/// event read, so the events stream gives what came meanwhile.
struct UserSocket {
    user: u32,
    name: String,
    bases: Arc<Vec<String>>,
    sig: String,
    sockets: Arc<Vec<RwLock<Option<Arc<WsCaller>>>>>,
    reconnects: Arc<AtomicU64>,
}

type Frames = futures_util::stream::SplitStream<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
>;

impl UserSocket {
    /// Opens the socket on node `base` (after `cursor`) and makes it the user's caller.
    async fn open(&self, base: usize, cursor: Option<u64>, stopped: &watch::Receiver<bool>) -> Result<Frames, String> {
        let ws_base = self.bases[base].replacen("http", "ws", 1);
        let mut url = format!("{ws_base}/v1/events?user={}&usersig={}", self.name, self.sig);
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        // 4 KiB read buffers: tungstenite zero-fills its read buffer (128 KiB by default)
        // for every read, which was the generator's largest cost with 2,000 sockets of
        // small frames.
        let config = WebSocketConfig::default().read_buffer_size(4096);
        let (ws, _) =
            tokio_tungstenite::connect_async_with_config(url, Some(config), true).await.map_err(|e| e.to_string())?;
        let (sink, frames) = ws.split();
        let mut stopped_writer = stopped.clone();
        let out = spawn_frame_writer(sink, async move { drop(stopped_writer.changed().await) });
        *self.sockets[self.user as usize].write() = Some(Arc::new(WsCaller::new(out)));
        Ok(frames)
    }

    fn caller(&self) -> Option<Arc<WsCaller>> {
        self.sockets[self.user as usize].read().clone()
    }

    /// Records the user's new messages until stopped, moving to the next node whenever the
    /// socket closes before that; hands the inbox back.
    async fn run(
        self,
        mut frames: Frames,
        mut base: usize,
        mut inbox: Inbox,
        mut stopped: watch::Receiver<bool>,
    ) -> Inbox {
        let mut cursor = 0u64;
        loop {
            let closed = loop {
                tokio::select! {
                    frame = frames.next() => match frame {
                        Some(Ok(WsMessage::Text(t))) => {
                            let Ok(frame) = serde_json::from_str::<IncomingFrame>(&t) else { continue };
                            if frame.reply.is_some() {
                                if let (Ok(v), Some(caller)) = (serde_json::from_str::<Value>(&t), self.caller()) {
                                    caller.deliver(v);
                                }
                                continue;
                            }
                            cursor = cursor.max(frame.cursor.unwrap_or(0));
                            if frame.event.as_deref() != Some("RecvNewMsg") {
                                continue;
                            }
                            for m in frame.json.into_iter().flatten() {
                                let conv_type = m.message_conv_type.and_then(ConvType::from_number);
                                let (Some(conv_type), Some(id), Some(seq)) = (conv_type, m.message_conv_id, m.message_seq) else { continue };
                                inbox.record(conv_type, &id, seq);
                            }
                        }
                        Some(Ok(_)) => {}
                        _ => break true,
                    },
                    _ = stopped.changed() => break false,
                }
            };
            if let Some(caller) = self.caller() {
                caller.close();
            }
            if !closed || *stopped.borrow() {
                // Calls after the load (its rereads) go over HTTP.
                *self.sockets[self.user as usize].write() = None;
                return inbox;
            }
            // The node went away under the load: the next ones, with the cursor, for a while.
            let began = std::time::Instant::now();
            frames = loop {
                base = (base + 1) % self.bases.len();
                match self.open(base, Some(cursor), &stopped).await {
                    Ok(f) => break f,
                    Err(e) if began.elapsed() > RECONNECT_FOR => {
                        tracing::error!(user = self.user, error = %e, "cannot reach any node again");
                        *self.sockets[self.user as usize].write() = None;
                        return inbox;
                    }
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(250)).await,
                }
                if *stopped.borrow() {
                    *self.sockets[self.user as usize].write() = None;
                    return inbox;
                }
            };
            self.reconnects.fetch_add(1, Ordering::Relaxed);
            tracing::info!(user = self.user, node = %self.bases[base], cursor, "event socket reopened on another node");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IncomingFrame;

    #[test]
    fn frames_are_read_for_what_the_generator_needs() {
        let reply: IncomingFrame =
            serde_json::from_str(r#"{"code":0,"desc":"","json_params":{"message_seq":3},"reply":7}"#).unwrap();
        assert_eq!(reply.reply, Some(serde_json::json!(7)));
        let new_msg = r#"{"cursor":1,"event":"RecvNewMsg","json":[{"message_conv_type":1,"message_conv_id":"u1","message_seq":4,"message_elem_array":[{"elem_type":0,"text_elem_content":"x"}]}]}"#;
        let frame: IncomingFrame = serde_json::from_str(new_msg).unwrap();
        assert_eq!(frame.event.as_deref(), Some("RecvNewMsg"));
        let m = &frame.json.unwrap()[0];
        assert_eq!((m.message_conv_type, m.message_conv_id.as_deref(), m.message_seq), (Some(1), Some("u1"), Some(4)));
        let revoke = r#"{"cursor":2,"event":"MsgRevoke","json":[{"message_locator_seq":4}]}"#;
        assert!(serde_json::from_str::<IncomingFrame>(revoke).unwrap().reply.is_none());
        let progress = r#"{"cursor":3,"event":"DownloadProgress","json":{"current":1}}"#;
        assert!(serde_json::from_str::<IncomingFrame>(progress).is_err(), "not a frame the generator reads");
    }
}
