//! Parse and render arbitrary templates over an arbitrary body: errors are fine, panics,
//! hangs and unbounded memory are not. `cargo fuzz run vtl_render` (nightly).
#![no_main]

use libfuzzer_sys::fuzz_target;
use portico::mapping::cases::Standalone;
use portico::mapping::template::{MappingTemplate, Params};
use portico::vtl::Limits;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let Ok(source) = std::str::from_utf8(&data[..split]) else { return };
    let body = bytes::Bytes::copy_from_slice(data.get(split + 1..).unwrap_or_default());
    let Ok(template) = MappingTemplate::compile(source) else { return };
    let request = Standalone::new(Params { querystring: vec![("q".into(), "v".into())], ..Params::default() });
    let limits = Limits { output_bytes: 1 << 20, ..Limits::default() };
    let _ = template.render(&request.input(&body), limits);
});
