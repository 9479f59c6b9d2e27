//! HTTP_PROXY over the internet: the client's request reaches the backend with only API
//! Gateway's header changes, the backend's answer comes back unchanged (§8.1 aside), and a
//! slow or unreachable backend gets API Gateway's 504s (`runtime.md` §5.2, §6.2, §8.1).

use crate::common;

use common::{backend::Backend, get, portico_json, proxy_method, send};
use serde_json::json;
use std::time::{Duration, Instant};

fn api(backend_url: &str, timeout: u32) -> serde_json::Value {
    let mut greedy = proxy_method(&format!("{backend_url}/{{proxy}}"), &[("proxy", "proxy")]);
    greedy["methodIntegration"]["timeoutInMillis"] = timeout.into();
    json!({
        "restApi": {"name": "proxy", "id": "proxyapi01"},
        "stages": [{"stageName": "v1", "variables": {"backend": backend_url.trim_start_matches("http://")}}],
        "resources": [
            {"path": "/{proxy+}", "resourceMethods": {"ANY": greedy}},
            {"path": "/by-stage-variable", "resourceMethods": {"GET": {
                "methodIntegration": {"type": "HTTP_PROXY", "httpMethod": "GET", "uri": "http://${stageVariables.backend}/from-variable"}
            }}},
            {"path": "/mapped", "resourceMethods": {"GET": {
                "requestParameters": {"method.request.header.x-source": false, "method.request.querystring.q": false},
                "methodIntegration": {
                    "type": "HTTP_PROXY", "httpMethod": "POST", "uri": format!("{backend_url}/mapped?fixed=1"),
                    "requestParameters": {
                        "integration.request.header.x-client": "method.request.header.x-source",
                        "integration.request.querystring.extra": "method.request.querystring.q",
                        "integration.request.header.x-static": "'static value'",
                        "integration.request.header.x-stage": "context.stage"
                    }
                }
            }}}
        ]
    })
}

#[tokio::test]
async fn round_trip_of_verb_path_query_headers_and_binary_body() {
    let backend = Backend::start().await;
    let server = portico_json(api(&backend.url(), 29000)).await;
    let body: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let reply = send(
        "PUT",
        &format!("http://{}/v1/raw?a=1&a=2&b=x%20y&c=%2B", server.addr),
        &[
            ("content-type", "application/octet-stream"),
            ("x-custom", "one"),
            ("user-agent", "test-agent/1.0"),
            ("max-forwards", "3"),
            ("via", "1.1 someproxy"),
        ],
        body.clone(),
    )
    .await;
    let received = backend.last();
    assert_eq!(received.method, "PUT");
    assert_eq!(received.uri, "/raw?a=1&a=2&b=x%20y&c=%2B");
    assert_eq!(received.body.as_ref(), body.as_slice());
    assert_eq!(received.header("x-custom"), Some("one"));
    assert_eq!(received.header("user-agent"), Some("test-agent/1.0"));
    assert_eq!(received.header("content-type"), Some("application/octet-stream"));
    assert_eq!(received.header("host"), Some(backend.addr.to_string().as_str()));
    assert_eq!(received.header("x-amzn-apigateway-api-id"), Some("proxyapi01"));
    assert!(received.header("x-amzn-trace-id").is_some_and(|t| t.starts_with("Root=1-")));
    assert!(received.header("max-forwards").is_none());
    assert!(received.header("via").is_none());

    assert_eq!(reply.status, 200);
    assert_eq!(reply.body.as_ref(), body.as_slice());
    assert_eq!(reply.header("content-type"), Some("application/octet-stream"));
    assert_eq!(reply.header("x-backend"), Some("echo"));
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(reply.header("x-amzn-Remapped-Server"), Some("echo-backend"));
    assert_eq!(reply.header("x-amzn-Remapped-x-amzn-RequestId"), Some("backend-id"));
    assert!(reply.header("x-amzn-Remapped-Date").is_some());
    assert!(reply.header("server").is_none());
    let id = reply.header("x-amzn-RequestId").unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    assert!(reply.header("x-amzn-trace-id").is_none(), "HTTP_PROXY responses carry no trace id");
    server.shutdown().await;
}

