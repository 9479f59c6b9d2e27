//! Invalid API documents are refused at load with every problem and its location; `portico
//! check` and `portico serve` report them and exit 1.

use std::process::Command;

fn problems(yaml: &str) -> Vec<String> {
    match portico::config::compile_text(yaml, false) {
        Ok(_) => vec![],
        Err(p) => p.iter().map(ToString::to_string).collect(),
    }
}

/// A valid method to build cases around, indented for a `resourceMethods` entry.
const MOCK_GET: &str = r#"
      GET:
        methodResponses: {"200": {statusCode: "200"}}
        methodIntegration:
          type: MOCK
          requestTemplates: {application/json: '{"statusCode": 200}'}
          integrationResponses: {"200": {statusCode: "200"}}"#;

fn doc(resources: &str) -> String {
    format!("restApi: {{name: t}}\nresources:\n{resources}\n")
}

fn assert_problems(yaml: &str, expected: &[&str]) {
    let got = problems(yaml);
    assert_eq!(got, expected, "document:\n{yaml}");
}

#[test]
fn the_base_document_is_valid() {
    assert_problems(&doc(&format!("  - path: /pets\n    resourceMethods:{MOCK_GET}")), &[]);
}

#[test]
fn timeout_out_of_range() {
    for (value, col) in [("30000", 28), ("49", 28)] {
        let yaml = doc(&format!(
            "  - path: /p\n    resourceMethods:\n      GET:\n        methodIntegration:\n          type: HTTP_PROXY\n          httpMethod: GET\n          uri: http://127.0.0.1:1/\n          timeoutInMillis: {value}"
        ));
        assert_problems(
            &yaml,
            &[&format!("line 10, column {col}: resources[0] /p GET methodIntegration.timeoutInMillis: must be between 50 and 29000, got {value}")],
        );
    }
}

#[test]
fn unknown_enum_values() {
    let yaml = doc(
        "  - path: /p\n    resourceMethods:\n      GET:\n        authorizationType: MAGIC\n        methodIntegration:\n          type: SOAP\n  - path: /q\n    resourceMethods:\n      GET:\n        methodIntegration:\n          type: HTTP_PROXY\n          httpMethod: GET\n          uri: http://127.0.0.1:1/\n          connectionType: TUNNEL\n          passthroughBehavior: SOMETIMES\n          contentHandling: CONVERT_TO_JSON",
    );
    assert_problems(
        &yaml,
        &[
            r#"line 6, column 28: resources[0] /p GET authorizationType: must be one of NONE, AWS_IAM, CUSTOM, COGNITO_USER_POOLS, got "MAGIC""#,
            r#"line 8, column 17: resources[0] /p GET methodIntegration.type: must be one of HTTP, HTTP_PROXY, MOCK, AWS, AWS_PROXY, got "SOAP""#,
            r#"line 16, column 27: resources[1] /q GET methodIntegration.connectionType: must be one of INTERNET, VPC_LINK, got "TUNNEL""#,
            r#"line 17, column 32: resources[1] /q GET methodIntegration.passthroughBehavior: must be one of WHEN_NO_MATCH, WHEN_NO_TEMPLATES, NEVER, got "SOMETIMES""#,
            r#"line 18, column 28: resources[1] /q GET methodIntegration.contentHandling: must be one of CONVERT_TO_TEXT, CONVERT_TO_BINARY, got "CONVERT_TO_JSON""#,
        ],
    );
}

#[test]
fn greedy_part_must_be_last() {
    let yaml = doc(&format!("  - path: /files/{{proxy+}}/meta\n    resourceMethods:{MOCK_GET}"));
    assert_problems(
        &yaml,
        &["line 3, column 11: resources[0] /files/{proxy+}/meta: Cannot create a child of a resource with a greedy path variable: {proxy+}"],
    );
}

#[test]
fn two_variable_siblings() {
    let yaml = doc(&format!("  - path: /pets/{{petId}}\n    resourceMethods:{MOCK_GET}\n  - path: /pets/{{name}}\n    resourceMethods:{MOCK_GET}"));
    assert_problems(
        &yaml,
        &["line 11, column 5: resources[1] /pets/{name}: A sibling ({petId}) of this resource already has a variable path part -- only one is allowed"],
    );
}

#[test]
fn http_integrations_need_uri_and_method() {
    let yaml = doc("  - path: /p\n    resourceMethods:\n      GET:\n        methodIntegration: {type: HTTP}");
    assert_problems(
        &yaml,
        &[
            "line 6, column 28: resources[0] /p GET methodIntegration.uri: is required for this integration type",
            "line 6, column 28: resources[0] /p GET methodIntegration.httpMethod: is required for this integration type",
        ],
    );
}

