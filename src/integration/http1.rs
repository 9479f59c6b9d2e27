//! One HTTP/1.1 exchange with a plain-HTTP backend, driven by the request's own task: the
//! request is written to the socket, the response head read and parsed where the request
//! waits, and a body that arrived with its head handed over whole. No connection task, no
//! channel and no wake-up between the request and its backend connection.

use crate::pipeline::method_response::{proxy_header_name, proxy_header_name_of, ProxyName};
use crate::pipeline::{header_names, value_lists, Body, BoxError};
use bytes::{Buf, Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, Method, Request, StatusCode, Version};
use http_body::Body as _;
use http_body_util::BodyExt;
use std::future::Future;
use std::io::ErrorKind::WouldBlock;
use std::io::Write as _;
use std::task::{Context, Poll, Waker};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The most response head (status line and headers) read before giving up.
const MAX_HEAD: usize = 64 * 1024;
/// The most headers in a response head (hyper's default too).
const MAX_HEADERS: usize = 100;
/// The longest chunk-size line, and the most trailer bytes, of a chunked body.
const MAX_CHUNK_LINE: usize = 4096;
const MAX_TRAILERS: usize = 16 * 1024;
/// Request bodies up to this size go out in the same `write` as the head.
const COALESCE: usize = 16 * 1024;
const READ_SIZE: usize = 8 * 1024;

/// A connection to a backend, with what was read from it and not yet used.
pub(crate) struct Connection {
    stream: TcpStream,
    buf: BytesMut,
}

/// How a response body ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Framing {
    /// No body: `HEAD`, 204, 304.
    Empty,
    Length(u64),
    Chunked(Chunk),
    /// Until the backend closes the connection.
    Close,
}

/// Where a chunked body's decoder stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Chunk {
    Size,
    Data(u64),
    /// The line end after a chunk's data.
    DataEnd,
    /// Trailer lines after the last chunk (read and dropped), with the bytes seen so far.
    Trailers(usize),
}

/// How a request's head frames its body, as written by its sender.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Framed {
    /// By a `transfer-encoding` header: the body goes out chunked.
    Chunked,
    /// By a `content-length` header: the body goes out as it is.
    Length,
    /// Not at all: the framing is chosen from the body.
    Not,
}

/// `METHOD target HTTP/1.1` and its line end.
pub(crate) fn request_line(out: &mut Vec<u8>, method: &Method, target: &str) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
}

