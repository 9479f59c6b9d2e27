//! Plain HTTP/1.1 connections that cost little while idle. Whoever serves a connection (the
//! gateway's own HTTP/1.1 path, `http1`, or hyper for what that path hands over) keeps buffers
//! for it while it serves, so 10,000 idle keep-alive clients would hold 160 MB. A sweep every
//! half second finds connections that have been quiet since the last sweep (no request in
//! flight, no response being written, the last bytes on the wire a response's) and ends their
//! server's part in them with an end-of-stream on reads, which it takes as a client that left
//! between requests. The socket itself stays open: it comes back, waits without buffers until
//! the client speaks again, and is served anew.
//! The same sweep enforces the header read timeout: a connection that has received part of a
//! request's head, and no request since, for the whole timeout is cut off. hyper could time
//! the head itself, but it reads the clock, allocates a timer and puts it in the runtime's
//! timer wheel for every request; the sweep's granularity (the timeout is met within one
//! period past it) is all a slow client needs.
//! Nothing of this runs per request beyond a few counter updates.

use super::http1::Outcome;
use super::Gateway;
use crate::pipeline;
use atomic_waker::AtomicWaker;
use bytes::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// How often connections are swept; a connection quiet for a whole period is released.
const SWEEP_EVERY: Duration = Duration::from_millis(500);

/// What the sweep reads about a connection, and how it tells the connection's server to let go.
#[derive(Default)]
pub(super) struct Activity {
    /// Reads and writes that moved bytes.
    transfers: AtomicU64,
    /// `transfers` as the previous sweep saw it.
    swept: AtomicU64,
    /// Whether the last bytes moved were read: a request (or part of one) may be buffered.
    read_last: AtomicBool,
    /// Requests whose response has not been written whole yet.
    in_flight: AtomicUsize,
    /// Set by the sweep; the next read then ends the stream unless something moved since.
    release: AtomicBool,
    /// Requests handed to the pipeline so far.
    requests: AtomicU64,
    /// The sweep that first found this connection partway through a request's head (0: not
    /// waiting for one), and `requests` as it was then.
    head_since: AtomicU64,
    head_requests: AtomicU64,
    /// Set by the sweep when a head took longer than the header read timeout.
    cut: AtomicBool,
    /// Whether the stream was ended for a release (not by the client).
    released: AtomicBool,
    /// hyper's task while it waits for the next request.
    reader: AtomicWaker,
}

impl Activity {
    fn quiet(&self) -> bool {
        self.in_flight.load(Relaxed) == 0 && !self.read_last.load(Relaxed)
    }

    /// Bytes of a request arrived and no request is being served: its head is still coming.
    fn reading_head(&self) -> bool {
        self.in_flight.load(Relaxed) == 0 && self.read_last.load(Relaxed)
    }

    /// Cuts the connection off when sweep `now` finds it still on the head an earlier sweep
    /// found it on, `limit` sweeps or more ago.
    fn check_head(&self, now: u64, limit: u64) {
        if !self.reading_head() {
            self.head_since.store(0, Relaxed);
            return;
        }
        let requests = self.requests.load(Relaxed);
        let since = self.head_since.load(Relaxed);
        if since == 0 || self.head_requests.load(Relaxed) != requests {
            self.head_since.store(now, Relaxed);
            self.head_requests.store(requests, Relaxed);
        } else if now - since >= limit && !self.cut.swap(true, Relaxed) {
            self.reader.wake();
        }
    }
}

/// The connections of one listener, for the sweep.
pub(super) struct Connections {
    all: Mutex<Vec<Weak<Activity>>>,
    /// The header read timeout, in sweeps.
    head_sweeps: u64,
}

impl Connections {
    pub(super) fn new(header_read_timeout: Duration) -> Self {
        let sweeps = header_read_timeout.as_millis().div_ceil(SWEEP_EVERY.as_millis()).max(1);
        Self { all: Mutex::default(), head_sweeps: sweeps as u64 }
    }

    fn add(&self, activity: &Arc<Activity>) {
        self.all.lock().unwrap_or_else(|p| p.into_inner()).push(Arc::downgrade(activity));
    }

