//! Delivery of one email: over SMTP with lettre, or as an `.eml` file when no SMTP server is
//! configured. Injected into the worker, never global, so tests choose their own.
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use uuid::Uuid;

use crate::config::{redact_url, Settings};
use crate::db::outbox::Claimed;

/// The name candidates see on the calendar attachment ("lịch tiếp xúc cử tri").
pub const ICS_FILENAME: &str = "lich-tiep-xuc-cu-tri.ics";

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `<outbox id>.eml` files in this directory.
    Files(PathBuf),
}

impl Mailer {
    /// SMTP when `smtp_url` is set, else `.eml` files under `mail_dir`.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let Some(url) = settings.smtp_url.as_deref() else {
            return Ok(Mailer::Files(settings.mail_dir.clone()));
        };
        let timeout = Duration::from_secs(settings.outbox.smtp_timeout_seconds);
        Ok(Mailer::Smtp(smtp(url, timeout).with_context(|| {
            format!("SMTP_URL {} is not usable", redact_url(url))
        })?))
    }

    /// Hands one message over; `id` names the file when writing files.
    pub async fn send(&self, id: Uuid, message: Message) -> anyhow::Result<()> {
        match self {
            Mailer::Smtp(transport) => {
                transport.send(message).await?;
                Ok(())
            }
            Mailer::Files(dir) => write_eml(dir, id, &message.formatted()).await,
        }
    }
}

/// lettre reads the URL the way SMTP_URL is documented: `smtp://host:port` plain (a local
/// relay or sink), `smtp://host:port?tls=required` STARTTLS, `smtps://host:port` implicit
/// TLS, credentials as `smtp://user:password@host` (percent-encoded).
fn smtp(url: &str, timeout: Duration) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    Ok(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
        .timeout(Some(timeout))
        .build())
}

/// Writes the file under a temporary name and renames it, so a reader of the directory never
/// sees half a message, and a resend after a crash replaces the file instead of adding one.
async fn write_eml(dir: &Path, id: Uuid, bytes: &[u8]) -> anyhow::Result<()> {
    tokio::fs::create_dir_all(dir)
        .await
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(".{id}.eml.tmp"));
    let path = dir.join(format!("{id}.eml"));
    tokio::fs::write(&tmp, bytes)
        .await
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    tokio::fs::rename(&tmp, &path)
        .await
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))
}

/// The stable Message-ID of an outbox row: a resend after a crash is the same message.
pub fn message_id(outbox_id: Uuid) -> String {
    format!("<{outbox_id}@voter-meetings>")
}

/// The MIME message: multipart/alternative (text, HTML), inside multipart/mixed with the
/// `.ics` attachment when there is one. lettre encodes non-ASCII names and subjects (RFC 2047)
/// and bodies (quoted-printable or base64).
pub fn message(from: &Mailbox, mail: &Claimed) -> anyhow::Result<Message> {
    let address = mail
        .recipient
        .parse()
        .with_context(|| format!("recipient {:?} is not an address", mail.recipient))?;
    let builder = Message::builder()
        .from(from.clone())
        .to(Mailbox::new(mail.recipient_name.clone(), address))
        .subject(mail.subject.as_str())
        .message_id(Some(message_id(mail.id)));
    let bodies = MultiPart::alternative_plain_html(mail.body_text.clone(), mail.body_html.clone());
    let message = match &mail.ics {
        None => builder.multipart(bodies)?,
        Some(ics) => builder.multipart(MultiPart::mixed().multipart(bodies).singlepart(
            Attachment::new(ICS_FILENAME.to_owned()).body(
                ics.clone(),
                ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")?,
            ),
        ))?,
    };
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn claimed(ics: Option<&str>) -> Claimed {
        Claimed {
            id: Uuid::from_u128(42),
            recipient: "nhung@example.vn".to_owned(),
            recipient_name: Some("Nguyễn Thị Hồng Nhung".to_owned()),
            subject: "Lịch tiếp xúc cử tri – Bầu cử 2021".to_owned(),
            body_text: "Kính gửi ông/bà Nguyễn Thị Hồng Nhung,".to_owned(),
            body_html: "<p>Kính gửi ông/bà Nguyễn Thị Hồng Nhung,</p>".to_owned(),
            ics: ics.map(str::to_owned),
            attempts: 0,
            lease_until: Utc::now(),
        }
    }

    fn from() -> Mailbox {
        "Ủy ban MTTQ <no-reply@voter-meetings.local>"
            .parse()
            .expect("mailbox")
    }

    #[test]
    fn the_message_id_is_the_outbox_id() {
        let raw = String::from_utf8(message(&from(), &claimed(None)).unwrap().formatted()).unwrap();
        assert!(raw.contains("Message-ID: <00000000-0000-0000-0000-00000000002a@voter-meetings>"));
    }

    #[test]
    fn non_ascii_headers_are_encoded_words() {
        let raw = String::from_utf8(message(&from(), &claimed(None)).unwrap().formatted()).unwrap();
        let headers = raw.split("\r\n\r\n").next().unwrap();
        assert!(headers.is_ascii(), "{headers}");
        assert!(headers.contains("=?utf-8?"), "{headers}");
        assert!(headers.contains("<nhung@example.vn>"));
    }

    #[test]
    fn the_calendar_is_attached_only_when_there_is_one() {
        let plain =
            String::from_utf8(message(&from(), &claimed(None)).unwrap().formatted()).unwrap();
        assert!(plain.contains("multipart/alternative"));
        assert!(!plain.contains("multipart/mixed"));
        assert!(!plain.contains("text/calendar"));
        let with_ics = String::from_utf8(
            message(
                &from(),
                &claimed(Some("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")),
            )
            .unwrap()
            .formatted(),
        )
        .unwrap();
        assert!(with_ics.contains("multipart/mixed"));
        assert!(with_ics.contains("text/calendar; charset=utf-8; method=PUBLISH"));
        assert!(with_ics.contains("filename=\"lich-tiep-xuc-cu-tri.ics\""));
    }

    #[test]
    fn every_documented_smtp_url_shape_is_accepted_and_others_are_not() {
        let timeout = Duration::from_secs(5);
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://mailer:s%40cret@smtp.example.vn:587?tls=required",
            "smtps://mailer:secret@smtp.example.vn",
        ] {
            assert!(smtp(url, timeout).is_ok(), "{url}");
        }
        for url in [
            "http://smtp.example.vn",
            "smtp://smtp.example.vn?tls=sometimes",
            "smtp:",
        ] {
            assert!(smtp(url, timeout).is_err(), "{url}");
        }
    }

    #[test]
    fn without_an_smtp_url_mail_goes_to_files_and_a_bad_one_stops_start_up() {
        let mut settings = Settings::load_from("config", Some("test")).expect("settings");
        settings.smtp_url = None;
        settings.mail_dir = PathBuf::from("var/test-mail");
        assert!(matches!(
            Mailer::from_settings(&settings),
            Ok(Mailer::Files(dir)) if dir == Path::new("var/test-mail")
        ));
        settings.smtp_url = Some("smtp://user:hunter2@smtp.example.vn?tls=maybe".to_owned());
        let error = format!(
            "{:#}",
            Mailer::from_settings(&settings).err().expect("refused")
        );
        assert!(error.contains("smtp://user:***@smtp.example.vn"), "{error}");
        assert!(!error.contains("hunter2"));
    }

    #[test]
    fn a_recipient_that_is_not_an_address_is_refused() {
        let mut bad = claimed(None);
        bad.recipient = "not an address".to_owned();
        assert!(message(&from(), &bad).is_err());
    }
}
