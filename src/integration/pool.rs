//! Keep-alive HTTP/1.1 connections to plain-HTTP backends. A request takes an idle
//! connection (or opens one) and runs its exchange on it from its own task ([`super::http1`]);
//! the connection comes back as soon as the response body has been read to its end, at once
//! when the body arrived with the head. Idle connections are kept by the thread that gave them
//! back, so that taking and giving back touch no lock and nothing another thread writes.

use super::http1::{Connection, Framed, Framing, Head, HeaderOutput, Rename, Step};
use crate::pipeline::{empty, full, lists_token, Body, BoxError};
use bytes::Bytes;
use http::uri::Authority;
use http::{Method, Request, Response};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use std::cell::RefCell;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

/// How often idle connections are looked over; one unused for two whole periods (60 to 90 s)
/// is let go.
const SWEEP_EVERY: Duration = Duration::from_secs(30);
const MAX_IDLE_PER_BACKEND: usize = 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

struct Idle {
    conn: Connection,
    /// The sweep count when it was given back (no clock read per request).
    since: u64,
}

pub struct Http1Pool {
    /// Tells this pool's idle lists apart from other pools' in a thread's [`IDLE`].
    id: u64,
    /// Sweeps so far. The thread-kept lists hold it weakly: it says when they are due a sweep,
    /// and that the pool is gone once it cannot be upgraded.
    sweeps: Arc<AtomicU64>,
    sweeping: AtomicBool,
}

impl Default for Http1Pool {
    fn default() -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Self { id: NEXT_ID.fetch_add(1, Relaxed), sweeps: Arc::default(), sweeping: AtomicBool::new(false) }
    }
}

impl Drop for Http1Pool {
    /// Lets go of the connections this thread keeps for the pool; other threads let go of
    /// theirs the next time they look at their lists.
    fn drop(&mut self) {
        let id = self.id;
        let _ = IDLE.try_with(|idle| {
            if let Ok(mut idle) = idle.try_borrow_mut() {
                idle.retain(|lists| lists.pool != id);
            }
        });
    }
}

/// One pool's idle connections kept by one thread, by backend.
struct ThreadLists {
    pool: u64,
    sweeps: Weak<AtomicU64>,
    /// The sweep these lists were last looked over at.
    swept: u64,
    by_backend: ByBackend,
}

/// How many backends are looked up in a list before the rest go to a hash map.
const LISTED_BACKENDS: usize = 8;

/// Idle connections by backend. A gateway mostly talks to a handful of backends: those are
/// found by comparing keys in a short list, cheaper than hashing one. Any more are hashed
/// with the standard (randomly seeded) hasher: an integration URI may take its host from
/// the client's request.
#[derive(Default)]
struct ByBackend {
    listed: Vec<(Backend, Vec<Idle>)>,
    hashed: HashMap<Backend, Vec<Idle>>,
}

impl ByBackend {
    fn get_mut(&mut self, backend: &Backend) -> Option<&mut Vec<Idle>> {
        match self.listed.iter_mut().find(|(key, _)| key == backend) {
            Some((_, list)) => Some(list),
            None if self.hashed.is_empty() => None,
            None => self.hashed.get_mut(backend),
        }
    }

    fn entry(&mut self, backend: Backend) -> &mut Vec<Idle> {
        if let Some(at) = self.listed.iter().position(|(key, _)| *key == backend) {
            return &mut self.listed[at].1;
        }
        if self.listed.len() < LISTED_BACKENDS && (self.hashed.is_empty() || !self.hashed.contains_key(&backend)) {
            self.listed.push((backend, Vec::new()));
            let at = self.listed.len() - 1;
            return &mut self.listed[at].1;
        }
        self.hashed.entry(backend).or_default()
    }

    /// Keeps the lists `keep` says to keep, after it has looked each over.
    fn retain(&mut self, mut keep: impl FnMut(&mut Vec<Idle>) -> bool) {
        self.listed.retain_mut(|(_, list)| keep(list));
        self.hashed.retain(|_, list| keep(list));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.listed.iter().map(|(_, list)| list.len()).sum::<usize>()
            + self.hashed.values().map(Vec::len).sum::<usize>()
    }
}

/// A backend's authority as a pool key. `Authority` hashes itself a byte at a time, each byte
/// a call into the hasher; this key gives the hasher the lowercased text in a few pieces,
/// equal keys alike (authorities compare case-insensitively).
#[derive(Clone, Eq)]
struct Backend(Authority);

/// `Authority`'s own comparison lowercases every byte of both; the same text, the usual
/// case, is found equal by one comparison of bytes.
impl PartialEq for Backend {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0.as_str(), other.0.as_str());
        a == b || a.eq_ignore_ascii_case(b)
    }
}

