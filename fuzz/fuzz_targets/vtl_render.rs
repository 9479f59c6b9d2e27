//! Parse and render arbitrary templates over an arbitrary body: errors are fine, panics,
//! hangs and unbounded memory are not. `cargo fuzz run vtl_render` (nightly).
#![no_main]

use libfuzzer_sys::fuzz_target;
use portico::mapping::cases::default_context;
use portico::mapping::template::{MappingTemplate, Overrides, Params, TemplateInput};
use portico::vtl::Limits;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let Ok(source) = std::str::from_utf8(&data[..split]) else { return };
    let body = bytes::Bytes::copy_from_slice(data.get(split + 1..).unwrap_or_default());
    let Ok(template) = MappingTemplate::compile(source) else { return };
    let params = Arc::new(Params { querystring: vec![("q".into(), "v".into())], ..Params::default() });
    let input = TemplateInput {
        body: &body,
        params: &params,
        stage_variables: &Arc::new(Default::default()),
        context: &Arc::new(default_context()),
        overrides: &Overrides::default(),
    };
    let limits = Limits { output_bytes: 1 << 20, ..Limits::default() };
    let _ = template.render(&input, limits);
});
