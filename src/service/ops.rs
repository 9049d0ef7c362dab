//! Operations endpoints: `/metrics` (Prometheus text), `/healthz` (the process is up),
//! `/readyz` (the store is open and takes writes).

use std::sync::OnceLock;

use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use timsg_actors::telemetry::{Kind, METRICS, buckets, describe_and_register};

use super::ServiceState;

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder once per process, with the catalog's help texts and
/// histogram buckets, and registers the series that exist from the start. Embedders call it
/// too, and render the handle themselves; one that installed its own recorder keeps it
/// (`/metrics` then says so).
pub fn install_metrics() -> Option<&'static PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| {
            let mut builder = PrometheusBuilder::new();
            for m in METRICS.iter().filter(|m| m.kind == Kind::Histogram) {
                builder = match builder.set_buckets_for_metric(Matcher::Full(m.name.into()), buckets(m.name)) {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::warn!(error = %e, metric = m.name, "cannot set buckets");
                        return None;
                    }
                };
            }
            match builder.install_recorder() {
                Ok(h) => {
                    describe_and_register();
                    Some(h)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "another metrics recorder is installed; /metrics is empty");
                    None
                }
            }
        })
        .as_ref()
}

/// Whether `given` is `secret`, in time that does not depend on where they differ: both are
/// hashed, and the digests compared without an early exit.
fn same_secret(given: &str, secret: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(given.as_bytes()), Sha256::digest(secret.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `/metrics`; with a `metrics_token` configured, only for `Authorization: Bearer <token>`
/// (compared in constant time).
pub async fn metrics(req: actix_web::HttpRequest, state: web::Data<ServiceState>) -> HttpResponse {
    if let Some(token) = &state.config.metrics_token {
        let given = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !same_secret(given, token) {
            return HttpResponse::Unauthorized()
                .insert_header(("WWW-Authenticate", "Bearer"))
                .body("metrics need the bearer token (metrics_token)\n");
        }
    }
    match install_metrics() {
        Some(h) => HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(h.render()),
        None => HttpResponse::ServiceUnavailable().body("metrics are recorded elsewhere\n"),
    }
}

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().body("ok\n")
}

/// How long `/readyz` waits for the store writer before it answers 503.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

pub async fn readyz(state: web::Data<ServiceState>) -> HttpResponse {
    match state.runtime.engine().store_health(READY_WITHIN).await {
        Ok(()) => HttpResponse::Ok().body("ready\n"),
        Err(why) => HttpResponse::ServiceUnavailable().body(format!("the store does not take writes: {why}\n")),
    }
}
