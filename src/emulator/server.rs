//! The emulators' HTTP/1.1 server, hardened against clients that connect and do nothing:
//! a header-read timeout (which also closes a keep-alive connection idle that long), a body-read
//! timeout, and a connection limit (beyond it a new connection is closed at once rather than
//! queued), so that idle or slow clients can never stop it answering others.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

/// Server-level limits of an emulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// How long a request's head may take to arrive, counted from when the connection is
    /// ready for it: a connection idle that long between requests is closed too.
    pub header_read_timeout: Duration,
    /// How long a request's body may take to arrive.
    pub body_read_timeout: Duration,
    /// Connections open at once (also kept below the process's file-descriptor limit).
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 4096,
        }
    }
}

/// Raises the soft limit of open files to the hard one and returns it: each connection costs a
/// descriptor, and the default soft limit (often 1024) is below what a busy emulator needs.
fn open_files_limit() -> usize {
    // SAFETY: `getrlimit`/`setrlimit` read and write a plain struct we own.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        let want = lim.rlim_max.min(1 << 20);
        if lim.rlim_cur < want {
            let raised = libc::rlimit {
                rlim_cur: want,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = want;
            }
        }
        usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX)
    }
}

impl ServerLimits {
    /// The connection limit, leaving descriptors for everything else in the process.
    fn connections(&self) -> usize {
        let files = open_files_limit();
        self.max_connections
            .min(files.saturating_sub(files / 4).max(16))
            .max(1)
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight end.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) {
    let max = limits.connections();
    let permits = Arc::new(Semaphore::new(max));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of descriptors and the like: wait for connections to close.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // At the limit, the newcomer is closed: queuing it would hold it without an answer.
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(
            stream,
            app.clone(),
            limits,
            stop_rx.clone(),
            permit,
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a permit until it ends.
    let _ = permits
        .acquire_many(u32::try_from(max).unwrap_or(u32::MAX))
        .await;
}

async fn serve_connection(
    stream: TcpStream,
    app: Router,
    limits: ServerLimits,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(64 * 1024);
    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stop.wait_for(|stop| *stop) => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}
