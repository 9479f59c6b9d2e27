//! API Gateway's Velocity Template Language: lexer, parser, evaluator and value model. It
//! knows nothing of HTTP; API Gateway's variables plug in from `mapping`.

pub mod json;
pub mod value;