/// `name: value` and its line end.
pub(crate) fn header_line(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// A parsed response head.
pub(crate) struct Head {
    pub status: StatusCode,
    pub version: Version,
    pub headers: HeaderMap,
    pub framing: Framing,
    /// Whether the connection may carry another exchange after this one.
    pub keep_alive: bool,
}

/// What the body decoder found in the buffer.
pub(crate) enum Step {
    Data(Bytes),
    End,
    /// More bytes are needed.
    More,
}

fn fail(message: &str) -> BoxError {
    message.to_string().into()
}

impl Connection {
    pub(crate) async fn open(host: &str, port: u16) -> std::io::Result<Connection> {
        let stream = TcpStream::connect((host, port)).await?;
        stream.set_nodelay(true)?;
        Ok(Connection { stream, buf: BytesMut::with_capacity(READ_SIZE) })
    }

    /// Whether a kept connection may be used: nothing arrived on it while it was idle (a
    /// backend that closed it sends an end of stream). The runtime's readiness answers
    /// without a system call: reads that drain the socket clear it, and the end of a stream
    /// marks it for good; only when it says readable does one non-blocking read tell.
    pub(crate) fn is_usable(&self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        match self.stream.poll_read_ready(&mut Context::from_waker(Waker::noop())) {
            Poll::Pending => true,
            Poll::Ready(Ok(())) => matches!(self.stream.try_read(&mut [0u8; 1]), Err(e) if e.kind() == WouldBlock),
            Poll::Ready(Err(_)) => false,
        }
    }

    /// Writes the request: its head with the framing hyper would give it (no framing header
    /// for an ended body, `content-length` for a body of known size, otherwise chunked but
    /// for `GET`, `HEAD` and `CONNECT`), then the body as it comes.
    pub(crate) async fn write_request(&mut self, req: Request<Body>) -> Result<(), BoxError> {
        let (parts, body) = req.into_parts();
        let mut out = Vec::with_capacity(256 + parts.headers.len() * 32);
        request_line(&mut out, &parts.method, parts.uri.path_and_query().map_or("/", |p| p.as_str()));
        for (name, value) in &parts.headers {
            header_line(&mut out, name.as_str(), value.as_bytes());
        }
        let framed = if parts.headers.contains_key(TRANSFER_ENCODING) {
            Framed::Chunked
        } else if content_length(&parts.headers)?.is_some() {
            Framed::Length
        } else {
            Framed::Not
        };
        self.write_message(out, &parts.method, body, framed).await
    }

    /// Writes a request whose head the caller wrote up to its framing (`head`: the request
    /// line and headers, without the blank line), framed as [`Self::write_request`] frames
    /// one by `framed`, then its body.
    pub(crate) async fn write_message(
        &mut self,
        mut out: Vec<u8>,
        method: &Method,
        mut body: Body,
        framed: Framed,
    ) -> Result<(), BoxError> {
        let chunked = match framed {
            Framed::Chunked => true,
            Framed::Length => false,
            Framed::Not if body.is_end_stream() => false,
            Framed::Not => {
                if let Some(n) = body.size_hint().exact() {
                    let _ = write!(out, "content-length: {n}\r\n");
                    false
                } else if matches!(*method, Method::GET | Method::HEAD | Method::CONNECT) {
                    // hyper's rule: these almost never carry a body, so none is sent.
                    out.extend_from_slice(b"\r\n");
                    return self.write(&out).await;
                } else {
                    out.extend_from_slice(b"transfer-encoding: chunked\r\n");
                    true
                }
            }
        };
        out.extend_from_slice(b"\r\n");
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame?.into_data() else { continue };
            if data.is_empty() {
                continue;
            }
            if chunked {
                let _ = write!(out, "{:x}\r\n", data.len());
            }
            if out.len() + data.len() <= COALESCE {
                out.extend_from_slice(&data);
            } else {
                self.write(&out).await?;
                out.clear();
                self.write(&data).await?;
            }
            if chunked {
                out.extend_from_slice(b"\r\n");
            }
        }
        if chunked {
            out.extend_from_slice(b"0\r\n\r\n");
        }
        self.write(&out).await
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), BoxError> {
        if !bytes.is_empty() {
            self.stream.write_all(bytes).await?;
        }
        Ok(())
    }

    /// Reads what has arrived into the buffer; false at the end of the stream. (Through
    /// `AsyncRead`, whose short reads clear the socket's readiness: see [`Self::is_usable`].)
    pub(crate) async fn fill(&mut self) -> std::io::Result<bool> {
        std::future::poll_fn(|cx| self.poll_fill(cx)).await
    }

    pub(crate) fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<bool>> {
        self.buf.reserve(READ_SIZE);
        let read = self.stream.read_buf(&mut self.buf);
        std::pin::pin!(read).poll(cx).map_ok(|n| n > 0)
    }

    /// Reads the response head, skipping interim (1xx) responses. `head_request` and the
    /// request's own `Connection: close` bear on the framing and on keeping the connection.
    pub(crate) async fn read_head(
        &mut self,
        head_request: bool,
        close_requested: bool,
        output: &mut HeaderOutput<'_>,
    ) -> Result<Head, BoxError> {
        loop {
            let parsed = loop {
                // Nothing read yet is nothing to parse.
                if !self.buf.is_empty() {
                    if let Some(head) = parse_head(&mut self.buf, head_request, output)? {
                        break head;
                    }
                }
                if self.buf.len() > MAX_HEAD {
                    return Err(fail("the backend's response head is too large"));
                }
                if !self.fill().await? {
                    return Err(fail("the backend closed the connection before the response"));
                }
            };
            if parsed.status.is_informational() {
                if parsed.status == StatusCode::SWITCHING_PROTOCOLS {
                    return Err(fail("the backend switched protocols"));
                }
                continue;
            }
            let mut head = parsed;
            head.keep_alive &= !close_requested && head.framing != Framing::Close;
            return Ok(head);
        }
    }

    /// The next piece of a body from the buffer.
    pub(crate) fn decode(&mut self, framing: &mut Framing) -> Result<Step, BoxError> {
        decode(&mut self.buf, framing)
    }

    pub(crate) fn take_buffered(&mut self, n: usize) -> Bytes {
        self.buf.split_to(n).freeze()
    }

    pub(crate) fn buffered(&self) -> usize {
        self.buf.len()
    }
}