impl std::hash::Hash for Backend {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let text = self.0.as_str().as_bytes();
        state.write_usize(text.len());
        let mut lower = [0u8; 64];
        for piece in text.chunks(lower.len()) {
            let lower = &mut lower[..piece.len()];
            lower.copy_from_slice(piece);
            lower.make_ascii_lowercase();
            state.write(lower);
        }
    }
}

impl ThreadLists {
    /// Lets go of connections unused for two sweeps or closed by their backend.
    fn sweep(&mut self, now: u64) {
        self.swept = now;
        self.by_backend.retain(|list| {
            list.retain(|i| now - i.since < 2 && i.conn.is_usable());
            !list.is_empty()
        });
    }
}

thread_local! {
    /// The idle connections this thread keeps, for every pool that gave one back here (one,
    /// in a server).
    static IDLE: RefCell<Vec<ThreadLists>> = const { RefCell::new(Vec::new()) };
}

impl Http1Pool {
    /// Sends a request with an absolute `http` URI and returns the response as it arrives. A
    /// body still arriving after `deadline` fails instead of waiting on (its head has gone to
    /// the client by then, so the client sees the connection close short of the end).
    pub async fn send(
        self: &Arc<Self>,
        mut req: Request<Body>,
        deadline: Option<tokio::time::Instant>,
        rename: Option<Rename>,
    ) -> Result<Response<Body>, BoxError> {
        let backend = Backend(req.uri().authority().cloned().ok_or("the backend URI has no host")?);
        // A request without a `Host` gets the URI's, as hyper's pooled client gives it.
        if !req.headers().contains_key(http::header::HOST) {
            let host = http::HeaderValue::from_str(backend.0.as_str())?;
            req.headers_mut().insert(http::header::HOST, host);
        }
        let head_request = req.method() == Method::HEAD;
        let close_requested = lists_token(req.headers(), http::header::CONNECTION, "close");
        let mut conn = self.connection(&backend).await?;
        conn.write_request(req).await?;
        self.receive(backend, conn, head_request, close_requested, deadline, HeaderOutput::Map(rename)).await
    }

    /// As [`Self::send`], for a request whose head the caller wrote: `head` holds the request
    /// line and the headers (`Host` among them, no `Connection: close`, no framing header),
    /// and the body's framing is added as for any request. The response's headers go where
    /// `output` says.
    pub(crate) async fn send_head(
        self: &Arc<Self>,
        backend: &Authority,
        head: Vec<u8>,
        method: &Method,
        body: Body,
        deadline: Option<tokio::time::Instant>,
        output: HeaderOutput<'_>,
    ) -> Result<Response<Body>, BoxError> {
        let backend = Backend(backend.clone());
        let mut conn = self.connection(&backend).await?;
        conn.write_message(head, method, body, Framed::Not).await?;
        self.receive(backend, conn, method == Method::HEAD, false, deadline, output).await
    }

    /// A kept connection to `backend`, or a new one.
    async fn connection(self: &Arc<Self>, backend: &Backend) -> Result<Connection, BoxError> {
        match self.take(backend) {
            Some(conn) => Ok(conn),
            None => {
                self.start_sweeping();
                connect(&backend.0).await
            }
        }
    }

