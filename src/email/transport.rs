//! How a message leaves: over SMTP with lettre, as an `.eml` file when no SMTP server is
//! configured, or into an [`Inbox`] in memory when the code that starts the worker asks for
//! it (tests do). Injected into the worker, never global, so tests choose their own.
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::config::{redact_url, Settings};

/// Why a message was not handed over, and whether trying again can help: an SMTP server's
/// permanent refusal (5xx, e.g. an unknown mailbox) never turns into a success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub permanent: bool,
    pub detail: String,
}

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `<outbox id>.eml` files in this directory.
    Files(PathBuf),
    /// Kept in memory. No setting selects it, so a production configuration cannot send its
    /// mail nowhere by mistake: only code that builds the worker (the tests) chooses it.
    Memory(Inbox),
}

/// One message as it was handed over: its envelope and its bytes as lettre formats them for
/// every transport (an `.eml` file holds the same). Over SMTP the server receives these bytes
/// and one CRLF more, from lettre's end of data (`\r\n.\r\n`).
#[derive(Debug, Clone)]
pub struct HandedOver {
    pub envelope: Envelope,
    pub formatted: Vec<u8>,
}

/// The messages a [`Mailer::Memory`] was handed, oldest first; clones share them, so whoever
/// built the mailer reads what the worker sent. lettre's `AsyncStubTransport` keeps the
/// message as a lossily decoded `String` and is read asynchronously; this keeps the bytes.
#[derive(Debug, Clone, Default)]
pub struct Inbox(Arc<Mutex<Vec<HandedOver>>>);

impl Inbox {
    /// Every message handed over so far.
    pub fn messages(&self) -> Vec<HandedOver> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn keep(&self, message: &Message) {
        let handed = HandedOver {
            envelope: message.envelope().clone(),
            formatted: message.formatted(),
        };
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(handed);
    }
}

impl Mailer {
    /// SMTP when `smtp_url` is set, else `.eml` files under `mail_dir`.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let Some(url) = settings.smtp_url.as_ref().map(ExposeSecret::expose_secret) else {
            return Ok(Mailer::Files(settings.mail_dir.clone()));
        };
        let timeout = Duration::from_secs(settings.outbox.smtp_timeout_seconds);
        Ok(Mailer::Smtp(smtp(url, timeout).with_context(|| {
            format!("SMTP_URL {} is not usable", redact_url(url))
        })?))
    }

    /// Hands one message over; `id` names the file when writing files.
    pub async fn send(&self, id: Uuid, message: Message) -> Result<(), SendError> {
        match self {
            Mailer::Smtp(transport) => match transport.send(message).await {
                Ok(_) => Ok(()),
                Err(e) => Err(SendError {
                    permanent: e.is_permanent(),
                    detail: format!("{e:#}"),
                }),
            },
            // A full or read-only disk may recover: worth another try.
            Mailer::Files(dir) => {
                write_eml(dir, id, &message.formatted())
                    .await
                    .map_err(|e| SendError {
                        permanent: false,
                        detail: format!("{e:#}"),
                    })
            }
            // Formatted and enveloped as lettre's `AsyncTransport::send` does for SMTP; memory
            // never refuses.
            Mailer::Memory(inbox) => {
                inbox.keep(&message);
                Ok(())
            }
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[actix_web::test]
    async fn memory_keeps_each_message_formatted_with_its_envelope_for_every_clone() {
        let inbox = Inbox::default();
        let mailer = Mailer::Memory(inbox.clone());
        let message = Message::builder()
            .from(
                "Ủy ban MTTQ <no-reply@voter-meetings.local>"
                    .parse()
                    .expect("from"),
            )
            .to("Nguyễn Thị Hồng Nhung <nhung@example.vn>"
                .parse()
                .expect("to"))
            .subject("Lịch tiếp xúc cử tri")
            .body("Kính gửi bà Nhung".to_owned())
            .expect("a message");
        mailer
            .send(Uuid::now_v7(), message.clone())
            .await
            .expect("memory never refuses");
        let kept = inbox.messages();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].formatted, message.formatted());
        assert_eq!(&kept[0].envelope, message.envelope());
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
        settings.smtp_url = Some("smtp://user:hunter2@smtp.example.vn?tls=maybe".into());
        let error = format!(
            "{:#}",
            Mailer::from_settings(&settings).err().expect("refused")
        );
        assert!(error.contains("smtp://user:***@smtp.example.vn"), "{error}");
        assert!(!error.contains("hunter2"));
    }
}
