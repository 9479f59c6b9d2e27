"""Builds an API from nothing with boto3, updates every part with patch operations, deploys
it, calls it through real backends, and reads everything back."""

import json
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import NLB_ARN


def call(url, method="GET", headers=None, body=None):
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def error_of(excinfo):
    err = excinfo.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]


def wait_for_link(c, link_id, status):
    deadline = time.time() + 10
    while time.time() < deadline:
        link = c.get_vpc_link(vpcLinkId=link_id)
        if link["status"] != "PENDING":
            break
        time.sleep(0.05)
    assert link["status"] == status, link
    return link


def strip(response):
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def build(c, public_backend):
    """The API: GET /pets (HTTP, mapped), GET /pets/{petId} (HTTP, 404 by pattern),
    GET /private (HTTP_PROXY through a VPC link)."""
    api = c.create_rest_api(name="pets", description="built by boto3")
    api_id, root = api["id"], api["rootResourceId"]
    pets = c.create_resource(restApiId=api_id, parentId=root, pathPart="pets")
    pet = c.create_resource(restApiId=api_id, parentId=pets["id"], pathPart="{petId}")
    private = c.create_resource(restApiId=api_id, parentId=root, pathPart="private")
    assert pet["path"] == "/pets/{petId}"

    c.put_method(
        restApiId=api_id, resourceId=pets["id"], httpMethod="GET", authorizationType="NONE",
        requestParameters={"method.request.querystring.type": False},
    )
    c.put_integration(
        restApiId=api_id, resourceId=pets["id"], httpMethod="GET", type="HTTP",
        integrationHttpMethod="POST", uri=f"{public_backend}/pets",
        requestParameters={"integration.request.header.x-pet-type": "method.request.querystring.type"},
        requestTemplates={"application/json": '{"wanted": "$input.params(\'type\')", "stage": "$context.stage"}'},
        passthroughBehavior="WHEN_NO_TEMPLATES", timeoutInMillis=10000,
    )
    c.put_method_response(restApiId=api_id, resourceId=pets["id"], httpMethod="GET", statusCode="200")
    c.put_integration_response(
        restApiId=api_id, resourceId=pets["id"], httpMethod="GET", statusCode="200",
        responseTemplates={"application/json": '{"backend": $input.json(\'$.server\'), "sent": $input.json(\'$.body\'), "header": $input.json(\'$.headers.x-pet-type\')}'},
    )

    c.put_method(
        restApiId=api_id, resourceId=pet["id"], httpMethod="GET", authorizationType="NONE",
        requestParameters={"method.request.path.petId": True},
    )
    c.put_integration(
        restApiId=api_id, resourceId=pet["id"], httpMethod="GET", type="HTTP", integrationHttpMethod="GET",
        uri=f"{public_backend}/status/{{code}}",
        requestParameters={"integration.request.path.code": "method.request.path.petId"},
    )
    for code in ("200", "404"):
        c.put_method_response(restApiId=api_id, resourceId=pet["id"], httpMethod="GET", statusCode=code)
    c.put_integration_response(
        restApiId=api_id, resourceId=pet["id"], httpMethod="GET", statusCode="200",
        responseTemplates={"application/json": '{"found": true}'},
    )
    c.put_integration_response(
        restApiId=api_id, resourceId=pet["id"], httpMethod="GET", statusCode="404", selectionPattern="4\\d\\d",
        responseTemplates={"application/json": '{"found": false, "status": "$input.path(\'$.path\')"}'},
    )

    link = c.create_vpc_link(name="internal", targetArns=[NLB_ARN])
    assert link["status"] == "PENDING"
    wait_for_link(c, link["id"], "AVAILABLE")
    c.put_method(restApiId=api_id, resourceId=private["id"], httpMethod="GET", authorizationType="NONE")
    c.put_integration(
        restApiId=api_id, resourceId=private["id"], httpMethod="GET", type="HTTP_PROXY",
        integrationHttpMethod="GET", uri="http://internal.example.com/inside",
        connectionType="VPC_LINK", connectionId=link["id"],
    )
    return api_id, {"pets": pets["id"], "pet": pet["id"], "private": private["id"], "root": root}, link["id"]


