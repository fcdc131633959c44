//! A headless Chromium per test: its own `chromedriver` on a free port, one or more browser
//! sessions (each with its own cookies and storage), and a relay between browser and app
//! that can cut the connection as a bad network would.
use std::net::TcpListener as StdListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::eventually;

/// Where chromedriver is (`CHROMEDRIVER` overrides it).
fn chromedriver_path() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned())
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A chromedriver process, ended when dropped.
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub async fn start() -> Self {
        let port = free_port();
        // Its own process group, so that the browsers it starts end with it, also when a
        // test fails before it closed them.
        let child = Command::new(chromedriver_path())
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver does not start ({e}); install the Debian packages chromium \
                     and chromium-driver"
                )
            });
        let url = format!("http://127.0.0.1:{port}");
        let status = format!("{url}/status");
        eventually("chromedriver answers", || async {
            match reqwest::get(&status).await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(r.status().to_string()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await;
        Driver { child, url }
    }

    /// A new browser session `width` px wide. Name resolution of every host but the local
    /// one fails, so a request leaving the service could not succeed silently.
    pub async fn browser(&self, width: u32) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--disable-extensions", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--window-size={width},900"),
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
                ]
            }),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a Chromium session");
        client
            .set_window_size(width, 900)
            .await
            .expect("window size");
        client
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Signs in at `base` with `token`, and waits for the overview.
pub async fn sign_in(c: &Client, base: &str, token: &str) {
    c.goto(&format!("{base}/sign-in"))
        .await
        .expect("sign-in page");
    type_into(c, Locator::Id("token"), token, "token field").await;
    click(
        c,
        Locator::Css("#sign-in button[type=submit]"),
        "sign-in button",
    )
    .await;
    appears(c, Locator::Id("sign-out"), "signed in").await;
}

/// The text of the element `css`.
pub async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .expect("text")
}

/// Runs `script` in the page and returns its value.
pub async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, Vec::new())
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

/// What the relay does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Network {
    /// Passes everything.
    Up = 0,
    /// Refuses every connection: the server is unreachable.
    Down = 1,
    /// Delivers requests, loses the answers: the server acts, the browser never hears.
    LosesAnswers = 2,
}

/// A TCP relay from a port of its own to the app: the browser talks to the relay.
pub struct Relay {
    pub address: String,
    mode: Arc<AtomicU8>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    pub async fn start(app_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("relay port");
        let address = format!("http://{}", listener.local_addr().expect("relay address"));
        let mode = Arc::new(AtomicU8::new(Network::Up as u8));
        let seen = mode.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mode = seen.clone();
                tokio::spawn(relay(client, app_port, mode));
            }
        });
        Relay {
            address,
            mode,
            task,
        }
    }

    pub fn set(&self, network: Network) {
        self.mode.store(network as u8, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn mode_of(m: &AtomicU8) -> Network {
    match m.load(Ordering::SeqCst) {
        1 => Network::Down,
        2 => Network::LosesAnswers,
        _ => Network::Up,
    }
}

/// One connection, one request at a time: each chunk the browser sends goes to the app, and
/// the app's answer comes back unless the network is down or loses answers (then the
/// connection is cut, as a dropped mobile link does).
async fn relay(mut client: TcpStream, app_port: u16, mode: Arc<AtomicU8>) {
    if mode_of(&mode) == Network::Down {
        return;
    }
    let Ok(mut server) = TcpStream::connect(("127.0.0.1", app_port)).await else {
        return;
    };
    let mut up = vec![0u8; 64 * 1024];
    let mut down = vec![0u8; 64 * 1024];
    loop {
        tokio::select! {
            n = client.read(&mut up) => {
                let Ok(n) = n else { return };
                if n == 0 || mode_of(&mode) == Network::Down {
                    return;
                }
                if server.write_all(&up[..n]).await.is_err() {
                    return;
                }
            }
            n = server.read(&mut down) => {
                let Ok(n) = n else { return };
                if n == 0 || mode_of(&mode) != Network::Up {
                    return;
                }
                if client.write_all(&down[..n]).await.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(100)) => {
                if mode_of(&mode) == Network::Down {
                    return;
                }
            }
        }
    }
}

/// Clicks the element at `at`; `what` names it when it is missing or refuses the click.
pub async fn click(c: &Client, at: Locator<'_>, what: &str) {
    c.find(at)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {what}: {e}"));
}

/// Types `keys` into the element at `at`; `what` names it when it is missing.
pub async fn type_into(c: &Client, at: Locator<'_>, keys: &str, what: &str) {
    c.find(at)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .send_keys(keys)
        .await
        .unwrap_or_else(|e| panic!("type into {what}: {e}"));
}

/// Waits until the element at `at` is in the page; `what` says what it shows.
pub async fn appears(c: &Client, at: Locator<'_>, what: &str) -> Element {
    c.wait()
        .for_element(at)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}
