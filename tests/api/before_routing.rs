//! SPEC §4 and issue 9.12: errors raised before routing — a request target too long, too
//! many headers, a head or a body that stalls, a request that does not parse — are
//! `application/problem+json` with 414, 431, 408 and 400, over raw TCP.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{spawn_app_with, TestApp};

/// Sends `request` on a connection of its own, then reads the answer until the server
/// closes: `(status, content type, body)`.
fn exchange(app: &TestApp, request: &[u8]) -> (u16, String, Value) {
    let addr = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    // The server may answer before it has read everything: a failed write is not the test.
    let _ = stream.write_all(request);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let content_type = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    let body = serde_json::from_str(body).unwrap_or(Value::Null);
    (status, content_type, body)
}

#[track_caller]
fn assert_problem(answer: &(u16, String, Value), status: u16, code: &str) {
    let (s, content_type, body) = answer;
    assert_eq!(*s, status, "{body}");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    assert!(body["detail"].is_string() && body["type"].is_string());
}

#[actix_web::test]
async fn errors_before_routing_are_problems() {
    // Long enough that a busy machine reads every head in time; the stalls wait it out.
    let app = spawn_app_with(|s| s.client_request_timeout_ms = 2000).await;
    let long = format!(
        "GET /api/v1/regions?q={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(100_000)
    );
    assert_problem(&exchange(&app, long.as_bytes()), 414, "uri_too_long");

    let headers: String = (0..120).map(|i| format!("X-Header-{i}: v\r\n")).collect();
    let many = format!("GET /api/v1/me HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
    assert_problem(&exchange(&app, many.as_bytes()), 431, "headers_too_large");

    let huge = format!(
        "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(100_000)
    );
    assert_problem(&exchange(&app, huge.as_bytes()), 431, "headers_too_large");

    let stalled_head = b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n";
    assert_problem(&exchange(&app, stalled_head), 408, "request_timeout");

    let stalled_body = format!(
        "POST /api/v1/regions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\": ",
        app.admin
    );
    assert_problem(
        &exchange(&app, stalled_body.as_bytes()),
        408,
        "request_timeout",
    );

    let unparsable = b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n";
    assert_problem(&exchange(&app, unparsable), 400, "bad_request");

    // One connection still serves requests that keep to the limits, one after another.
    let body = "{\"name\": \"Tỉnh Nghệ An\", \"level\": \"province\"}";
    let create = format!(
        "POST /api/v1/regions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        app.admin,
        body.len()
    );
    let list = format!(
        "GET /api/v1/meetings?q={} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Connection: close\r\n\r\n",
        "c".repeat(200),
        app.admin
    );
    let addr = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.write_all(create.as_bytes()).expect("write");
    let mut first = Vec::new();
    let mut byte = [0u8; 1];
    while !first.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("a head");
        first.push(byte[0]);
    }
    let head = String::from_utf8(first).expect("utf-8");
    assert!(head.starts_with("HTTP/1.1 201"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("a length");
    let mut created = vec![0u8; length];
    stream.read_exact(&mut created).expect("the body");
    stream.write_all(list.as_bytes()).expect("write");
    let mut rest = String::new();
    stream.read_to_string(&mut rest).expect("read");
    assert!(rest.starts_with("HTTP/1.1 200 OK"), "{rest}");
}
