//! What the pages need to know about how they are served: whether cookies
//! must be `Secure` (the service is reached over HTTPS), the public origin
//! (for links people share, such as the referral link, and the CSRF
//! `Origin` check behind a proxy that rewrites `Host`), Stripe's
//! publishable key when payments are on (Stripe.js is loaded only then),
//! the ICE servers the WebRTC call page uses, and the
//! `Strict-Transport-Security` value sent behind HTTPS.

use axum::http::HeaderValue;

use super::security_headers::{self, STRICT_TRANSPORT, strict_transport_value};

/// The origin links are made with when no public URL was configured: that
/// of `droply serve`'s default `--public-url`.
pub const DEFAULT_PUBLIC_ORIGIN: &str = "http://localhost:8080";

/// How the pages are served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSettings {
    /// The public URL is HTTPS: the site's cookies are `Secure` and named
    /// with the `__Host-`/`__Secure-` prefixes (`cookies`), and every answer
    /// carries `Strict-Transport-Security` ([`Self::strict_transport`]).
    pub secure_cookies: bool,
    /// The origin (`scheme://host[:port]`, lowercase, no default port, no
    /// trailing slash) of the configured public URL; `None` when none was
    /// configured (or it has no `scheme://host`). Pages' forms may come from
    /// it whatever `Host` a proxy sends (`csrf`).
    pub public_origin: Option<String>,
    /// Stripe's publishable key (`pk_...`): the pages load Stripe.js and take
    /// card payments only when it is set.
    pub stripe_publishable_key: Option<String>,
    /// The WebRTC call page's ICE servers, as the JSON array
    /// `RTCPeerConnection` takes (`[{"urls": "stun:..."}]`; `[]`: host
    /// candidates only). Checked by [`ice_servers_json`].
    pub ice_servers: String,
    /// The `Strict-Transport-Security` value every answer carries when
    /// `secure_cookies`: a year with `includeSubDomains` unless
    /// [`Self::with_hsts`] set another (checked) policy.
    pub strict_transport: HeaderValue,
}

impl Default for PageSettings {
    fn default() -> Self {
        PageSettings {
            secure_cookies: false,
            public_origin: None,
            stripe_publishable_key: None,
            ice_servers: "[]".to_owned(),
            strict_transport: HeaderValue::from_static(STRICT_TRANSPORT),
        }
    }
}

/// `text` as the call page's ICE servers: a JSON array of objects, each
/// with `urls` (a `stun:`, `turn:` or `turns:` URL or a list of them) and
/// optionally `username` and `credential`; written back compactly.
pub fn ice_servers_json(text: &str) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|err| format!("not JSON: {err}"))?;
    let servers = value.as_array().ok_or("a JSON array of servers")?;
    for server in servers {
        let server = server.as_object().ok_or("each server is an object")?;
        let urls: Vec<&serde_json::Value> = match server.get("urls") {
            Some(serde_json::Value::Array(list)) if !list.is_empty() => list.iter().collect(),
            Some(url) => vec![url],
            None => return Err("each server has urls".to_owned()),
        };
        for url in urls {
            let url = url.as_str().ok_or("urls are strings")?;
            if !["stun:", "turn:", "turns:"]
                .iter()
                .any(|s| url.starts_with(s))
            {
                return Err(format!("{url}: a stun:, turn: or turns: URL"));
            }
        }
        if server
            .keys()
            .any(|key| !matches!(key.as_str(), "urls" | "username" | "credential"))
        {
            return Err("a server has urls, username and credential only".to_owned());
        }
    }
    Ok(value.to_string())
}

impl PageSettings {
    /// Settings for a service whose public base URL is `public_url`.
    pub fn for_public_url(public_url: &str, stripe_publishable_key: Option<String>) -> Self {
        PageSettings {
            secure_cookies: public_url
                .get(..8)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://")),
            public_origin: origin_of(public_url),
            stripe_publishable_key,
            ..PageSettings::default()
        }
    }

    /// The default HSTS `max-age` in seconds (a year): `--hsts-max-age`'s default.
    pub const HSTS_MAX_AGE_DEFAULT: u64 = security_headers::HSTS_MAX_AGE_DEFAULT;