    /// The response to the request just written on `conn`.
    async fn receive(
        self: &Arc<Self>,
        backend: Backend,
        mut conn: Connection,
        head_request: bool,
        close_requested: bool,
        deadline: Option<tokio::time::Instant>,
        mut output: HeaderOutput<'_>,
    ) -> Result<Response<Body>, BoxError> {
        let Head { status, version, headers, framing, keep_alive } =
            conn.read_head(head_request, close_requested, &mut output).await?;
        let body = match framing {
            Framing::Empty => {
                self.finish(backend, conn, keep_alive);
                empty()
            }
            // The usual case: the whole body came with the head.
            Framing::Length(n) if conn.buffered() as u64 >= n => {
                let bytes = conn.take_buffered(n as usize);
                self.finish(backend, conn, keep_alive);
                full(bytes)
            }
            _ => {
                let body = StreamedBody { conn: Some(conn), framing, keep_alive, pool: self.clone(), backend };
                super::deadline::bound(body.boxed_unsync(), deadline)
            }
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        *response.version_mut() = version;
        *response.headers_mut() = headers;
        Ok(response)
    }

    /// This pool's lists in this thread's `idle`, looked over first if a sweep has come
    /// since they last were; made (and lists of pools gone meanwhile dropped) if there are none.
    fn lists<'a>(&self, idle: &'a mut Vec<ThreadLists>, make: bool) -> Option<&'a mut ThreadLists> {
        let now = self.sweeps.load(Relaxed);
        let at = match idle.iter().position(|l| l.pool == self.id) {
            Some(at) => at,
            None if make => {
                idle.retain(|l| l.sweeps.strong_count() > 0);
                let sweeps = Arc::downgrade(&self.sweeps);
                idle.push(ThreadLists { pool: self.id, sweeps, swept: now, by_backend: ByBackend::default() });
                idle.len() - 1
            }
            None => return None,
        };
        let lists = &mut idle[at];
        if lists.swept != now {
            lists.sweep(now);
        }
        Some(lists)
    }

    /// A kept connection, the most recently used first (the likeliest to be warm and open);
    /// those the backend closed meanwhile are let go.
    fn take(&self, backend: &Backend) -> Option<Connection> {
        IDLE.with_borrow_mut(|idle| {
            let list = self.lists(idle, false)?.by_backend.get_mut(backend)?;
            while let Some(i) = list.pop() {
                if i.conn.is_usable() {
                    return Some(i.conn);
                }
            }
            None
        })
    }

    /// Gives a connection whose exchange ended back, unless it may not carry another.
    fn finish(&self, backend: Backend, conn: Connection, keep_alive: bool) {
        if !keep_alive || conn.buffered() > 0 {
            return;
        }
        let since = self.sweeps.load(Relaxed);
        // A thread ending (its lists gone) simply closes the connection.
        let _ = IDLE.try_with(|idle| {
            let mut idle = idle.borrow_mut();
            if let Some(lists) = self.lists(&mut idle, true) {
                let list = lists.by_backend.entry(backend);
                if list.len() < MAX_IDLE_PER_BACKEND {
                    list.push(Idle { conn, since });
                }
            }
        });
    }

    /// Counts a sweep and looks over this thread's lists at once (other threads' lists at
    /// their next use).
    fn sweep(&self) {
        self.sweeps.fetch_add(1, Relaxed);
        IDLE.with_borrow_mut(|idle| {
            self.lists(idle, false);
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
}

async fn connect(authority: &Authority) -> Result<Connection, BoxError> {
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(80);
    let conn = tokio::time::timeout(CONNECT_TIMEOUT, Connection::open(host, port))
        .await
        .map_err(|_| format!("connecting to {authority} timed out"))??;
    Ok(conn)
}

/// A response body still arriving: read from the connection as it is polled, which goes
/// back to the pool at the body's end (a body given up half-way closes it instead).
struct StreamedBody {
    conn: Option<Connection>,
    framing: Framing,
    keep_alive: bool,
    pool: Arc<Http1Pool>,
    backend: Backend,
}

impl StreamedBody {
    fn ended(&self) -> bool {
        matches!(self.framing, Framing::Empty | Framing::Length(0))
    }

    fn give_back(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.finish(self.backend.clone(), conn, self.keep_alive);
        }
    }
}

impl http_body::Body for StreamedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            let Some(conn) = this.conn.as_mut() else { return Poll::Ready(None) };
            let step = conn.decode(&mut this.framing);
            match step {
                Ok(Step::Data(data)) => {
                    // The connection goes back with the last bytes, not when the caller
                    // next asks (it may not ask once the body says it has ended).
                    if this.ended() {
                        this.give_back();
                    }
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Ok(Step::End) => {
                    this.give_back();
                    return Poll::Ready(None);
                }
                Ok(Step::More) => match std::task::ready!(conn.poll_fill(cx)) {
                    Ok(true) => {}
                    Ok(false) if this.framing == Framing::Close => {
                        this.conn = None;
                        return Poll::Ready(None);
                    }
                    Ok(false) => {
                        this.conn = None;
                        return Poll::Ready(Some(
                            Err("the backend closed the connection before the body ended".into()),
                        ));
                    }
                    Err(e) => {
                        this.conn = None;
                        return Poll::Ready(Some(Err(e.into())));
                    }
                },
                Err(e) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.conn.is_none() || self.ended()
    }

    fn size_hint(&self) -> SizeHint {
        match self.framing {
            Framing::Length(n) => SizeHint::with_exact(n),
            Framing::Empty => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}

impl Drop for StreamedBody {
    /// A chunked body's last chunk may already be read when its reader stops asking.
    fn drop(&mut self) {
        if let Some(conn) = self.conn.as_mut() {
            if let Ok(Step::End) = conn.decode(&mut self.framing) {
                self.give_back();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper_util::rt::TokioIo;

    /// A backend answering `ok` to `/small` and 1 MiB to anything else, on its own connections.
    async fn backend() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(|req: Request<hyper::body::Incoming>| async move {
                        let body = if req.uri().path() == "/small" { full("ok") } else { full(vec![b'x'; 1 << 20]) };
                        Ok::<_, std::convert::Infallible>(Response::new(body))
                    });
                    let _ =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
        format!("http://{addr}")
    }

    async fn get(pool: &Arc<Http1Pool>, url: String) -> Response<Body> {
        pool.send(Request::get(url).body(full("")).unwrap(), None, None).await.unwrap()
    }

    /// The connections this (the test's) thread keeps for `pool`.
    fn idle_count(pool: &Http1Pool) -> usize {
        IDLE.with_borrow_mut(|idle| pool.lists(idle, false).map_or(0, |lists| lists.by_backend.len()))
    }

    #[test]
    fn backends_past_the_listed_few_are_hashed_and_found_alike() {
        let mut by = ByBackend::default();
        let backend = |i: usize| Backend(format!("b{i}.example:80").parse().unwrap());
        for i in 0..3 * LISTED_BACKENDS {
            assert!(by.get_mut(&backend(i)).is_none());
            by.entry(backend(i));
        }
        assert_eq!((by.listed.len(), by.hashed.len()), (LISTED_BACKENDS, 2 * LISTED_BACKENDS));
        for i in 0..3 * LISTED_BACKENDS {
            assert!(by.get_mut(&backend(i)).is_some(), "{i}");
        }
        // A backend already hashed stays there when the list has room again.
        by.retain(|_| false);
        by.entry(backend(0));
        by.hashed.insert(backend(1), Vec::new());
        by.entry(backend(1));
        assert_eq!((by.listed.len(), by.hashed.len()), (1, 1));
    }

    #[test]
    fn backends_differing_only_in_case_are_one_key() {
        use std::hash::BuildHasher;
        let hasher = std::collections::hash_map::RandomState::new();
        let long = format!("{}.example:8080", "a".repeat(100));
        for (a, b) in [("Example.COM:80", "example.com:80"), (long.to_uppercase().as_str(), long.as_str())] {
            let (a, b) = (Backend(a.parse().unwrap()), Backend(b.parse().unwrap()));
            assert!(a == b);
            assert_eq!(hasher.hash_one(&a), hasher.hash_one(&b));
        }
        let (a, b) = (Backend("a.example:80".parse().unwrap()), Backend("b.example:80".parse().unwrap()));
        assert_ne!(hasher.hash_one(&a), hasher.hash_one(&b));
    }

    #[tokio::test]
    async fn idle_connections_go_after_two_sweeps_unused() {
        let pool = Arc::new(Http1Pool::default());
        let base = backend().await;
        let response = get(&pool, format!("{base}/small")).await;
        assert_eq!(idle_count(&pool), 1, "the whole body came with the head: the connection is back already");
        assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "ok");
        pool.sweep();
        assert_eq!(idle_count(&pool), 1, "one sweep is not yet two periods unused");
        pool.sweep();
        assert_eq!(idle_count(&pool), 0);
    }

    #[tokio::test]
    async fn a_streamed_body_gives_its_connection_back_at_its_end() {
        let pool = Arc::new(Http1Pool::default());
        let base = backend().await;
        let response = get(&pool, format!("{base}/large")).await;
        assert_eq!(idle_count(&pool), 0, "the body is still arriving");
        assert_eq!(response.into_body().collect().await.unwrap().to_bytes().len(), 1 << 20);
        assert_eq!(idle_count(&pool), 1);
        let again = get(&pool, format!("{base}/small")).await;
        assert_eq!(again.into_body().collect().await.unwrap().to_bytes(), "ok", "the kept connection carries on");
    }

    #[tokio::test]
    async fn a_pool_dropped_lets_go_of_the_connections_it_kept() {
        let pool = Arc::new(Http1Pool::default());
        let base = backend().await;
        get(&pool, format!("{base}/small")).await.into_body().collect().await.unwrap();
        assert_eq!(idle_count(&pool), 1);
        let id = pool.id;
        drop(pool);
        assert!(IDLE.with_borrow(|idle| idle.iter().all(|lists| lists.pool != id)));
    }

    #[tokio::test]
    async fn a_body_given_up_half_way_takes_its_connection_along() {
        let pool = Arc::new(Http1Pool::default());
        let base = backend().await;
        let response = get(&pool, format!("{base}/large")).await;
        drop(response);
        assert_eq!(idle_count(&pool), 0);
    }
}
