//! Keep-alive HTTP/1.1 connections to plain-HTTP backends. A request takes an idle
//! connection (or opens one), and its response body gives the connection back once it has
//! been read to the end: beside the request runs only hyper's task for the connection, with no
//! task per response waiting to return it and no pool lookup behind a connector.

use crate::pipeline::{Body, BoxError};
use bytes::Bytes;
use http::uri::{Authority, PathAndQuery, Uri};
use http::{Request, Response};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;

/// How often idle connections are looked over; one unused for two whole periods (60 to 90 s)
/// is let go.
const SWEEP_EVERY: Duration = Duration::from_secs(30);
const MAX_IDLE_PER_BACKEND: usize = 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

struct Idle {
    sender: SendRequest<Body>,
    /// The sweep count when it was given back (no clock read per request).
    since: u64,
}

#[derive(Default)]
pub struct Http1Pool {
    /// Keyed with the standard (randomly seeded) hasher: an integration URI may take its host
    /// from the client's request.
    idle: Mutex<HashMap<Authority, Vec<Idle>>>,
    sweeps: AtomicU64,
    sweeping: AtomicBool,
}

impl Http1Pool {
    /// Sends a request with an absolute `http` URI and returns the response as it arrives.
    pub async fn send(self: &Arc<Self>, mut req: Request<Body>) -> Result<Response<Body>, BoxError> {
        let authority = req.uri().authority().cloned().ok_or("the backend URI has no host")?;
        let origin = req.uri().path_and_query().cloned().unwrap_or_else(|| PathAndQuery::from_static("/"));
        *req.uri_mut() = Uri::from(origin);
        // A kept connection the backend closed meanwhile fails before anything is sent; the
        // request then goes out on the next one, or a new one.
        while let Some(mut sender) = self.take(&authority) {
            if sender.ready().await.is_err() {
                continue;
            }
            match sender.try_send_request(req).await {
                Ok(response) => return Ok(self.wrap(response, authority, sender)),
                Err(mut e) => match e.take_message() {
                    Some(unsent) => req = unsent,
                    None => return Err(e.into_error().into()),
                },
            }
        }
        self.start_sweeping();
        let mut sender = connect(&authority).await?;
        let response = sender.send_request(req).await?;
        Ok(self.wrap(response, authority, sender))
    }

    fn take(&self, authority: &Authority) -> Option<SendRequest<Body>> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        // The most recently used first: the likeliest to be warm and open.
        idle.get_mut(authority)?.pop().map(|i| i.sender)
    }

    fn give_back(&self, authority: Authority, sender: SendRequest<Body>) {
        if sender.is_closed() {
            return;
        }
        let since = self.sweeps.load(Relaxed);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.entry(authority).or_default();
        if list.len() < MAX_IDLE_PER_BACKEND {
            list.push(Idle { sender, since });
        }
    }

    /// Lets go of connections unused for two sweeps or closed by their backend.
    fn sweep(&self) {
        let now = self.sweeps.fetch_add(1, Relaxed) + 1;
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.retain(|_, list| {
            list.retain(|i| now - i.since < 2 && !i.sender.is_closed());
            !list.is_empty()
        });
    }

    /// Starts the sweep with the first connection, on the runtime that made it.
    fn start_sweeping(self: &Arc<Self>) {
        if self.sweeping.swap(true, Relaxed) {
            return;
        }
        let pool = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            every.tick().await;
            loop {
                every.tick().await;
                let Some(pool) = pool.upgrade() else { break };
                pool.sweep();
            }
        });
    }

    fn wrap(
        self: &Arc<Self>,
        response: Response<Incoming>,
        authority: Authority,
        sender: SendRequest<Body>,
    ) -> Response<Body> {
        let pool = self.clone();
        response.map(|body| PooledBody { body, ended: false, owner: Some((pool, authority, sender)) }.boxed_unsync())
    }
}

async fn connect(authority: &Authority) -> Result<SendRequest<Body>, BoxError> {
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(80);
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host, port)))
        .await
        .map_err(|_| format!("connecting to {authority} timed out"))??;
    stream.set_nodelay(true)?;
    // Head and small bodies go out in one `write`, as on the client side of the gateway.
    let (sender, connection) =
        hyper::client::conn::http1::Builder::new().writev(false).handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// A backend response body that returns its connection to the pool when it is dropped having
/// been read to the end (a body given up half-way closes the connection instead).
struct PooledBody {
    body: Incoming,
    /// Whether the end was read (a chunked body tells only then).
    ended: bool,
    owner: Option<(Arc<Http1Pool>, Authority, SendRequest<Body>)>,
}

impl http_body::Body for PooledBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let frame = std::task::ready!(Pin::new(&mut self.body).poll_frame(cx));
        self.ended |= frame.is_none();
        Poll::Ready(frame.map(|f| f.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for PooledBody {
    fn drop(&mut self) {
        if let Some((pool, authority, sender)) = self.owner.take() {
            if self.ended || http_body::Body::is_end_stream(&self.body) {
                pool.give_back(authority, sender);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::full;

    /// A backend answering `ok` to everything, on its own connections.
    async fn backend() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(|_req| async {
                        Ok::<_, std::convert::Infallible>(Response::new(full("ok")))
                    });
                    let _ =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
        format!("http://{addr}/x")
    }

    fn idle_count(pool: &Http1Pool) -> usize {
        pool.idle.lock().unwrap().values().map(Vec::len).sum()
    }

    #[tokio::test]
    async fn idle_connections_go_after_two_sweeps_unused() {
        let pool = Arc::new(Http1Pool::default());
        let uri = backend().await;
        let response = pool.send(Request::get(&uri).body(full("")).unwrap()).await.unwrap();
        assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "ok");
        assert_eq!(idle_count(&pool), 1, "read to the end, the connection is kept");
        pool.sweep();
        assert_eq!(idle_count(&pool), 1, "one sweep is not yet two periods unused");
        pool.sweep();
        assert_eq!(idle_count(&pool), 0);
    }

    #[tokio::test]
    async fn a_body_given_up_half_way_takes_its_connection_along() {
        let pool = Arc::new(Http1Pool::default());
        let uri = backend().await;
        let response = pool.send(Request::get(&uri).body(full("")).unwrap()).await.unwrap();
        drop(response);
        assert_eq!(idle_count(&pool), 0);
    }
}
