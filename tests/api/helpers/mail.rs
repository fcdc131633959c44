//! Mail in tests, two backends read the same way ([`Mail`]):
//! - [`MemoryMail`]: the worker hands each message to memory as lettre formats it for SMTP
//!   (an SMTP server gets the same bytes and one CRLF more). For tests of what mail says and
//!   to whom; no sockets, nothing to wait for but the worker.
//! - [`SmtpSink`]: an in-process SMTP server (`mailin-embedded`) that keeps every message it
//!   accepts (and may refuse some recipients for good, or take messages and never answer),
//!   with an SMTP outage that holds its port for the server that comes back, and a latch that
//!   holds one sink's deliveries until another sink has received mail. For tests of what SMTP
//!   does to delivery.
use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use mailin_embedded::{response, Handler, Response, Server, SslConfig};

use super::app::Inbox;
use super::eventually::eventually;
use super::TestApp;

/// What a test reads of the mail an app sent, whichever backend took it.
pub trait Mail {
    /// Every message received so far, raw, in the order received.
    fn messages(&self) -> Vec<Vec<u8>>;

    /// Waits until at least `n` messages have arrived, then returns them all.
    async fn wait_for(&self, n: usize) -> Vec<Vec<u8>> {
        eventually(&format!("{n} message(s) received"), || async {
            let messages = self.messages();
            if messages.len() >= n {
                Ok(messages)
            } else {
                Err(format!("{} received", messages.len()))
            }
        })
        .await
    }
}

/// The messages the outbox worker of an app spawned with
/// [`spawn_app_mailing`](super::spawn_app_mailing) handed over, kept in memory.
#[derive(Clone, Default)]
pub struct MemoryMail {
    inbox: Inbox,
}

impl MemoryMail {
    pub fn new() -> Self {
        Self::default()
    }

    /// Where the worker puts what it sends.
    pub fn inbox(&self) -> Inbox {
        self.inbox.clone()
    }

    /// Every message that will ever arrive from `app` (and the instances started beside it):
    /// waits until its outbox has no pending email, stops the app so that no delivery can
    /// start, and only then returns the messages. A send is kept before its outcome is
    /// recorded, so nothing is still on its way.
    pub async fn settled(&self, app: &TestApp) -> Vec<Vec<u8>> {
        app.outbox_drained().await;
        app.stop();
        self.messages()
    }
}

impl Mail for MemoryMail {
    fn messages(&self) -> Vec<Vec<u8>> {
        self.inbox
            .messages()
            .into_iter()
            .map(|handed| handed.formatted)
            .collect()
    }
}

/// Opened by one sink's first message; another sink can hold its deliveries until then.
#[derive(Clone, Default)]
pub struct Latch(Arc<(Mutex<bool>, Condvar)>);

impl Latch {
    fn open(&self) {
        let (open, changed) = &*self.0;
        *open.lock().expect("latch") = true;
        changed.notify_all();
    }

