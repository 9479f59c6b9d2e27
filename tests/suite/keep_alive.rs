//! Idle keep-alive connections give hyper's buffers back and are taken up again when the client
//! speaks: the same connection keeps serving after a quiet spell, pipelined requests are all
//! answered, and neither a slow backend nor a slowly streamed response counts as quiet.

use crate::common;

use bytes::Bytes;
use common::backend::Backend;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn portico_to(backend: &str) -> portico::server::Running {
    common::portico(&format!(
        "restApi: {{name: keepalive}}\nresources:\n  - path: /{{proxy+}}\n    resourceMethods:\n      ANY:\n        requestParameters: {{method.request.path.proxy: true}}\n        methodIntegration: {{type: HTTP_PROXY, httpMethod: ANY, uri: '{backend}/{{proxy}}', requestParameters: {{integration.request.path.proxy: method.request.path.proxy}}}}\n"
    ))
    .await
}

/// One client connection; every request goes over it, so a closed connection fails the test.
async fn connection(addr: std::net::SocketAddr) -> hyper::client::conn::http1::SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    sender
}

async fn get(sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>, path: &str) -> (u16, String, String) {
    sender.ready().await.expect("the connection is still open");
    let req = http::Request::get(path).header("host", "localhost").body(Empty::new()).unwrap();
    let resp = sender.send_request(req).await.expect("answered on the same connection");
    let status = resp.status().as_u16();
    let connection = resp.headers().get("connection").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, connection, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn a_quiet_connection_serves_again() {
    let backend = Backend::start().await;
    let server = portico_to(&backend.url()).await;
    let mut conn = connection(server.addr).await;
    let (status, connection, _) = get(&mut conn, "/status/200").await;
    assert_eq!((status, connection.as_str()), (200, "keep-alive"));
    // Long enough for the connection to be released from hyper and parked.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let gateway = &server.gateway;
    assert_eq!(gateway.idle_releases.load(Relaxed), 1, "the quiet connection was released");
    assert_eq!(gateway.parked_connections.load(Relaxed), 1, "and waits without buffers");
    for _ in 0..3 {
        let (status, connection, _) = get(&mut conn, "/status/201").await;
        assert_eq!((status, connection.as_str()), (201, "keep-alive"));
    }
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(gateway.idle_releases.load(Relaxed), 2);
    assert_eq!(get(&mut conn, "/status/202").await.0, 202);
    assert_eq!(gateway.parked_connections.load(Relaxed), 0, "serving again");
    server.shutdown().await;
}

#[tokio::test]
async fn a_slow_backend_is_not_quiet() {
    let backend = Backend::start().await;
    let server = portico_to(&backend.url()).await;
    let mut conn = connection(server.addr).await;
    let (status, connection, _) = get(&mut conn, "/sleep/1800").await;
    assert_eq!((status, connection.as_str()), (200, "keep-alive"));
    assert_eq!(server.gateway.idle_releases.load(Relaxed), 0, "a request in flight is not quiet");
    assert_eq!(get(&mut conn, "/status/200").await.0, 200);
    server.shutdown().await;
}

/// A backend that streams its body in three chunks, 1.2 s apart.
async fn trickling_backend() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                loop {
                    let n = s.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    let _ = s
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n")
                        .await;
                    for part in ["one,", "two,", "three"] {
                        let _ = s.write_all(format!("{:x}\r\n{part}\r\n", part.len()).as_bytes()).await;
                        tokio::time::sleep(Duration::from_millis(1200)).await;
                    }
                    let _ = s.write_all(b"0\r\n\r\n").await;
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_slowly_streamed_response_is_not_quiet() {
    let backend = trickling_backend().await;
    let server = portico_to(&backend).await;
    let mut conn = connection(server.addr).await;
    let (status, _, body) = get(&mut conn, "/stream").await;
    assert_eq!((status, body.as_str()), (200, "one,two,three"));
    assert_eq!(server.gateway.idle_releases.load(Relaxed), 0, "a response being written is not quiet");
    let (status, _, body) = get(&mut conn, "/again").await;
    assert_eq!((status, body.as_str()), (200, "one,two,three"));
    server.shutdown().await;
}

#[tokio::test]
async fn pipelined_requests_are_all_answered_after_a_quiet_spell() {
    let backend = Backend::start().await;
    let server = portico_to(&backend.url()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(b"GET /status/200 HTTP/1.1\r\nHost: a\r\n\r\n").await.unwrap();
    assert!(read_answer(&mut stream).await.starts_with("HTTP/1.1 200"));
    tokio::time::sleep(Duration::from_millis(1600)).await;
    stream
        .write_all(b"GET /status/201 HTTP/1.1\r\nHost: a\r\n\r\nGET /status/202 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let rest = read_to_close(&mut stream, Duration::from_secs(10)).await;
    let first_at = rest.find("HTTP/1.1 201").expect("the first pipelined request is answered");
    let second_at = rest.find("HTTP/1.1 202").expect("the second pipelined request is answered");
    assert!(first_at < second_at, "{rest}");
    server.shutdown().await;
}

/// Plain requests are answered on the connection's own task and the rest by hyper, on one
/// connection and in order: a chunked body (hyper's), a HEAD (a head only: a body after it
/// would be read as the next response), a request after a quiet spell, and `Connection:
/// close`, answered with `connection: close` and the end of the connection.
#[tokio::test]
async fn plain_and_handed_over_requests_share_a_connection() {
    let backend = Backend::start().await;
    let server = portico_to(&backend.url()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(b"GET /status/200 HTTP/1.1\r\nHost: a\r\n\r\n").await.unwrap();
    let first = read_answer(&mut stream).await;
    assert!(first.starts_with("HTTP/1.1 200 OK\r\n"), "{first}");
    assert!(first.contains("\r\nconnection: keep-alive\r\n") && first.contains("\r\ndate: "), "{first}");
    stream
        .write_all(b"POST /status/201 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        .await
        .unwrap();
    let chunked = read_answer(&mut stream).await;
    assert!(chunked.starts_with("HTTP/1.1 201"), "{chunked}");
    assert_eq!(backend.last().body.as_ref(), b"abc");
    tokio::time::sleep(Duration::from_millis(1600)).await;
    stream
        .write_all(b"HEAD /status/200 HTTP/1.1\r\nHost: a\r\n\r\nGET /status/202 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let rest = read_to_close(&mut stream, Duration::from_secs(5)).await;
    assert!(rest.starts_with("HTTP/1.1 200 OK\r\n"), "{rest}");
    let last = rest.find("HTTP/1.1 202").unwrap_or_else(|| panic!("the request after the HEAD: {rest}"));
    assert!(rest[..last].ends_with("\r\n\r\n"), "nothing follows the HEAD's head: {rest}");
    assert!(rest[last..].contains("\r\nconnection: close\r\n"), "{rest}");
    server.shutdown().await;
}

/// One read's worth of an answer.
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut answer = vec![0u8; 8192];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer)).await.unwrap().unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

/// Requests that arrive in pieces, cut anywhere (inside the request line, a header, the blank
/// line, the body, between two requests), are each answered once and in order.
#[tokio::test]
async fn requests_cut_anywhere_are_answered_in_order() {
    let backend = Backend::start().await;
    let server = portico_to(&backend.url()).await;
    let mut requests = Vec::new();
    for code in [201, 202, 203] {
        requests.extend_from_slice(
            format!("POST /status/{code} HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Note: n{code}\r\n\r\nb{code}\n")
                .as_bytes(),
        );
    }
    requests.extend_from_slice(
        b"POST /status/204 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nb204\n",
    );
    for (round, cut) in [1, 7, 19, 33, 50, 58, 71, 90].into_iter().enumerate() {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let mut at = 0;
        while at < requests.len() {
            let end = (at + cut).min(requests.len());
            stream.write_all(&requests[at..end]).await.unwrap();
            stream.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(2)).await;
            at = end;
        }
        let answers = read_to_close(&mut stream, Duration::from_secs(10)).await;
        let at: Vec<usize> = ["HTTP/1.1 201", "HTTP/1.1 202", "HTTP/1.1 203", "HTTP/1.1 204"]
            .iter()
            .map(|s| answers.find(s).unwrap_or_else(|| panic!("cut every {cut} bytes, no {s}: {answers}")))
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "cut every {cut} bytes: {answers}");
        assert_eq!(answers.matches("HTTP/1.1 ").count(), 4, "cut every {cut} bytes: {answers}");
        assert_eq!(backend.count(), 4 * (round + 1), "each request reached the backend once");
        assert_eq!(backend.last().body.as_ref(), b"b204\n", "the last body whole");
    }
    server.shutdown().await;
}

/// Everything the server sends until it closes the connection, which it must do `within`.
async fn read_to_close(stream: &mut TcpStream, within: Duration) -> String {
    let mut answers = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut answers)).await.unwrap().unwrap();
    String::from_utf8_lossy(&answers).into_owned()
}

/// A request the parser refuses (a space in a header name: hyper's to answer) and one whose
/// target is no URI (`http://[::1`, refused after parsing) are both answered 400 Bad Request,
/// and the connection ends.
#[tokio::test]
async fn malformed_requests_are_answered_400_and_the_connection_ends() {
    let backend = Backend::start().await;
    let server = portico_to(&backend.url()).await;
    for request in
        [&b"GET /status/200 HTTP/1.1\r\nBad Header: x\r\n\r\n"[..], b"GET http://[::1 HTTP/1.1\r\nHost: a\r\n\r\n"]
    {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(request).await.unwrap();
        let answer = read_to_close(&mut stream, Duration::from_secs(10)).await;
        assert!(answer.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{answer}");
        assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "{answer}");
    }
    assert_eq!(backend.count(), 0, "neither reached the backend");
    server.shutdown().await;
}

/// A stop reaches a connection waiting for its next request: it is closed at once, and the
/// server finishes stopping well before its drain timeout.
#[tokio::test]
async fn waiting_connections_close_when_the_server_stops() {
    let backend = Backend::start().await;
    let server = portico_to(&backend.url()).await;
    let mut answered = TcpStream::connect(server.addr).await.unwrap();
    answered.write_all(b"GET /status/200 HTTP/1.1\r\nHost: a\r\n\r\n").await.unwrap();
    assert!(read_answer(&mut answered).await.starts_with("HTTP/1.1 200"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(5), server.shutdown())
        .await
        .expect("stopped without waiting out the drain");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(read_to_close(&mut answered, Duration::from_secs(1)).await, "", "closed without another answer");
}
