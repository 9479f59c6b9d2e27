//! One whole request through the compiled plan, in process and without sockets: routing, a
//! MOCK integration with a request template and a JSON response template, the method response.
//!
//!     cargo bench --bench pipeline

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use http_body_util::Full;
use portico::integration::client::HttpClient;
use portico::pipeline;
use std::hint::black_box;

#[global_allocator]
static ALLOCATOR: portico::server::allocator::Allocator = portico::server::allocator::Allocator;

fn request(c: &mut Criterion) {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/benches/load.yaml"))
        .unwrap()
        .replace("BARE", "127.0.0.1:9");
    let plan = portico::config::compile_text(&doc, false).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = runtime.block_on(async { HttpClient::new(&[]) });
    let peer = "127.0.0.1:50000".parse().unwrap();
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(1));
    group.bench_function("MOCK with request and response templates", |b| {
        b.iter(|| {
            let req = http::Request::get("/bench/mock?user=O%27Brien")
                .header("host", "localhost")
                .body(Full::new(Bytes::new()))
                .unwrap();
            let response = runtime.block_on(pipeline::execute(&plan, &client, black_box(req), peer, &()));
            assert_eq!(response.status(), 200);
            response
        })
    });
    group.finish();
}

criterion_group!(benches, request);
criterion_main!(benches);
