//! The integration suite, one binary: Portico, echo backends and a Lambda Invoke API stand-in
//! as real servers on 127.0.0.1:0. One binary instead of one per file links the library and its
//! dependencies once, not 23 times over (build time and disk).

mod common;

mod admin_api;
mod binary;
mod check;
mod gateway_responses;
mod http_proxy;
mod https;
mod integration_request;
mod integration_response;
mod keep_alive;
mod lambda;
mod limits;
mod method_request;
mod mock;
mod observability;
mod openapi;
mod reload;
mod routing;
mod serve;
mod templates;
mod throttling;
mod tls;
mod vpc_link;
mod vtl;
