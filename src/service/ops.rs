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

pub async fn metrics() -> HttpResponse {
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
