//! Plain HTTP/1.1 requests read, handed to the pipeline and answered on the connection's own
//! task, without hyper's dispatcher: the head is parsed where it was read (httparse), header
//! values stay slices of the bytes read, and the response head and a known-length body go out
//! in one `write`. This is the path of nearly every request a gateway serves; what it does not
//! take (a chunked or very large request body, `Expect`, upgrades, HTTP/1.0, anything it
//! cannot parse) is handed over to hyper with the bytes already read, and hyper answers it and
//! any malformed request as it always does. The response is framed as hyper frames it
//! (`content-length`, `date`, `transfer-encoding: chunked` for a body of unknown length,
//! `connection: close` when the connection ends).

use super::idle::{Busy, Listener, Watched};
use crate::pipeline::{self, value_lists, Body};
use crate::vtl::value::decimal_digits;
use bytes::{Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, DATE, TRANSFER_ENCODING};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri, Version};
use http_body::Body as _;
use http_body_util::{BodyExt, Full};
use std::cell::RefCell;
use std::io::Write as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::Poll;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

/// The most headers in a request head (hyper's default too).
const MAX_HEADERS: usize = 100;
/// Request bodies up to this size are read whole here; larger ones stream through hyper.
const MAX_BODY: u64 = 256 * 1024;
/// Response bytes gathered before a `write`, when the body has more ready.
const COALESCE: usize = 64 * 1024;
/// Room kept for reading a request.
const READ_SIZE: usize = 8 * 1024;

/// How serving a connection this way ended.
pub(super) enum Outcome {
    /// The client left, the connection failed, or it was closed after a response.
    Closed,
    /// The sweep took the quiet connection back: it waits, without buffers, for more.
    Released,
    /// A request this path does not take: hyper serves the connection from these bytes on.
    HandOff(Bytes),
}

/// A request head parsed in place: what the pipeline needs, as positions in the bytes read.
struct Head {
    len: usize,
    method: Method,
    target: (usize, usize),
    body: usize,
    close: bool,
}

enum Parsed {
    Complete(Head),
    Partial,
    /// Not for this path (or not valid): hyper reads it.
    HandOff,
}

/// Where `part` (a slice of `within`) starts and ends in it.
fn span(within: &[u8], part: &[u8]) -> (usize, usize) {
    let start = part.as_ptr() as usize - within.as_ptr() as usize;
    (start, start + part.len())
}

/// Parses the head at the start of `buf`. `headers` is the connection's list, reused.
fn parse(buf: &[u8], mut headers: Vec<(HeaderName, usize, usize)>) -> (Parsed, Vec<(HeaderName, usize, usize)>) {
    // Slots left uninitialised: the parse writes those it fills (zeroing a hundred would
    // cost more than parsing a short head).
    let mut slots = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut slots) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return (Parsed::Partial, headers),
        Err(_) => return (Parsed::HandOff, headers),
    };
    let (Some(method), Some(target), Some(1)) = (req.method, req.path, req.version) else {
        return (Parsed::HandOff, headers);
    };
    let Ok(method) = Method::from_bytes(method.as_bytes()) else { return (Parsed::HandOff, headers) };
    if method == Method::CONNECT {
        return (Parsed::HandOff, headers);
    }
    headers.clear();
    let (mut body, mut close) = (None, false);
    for h in req.headers.iter() {
        let Ok(name) = HeaderName::from_bytes(h.name.as_bytes()) else { return (Parsed::HandOff, headers) };
        match name {
            CONTENT_LENGTH => {
                let value = h.value.trim_ascii();
                let length = (!value.is_empty() && value.len() <= 19 && value.iter().all(u8::is_ascii_digit))
                    .then(|| value.iter().fold(0u64, |n, d| n * 10 + (d - b'0') as u64));
                match (length, body) {
                    (Some(n), None) => body = Some(n),
                    (Some(n), Some(m)) if n == m => {}
                    _ => return (Parsed::HandOff, headers),
                }
            }
            TRANSFER_ENCODING | http::header::EXPECT | http::header::UPGRADE => return (Parsed::HandOff, headers),
            CONNECTION => {
                if value_lists(h.value, "upgrade") {
                    return (Parsed::HandOff, headers);
                }
                close |= value_lists(h.value, "close");
            }
            _ => {}
        }
        let (start, end) = span(buf, h.value);
        headers.push((name, start, end));
    }
    let body = body.unwrap_or(0);
    if body > MAX_BODY {
        return (Parsed::HandOff, headers);
    }
    let target = span(buf, target.as_bytes());
    (Parsed::Complete(Head { len, method, target, body: body as usize, close }), headers)
}

/// The request the pipeline gets, its head and body sharing the bytes read.
fn request(
    head: &mut Head,
    headers: &mut Vec<(HeaderName, usize, usize)>,
    bytes: Bytes,
) -> Option<Request<Full<Bytes>>> {
    let uri = Uri::from_maybe_shared(bytes.slice(head.target.0..head.target.1)).ok()?;
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, start, end) in headers.drain(..) {
        map.append(name, HeaderValue::from_maybe_shared(bytes.slice(start..end)).ok()?);
    }
    let body = bytes.slice(head.len..head.len + head.body);
    let mut req = Request::new(Full::new(body));
    *req.method_mut() = std::mem::replace(&mut head.method, Method::GET);
    *req.uri_mut() = uri;
    *req.version_mut() = Version::HTTP_11;
    *req.headers_mut() = map;
    Some(req)
}

