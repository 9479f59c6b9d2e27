//! Signature Version 4, as the AWS SDKs and CLI sign management requests. Without configured
//! credentials any signature is accepted (as local tools expect); with them, the signature is
//! recomputed from the request and a mismatch gets AWS's 403.

use super::error::AdminError;
use http::HeaderMap;
use ring::{digest, hmac};
use std::collections::HashMap;

/// Access key id → secret access key.
#[derive(Debug, Clone, Default)]
pub struct Credentials(pub HashMap<String, String>);

impl Credentials {
    /// One `ACCESS_KEY_ID SECRET` (or `ACCESS_KEY_ID:SECRET`) per line; `#` starts a comment.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut keys = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (id, secret) = line
                .split_once(|c: char| c == ':' || c.is_whitespace())
                .ok_or_else(|| format!("line {}: expected ACCESS_KEY_ID SECRET", n + 1))?;
            keys.insert(id.trim().to_string(), secret.trim().to_string());
        }
        Ok(Self(keys))
    }
}

fn forbidden(kind: &'static str, message: &str) -> AdminError {
    AdminError::Forbidden(kind, message.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

fn sign(key: &[u8], data: &str) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes()).as_ref().to_vec()
}

/// The path as SigV4 canonicalises it for every service but S3: each byte outside the
/// unreserved set (and `/`) percent-encoded again.
fn canonical_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

fn canonical_query(query: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

struct Authorization<'a> {
    access_key: &'a str,
    scope: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?.trim();
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed_headers = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let credential = credential?;
    let (access_key, scope) = credential.split_once('/')?;
    let mut parts = scope.split('/');
    let (date, region, service) = (parts.next()?, parts.next()?, parts.next()?);
    Some(Authorization {
        access_key,
        scope,
        date,
        region,
        service,
        signed_headers: signed_headers?,
        signature: signature?,
    })
}

/// Checks a request's signature against `credentials`.
pub fn verify(
    credentials: &Credentials,
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), AdminError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(auth) = header("authorization") else {
        return Err(forbidden("MissingAuthenticationTokenException", "Missing Authentication Token"));
    };
    let auth = parse_authorization(auth).ok_or_else(|| {
        forbidden(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders'.",
        )
    })?;
    let Some(secret) = credentials.0.get(auth.access_key) else {
        return Err(forbidden("UnrecognizedClientException", "The security token included in the request is invalid."));
    };
    let amz_date = header("x-amz-date").unwrap_or("");
    let mut canonical_headers = String::new();
    for name in auth.signed_headers.split(';') {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload = header("x-amz-content-sha256").map(str::to_string).unwrap_or_else(|| sha256_hex(body));
    let canonical_request = format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{}\n{payload}",
        canonical_uri(path),
        canonical_query(query),
        auth.signed_headers
    );
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{}\n{}", auth.scope, sha256_hex(canonical_request.as_bytes()));
    let key = [auth.date, auth.region, auth.service, "aws4_request"]
        .iter()
        .fold(format!("AWS4{secret}").into_bytes(), |key, part| sign(&key, part));
    let expected = hex(&sign(&key, &string_to_sign));
    let matches = expected.len() == auth.signature.len()
        && expected.bytes().zip(auth.signature.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if matches {
        Ok(())
    } else {
        Err(forbidden(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published example (IAM ListUsers, from the Signature Version 4 documentation).
    #[test]
    fn the_documented_example_verifies() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "iam.amazonaws.com".parse().unwrap());
        headers.insert("content-type", "application/x-www-form-urlencoded; charset=utf-8".parse().unwrap());
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7".parse().unwrap(),
        );
        let creds = Credentials::parse("AKIDEXAMPLE wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n").unwrap();
        verify(&creds, "GET", "/", Some("Action=ListUsers&Version=2010-05-08"), &headers, b"").unwrap();
        let err = verify(&creds, "GET", "/", Some("Action=ListUsers&Version=2010-05-09"), &headers, b"").unwrap_err();
        assert_eq!(err.error_type(), "InvalidSignatureException");
        let other = Credentials::parse("SOMEONEELSE:secret").unwrap();
        assert_eq!(
            verify(&other, "GET", "/", None, &headers, b"").unwrap_err().error_type(),
            "UnrecognizedClientException"
        );
    }
}
