//! Renders per second of a typical request template (`benches/data/template.vtl`, JSON
//! reshaping with `#foreach`, `#if/#elseif`, `$util`, `$input.path`, `$input.params`,
//! `$context`) over a 20-item body, parsed from bytes in every iteration as on the request path.
//! Beside it, the floor: the same template written by hand in Rust over the same parsed
//! document, giving the same bytes, which is what a render costs with no template engine.
//!
//!     cargo bench --bench vtl

#[global_allocator]
static ALLOCATOR: portico::server::allocator::Allocator = portico::server::allocator::Allocator;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use portico::mapping::cases::{Standalone, FIXED_REQUEST_ID};
use portico::mapping::template::{escape_javascript_into, MappingTemplate, Params};
use portico::vtl::json::{Json, Kind};
use portico::vtl::value::write_int;
use portico::vtl::Limits;
use std::hint::black_box;

fn render(c: &mut Criterion) {
    let template = MappingTemplate::compile(include_str!("data/template.vtl")).expect("the bench template parses");
    let body = Bytes::from_static(include_bytes!("data/body.json"));
    let request =
        Standalone::new(Params { querystring: vec![("region".into(), "eu-west-1".into())], ..Params::default() });
    let input = request.input(&body);
    let expected = template.render(&input, Limits::default()).unwrap().body;
    assert_eq!(by_hand(&body), expected, "the hand-written render gives the template's bytes");

    let mut group = c.benchmark_group("vtl");
    group.throughput(Throughput::Elements(1));
    group.bench_function("render bench template (parse body + render)", |b| {
        b.iter(|| {
            let out = template.render(black_box(&input), Limits::default()).unwrap();
            assert_eq!(out.body.len(), expected.len());
            out
        })
    });
    group.bench_function("the floor: bench template by hand in Rust (parse body + write)", |b| {
        b.iter(|| by_hand(black_box(&body)))
    });
    group.bench_function("parse template", |b| {
        b.iter(|| MappingTemplate::compile(black_box(include_str!("data/template.vtl"))).unwrap())
    });
    group.finish();
}

/// `benches/data/template.vtl` as straight Rust: the body parsed as `$input.path('$')` parses
/// it, every member looked up by name, strings escaped and numbers written as the engine does.
fn by_hand(body: &[u8]) -> String {
    fn scalar(j: &Json, out: &mut String) {
        match j.kind() {
            Kind::Str(s) => out.push_str(s),
            Kind::Int(i) => write_int(i, out),
            _ => {}
        }
    }
    let root = Json::parse(body).expect("the bench body is JSON");
    let mut out = String::with_capacity(4096);
    out.push_str("{\n  \"requestId\": \"");
    out.push_str(FIXED_REQUEST_ID);
    out.push_str("\",\n  \"customer\": \"");
    if let Some(name) = root.get("customer").and_then(|c| c.get("name")) {
        escape_javascript_into(name.as_str().unwrap_or_default(), &mut out);
    }
    out.push_str("\",\n  \"region\": \"eu-west-1\",\n  \"count\": ");
    let items = root.get("items").expect("items");
    write_int(items.len() as i64, &mut out);
    out.push_str(",\n  \"items\": [\n");
    let count = items.len();
    for (n, item) in items.items().enumerate() {
        out.push_str("    {\n      \"sku\": \"");
        if let Some(sku) = item.get("sku") {
            scalar(&sku, &mut out);
        }
        out.push_str("\",\n      \"title\": \"");
        if let Some(title) = item.get("title") {
            escape_javascript_into(title.as_str().unwrap_or_default(), &mut out);
        }
        out.push_str("\",\n      \"quantity\": ");
        let quantity = item.get("quantity");
        if let Some(q) = &quantity {
            scalar(q, &mut out);
        }
        out.push_str(",\n");
        let q = match quantity.as_ref().map(Json::kind) {
            Some(Kind::Int(i)) => i,
            _ => 0,
        };
        out.push_str(match q {
            q if q > 10 => "      \"tier\": \"bulk\",\n",
            q if q > 1 => "      \"tier\": \"multi\",\n",
            _ => "      \"tier\": \"single\",\n",
        });
        out.push_str("      \"tags\": [");
        if let Some(tags) = item.get("tags") {
            let len = tags.len();
            for (i, tag) in tags.items().enumerate() {
                out.push('"');
                scalar(&tag, &mut out);
                out.push('"');
                if i + 1 < len {
                    out.push_str(", ");
                }
            }
        }
        out.push_str("]\n    }");
        if n + 1 < count {
            out.push(',');
        }
        out.push('\n');
    }
    out.push_str("  ]\n}\n");
    out
}

criterion_group!(benches, render);
criterion_main!(benches);
