//! The catalog of every metric timsg records: name, kind, unit, help text and histogram
//! buckets. Names follow `timsg_<subsystem>_<name>_<unit>`; labels never carry user, group or
//! conversation IDs. Dashboards may only use names listed here (a test holds them to it).

use metrics::Unit;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

#[derive(Debug, Clone, Copy)]
pub struct MetricDef {
    pub name: &'static str,
    pub kind: Kind,
    pub unit: Unit,
    pub help: &'static str,
    /// Label sets to register at start, so the series exist before the first event.
    pub labels: &'static [&'static [(&'static str, &'static str)]],
}

/// Latency buckets, seconds: 100 µs to 10 s.
pub const LATENCY_BUCKETS: &[f64] =
    &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Group commit sizes, ops.
pub const BATCH_BUCKETS: &[f64] =
    &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 4096.0, 8192.0, 16384.0];

const NONE: &[&[(&str, &str)]] = &[&[]];

macro_rules! m {
    ($name:literal, $kind:ident, $unit:ident, $help:literal) => {
        MetricDef { name: $name, kind: Kind::$kind, unit: Unit::$unit, help: $help, labels: NONE }
    };
    ($name:literal, $kind:ident, $unit:ident, $help:literal, $labels:expr) => {
        MetricDef { name: $name, kind: Kind::$kind, unit: Unit::$unit, help: $help, labels: $labels }
    };
}