#[tokio::test]
async fn backend_status_is_returned_unchanged() {
    let backend = Backend::start().await;
    let server = portico_json(api(&backend.url(), 29000)).await;
    for status in [201u16, 302, 404, 418, 500, 503] {
        let reply = send("DELETE", &format!("http://{}/v1/status/{status}", server.addr), &[], "").await;
        assert_eq!(reply.status.as_u16(), status);
        assert_eq!(backend.last().method, "DELETE");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn stage_variables_and_mappings_shape_the_backend_request() {
    let backend = Backend::start().await;
    let server = portico_json(api(&backend.url(), 29000)).await;
    let reply = get(&format!("http://{}/v1/by-stage-variable", server.addr)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(backend.last().uri, "/from-variable");

    let reply = send(
        "GET",
        &format!("http://{}/v1/mapped?q=hello%20world&q=last&own=1", server.addr),
        &[("x-source", "from-client"), ("x-client", "overridden")],
        "",
    )
    .await;
    assert_eq!(reply.status, 200);
    let received = backend.last();
    assert_eq!(received.method, "POST", "the integration's httpMethod is used");
    assert_eq!(received.uri, "/mapped?fixed=1&q=hello%20world&q=last&own=1&extra=last");
    assert_eq!(received.header("x-client"), Some("from-client"), "a mapped header overrides the client's");
    assert_eq!(received.header("x-static"), Some("static value"));
    assert_eq!(received.header("x-stage"), Some("v1"));
    server.shutdown().await;
}

#[tokio::test]
async fn slow_backend_gets_504_endpoint_request_timed_out() {
    let backend = Backend::start().await;
    let server = portico_json(api(&backend.url(), 200)).await;
    let started = Instant::now();
    let reply = get(&format!("http://{}/v1/sleep/3000", server.addr)).await;
    assert!(started.elapsed() < Duration::from_millis(2000), "answered at the timeout, not after the backend");
    assert_eq!(reply.status, 504);
    assert_eq!(reply.text(), r#"{"message": "Endpoint request timed out"}"#);
    assert_eq!(reply.header("x-amzn-ErrorType"), Some("InternalServerErrorException"));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    // A fast request right after is not disturbed.
    assert_eq!(get(&format!("http://{}/v1/fast", server.addr)).await.status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn unreachable_backend_gets_504_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = listener.local_addr().unwrap();
    drop(listener);
    let server = portico_json(api(&format!("http://{closed}"), 29000)).await;
    let reply = get(&format!("http://{}/v1/anything", server.addr)).await;
    assert_eq!(reply.status, 504);
    assert_eq!(reply.text(), r#"{"message": "Network error communicating with endpoint"}"#);
    assert_eq!(reply.body.len(), 56);
    assert_eq!(reply.header("x-amzn-ErrorType"), Some("InternalServerErrorException"));
    server.shutdown().await;
}

#[tokio::test]
async fn backend_that_drops_the_connection_gets_504_network_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                break;
            };
            drop(stream);
        }
    });
    let server = portico_json(api(&format!("http://{addr}"), 29000)).await;
    let reply = send("POST", &format!("http://{}/v1/x", server.addr), &[], "payload").await;
    assert_eq!(reply.status, 504);
    assert_eq!(reply.text(), r#"{"message": "Network error communicating with endpoint"}"#);
    server.shutdown().await;
}

/// Backend connections are kept alive and reused: one after another, requests share one
/// connection; requests in flight together each have their own.
#[tokio::test]
async fn backend_connections_are_kept_and_reused() {
    let backend = Backend::start().await;
    let server = portico_json(api(&backend.url(), 29000)).await;
    for i in 0..5 {
        let reply = send("POST", &format!("http://{}/v1/echo/{i}", server.addr), &[], format!("body {i}")).await;
        assert_eq!(reply.status, 200);
        assert_eq!(backend.last().body, format!("body {i}").as_bytes());
    }
    assert_eq!(backend.count(), 5);
    assert_eq!(backend.connections(), 1, "five requests in turn over one backend connection");

    let together: Vec<_> =
        (0..4).map(|i| tokio::spawn(get(format!("http://{}/v1/sleep/{}", server.addr, 100 + i).leak()))).collect();
    for reply in together {
        assert_eq!(reply.await.unwrap().status, 200);
    }
    assert!(backend.connections() >= 4, "requests in flight together each have a connection");
    assert!(backend.connections() <= 5);
    server.shutdown().await;
}

/// A backend written by hand: on every connection it reads request heads (bodyless requests
/// only) and writes `reply` to each, `piece` bytes at a time with a pause between (all at once
/// for `usize::MAX`), up to `per_connection` of them, then closes. Returns its address and how
/// many connections it accepted.
async fn raw_backend(
    reply: &'static [u8],
    per_connection: usize,
    piece: usize,
) -> (std::net::SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0; 4096];
                let mut head = Vec::new();
                for _ in 0..per_connection {
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        let Ok(n @ 1..) = stream.read(&mut buf).await else { return };
                        head.extend_from_slice(&buf[..n]);
                    }
                    head.clear();
                    for part in reply.chunks(piece.min(reply.len()).max(1)) {
                        if stream.write_all(part).await.is_err() {
                            return;
                        }
                        if piece < reply.len() {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                    }
                }
            });
        }
    });
    (addr, accepted)
}