/// The `content-length` of a message; differing values are an error.
fn content_length(headers: &HeaderMap) -> Result<Option<u64>, BoxError> {
    content_length_of(headers.get_all(CONTENT_LENGTH).iter().map(HeaderValue::as_bytes))
}

/// The length the `content-length` values give, if they give one.
fn content_length_of<'a>(mut values: impl Iterator<Item = &'a [u8]>) -> Result<Option<u64>, BoxError> {
    let Some(first) = values.next() else { return Ok(None) };
    let mut found = None;
    for value in std::iter::once(first).chain(values) {
        // The usual case, digits alone, read without splitting.
        if !value.is_empty() && value.len() <= 19 && value.iter().all(u8::is_ascii_digit) {
            let n = value.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0'));
            if found.is_some_and(|f| f != n) {
                return Err(fail("conflicting content-length values"));
            }
            found = Some(n);
            continue;
        }
        let text = header_text(value).ok_or_else(|| fail("invalid content-length"))?;
        for part in text.split(',') {
            let n: u64 = part.trim().parse().map_err(|_| fail("invalid content-length"))?;
            if found.is_some_and(|f| f != n) {
                return Err(fail("conflicting content-length values"));
            }
            found = Some(n);
        }
    }
    Ok(found)
}

/// A header value's bytes as text, by `HeaderValue::to_str`'s rule: visible ASCII and tabs
/// only.
fn header_text(value: &[u8]) -> Option<&str> {
    if value.iter().all(|&b| b == b'\t' || (0x20..0x7f).contains(&b)) {
        std::str::from_utf8(value).ok()
    } else {
        None
    }
}

/// What the gateway does with a backend's response header name: keeps it, gives it another,
/// or (`None`) drops the header.
pub(crate) type Rename = fn(&HeaderName) -> Option<HeaderName>;

/// Where a response head's headers go.
pub(crate) enum HeaderOutput<'a> {
    /// Into the head's map, each under the name `Rename` gives it (as sent without one).
    Map(Option<Rename>),
    /// HTTP_PROXY's: written as `name: value` lines under the proxy's names
    /// ([`proxy_header_name_of`]), with no header name made and none hashed, when the lines are
    /// what the map would give, in its order (see [`write_proxy_lines`]); into the map, with
    /// the proxy's names, otherwise.
    ProxyLines(&'a mut ProxyLines),
}

/// A backend response's headers written as the client's header lines.
#[derive(Default)]
pub(crate) struct ProxyLines {
    pub lines: Vec<u8>,
    /// Whether the last head's headers went into `lines` (not into its map).
    pub written: bool,
    /// Whether they hold a `content-type`.
    pub content_type: bool,
}

impl ProxyLines {
    /// Empties the lines for another response.
    pub fn reset(&mut self) {
        self.lines.clear();
        self.written = false;
    }
}

/// The most headers a head may have to be written as lines (past them, the map's grouping
/// check would cost more than the map).
const MAX_WRITTEN: usize = 32;