/// Serves requests on `io` until the client leaves, the connection is released or closed,
/// or a request needs hyper.
pub(super) async fn serve(
    io: &mut Watched,
    l: &Listener,
    peer: SocketAddr,
    stopped: &mut watch::Receiver<bool>,
) -> Outcome {
    let mut buf = BytesMut::new();
    let mut headers = Vec::new();
    let mut out = Vec::new();
    let mut lines = pipeline::ProxyLines::default();
    let mut stopping = *stopped.borrow();
    // One wait for the stop for the whole connection: made afresh for every read, the wait
    // would join and leave the channel's waiters at every request.
    let mut stop = std::pin::pin!(stop_signal(stopped.clone()));
    loop {
        // A whole head, and the body it declares.
        let mut head = loop {
            if !buf.is_empty() {
                let (parsed, list) = parse(&buf, std::mem::take(&mut headers));
                headers = list;
                match parsed {
                    Parsed::Complete(head) if buf.len() >= head.len + head.body => break head,
                    Parsed::Complete(_) => {}
                    Parsed::Partial if buf.len() < l.max_head_bytes => {}
                    // hyper answers an oversized or malformed head (431, 400).
                    Parsed::Partial | Parsed::HandOff => return Outcome::HandOff(buf.freeze()),
                }
            } else if stopping {
                return Outcome::Closed;
            }
            if buf.capacity() - buf.len() < 1024 {
                buf.reserve(READ_SIZE);
            }
            tokio::select! {
                biased;
                read = io.read_buf(&mut buf) => match read {
                    Ok(0) | Err(_) if buf.is_empty() && io.released() => return Outcome::Released,
                    Ok(0) | Err(_) => return Outcome::Closed,
                    Ok(_) => {}
                },
                _ = &mut stop, if !stopping => stopping = true,
            }
        };
        let bytes = buf.split_to(head.len + head.body).freeze();
        let close = head.close || stopping;
        let head_request = head.method == Method::HEAD;
        let Some(mut req) = request(&mut head, &mut headers, bytes) else {
            // What httparse let through and `http` refuses: hyper's answer to a bad request.
            out.clear();
            out.extend_from_slice(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n");
            write_date(&mut out);
            out.extend_from_slice(b"\r\n");
            let _ = io.write_all(&out).await;
            return Outcome::Closed;
        };
        let busy = Busy::new(io.activity());
        let plan = l.gateway.plan_for(&mut req);
        let answer = pipeline::execute_writing(&plan, &l.gateway.client, req, peer, &*l.gateway, lines);
        let (response, answered_lines) = answer.await;
        lines = answered_lines;
        drop(plan);
        stopping |= *stopped.borrow();
        let written = lines.written.then_some(&lines.lines[..]);
        let keep_alive = match write_response(io, &mut out, response, written, head_request, close || stopping).await {
            Ok(keep_alive) => keep_alive,
            Err(_) => return Outcome::Closed,
        };
        drop(busy);
        if !keep_alive {
            let _ = io.shutdown().await;
            return Outcome::Closed;
        }
        if buf.is_empty() && buf.capacity() > 4 * READ_SIZE {
            buf = BytesMut::new();
        }
    }
}

/// Done when the server starts to stop (or is gone). Polled only until then: the connection
/// stops waiting on it once `stopping` is set, however it learnt of the stop.
async fn stop_signal(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stopped| *stopped).await;
}

/// How the response body goes out.
enum Framing {
    None,
    Length(u64),
    Chunked,
}