/// `requests` requests of `method` through Portico to a [`raw_backend`]: the answers, and how
/// many connections the backend accepted.
async fn through_raw_backend(
    reply: &'static [u8],
    per_connection: usize,
    piece: usize,
    method: &str,
    requests: usize,
) -> (Vec<common::Reply>, usize) {
    let (addr, accepted) = raw_backend(reply, per_connection, piece).await;
    let server = portico_json(api(&format!("http://{addr}"), 29000)).await;
    let mut answers = Vec::new();
    for _ in 0..requests {
        answers.push(send(method, &format!("http://{}/v1/x", server.addr), &[], "").await);
    }
    server.shutdown().await;
    (answers, accepted.load(std::sync::atomic::Ordering::SeqCst))
}

/// A kept connection the backend has closed meanwhile is not used: the request goes out on a
/// new one and succeeds.
#[tokio::test]
async fn a_kept_connection_the_backend_closed_is_replaced() {
    // One answer per connection, which looks kept alive and is then closed.
    let reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
    let (addr, accepted) = raw_backend(reply, 1, usize::MAX).await;
    let server = portico_json(api(&format!("http://{addr}"), 29000)).await;
    for _ in 0..3 {
        let reply = get(&format!("http://{}/v1/once", server.addr)).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.text(), "ok");
        // Time for the gateway to see the close before the next request.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 3);
    server.shutdown().await;
}

/// A chunked response (no length given) returns its connection once its last chunk is read.
#[tokio::test]
async fn a_chunked_response_keeps_its_connection() {
    let reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    let (answers, connections) = through_raw_backend(reply, usize::MAX, usize::MAX, "GET", 3).await;
    assert!(answers.iter().all(|a| a.status == 200 && a.text() == "abcde"));
    assert_eq!(connections, 1);
}

/// A response without a length runs to the close of its connection, which is then not kept.
#[tokio::test]
async fn a_response_ended_by_the_close_of_its_connection() {
    let reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close";
    let (answers, connections) = through_raw_backend(reply, 1, usize::MAX, "GET", 2).await;
    assert!(answers.iter().all(|a| a.status == 200 && a.text() == "until the close"));
    assert_eq!(connections, 2);
}

/// Answers that carry no body whatever their headers say (to `HEAD`, 204, 304) end at their
/// head, and the connection carries on.
#[tokio::test]
async fn bodiless_answers_end_at_their_head() {
    let cases: [(&str, &'static [u8], u16); 3] = [
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 200),
        ("GET", b"HTTP/1.1 204 No Content\r\n\r\n", 204),
        ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", 304),
    ];
    for (method, reply, status) in cases {
        let (answers, connections) = through_raw_backend(reply, usize::MAX, usize::MAX, method, 3).await;
        assert!(answers.iter().all(|a| a.status.as_u16() == status && a.body.is_empty()), "{method} -> {status}");
        assert_eq!(connections, 1, "{method} -> {status}");
    }
}