    /// Waits until open, or `limit` passed; then it stays open, so that a latch nobody
    /// opens delays one batch of deliveries, not every one.
    fn wait(&self, limit: Duration) {
        let (open, changed) = &*self.0;
        let guard = open.lock().expect("latch");
        let (mut guard, _) = changed
            .wait_timeout_while(guard, limit, |open| !*open)
            .expect("latch");
        *guard = true;
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Vec<u8>>>,
    /// SMTP connections being served now.
    open: AtomicUsize,
}

struct Collector {
    shared: Arc<Shared>,
    /// The message being received on this connection (each connection has its own clone).
    current: Vec<u8>,
    opens: Option<Latch>,
    waits_for: Option<Latch>,
    /// Recipients answered `550` (mailbox unavailable: a permanent refusal).
    refuses: Arc<Vec<String>>,
    /// Keeps each message and never answers: a server that hangs, as a worker killed
    /// mid-send leaves it.
    hangs: bool,
    /// Only the clones that serve a connection count in `open`, not the server's own.
    serving: bool,
}

/// mailin clones the handler for each connection and drops the clone when the connection
/// ends: the clones' lifetimes are the connections.
impl Clone for Collector {
    fn clone(&self) -> Self {
        self.shared.open.fetch_add(1, Ordering::SeqCst);
        Self {
            shared: self.shared.clone(),
            current: Vec::new(),
            opens: self.opens.clone(),
            waits_for: self.waits_for.clone(),
            refuses: self.refuses.clone(),
            hangs: self.hangs,
            serving: true,
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        if self.serving {
            self.shared.open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Handler for Collector {
    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if self.refuses.iter().any(|r| to.contains(r.as_str())) {
            response::NO_MAILBOX
        } else {
            response::OK
        }
    }

    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> Response {
        self.current.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(latch) = &self.waits_for {
            // Not opened in time: accept anyway; the test sees the other sink got nothing.
            latch.wait(Duration::from_secs(10));
        }
        let message = std::mem::take(&mut self.current);
        self.shared
            .received
            .lock()
            .expect("sink lock")
            .push(message);
        if let Some(latch) = &self.opens {
            latch.open();
        }
        if self.hangs {
            loop {
                std::thread::park();
            }
        }
        response::OK
    }
}

pub struct SmtpSink {
    pub port: u16,
    shared: Arc<Shared>,
}

impl SmtpSink {
    /// A sink on a port the OS picks.
    pub fn start() -> Self {
        Self::builder().start()
    }

    pub fn builder() -> SinkBuilder {
        SinkBuilder::default()
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    async fn idle(&self) {
        eventually("the sink's SMTP connections end", || async {
            match self.shared.open.load(Ordering::SeqCst) {
                0 => Ok(()),
                open => Err(format!("{open} open")),
            }
        })
        .await;
    }

    /// Every message that will ever arrive from `app` (and the instances started beside it):
    /// waits until its outbox has no pending email and every SMTP session has ended, stops
    /// the app so that no delivery can start, lets any session still open end, and only then
    /// returns the messages. A duplicate sent late is in what this returns.
    pub async fn settled(&self, app: &TestApp) -> Vec<Vec<u8>> {
        app.outbox_drained().await;
        self.idle().await;
        app.stop();
        self.idle().await;
        self.messages()
    }
}

impl Mail for SmtpSink {
    fn messages(&self) -> Vec<Vec<u8>> {
        self.shared.received.lock().expect("sink lock").clone()
    }
}

#[derive(Default)]
pub struct SinkBuilder {
    listener: Option<TcpListener>,
    opens: Option<Latch>,
    waits_for: Option<Latch>,
    refuses: Vec<String>,
    hangs: bool,
}

impl SinkBuilder {
    /// Serve on this listener (e.g. the port an [`Outage`] held).
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// The first message received opens `latch`.
    pub fn opens(mut self, latch: &Latch) -> Self {
        self.opens = Some(latch.clone());
        self
    }

    /// Each message is accepted only once `latch` is open (or 10 s passed).
    pub fn waits_for(mut self, latch: &Latch) -> Self {
        self.waits_for = Some(latch.clone());
        self
    }

    /// Refuses mail to `address` permanently (`550` at RCPT).
    pub fn refuses(mut self, address: &str) -> Self {
        self.refuses.push(address.to_owned());
        self
    }

    /// Takes each message and never answers.
    pub fn never_answers(mut self) -> Self {
        self.hangs = true;
        self
    }

    /// Serves on its own threads until the test process ends.
    pub fn start(self) -> SmtpSink {
        let listener = self
            .listener
            .unwrap_or_else(|| TcpListener::bind("127.0.0.1:0").expect("bind the SMTP sink"));
        let port = listener.local_addr().expect("sink address").port();
        let shared = Arc::new(Shared::default());
        let mut server = Server::new(Collector {
            shared: shared.clone(),
            current: Vec::new(),
            opens: self.opens,
            waits_for: self.waits_for,
            refuses: Arc::new(self.refuses),
            hangs: self.hangs,
            serving: false,
        });
        server
            .with_name("sink.test")
            .with_ssl(SslConfig::None)
            .expect("no TLS")
            .with_num_threads(16)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            if let Err(e) = server.serve() {
                eprintln!("SMTP sink stopped: {e}");
            }
        });
        SmtpSink { port, shared }
    }
}

/// An SMTP server that is down: it holds its port (bound, so no one else takes it) and
/// answers every connection `421` (service not available, try later) and hangs up, until
/// [`Outage::end`] hands the port to a working sink.
pub struct Outage {
    address: SocketAddr,
    ending: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<TcpListener>,
}

impl Outage {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the outage port");
        let address = listener.local_addr().expect("outage address");
        let ending = Arc::new(AtomicBool::new(false));
        let stop = ending.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(mut stream) = stream {
                    let _ = stream.write_all(b"421 4.3.2 service not available\r\n");
                }
            }
            listener
        });
        Self {
            address,
            ending,
            thread,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.address)
    }

    /// The server comes back on the same port.
    pub fn end(self) -> SmtpSink {
        self.ending.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag; the connection is then simply dropped.
        let _ = TcpStream::connect(self.address);
        let listener = self.thread.join().expect("outage thread");
        SmtpSink::builder().listener(listener).start()
    }
}
