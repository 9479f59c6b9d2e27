//! Renders the benchmark template in a loop, for profilers:
//! `cargo run --release --example render_loop -- 200000`.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use bytes::Bytes;
use portico::mapping::cases::Standalone;
use portico::mapping::template::{MappingTemplate, Params};
use portico::vtl::Limits;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let template = MappingTemplate::compile(include_str!("../benches/data/template.vtl")).unwrap();
    let body = Bytes::from_static(include_bytes!("../benches/data/body.json"));
    let request =
        Standalone::new(Params { querystring: vec![("region".into(), "eu-west-1".into())], ..Params::default() });
    let input = request.input(&body);
    let started = std::time::Instant::now();
    let mut total = 0;
    for _ in 0..n {
        total += template.render(&input, Limits::default()).unwrap().body.len();
    }
    let secs = started.elapsed().as_secs_f64();
    println!("{n} renders in {secs:.3}s: {:.0} renders/s ({total} bytes)", n as f64 / secs);
}
