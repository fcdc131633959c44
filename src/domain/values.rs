//! Values that validate themselves once, at the edge: past the handler only valid values travel.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An email address good enough to send to: `local@domain.tld`, no spaces, at most 254 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let invalid = || format!("{s:?} is not an email address");
        if s.is_empty() || s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.len() >= 3
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && !local.contains(['<', '>', '(', ')', '[', ']', ',', ';', ':', '\\', '"']);
        if domain_ok && local_ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An RFC 3339 timestamp with an explicit offset, held as UTC.
pub fn timestamp(raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{raw:?} is not an RFC 3339 timestamp with an offset (e.g. 2021-05-10T08:00:00+07:00)"))
}

/// An IANA time zone name such as `Asia/Ho_Chi_Minh`.
pub fn time_zone(raw: &str) -> Result<chrono_tz::Tz, String> {
    raw.trim()
        .parse::<chrono_tz::Tz>()
        .map_err(|_| format!("{raw:?} is not an IANA time zone (e.g. Asia/Ho_Chi_Minh)"))
}

/// Trimmed text of 1 to `max` characters.
pub fn text(raw: &str, max: usize) -> Result<String, String> {
    let t = raw.trim();
    let n = t.chars().count();
    if n == 0 {
        Err("must not be empty".to_owned())
    } else if n > max {
        Err(format!("must be at most {max} characters"))
    } else {
        Ok(t.to_owned())
    }
}

/// Optional text: `None` and blank stay `None`.
pub fn optional_text(raw: Option<&str>, max: usize) -> Result<Option<String>, String> {
    match raw.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => text(t, max).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_that_can_receive_mail_parse() {
        for ok in [
            "an@example.vn",
            "nguyen.van.a+bau-cu@mttq.hanoi.gov.vn",
            " x@y.co ",
        ] {
            assert_eq!(
                EmailAddress::parse(ok).map(|e| e.as_str().to_owned()),
                Ok(ok.trim().to_owned())
            );
        }
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in [
            "",
            "plain",
            "@example.vn",
            "a@",
            "a@b",
            "a b@c.vn",
            "a@c..vn",
            "a@.c.vn",
            "a.@c.vn",
            "<a>@c.vn",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn timestamps_need_an_offset_and_become_utc() {
        let t = timestamp("2021-05-10T08:00:00+07:00").map(|t| t.to_rfc3339());
        assert_eq!(t, Ok("2021-05-10T01:00:00+00:00".to_owned()));
        assert!(timestamp("2021-05-10T08:00:00").is_err());
        assert!(timestamp("10/05/2021").is_err());
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            time_zone("Asia/Ho_Chi_Minh"),
            Ok(chrono_tz::Asia::Ho_Chi_Minh)
        );
        assert!(time_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("  Hà Nội ", 10), Ok("Hà Nội".to_owned()));
        assert!(text("   ", 10).is_err());
        assert!(text("abcdef", 5).is_err());
        assert_eq!(optional_text(Some("  "), 5), Ok(None));
    }
}
