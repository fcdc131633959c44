//! Email addresses: one rule for the API and the SMTP transport, since the value is a
//! `lettre::Address` that also passed the stricter checks of a deliverable address.
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An address good enough to send to: `local@domain.tld`, ASCII, no spaces, at most 254 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(lettre::Address);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let invalid = || format!("{s:?} is not an email address");
        if s.is_empty()
            || s.len() > 254
            || !s.is_ascii()
            || s.chars()
                .any(|c| c.is_ascii_whitespace() || c.is_ascii_control())
        {
            return Err(invalid());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.len() >= 3
            && domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && !domain.ends_with(['.', '-'])
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && !local.contains(['<', '>', '(', ')', '[', ']', ',', ';', ':', '\\', '"']);
        if !(domain_ok && local_ok) {
            return Err(invalid());
        }
        s.parse::<lettre::Address>()
            .map(EmailAddress)
            .map_err(|_| invalid())
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    pub fn address(&self) -> &lettre::Address {
        &self.0
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EmailAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        EmailAddress::parse(&raw).map_err(serde::de::Error::custom)
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
            "a@c.vn\r\nBcc: x@y.vn",
            "lan@hà-nội.vn",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_address_is_what_the_transport_sends_to() {
        let e = EmailAddress::parse("lan@example.vn").expect("valid");
        assert_eq!(e.address().domain(), "example.vn");
    }
}
