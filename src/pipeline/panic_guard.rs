//! The last line of defence: a request whose execution panics is answered as API Gateway
//! answers an internal failure (500, `{"message":"Internal server error"}`), instead of the
//! connection being torn down under every request on it. Nothing on the request path is meant
//! to panic; this keeps a bug one request's problem.

use super::header_names;
use super::{full, Body};
use http::{HeaderValue, Response, StatusCode};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// A request's future, answered with a 500 if polling it panics.
    pub struct PanicGuard<F> {
        #[pin]
        inner: F,
        done: bool,
    }
}

impl<F> PanicGuard<F> {
    pub fn new(inner: F) -> Self {
        PanicGuard { inner, done: false }
    }
}

/// A request's future answers its response with what else its caller gets back, left at its
/// default after a panic.
impl<F: Future<Output = (Response<Body>, T)>, T: Default> Future for PanicGuard<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if *this.done {
            // Polled after it gave its answer for a panic: the inner future is not touched again.
            return Poll::Ready((internal_error(), T::default()));
        }
        let inner = this.inner;
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(poll) => poll,
            Err(panic) => {
                *this.done = true;
                let reason = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(%reason, "a request's execution panicked; answered 500");
                Poll::Ready((internal_error(), T::default()))
            }
        }
    }
}

/// API Gateway's answer when it fails inside: the DEFAULT_5XX body and error type.
fn internal_error() -> Response<Body> {
    let mut response = Response::new(full(&br#"{"message":"Internal server error"}"#[..]));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(&header_names::X_AMZN_ERROR_TYPE, HeaderValue::from_static("InternalServerErrorException"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn a_panicking_request_gets_500_and_others_their_answer() {
        let panics = PanicGuard::new(async {
            tokio::task::yield_now().await;
            let nothing: Vec<Response<Body>> = Vec::new();
            (nothing.into_iter().next().expect("a bug on the request path"), 7u8)
        });
        let (response, rest) = panics.await;
        assert_eq!(rest, 0, "what else the caller gets is left at its default");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()["x-amzn-errortype"], "InternalServerErrorException");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], br#"{"message":"Internal server error"}"#);

        let (fine, rest) = PanicGuard::new(async { (Response::new(full(&b"ok"[..])), 7u8) }).await;
        assert_eq!(fine.status(), StatusCode::OK);
        assert_eq!(rest, 7);
    }
}
