//! A bare lettre send loop: N messages of about SIZE bytes to a local SMTP sink, with
//! CONCURRENCY sends in flight (1 = a plain sequential loop), and the messages/s it reached.
//!
//! lettre-loop --port 18025 --count 1000 --size 9000 [--concurrency 1] [--no-pool]
//!
//! The message has the shape of the service's schedule email: multipart/alternative
//! (text + HTML) inside multipart/mixed with a text/calendar attachment, a Vietnamese
//! subject and a unique Message-ID.
use std::time::Instant;

use futures_util::StreamExt;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

fn message(i: usize, size: usize) -> Message {
    let from: Mailbox = "Ủy ban MTTQ <no-reply@voter-meetings.local>".parse().unwrap();
    let to: Mailbox = format!("Ứng cử viên {i} <candidate{i}@example.vn>").parse().unwrap();
    // The formatted message is about 1.45× the raw text (quoted-printable/base64 + headers);
    // split the payload between text, HTML and the calendar like a schedule email.
    let unit = "Hội nghị tiếp xúc cử tri tại Nhà văn hóa xã, 08:00–10:00. ";
    let raw = size * 100 / 145;
    let text: String = unit.chars().cycle().take(raw * 35 / 100 / 2).collect();
    let html = format!("<p>{}</p>", unit.chars().cycle().take(raw * 45 / 100 / 2).collect::<String>());
    let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n");
    while ics.len() < raw * 20 / 100 {
        ics.push_str("BEGIN:VEVENT\r\nUID:x@voter-meetings\r\nSUMMARY:Hoi nghi\r\nEND:VEVENT\r\n");
    }
    ics.push_str("END:VCALENDAR\r\n");
    Message::builder()
        .from(from)
        .to(to)
        .subject("Lịch tiếp xúc cử tri – Bầu cử 2026")
        .message_id(Some(format!("<loop-{i}-{}@bench>", std::process::id())))
        .multipart(
            MultiPart::mixed()
                .multipart(MultiPart::alternative_plain_html(text, html))
                .singlepart(Attachment::new("lich.ics".to_owned()).body(
                    ics,
                    ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH").unwrap(),
                )),
        )
        .unwrap()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let host = arg(&args, "--host", "127.0.0.1");
    let port: u16 = arg(&args, "--port", "18025").parse().unwrap();
    let count: usize = arg(&args, "--count", "1000").parse().unwrap();
    let size: usize = arg(&args, "--size", "9000").parse().unwrap();
    let concurrency: usize = arg(&args, "--concurrency", "1").parse().unwrap();
    let pool = !args.iter().any(|a| a == "--no-pool");
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port);
    builder = if pool {
        builder.pool_config(PoolConfig::new().max_size(concurrency.max(1) as u32))
    } else {
        builder.pool_config(PoolConfig::new().max_size(0))
    };
    let transport = builder.build();
    // Build messages first: the loop measures sending, as the service builds its message
    // from a claimed row before handing it to lettre.
    let messages: Vec<Message> = (0..count).map(|i| message(i, size)).collect();
    let bytes = messages[0].formatted().len();
    let started = Instant::now();
    let errors = futures_util::stream::iter(messages)
        .map(|m| {
            let t = &transport;
            async move { t.send(m).await.is_err() }
        })
        .buffer_unordered(concurrency.max(1))
        .filter(|failed| std::future::ready(*failed))
        .count()
        .await;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "lettre-loop sent={} errors={errors} message_bytes={bytes} concurrency={concurrency} pool={pool} seconds={secs:.3} rate={:.1}",
        count - errors,
        (count - errors) as f64 / secs
    );
}