def test_build_patch_deploy_call_and_read_back(portico, public_backend):
    c = portico.client()
    api_id, ids, link_id = build(c, public_backend)
    base = f"{portico.data_url}/restapis/{api_id}/dev/_user_request_"

    # Nothing is live before a deployment.
    status, _, body = call(f"{base}/pets")
    assert status == 403 and json.loads(body) == {"message": "Missing Authentication Token"}

    # Patch operations on each part.
    c.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/description", "value": "patched"}])
    c.update_method(
        restApiId=api_id, resourceId=ids["pets"], httpMethod="GET",
        patchOperations=[{"op": "add", "path": "/requestParameters/method.request.header.x-trace", "value": "false"}],
    )
    c.update_integration(
        restApiId=api_id, resourceId=ids["pets"], httpMethod="GET",
        patchOperations=[
            {"op": "replace", "path": "/timeoutInMillis", "value": "5000"},
            {"op": "add", "path": "/requestParameters/integration.request.header.x-trace", "value": "method.request.header.x-trace"},
            {"op": "replace", "path": "/requestTemplates/application~1json",
             "value": '{"wanted": "$input.params(\'type\')", "stage": "$context.stage", "v": 2}'},
        ],
    )
    c.update_method_response(
        restApiId=api_id, resourceId=ids["pets"], httpMethod="GET", statusCode="200",
        patchOperations=[{"op": "add", "path": "/responseParameters/method.response.header.X-Backend", "value": "false"}],
    )
    c.update_integration_response(
        restApiId=api_id, resourceId=ids["pets"], httpMethod="GET", statusCode="200",
        patchOperations=[{"op": "add", "path": "/responseParameters/method.response.header.X-Backend", "value": "'echo'"}],
    )
    c.update_integration_response(
        restApiId=api_id, resourceId=ids["pet"], httpMethod="GET", statusCode="404",
        patchOperations=[{"op": "replace", "path": "/selectionPattern", "value": "404"}],
    )
    c.update_vpc_link(vpcLinkId=link_id, patchOperations=[{"op": "replace", "path": "/name", "value": "inside"}])

    deployment = c.create_deployment(restApiId=api_id, stageName="dev", description="first")
    c.update_stage(
        restApiId=api_id, stageName="dev",
        patchOperations=[
            {"op": "replace", "path": "/variables/color", "value": "blue"},
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "100"},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "50"},
        ],
    )

    # The data plane: mapped requests and responses from real backends.
    status, headers, body = call(f"{base}/pets?type=dog", headers={"Content-Type": "application/json", "x-trace": "t1"})
    assert status == 200, body
    assert headers["X-Backend"] == "echo"
    out = json.loads(body)
    assert out["backend"] == "public" and out["header"] == "dog"
    assert json.loads(out["sent"]) == {"wanted": "dog", "stage": "dev", "v": 2}

    status, _, body = call(f"{base}/pets/404")
    assert status == 404 and json.loads(body) == {"found": False, "status": "/status/404"}
    status, _, body = call(f"{base}/pets/200")
    assert status == 200 and json.loads(body) == {"found": True}

    status, _, body = call(f"{base}/private?x=1")
    assert status == 200, body
    private = json.loads(body)
    assert private["server"] == "private" and private["path"] == "/inside" and private["query"] == "x=1"

    # Other ways in: the execute-api host, and the plain stage path while one API is deployed.
    host = portico.data_url.split("//")[1]
    status, _, body = call(f"{portico.data_url}/dev/pets/200", headers={"Host": f"{api_id}.execute-api.localhost"})
    assert status == 200 and json.loads(body) == {"found": True}
    status, _, _ = call(f"http://{host}/dev/pets/200")
    assert status == 200

    # A change reaches the data plane only when deployed.
    c.update_integration_response(
        restApiId=api_id, resourceId=ids["pet"], httpMethod="GET", statusCode="200",
        patchOperations=[{"op": "replace", "path": "/responseTemplates/application~1json", "value": '{"found": "yes"}'}],
    )
    assert json.loads(call(f"{base}/pets/200")[2]) == {"found": True}
    second = c.create_deployment(restApiId=api_id, stageName="dev")
    assert json.loads(call(f"{base}/pets/200")[2]) == {"found": "yes"}
    # Each stage serves its own deployment's snapshot.
    c.create_stage(restApiId=api_id, stageName="old", deploymentId=deployment["id"])
    status, _, body = call(f"{portico.data_url}/restapis/{api_id}/old/_user_request_/pets/200")
    assert status == 200 and json.loads(body) == {"found": True}

    # Everything reads back as written.
    rest_api = c.get_rest_api(restApiId=api_id)
    assert rest_api["name"] == "pets" and rest_api["description"] == "patched"
    assert strip(c.get_method(restApiId=api_id, resourceId=ids["pets"], httpMethod="GET")) == {
        "httpMethod": "GET",
        "authorizationType": "NONE",
        "apiKeyRequired": False,
        "requestParameters": {"method.request.querystring.type": False, "method.request.header.x-trace": False},
        "methodResponses": {"200": {"statusCode": "200", "responseParameters": {"method.response.header.X-Backend": False}}},
        "methodIntegration": strip(c.get_integration(restApiId=api_id, resourceId=ids["pets"], httpMethod="GET")),
    }
    integration = strip(c.get_integration(restApiId=api_id, resourceId=ids["pets"], httpMethod="GET"))
    assert integration == {
        "type": "HTTP",
        "httpMethod": "POST",
        "uri": f"{public_backend}/pets",
        "connectionType": "INTERNET",
        "requestParameters": {
            "integration.request.header.x-pet-type": "method.request.querystring.type",
            "integration.request.header.x-trace": "method.request.header.x-trace",
        },
        "requestTemplates": {"application/json": '{"wanted": "$input.params(\'type\')", "stage": "$context.stage", "v": 2}'},
        "passthroughBehavior": "WHEN_NO_TEMPLATES",
        "timeoutInMillis": 5000,
        "cacheNamespace": ids["pets"],
        "cacheKeyParameters": [],
        "integrationResponses": {
            "200": {
                "statusCode": "200",
                "responseParameters": {"method.response.header.X-Backend": "'echo'"},
                "responseTemplates": {"application/json": '{"backend": $input.json(\'$.server\'), "sent": $input.json(\'$.body\'), "header": $input.json(\'$.headers.x-pet-type\')}'},
            }
        },
    }
    assert strip(c.get_integration_response(restApiId=api_id, resourceId=ids["pet"], httpMethod="GET", statusCode="404")) == {
        "statusCode": "404",
        "selectionPattern": "404",
        "responseTemplates": {"application/json": '{"found": false, "status": "$input.path(\'$.path\')"}'},
    }
    private_integration = c.get_integration(restApiId=api_id, resourceId=ids["private"], httpMethod="GET")
    assert private_integration["connectionType"] == "VPC_LINK" and private_integration["connectionId"] == link_id
    link = c.get_vpc_link(vpcLinkId=link_id)
    assert (link["name"], link["status"], link["targetArns"]) == ("inside", "AVAILABLE", [NLB_ARN])
    stage = c.get_stage(restApiId=api_id, stageName="dev")
    assert stage["deploymentId"] == second["id"] and stage["variables"] == {"color": "blue"}
    assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == 100.0
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == 50
    assert {d["id"] for d in c.get_deployments(restApiId=api_id)["items"]} == {deployment["id"], second["id"]}
    assert sorted(s["stageName"] for s in c.get_stages(restApiId=api_id)["item"]) == ["dev", "old"]
    resources = c.get_resources(restApiId=api_id, embed=["methods"])["items"]
    by_path = {r["path"]: r for r in resources}
    assert set(by_path) == {"/", "/pets", "/pets/{petId}", "/private"}
    assert by_path["/pets/{petId}"]["resourceMethods"]["GET"]["methodIntegration"]["integrationResponses"]["404"]["selectionPattern"] == "404"
    page = c.get_resources(restApiId=api_id, limit=2)
    assert len(page["items"]) == 2 and "position" in page
    rest = c.get_resources(restApiId=api_id, limit=2, position=page["position"])
    assert {r["path"] for r in page["items"] + rest["items"]} == set(by_path)

    # A resource renamed by patch moves its children, and serves under the new path once deployed.
    c.update_resource(restApiId=api_id, resourceId=ids["pets"], patchOperations=[{"op": "replace", "path": "/pathPart", "value": "animals"}])
    assert c.get_resource(restApiId=api_id, resourceId=ids["pet"])["path"] == "/animals/{petId}"
    c.create_deployment(restApiId=api_id, stageName="dev")
    assert call(f"{base}/animals/200")[0] == 200
    assert call(f"{base}/pets/200")[0] == 403