/// Writes `headers` under HTTP_PROXY's names into `out`, if that gives the bytes a header
/// map would: a map keeps every value of a name at its first one's place, so a name that comes
/// back after another is refused, as are more than [`MAX_WRITTEN`] headers and the gateway's
/// own `x-amz-apigw-id` (which the gateway's value replaces where it stands). False, with
/// `out` as it was, when refused.
fn write_proxy_lines(headers: &[httparse::Header<'_>], out: &mut ProxyLines) -> bool {
    if headers.len() > MAX_WRITTEN {
        return false;
    }
    let start = out.lines.len();
    let lines = &mut out.lines;
    let mut content_type = false;
    // Where each written name stands in `lines`.
    let mut names = [(0usize, 0usize); MAX_WRITTEN];
    let mut written = 0;
    for h in headers {
        let at = lines.len();
        lines.extend_from_slice(h.name.as_bytes());
        lines[at..].make_ascii_lowercase();
        match proxy_header_name_of(&lines[at..]) {
            ProxyName::Keep => {}
            ProxyName::Drop => {
                lines.truncate(at);
                continue;
            }
            ProxyName::Renamed(to) => {
                lines.truncate(at);
                lines.extend_from_slice(to.as_str().as_bytes());
            }
        }
        let name = &lines[at..];
        let same = |(from, to): (usize, usize)| &lines[from..to] == name;
        let refused = name == header_names::X_AMZ_APIGW_ID.as_str().as_bytes()
            || (written > 0 && !same(names[written - 1]) && names[..written - 1].iter().any(|&span| same(span)));
        if refused {
            lines.truncate(start);
            return false;
        }
        content_type |= name == b"content-type";
        names[written] = (at, lines.len());
        written += 1;
        lines.extend_from_slice(b": ");
        lines.extend_from_slice(h.value);
        lines.extend_from_slice(b"\r\n");
    }
    out.content_type = content_type;
    true
}

/// Parses a response head from the front of `buf`, taking it off; `None` until it is whole.
/// The framing is read from the names as sent; the headers go where `output` says.
fn parse_head(buf: &mut BytesMut, head_request: bool, output: &mut HeaderOutput<'_>) -> Result<Option<Head>, BoxError> {
    // Slots left uninitialised: the parse writes those it fills.
    let mut slots = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let len = match httparse::ParserConfig::default().parse_response_with_uninit_headers(&mut response, buf, &mut slots)
    {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("invalid response from the backend: {e}").into()),
    };
    let status = StatusCode::from_u16(response.code.unwrap_or(0)).map_err(|_| fail("invalid status code"))?;
    let version = if response.version == Some(0) { Version::HTTP_10 } else { Version::HTTP_11 };
    let sent = &*response.headers;
    let values = |name: &'static str| sent.iter().filter(move |h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value);
    let no_body = head_request
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let framing = if no_body {
        Framing::Empty
    } else if let Some(last) = values("transfer-encoding").next_back() {
        // Chunked only when it is the last coding; otherwise the body runs to the close.
        let last = header_text(last).and_then(|s| s.rsplit(',').next());
        match last {
            Some(t) if t.trim().eq_ignore_ascii_case("chunked") => Framing::Chunked(Chunk::Size),
            _ => Framing::Close,
        }
    } else {
        match content_length_of(values("content-length"))? {
            Some(n) => Framing::Length(n),
            None => Framing::Close,
        }
    };
    let connection_lists =
        |token: &str| values("connection").any(|v| header_text(v).is_some_and(|s| value_lists(s.as_bytes(), token)));
    let keep_alive = match version {
        Version::HTTP_10 => connection_lists("keep-alive"),
        _ => !connection_lists("close"),
    };
    let rename = match output {
        HeaderOutput::Map(rename) => *rename,
        HeaderOutput::ProxyLines(out) => {
            // An interim head's headers are dropped: they go to a map, never before the final
            // one's.
            if !status.is_informational() {
                out.written = write_proxy_lines(sent, out);
                if out.written {
                    buf.advance(len);
                    return Ok(Some(Head { status, version, headers: HeaderMap::new(), framing, keep_alive }));
                }
            }
            Some(proxy_header_name as Rename)
        }
    };
    // Header values are shared with the head's bytes, not copied.
    let raw: Vec<(HeaderName, std::ops::Range<usize>)> = {
        let base = buf.as_ptr() as usize;
        let mut raw = Vec::with_capacity(sent.len());
        for h in sent {
            let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| fail("invalid header name"))?;
            let start = h.value.as_ptr() as usize - base;
            raw.push((name, start..start + h.value.len()));
        }
        raw
    };
    let bytes = buf.split_to(len).freeze();
    // Room for what the gateway adds on the way to the client (its ids, `Connection`): a
    // map grown then costs a second allocation and a rehash.
    let mut headers = HeaderMap::with_capacity(raw.len() + 4);
    let mut last: Option<(HeaderName, Option<HeaderName>)> = None;
    for (name, range) in &raw {
        let value =
            HeaderValue::from_maybe_shared(bytes.slice(range.clone())).map_err(|_| fail("invalid header value"))?;
        let Some(rename) = rename else {
            headers.append(name, value);
            continue;
        };
        // A name repeated in a row is looked up once.
        if last.as_ref().is_none_or(|(n, _)| n != name) {
            last = Some((name.clone(), rename(name)));
        }
        if let Some((_, Some(to))) = &last {
            headers.append(to, value);
        }
    }
    Ok(Some(Head { status, version, headers, framing, keep_alive }))
}