    /// Sweep `now` (counted from 1): marks every connection quiet since the last sweep for
    /// release, cuts off heads past the timeout, and forgets connections gone.
    fn sweep(&self, now: u64) {
        let mut all = self.all.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|weak| {
            let Some(a) = weak.upgrade() else { return false };
            let transfers = a.transfers.load(Relaxed);
            if a.swept.swap(transfers, Relaxed) == transfers && a.quiet() && !a.release.load(Relaxed) {
                a.release.store(true, Relaxed);
                a.reader.wake();
            }
            a.check_head(now, self.head_sweeps);
            true
        });
    }

    /// Sweeps until the listener stops.
    pub(super) async fn sweep_until(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sweeps = 0;
        loop {
            tokio::select! {
                _ = every.tick() => {
                    sweeps += 1;
                    self.sweep(sweeps);
                }
                _ = stopped.changed() => return,
            }
        }
    }
}

/// The socket as the connection's server sees it: counts transfers, ends the stream when the
/// sweep releases the connection, and hands the socket back when it is let go of.
pub(super) struct Watched {
    stream: Option<TcpStream>,
    activity: Arc<Activity>,
    back: Arc<Mutex<Option<TcpStream>>>,
    /// Bytes read from the socket before hyper took the connection over, read first.
    prefix: Bytes,
}

impl Drop for Watched {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take() {
            *self.back.lock().unwrap_or_else(|p| p.into_inner()) = Some(stream);
        }
    }
}

impl Watched {
    pub(super) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    /// Whether the stream ended because the sweep released the connection.
    pub(super) fn released(&self) -> bool {
        self.activity.released.load(Relaxed)
    }

    fn stream(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(self.stream.as_mut().expect("the socket is present while the connection is served"))
    }

    fn moved(&self, read: bool) {
        self.activity.transfers.fetch_add(1, Relaxed);
        self.activity.read_last.store(read, Relaxed);
    }

    /// A release the sweep asked for, confirmed: nothing moved since, nothing in flight.
    fn releasing(&self) -> bool {
        let a = &self.activity;
        if !a.release.load(Relaxed) {
            return false;
        }
        if a.swept.load(Relaxed) == a.transfers.load(Relaxed) && a.quiet() {
            a.released.store(true, Relaxed);
            return true;
        }
        a.release.store(false, Relaxed);
        false
    }
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        if self.activity.cut.load(Relaxed) {
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "request head not received in time",
            )));
        }
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix.split_to(n));
            return Poll::Ready(Ok(()));
        }
        if self.activity.released.load(Relaxed) || self.releasing() {
            // End of stream: the server, idle between requests, lets go of the connection.
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let result = self.stream().poll_read(cx, buf);
        match result {
            Poll::Ready(Ok(())) if buf.filled().len() > before => self.moved(true),
            Poll::Pending => self.activity.reader.register(cx.waker()),
            _ => {}
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let result = self.stream().poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.moved(false);
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let result = self.stream().poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.moved(false);
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.is_write_vectored())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.stream().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if self.activity.released.load(Relaxed) {
            // hyper closes what it thinks the client left; the socket stays open.
            return Poll::Ready(Ok(()));
        }
        self.stream().poll_shutdown(cx)
    }
}

/// Marks its connection busy from the request until its response is written whole (or
/// abandoned): the plain path drops it after the write, hyper with the response body.
pub(super) struct Busy(Arc<Activity>);

