//! Header names the gateway adds, drops or renames on every request, made once: a name
//! given as text is parsed on each use, and one that is not a standard header is copied
//! into a new allocation as well.

use http::{HeaderMap, HeaderName, HeaderValue};

pub static X_AMZN_REQUESTID: HeaderName = HeaderName::from_static("x-amzn-requestid");
pub static X_AMZ_APIGW_ID: HeaderName = HeaderName::from_static("x-amz-apigw-id");
pub static X_AMZN_TRACE_ID: HeaderName = HeaderName::from_static("x-amzn-trace-id");
pub static X_AMZN_APIGATEWAY_API_ID: HeaderName = HeaderName::from_static("x-amzn-apigateway-api-id");
pub static X_AMZN_ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");
pub static X_AMZ_INVOCATION_TYPE: HeaderName = HeaderName::from_static("x-amz-invocation-type");
pub static X_AMZ_FUNCTION_ERROR: HeaderName = HeaderName::from_static("x-amz-function-error");

/// HTTP_PROXY response headers API Gateway drops (`runtime.md` §8.1).
pub static DROPPED_PROXY: [HeaderName; 4] = [
    http::header::TRANSFER_ENCODING,
    http::header::CONTENT_ENCODING,
    http::header::VIA,
    HeaderName::from_static("keep-alive"),
];

/// HTTP_PROXY response headers API Gateway renames, each with its new name (`runtime.md` §8.1);
/// AWS_PROXY renames the first four.
pub static REMAPPED_PROXY: [(HeaderName, HeaderName); 5] = [
    (http::header::CONNECTION, HeaderName::from_static("x-amzn-remapped-connection")),
    (http::header::CONTENT_LENGTH, HeaderName::from_static("x-amzn-remapped-content-length")),
    (http::header::DATE, HeaderName::from_static("x-amzn-remapped-date")),
    (http::header::SERVER, HeaderName::from_static("x-amzn-remapped-server")),
    (HeaderName::from_static("x-amzn-requestid"), HeaderName::from_static("x-amzn-remapped-x-amzn-requestid")),
];

/// Which of `candidates` the map holds, one bit each: a message carries few headers and
/// seldom any of the gateway's candidates, so one pass over its names is cheaper than a
/// hashed lookup for every candidate.
pub fn present<T>(headers: &HeaderMap, candidates: &[T], name: impl Fn(&T) -> &HeaderName) -> u32 {
    headers.keys().fold(0, |bits, key| match candidates.iter().position(|c| name(c) == key) {
        Some(i) => bits | 1 << i,
        None => bits,
    })
}

/// Removes every one of `names` the map holds.
pub fn remove_all(headers: &mut HeaderMap, names: &[HeaderName]) {
    let found = present(headers, names, |name| name);
    for (i, name) in names.iter().enumerate() {
        if found & 1 << i != 0 {
            headers.remove(name);
        }
    }
}

/// The first value of each of `names`, found in one pass over the map: for the few headers a
/// request carries, cheaper than a hashed lookup for each name.
pub fn first_values<'a, const N: usize>(
    headers: &'a HeaderMap,
    names: [&HeaderName; N],
) -> [Option<&'a HeaderValue>; N] {
    let mut found = [None; N];
    for (name, value) in headers {
        if let Some(at) = names.iter().position(|n| *n == name) {
            found[at].get_or_insert(value);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_values_are_those_get_gives() {
        let mut headers = HeaderMap::new();
        for (name, value) in [("x-b", "1"), ("host", "h"), ("x-b", "2"), ("user-agent", "ua")] {
            headers.append(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
        let names = [&http::header::HOST, &HeaderName::from_static("x-b"), &http::header::ACCEPT, &X_AMZN_TRACE_ID];
        let found = first_values(&headers, names);
        for (name, value) in names.iter().zip(found) {
            assert_eq!(value, headers.get(*name), "{name}");
        }
        assert_eq!(found[1].map(|v| v.as_bytes()), Some(&b"1"[..]));
    }
}
