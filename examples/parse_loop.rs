//! Parses the benchmark body in a loop, for profilers:
//! `cargo run --release --example parse_loop -- 200000`.

#[global_allocator]
static ALLOCATOR: portico::server::allocator::Allocator = portico::server::allocator::Allocator;

use portico::vtl::json::Json;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let body = include_bytes!("../benches/data/body.json");
    let started = std::time::Instant::now();
    let mut nodes = 0;
    for _ in 0..n {
        nodes += Json::parse(std::hint::black_box(body)).unwrap().len();
    }
    let ns = started.elapsed().as_nanos() as f64 / n as f64;
    println!("{n} parses: {ns:.0} ns each ({} bytes, {nodes} top-level members)", body.len());
}