/// Interim `100 Continue` answers are passed over; an HTTP/1.0 answer without keep-alive and
/// one saying `Connection: close` end their connection; an answer arriving a few bytes at a
/// time (its head split anywhere) is put together whole.
#[tokio::test]
async fn interim_answers_pieces_and_connections_the_backend_ends() {
    let cases: [(&'static [u8], usize, usize); 4] = [
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", usize::MAX, 1),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", usize::MAX, 3),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", usize::MAX, 3),
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok", 3, 1),
    ];
    for (reply, piece, expected) in cases {
        let (answers, connections) = through_raw_backend(reply, usize::MAX, piece, "GET", 3).await;
        let text = String::from_utf8_lossy(reply);
        assert!(answers.iter().all(|a| a.status == 200 && a.text() == "ok"), "{text}");
        assert_eq!(connections, expected, "{text}");
    }
}

/// A client's chunked upload (no length known) reaches the backend whole, chunked on.
#[tokio::test]
async fn a_chunked_upload_is_forwarded_whole() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let backend = Backend::start().await;
    let server = portico_json(api(&backend.url(), 29000)).await;
    let mut client = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    client
        .write_all(
            b"POST /v1/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
              5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    client.read_to_end(&mut answer).await.unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
    let received = backend.last();
    assert_eq!(received.body.as_ref(), b"hello world");
    assert_eq!(received.header("transfer-encoding"), Some("chunked"));
    server.shutdown().await;
}

/// A backend answering something other than HTTP is a network error, as a dropped
/// connection is, not a hang.
#[tokio::test]
async fn a_backend_answering_garbage_is_an_integration_failure() {
    let (addr, _) = raw_backend(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", 1, usize::MAX).await;
    let server = portico_json(api(&format!("http://{addr}"), 2000)).await;
    let reply = get(&format!("http://{}/v1/x", server.addr)).await;
    assert_eq!(reply.status, 504);
    assert_eq!(reply.text(), r#"{"message": "Network error communicating with endpoint"}"#);
    server.shutdown().await;
}

/// A backend that sends the head and then stalls part-way through the body does not hold the
/// client for ever: at the integration's timeout the gateway ends the connection short of
/// the body's end (the status has gone out already).
#[tokio::test]
async fn a_body_stalled_past_the_timeout_ends_the_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (addr, _) = raw_backend(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", usize::MAX, usize::MAX).await;
    let server = portico_json(api(&format!("http://{addr}"), 500)).await;
    let mut client = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    client.write_all(b"GET /v1/stalls HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the connection was still open after 10 s");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let body_start = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(answer.len() - body_start < 10, "the body is cut short: {text}");
    assert!(started.elapsed() >= Duration::from_millis(400), "ended at the deadline, not before");
    assert!(started.elapsed() < Duration::from_secs(5));
    server.shutdown().await;
}

/// The length of the request head at the front of `buf`, read from `stream` until it is
/// whole; `None` when the client leaves first.
async fn head_length(stream: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Option<usize> {
    loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(at + 4);
        }
        read_more(stream, buf).await?;
    }
}

/// Appends what `stream` gives next to `buf`; `None` at its end.
async fn read_more(stream: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    use tokio::io::AsyncReadExt;
    let mut chunk = [0; 4096];
    let n = stream.read(&mut chunk).await.ok().filter(|&n| n > 0)?;
    buf.extend_from_slice(&chunk[..n]);
    Some(())
}

/// A backend that records each request's bytes as they arrive (head and a `content-length`
/// body) and answers every one with a fixed response, bodiless for `HEAD`.
async fn recording_backend() -> (std::net::SocketAddr, std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>) {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = log.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let Some(head_end) = head_length(&mut stream, &mut buf).await else { return };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    while buf.len() < head_end + length {
                        if read_more(&mut stream, &mut buf).await.is_none() {
                            return;
                        }
                    }
                    let request: Vec<u8> = buf.drain(..head_end + length).collect();
                    let head_request = request.starts_with(b"HEAD ");
                    log.lock().unwrap().push(request);
                    let reply: &[u8] = if head_request {
                        b"HTTP/1.1 200 OK\r\nServer: raw\r\nContent-Length: 2\r\nX-Thing: a\r\nX-Thing: b\r\n\r\n"
                    } else {
                        b"HTTP/1.1 200 OK\r\nServer: raw\r\nContent-Length: 2\r\nX-Thing: a\r\nX-Thing: b\r\n\r\nok"
                    };
                    if stream.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, recorded)
}

