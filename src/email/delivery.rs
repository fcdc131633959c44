//! One delivery attempt of one outbox row: the MIME message it becomes, its hand-over, and
//! what its outcome means for the row (sent, try again later, or failed for good). Nothing
//! here can take the worker down: a row that cannot be built, that the server refuses
//! permanently, or whose handling panics fails alone (SPEC §3 rule 12).
use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::Message;
use uuid::Uuid;

use super::transport::{Mailer, SendError};
use crate::db::outbox::{Claimed, Outcome};
use crate::domain::email_address::EmailAddress;
use crate::domain::kinds::IcsMethod;

/// The name candidates see on the calendar attachment ("lịch tiếp xúc cử tri").
pub const ICS_FILENAME: &str = "lich-tiep-xuc-cu-tri.ics";

/// The stable Message-ID of an outbox row: a resend after a crash is the same message.
pub fn message_id(outbox_id: Uuid) -> String {
    format!("<{outbox_id}@voter-meetings>")
}

/// A header value must be one line: a line break would end the header (or start another,
/// `Bcc:` say). Rows written before the text rules can hold one.
fn one_line(what: &str, value: &str) -> Result<(), String> {
    match value.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!("the {what} contains the control character {c:?}")),
        None => Ok(()),
    }
}

/// The MIME message: multipart/alternative (text, HTML), inside multipart/mixed with the
/// `.ics` attachment when there is one, its Content-Type naming the iTIP method. lettre
/// encodes non-ASCII names and subjects (RFC 2047) and bodies (quoted-printable or base64).
pub fn message(from: &Mailbox, mail: &Claimed) -> Result<Message, String> {
    let address = EmailAddress::parse(&mail.recipient)
        .map_err(|e| format!("the recipient: {e}"))?
        .address()
        .clone();
    if let Some(name) = &mail.recipient_name {
        one_line("recipient name", name)?;
    }
    one_line("subject", &mail.subject)?;
    let builder = Message::builder()
        .from(from.clone())
        .to(Mailbox::new(mail.recipient_name.clone(), address))
        .subject(mail.subject.as_str())
        .message_id(Some(message_id(mail.id)));
    let bodies = MultiPart::alternative_plain_html(mail.body_text.clone(), mail.body_html.clone());
    let built = match &mail.ics {
        None => builder.multipart(bodies),
        Some(ics) => {
            let method = mail.ics_method.unwrap_or(IcsMethod::Publish).itip();
            let content_type =
                ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
                    .map_err(|e| format!("the calendar's content type: {e}"))?;
            builder.multipart(MultiPart::mixed().multipart(bodies).singlepart(
                Attachment::new(ICS_FILENAME.to_owned()).body(ics.clone(), content_type),
            ))
        }
    };
    built.map_err(|e| format!("building the message: {e}"))
}

/// What went wrong with one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The row cannot be sent, now or later: it cannot be built into a message, or handling
    /// it panicked. No point trying again.
    Unbuildable(String),
    /// The hand-over failed (permanently or not).
    Refused(SendError),
}

fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// Runs `work`, turning a panic into an error that says what was being done.
async fn guarded<T>(what: &str, work: impl Future<Output = T>) -> Result<T, String> {
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(|p| format!("{what} panicked: {}", panic_text(p.as_ref())))
}

/// Builds and hands over one message; a panic in either is this row's failure, never the
/// worker's.
pub async fn attempt(mailer: &Mailer, from: &Mailbox, mail: &Claimed) -> Result<(), Failure> {
    let message = guarded("building the message", async { message(from, mail) })
        .await
        .and_then(|built| built)
        .map_err(Failure::Unbuildable)?;
    guarded("sending", mailer.send(mail.id, message))
        .await
        .map_err(Failure::Unbuildable)?
        .map_err(Failure::Refused)
}

