//! `portico serve`: prints each stage's URL once listening, answers requests, and on SIGTERM
//! lets in-flight requests finish before exiting 0.

use crate::common;

use common::{backend::Backend, get, spawn_serve};
use std::process::Command;
use std::time::Duration;

fn document(backend: &str) -> String {
    format!(
        r#"
restApi: {{name: served, id: served01}}
stages: [{{stageName: dev}}, {{stageName: prod}}]
resources:
  - path: /health
    resourceMethods:
      GET:
        methodResponses: {{"200": {{statusCode: "200"}}}}
        methodIntegration:
          type: MOCK
          requestTemplates: {{application/json: '{{"statusCode": 200}}'}}
          integrationResponses: {{"200": {{statusCode: "200", responseTemplates: {{application/json: '{{"status": "ok"}}'}}}}}}
  - path: /slow
    resourceMethods:
      GET:
        methodIntegration: {{type: HTTP_PROXY, httpMethod: GET, uri: '{backend}/sleep/700'}}
"#
    )
}

#[tokio::test]
async fn serves_until_sigterm_and_drains_in_flight_requests() {
    serve_and_drain("default", &[]).await;
}

/// One worker thread runs the single-threaded scheduler: the same requests, the same drain.
#[tokio::test]
async fn serves_and_drains_on_one_worker_thread() {
    serve_and_drain("one-worker", &["--worker-threads", "1"]).await;
}

async fn serve_and_drain(name: &str, flags: &[&str]) {
    let backend = Backend::start().await;
    let dir = std::env::temp_dir().join(format!("portico-serve-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("api.yaml");
    std::fs::write(&path, document(&backend.url())).unwrap();
    let args: Vec<&str> = ["--listen", "127.0.0.1:0"].iter().chain(flags).copied().collect();
    let (mut child, mut lines) = spawn_serve(&path, &args);
    assert!(lines.next().unwrap().unwrap().contains("served (served01)"));
    let dev = lines.next().unwrap().unwrap().trim().to_string();
    let prod = lines.next().unwrap().unwrap().trim().to_string();
    assert!(dev.starts_with("http://127.0.0.1:") && dev.ends_with("/dev/"), "{dev}");
    assert!(prod.ends_with("/prod/"), "{prod}");

    let health = get(&format!("{dev}health")).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.text(), r#"{"status": "ok"}"#);
    assert_eq!(health.header("connection"), Some("keep-alive"));

    let slow = tokio::spawn(get(format!("{prod}slow").leak()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let reply = slow.await.unwrap();
    assert_eq!(reply.status, 200, "the in-flight request finished");
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    assert_eq!(status.code(), Some(0));
    std::fs::remove_dir_all(&dir).ok();
}

/// The serve flags reach what they configure: the metrics listener, the access log file, the
/// process-wide throttle and TLS.
#[tokio::test]
async fn serve_flags_are_wired() {
    let dir = std::env::temp_dir().join(format!("portico-flags-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("api.yaml");
    std::fs::write(&path, document("http://127.0.0.1:9")).unwrap();
    let log = dir.join("access.log");
    let metrics = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let metrics = metrics.to_string();
    let (mut child, mut lines) = spawn_serve(
        &path,
        &[
            "--listen",
            "127.0.0.1:0",
            "--throttle-rate",
            "0.001",
            "--throttle-burst",
            "2",
            "--metrics-listen",
            &metrics,
            "--access-log",
            log.to_str().unwrap(),
        ],
    );
    let mut dev = String::new();
    for _ in 0..4 {
        let line = lines.next().unwrap().unwrap();
        if line.trim().ends_with("/dev/") {
            dev = line.trim().to_string();
        }
    }
    assert!(dev.starts_with("http://"), "{dev}");
    assert_eq!(get(&format!("{dev}health")).await.status, 200);
    assert_eq!(get(&format!("{dev}health")).await.status, 200);
    assert_eq!(get(&format!("{dev}health")).await.status, 429, "the process-wide burst of 2 is spent");
    let text = get(&format!("http://{metrics}/metrics")).await.text();
    assert!(
        text.contains(r#"apigateway_count{api="served01",stage="dev",resource="/health",method="GET"} 3"#),
        "{text}"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let written = std::fs::read_to_string(&log).unwrap_or_default();
        if written.lines().count() >= 3 {
            assert!(written.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()), "{written}");
            assert!(written.contains(r#""status":"429""#), "{written}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the access log stayed empty");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    assert_eq!(tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap().code(), Some(0));

    let out = Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(dir.join("absent.pem"))
        .arg("--tls-key")
        .arg(dir.join("absent.pem"))
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("error: TLS: cannot read certificates from"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(["serve", "--worker-threads", "0", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap refuses a zero thread count");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--worker-threads"));
    std::fs::remove_dir_all(&dir).ok();
}
