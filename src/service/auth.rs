//! Who a request is from: `X-TIM-User` and `X-TIM-UserSig` headers (or `user` and `usersig`
//! query parameters, for WebSocket clients that cannot set headers), verified as UserSig v2.
//! The admin identity may act on behalf of any user with `X-TIM-Act-As` (or `act_as`).

use actix_web::HttpRequest;
use actix_web::http::StatusCode;

use super::ServiceState;
use crate::error::TimError;

/// Missing credentials: `ERR_SDK_NOT_LOGGED_IN`.
pub const ERR_SDK_NOT_LOGGED_IN: i32 = 6014;

/// A refused request: the HTTP status and the TIM error.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub error: TimError,
}

/// A query parameter, percent-decoded.
pub fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    url_pairs(req.query_string()).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// `a=b&c=d` pairs, percent-decoded.
fn url_pairs(q: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                    match u8::from_str_radix(hex, 16) {
                        Ok(b) if hex.len() == 2 => {
                            out.push(b);
                            i += 3;
                            continue;
                        }
                        _ => out.push(b'%'),
                    }
                }
                b'+' => out.push(b' '),
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).to_string()
    }
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn header_or_query(req: &HttpRequest, header: &str, query: &str) -> Option<String> {
    req.headers()
        .get(header)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| query_param(req, query))
        .filter(|v| !v.is_empty())
}

/// `70052`: the UserSig was made before its user was kicked (or its account deleted).
pub const ERR_SIG_REVOKED: i32 = 70052;

/// Refuses a UserSig of `user` made at `issued` (s) before the user's last kick.
pub fn check_not_revoked(state: &ServiceState, user: &str, issued: u64) -> Result<(), TimError> {
    match state.sigs_valid_from(user) {
        Some(from) if issued < from => Err(TimError::new(
            ERR_SIG_REVOKED,
            format!("the UserSig of {user} was made before its account was kicked; make a new one"),
        )),
        _ => Ok(()),
    }
}

/// The user a request acts as, after checking its UserSig (and its right to act as another).
pub fn authenticate(state: &ServiceState, req: &HttpRequest) -> Result<String, Refusal> {
    authenticate_issued(state, req).map(|(user, _)| user)
}

/// As [`authenticate`], with the time (s) the UserSig was made: a WebSocket closes when its
/// user is kicked after that.
pub fn authenticate_issued(state: &ServiceState, req: &HttpRequest) -> Result<(String, u64), Refusal> {
    let unauthorized = |error: TimError| Refusal { status: StatusCode::UNAUTHORIZED, error };
    let user = header_or_query(req, "x-tim-user", "user").ok_or_else(|| {
        unauthorized(TimError::new(ERR_SDK_NOT_LOGGED_IN, "name the user (X-TIM-User) and its UserSig (X-TIM-UserSig)"))
    })?;
    let sig = header_or_query(req, "x-tim-usersig", "usersig")
        .ok_or_else(|| unauthorized(TimError::new(ERR_SDK_NOT_LOGGED_IN, "the UserSig (X-TIM-UserSig) is missing")))?;
    let now = state.runtime.engine().now_ms() / 1000;
    let issued = state.verified_sigs.verify_issued(&sig, state.config.sdkappid, &user, now).map_err(unauthorized)?;
    check_not_revoked(state, &user, issued).map_err(unauthorized)?;
    match header_or_query(req, "x-tim-act-as", "act_as") {
        Some(other) if other != user => {
            if user == state.config.admin {
                Ok((other, issued))
            } else {
                Err(Refusal {
                    status: StatusCode::FORBIDDEN,
                    error: TimError::new(7014, format!("only the admin identity may act as another user, not {user}")),
                })
            }
        }
        _ => Ok((user, issued)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode() {
        assert_eq!(
            url_pairs("user=al%20ice&usersig=a*b-c_&x"),
            vec![("user".into(), "al ice".into()), ("usersig".into(), "a*b-c_".into()), ("x".into(), "".into())]
        );
    }
}