def test_aws_errors(portico, public_backend):
    c = portico.client()
    api_id, ids, link_id = build(c, public_backend)
    c.create_deployment(restApiId=api_id, stageName="prod")

    with pytest.raises(ClientError) as e:
        c.get_rest_api(restApiId="nosuchapi1")
    assert error_of(e) == (404, "NotFoundException", "Invalid API identifier specified 000000000000:nosuchapi1")
    with pytest.raises(ClientError) as e:
        c.get_resource(restApiId=api_id, resourceId="nope00")
    assert error_of(e) == (404, "NotFoundException", "Invalid Resource identifier specified")
    with pytest.raises(ClientError) as e:
        c.get_method(restApiId=api_id, resourceId=ids["root"], httpMethod="GET")
    assert error_of(e) == (404, "NotFoundException", "Invalid Method identifier specified")
    with pytest.raises(ClientError) as e:
        c.get_integration_response(restApiId=api_id, resourceId=ids["pets"], httpMethod="GET", statusCode="500")
    assert error_of(e) == (404, "NotFoundException", "Invalid Response status code specified")
    with pytest.raises(ClientError) as e:
        c.get_stage(restApiId=api_id, stageName="nostage")
    assert error_of(e) == (404, "NotFoundException", "Invalid Stage identifier specified")

    with pytest.raises(ClientError) as e:
        c.create_resource(restApiId=api_id, parentId=ids["root"], pathPart="pets")
    assert error_of(e) == (409, "ConflictException", "Another resource with the same parent already has this name: pets")
    with pytest.raises(ClientError) as e:
        c.create_resource(restApiId=api_id, parentId=ids["pets"], pathPart="{other}")
    assert error_of(e)[:2] == (400, "BadRequestException")
    with pytest.raises(ClientError) as e:
        c.put_method(restApiId=api_id, resourceId=ids["pets"], httpMethod="GET", authorizationType="NONE")
    assert error_of(e) == (409, "ConflictException", "Method already exists for this resource")

    with pytest.raises(ClientError) as e:
        c.update_integration(
            restApiId=api_id, resourceId=ids["pets"], httpMethod="GET",
            patchOperations=[{"op": "replace", "path": "/notAField", "value": "x"}],
        )
    status, code, message = error_of(e)
    assert (status, code) == (400, "BadRequestException")
    assert message.startswith("Invalid patch path  '/notAField' specified for op 'replace'. Must be one of: [")
    with pytest.raises(ClientError) as e:
        c.update_resource(restApiId=api_id, resourceId=ids["pets"], patchOperations=[{"op": "add", "path": "/pathPart", "value": "x"}])
    assert error_of(e) == (400, "BadRequestException", "Invalid patch path  '/pathPart' specified for op 'add'. Please choose supported operations")
    with pytest.raises(ClientError) as e:
        c.update_integration(
            restApiId=api_id, resourceId=ids["pets"], httpMethod="GET",
            patchOperations=[{"op": "replace", "path": "/timeoutInMillis", "value": "60000"}],
        )
    assert error_of(e) == (400, "BadRequestException", "Timeout should be between 50 ms and 29000 ms")
    # A refused patch changes nothing.
    assert c.get_integration(restApiId=api_id, resourceId=ids["pets"], httpMethod="GET")["timeoutInMillis"] == 10000

    with pytest.raises(ClientError) as e:
        c.delete_vpc_link(vpcLinkId=link_id)
    assert error_of(e) == (
        400,
        "BadRequestException",
        f"Cannot delete vpc link. Vpc link '{link_id}', is referenced in [GET:{ids['private']}:prod] in format of [Method:Resource:Stage].",
    )
    # Once no deployed stage uses it, it goes.
    c.delete_stage(restApiId=api_id, stageName="prod")
    c.delete_vpc_link(vpcLinkId=link_id)
    with pytest.raises(ClientError) as e:
        c.get_vpc_link(vpcLinkId=link_id)
    assert error_of(e)[:2] == (404, "NotFoundException")

    failed = c.create_vpc_link(name="nowhere", targetArns=["arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/missing/1"])
    assert wait_for_link(c, failed["id"], "FAILED")["statusMessage"]

    empty = c.create_rest_api(name="empty")
    with pytest.raises(ClientError) as e:
        c.create_deployment(restApiId=empty["id"], stageName="dev")
    assert error_of(e) == (400, "BadRequestException", "The REST API doesn't contain any methods")


