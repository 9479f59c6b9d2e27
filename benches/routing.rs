//! Route lookup in a 1,000-resource table: literal, parameter and greedy matches, and a miss.
//!
//!     cargo bench --bench routing

use criterion::{criterion_group, criterion_main, Criterion};
use portico::routing::Router;
use std::hint::black_box;

fn table() -> Router {
    let mut r = Router::default();
    let mut id = 0;
    for i in 0..250 {
        for path in [
            format!("/svc{i}"),
            format!("/svc{i}/items"),
            format!("/svc{i}/items/{{id}}"),
            format!("/svc{i}/files/{{path+}}"),
        ] {
            r.insert(&path, "GET", id);
            id += 1;
        }
    }
    r
}

fn lookup(c: &mut Criterion) {
    let router = table();
    let mut group = c.benchmark_group("routing (1,000 resources)");
    for (name, path) in [
        ("literal", "/svc123/items"),
        ("parameter", "/svc123/items/42"),
        ("greedy", "/svc123/files/a/b/c.txt"),
        ("miss", "/svc123/nothing/here"),
    ] {
        group.bench_function(name, |b| b.iter(|| router.find(black_box("GET"), black_box(path)).map(|m| m.method)));
    }
    group.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
