#!/usr/bin/env python3
"""Point the official SDKs at a canned loopback HTTP server and record what they send and accept.

Run inside the tests/sdk venv:  python tests/sdk/tools/capture.py > capture.json
Prints a JSON document: one entry per scenario with the raw request(s) the SDK sent, the canned
answer it got, and what the SDK made of it (return value or exception class and attributes).
It listens on 127.0.0.1 only and sends nothing anywhere else.
"""
import json
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


class Canned:
    def __init__(self):
        self.requests = []
        self.answers = []  # list of (status, headers, body)
        self.default = (200, {"Content-Type": "application/json"}, b"{}")
        self.lock = threading.Lock()

    def next_answer(self):
        with self.lock:
            return self.answers.pop(0) if self.answers else self.default


def make_handler(canned):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def _any(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            u = urlsplit(self.path)
            canned.requests.append({
                "method": self.command,
                "path": u.path,
                "raw_query": u.query,
                "query": dict(parse_qsl(u.query, keep_blank_values=True)),
                "headers": [[k, v] for k, v in self.headers.items()],
                "body": body.decode("utf-8", "replace"),
            })
            status, headers, rbody = canned.next_answer()
            if isinstance(rbody, str):
                rbody = rbody.encode()
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(rbody)))
            self.end_headers()
            self.wfile.write(rbody)

        do_GET = do_POST = do_DELETE = do_PUT = _any

    return H


CANNED = Canned()
SERVER = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(CANNED))
PORT = SERVER.server_address[1]
threading.Thread(target=SERVER.serve_forever, daemon=True).start()

RESULTS = []


def describe_exc(e):
    d = {"class": f"{type(e).__module__}.{type(e).__name__}"}
    for attr in ("code", "message", "status_code", "request_id", "error_code", "error_msg", "data",
                 "encoded_auth_msg", "name", "retry_after"):
        if hasattr(e, attr):
            try:
                v = getattr(e, attr)
                json.dumps(v)
                d[attr] = v
            except Exception:
                d[attr] = repr(getattr(e, attr, None))
    for getter in ("get_error_code", "get_error_msg", "get_http_status", "get_request_id", "get_error_type"):
        if hasattr(e, getter):
            d[getter] = getattr(e, getter)()
    if type(e).__name__ == "UnretryableException":
        d["inner"] = repr(getattr(e, "inner_exception", None))
    d["str"] = str(e)[:400]
    return d


def scenario(name, fn, answers=(), note=""):
    CANNED.requests.clear()
    CANNED.answers[:] = list(answers)
    entry = {"name": name, "note": note, "answers": [[s, h, b if isinstance(b, str) else b.decode()] for s, h, b in answers]}
    try:
        r = fn()
        entry["result"] = r if isinstance(r, (str, dict, list, type(None))) else repr(r)
    except Exception as e:  # noqa: BLE001
        entry["exception"] = describe_exc(e)
        if not hasattr(e, "code") and not hasattr(e, "error_code") and not hasattr(e, "get_error_code"):
            entry["traceback"] = traceback.format_exc()[-1500:]
    entry["requests"] = list(CANNED.requests)
    RESULTS.append(entry)


J = {"Content-Type": "application/json;charset=utf-8"}
XML = {"Content-Type": "text/xml;charset=utf-8"}
RID = "8A1B2C3D-0000-4000-8000-0123456789AB"


def ali_err(code, msg, status=400, rid=RID):
    return (status, J, json.dumps({"RequestId": rid, "HostId": "smc.aliyuncs.com", "Code": code, "Message": msg,
                                   "Recommend": "https://api.aliyun.com/troubleshoot?q=" + code}))


def ali_xml_err(code, msg, status=400, ct=XML):
    return (status, ct, f"<?xml version='1.0' encoding='UTF-8'?><Error><RequestId>{RID}</RequestId>"
                        f"<HostId>smc.aliyuncs.com</HostId><Code>{code}</Code><Message>{msg}</Message>"
                        f"<Recommend>x</Recommend></Error>")


