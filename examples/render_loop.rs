//! Renders the benchmark template in a loop, for profilers:
//! `cargo run --release --example render_loop -- 200000`, or another template and body:
//! `cargo run --release --example render_loop -- 200000 TEMPLATE.vtl [BODY.json]`.

#[global_allocator]
static ALLOCATOR: portico::server::allocator::Allocator = portico::server::allocator::Allocator;

use bytes::Bytes;
use portico::mapping::cases::Standalone;
use portico::mapping::template::{MappingTemplate, Params};
use portico::vtl::Limits;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let mut files = std::env::args().skip(2).map(|path| std::fs::read(&path).expect("a readable file"));
    let source = files.next().map(|t| String::from_utf8(t).expect("a UTF-8 template"));
    let template =
        MappingTemplate::compile(source.as_deref().unwrap_or(include_str!("../benches/data/template.vtl"))).unwrap();
    let body = files.next().map_or(Bytes::from_static(include_bytes!("../benches/data/body.json")), Bytes::from);
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
