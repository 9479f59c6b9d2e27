//! Access logs in each of AWS's formats (CLF, JSON, XML, CSV) and the default, compared field
//! by field for a known request; Prometheus metrics after a known mix of 2xx, 4xx and 5xx;
//! `/healthz` and `/readyz`.

use crate::common;

use common::{get, mock_method, send};
use portico::server::access_log::{AccessLog, Destination};
use portico::server::{self, Gateway};
use serde_json::json;
use std::time::{Duration, Instant};

const CLF: &str = r#"$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] "$context.httpMethod $context.resourcePath $context.protocol" $context.status $context.responseLength $context.requestId $context.extendedRequestId"#;
const JSON_FORMAT: &str = r#"{ "requestId":"$context.requestId", "extendedRequestId":"$context.extendedRequestId","ip": "$context.identity.sourceIp", "caller":"$context.identity.caller", "user":"$context.identity.user", "requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod", "resourcePath":"$context.resourcePath", "status":"$context.status", "protocol":"$context.protocol", "responseLength":"$context.responseLength" }"#;
const XML: &str = r#"<request id="$context.requestId"> <extendedRequestId>$context.extendedRequestId</extendedRequestId> <ip>$context.identity.sourceIp</ip> <caller>$context.identity.caller</caller> <user>$context.identity.user</user> <requestTime>$context.requestTime</requestTime> <httpMethod>$context.httpMethod</httpMethod> <resourcePath>$context.resourcePath</resourcePath> <status>$context.status</status> <protocol>$context.protocol</protocol> <responseLength>$context.responseLength</responseLength> </request>"#;
const CSV: &str = r#"$context.identity.sourceIp,$context.identity.caller,$context.identity.user,$context.requestTime,$context.httpMethod,$context.resourcePath,$context.protocol,$context.status,$context.responseLength,$context.requestId,$context.extendedRequestId"#;

fn api() -> serde_json::Value {
    let stage = |name: &str, format: Option<&str>| match format {
        Some(f) => {
            json!({"stageName": name, "accessLogSettings": {"format": f, "destinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:x"}})
        }
        None => json!({"stageName": name}),
    };
    json!({
        "restApi": {"name": "observed", "id": "observed01"},
        "stages": [stage("clf", Some(CLF)), stage("json", Some(JSON_FORMAT)), stage("xml", Some(XML)), stage("csv", Some(CSV)), stage("plain", None)],
        "resources": [
            {"path": "/pets/{id}", "resourceMethods": {"GET": mock_method("twelve bytes")}},
            {"path": "/fail", "resourceMethods": {"GET": {
                "methodResponses": {"200": {"statusCode": "200"}},
                "methodIntegration": {"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 500}"},
                    "integrationResponses": {"200": {"statusCode": "200", "selectionPattern": "2\\d\\d"}}}
            }}}
        ]
    })
}

