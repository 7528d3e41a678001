//! What the pages need to know about how they are served: whether cookies
//! must be `Secure` (the service is reached over HTTPS), Stripe's
//! publishable key when payments are on (Stripe.js is loaded only then),
//! and the ICE servers the WebRTC call page uses.

/// How the pages are served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSettings {
    /// The public URL is HTTPS: the site's cookies are `Secure` and named
    /// with the `__Host-`/`__Secure-` prefixes (`cookies`), and every answer
    /// carries `Strict-Transport-Security`.
    pub secure_cookies: bool,
    /// Stripe's publishable key (`pk_...`): the pages load Stripe.js and take
    /// card payments only when it is set.
    pub stripe_publishable_key: Option<String>,
    /// The WebRTC call page's ICE servers, as the JSON array
    /// `RTCPeerConnection` takes (`[{"urls": "stun:..."}]`; `[]`: host
    /// candidates only). Checked by [`ice_servers_json`].
    pub ice_servers: String,
}

impl Default for PageSettings {
    fn default() -> Self {
        PageSettings {
            secure_cookies: false,
            stripe_publishable_key: None,
            ice_servers: "[]".to_owned(),
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
            stripe_publishable_key,
            ..PageSettings::default()
        }
    }
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
