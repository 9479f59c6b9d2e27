//! API Gateway's mapping vocabulary: parameter mapping expressions, `$context`, and the
//! values a mapping reads from a request or an integration response.

pub mod cases;
pub mod context;
pub mod expression;
pub mod jsonpath;
pub mod params;
pub mod template;