async fn started(log: Option<std::path::PathBuf>) -> (server::Running, std::sync::Arc<Gateway>) {
    let plan = portico::config::compile_text(&api().to_string(), true).unwrap();
    let access_log = match log {
        Some(path) => Some(AccessLog::start(Destination::File(path), true).await.unwrap()),
        None => None,
    };
    let gateway = Gateway::with(plan, Box::new(|_| {}), access_log);
    (server::start(gateway.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap(), gateway)
}

#[tokio::test]
async fn access_log_formats_field_by_field() {
    let dir = std::env::temp_dir().join(format!("portico-access-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("access.log");
    let (running, _) = started(Some(path.clone())).await;
    let mut replies = Vec::new();
    for stage in ["clf", "json", "xml", "csv", "plain"] {
        replies.push(get(&format!("http://{}/{stage}/pets/7", running.addr)).await);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let lines = loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        if lines.len() >= 5 {
            break lines;
        }
        assert!(Instant::now() < deadline, "the access log was not written: {text:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let ids: Vec<&str> = replies.iter().map(|r| r.header("x-amzn-RequestId").unwrap()).collect();
    let apigw: Vec<&str> = replies.iter().map(|r| r.header("x-amz-apigw-id").unwrap()).collect();

    // CLF: 127.0.0.1 - - [dd/MMM/yyyy:HH:mm:ss +0000] "GET /pets/{id} HTTP/1.1" 200 12 ID EXT
    let clf = &lines[0];
    let (head, rest) = clf.split_once(" [").unwrap();
    assert_eq!(head, "127.0.0.1 - -");
    let (time, rest) = rest.split_once("] ").unwrap();
    assert!(time.ends_with(" +0000") && time.len() == 26, "{time}");
    assert_eq!(rest, format!("\"GET /pets/{{id}} HTTP/1.1\" 200 12 {} {}", ids[0], apigw[0]));

    let j: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(j["requestId"], ids[1]);
    assert_eq!(j["extendedRequestId"], apigw[1]);
    assert_eq!(j["ip"], "127.0.0.1");
    assert_eq!(j["caller"], "-");
    assert_eq!(j["user"], "-");
    assert_eq!(j["httpMethod"], "GET");
    assert_eq!(j["resourcePath"], "/pets/{id}");
    assert_eq!(j["status"], "200");
    assert_eq!(j["protocol"], "HTTP/1.1");
    assert_eq!(j["responseLength"], "12");

    let xml = &lines[2];
    assert!(xml.starts_with(&format!("<request id=\"{}\"> <extendedRequestId>{}</extendedRequestId> <ip>127.0.0.1</ip> <caller>-</caller> <user>-</user> <requestTime>", ids[2], apigw[2])), "{xml}");
    assert!(xml.ends_with("</requestTime> <httpMethod>GET</httpMethod> <resourcePath>/pets/{id}</resourcePath> <status>200</status> <protocol>HTTP/1.1</protocol> <responseLength>12</responseLength> </request>"), "{xml}");

    let csv: Vec<&str> = lines[3].split(',').collect();
    assert_eq!(csv.len(), 11);
    assert_eq!(&csv[..3], &["127.0.0.1", "-", "-"]);
    assert_eq!(&csv[4..], &["GET", "/pets/{id}", "HTTP/1.1", "200", "12", ids[3], apigw[3]]);

    let default: serde_json::Value = serde_json::from_str(&lines[4]).unwrap();
    assert_eq!(default["requestId"], ids[4]);
    assert_eq!(default["stage"], "plain");
    assert_eq!(default["path"], "/plain/pets/7");
    assert_eq!(default["status"], "200");
    assert!(default["responseLatency"].as_str().unwrap().parse::<u64>().is_ok());
    running.shutdown().await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn metrics_after_a_known_mix() {
    let (running, gateway) = started(None).await;
    let base = format!("http://{}", running.addr);
    for _ in 0..3 {
        assert_eq!(get(&format!("{base}/json/pets/1")).await.status, 200);
    }
    for _ in 0..2 {
        assert_eq!(send("POST", &format!("{base}/json/pets/1"), &[], "").await.status, 403);
    }
    assert_eq!(get(&format!("{base}/json/fail")).await.status, 500);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = listener.local_addr().unwrap();
    tokio::spawn(server::metrics::serve(gateway.clone(), listener));
    let text = get(&format!("http://{metrics_addr}/metrics")).await.text();
    let value = |line_start: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(line_start))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {line_start} in\n{text}"))
    };
    let pets = r#"api="observed01",stage="json",resource="/pets/{id}",method="GET""#;
    let fail = r#"api="observed01",stage="json",resource="/fail",method="GET""#;
    let unrouted = r#"api="observed01",stage="json",resource="",method="""#;
    assert_eq!(value(&format!("apigateway_count{{{pets}}}")), 3);
    assert_eq!(value(&format!("apigateway_4xx_error{{{pets}}}")), 0);
    assert_eq!(value(&format!("apigateway_count{{{unrouted}}}")), 2);
    assert_eq!(value(&format!("apigateway_4xx_error{{{unrouted}}}")), 2);
    assert_eq!(value(&format!("apigateway_5xx_error{{{fail}}}")), 1);
    assert_eq!(value(&format!("apigateway_latency_milliseconds_count{{{pets}}}")), 3);
    assert_eq!(value(&format!("apigateway_latency_milliseconds_bucket{{{pets},le=\"+Inf\"}}")), 3);
    // Buckets are cumulative: each counts every request at or under its bound.
    assert_eq!(value(&format!("apigateway_latency_milliseconds_bucket{{{pets},le=\"60000\"}}")), 3);
    let bounds = ["1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000", "29000", "60000"];
    let counts: Vec<u64> =
        bounds.iter().map(|b| value(&format!("apigateway_latency_milliseconds_bucket{{{pets},le=\"{b}\"}}"))).collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert_eq!(value(&format!("apigateway_integration_latency_milliseconds_count{{{pets}}}")), 3);
    assert_eq!(value("portico_reloads_total"), 0);
    assert!(value("process_resident_memory_bytes") > 0);
    assert_eq!(get(&format!("http://{metrics_addr}/healthz")).await.status, 200);
    assert_eq!(get(&format!("http://{metrics_addr}/readyz")).await.status, 200);
    gateway.metrics.ready.store(false, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(get(&format!("http://{metrics_addr}/readyz")).await.status, 503);
    running.shutdown().await;
}
