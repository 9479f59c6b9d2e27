//! Renders per second of a typical request template (`benches/data/template.vtl`, JSON
//! reshaping with `#foreach`, `#if/#elseif`, `$util`, `$input.path`, `$input.params`,
//! `$context`) over a 20-item body, parsed from bytes in every iteration as on the request path.
//!
//!     cargo bench --bench vtl

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use portico::mapping::cases::Standalone;
use portico::mapping::template::{MappingTemplate, Params};
use portico::vtl::Limits;
use std::hint::black_box;

fn render(c: &mut Criterion) {
    let template = MappingTemplate::compile(include_str!("data/template.vtl")).expect("the bench template parses");
    let body = Bytes::from_static(include_bytes!("data/body.json"));
    let request =
        Standalone::new(Params { querystring: vec![("region".into(), "eu-west-1".into())], ..Params::default() });
    let input = request.input(&body);
    let expected_len = template.render(&input, Limits::default()).unwrap().body.len();

    let mut group = c.benchmark_group("vtl");
    group.throughput(Throughput::Elements(1));
    group.bench_function("render bench template (parse body + render)", |b| {
        b.iter(|| {
            let out = template.render(black_box(&input), Limits::default()).unwrap();
            assert_eq!(out.body.len(), expected_len);
            out
        })
    });
    group.bench_function("parse template", |b| {
        b.iter(|| MappingTemplate::compile(black_box(include_str!("data/template.vtl"))).unwrap())
    });
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
