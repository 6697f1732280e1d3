//! A readiness signal an Action can give: it fetches the signal's URL, and
//! the test learns the Action is running (and holds its engine) at that
//! moment, instead of guessing with a sleep.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A local HTTP server that answers `204` and reports each request.
pub struct Signal {
    /// The URL the Action fetches.
    pub url: String,
    received: mpsc::UnboundedReceiver<()>,
}

impl Signal {
    /// Starts the server on a free port.
    pub async fn start() -> Signal {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (tx, received) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    // The request head (a GET has no body).
                    let mut head = Vec::new();
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let _ = socket
                        .write_all(
                            b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        )
                        .await;
                    let _ = tx.send(());
                });
            }
        });
        Signal {
            url: format!("http://127.0.0.1:{port}/started"),
            received,
        }
    }

    /// Waits for the next request.
    pub async fn wait(&mut self) {
        self.received
            .recv()
            .await
            .expect("the signal server stopped");
    }
}