def test_test_invoke_method_shows_each_phase(portico, public_backend):
    c = portico.client()
    api_id, ids, _ = build(c, public_backend)
    result = c.test_invoke_method(
        restApiId=api_id, resourceId=ids["pets"], httpMethod="GET", pathWithQueryString="/pets?type=cat",
        headers={"Content-Type": "application/json"},
    )
    assert result["status"] == 200
    body = json.loads(result["body"])
    assert body["header"] == "cat"
    assert json.loads(body["sent"]) == {"wanted": "cat", "stage": "test-invoke-stage"}
    log = result["log"]
    assert "Method request query string: {type=cat}" in log
    assert 'Endpoint request body after transformations: {"wanted": "cat", "stage": "test-invoke-stage"}' in log
    assert "Selected integration response: 200 (the default)" in log
    assert "Method completed with status: 200" in log
    assert result["headers"]["content-type"] == "application/json"
    not_found = c.test_invoke_method(restApiId=api_id, resourceId=ids["pet"], httpMethod="GET", pathWithQueryString="/pets/404")
    assert not_found["status"] == 404
    assert "Selected integration response: 404 (selectionPattern ^(?:4\\d\\d)$)" in not_found["log"]


def test_patch_parts_models_validators_gateway_responses(portico, public_backend):
    c = portico.client()
    api_id, ids, _ = build(c, public_backend)
    c.create_model(restApiId=api_id, name="Pet", contentType="application/json",
                   schema=json.dumps({"type": "object", "required": ["name"]}))
    validator = c.create_request_validator(restApiId=api_id, name="body", validateRequestBody=True)
    c.put_method(restApiId=api_id, resourceId=ids["pets"], httpMethod="POST", authorizationType="NONE",
                 requestValidatorId=validator["id"], requestModels={"application/json": "Pet"})
    c.put_integration(restApiId=api_id, resourceId=ids["pets"], httpMethod="POST", type="MOCK",
                      requestTemplates={"application/json": '{"statusCode": 200}'})
    c.put_method_response(restApiId=api_id, resourceId=ids["pets"], httpMethod="POST", statusCode="200")
    c.put_integration_response(restApiId=api_id, resourceId=ids["pets"], httpMethod="POST", statusCode="200",
                               responseTemplates={"application/json": '{"created": true}'})
    c.put_gateway_response(restApiId=api_id, responseType="BAD_REQUEST_BODY", statusCode="422",
                           responseTemplates={"application/json": '{"problem": "$context.error.validationErrorString"}'})
    c.update_gateway_response(restApiId=api_id, responseType="BAD_REQUEST_BODY",
                              patchOperations=[{"op": "add", "path": "/responseParameters/gatewayresponse.header.X-Why", "value": "'invalid'"}])
    c.update_request_validator(restApiId=api_id, requestValidatorId=validator["id"],
                               patchOperations=[{"op": "replace", "path": "/name", "value": "body-only"}])
    c.update_model(restApiId=api_id, modelName="Pet",
                   patchOperations=[{"op": "replace", "path": "/description", "value": "a pet"}])
    c.create_deployment(restApiId=api_id, stageName="dev")

    url = f"{portico.data_url}/restapis/{api_id}/dev/_user_request_/pets"
    status, headers, body = call(url, "POST", {"Content-Type": "application/json"}, b'{"name": "rex"}')
    assert (status, json.loads(body)) == (200, {"created": True})
    status, headers, body = call(url, "POST", {"Content-Type": "application/json"}, b'{"age": 3}')
    assert status == 422 and headers["X-Why"] == "invalid"
    assert body == '{"problem": "[object has missing required properties (["name"])]"}', body

    assert c.get_request_validator(restApiId=api_id, requestValidatorId=validator["id"])["name"] == "body-only"
    model = c.get_model(restApiId=api_id, modelName="Pet")
    assert model["description"] == "a pet" and json.loads(model["schema"])["required"] == ["name"]
    response = c.get_gateway_response(restApiId=api_id, responseType="BAD_REQUEST_BODY")
    assert response["statusCode"] == "422" and response["defaultResponse"] is False
    assert response["responseParameters"] == {"gatewayresponse.header.X-Why": "'invalid'"}
    default = c.get_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN")
    assert default["statusCode"] == "403" and default["defaultResponse"] is True


