"""Nothing acknowledged is lost: restarts (graceful or SIGKILL in the middle of a stream of
writes) serve exactly what was acknowledged, and signatures are checked when keys are set."""

import json
import threading
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError


def all_resources(c, api_id):
    items, position = [], None
    while True:
        kwargs = {"restApiId": api_id, "limit": 500}
        if position:
            kwargs["position"] = position
        page = c.get_resources(**kwargs)
        items += page["items"]
        position = page.get("position")
        if not position:
            return items


def mock_api(c, name, answer):
    api = c.create_rest_api(name=name)
    api_id, root = api["id"], api["rootResourceId"]
    c.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    c.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK",
                      requestTemplates={"application/json": '{"statusCode": 200}'})
    c.put_method_response(restApiId=api_id, resourceId=root, httpMethod="GET", statusCode="200")
    c.put_integration_response(restApiId=api_id, resourceId=root, httpMethod="GET", statusCode="200",
                               responseTemplates={"application/json": json.dumps(answer)})
    c.create_deployment(restApiId=api_id, stageName="live")
    return api_id


def get(url):
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, json.loads(resp.read())


def test_a_restart_serves_what_was_acknowledged(start_portico, tmp_path):
    state = tmp_path / "state"
    first = start_portico(state=state)
    c = first.client()
    one = mock_api(c, "one", {"api": "one"})
    two = mock_api(c, "two", {"api": "two"})
    names_before = sorted(a["name"] for a in c.get_rest_apis()["items"])
    first.stop()

    second = start_portico(state=state)
    c = second.client()
    # The document given with --config seeded the state once; it is not added again.
    assert sorted(a["name"] for a in c.get_rest_apis()["items"]) == names_before == ["one", "seeded", "two"]
    assert get(f"{second.data_url}/restapis/{one}/live/_user_request_/") == (200, {"api": "one"})
    assert get(f"{second.data_url}/restapis/{two}/live/_user_request_/") == (200, {"api": "two"})


def test_sigkill_in_a_stream_of_writes_loses_no_acknowledged_write(start_portico, tmp_path):
    state = tmp_path / "state"
    first = start_portico(state=state)
    c = first.client()
    api = c.create_rest_api(name="stream")
    api_id, root = api["id"], api["rootResourceId"]
    acknowledged, lock = [], threading.Lock()

    def writer(prefix):
        client = first.client()
        for i in range(100_000):
            try:
                created = client.create_resource(restApiId=api_id, parentId=root, pathPart=f"{prefix}{i}")
            except Exception:
                return
            with lock:
                acknowledged.append(created["id"])

    threads = [threading.Thread(target=writer, args=(p,)) for p in ("a", "b", "c")]
    for t in threads:
        t.start()
    deadline = time.time() + 60
    while len(acknowledged) < 60 and time.time() < deadline:
        time.sleep(0.01)
    first.kill()
    for t in threads:
        t.join()
    assert len(acknowledged) >= 60

    second = start_portico(state=state)
    stored = {r["id"] for r in all_resources(second.client(), api_id)}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged writes lost"


def test_signatures_are_verified_with_configured_keys(start_portico):
    p = start_portico(credentials={"AKIDPORTICO": "s3cret"})
    assert p.client("AKIDPORTICO", "s3cret").get_rest_apis()["items"][0]["name"] == "seeded"

    with pytest.raises(ClientError) as e:
        p.client("AKIDPORTICO", "wrong").get_rest_apis()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert e.value.response["Error"]["Message"].startswith("The request signature we calculated does not match")

    with pytest.raises(ClientError) as e:
        p.client("AKIDUNKNOWN", "s3cret").get_rest_apis()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"

    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{p.admin_url}/restapis", timeout=10)
    assert e.value.code == 403 and e.value.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_any_signature_is_accepted_without_configured_keys(portico):
    assert portico.client("ANYKEY", "anysecret").get_rest_apis()["items"]


def test_management_calls_past_the_limit_get_too_many_requests(start_portico):
    p = start_portico(extra=["--admin-throttle-rate", "0.001", "--admin-throttle-burst", "3"])
    c = p.client()
    codes = []
    for _ in range(6):
        try:
            c.get_rest_apis()
            codes.append(200)
        except ClientError as e:
            codes.append((e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"], e.response["Error"]["Message"]))
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [(429, "TooManyRequestsException", "Too Many Requests")] * 3


def test_export_writes_a_document_portico_serves(start_portico, tmp_path):
    import subprocess
    from conftest import portico_binary

    state = tmp_path / "state"
    p = start_portico(state=state)
    api_id = mock_api(p.client(), "exported", {"exported": True})
    out = subprocess.run([portico_binary(), "export", "--state", str(state), "--api", api_id],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["restApi"]["id"] == api_id and [s["stageName"] for s in doc["stages"]] == ["live"]
    exported = tmp_path / "exported.json"
    exported.write_text(out.stdout)
    check = subprocess.run([portico_binary(), "check", "--config", str(exported)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
