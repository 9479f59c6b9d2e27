//! Limits as API Gateway's: 413 for a body over 10 MB with nothing else disturbed, 414 for an
//! over-long URL, 431 for an over-long header block, a slow client cut off at the header read
//! timeout without holding up others, and connections past the cap shed with a 503.

use crate::common;

use common::{backend::Backend, get, send};
use portico::server::{self, Gateway, Limits, Options};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(backend: &str, limits: Limits) -> server::Running {
    let yaml = format!(
        "restApi: {{name: limits}}\nresources:\n  - path: /{{proxy+}}\n    resourceMethods:\n      ANY:\n        methodIntegration: {{type: HTTP_PROXY, httpMethod: ANY, uri: '{backend}/echo'}}\n"
    );
    let plan = portico::config::compile_text(&yaml, false).unwrap();
    server::start_with(Gateway::new(plan), "127.0.0.1:0".parse().unwrap(), Options { limits, ..Options::default() })
        .await
        .unwrap()
}

#[tokio::test]
async fn oversized_bodies_urls_and_headers() {
    let backend = Backend::start().await;
    let server = start(&backend.url(), Limits::default()).await;
    let base = format!("http://{}", server.addr);
    let big = vec![b'x'; 11 * 1024 * 1024];
    let (upload, small) = (format!("{base}/upload"), format!("{base}/small"));
    let (too_large, normal) = tokio::join!(send("POST", &upload, &[], big), get(&small));
    assert_eq!(too_large.status, 413);
    assert_eq!(too_large.text(), r#"{"message": "Request Too Long"}"#);
    assert_eq!(normal.status, 200, "a request beside it is not disturbed");
    assert_eq!(backend.count(), 1, "the oversized body never reached the backend");

    let long = send("GET", &format!("{base}/{}", "a".repeat(11_000)), &[], "").await;
    assert_eq!(long.status, 414);

    let header = "h".repeat(20_000);
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(format!("GET /x HTTP/1.1\r\nHost: a\r\nX-Big: {header}\r\n\r\n").as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut reply)).await;
    assert!(String::from_utf8_lossy(&reply).starts_with("HTTP/1.1 431"), "{}", String::from_utf8_lossy(&reply));
    assert_eq!(get(&format!("{base}/after")).await.status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn a_slow_second_head_on_a_kept_connection_is_cut_off() {
    let backend = Backend::start().await;
    let server =
        start(&backend.url(), Limits { header_read_timeout: Duration::from_secs(1), ..Limits::default() }).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(b"GET /first HTTP/1.1\r\nHost: a\r\n\r\n").await.unwrap();
    let mut first = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut first)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"), "the first request is served");
    let started = Instant::now();
    let mut cut_off = false;
    for b in b"GET /second HTTP/1.1\r\nHost: a\r\n\r\n" {
        if stream.write_all(&[*b]).await.is_err() {
            cut_off = true;
            break;
        }
        let mut probe = [0u8; 64];
        match tokio::time::timeout(Duration::from_millis(400), stream.read(&mut probe)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                cut_off = true;
                break;
            }
            Ok(Ok(n)) => panic!("an answer to a head never finished: {}", String::from_utf8_lossy(&probe[..n])),
            Err(_) => {}
        }
    }
    assert!(cut_off, "the slow head was never cut off");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(4), "cut off after {elapsed:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn slow_client_is_cut_off_without_holding_up_others() {
    let backend = Backend::start().await;
    let server =
        start(&backend.url(), Limits { header_read_timeout: Duration::from_secs(1), ..Limits::default() }).await;
    let addr = server.addr;
    let slow = tokio::spawn(async move {
        let started = Instant::now();
        let mut stream = TcpStream::connect(addr).await.unwrap();
        for b in b"GET /slow HTTP/1.1\r\nHost: slow\r\n\r\n" {
            if stream.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1000)).await;
        }
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
        (started.elapsed(), rest)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..20 {
        let started = Instant::now();
        assert_eq!(get(&format!("http://{addr}/fast")).await.status, 200);
        assert!(started.elapsed() < Duration::from_millis(500), "other clients are served at once");
    }
    let (elapsed, reply) = slow.await.unwrap();
    assert!(elapsed < Duration::from_secs(6), "the slow client was cut off after {elapsed:?}");
    assert!(!String::from_utf8_lossy(&reply).contains("200 OK"), "the slow request was never served");
    server.shutdown().await;
}

#[tokio::test]
async fn connections_past_the_cap_get_a_503() {
    let backend = Backend::start().await;
    let server = start(&backend.url(), Limits { max_connections: 2, ..Limits::default() }).await;
    let first = TcpStream::connect(server.addr).await.unwrap();
    let _second = TcpStream::connect(server.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), third.read_to_end(&mut reply)).await;
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 503 Service Unavailable"), "{reply}");
    assert!(reply.ends_with(r#"{"message": "Service Unavailable"}"#), "{reply}");
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(get(&format!("http://{}/again", server.addr)).await.status, 200, "a freed slot serves again");
    server.shutdown().await;
}
