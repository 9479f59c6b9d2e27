//! API Gateway's mapping vocabulary: parameter mapping expressions and the values they read.

pub mod expression;