/// A backend named outright has its requests' heads written straight from the client's; one
/// whose host comes from a stage variable goes the general way (a header map, a parsed URI).
/// Both must send the backend the same bytes and give the client the same answer.
#[tokio::test]
async fn heads_written_directly_are_those_of_the_general_path() {
    let (addr, recorded) = recording_backend().await;
    let direct = proxy_method(&format!("http://{addr}/{{proxy}}"), &[("proxy", "proxy")]);
    let general = proxy_method("http://${stageVariables.backend}/{proxy}", &[("proxy", "proxy")]);
    let doc = json!({
        "restApi": {"name": "proxy", "id": "proxyapi01"},
        "stages": [{"stageName": "v1", "variables": {"backend": addr.to_string()}}],
        "resources": [
            {"path": "/direct/{proxy+}", "resourceMethods": {"ANY": direct}},
            {"path": "/general/{proxy+}", "resourceMethods": {"ANY": general}}
        ]
    });
    let server = portico_json(doc).await;
    const COMPLETE: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    type Case = (&'static str, &'static str, &'static [(&'static str, &'static str)], &'static str);
    let cases: &[Case] = &[
        (
            "GET",
            "a/b?x=1&x=2&y=%20z",
            &[
                ("user-agent", "agent/1"),
                ("x-custom", "one"),
                ("accept", "*/*"),
                ("x-custom", "two"),
                ("x-amzn-trace-id", COMPLETE),
                ("x-amzn-apigateway-api-id", "from-the-client"),
                ("via", "1.1 other"),
                ("max-forwards", "4"),
                ("keep-alive", "timeout=5"),
                ("te", "trailers"),
                ("content-md5", "x"),
                ("proxy-connection", "keep-alive"),
            ],
            "",
        ),
        ("POST", "items", &[("content-type", "text/plain"), ("x-amzn-trace-id", COMPLETE)], "hello"),
        ("PUT", "items/%C3%A9t%C3%A9", &[("x-amzn-trace-id", COMPLETE)], ""),
        ("HEAD", "items?", &[("x-amzn-trace-id", COMPLETE)], ""),
        ("DELETE", "a%2Fb/c", &[], ""),
        ("PATCH", "x", &[("x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793")], "{}"),
    ];
    // A trace header the gateway made (no complete one from the client) differs by its random
    // part: compared by its shape.
    let normalized = |request: &[u8]| -> String {
        let text = String::from_utf8_lossy(request).into_owned();
        let lines: Vec<String> = text
            .split("\r\n")
            .map(|line| match line.strip_prefix("x-amzn-trace-id: ") {
                Some(v) if v != COMPLETE => {
                    assert!(v.starts_with("Root=1-") && v.contains(";Parent=") && v.ends_with(";Sampled=0"), "{v}");
                    "x-amzn-trace-id: (made)".to_string()
                }
                _ => line.to_string(),
            })
            .collect();
        lines.join("\r\n")
    };
    for (method, path, headers, body) in cases {
        let mut seen = Vec::new();
        for route in ["direct", "general"] {
            let reply = send(method, &format!("http://{}/v1/{route}/{path}", server.addr), headers, *body).await;
            let request = recorded.lock().unwrap().pop().unwrap_or_else(|| panic!("{method} {route}/{path}"));
            let mut answer: Vec<String> = reply
                .headers
                .iter()
                .filter(|(n, _)| {
                    !["x-amzn-requestid", "x-amz-apigw-id", "date", "x-amzn-remapped-date"].contains(&n.as_str())
                })
                .map(|(n, v)| format!("{n}: {}", v.to_str().unwrap()))
                .collect();
            answer.push(format!("{} {}", reply.status, reply.text()));
            seen.push((normalized(&request), answer));
        }
        assert_eq!(seen[0], seen[1], "{method} {path}");
        assert!(seen[0].0.contains("\r\nhost: "), "{}", seen[0].0);
    }
    server.shutdown().await;
}

