//! A response body bounded by the integration's deadline: API Gateway gives a backend
//! `timeoutInMillis` for its whole answer, so a body that is still arriving when the time is
//! up fails (the client, which has the status already, sees the connection end short of the
//! body) instead of holding the client for as long as the backend stalls.

use crate::pipeline::{Body, BoxError};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::time::{Instant, Sleep};

struct Deadline {
    body: Body,
    deadline: Instant,
    /// Armed the first time the body has to wait: a body that never waits costs no timer.
    timer: Option<Pin<Box<Sleep>>>,
}

/// `body`, bounded by `deadline` when there is one.
pub(crate) fn bound(body: Body, deadline: Option<Instant>) -> Body {
    use http_body_util::BodyExt;
    match deadline {
        Some(deadline) => Deadline { body, deadline, timer: None }.boxed_unsync(),
        None => body,
    }
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Pending => {
                let deadline = this.deadline;
                let timer = this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                match timer.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => Poll::Ready(Some(Err("the backend did not send the whole body in time".into()))),
                }
            }
            ready => ready,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
