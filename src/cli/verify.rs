//! `timsg verify-acks`: checks a running service against the acknowledgement log of
//! `timsg load --ack-log` — after a crash, everything acknowledged must be there (see
//! `load::acks`).

use std::io::Write;
use std::path::PathBuf;

use serde_json::Value;

use crate::load::acks;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The ack log written by `timsg load --ack-log`.
    pub ack_log: PathBuf,
    /// The service's base URL (e.g. http://127.0.0.1:8080).
    #[arg(long)]
    pub target: String,
    /// The service's secret key, to make the users' UserSigs.
    #[arg(long, env = "TIMSG_SECRET_KEY", hide_env_values = true)]
    pub secret_key: String,
    #[arg(long, default_value_t = crate::service::config::DEFAULT_SDKAPPID)]
    pub sdkappid: u64,
}

pub fn run(args: VerifyArgs) -> Result<(), String> {
    let acks = acks::read(&args.ack_log)?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    // Idle connections are let go before the service's keep-alive (5 s) would close them.
    let http = reqwest::Client::builder()
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .build()
        .map_err(|e| e.to_string())?;
    let base = args.target.trim_end_matches('/').to_string();
    let now = timsg_actors::Clock::System.now_secs();
    let call = |user: String, api: &'static str, body: Value| {
        let (http, base) = (http.clone(), base.clone());
        let sig = crate::auth::usersig::generate(args.sdkappid, &args.secret_key, &user, 3600, now);
        async move {
            let request = http
                .post(format!("{base}/v1/{api}"))
                .header("X-TIM-User", &user)
                .header("X-TIM-UserSig", sig)
                .body(body.to_string());
            // Every call here only reads: one that did not reach the service is tried again once.
            let retry = request.try_clone();
            let resp = match (request.send().await, retry) {
                (Ok(resp), _) => Ok(resp),
                (Err(e), Some(retry)) if e.is_connect() || e.is_request() => retry.send().await,
                (Err(e), _) => Err(e),
            }
            .map_err(|e| format!("{api} for {user}: {e}"))?;
            let mut v: Value = serde_json::from_slice(&resp.bytes().await.map_err(|e| e.to_string())?)
                .map_err(|e| format!("{api} for {user}: {e}"))?;
            match v["code"].as_i64() {
                Some(0) => Ok(v["json_params"].take()),
                _ => Err(format!("{api} for {user}: {v}")),
            }
        }
    };
    let verdict = rt.block_on(acks::verify(&acks, call))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string(&verdict).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    match verdict.problems.len() {
        0 => Ok(()),
        n => Err(format!("{n} acknowledged operations are not as acknowledged")),
    }
}
