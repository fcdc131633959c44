//! The connection before routing (SPEC §4): errors raised before a request reaches the
//! application are `application/problem+json` too. [`Guarded`] wraps each client connection:
//! it follows the head of every request as its bytes arrive, and answers a request target
//! longer than [`MAX_REQUEST_TARGET`] with 414 and a head of more than [`MAX_HEADERS`] headers
//! or [`MAX_HEAD_BYTES`] bytes with 431, closing the connection; and it gives the answers
//! actix writes with an empty body (408 when the headers do not arrive in time, 400 for a
//! request that does not parse, 431) a problem body on their way out. A body that stalls is
//! [`body_timeout`]'s.
use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::HttpMessage;
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::problem::{self, ApiError};
use crate::domain::problem::{Code, Problem};

/// The longest request line (method, target, version) read.
pub const MAX_REQUEST_TARGET: usize = 16 * 1024;
/// The most header lines a request may carry.
pub const MAX_HEADERS: usize = 100;
/// The largest request head (request line and headers) read.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Header lines longer than this are not read for framing (no framing header is that long).
const FRAMING_LINE: usize = 256;

/// Where the bytes arriving on the connection are.
#[derive(Debug)]
enum Reading {
    Head(Head),
    /// This many bytes of body still to come.
    Body(u64),
    /// A chunked body: until the answer to its request is written.
    Chunked,
}

#[derive(Debug, Default)]
struct Head {
    /// Lines ended so far (the request line is the first).
    lines: usize,
    bytes: usize,
    /// The current line so far, while it is short enough to be a framing header.
    line: Vec<u8>,
    line_len: usize,
    content_length: u64,
    chunked: bool,
}

/// Why a head is refused before actix reads it.
enum Refusal {
    TargetTooLong,
    TooManyHeaders,
    HeadTooLarge,
}

impl Head {
    /// Reads `byte`; `Some(true)` when the head is complete, an error when it is refused.
    fn push(&mut self, byte: u8) -> Result<bool, Refusal> {
        self.bytes += 1;
        if byte != b'\n' {
            self.line_len += 1;
            if self.line_len <= FRAMING_LINE {
                self.line.push(byte);
            }
            return if self.lines == 0 && self.line_len > MAX_REQUEST_TARGET {
                Err(Refusal::TargetTooLong)
            } else if self.bytes > MAX_HEAD_BYTES {
                Err(Refusal::HeadTooLarge)
            } else {
                Ok(false)
            };
        }
        let line = std::mem::take(&mut self.line);
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        let len = std::mem::take(&mut self.line_len);
        if line.is_empty() && len <= 1 {
            // Empty lines before the request line are allowed and ignored (RFC 9112 §2.2).
            return Ok(self.lines > 0);
        }
        self.lines += 1;
        if self.lines > MAX_HEADERS + 1 {
            return Err(Refusal::TooManyHeaders);
        }
        if self.lines > 1 && len <= FRAMING_LINE {
            self.framing(line);
        }
        Ok(false)
    }

    fn framing(&mut self, line: &[u8]) {
        let Ok(line) = std::str::from_utf8(line) else {
            return;
        };
        let Some((name, value)) = line.split_once(':') else {
            return;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            self.content_length = value.parse().unwrap_or(0);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            self.chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }

    fn then(&self) -> Reading {
        if self.chunked {
            Reading::Chunked
        } else if self.content_length > 0 {
            Reading::Body(self.content_length)
        } else {
            Reading::Head(Head::default())
        }
    }
}

/// A client connection with its request heads watched and its bare error answers dressed.
pub struct Guarded<T> {
    inner: T,
    reading: Reading,
    /// Bytes this wrapper answers with, and how many of them are written.
    out: Vec<u8>,
    sent: usize,
    /// The connection was answered here: actix reads an end of stream, its writes go nowhere.
    refused: bool,
    /// The sending side is closed after the refusal.
    shut: bool,
}

impl<T> Guarded<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            reading: Reading::Head(Head::default()),
            out: Vec::new(),
            sent: 0,
            refused: false,
            shut: false,
        }
    }
}