#[test]
fn vpc_link_needs_connection_id() {
    let yaml = doc("  - path: /p\n    resourceMethods:\n      GET:\n        methodIntegration: {type: HTTP_PROXY, httpMethod: GET, uri: 'http://internal/', connectionType: VPC_LINK}");
    assert_problems(&yaml, &["line 6, column 28: resources[0] /p GET methodIntegration.connectionId: is required when connectionType is VPC_LINK"]);
}

#[test]
fn vpc_link_id_must_exist() {
    let yaml = doc("  - path: /p\n    resourceMethods:\n      GET:\n        methodIntegration: {type: HTTP_PROXY, httpMethod: GET, uri: 'http://internal/', connectionType: VPC_LINK, connectionId: abc123}");
    assert_problems(
        &yaml,
        &[
            r#"line 6, column 129: resources[0] /p GET methodIntegration.connectionId: no vpcLinks entry has the id "abc123""#,
        ],
    );
}

#[test]
fn integration_response_key_must_equal_status_code() {
    let yaml = doc(
        "  - path: /p\n    resourceMethods:\n      GET:\n        methodResponses: {\"200\": {statusCode: \"200\"}, \"201\": {statusCode: \"201\"}}\n        methodIntegration:\n          type: MOCK\n          integrationResponses:\n            \"200\": {statusCode: \"201\"}",
    );
    assert_problems(
        &yaml,
        &[
            r#"line 10, column 20: resources[0] /p GET methodIntegration.integrationResponses["200"].statusCode: "201" must equal its key "200""#,
        ],
    );
}

#[test]
fn malformed_mapping_expressions() {
    let yaml = doc(
        "  - path: /p/{id}\n    resourceMethods:\n      GET:\n        requestParameters: {method.request.path.id: true}\n        methodIntegration:\n          type: HTTP_PROXY\n          httpMethod: GET\n          uri: http://127.0.0.1:1/{id}\n          requestParameters:\n            integration.request.path.id: method.request.path.ID\n            integration.request.cookie.c: \"'x'\"\n            integration.request.header.h: method.request.query.q\n            integration.request.header.s: \"'unclosed\"",
    );
    assert_problems(
        &yaml,
        &[
            r#"line 12, column 42: resources[0] /p/{id} GET methodIntegration.requestParameters["integration.request.path.id"]: method.request.path.ID is not declared in the method's requestParameters"#,
            r#"line 13, column 43: resources[0] /p/{id} GET methodIntegration.requestParameters["integration.request.cookie.c"]: invalid mapping target "integration.request.cookie.c": must be integration.request.path|querystring|header.NAME"#,
            r#"line 14, column 43: resources[0] /p/{id} GET methodIntegration.requestParameters["integration.request.header.h"]: invalid mapping expression "method.request.query.q""#,
            r#"line 15, column 43: resources[0] /p/{id} GET methodIntegration.requestParameters["integration.request.header.s"]: invalid mapping expression "'unclosed": a static value must be enclosed in single quotes"#,
        ],
    );
}

#[test]
fn unknown_keys_are_errors_and_bookkeeping_keys_are_not() {
    let yaml = "restApi: {name: t, createdDate: 2024-01-01, colour: blue}\nresources:\n  - path: /p\n    _links: {}\n    resourceMethods:\n      GET:\n        methodIntegration: {type: MOCK, timeoutInMilis: 100}\n";
    assert_problems(
        yaml,
        &[
            "line 1, column 45: restApi.colour: unknown key",
            "line 7, column 41: resources[0] /p GET methodIntegration.timeoutInMilis: unknown key",
        ],
    );
}

#[test]
fn invalid_selection_pattern() {
    let yaml = doc(
        "  - path: /p\n    resourceMethods:\n      GET:\n        methodResponses: {\"400\": {statusCode: \"400\"}}\n        methodIntegration:\n          type: MOCK\n          integrationResponses:\n            \"400\": {statusCode: \"400\", selectionPattern: \"4(\"}",
    );
    assert_problems(
        &yaml,
        &[
            r#"line 10, column 58: resources[0] /p GET methodIntegration.integrationResponses["400"].selectionPattern: invalid regular expression: unclosed group"#,
        ],
    );
}