/// Replies of [`replying_backend`], by the number the request path ends with, and whether
/// the backend closes the connection after each.
const REPLIES: &[(&[u8], bool)] = &[
    (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nServer: raw\r\n\r\nok", false),
    (b"HTTP/1.1 201 Created\r\nX-Thing: a\r\nx-thing: b\r\nVia: 1.1 x\r\nKeep-Alive: timeout=5\r\nContent-Encoding: identity\r\nContent-Length: 0\r\n\r\n", false),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n\r\n2\r\n{}\r\n0\r\n\r\n", false),
    (b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-B: 2\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok", false),
    (b"HTTP/1.1 200 OK\r\nx-amz-apigw-id: theirs\r\nx-amzn-RequestId: theirs\r\nContent-Length: 2\r\n\r\nok", false),
    (b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n", false),
    (b"HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false),
    (b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 4\r\n\r\nnope", false),
    (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nuntil the close", true),
];

/// A backend answering `GET /r/N` with `REPLIES[N]` (its head alone for `HEAD`).
async fn replying_backend() -> std::net::SocketAddr {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let Some(end) = head_length(&mut stream, &mut buf).await else { return };
                    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                    buf.drain(..end);
                    let target = head.split(' ').nth(1).unwrap_or("");
                    let n: usize = target.rsplit('/').next().and_then(|n| n.parse().ok()).unwrap_or(0);
                    let (reply, close) = REPLIES[n];
                    let reply = if head.starts_with("HEAD ") {
                        &reply[..reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4]
                    } else {
                        reply
                    };
                    if stream.write_all(reply).await.is_err() || close {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// A backend named outright has its responses' headers written as lines for the client, with
/// no header map; one whose host comes from a stage variable goes through a map. The client
/// must get the same bytes from both, ids and dates aside, kept alive and closing.
#[tokio::test]
async fn response_heads_written_directly_are_those_of_the_general_path() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = replying_backend().await;
    let direct = proxy_method(&format!("http://{addr}/{{proxy}}"), &[("proxy", "proxy")]);
    let general = proxy_method("http://${stageVariables.backend}/{proxy}", &[("proxy", "proxy")]);
    let doc = json!({
        "restApi": {"name": "proxy", "id": "proxyapi01"},
        "stages": [{"stageName": "v1", "variables": {"backend": addr.to_string()}}],
        "resources": [
            {"path": "/direct/{proxy+}", "resourceMethods": {"ANY": direct}},
            {"path": "/general/{proxy+}", "resourceMethods": {"ANY": general}}
        ]
    });
    let server = portico_json(doc).await;
    let normalized = |answer: &[u8]| -> String {
        let text = String::from_utf8_lossy(answer).into_owned();
        let lines: Vec<String> = text
            .split("\r\n")
            .map(|line| {
                for name in ["x-amzn-requestid: ", "x-amz-apigw-id: ", "date: "] {
                    if line.starts_with(name) {
                        return format!("{name}(varies)");
                    }
                }
                line.to_string()
            })
            .collect();
        lines.join("\r\n")
    };
    let mut cases: Vec<(&str, usize)> = (0..REPLIES.len()).map(|n| ("GET", n)).collect();
    cases.extend([("HEAD", 0), ("HEAD", 2), ("POST", 1)]);
    for (method, n) in cases {
        let mut seen = Vec::new();
        for route in ["direct", "general"] {
            let mut client = tokio::net::TcpStream::connect(server.addr).await.unwrap();
            let request = format!(
                "{method} /v1/{route}/r/{n} HTTP/1.1\r\nHost: x\r\n\r\n\
                 {method} /v1/{route}/r/{n} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            );
            client.write_all(request.as_bytes()).await.unwrap();
            let mut answer = Vec::new();
            let read = tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut answer)).await;
            assert!(read.is_ok(), "{method} {route} {n}: no end");
            seen.push(normalized(&answer));
        }
        assert_eq!(seen[0], seen[1], "{method} reply {n}");
        assert_eq!(seen[0].matches("x-amzn-requestid: (varies)").count(), 2, "{}", seen[0]);
    }
    server.shutdown().await;
}
