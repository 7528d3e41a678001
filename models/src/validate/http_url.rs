//! `HttpUrl`: an absolute `http`/`https` link (profile pictures, social
//! links, meeting rooms), checked by a small hand-written parser.

use crate::{Error, Result};

validated_string! {
    /// An absolute `http://` or `https://` URL with a host, at most 2048
    /// characters and no whitespace. The scheme and host are lower-cased;
    /// user info (`user@host`) is rejected.
    pub struct HttpUrl;
}

impl HttpUrl {
    /// Longest allowed URL.
    pub const MAX_LEN: usize = 2048;

    /// Validates a URL and lower-cases its scheme and host.
    pub fn parse(input: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::invalid("url", reason.to_owned());
        if input.len() > Self::MAX_LEN {
            return Err(invalid("must be at most 2048 characters"));
        }
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain whitespace"));
        }
        let (scheme, rest) = input
            .split_once("://")
            .ok_or_else(|| invalid("must start with http:// or https://"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(invalid("must start with http:// or https://"));
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.contains('@') {
            return Err(invalid("must not contain user info"));
        }
        let host = check_authority(authority).map_err(invalid)?;
        Ok(Self(format!("{scheme}://{host}{tail}")))
    }

    /// `"http"` or `"https"`.
    pub fn scheme(&self) -> &str {
        self.0.split_once("://").map_or("", |(scheme, _)| scheme)
    }

    /// The host without its port (IPv6 without brackets), e.g. `"example.com"`.
    pub fn host(&self) -> &str {
        let authority = self.authority();
        if let Some(v6) = authority.strip_prefix('[') {
            return v6.split(']').next().unwrap_or("");
        }
        authority.split(':').next().unwrap_or("")
    }

    /// Whether the link points at the public internet: not this machine
    /// (`localhost`, loopback), not a private, link-local (cloud metadata at
    /// 169.254.169.254) or unspecified address, and not an internal name
    /// (`*.internal`, `*.local`, `*.localhost`). User-supplied links must be
    /// public: a server that fetches or shows them must not be pointed inside.
    pub fn is_public(&self) -> bool {
        let host = self.host();
        if host == "localhost"
            || [".localhost", ".internal", ".local", ".localdomain"]
                .iter()
                .any(|suffix| host.ends_with(suffix))
        {
            return false;
        }
        match host.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(ip)) => {
                !(ip.is_loopback()
                    || ip.is_private()
                    || ip.is_link_local()
                    || ip.is_unspecified()
                    || ip.is_broadcast()
                    || ip.octets()[0] == 0
                    || (ip.octets()[0] == 100 && (64..128).contains(&ip.octets()[1])))
            }
            Ok(std::net::IpAddr::V6(ip)) => {
                let first = ip.segments()[0];
                !(ip.is_loopback()
                    || ip.is_unspecified()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
                    || ip.to_ipv4_mapped().is_some())
            }
            // A name, or a number-only host that is no address (e.g. `2130706433`).
            Err(_) => !host.bytes().all(|b| b.is_ascii_digit() || b == b'.'),
        }
    }

    /// The host (and port, if any), e.g. `"example.com:8080"`.
    pub fn authority(&self) -> &str {
        let rest = self.0.split_once("://").map_or("", |(_, rest)| rest);
        rest.split(['/', '?', '#']).next().unwrap_or("")
    }
}

/// Checks `host[:port]` and returns it with the host lower-cased.
fn check_authority(authority: &str) -> std::result::Result<String, &'static str> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or("has an unclosed IPv6 bracket")?;
        if addr.is_empty()
            || !addr
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err("has a malformed IPv6 host");
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("has junk after the IPv6 host")?),
        };
        (&authority[..addr.len() + 2], port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("must have a host");
    }
    if !host.starts_with('[') {
        let label_ok = |l: &str| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        };
        if !host.split('.').all(label_ok) {
            return Err("has a malformed host");
        }
    }
    if let Some(port) = port {
        let ok = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
        if !ok {
            return Err("has an invalid port");
        }
    }
    let host = host.to_lowercase();
    Ok(match port {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        let url = HttpUrl::parse("HTTPS://LinkedIn.com/in/Anna?x=1#top").expect("valid");
        assert_eq!(url.as_str(), "https://linkedin.com/in/Anna?x=1#top");
        assert_eq!(url.scheme(), "https");
        assert_eq!(url.authority(), "linkedin.com");
        for ok in [
            "http://localhost",
            "http://localhost:8080/",
            "https://example.com",
            "https://a.b.example.co.uk/path/to?q#f",
            "http://127.0.0.1:3000/x",
            "http://[::1]:8080/",
            "https://example.com?x",
        ] {
            assert!(HttpUrl::parse(ok).is_ok(), "{ok} rejected");
        }
    }

    #[test]
    fn only_links_to_the_public_internet_are_public() {
        for inside in [
            "http://localhost:8080/",
            "http://api.localhost/",
            "http://127.0.0.1/",
            "http://127.1.2.3/",
            "http://[::1]/",
            "http://10.0.0.5/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://metadata.google.internal/",
            "http://0.0.0.0/",
            "http://100.64.0.1/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://2130706433/",
            "http://printer.local/",
        ] {
            let url = HttpUrl::parse(inside).expect("a valid url");
            assert!(!url.is_public(), "{inside} counted as public");
        }
        for public in [
            "https://example.com/a",
            "https://linkedin.com/in/anna",
            "http://93.184.216.34/",
            "https://[2606:4700::1111]/",
        ] {
            assert!(
                HttpUrl::parse(public).expect("valid").is_public(),
                "{public}"
            );
        }
        assert_eq!(
            HttpUrl::parse("http://[::1]:8080/").expect("valid").host(),
            "::1"
        );
        assert_eq!(
            HttpUrl::parse("http://a.com:81/").expect("valid").host(),
            "a.com"
        );
    }

    #[test]
    fn rejects_bad_urls() {
        let long = format!("https://example.com/{}", "a".repeat(2048));
        for bad in [
            "",
            "example.com",
            "ftp://example.com",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "https://exa mple.com",
            "https://user@example.com",
            "https://example.com:0",
            "https://example.com:99999",
            "https://example.com:",
            "https://-bad.com",
            "https://example..com",
            "http://[::1",
            "https://example.com/ x",
            &long,
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn serde_validates() {
        assert!(serde_json::from_str::<HttpUrl>("\"https://x.io\"").is_ok());
        assert!(serde_json::from_str::<HttpUrl>("\"x.io\"").is_err());
    }
}
