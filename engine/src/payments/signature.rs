//! Verifying the `Stripe-Signature` header of a webhook: `t=<unix
//! seconds>,v1=<hex>[,v1=<hex>...]` (other schemes such as `v0` are
//! ignored). The signed payload is `"{t}.{raw body}"`, HMAC-SHA256 with the
//! endpoint's secret; any one matching `v1` is enough (Stripe sends several
//! while a secret is being rolled). One URL may serve two endpoints (the
//! account's and the Connect one, each with a secret of its own): a header
//! valid under any of the secrets given passes, under the same rules.
//! Comparison is constant-time (`hmac`'s `verify_slice`), and a timestamp
//! further than the tolerance from now either way is refused, so an old
//! delivery cannot be replayed.
//!
//! The timestamp check and the MAC comparison are shared
//! ([`verify_timestamped_hmac`]) with other senders that sign
//! `"{timestamp}.{body}"` with HMAC-SHA256, such as Daily.co's webhooks
//! (`crate::video`), which carry the timestamp and signature in headers of
//! their own.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::{Error, Result};

/// How far a signature's timestamp may be from now (Stripe's default).
pub const TOLERANCE_SECS: i64 = 300;

/// Checks `header` against `payload` at `now_unix` (seconds): valid when
/// it is valid under one of `secrets` (the endpoints' signing secrets);
/// [`Error::InvalidSignature`] naming what is wrong otherwise.
pub fn verify(
    payload: &[u8],
    header: Option<&str>,
    secrets: &[&SecretString],
    now_unix: i64,
) -> Result<()> {
    let header = header.ok_or_else(|| bad("the Stripe-Signature header is missing"))?;
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| bad("the Stripe-Signature header is malformed"))?;
        match name {
            "t" => {
                let t = value
                    .parse::<i64>()
                    .map_err(|_| bad("the signature's timestamp is not a number"))?;
                if timestamp.replace(t).is_some() {
                    return Err(bad("the Stripe-Signature header has two timestamps"));
                }
            }
            "v1" => candidates
                .push(hex::decode(value).map_err(|_| bad("a v1 signature is not hexadecimal"))?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or_else(|| bad("the signature has no timestamp"))?;
    if candidates.is_empty() {
        return Err(bad("the signature has no v1 value"));
    }
    let signed_timestamp = timestamp.to_string();
    let mut outcome = Err(Error::Config(
        "no Stripe webhook secret is configured".to_owned(),
    ));
    for secret in secrets {
        outcome = verify_timestamped_hmac(
            secret.expose_secret().as_bytes(),
            &signed_timestamp,
            timestamp,
            payload,
            &candidates,
            now_unix,
        );
        if outcome.is_ok() {
            break;
        }
    }
    outcome
}

/// Checks that one of `candidates` is the HMAC-SHA256 under `key` of
/// `"{signed_timestamp}.{payload}"` (the timestamp as the sender wrote it;
/// constant-time) and that `timestamp` (the same instant in unix seconds)
/// is within [`TOLERANCE_SECS`] of `now_unix` either way;
/// [`Error::InvalidSignature`] otherwise. Each sender parses its own
/// headers into the timestamp and `candidates`.
pub fn verify_timestamped_hmac(
    key: &[u8],
    signed_timestamp: &str,
    timestamp: i64,
    payload: &[u8],
    candidates: &[Vec<u8>],
    now_unix: i64,
) -> Result<()> {
    if candidates.is_empty() {
        return Err(bad("the signature has no value"));
    }
    if now_unix.saturating_sub(timestamp).saturating_abs() > TOLERANCE_SECS {
        return Err(bad("the signature's timestamp is outside the tolerance"));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|_| Error::Config("the webhook secret cannot key an HMAC".to_owned()))?;
    mac.update(signed_timestamp.as_bytes());
    mac.update(b".");
    mac.update(payload);
    if candidates
        .iter()
        .any(|candidate| mac.clone().verify_slice(candidate).is_ok())
    {
        Ok(())
    } else {
        Err(bad("no signature matches the payload"))
    }
}

fn bad(why: &str) -> Error {
    Error::InvalidSignature(why.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const NOW: i64 = 1_790_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

    fn sign(secret: &str, t: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    fn check(header: Option<&str>, body: &[u8]) -> Result<()> {
        verify(body, header, &[&SecretString::from(SECRET)], NOW)
    }

    const CONNECT_SECRET: &str = "whsec_connect_secret";

    /// Checked against both endpoints' secrets, the account's and Connect's.
    fn check_both(header: Option<&str>, body: &[u8]) -> Result<()> {
        let account = SecretString::from(SECRET);
        let connect = SecretString::from(CONNECT_SECRET);
        verify(body, header, &[&account, &connect], NOW)
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
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"whsec_test_secret",
        //   b"1790000000.{\"id\":\"evt_1\",\"type\":\"payment_intent.succeeded\"}",
        //   hashlib.sha256).hexdigest())'
        assert_eq!(
            sign(SECRET, NOW, BODY),
            "ba43b05134b07a8e95685dc19e48e1dd5e1fc191107904ca15cf2bfab21d402c"
        );
    }

    #[test]
    fn valid() {
        let header = format!("t={NOW},v1={}", sign(SECRET, NOW, BODY));
        assert!(check(Some(&header), BODY).is_ok());
        // Within the tolerance on either side, with an unknown scheme beside.
        let t = NOW - TOLERANCE_SECS;
        let header = format!("t={t},v0=abc,v1={}", sign(SECRET, t, BODY));
        assert!(check(Some(&header), BODY).is_ok());
    }

    #[test]
    fn wrong_secret() {
        let header = format!("t={NOW},v1={}", sign("whsec_other", NOW, BODY));
        refused(check(Some(&header), BODY), "no signature matches");
    }

    #[test]
    fn tampered_body() {
        let header = format!("t={NOW},v1={}", sign(SECRET, NOW, BODY));
        let tampered = br#"{"id":"evt_1","type":"payment_intent.payment_failed"}"#;
        refused(check(Some(&header), tampered), "no signature matches");
    }

    #[test]
    fn stale_timestamp() {
        let t = NOW - TOLERANCE_SECS - 1;
        let header = format!("t={t},v1={}", sign(SECRET, t, BODY));
        refused(check(Some(&header), BODY), "tolerance");
        let future = NOW + TOLERANCE_SECS + 1;
        let header = format!("t={future},v1={}", sign(SECRET, future, BODY));
        refused(check(Some(&header), BODY), "tolerance");
    }

    #[test]
    fn missing_header() {
        refused(check(None, BODY), "missing");
    }

    #[test]
    fn several_v1_one_valid() {
        let header = format!(
            "t={NOW},v1={},v1={},v1={}",
            sign("whsec_old", NOW, BODY),
            sign(SECRET, NOW, BODY),
            "00".repeat(32)
        );
        assert!(check(Some(&header), BODY).is_ok());
    }

    /// Regression: events of connected accounts come through the Connect
    /// endpoint, signed with its own secret, and were refused because only
    /// the account endpoint's secret was tried.
    #[test]
    fn a_delivery_signed_with_the_connect_endpoints_secret_passes_beside_the_accounts() {
        let connect = format!("t={NOW},v1={}", sign(CONNECT_SECRET, NOW, BODY));
        assert!(check_both(Some(&connect), BODY).is_ok());
        let account = format!("t={NOW},v1={}", sign(SECRET, NOW, BODY));
        assert!(check_both(Some(&account), BODY).is_ok());
        refused(check(Some(&connect), BODY), "no signature matches");
        let other = format!("t={NOW},v1={}", sign("whsec_other", NOW, BODY));
        refused(check_both(Some(&other), BODY), "no signature matches");
        refused(check_both(None, BODY), "missing");
        let t = NOW - TOLERANCE_SECS - 1;
        let stale = format!("t={t},v1={}", sign(CONNECT_SECRET, t, BODY));
        refused(check_both(Some(&stale), BODY), "tolerance");
        let tampered = br#"{"id":"evt_1","type":"payout.paid"}"#;
        refused(check_both(Some(&connect), tampered), "no signature matches");
    }

    #[test]
    fn no_secret_is_a_configuration_error() {
        let header = format!("t={NOW},v1={}", sign(SECRET, NOW, BODY));
        assert!(matches!(
            verify(BODY, Some(&header), &[], NOW),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn malformed_header() {
        for header in [
            "garbage",
            "t=abc,v1=00",
            "t=1790000000",
            &format!("t={NOW},v1=not-hex"),
            &format!("t={NOW},t={NOW},v1={}", sign(SECRET, NOW, BODY)),
            "",
        ] {
            assert!(
                matches!(check(Some(header), BODY), Err(Error::InvalidSignature(_))),
                "{header:?}"
            );
        }
    }
}
