//! Portico runs Amazon API Gateway REST APIs, described in API Gateway's own shapes, exactly
//! as API Gateway executes them.

pub mod admin;
pub mod config;
pub mod integration;
pub mod mapping;
pub mod pipeline;
pub mod plan;
pub mod routing;
pub mod server;
pub mod vtl;
