//! Operations endpoints: `/metrics` (Prometheus text), `/healthz` (the process is up),
//! `/readyz` (the store is open and takes writes).

use std::sync::OnceLock;

use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::ServiceState;

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder once per process (embedders that installed their own
/// recorder keep it; `/metrics` then says so).
pub fn install_metrics() -> Option<&'static PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::warn!(error = %e, "another metrics recorder is installed; /metrics is empty");
                None
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

pub async fn readyz(state: web::Data<ServiceState>) -> HttpResponse {
    if state.runtime.engine().store_is_writable().await {
        HttpResponse::Ok().body("ready\n")
    } else {
        HttpResponse::ServiceUnavailable().body("the store does not take writes\n")
    }
}
