//! `$context`: the per-request variables API Gateway exposes to mappings, templates, gateway
//! responses and access logs (`runtime.md` §11.1).

use std::time::{SystemTime, UNIX_EPOCH};

/// Portico's stand-in for the AWS account that owns the API.
pub const ACCOUNT_ID: &str = "000000000000";

#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub api_id: std::sync::Arc<str>,
    pub deployment_id: std::sync::Arc<str>,
    pub domain_name: String,
    /// Set only where it is given on its own (`portico render --context`); otherwise the
    /// first label of `domain_name`.
    pub domain_prefix: Option<String>,
    pub extended_request_id: String,
    pub http_method: std::borrow::Cow<'static, str>,
    /// `/{stage}{raw path}`, as the client wrote it.
    pub path: String,
    pub protocol: &'static str,
    pub request_id: String,
    /// Shared by the requests of one second (see [`request_time`]).
    pub request_time: std::sync::Arc<str>,
    pub request_time_epoch: u64,
    pub resource_id: std::sync::Arc<str>,
    pub resource_path: std::sync::Arc<str>,
    pub stage: std::sync::Arc<str>,
    pub source_ip: String,
    pub user_agent: String,
    pub error: ErrorContext,
    /// Milliseconds the integration took (access logs).
    pub integration_latency: Option<u64>,
    /// The status the integration answered with (access logs).
    pub integration_status: Option<u16>,
    /// Why the integration failed, when it did (access logs).
    pub integration_error: Option<String>,
    /// Further variables by dotted name (`authorizer.principalId`, values given to
    /// `portico render --context`).
    pub extra: std::collections::BTreeMap<String, String>,
}

/// `$context.error.*`, set when a gateway response is being produced.
#[derive(Debug, Clone, Default)]
pub struct ErrorContext {
    pub message: String,
    pub response_type: &'static str,
    pub validation_error_string: String,
}

impl RequestContext {
    /// The variables held as text, borrowed (`requestId`, `stage`, ...); `None` for the rest,
    /// which [`RequestContext::get`] formats.
    pub fn text(&self, name: &str) -> Option<&str> {
        Some(match name {
            "apiId" => &self.api_id,
            "deploymentId" => &self.deployment_id,
            "domainName" => &self.domain_name,
            "domainPrefix" => match &self.domain_prefix {
                Some(prefix) => prefix,
                None => self.domain_name.split('.').next().unwrap_or(""),
            },
            "extendedRequestId" => &self.extended_request_id,
            "httpMethod" => &self.http_method,
            "path" => &self.path,
            "protocol" => self.protocol,
            "requestId" | "awsEndpointRequestId" => &self.request_id,
            "requestTime" => &self.request_time,
            "resourceId" => &self.resource_id,
            "resourcePath" => &self.resource_path,
            "stage" => &self.stage,
            "identity.sourceIp" => &self.source_ip,
            "identity.userAgent" => &self.user_agent,
            _ => return None,
        })
    }

    /// The value of a `$context` variable by its dotted name; `None` for variables that are
    /// null on this request (identity fields without an authorizer, for example).
    pub fn get(&self, name: &str) -> Option<String> {
        if let Some(text) = self.text(name) {
            return Some(text.to_string());
        }
        let v = match name {
            "accountId" | "identity.accountId" => return (name == "accountId").then(|| ACCOUNT_ID.to_string()),
            "requestTimeEpoch" => return Some(self.request_time_epoch.to_string()),
            "integrationLatency" | "integration.latency" => return self.integration_latency.map(|l| l.to_string()),
            "integrationStatus" | "integration.status" | "integration.integrationStatus" => {
                return self.integration_status.map(|s| s.to_string())
            }
            "integration.error" => return self.integration_error.clone(),
            "isCanaryRequest" => "false",
            "error.message" => &self.error.message,
            "error.messageString" => return Some(json_quoted(&self.error.message)),
            "error.responseType" => self.error.response_type,
            "error.validationErrorString" => &self.error.validation_error_string,
            _ => return self.extra.get(name).cloned(),
        };
        Some(v.to_string())
    }
}

fn json_quoted(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// `dd/MMM/yyyy:HH:mm:ss +0000` and milliseconds since the epoch, as `$context.requestTime`
/// and `$context.requestTimeEpoch` give them.
pub fn request_time(now: SystemTime) -> (std::sync::Arc<str>, u64) {
    let ms = now.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let secs = ms / 1000;
    // Requests of the same second share the text; formatting it is most of the cost.
    thread_local! {
        static LAST: std::cell::RefCell<(u64, std::sync::Arc<str>)> = std::cell::RefCell::new((u64::MAX, "".into()));
    }
    let text = LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != secs {
            *last = (secs, format_request_time(secs).into());
        }
        last.1.clone()
    });
    (text, ms)
}

fn format_request_time(secs: u64) -> String {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!("{d:02}/{}/{y:04}:{:02}:{:02}:{:02} +0000", MONTHS[(m - 1) as usize], rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 to a (year, month, day) date (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn request_time_format() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(request_time(t), ("14/Nov/2023:22:13:20 +0000".into(), 1_700_000_000_123));
    }
}
