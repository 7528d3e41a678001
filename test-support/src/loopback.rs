//! The server under each in-process fake (Stripe's, Daily's, Google's): an
//! axum app served on `127.0.0.1:<random port>` from a tokio runtime of its
//! own (one worker thread), so that any test, async or not, can start one,
//! and stopped when dropped.

use axum::Router;
use tokio::runtime::Runtime;

/// A fake's running server; dropped, it stops without waiting for the
/// requests still held (they are dropped), and may be dropped inside
/// another runtime.
#[derive(Debug)]
pub(crate) struct Loopback {
    port: u16,
    runtime: Option<Runtime>,
}

impl Loopback {
    /// Serves `app` on a free loopback port from a runtime of its own whose
    /// worker thread is named `thread_name`; `name`, the fake's, is in every
    /// message.
    ///
    /// # Panics
    /// When the runtime or the listener cannot be set up.
    pub(crate) fn serve(name: &str, thread_name: &str, app: Router) -> Loopback {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(thread_name)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("building the {name}'s tokio runtime: {e}"));
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("binding 127.0.0.1:0 for the {name}: {e}"));
        std_listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("making the {name}'s listener non-blocking: {e}"));
        let port = std_listener
            .local_addr()
            .unwrap_or_else(|e| panic!("reading the {name}'s address: {e}"))
            .port();
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)
                .unwrap_or_else(|e| panic!("handing the {name}'s listener to tokio: {e}"))
        };
        let name = name.to_owned();
        runtime.spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("{name}: server stopped: {e}");
            }
        });
        Loopback {
            port,
            runtime: Some(runtime),
        }
    }

    /// The port it listens on, on `127.0.0.1`.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