pub const METRICS: &[MetricDef] = &[
    m!(
        "timsg_api_calls_total",
        Counter,
        Count,
        "TIM API calls through the dispatcher, by API and outcome (ok, error, refused)",
        &[]
    ),
    m!(
        "timsg_api_call_seconds",
        Histogram,
        Seconds,
        "TIM API call latency, from accepting the call to its callback, by API and outcome",
        &[]
    ),
    m!(
        "timsg_rest_calls_total",
        Counter,
        Count,
        "TIM REST API v4 calls (/v4/<service>/<command>), by command and outcome (ok, error)",
        &[]
    ),
    m!("timsg_rest_call_seconds", Histogram, Seconds, "TIM REST API v4 call latency, by command", &[]),
    m!(
        "timsg_messages_committed_total",
        Counter,
        Count,
        "shared messages made durable, by conversation type",
        &[&[("conv_type", "c2c")], &[("conv_type", "group")]]
    ),
    m!("timsg_sends_cancelled_total", Counter, Count, "sends cancelled while waiting in a send queue"),
    m!(
        "timsg_conversation_older_loads_total",
        Counter,
        Count,
        "conversations that loaded the messages before their activation window for an op that needed them"
    ),
    m!(
        "timsg_conversations_send_queue_depth",
        Gauge,
        Count,
        "messages waiting in a conversation's send queue (upload or rate limit), last reported"
    ),
    m!("timsg_conversations_active", Gauge, Count, "conversation actors alive"),
    m!("timsg_conversations_activated_total", Counter, Count, "conversation actors started (loaded from the store)"),
    m!("timsg_conversations_passivated_total", Counter, Count, "idle conversation actors stopped"),
    m!(
        "timsg_conversations_restarted_total",
        Counter,
        Count,
        "conversations restarted after a panic or a failed write"
    ),
    m!(
        "timsg_mailbox_full_total",
        Counter,
        Count,
        "sends that found an actor's mailbox full and had to wait, by actor",
        &[&[("actor", "conversation")]]
    ),
    m!("timsg_store_commit_seconds", Histogram, Seconds, "duration of one group commit: journal append and sync"),
    m!("timsg_store_group_commit_ops", Histogram, Count, "writes per group commit"),
    m!("timsg_store_queue_depth", Gauge, Count, "write requests waiting for the store writer"),
    m!("timsg_store_errors_total", Counter, Count, "failed store commits, loads and indexing attempts"),
    m!(
        "timsg_store_healthy",
        Gauge,
        Count,
        "1 while the store takes writes, 0 after a failed group commit until one works"
    ),
    m!("timsg_store_index_seconds", Histogram, Seconds, "duration of one indexer transaction into SQLite"),
    m!("timsg_store_index_ops", Histogram, Count, "writes per indexer transaction"),
    m!("timsg_store_index_lag_batches", Gauge, Count, "group commits journaled but not yet in SQLite"),
    m!(
        "timsg_events_delivered_total",
        Counter,
        Count,
        "events put on a stream, by sink (session, websocket)",
        &[&[("sink", "session")], &[("sink", "websocket")]]
    ),
    m!(
        "timsg_events_dropped_total",
        Counter,
        Count,
        "events dropped on a full stream, by sink",
        &[&[("sink", "session")]]
    ),
    m!("timsg_events_subscribers", Gauge, Count, "logged-in users with an event stream"),
    m!("timsg_ws_connections", Gauge, Count, "WebSocket event streams open"),
    m!("timsg_ws_slow_disconnects_total", Counter, Count, "WebSocket clients closed for falling behind"),
    m!("timsg_cluster_calls_forwarded_total", Counter, Count, "calls forwarded to the node owning their conversation"),
    m!("timsg_cluster_event_failures_total", Counter, Count, "events the events stream did not store (cluster mode)"),
    m!(
        "timsg_cluster_event_gaps_filled_total",
        Counter,
        Count,
        "live event gaps a socket's feed read back from the events stream"
    ),
    m!(
        "timsg_cluster_whole_user_reads_total",
        Counter,
        Count,
        "searches and finds by ID asked of every node of the cluster"
    ),
    m!("timsg_uploads_active", Gauge, Count, "media uploads running"),
    m!("timsg_upload_bytes_total", Counter, Bytes, "bytes of media stored by uploads"),
    m!("timsg_upload_failures_total", Counter, Count, "uploads that failed (file checks, not an image, I/O)"),
    m!(
        "timsg_limits_refused_total",
        Counter,
        Count,
        "requests refused by a per-user limit or the trust boundary, by limit (new_conversations, \
         new_groups, blob_bytes, blob_size, blob_read, image_pixels, downloads_per_user, \
         download_queue, download_bytes, download_deadline, fetch_denied, server_path)"
    ),
    m!("timsg_call_timeouts_total", Counter, Count, "calls and sends answered 6012 after the call deadline"),
    m!("timsg_downloads_active", Gauge, Count, "downloads running"),
    m!("timsg_downloads_queued", Gauge, Count, "downloads waiting for a slot"),
    m!(
        "timsg_downloads_total",
        Counter,
        Count,
        "finished downloads, by outcome",
        &[&[("outcome", "ok")], &[("outcome", "failed")]]
    ),
    m!("timsg_download_bytes_total", Counter, Bytes, "bytes of completed downloads"),
    m!(
        "timsg_batch_send_recipients_total",
        Counter,
        Count,
        "batch-send receivers, by outcome",
        &[&[("outcome", "ok")], &[("outcome", "failed")]]
    ),
    m!("timsg_search_seconds", Histogram, Seconds, "local search latency"),
    m!(
        "timsg_events_kept_for_login_total",
        Counter,
        Count,
        "new messages that reached no stream (logged out just before, or a full stream), kept for the next login"
    ),
    m!(
        "timsg_conversation_trimmed_messages_total",
        Counter,
        Count,
        "messages a running conversation let go of to keep a window of the newest in memory"
    ),
    m!("timsg_slow_reads_queued", Gauge, Count, "searches and catch-up scans waiting for a read thread"),
    m!(
        "timsg_slow_reads_refused_total",
        Counter,
        Count,
        "searches and catch-up scans refused with the read queue full"
    ),
];

/// Buckets of a histogram.
pub fn buckets(name: &str) -> &'static [f64] {
    if matches!(name, "timsg_store_group_commit_ops" | "timsg_store_index_ops") {
        BATCH_BUCKETS
    } else {
        LATENCY_BUCKETS
    }
}

/// Describes every metric to the installed recorder and registers the series that should
/// exist from the start (counters at 0, gauges at 0).
pub fn describe_and_register() {
    for m in METRICS {
        match m.kind {
            Kind::Counter => {
                metrics::describe_counter!(m.name, m.unit, m.help);
                for labels in m.labels {
                    let labels: Vec<metrics::Label> = labels.iter().map(|(k, v)| metrics::Label::new(*k, *v)).collect();
                    metrics::counter!(m.name, labels).increment(0);
                }
            }
            Kind::Gauge => {
                metrics::describe_gauge!(m.name, m.unit, m.help);
                metrics::gauge!(m.name).increment(0.0);
            }
            Kind::Histogram => metrics::describe_histogram!(m.name, m.unit, m.help),
        }
    }
}
