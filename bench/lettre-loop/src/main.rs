//! A bare lettre send loop: N messages of about SIZE bytes to a local SMTP sink, with
//! CONCURRENCY sends in flight (1 = a plain sequential loop), and the messages/s it reached.
//!
//! lettre-loop --port 18025 --count 1000 --size 9000 [--concurrency 1] [--no-pool] [--nodelay]
//!
//! --no-pool opens one SMTP connection per message (as the service does: its lettre has no
//! `pool` feature). --nodelay does the same over a TcpStream with TCP_NODELAY set, through
//! `AsyncSmtpConnection::connect_with_transport`: lettre writes the message body and the
//! final "\r\n.\r\n" in two writes, and without TCP_NODELAY the second waits for the
//! receiver's delayed ACK (≈ 40 ms on Linux) — see bench/README.md.
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

/// A message whose formatted size is about `size` bytes (calibrated by building it).
fn message(i: usize, size: usize) -> Message {
    let mut raw = size * 100 / 145;
    for _ in 0..4 {
        let got = build(i, raw).formatted().len();
        raw = (raw as f64 * size as f64 / got as f64) as usize;
    }
    build(i, raw)
}

fn build(i: usize, raw: usize) -> Message {
    let from: Mailbox = "Ủy ban MTTQ <no-reply@voter-meetings.local>".parse().unwrap();
    let to: Mailbox = format!("Ứng cử viên {i} <candidate{i}@example.vn>").parse().unwrap();
    // Split the payload between text, HTML and the calendar like a schedule email.
    let unit = "Hội nghị tiếp xúc cử tri tại Nhà văn hóa xã, 08:00–10:00. ";
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
    let nodelay = args.iter().any(|a| a == "--nodelay");
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
    let addr = format!("{}:{port}", arg(&args, "--host", "127.0.0.1"));
    let errors = futures_util::stream::iter(messages)
        .map(|m| {
            let t = &transport;
            let addr = addr.clone();
            async move {
                if nodelay {
                    send_nodelay(&addr, m).await.is_err()
                } else {
                    t.send(m).await.is_err()
                }
            }
        })
        .buffer_unordered(concurrency.max(1))
        .filter(|failed| std::future::ready(*failed))
        .count()
        .await;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "lettre-loop sent={} errors={errors} message_bytes={bytes} concurrency={concurrency} pool={pool} nodelay={nodelay} seconds={secs:.3} rate={:.1}",
        count - errors,
        (count - errors) as f64 / secs
    );
}

/// One message over a fresh connection with TCP_NODELAY: connect, EHLO, MAIL, RCPT, DATA, QUIT.
async fn send_nodelay(addr: &str, m: Message) -> Result<(), Box<dyn std::error::Error>> {
    use lettre::transport::smtp::client::AsyncSmtpConnection;
    use lettre::transport::smtp::extension::ClientId;
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut conn =
        AsyncSmtpConnection::connect_with_transport(Box::new(stream), &ClientId::default()).await?;
    conn.send(m.envelope(), &m.formatted()).await?;
    conn.quit().await?;
    Ok(())
}
