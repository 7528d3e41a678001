//! Verifying a Daily.co webhook: Daily signs `"{X-Webhook-Timestamp}.{raw
//! body}"` with HMAC-SHA256 keyed by the base64-decoded webhook secret and
//! sends the MAC base64-encoded in `X-Webhook-Signature`. The timestamp is
//! read in seconds (a value in milliseconds is recognised by its size and
//! signed as sent). The comparison and the 300-second tolerance are the
//! payments verifier's ([`verify_timestamped_hmac`]).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};

use crate::payments::verify_timestamped_hmac;
use crate::{Error, Result};

/// Checks a Daily delivery at `now_unix` (seconds);
/// [`Error::InvalidSignature`] naming what is wrong otherwise.
pub fn verify_daily(
    payload: &[u8],
    signature: Option<&str>,
    timestamp: Option<&str>,
    secret: &SecretString,
    now_unix: i64,
) -> Result<()> {
    let signature = signature.ok_or_else(|| bad("the X-Webhook-Signature header is missing"))?;
    let timestamp = timestamp.ok_or_else(|| bad("the X-Webhook-Timestamp header is missing"))?;
    let raw: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| bad("the signature's timestamp is not a number"))?;
    let candidate = STANDARD
        .decode(signature.trim())
        .map_err(|_| bad("the signature is not base64"))?;
    let key = STANDARD
        .decode(secret.expose_secret().trim())
        .map_err(|_| Error::Config("the Daily webhook secret is not base64".to_owned()))?;
    // Milliseconds: a 13-digit number. Daily signs the header as sent.
    let seconds = if raw > 100_000_000_000 {
        raw / 1000
    } else {
        raw
    };
    verify_timestamped_hmac(
        &key,
        timestamp.trim(),
        seconds,
        payload,
        &[candidate],
        now_unix,
    )
}

fn bad(why: &str) -> Error {
    Error::InvalidSignature(why.to_owned())
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    use super::*;

    /// A secret as Daily shows it: base64 of the key bytes.
    const SECRET: &str = "c2VjcmV0LWtleS1mb3ItZGFpbHk=";
    const NOW: i64 = 1_790_000_000;
    const BODY: &[u8] = br#"{"id":"ev_1","type":"meeting.started"}"#;

    fn sign(secret_b64: &str, t: &str, body: &[u8]) -> String {
        let key = STANDARD.decode(secret_b64).expect("base64");
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("key");
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        STANDARD.encode(mac.finalize().into_bytes())
    }

    fn check(signature: Option<&str>, t: Option<&str>, body: &[u8]) -> Result<()> {
        verify_daily(body, signature, t, &SecretString::from(SECRET), NOW)
    }

    fn refused(result: Result<()>, why: &str) {
        match result {
            Err(Error::InvalidSignature(message)) => {
                assert!(message.contains(why), "{message:?} should say {why:?}")
            }
            other => panic!("expected an invalid signature ({why}), got {other:?}"),
        }
    }

    #[test]
    fn known_vector_from_python_hmac() {
        // python3 -c 'import hmac,hashlib,base64;print(base64.b64encode(hmac.new(
        //   base64.b64decode("c2VjcmV0LWtleS1mb3ItZGFpbHk="),
        //   b"1790000000.{\"id\":\"ev_1\",\"type\":\"meeting.started\"}",
        //   hashlib.sha256).digest()).decode())'
        assert_eq!(
            sign(SECRET, "1790000000", BODY),
            "diiN/GYTuiuVJzFtOq+tCFmCu+hhh26LHhqv3c3RGrg="
        );
    }

    #[test]
    fn valid_in_seconds_and_in_milliseconds() {
        let t = NOW.to_string();
        assert!(check(Some(&sign(SECRET, &t, BODY)), Some(&t), BODY).is_ok());
        let ms = (NOW * 1000 + 250).to_string();
        assert!(check(Some(&sign(SECRET, &ms, BODY)), Some(&ms), BODY).is_ok());
    }

    #[test]
    fn wrong_secret_tampered_body_and_stale_timestamp_are_refused() {
        let t = NOW.to_string();
        let other = STANDARD.encode(b"another key");
        refused(
            check(Some(&sign(&other, &t, BODY)), Some(&t), BODY),
            "no signature matches",
        );
        refused(
            check(Some(&sign(SECRET, &t, BODY)), Some(&t), b"{}"),
            "no signature matches",
        );
        let old = (NOW - 301).to_string();
        refused(
            check(Some(&sign(SECRET, &old, BODY)), Some(&old), BODY),
            "tolerance",
        );
        let old_ms = ((NOW - 301) * 1000).to_string();
        refused(
            check(Some(&sign(SECRET, &old_ms, BODY)), Some(&old_ms), BODY),
            "tolerance",
        );
    }

    #[test]
    fn missing_or_malformed_headers_are_refused() {
        let t = NOW.to_string();
        let good = sign(SECRET, &t, BODY);
        refused(check(None, Some(&t), BODY), "missing");
        refused(check(Some(&good), None, BODY), "missing");
        refused(check(Some(&good), Some("soon"), BODY), "not a number");
        refused(check(Some("%%%"), Some(&t), BODY), "base64");
        refused(check(Some(""), Some(&t), BODY), "no signature matches");
    }
}
