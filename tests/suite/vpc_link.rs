//! Private integrations through simulated VPC links: requests spread over a load balancer's
//! targets and skip one that stops (its health check takes it out), links chosen per stage by
//! stage variable, and API Gateway's answers for a link that is not AVAILABLE, a listener with
//! no healthy target, and a refused connection (`runtime.md` §6.3).

use crate::common;

use common::backend::Backend;
use common::{portico, send};
use std::time::{Duration, Instant};

const NLB_A: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/a/1";
const NLB_B: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/b/2";
const NLB_DOWN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/down/3";

fn document(a: &[String], b: &str, down: &str) -> String {
    let targets = a.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
    format!(
        r#"
restApi: {{name: private, id: private001}}
stages:
  - {{stageName: blue, variables: {{link: linkA}}}}
  - {{stageName: green, variables: {{link: linkB}}}}
vpcLinks:
  - {{id: linkA, name: a, targetArns: ['{NLB_A}']}}
  - {{id: linkB, name: b, targetArns: ['{NLB_B}']}}
  - {{id: broken, name: broken, targetArns: ['{NLB_B}'], status: FAILED, statusMessage: 'NLB not found'}}
  - {{id: linkDown, name: down, targetArns: ['{NLB_DOWN}']}}
networkLoadBalancers:
  - arn: {NLB_A}
    listeners:
      - {{port: 80, targets: [{targets}], healthCheck: {{intervalSeconds: 1, timeoutSeconds: 1}}}}
  - arn: {NLB_B}
    listeners:
      - {{port: 8080, targets: ['{b}']}}
  - arn: {NLB_DOWN}
    listeners:
      - {{port: 80, targets: ['{down}'], healthCheck: {{protocol: HTTP, path: /health, intervalSeconds: 1, timeoutSeconds: 1}}}}
resources:
  - path: /spread/{{proxy+}}
    resourceMethods:
      ANY:
        requestParameters: {{method.request.path.proxy: true}}
        methodIntegration:
          type: HTTP_PROXY
          httpMethod: ANY
          uri: 'http://internal.example/{{proxy}}'
          connectionType: VPC_LINK
          connectionId: linkA
          requestParameters: {{integration.request.path.proxy: method.request.path.proxy}}
  - path: /by-stage
    resourceMethods:
      GET:
        methodIntegration: {{type: HTTP_PROXY, httpMethod: GET, uri: 'http://service.internal:8080/by-stage', connectionType: VPC_LINK, connectionId: '${{stageVariables.link}}'}}
  - path: /broken
    resourceMethods:
      GET:
        methodIntegration: {{type: HTTP_PROXY, httpMethod: GET, uri: 'http://x.internal:8080/', connectionType: VPC_LINK, connectionId: broken}}
  - path: /down
    resourceMethods:
      GET:
        methodIntegration: {{type: HTTP_PROXY, httpMethod: GET, uri: 'http://down.internal/', connectionType: VPC_LINK, connectionId: linkDown}}
"#
    )
}

fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

#[tokio::test]
async fn requests_spread_over_healthy_targets() {
    let targets = [Backend::start().await, Backend::start().await, Backend::start().await];
    let b = Backend::start().await;
    let addrs: Vec<String> = targets.iter().map(|t| t.addr.to_string()).collect();
    let server = portico(&document(&addrs, &b.addr.to_string(), &closed_port())).await;
    let url = format!("http://{}/blue/spread/items/7?x=1", server.addr);
    for _ in 0..9 {
        assert_eq!(send("GET", &url, &[], "").await.status, 200);
    }
    for t in &targets {
        assert_eq!(t.count(), 3, "round robin over three targets");
        let got = t.last();
        assert_eq!(got.uri, "/items/7?x=1");
        assert_eq!(got.header("host"), Some("internal.example"), "the URI's host goes into Host");
    }

    // One target stops: within a few health check intervals nothing is sent to it.
    targets[1].stop();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut clean_run = 0;
    while clean_run < 6 {
        assert!(Instant::now() < deadline, "the stopped target was never taken out");
        if send("GET", &url, &[], "").await.status == 200 {
            clean_run += 1;
        } else {
            clean_run = 0;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let (first, third) = (targets[0].count(), targets[2].count());
    for _ in 0..10 {
        assert_eq!(send("GET", &url, &[], "").await.status, 200);
    }
    assert_eq!(targets[0].count() + targets[2].count(), first + third + 10);
    assert!(
        targets[0].count() >= first + 5 && targets[2].count() >= third + 5,
        "the two healthy targets share the load"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn link_chosen_by_stage_variable_and_failures() {
    let a = Backend::start().await;
    let b = Backend::start().await;
    let server = portico(&document(&[a.addr.to_string()], &b.addr.to_string(), &closed_port())).await;
    assert_eq!(send("GET", &format!("http://{}/green/by-stage", server.addr), &[], "").await.status, 200);
    assert_eq!(b.count(), 1);
    assert_eq!(b.last().header("host"), Some("service.internal:8080"));
    // linkA has no listener on 8080.
    let blue = send("GET", &format!("http://{}/blue/by-stage", server.addr), &[], "").await;
    assert_eq!(blue.status, 500);

    let broken = send("GET", &format!("http://{}/blue/broken", server.addr), &[], "").await;
    assert_eq!(broken.status, 500, "a link that is not AVAILABLE");
    assert_eq!(broken.text(), r#"{"message": "Internal server error"}"#);

    // The only target behind linkDown fails its health check.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let down = send("GET", &format!("http://{}/blue/down", server.addr), &[], "").await;
    assert_eq!(down.status, 504, "no healthy target");
    assert_eq!(down.text(), r#"{"message": "Network error communicating with endpoint"}"#);
    server.shutdown().await;
}

#[tokio::test]
async fn a_refused_connection_is_a_network_error() {
    let b = Backend::start().await;
    let dead = closed_port();
    let server = portico(&document(&[b.addr.to_string()], &dead, &closed_port())).await;
    let reply = send("GET", &format!("http://{}/green/by-stage", server.addr), &[], "").await;
    assert_eq!(reply.status, 504);
    assert_eq!(reply.text(), r#"{"message": "Network error communicating with endpoint"}"#);
    server.shutdown().await;
}