/// What an attempt's result makes of the row: failures that cannot heal, and the last
/// allowed attempt, fail it; others try again after `retry_after_seconds`.
pub fn outcome(
    result: Result<(), Failure>,
    mail: &Claimed,
    max_attempts: i32,
    retry_after_seconds: impl FnOnce(i32) -> f64,
) -> Outcome {
    let attempt = mail.attempts + 1;
    let since_retry = attempt - mail.attempts_before_retry;
    match result {
        Ok(()) => Outcome::Sent,
        Err(Failure::Unbuildable(error)) => Outcome::Failed { error },
        Err(Failure::Refused(e)) if e.permanent => Outcome::Failed {
            error: format!("refused permanently: {}", e.detail),
        },
        Err(Failure::Refused(e)) if since_retry >= max_attempts => Outcome::Failed {
            error: format!("gave up after {since_retry} attempts: {}", e.detail),
        },
        Err(Failure::Refused(e)) => Outcome::Retry {
            error: e.detail,
            after_seconds: retry_after_seconds(since_retry),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn claimed(ics: Option<(IcsMethod, &str)>) -> Claimed {
        Claimed {
            id: Uuid::from_u128(42),
            province_id: Uuid::from_u128(7),
            recipient: "nhung@example.vn".to_owned(),
            recipient_name: Some("Nguyễn Thị Hồng Nhung".to_owned()),
            subject: "Lịch tiếp xúc cử tri – Bầu cử 2021".to_owned(),
            body_text: "Kính gửi ông/bà Nguyễn Thị Hồng Nhung,".to_owned(),
            body_html: "<p>Kính gửi ông/bà Nguyễn Thị Hồng Nhung,</p>".to_owned(),
            ics: ics.map(|(_, text)| text.to_owned()),
            ics_method: ics.map(|(method, _)| method),
            attempts: 0,
            attempts_before_retry: 0,
            lease_until: Utc::now(),
        }
    }

    fn from() -> Mailbox {
        "Ủy ban MTTQ <no-reply@voter-meetings.local>"
            .parse()
            .expect("mailbox")
    }

    fn raw(mail: &Claimed) -> String {
        String::from_utf8(message(&from(), mail).unwrap().formatted()).unwrap()
    }

    #[test]
    fn the_message_id_is_the_outbox_id() {
        assert!(raw(&claimed(None))
            .contains("Message-ID: <00000000-0000-0000-0000-00000000002a@voter-meetings>"));
    }

    #[test]
    fn non_ascii_headers_are_encoded_words() {
        let raw = raw(&claimed(None));
        let headers = raw.split("\r\n\r\n").next().unwrap();
        assert!(headers.is_ascii(), "{headers}");
        assert!(headers.contains("=?utf-8?"), "{headers}");
        assert!(headers.contains("<nhung@example.vn>"));
    }

    #[test]
    fn the_calendar_is_attached_only_when_there_is_one_with_its_method() {
        let plain = raw(&claimed(None));
        assert!(plain.contains("multipart/alternative"));
        assert!(!plain.contains("multipart/mixed"));
        assert!(!plain.contains("text/calendar"));
        for (method, written) in [
            (IcsMethod::Publish, "PUBLISH"),
            (IcsMethod::Request, "REQUEST"),
            (IcsMethod::Cancel, "CANCEL"),
        ] {
            let with_ics = raw(&claimed(Some((
                method,
                "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
            ))));
            assert!(with_ics.contains("multipart/mixed"));
            assert!(
                with_ics.contains(&format!("text/calendar; charset=utf-8; method={written}")),
                "{with_ics}"
            );
            assert!(with_ics.contains("filename=\"lich-tiep-xuc-cu-tri.ics\""));
        }
    }

    #[test]
    fn a_recipient_that_is_not_an_address_or_a_name_with_a_line_break_cannot_be_built() {
        let mut bad = claimed(None);
        bad.recipient = "not an address".to_owned();
        assert!(message(&from(), &bad).is_err());
        let mut injected = claimed(None);
        injected.recipient_name = Some("Evil\r\nBcc: x@y.vn".to_owned());
        let error = message(&from(), &injected).expect_err("refused");
        assert!(error.contains("recipient name"), "{error}");
    }

    #[actix_web::test]
    async fn a_row_that_cannot_be_built_fails_for_good_at_once() {
        let mut injected = claimed(None);
        injected.recipient_name = Some("Evil\r\nBcc: x@y.vn".to_owned());
        let mailer = Mailer::Files(std::env::temp_dir().join("vm-delivery-unbuilt"));
        let result = attempt(&mailer, &from(), &injected).await;
        assert!(matches!(result, Err(Failure::Unbuildable(_))), "{result:?}");
        assert!(matches!(
            outcome(result, &injected, 8, |_| 1.0),
            Outcome::Failed { .. }
        ));
    }

    #[actix_web::test]
    async fn a_panic_is_an_error_of_the_work_that_panicked() {
        let panicked = guarded("sending", async {
            if Uuid::from_u128(1).is_nil() {
                return 0;
            }
            panic!("a Display implementation returned an error unexpectedly")
        })
        .await;
        assert_eq!(
            panicked,
            Err(
                "sending panicked: a Display implementation returned an error unexpectedly"
                    .to_owned()
            )
        );
        assert_eq!(guarded("sending", async { 7 }).await, Ok(7));
    }

    #[test]
    fn a_permanent_refusal_fails_and_a_transient_one_retries_until_the_limit() {
        let mail = claimed(None);
        let refused = |permanent| {
            Err(Failure::Refused(SendError {
                permanent,
                detail: "550 Mailbox unavailable".to_owned(),
            }))
        };
        assert_eq!(
            outcome(refused(true), &mail, 8, |_| 1.0),
            Outcome::Failed {
                error: "refused permanently: 550 Mailbox unavailable".to_owned()
            }
        );
        assert_eq!(
            outcome(refused(false), &mail, 8, f64::from),
            Outcome::Retry {
                error: "550 Mailbox unavailable".to_owned(),
                after_seconds: 1.0
            }
        );
        let last = Claimed {
            attempts: 7,
            ..claimed(None)
        };
        assert!(matches!(
            outcome(refused(false), &last, 8, |_| 1.0),
            Outcome::Failed { .. }
        ));
        // Retried by an admin after 8 attempts: eight more before it fails again.
        let retried = Claimed {
            attempts: 8,
            attempts_before_retry: 8,
            ..claimed(None)
        };
        assert!(matches!(
            outcome(refused(false), &retried, 8, |_| 1.0),
            Outcome::Retry { .. }
        ));
        assert_eq!(outcome(Ok(()), &mail, 8, |_| 1.0), Outcome::Sent);
    }
}