/// An HTTP/1.1 answer with a problem body, closing the connection.
fn answer(code: Code, detail: &str) -> Vec<u8> {
    let body = problem::body(&Problem::new(code, detail)).to_string();
    let status = code.status();
    let reason = actix_web::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        problem::PROBLEM_JSON,
        body.len()
    )
    .into_bytes()
}

fn refusal_answer(r: &Refusal) -> Vec<u8> {
    match r {
        Refusal::TargetTooLong => answer(
            Code::UriTooLong,
            &format!("the request target is longer than {MAX_REQUEST_TARGET} bytes"),
        ),
        Refusal::TooManyHeaders => answer(
            Code::HeadersTooLarge,
            &format!("a request may carry at most {MAX_HEADERS} headers"),
        ),
        Refusal::HeadTooLarge => answer(
            Code::HeadersTooLarge,
            &format!("the request headers are larger than {MAX_HEAD_BYTES} bytes"),
        ),
    }
}

/// An answer actix writes by itself, with no body, before any route ran: its problem
/// version, and how many bytes of `buf` it replaces.
fn dressed(buf: &[u8]) -> Option<(Vec<u8>, usize)> {
    let code = match buf.get(..13)? {
        b"HTTP/1.1 400 " => Code::BadRequest,
        b"HTTP/1.1 408 " => Code::RequestTimeout,
        b"HTTP/1.1 431 " => Code::HeadersTooLarge,
        _ => return None,
    };
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..end]).ok()?.to_ascii_lowercase();
    if !head.contains("\r\ncontent-length: 0\r\n") {
        return None;
    }
    let detail = match code {
        Code::RequestTimeout => "the request headers did not arrive in time",
        Code::HeadersTooLarge => "the request headers are too large",
        _ => "the request could not be parsed as HTTP/1.1",
    };
    Some((answer(code, detail), end))
}

impl<T: AsyncWrite + Unpin> Guarded<T> {
    /// Writes what this wrapper owes the client; ready once all of it is written.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.out.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.out[self.sent..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.sent += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.out.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }

    /// After a refusal: the answer is written and the sending side closed, then what the
    /// client still sends is read and dropped until it closes (closing with its bytes unread
    /// would reset the connection and could lose the answer); actix then reads the end.
    fn linger(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>
    where
        T: AsyncRead,
    {
        if !self.shut {
            match self.drain(cx) {
                Poll::Ready(Ok(())) => {}
                other => return other,
            }
            match Pin::new(&mut self.inner).poll_shutdown(cx) {
                Poll::Ready(_) => self.shut = true,
                Poll::Pending => return Poll::Pending,
            }
        }
        let mut scratch = [0u8; 8192];
        loop {
            let mut rb = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.inner).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) if rb.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Follows the request bytes in `data`; a refusal to send instead, if the head breaks a limit.
    fn follow(&mut self, data: &[u8]) -> Option<Refusal> {
        let mut rest = data;
        while !rest.is_empty() {
            match &mut self.reading {
                Reading::Head(head) => {
                    let mut done = None;
                    for (i, b) in rest.iter().enumerate() {
                        match head.push(*b) {
                            Ok(true) => {
                                done = Some(i + 1);
                                break;
                            }
                            Ok(false) => {}
                            Err(r) => return Some(r),
                        }
                    }
                    match done {
                        Some(n) => {
                            self.reading = head.then();
                            rest = &rest[n..];
                        }
                        None => rest = &[],
                    }
                }
                Reading::Body(left) => {
                    let n = usize::try_from(*left).unwrap_or(usize::MAX).min(rest.len());
                    *left -= n as u64;
                    if *left == 0 {
                        self.reading = Reading::Head(Head::default());
                    }
                    rest = &rest[n..];
                }
                Reading::Chunked => rest = &[],
            }
        }
        None
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.refused {
            return this.linger(cx);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let refusal = this.follow(&buf.filled()[before..]);
                if let Some(r) = refusal {
                    buf.set_filled(before);
                    this.out = refusal_answer(&r);
                    this.sent = 0;
                    this.refused = true;
                    return this.linger(cx);
                }
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.refused {
            return Poll::Ready(Ok(buf.len()));
        }
        match this.drain(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        if buf.starts_with(b"HTTP/1.1 ") && matches!(this.reading, Reading::Chunked) {
            this.reading = Reading::Head(Head::default());
        }
        if let Some((replacement, replaced)) = dressed(buf) {
            this.out = replacement;
            this.sent = 0;
            // Accepted: what is not written now is written before anything else.
            if let Poll::Ready(Err(e)) = this.drain(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(replaced));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_shutdown(cx),
            other => other,
        }
    }
}

/// How long a request body may stop arriving (`client_request_timeout_ms`), in `app_data`.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// Middleware: a request body that stops arriving for the [`BodyTimeout`] ends the request
/// with 408, whatever the route made of the missing bytes.
pub async fn body_timeout(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(idle) = req.app_data::<BodyTimeout>().map(|t| t.0) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let stalled = Rc::new(Cell::new(false));
    let payload = req.take_payload();
    req.set_payload(Payload::Stream {
        payload: Box::pin(stalling(payload, idle, stalled.clone())),
    });
    let res = next.call(req).await?;
    if !stalled.get() {
        return Ok(res.map_into_left_body());
    }
    let refused = ApiError::from(Problem::new(
        Code::RequestTimeout,
        format!(
            "the request body stopped arriving for {} ms",
            idle.as_millis()
        ),
    ));
    let (req, _) = res.into_parts();
    let response = actix_web::ResponseError::error_response(&refused);
    Ok(ServiceResponse::new(req, response).map_into_right_body())
}

/// The chunks of `payload`, ending in an error once none came for `idle`.
fn stalling(
    payload: Payload,
    idle: Duration,
    stalled: Rc<Cell<bool>>,
) -> impl Stream<Item = Result<Bytes, PayloadError>> {
    futures_util::stream::unfold(Some(payload), move |state| {
        let stalled = stalled.clone();
        async move {
            let mut payload = state?;
            match tokio::time::timeout(idle, payload.next()).await {
                Ok(Some(chunk)) => Some((chunk, Some(payload))),
                Ok(None) => None,
                Err(_) => {
                    stalled.set(true);
                    let e = io::Error::new(io::ErrorKind::TimedOut, "the body stopped arriving");
                    Some((Err(PayloadError::Io(e)), None))
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(bytes: &[u8]) -> Result<bool, ()> {
        let mut h = Head::default();
        let mut done = false;
        for b in bytes {
            done = h.push(*b).map_err(|_| ())?;
        }
        Ok(done)
    }

    #[test]
    fn heads_are_followed_to_their_end_and_refused_past_the_limits() {
        assert_eq!(head(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Ok(true));
        assert_eq!(head(b"\r\nGET / HTTP/1.1\r\nHost: x\r\n"), Ok(false));
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_REQUEST_TARGET));
        assert!(head(long.as_bytes()).is_err());
        let many: String = (0..=MAX_HEADERS).map(|i| format!("x-{i}: y\r\n")).collect();
        assert!(head(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes()).is_err());
    }

    #[test]
    fn bodies_are_skipped_by_their_length() {
        let mut g = Guarded::new(tokio::io::empty());
        let req = b"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
        assert!(g.follow(req).is_none());
        assert!(matches!(g.reading, Reading::Head(_)));
        let big_body = format!(
            "POST /x HTTP/1.1\r\nContent-Length: 40000\r\n\r\n{}",
            "a".repeat(40_000)
        );
        assert!(g.follow(big_body.as_bytes()).is_none());
    }

    #[test]
    fn bare_error_answers_get_a_problem_body() {
        let bare = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\ndate: x\r\n\r\n";
        let (dressed, n) = dressed(bare).expect("dressed");
        assert_eq!(n, bare.len());
        let text = String::from_utf8(dressed).expect("utf-8");
        assert!(text.contains("application/problem+json") && text.contains("\"request_timeout\""));
        assert!(
            super::dressed(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n").is_none()
        );
        assert!(super::dressed(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
    }
}