    /// The longest HSTS `max-age` accepted, in seconds (two years).
    pub const HSTS_MAX_AGE_MOST: u64 = security_headers::HSTS_MAX_AGE_MOST;

    /// These settings with the HSTS policy `max-age={max_age_secs}`, and
    /// `includeSubDomains` when `include_subdomains` (`droply serve`'s
    /// `--hsts-max-age` and `--hsts-include-subdomains`); sent only behind
    /// HTTPS. A `max-age` over [`Self::HSTS_MAX_AGE_MOST`] is a
    /// configuration error; 0 has browsers forget the policy.
    pub fn with_hsts(self, max_age_secs: u64, include_subdomains: bool) -> crate::Result<Self> {
        Ok(PageSettings {
            strict_transport: strict_transport_value(max_age_secs, include_subdomains)?,
            ..self
        })
    }

    /// The origin of the links people share (`{origin}/signup?ref=...`): the
    /// public origin, or [`DEFAULT_PUBLIC_ORIGIN`] without one.
    pub fn link_origin(&self) -> &str {
        self.public_origin
            .as_deref()
            .unwrap_or(DEFAULT_PUBLIC_ORIGIN)
    }
}

/// The origin of `url` as a browser writes it in `Origin`: the scheme and
/// host lowercased, the port kept unless it is the scheme's default; `None`
/// without a `scheme://host`.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Credentials, if any, are no part of the origin.
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let mut authority = authority.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => "",
    };
    if !default_port.is_empty() && authority.ends_with(default_port) {
        authority.truncate(authority.len() - default_port.len());
    }
    if authority.is_empty() || authority.starts_with(':') {
        return None;
    }
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_secure_behind_https_only() {
        assert!(PageSettings::for_public_url("https://droply.example", None).secure_cookies);
        assert!(PageSettings::for_public_url("HTTPS://droply.example", None).secure_cookies);
        assert!(!PageSettings::for_public_url("http://localhost:8080", None).secure_cookies);
        assert!(!PageSettings::for_public_url("", None).secure_cookies);
    }

    #[test]
    fn the_public_origin_is_the_urls_scheme_host_and_port() {
        let origin = |url: &str| PageSettings::for_public_url(url, None).public_origin;
        assert_eq!(
            origin("https://droply.example"),
            Some("https://droply.example".to_owned())
        );
        assert_eq!(
            origin("HTTPS://Droply.Example/"),
            Some("https://droply.example".to_owned())
        );
        assert_eq!(
            origin("https://droply.example:443/app/"),
            Some("https://droply.example".to_owned())
        );
        assert_eq!(
            origin("http://localhost:8080"),
            Some("http://localhost:8080".to_owned())
        );
        assert_eq!(
            origin("https://droply.example:8443?x=1"),
            Some("https://droply.example:8443".to_owned())
        );
        assert_eq!(origin(""), None);
        assert_eq!(origin("droply.example"), None);
        assert_eq!(origin("https:///path"), None);
        assert_eq!(PageSettings::default().public_origin, None);
        assert_eq!(PageSettings::default().link_origin(), DEFAULT_PUBLIC_ORIGIN);
        assert_eq!(
            PageSettings::for_public_url("https://droply.example/", None).link_origin(),
            "https://droply.example"
        );
    }

    #[test]
    fn ice_servers_are_checked_and_written_compactly() {
        assert_eq!(PageSettings::default().ice_servers, "[]");
        assert_eq!(
            ice_servers_json(r#"[ {"urls": "stun:stun.example.org:3478"} ]"#),
            Ok(r#"[{"urls":"stun:stun.example.org:3478"}]"#.to_owned())
        );
        assert!(
            ice_servers_json(
                r#"[{"urls": ["turn:t.example.org"], "username": "u", "credential": "c"}]"#
            )
            .is_ok()
        );
        for bad in [
            "",
            "{}",
            "[1]",
            r#"[{"url": "stun:x"}]"#,
            r#"[{"urls": "http://x"}]"#,
            r#"[{"urls": []}]"#,
            r#"[{"urls": "stun:x", "secret": 1}]"#,
        ] {
            assert!(ice_servers_json(bad).is_err(), "{bad}");
        }
    }
}
