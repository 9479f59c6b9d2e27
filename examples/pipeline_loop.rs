//! Runs the pipeline bench's MOCK request in a loop, for profilers:
//! `cargo run --release --example pipeline_loop -- 200000`.

#[global_allocator]
static ALLOCATOR: portico::server::allocator::Allocator = portico::server::allocator::Allocator;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use portico::integration::client::HttpClient;
use portico::pipeline;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let doc = include_str!("../benches/load.yaml").replace("BARE", "127.0.0.1:9");
    let plan = portico::config::compile_text(&doc, false).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = runtime.block_on(async { HttpClient::new(&[]) });
    let peer = "127.0.0.1:50000".parse().unwrap();
    let started = std::time::Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        let req = http::Request::get("/bench/mock?user=O%27Brien")
            .header("host", "localhost")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = runtime.block_on(async {
            let response = pipeline::execute(&plan, &client, req, peer, &()).await;
            response.into_body().collect().await.map(|b| b.to_bytes().len()).unwrap_or(0)
        });
        bytes += response;
    }
    let secs = started.elapsed().as_secs_f64();
    println!("{n} requests in {secs:.3}s: {:.0} requests/s ({bytes} bytes)", n as f64 / secs);
}
