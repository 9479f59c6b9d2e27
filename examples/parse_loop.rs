use portico::vtl::json::Json;
fn main() {
    let body = include_bytes!("../benches/data/body.json");
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200000);
    let t = std::time::Instant::now();
    let mut k = 0;
    for _ in 0..n {
        k += Json::parse(std::hint::black_box(body)).unwrap().len();
    }
    println!("{:.0} ns/parse {k}", t.elapsed().as_nanos() as f64 / n as f64);
}