#[test]
fn integration_response_needs_a_method_response() {
    let yaml = doc("  - path: /p\n    resourceMethods:\n      GET:\n        methodIntegration:\n          type: MOCK\n          integrationResponses:\n            \"200\": {statusCode: \"200\"}");
    assert_problems(
        &yaml,
        &[
            r#"line 9, column 20: resources[0] /p GET methodIntegration.integrationResponses["200"].statusCode: no methodResponses entry has the statusCode "200""#,
        ],
    );
}

#[test]
fn path_and_parent_chain_must_agree() {
    let yaml = "restApi: {name: t}\nresources:\n  - {id: root1, path: /}\n  - {id: pets1, parentId: root1, pathPart: pets, path: /dogs}\n  - {id: orphan, parentId: nobody, pathPart: x}\n";
    assert_problems(
        yaml,
        &[
            r#"line 4, column 56: resources[1].path: "/dogs" disagrees with parentId/pathPart, which give "/pets""#,
            r#"line 5, column 28: resources[2].parentId: no resource has the id "nobody""#,
        ],
    );
}

#[test]
fn bad_path_parts_and_verbs() {
    let yaml = doc(&format!(
        "  - path: /a b\n    resourceMethods:{MOCK_GET}\n  - path: /ok\n    resourceMethods:\n      FETCH: {{}}"
    ));
    assert_problems(
        &yaml,
        &[
            r#"line 3, column 11: resources[0] /a b: path part "a b" may contain only letters, digits, '_', '-', '.', ',', ':' or be a {parameter}"#,
            "line 13, column 7: resources[1] /ok resourceMethods.FETCH: unknown HTTP method; must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY",
        ],
    );
}

#[test]
fn method_without_integration() {
    let yaml = doc("  - path: /p\n    resourceMethods:\n      GET: {authorizationType: NONE}");
    assert_problems(&yaml, &["line 5, column 12: resources[0] /p GET methodIntegration: is required (AWS refuses to deploy a method without an integration)"]);
}

#[test]
fn syntax_errors_point_at_the_place() {
    assert_problems(
        "restApi:\n  name: x\n  bad: [1, 2\n",
        &["line 4, column 1: document: invalid YAML: while parsing a flow sequence, expected ',' or ']'"],
    );
    let json =
        portico::config::compile_text("{\"restApi\": {\"name\": \"x\"},\n \"resources\": [,]}", true).unwrap_err();
    assert_eq!(
        json[0].to_string(),
        "line 2, column 16: document: invalid JSON: unexpected character, a value was expected"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let yaml = "restApi: {name: t}\nstages: [{stageName: 'bad name!'}]\nresources:\n  - path: /p\n    resourceMethods:\n      GET:\n        methodIntegration: {type: HTTP, httpMethod: GET, uri: 'ftp://x/', timeoutInMillis: 10}\n";
    assert_problems(
        yaml,
        &[
            r#"line 2, column 10: stages[0].stageName: must be letters, digits, '-' and '_' (at most 128), got "bad name!""#,
            "line 7, column 63: resources[0] /p GET methodIntegration.uri: \"ftp://x/\" is not an absolute http:// or https:// URL",
            "line 7, column 92: resources[0] /p GET methodIntegration.timeoutInMillis: must be between 50 and 29000, got 10",
        ],
    );
}

fn portico() -> Command {
    Command::new(env!("CARGO_BIN_EXE_portico"))
}

#[test]
fn check_command_exit_codes_and_output() {
    let dir = std::env::temp_dir().join(format!("portico-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.yaml");
    std::fs::write(&good, doc(&format!("  - path: /pets\n    resourceMethods:{MOCK_GET}"))).unwrap();
    let out = portico().args(["check", "--config"]).arg(&good).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid"));

    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "restApi: {name: t, colour: blue}\nresources:\n  - path: /p\n    resourceMethods:\n      GET: {}\n",
    )
    .unwrap();
    let out = portico().args(["check", "--config"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("(2 problems)"), "{err}");
    assert!(err.contains("bad.yaml: line 1, column 20: restApi.colour: unknown key"), "{err}");
    assert!(err.contains("resources[0] /p GET methodIntegration: is required"), "{err}");

    let out = portico().args(["serve", "--listen", "127.0.0.1:0", "--config"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "serve refuses an invalid document");
    assert!(String::from_utf8_lossy(&out.stderr).contains("restApi.colour: unknown key"));

    let out = portico().args(["check", "--config"]).arg(dir.join("absent.yaml")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
    std::fs::remove_dir_all(&dir).ok();
}