# ---------------------------------------------------------------- Alibaba Tea (new) SDK
def tea_scenarios():
    from alibabacloud_smc20190601.client import Client
    from alibabacloud_smc20190601 import models as m
    from alibabacloud_tea_openapi import models as om

    def client(v1=False, ak="conform-alibaba-ak", sk="conform-alibaba-secret", token=None):
        cfg = om.Config(access_key_id=ak, access_key_secret=sk, security_token=token,
                        endpoint=f"127.0.0.1:{PORT}", protocol="http", region_id="cn-hangzhou")
        if v1:
            cfg.signature_algorithm = "v2"
        return Client(cfg)

    def resp(r):
        return {"status_code": r.status_code, "headers": dict(r.headers or {}), "body": r.body.to_map() if r.body else None}

    ok = (200, J, json.dumps({"RequestId": RID}))
    for v1 in (False, True):
        tag = "tea-v1" if v1 else "tea-v3"
        scenario(f"{tag} DeleteSourceServer force=True ok",
                 lambda: resp(client(v1).delete_source_server(m.DeleteSourceServerRequest(source_id="s-abc123", force=True))),
                 [ok])
        scenario(f"{tag} DeleteSourceServer force=False ok",
                 lambda: resp(client(v1).delete_source_server(m.DeleteSourceServerRequest(source_id="s-abc123", force=False))),
                 [ok])
        scenario(f"{tag} DeleteReplicationJob ok",
                 lambda: resp(client(v1).delete_replication_job(m.DeleteReplicationJobRequest(job_id="j-abc123"))), [ok])
        scenario(f"{tag} DeleteSourceServer no SourceId (SDK does not validate)",
                 lambda: resp(client(v1).delete_source_server(m.DeleteSourceServerRequest())),
                 [ali_err("MissingParameter", 'The input parameter "SourceId" that is mandatory for processing this request is not supplied.')])
        scenario(f"{tag} STS token",
                 lambda: resp(client(v1, token="conform-sts-token").delete_replication_job(m.DeleteReplicationJobRequest(job_id="j-1"))),
                 [ok])
        scenario(f"{tag} 400 JSON error", lambda: client(v1).delete_source_server(m.DeleteSourceServerRequest(source_id="s-1")),
                 [ali_err("SourceServerState.Invalid", "The specified source server status is invalid.")])
        scenario(f"{tag} 404 JSON error", lambda: client(v1).delete_source_server(m.DeleteSourceServerRequest(source_id="s-1")),
                 [ali_err("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)])
        scenario(f"{tag} 500 JSON error", lambda: client(v1).delete_source_server(m.DeleteSourceServerRequest(source_id="s-1")),
                 [ali_err("InternalError", "An error occurred while processing your request.", 500)])
        scenario(f"{tag} 503 JSON error", lambda: client(v1).delete_replication_job(m.DeleteReplicationJobRequest(job_id="j-1")),
                 [ali_err("ServiceUnavailable", "The request has failed due to a temporary failure of the server.", 503)])
        scenario(f"{tag} 400 XML error text/xml;charset=utf-8",
                 lambda: client(v1).delete_source_server(m.DeleteSourceServerRequest(source_id="s-1")),
                 [ali_xml_err("ReplicationJob.Related", "The specified source server has related replication jobs.")])
        scenario(f"{tag} 400 XML error with Content-Type text/xml; charset=UTF-8",
                 lambda: client(v1).delete_source_server(m.DeleteSourceServerRequest(source_id="s-1")),
                 [ali_xml_err("ReplicationJob.Related", "x", ct={"Content-Type": "text/xml; charset=UTF-8"})])
        scenario(f"{tag} 400 JSON error lowercase keys",
                 lambda: client(v1).delete_source_server(m.DeleteSourceServerRequest(source_id="s-1")),
                 [(400, J, json.dumps({"requestId": RID, "code": "X.Y", "message": "m"}))])
        scenario(f"{tag} 400 JSON error without RequestId, request id only in header",
                 lambda: client(v1).delete_source_server(m.DeleteSourceServerRequest(source_id="s-1")),
                 [(400, {**J, "x-acs-request-id": RID}, json.dumps({"Code": "X.Y", "Message": "m"}))])
        scenario(f"{tag} 400 with x-acs-retry-after header",
                 lambda: client(v1).delete_source_server(m.DeleteSourceServerRequest(source_id="s-1")),
                 [(400, {**J, "x-acs-retry-after": "5"}, json.dumps({"RequestId": RID, "Code": "Throttling.User", "Message": "m"}))])
        scenario(f"{tag} 200 XML success body",
                 lambda: resp(client(v1).delete_source_server(m.DeleteSourceServerRequest(source_id="s-1"))),
                 [(200, XML, f"<DeleteSourceServerResponse><RequestId>{RID}</RequestId></DeleteSourceServerResponse>")])
        scenario(f"{tag} 200 empty body",
                 lambda: resp(client(v1).delete_source_server(m.DeleteSourceServerRequest(source_id="s-1"))),
                 [(200, J, "")])
        scenario(f"{tag} 200 JSON with extra fields",
                 lambda: resp(client(v1).delete_source_server(m.DeleteSourceServerRequest(source_id="s-1"))),
                 [(200, J, json.dumps({"RequestId": RID, "Extra": 1}))])
        scenario(f"{tag} 204 no body",
                 lambda: resp(client(v1).delete_source_server(m.DeleteSourceServerRequest(source_id="s-1"))),
                 [(204, {}, "")])


# ---------------------------------------------------------------- Alibaba legacy SDK
def legacy_scenarios():
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.auth.credentials import StsTokenCredential, AccessKeyCredential
    from aliyunsdksmc.request.v20190601.DeleteSourceServerRequest import DeleteSourceServerRequest
    from aliyunsdksmc.request.v20190601.DeleteReplicationJobRequest import DeleteReplicationJobRequest

    def client(ak="conform-alibaba-ak", sk="conform-alibaba-secret", token=None):
        if token:
            return AcsClient(region_id="cn-hangzhou", credential=StsTokenCredential(ak, sk, token))
        return AcsClient(ak, sk, "cn-hangzhou")

    def dss(source_id="s-abc123", force=None, method=None):
        r = DeleteSourceServerRequest()
        r.set_endpoint(f"127.0.0.1:{PORT}")
        r.set_protocol_type("http")
        if source_id is not None:
            r.set_SourceId(source_id)
        if force is not None:
            r.set_Force(force)
        if method:
            r.set_method(method)
        return r

    def drj(job_id="j-abc123"):
        r = DeleteReplicationJobRequest()
        r.set_endpoint(f"127.0.0.1:{PORT}")
        r.set_protocol_type("http")
        r.set_JobId(job_id)
        return r

    ok = (200, J, json.dumps({"RequestId": RID}))

    def run(c, r):
        return c.do_action_with_exception(r).decode()

    scenario("legacy DeleteSourceServer force=True ok", lambda: run(client(), dss(force=True)), [ok])
    scenario("legacy DeleteSourceServer GET", lambda: run(client(), dss(method="GET")), [ok])
    scenario("legacy DeleteReplicationJob ok", lambda: run(client(), drj()), [ok])
    scenario("legacy STS token", lambda: run(client(token="conform-sts-token"), drj()), [ok])
    scenario("legacy no SourceId", lambda: run(client(), dss(source_id=None)),
             [ali_err("MissingParameter", 'The input parameter "SourceId" that is mandatory for processing this request is not supplied.')])
    scenario("legacy 400 JSON error", lambda: run(client(), dss()),
             [ali_err("SourceServer.WithRunningReplicationJob", "The specified source server has related replication jobs that are running.")])
    scenario("legacy 404 JSON error", lambda: run(client(), dss()),
             [ali_err("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)])
    scenario("legacy 500 JSON error", lambda: run(client(), dss()),
             [ali_err("InternalError", "An error occurred while processing your request.", 500)] * 5)
    scenario("legacy 400 XML error", lambda: run(client(), dss()),
             [ali_xml_err("ReplicationJob.Related", "x")])
    # SignatureDoesNotMatch: echo the SDK's own string-to-sign after a colon (as the real service does)
    holder = {}

    def sig_echo():
        import aliyunsdkcore.client as cmod
        c = client(sk="wrong-secret")
        r = dss()
        # compute the string to sign the way the server would: we learn it from the SDK after the fact
        CANNED.answers[:] = []
        orig = cmod.AcsClient._make_http_response

        def hook(self, endpoint, request, rt, ct, signer=None):
            resp = orig(self, endpoint, request, rt, ct, signer)
            holder["sts"] = request.string_to_sign
            CANNED.answers[:] = [ali_err("SignatureDoesNotMatch",
                                         "Specified signature is not matched with our calculation. server string to sign is:"
                                         + request.string_to_sign)]
            return resp
        cmod.AcsClient._make_http_response = hook
        try:
            return run(c, r)
        finally:
            cmod.AcsClient._make_http_response = orig
    scenario("legacy SignatureDoesNotMatch, message echoes the SDK's string to sign after ':'", sig_echo)
    RESULTS[-1]["string_to_sign"] = holder.get("sts")
    scenario("legacy SignatureDoesNotMatch, message with a different string to sign after ':'",
             lambda: run(client(sk="wrong"), dss()),
             [ali_err("SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:GET&%2F&x")])
    scenario("legacy SignatureDoesNotMatch, message without ':' (crash?)", lambda: run(client(sk="wrong"), dss()),
             [ali_err("SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")])
    scenario("legacy 200 XML body", lambda: run(client(), dss()),
             [(200, XML, f"<DeleteSourceServerResponse><RequestId>{RID}</RequestId></DeleteSourceServerResponse>")])


# ---------------------------------------------------------------- Huawei SMS / Workspace
def huawei_scenarios():
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdksms.v3 import SmsClient, DeleteTaskRequest
    from huaweicloudsdkworkspaceapp.v1 import WorkspaceAppClient, DeleteServerRequest

    def sms(ak="CONFORMHUAWEIAK00000", sk="conform-huawei-sk", token=None):
        cred = BasicCredentials(ak, sk)
        if token:
            cred = cred.with_security_token(token)
        return SmsClient.new_builder().with_credentials(cred).with_endpoint(f"http://127.0.0.1:{PORT}").build()

    def ws(ak="CONFORMHUAWEIAK00000", sk="conform-huawei-sk", project="0a1b2c3d4e5f60718293a4b5c6d7e8f9", token=None):
        cred = BasicCredentials(ak, sk, project)
        if token:
            cred = cred.with_security_token(token)
        return WorkspaceAppClient.new_builder().with_credentials(cred).with_endpoint(f"http://127.0.0.1:{PORT}").build()

    def resp(r):
        return {"class": type(r).__name__, "status_code": getattr(r, "status_code", None), "to_dict": r.to_dict(),
                "raw_content": getattr(getattr(r, "raw_content", None), "decode", lambda *a: None)("utf-8")
                if isinstance(getattr(r, "raw_content", None), bytes) else repr(getattr(r, "raw_content", None))}

    H = {"Content-Type": "application/json", "X-Request-Id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}
    TID = "7a9a9540-ff28-4869-b9e4-855fbe12abcd"
    scenario("sms delete_task 200 empty body", lambda: resp(sms().delete_task(DeleteTaskRequest(task_id=TID))),
             [(200, {"X-Request-Id": "r1"}, "")])
    scenario("sms delete_task 200 JSON {} body", lambda: resp(sms().delete_task(DeleteTaskRequest(task_id=TID))),
             [(200, H, "{}")])
    scenario("sms delete_task 200 text body", lambda: resp(sms().delete_task(DeleteTaskRequest(task_id=TID))),
             [(200, {"Content-Type": "text/plain"}, "The migration task with a specified ID was deleted.")])
    scenario("sms delete_task 204", lambda: resp(sms().delete_task(DeleteTaskRequest(task_id=TID))), [(204, {}, "")])
    scenario("sms delete_task with security token", lambda: resp(sms(token="conform-sts").delete_task(DeleteTaskRequest(task_id=TID))),
             [(200, {}, "")])
    scenario("sms 403 SMS.9004", lambda: sms().delete_task(DeleteTaskRequest(task_id=TID)),
             [(403, H, json.dumps({"error_code": "SMS.9004", "error_msg": "no permission", "encoded_authorization_message": "ENC",
                                   "error_param": ["p"], "details": [{"error_code": "SMS.9004", "error_msg": "no permission"}]}))])
    scenario("sms 400 error without X-Request-Id header (request_id in body only)", lambda: sms().delete_task(DeleteTaskRequest(task_id=TID)),
             [(400, {"Content-Type": "application/json"}, json.dumps({"error_code": "SMS.2015", "error_msg": "m", "request_id": "rid-in-body"}))])
    scenario("sms 401 APIGW with lowercase x-request-id", lambda: sms(sk="wrong").delete_task(DeleteTaskRequest(task_id=TID)),
             [(401, {"Content-Type": "application/json", "x-request-id": "lower-rid"},
               json.dumps({"error_msg": "Incorrect IAM authentication information: verify aksk signature fail", "error_code": "APIGW.0301", "request_id": "lower-rid"}))])
    scenario("sms 500 non-JSON", lambda: sms().delete_task(DeleteTaskRequest(task_id=TID)), [(500, {"X-Request-Id": "r5"}, "oops")])
    scenario("sms 400 only error_code (no error_msg)", lambda: sms().delete_task(DeleteTaskRequest(task_id=TID)),
             [(400, H, json.dumps({"error_code": "SMS.2015"}))])
    scenario("sms task_id with characters needing escape", lambda: resp(sms().delete_task(DeleteTaskRequest(task_id="a b/c"))), [(200, {}, "")])

    SID = "5c3b7f2e-1d4a-4e8b-9f60-1a2b3c4d5e6f"
    scenario("ws delete_server 200 job_id", lambda: resp(ws().delete_server(DeleteServerRequest(server_id=SID))),
             [(200, H, json.dumps({"job_id": "84d5dd05-2977-4e37-8409-cf0b027f6a5b"}))])
    scenario("ws delete_server 200 empty body", lambda: resp(ws().delete_server(DeleteServerRequest(server_id=SID))), [(200, H, "")])
    scenario("ws delete_server with security token",
             lambda: resp(ws(token="conform-sts").delete_server(DeleteServerRequest(server_id=SID))),
             [(200, H, json.dumps({"job_id": "j"}))])
    scenario("ws BasicCredentials without project_id", lambda: resp(ws(project=None).delete_server(DeleteServerRequest(server_id=SID))),
             [(200, H, json.dumps({"job_id": "j"}))])
    for st, code in ((400, "WKS.0001"), (401, "APIGW.0301"), (403, "WKS.0003"), (404, "WKS.0004"), (405, "WKS.0005"),
                     (409, "WKS.0409"), (500, "WKS.0500"), (503, "WKS.0503")):
        scenario(f"ws {st} {code}", lambda: ws().delete_server(DeleteServerRequest(server_id=SID)),
                 [(st, H, json.dumps({"error_code": code, "error_msg": "message for " + code}))])
    scenario("ws 409 with code/message keys", lambda: ws().delete_server(DeleteServerRequest(server_id=SID)),
             [(409, H, json.dumps({"code": "WKS.0409", "message": "locked"}))])
    scenario("ws 409 nested error object", lambda: ws().delete_server(DeleteServerRequest(server_id=SID)),
             [(409, H, json.dumps({"error": {"code": "WKS.0409", "message": "locked"}}))])


if __name__ == "__main__":
    which = sys.argv[1:] or ["tea", "legacy", "huawei"]
    if "tea" in which:
        tea_scenarios()
    if "legacy" in which:
        legacy_scenarios()
    if "huawei" in which:
        huawei_scenarios()
    json.dump(RESULTS, sys.stdout, indent=1)
    SERVER.shutdown()