def test_deletes_and_copy_remove_patches(portico, public_backend):
    c = portico.client()
    api_id, ids, _ = build(c, public_backend)
    pets = ids["pets"]

    # copy and remove, as AWS applies them.
    c.update_integration(
        restApiId=api_id, resourceId=pets, httpMethod="GET",
        patchOperations=[
            {"op": "copy", "from": "/requestTemplates/application~1json", "path": "/requestTemplates/text~1plain"},
            {"op": "remove", "path": "/requestParameters/integration.request.header.x-pet-type"},
            {"op": "add", "path": "/cacheKeyParameters/method.request.querystring.type"},
        ],
    )
    integration = c.get_integration(restApiId=api_id, resourceId=pets, httpMethod="GET")
    assert integration["requestTemplates"]["text/plain"] == integration["requestTemplates"]["application/json"]
    assert "requestParameters" not in integration or integration["requestParameters"] == {}
    assert integration["cacheKeyParameters"] == ["method.request.querystring.type"]
    c.update_method(restApiId=api_id, resourceId=pets, httpMethod="GET",
                    patchOperations=[{"op": "remove", "path": "/requestParameters/method.request.querystring.type"}])
    assert c.get_method(restApiId=api_id, resourceId=pets, httpMethod="GET").get("requestParameters", {}) == {}

    # Each part deleted, and gone.
    c.delete_integration_response(restApiId=api_id, resourceId=ids["pet"], httpMethod="GET", statusCode="404")
    with pytest.raises(ClientError) as e:
        c.get_integration_response(restApiId=api_id, resourceId=ids["pet"], httpMethod="GET", statusCode="404")
    assert error_of(e)[:2] == (404, "NotFoundException")
    c.delete_method_response(restApiId=api_id, resourceId=ids["pet"], httpMethod="GET", statusCode="404")
    with pytest.raises(ClientError):
        c.get_method_response(restApiId=api_id, resourceId=ids["pet"], httpMethod="GET", statusCode="404")
    c.delete_integration(restApiId=api_id, resourceId=ids["pet"], httpMethod="GET")
    with pytest.raises(ClientError) as e:
        c.get_integration(restApiId=api_id, resourceId=ids["pet"], httpMethod="GET")
    assert error_of(e) == (404, "NotFoundException", "Invalid Integration identifier specified")
    c.delete_method(restApiId=api_id, resourceId=ids["pet"], httpMethod="GET")
    with pytest.raises(ClientError):
        c.get_method(restApiId=api_id, resourceId=ids["pet"], httpMethod="GET")
    # Deleting a resource takes its children with it.
    c.delete_resource(restApiId=api_id, resourceId=pets)
    remaining = {r["path"] for r in c.get_resources(restApiId=api_id)["items"]}
    assert remaining == {"/", "/private"}
    with pytest.raises(ClientError):
        c.get_resource(restApiId=api_id, resourceId=ids["pet"])

    c.delete_rest_api(restApiId=api_id)
    with pytest.raises(ClientError) as e:
        c.get_rest_api(restApiId=api_id)
    assert error_of(e)[:2] == (404, "NotFoundException")
    assert api_id not in {a["id"] for a in c.get_rest_apis()["items"]}