/// What the buffer holds of the `left` bytes still owed, taken off its front.
fn take_up_to(buf: &mut BytesMut, left: &mut u64) -> Step {
    if buf.is_empty() {
        return Step::More;
    }
    let n = (*left).min(buf.len() as u64) as usize;
    *left -= n as u64;
    Step::Data(buf.split_to(n).freeze())
}

/// The next piece of a body from the front of `buf`, advancing `framing`.
fn decode(buf: &mut BytesMut, framing: &mut Framing) -> Result<Step, BoxError> {
    loop {
        match framing {
            Framing::Empty | Framing::Length(0) => return Ok(Step::End),
            Framing::Length(left) => return Ok(take_up_to(buf, left)),
            Framing::Close => {
                if buf.is_empty() {
                    return Ok(Step::More);
                }
                return Ok(Step::Data(buf.split().freeze()));
            }
            Framing::Chunked(chunk) => match chunk {
                Chunk::Size => {
                    let Some(end) = memchr::memchr(b'\n', buf) else {
                        if buf.len() > MAX_CHUNK_LINE {
                            return Err(fail("invalid chunk size line"));
                        }
                        return Ok(Step::More);
                    };
                    let line = std::str::from_utf8(&buf[..end]).map_err(|_| fail("invalid chunk size line"))?;
                    let digits = line.split(';').next().unwrap_or("").trim();
                    let size = u64::from_str_radix(digits, 16).map_err(|_| fail("invalid chunk size"))?;
                    buf.advance(end + 1);
                    *chunk = if size == 0 { Chunk::Trailers(0) } else { Chunk::Data(size) };
                }
                Chunk::Data(left) => {
                    let step = take_up_to(buf, left);
                    if *left == 0 {
                        *chunk = Chunk::DataEnd;
                    }
                    return Ok(step);
                }
                Chunk::DataEnd => match buf.first() {
                    None => return Ok(Step::More),
                    Some(b'\n') => {
                        buf.advance(1);
                        *chunk = Chunk::Size;
                    }
                    Some(b'\r') => match buf.get(1) {
                        None => return Ok(Step::More),
                        Some(b'\n') => {
                            buf.advance(2);
                            *chunk = Chunk::Size;
                        }
                        Some(_) => return Err(fail("invalid chunk end")),
                    },
                    Some(_) => return Err(fail("invalid chunk end")),
                },
                Chunk::Trailers(seen) => {
                    let Some(end) = memchr::memchr(b'\n', buf) else {
                        if *seen + buf.len() > MAX_TRAILERS {
                            return Err(fail("chunked trailers too large"));
                        }
                        return Ok(Step::More);
                    };
                    let blank = buf[..end].iter().all(|&b| b == b'\r');
                    *seen += end + 1;
                    buf.advance(end + 1);
                    if blank {
                        *framing = Framing::Empty;
                    } else if *seen > MAX_TRAILERS {
                        return Err(fail("chunked trailers too large"));
                    }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(wire: &[u8], mut framing: Framing) -> Result<(Vec<u8>, Vec<u8>), BoxError> {
        let mut buf = BytesMut::from(wire);
        let mut out = Vec::new();
        loop {
            match decode(&mut buf, &mut framing)? {
                Step::Data(d) => out.extend_from_slice(&d),
                Step::End => return Ok((out, buf.to_vec())),
                Step::More => return Err(fail("incomplete")),
            }
        }
    }

    #[test]
    fn chunked_bodies_decode_with_extensions_trailers_and_bare_line_feeds() {
        let wire = b"5;ext=1\r\nhello\r\n1\n \n0\r\nx-trailer: 1\r\n\r\nNEXT";
        let (body, rest) = body_of(wire, Framing::Chunked(Chunk::Size)).unwrap();
        assert_eq!(body, b"hello ");
        assert_eq!(rest, b"NEXT", "what follows the body stays for the next response");
    }

    #[test]
    fn malformed_chunks_are_errors() {
        for wire in [&b"zz\r\nab\r\n0\r\n\r\n"[..], b"2\r\nabX\r\n0\r\n\r\n"] {
            assert!(body_of(wire, Framing::Chunked(Chunk::Size)).is_err(), "{:?}", String::from_utf8_lossy(wire));
        }
    }

    #[test]
    fn a_chunked_body_split_anywhere_decodes_the_same() {
        let wire = b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        for cut in 0..wire.len() {
            let mut framing = Framing::Chunked(Chunk::Size);
            let mut buf = BytesMut::from(&wire[..cut]);
            let mut out = Vec::new();
            let mut rest = &wire[cut..];
            loop {
                match decode(&mut buf, &mut framing).unwrap() {
                    Step::Data(d) => out.extend_from_slice(&d),
                    Step::End => break,
                    Step::More => {
                        assert!(!rest.is_empty(), "cut at {cut}: wants more after the whole body");
                        buf.extend_from_slice(&rest[..1]);
                        rest = &rest[1..];
                    }
                }
            }
            assert_eq!(out, b"abcde", "cut at {cut}");
        }
    }

    #[test]
    fn heads_give_framing_and_keep_alive() {
        let cases: &[(&[u8], bool, Framing, bool)] = &[
            (b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc", false, Framing::Length(3), true),
            (b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n", true, Framing::Empty, true),
            (b"HTTP/1.1 204 No Content\r\n\r\n", false, Framing::Empty, true),
            (b"HTTP/1.1 304 Not Modified\r\ncontent-length: 9\r\n\r\n", false, Framing::Empty, true),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                false,
                Framing::Chunked(Chunk::Size),
                true,
            ),
            (b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n", false, Framing::Close, true),
            (b"HTTP/1.1 200 OK\r\n\r\n", false, Framing::Close, true),
            (b"HTTP/1.1 200 OK\r\nConnection: Close\r\ncontent-length: 0\r\n\r\n", false, Framing::Length(0), false),
            (b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n", false, Framing::Length(0), false),
            // A value that is not visible ASCII is not read as text, as `HeaderValue::to_str`.
            (
                b"HTTP/1.1 200 OK\r\nConnection: \xc3\xa9, close\r\ncontent-length: 0\r\n\r\n",
                false,
                Framing::Length(0),
                true,
            ),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: \xc3\xa9, chunked\r\n\r\n", false, Framing::Close, true),
            (
                b"HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n",
                false,
                Framing::Length(0),
                true,
            ),
        ];
        for (wire, head_request, framing, keep_alive) in cases {
            let mut buf = BytesMut::from(*wire);
            let head = parse_head(&mut buf, *head_request, &mut HeaderOutput::Map(None)).unwrap().unwrap();
            let text = String::from_utf8_lossy(wire);
            assert_eq!(head.framing, *framing, "{text}");
            assert_eq!(head.keep_alive, *keep_alive, "{text}");
        }
    }

    #[test]
    fn renamed_heads_are_framed_by_the_names_as_sent() {
        let rename = Some(crate::pipeline::method_response::proxy_header_name as Rename);
        let wire: &[u8] = b"HTTP/1.1 200 OK\r\nServer: one\r\nContent-Length: 3\r\nx-a: 1\r\nServer: two\r\n\
            Connection: close\r\nVia: 1.1 x\r\n\r\nabc";
        let head = parse_head(&mut BytesMut::from(wire), false, &mut HeaderOutput::Map(rename)).unwrap().unwrap();
        assert_eq!(head.framing, Framing::Length(3));
        assert!(!head.keep_alive, "read from `Connection` before it is renamed");
        let names: Vec<_> = head.headers.iter().map(|(n, v)| format!("{n}={}", v.to_str().unwrap())).collect();
        assert_eq!(
            names,
            [
                "x-amzn-remapped-server=one",
                "x-amzn-remapped-server=two",
                "x-amzn-remapped-content-length=3",
                "x-a=1",
                "x-amzn-remapped-connection=close"
            ]
        );
        let chunked: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        let head = parse_head(&mut BytesMut::from(chunked), false, &mut HeaderOutput::Map(rename)).unwrap().unwrap();
        assert_eq!(head.framing, Framing::Chunked(Chunk::Size));
        assert!(head.headers.is_empty(), "transfer-encoding is dropped");
    }

    #[test]
    fn conflicting_lengths_and_partial_heads() {
        let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n"[..]);
        assert!(parse_head(&mut buf, false, &mut HeaderOutput::Map(None)).is_err());
        let lengths: &[(&str, Option<u64>)] = &[
            ("7", Some(7)),
            ("0042", Some(42)),
            (" 42 ", Some(42)),
            ("42, 42", Some(42)),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("4 2", None),
            ("-1", None),
            ("42, 43", None),
        ];
        for (value, length) in lengths {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_LENGTH, HeaderValue::from_str(value).unwrap());
            assert_eq!(content_length(&headers).ok().flatten(), *length, "{value:?}");
        }
        let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\ncontent-le"[..]);
        assert!(parse_head(&mut buf, false, &mut HeaderOutput::Map(None)).unwrap().is_none());
        assert_eq!(buf.len(), 27, "a partial head stays in the buffer");
    }

    /// The lines a map of the proxy's names gives, as the server writes them.
    fn map_lines(wire: &[u8]) -> (Vec<u8>, bool) {
        let rename = Some(proxy_header_name as Rename);
        let head = parse_head(&mut BytesMut::from(wire), false, &mut HeaderOutput::Map(rename)).unwrap().unwrap();
        let mut lines = Vec::new();
        for (name, value) in &head.headers {
            header_line(&mut lines, name.as_str(), value.as_bytes());
        }
        (lines, head.headers.contains_key(http::header::CONTENT_TYPE))
    }

    #[test]
    fn proxy_lines_are_the_lines_of_the_map_or_are_not_written() {
        let many: String = (0..40).map(|i| format!("x-{i}: {i}\r\n")).collect();
        let many = format!("HTTP/1.1 200 OK\r\n{many}\r\n");
        let cases: &[(&[u8], bool)] = &[
            (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nDate: x\r\n\r\nok", true),
            (b"HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\nX-B: 3\r\nServer: s\r\nVia: v\r\nKeep-Alive: k\r\n\r\n", true),
            (b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n", true),
            (b"HTTP/1.1 200 OK\r\nx-amzn-RequestId: r\r\nX-Amzn-Remapped-X-Amzn-RequestId: s\r\n\r\n", true),
            (b"HTTP/1.1 204 No Content\r\n\r\n", true),
            // A name back after another, its own or through a rename: the map groups them.
            (b"HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: 2\r\nX-A: 3\r\n\r\n", false),
            (b"HTTP/1.1 200 OK\r\nDate: d\r\nX-B: 2\r\nx-amzn-remapped-date: e\r\n\r\n", false),
            (b"HTTP/1.1 200 OK\r\nServer: one\r\nVia: v\r\nServer: two\r\n\r\n", true),
            (b"HTTP/1.1 200 OK\r\nx-amz-apigw-id: theirs\r\n\r\n", false),
            (many.as_bytes(), false),
        ];
        for (wire, written) in cases {
            let text = String::from_utf8_lossy(wire);
            let mut out = ProxyLines::default();
            let head = parse_head(&mut BytesMut::from(*wire), false, &mut HeaderOutput::ProxyLines(&mut out));
            let head = head.unwrap().unwrap();
            assert_eq!(out.written, *written, "{text}");
            let (lines, content_type) = map_lines(wire);
            if out.written {
                assert!(head.headers.is_empty(), "{text}");
                assert_eq!(String::from_utf8_lossy(&out.lines), String::from_utf8_lossy(&lines), "{text}");
                assert_eq!(out.content_type, content_type, "{text}");
            } else {
                assert!(out.lines.is_empty(), "{text}");
                let mut from_map = Vec::new();
                for (name, value) in &head.headers {
                    header_line(&mut from_map, name.as_str(), value.as_bytes());
                }
                assert_eq!(from_map, lines, "{text}");
            }
        }
    }
}
