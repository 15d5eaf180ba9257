"""Huawei Cloud Workspace (application streaming) SDK (huaweicloudsdkworkspaceapp v1) against the emulator:
DELETE /v1/{project_id}/app-servers/{server_id}. BasicCredentials(ak, sk, project_id) fills the path's
project_id and sends (and signs) X-Project-Id.
"""
import uuid

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, ServerResponseException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkworkspaceapp.v1 import DeleteServerRequest, WorkspaceAppClient

from conftest import (CONNECT_TIMEOUT_S, HUAWEI_AK, HUAWEI_SK, READ_TIMEOUT_S, assert_huawei_code_shape,
                      assert_request_id, credentials_of, require)

SERVICE = "huawei-workspace"


@pytest.fixture
def make_client(endpoint):
    def make(project_id, ak=HUAWEI_AK, sk=HUAWEI_SK, security_token=None):
        cred = BasicCredentials(ak, sk, project_id)
        if security_token:
            cred = cred.with_security_token(security_token)
        cfg = HttpConfig.get_default_config()
        cfg.timeout = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S)
        return (WorkspaceAppClient.new_builder().with_credentials(cred).with_http_config(cfg)
                .with_endpoint(endpoint).build())
    return make


def server(states, **params):
    return require(states.setup(SERVICE, "app server exists", **params), "project_id", "server_id")


def delete(client, server_id):
    return client.delete_server(DeleteServerRequest(server_id=server_id))


def assert_error(exc_info, cls, status):
    e = exc_info.value
    assert type(e) is cls, f"{type(e).__name__}: {e}"
    assert e.status_code == status, str(e)
    assert_request_id(e.request_id)
    assert isinstance(e.error_msg, str) and e.error_msg.strip(), str(e)
    # The seed documents the envelope {error_code, error_msg} but no codes: only the shape is checked.
    assert_huawei_code_shape(e.error_code)
    return e


@pytest.mark.parametrize("locked", [None, False])
def test_delete_server(states, make_client, locked):
    project_id, server_id = server(states, locked=locked)
    resp = delete(make_client(project_id), server_id)
    assert resp.status_code == 200
    assert isinstance(resp.job_id, str) and resp.job_id.strip(), resp
    assert not states.probe("app_server", server_id)


def test_delete_server_that_does_not_exist_succeeds(states, make_client):
    project_id, server_id = server(states)
    missing = str(uuid.uuid4())
    resp = delete(make_client(project_id), missing)
    assert resp.status_code == 200
    assert resp.job_id is None or isinstance(resp.job_id, str), resp
    # The project's real server is untouched.
    assert states.probe("app_server", server_id)


def test_delete_server_twice_succeeds(states, make_client):
    project_id, server_id = server(states)
    client = make_client(project_id)
    assert delete(client, server_id).status_code == 200
    assert delete(client, server_id).status_code == 200


def test_locked_server_conflicts(states, make_client):
    project_id, server_id = server(states, locked=True)
    with pytest.raises(ClientRequestException) as ei:
        delete(make_client(project_id), server_id)
    assert_error(ei, ClientRequestException, 409)
    assert states.probe("app_server", server_id)


@pytest.mark.parametrize("status", [500, 503])
def test_service_fails(states, make_client, status):
    project_id, server_id = require(states.setup(SERVICE, "service fails", status=status), "project_id", "server_id")
    with pytest.raises(ServerResponseException) as ei:
        delete(make_client(project_id), server_id)
    assert_error(ei, ServerResponseException, status)


def test_wrong_secret_key(states, make_client):
    project_id, server_id = server(states)
    with pytest.raises(ClientRequestException) as ei:
        delete(make_client(project_id, sk="not-the-" + HUAWEI_SK), server_id)
    e = assert_error(ei, ClientRequestException, 401)
    assert e.error_code == "APIGW.0301", str(e)
    assert states.probe("app_server", server_id)


def test_unknown_access_key(states, make_client):
    project_id, server_id = server(states)
    with pytest.raises(ClientRequestException) as ei:
        delete(make_client(project_id, ak="CONFORMUNKNOWNAK0000"), server_id)
    e = assert_error(ei, ClientRequestException, 401)
    assert e.error_code == "APIGW.0301", str(e)
    assert states.probe("app_server", server_id)


def test_caller_without_permission(states, make_client):
    project_id, server_id = server(states)
    ak, sk, security_token = credentials_of(states.setup(SERVICE, "caller lacks permission"),
                                            token_keys=("security_token",))
    with pytest.raises(ClientRequestException) as ei:
        delete(make_client(project_id, ak, sk, security_token), server_id)
    assert_error(ei, ClientRequestException, 403)
    assert states.probe("app_server", server_id)


@pytest.mark.parametrize("odd_id", ["a b", "a/b", "\u00fc"])
def test_missing_server_ids_with_reserved_characters_succeed(states, make_client, odd_id):
    """Servers that do not exist are ignored (seed): also when the id has characters the SDK escapes.
    The SDK sends `a/b` as `.../app-servers/a%2Fb` but signs the canonical URI `.../app-servers/a/b/`."""
    project_id, server_id = server(states)
    resp = delete(make_client(project_id), odd_id)
    assert resp.status_code == 200
    assert states.probe("app_server", server_id)
