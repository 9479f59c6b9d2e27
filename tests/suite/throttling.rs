//! Throttling from a stage's `methodSettings`: token buckets per method, the most specific
//! setting winning, API Gateway's 429 once the burst is spent, and recovery after the refill.

use crate::common;

use common::{mock_method, portico_json, send};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn burst_then_429_then_refill() {
    let server = portico_json(json!({
        "restApi": {"name": "throttled"},
        "stages": [
            {"stageName": "dev", "methodSettings": {
                "*/*": {"throttlingRateLimit": 2.0, "throttlingBurstLimit": 3},
                "~1roomy/GET": {"throttlingRateLimit": 100.0, "throttlingBurstLimit": 50}
            }},
            {"stageName": "free"}
        ],
        "resources": [
            {"path": "/tight", "resourceMethods": {"GET": mock_method("tight")}},
            {"path": "/roomy", "resourceMethods": {"GET": mock_method("roomy")}}
        ]
    }))
    .await;
    let base = format!("http://{}", server.addr);
    for _ in 0..3 {
        assert_eq!(send("GET", &format!("{base}/dev/tight"), &[], "").await.status, 200);
    }
    let throttled = send("GET", &format!("{base}/dev/tight"), &[], "").await;
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.text(), r#"{"message":"Too Many Requests"}"#);
    assert_eq!(throttled.header("x-amzn-ErrorType"), Some("TooManyRequestsException"));

    // At 2 requests per second, a token is back within 600 ms.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(send("GET", &format!("{base}/dev/tight"), &[], "").await.status, 200);
    assert_eq!(send("GET", &format!("{base}/dev/tight"), &[], "").await.status, 429);
    // Other methods and stages have their own buckets.
    for _ in 0..20 {
        assert_eq!(send("GET", &format!("{base}/dev/roomy"), &[], "").await.status, 200);
        assert_eq!(send("GET", &format!("{base}/free/tight"), &[], "").await.status, 200);
    }

    server.shutdown().await;
}