/// Writes the response as hyper writes it, `lines` (header lines written before, if any)
/// ahead of the map's headers; true when the connection may carry another.
async fn write_response(
    io: &mut Watched,
    out: &mut Vec<u8>,
    response: Response<Body>,
    lines: Option<&[u8]>,
    head_request: bool,
    close: bool,
) -> std::io::Result<bool> {
    let (parts, mut body) = response.into_parts();
    out.clear();
    let status = parts.status;
    if status == StatusCode::OK {
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    } else {
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(status.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(status.canonical_reason().unwrap_or("<none>").as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let can_have_length =
        !status.is_informational() && !matches!(status, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED);
    let can_have_body = can_have_length && !head_request;
    let known = body.size_hint().exact();
    let (mut framing, mut wrote_length, mut wrote_date, mut keep_alive) = (None, false, false, !close);
    let mut connection: Option<Vec<u8>> = None;
    if let Some(lines) = lines {
        // No framing, date or connection header among them: the map's rules hold.
        out.extend_from_slice(lines);
    }
    let mut name = None;
    for (next, value) in parts.headers {
        if next.is_some() {
            name = next;
        }
        let Some(name) = &name else { continue };
        match *name {
            CONTENT_LENGTH => {
                if wrote_length {
                    continue;
                }
                let length = known.or_else(|| value.to_str().ok()?.trim().parse().ok());
                match length {
                    Some(n) => framing = Some(Framing::Length(n)),
                    None => continue,
                }
                wrote_length = true;
            }
            TRANSFER_ENCODING => {
                // Chunked is this path's own framing for a body of unknown length.
                continue;
            }
            CONNECTION => {
                let joined = connection.get_or_insert_with(Vec::new);
                if !joined.is_empty() {
                    joined.extend_from_slice(b", ");
                }
                joined.extend_from_slice(value.as_bytes());
                continue;
            }
            DATE => wrote_date = true,
            _ => {}
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(value) = &connection {
        keep_alive &= !value_lists(value, "close");
    }
    if !keep_alive && !connection.as_deref().is_some_and(|v| value_lists(v, "close")) {
        let joined = connection.get_or_insert_with(Vec::new);
        if !joined.is_empty() {
            joined.extend_from_slice(b", ");
        }
        joined.extend_from_slice(b"close");
    }
    if let Some(value) = &connection {
        out.extend_from_slice(b"connection: ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    let framing = match framing {
        Some(f) => f,
        None => match known {
            Some(0) if can_have_length && !head_request => {
                out.extend_from_slice(b"content-length: 0\r\n");
                Framing::Length(0)
            }
            Some(n) if can_have_length && n > 0 => {
                out.extend_from_slice(b"content-length: ");
                out.extend_from_slice(decimal_digits(n, &mut [0; 20]));
                out.extend_from_slice(b"\r\n");
                Framing::Length(n)
            }
            Some(_) => Framing::None,
            None if can_have_body => {
                out.extend_from_slice(b"transfer-encoding: chunked\r\n");
                Framing::Chunked
            }
            None => Framing::None,
        },
    };
    if !wrote_date {
        write_date(out);
    }
    out.extend_from_slice(b"\r\n");
    let framing = if can_have_body { framing } else { Framing::None };
    let (mut left, chunked) = match framing {
        Framing::None => (0, false),
        Framing::Length(length) => (length, false),
        Framing::Chunked => (u64::MAX, true),
    };
    // What is ready goes out with the head in one `write`; what the body makes the response
    // wait for goes out as it comes, after what was ready (the head first of all).
    while left > 0 {
        let frame = match std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut body).poll_frame(cx))).await {
            Poll::Ready(frame) => frame,
            Poll::Pending => {
                io.write_all(out).await?;
                out.clear();
                body.frame().await
            }
        };
        let Some(frame) = frame else { break };
        let Ok(data) = frame.map_err(|_| std::io::Error::other("response body failed"))?.into_data() else {
            continue;
        };
        if data.is_empty() {
            continue;
        }
        if chunked {
            let _ = write!(out, "{:X}\r\n", data.len());
            out.extend_from_slice(&data);
            out.extend_from_slice(b"\r\n");
        } else {
            let data = &data[..data.len().min(left as usize)];
            left -= data.len() as u64;
            out.extend_from_slice(data);
        }
        if out.len() >= COALESCE {
            io.write_all(out).await?;
            out.clear();
        }
    }
    if chunked {
        out.extend_from_slice(b"0\r\n\r\n");
    }
    if !out.is_empty() {
        io.write_all(out).await?;
    }
    if left > 0 && !chunked {
        // The body ended short of its length: the client can only tell by the close.
        return Err(std::io::Error::other("response body shorter than its length"));
    }
    Ok(keep_alive)
}

thread_local! {
    /// `date: ...\r\n` for the current second, as hyper caches it.
    static DATE_LINE: RefCell<(u64, Vec<u8>)> = const { RefCell::new((u64::MAX, Vec::new())) };
}

fn write_date(out: &mut Vec<u8>) {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE_LINE.with(|line| {
        let mut line = line.borrow_mut();
        if line.0 != second {
            line.1.clear();
            let _ = write!(line.1, "date: {}\r\n", httpdate::fmt_http_date(now));
            line.0 = second;
        }
        out.extend_from_slice(&line.1);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Parsed {
        parse(text.as_bytes(), Vec::new()).0
    }

    #[test]
    fn a_plain_request_is_taken_with_its_body() {
        let Parsed::Complete(head) = parsed("POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc") else {
            panic!("a plain request");
        };
        assert_eq!((head.method, head.body, head.close), (Method::POST, 3, false));
        assert!(matches!(parsed("GET / HTTP/1.1\r\nHost: x\r\n"), Parsed::Partial));
    }

    #[test]
    fn what_hyper_must_read_is_handed_over() {
        for text in [
            "GET / HTTP/1.0\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
            "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n",
            "CONNECT x:443 HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
        ] {
            assert!(matches!(parsed(text), Parsed::HandOff), "{text:?}");
        }
    }

    #[test]
    fn connection_close_is_seen_in_any_case() {
        let Parsed::Complete(head) = parsed("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n") else {
            panic!("a plain request");
        };
        assert!(head.close);
    }
}