impl Busy {
    pub(super) fn new(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Relaxed);
        activity.requests.fetch_add(1, Relaxed);
        Self(activity.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

/// A response body that keeps its connection busy while it is written.
struct Tracked {
    body: pipeline::Body,
    _busy: Busy,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = pipeline::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Everything a plain connection needs from its listener.
pub(super) struct Listener {
    pub http1: hyper::server::conn::http1::Builder,
    pub gateway: Arc<Gateway>,
    pub connections: Arc<Connections>,
    /// How long a parked connection waits for the client (the keep-alive timeout).
    pub keep_alive: Duration,
    /// The largest request head read.
    pub max_head_bytes: usize,
}

/// Serves the socket with hyper until the client leaves (true when hyper was only released).
async fn run_hyper(io: Watched, l: &Listener, peer: SocketAddr, stopped: &mut watch::Receiver<bool>) -> bool {
    let activity = io.activity.clone();
    let service = {
        let (gateway, activity) = (l.gateway.clone(), activity.clone());
        service_fn(move |mut req| {
            let (gateway, busy) = (gateway.clone(), Busy::new(&activity));
            async move {
                let plan = gateway.plan_for(&mut req);
                let response = pipeline::execute(&plan, &gateway.client, req, peer, &*gateway).await;
                Ok::<_, Infallible>(response.map(|body| Tracked { body, _busy: busy }))
            }
        })
    };
    let conn = l.http1.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut stopping = *stopped.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            biased;
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                return activity.released.load(Relaxed) && !stopping;
            }
            _ = stopped.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Serves a plain HTTP/1.1 connection until the client leaves, stays idle past the keep-alive
/// timeout, or the server stops. `_drain` lives as long as the connection, so shutdown can
/// wait for it.
pub(super) async fn serve(
    stream: TcpStream,
    listener: Arc<Listener>,
    peer: SocketAddr,
    mut stopped: watch::Receiver<bool>,
    _drain: watch::Receiver<()>,
) {
    let back = Arc::new(Mutex::new(None));
    let mut stream = stream;
    let gateway = &listener.gateway;
    loop {
        // Parked: no hyper buffers until the client sends something (or leaves).
        let mut first = [0u8; 1];
        gateway.parked_connections.fetch_add(1, Relaxed);
        let ready = tokio::select! {
            r = stream.peek(&mut first) => matches!(r, Ok(n) if n > 0),
            _ = tokio::time::sleep(listener.keep_alive) => false,
            _ = stopped.changed() => false,
        };
        gateway.parked_connections.fetch_sub(1, Relaxed);
        if !ready || *stopped.borrow() {
            return;
        }
        let activity = Arc::new(Activity::default());
        listener.connections.add(&activity);
        let mut io = Watched { stream: Some(stream), activity, back: back.clone(), prefix: Bytes::new() };
        let released = match super::http1::serve(&mut io, &listener, peer, &mut stopped).await {
            Outcome::Closed => false,
            Outcome::Released => {
                drop(io);
                true
            }
            Outcome::HandOff(read) => {
                io.prefix = read;
                run_hyper(io, &listener, peer, &mut stopped).await
            }
        };
        if !released {
            return;
        }
        gateway.idle_releases.fetch_add(1, Relaxed);
        // The server let go; the socket came back through `Watched::drop`.
        let Some(returned) = back.lock().unwrap_or_else(|p| p.into_inner()).take() else { return };
        stream = returned;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(a: &Activity) {
        a.read_last.store(true, Relaxed);
        a.in_flight.store(0, Relaxed);
    }

    #[test]
    fn a_head_is_cut_off_once_it_outlasts_the_timeout() {
        let a = Activity::default();
        reading(&a);
        for now in 1..=2 {
            a.check_head(now, 2);
            assert!(!a.cut.load(Relaxed), "sweep {now}");
        }
        a.check_head(3, 2);
        assert!(a.cut.load(Relaxed), "two sweeps after the head was first seen");
    }

    #[test]
    fn a_new_request_or_a_quiet_spell_starts_the_count_again() {
        let a = Activity::default();
        reading(&a);
        a.check_head(1, 2);
        // The head arrived whole and was served; the next one has begun.
        a.requests.fetch_add(1, Relaxed);
        a.check_head(2, 2);
        a.check_head(3, 2);
        assert!(!a.cut.load(Relaxed), "the second head has waited one sweep");
        // A response went out: nothing is being read.
        a.read_last.store(false, Relaxed);
        a.check_head(4, 2);
        reading(&a);
        a.check_head(5, 2);
        a.check_head(6, 2);
        assert!(!a.cut.load(Relaxed));
        a.check_head(7, 2);
        assert!(a.cut.load(Relaxed));
    }

    #[test]
    fn a_request_being_served_is_not_a_head() {
        let a = Activity::default();
        a.read_last.store(true, Relaxed);
        a.in_flight.store(1, Relaxed);
        for now in 1..10 {
            a.check_head(now, 2);
        }
        assert!(!a.cut.load(Relaxed), "a body being read belongs to a request the pipeline has");
    }

    #[test]
    fn the_timeout_in_sweeps_rounds_up() {
        assert_eq!(Connections::new(Duration::from_secs(1)).head_sweeps, 2);
        assert_eq!(Connections::new(Duration::from_millis(1200)).head_sweeps, 3);
        assert_eq!(Connections::new(Duration::from_millis(10)).head_sweeps, 1);
    }
}
