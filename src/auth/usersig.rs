//! UserSig v2, the TLSSigAPIv2 format: a JSON document naming the user, the SDKAppID, the time
//! it was made and how long it lives, with an HMAC-SHA256 over those fields keyed by the app's
//! secret key; zlib-compressed, then base64 with `+ / =` replaced by `* - _` so it is URL-safe.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::io::{Read, Write};

use crate::error::TimError;

/// `ERR_USER_SIG_EXPIRED`: the UserSig is past its lifetime.
pub const ERR_USER_SIG_EXPIRED: i32 = 6206;
/// The UserSig does not verify (malformed, forged, or made with another key).
pub const ERR_USERSIG_INVALID: i32 = 70003;
/// The UserSig was made for another user.
pub const ERR_USERSIG_IDENTIFIER_MISMATCH: i32 = 70013;
/// The UserSig was made for another SDKAppID.
pub const ERR_USERSIG_SDKAPPID_MISMATCH: i32 = 70014;

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '+' => '*',
            '/' => '-',
            '=' => '_',
            c => c,
        })
        .collect()
}

fn unescape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '*' => '+',
            '-' => '/',
            '_' => '=',
            c => c,
        })
        .collect()
}

fn signer(key: &str, identifier: &str, sdkappid: u64, time: u64, expire: u64, userbuf: Option<&str>) -> Hmac<Sha256> {
    let mut content =
        format!("TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\nTLS.time:{time}\nTLS.expire:{expire}\n");
    if let Some(b) = userbuf {
        content.push_str(&format!("TLS.userbuf:{b}\n"));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("hmac takes keys of any length");
    mac.update(content.as_bytes());
    mac
}

fn hmac_b64(key: &str, identifier: &str, sdkappid: u64, time: u64, expire: u64, userbuf: Option<&str>) -> String {
    STANDARD.encode(signer(key, identifier, sdkappid, time, expire, userbuf).finalize().into_bytes())
}

/// Makes a UserSig for `identifier`, valid `expire` seconds from `now`.
pub fn generate(sdkappid: u64, key: &str, identifier: &str, expire: u64, now: u64) -> String {
    let doc = json!({
        "TLS.ver": "2.0",
        "TLS.identifier": identifier,
        "TLS.sdkappid": sdkappid,
        "TLS.expire": expire,
        "TLS.time": now,
        "TLS.sig": hmac_b64(key, identifier, sdkappid, now, expire, None),
    });
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(doc.to_string().as_bytes()).expect("writing to memory cannot fail");
    escape(&STANDARD.encode(z.finish().expect("writing to memory cannot fail")))
}

fn invalid(why: &str) -> TimError {
    TimError::new(ERR_USERSIG_INVALID, format!("invalid UserSig: {why}"))
}

/// Checks `sig` for `identifier` and `sdkappid` at time `now` (seconds).
pub fn verify(sig: &str, sdkappid: u64, key: &str, identifier: &str, now: u64) -> Result<(), TimError> {
    verify_issued(sig, sdkappid, key, identifier, now).map(drop)
}

/// As [`verify`], answering when the UserSig was made (`TLS.time`, s): a kicked user's
/// UserSigs made before the kick are refused by that time.
pub fn verify_issued(sig: &str, sdkappid: u64, key: &str, identifier: &str, now: u64) -> Result<u64, TimError> {
    signed_claims(sig, key)?.admit(sdkappid, identifier, now)
}

/// What a UserSig says, once its signature is known to be the app's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub identifier: String,
    pub sdkappid: u64,
    /// When it was made (s).
    pub time: u64,
    /// How long it lives (s).
    pub expire: u64,
}

impl Claims {
    /// Whether the UserSig admits `identifier` of app `sdkappid` at `now` (s): the time it was
    /// made, or why not.
    pub fn admit(&self, sdkappid: u64, identifier: &str, now: u64) -> Result<u64, TimError> {
        if self.identifier != identifier {
            return Err(TimError::new(
                ERR_USERSIG_IDENTIFIER_MISMATCH,
                format!("the UserSig is for {:?}, not {identifier:?}", self.identifier),
            ));
        }
        if self.sdkappid != sdkappid {
            return Err(TimError::new(
                ERR_USERSIG_SDKAPPID_MISMATCH,
                format!("the UserSig is for SDKAppID {}", self.sdkappid),
            ));
        }
        if now > self.time.saturating_add(self.expire) {
            return Err(TimError::new(ERR_USER_SIG_EXPIRED, "the UserSig has expired"));
        }
        Ok(self.time)
    }
}

/// Decodes `sig` and checks its signature with `key`: its claims, whoever they name.
pub fn signed_claims(sig: &str, key: &str) -> Result<Claims, TimError> {
    let compressed = STANDARD.decode(unescape(sig.trim())).map_err(|_| invalid("not base64"))?;
    let mut text = String::new();
    ZlibDecoder::new(&compressed[..]).take(64 * 1024).read_to_string(&mut text).map_err(|_| invalid("not zlib"))?;
    let doc: Value = serde_json::from_str(&text).map_err(|_| invalid("not json"))?;
    let num = |k: &str| -> Result<u64, TimError> {
        match &doc[k] {
            Value::Number(n) => n.as_u64().ok_or_else(|| invalid(k)),
            Value::String(s) => s.parse().map_err(|_| invalid(k)),
            _ => Err(invalid(k)),
        }
    };
    let id = doc["TLS.identifier"].as_str().ok_or_else(|| invalid("no identifier"))?;
    let app = num("TLS.sdkappid")?;
    let time = num("TLS.time")?;
    let expire = num("TLS.expire")?;
    let userbuf = doc["TLS.userbuf"].as_str();
    let given = doc["TLS.sig"].as_str().ok_or_else(|| invalid("no signature"))?;
    let given = STANDARD.decode(given).map_err(|_| invalid("the signature is not base64"))?;
    // `verify_slice` compares in constant time: how long a wrong guess takes to be refused
    // says nothing about how many of its leading bytes were right.
    signer(key, id, app, time, expire, userbuf)
        .verify_slice(&given)
        .map_err(|_| invalid("the signature does not match"))?;
    Ok(Claims { identifier: id.to_string(), sdkappid: app, time, expire })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_sigs_verify_and_the_rest_do_not() {
        let sig = generate(1400000000, "secret", "alice", 86400, 1_000_000);
        assert!(!sig.contains(['+', '/', '=']));
        assert_eq!(verify(&sig, 1400000000, "secret", "alice", 1_000_100), Ok(()));
        let code = |r: Result<(), TimError>| r.unwrap_err().code;
        assert_eq!(code(verify(&sig, 1400000000, "other", "alice", 1_000_100)), ERR_USERSIG_INVALID);
        assert_eq!(code(verify(&sig, 1400000000, "secret", "bob", 1_000_100)), ERR_USERSIG_IDENTIFIER_MISMATCH);
        assert_eq!(code(verify(&sig, 1400000001, "secret", "alice", 1_000_100)), ERR_USERSIG_SDKAPPID_MISMATCH);
        assert_eq!(code(verify(&sig, 1400000000, "secret", "alice", 1_086_401)), ERR_USER_SIG_EXPIRED);
        assert_eq!(code(verify("garbage", 1400000000, "secret", "alice", 0)), ERR_USERSIG_INVALID);
    }
}
