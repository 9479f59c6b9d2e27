//! `portico serve`: prints each stage's URL once listening, answers requests, and on SIGTERM
//! lets in-flight requests finish before exiting 0.

mod common;

use common::{backend::Backend, get};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
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
    let backend = Backend::start().await;
    let dir = std::env::temp_dir().join(format!("portico-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("api.yaml");
    std::fs::write(&path, document(&backend.url())).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
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
