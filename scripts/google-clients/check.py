#!/usr/bin/env python3
"""Drive a playbill sandbox with Google's official Python clients, changed only in their
endpoint, and report whether the sandbox answers them the way Google does.

Clients: google-auth (service-account key file -> JWT-bearer grant at the sandbox's
token_uri), google-api-python-client (built from contracts/androidpublisher.v3.json),
google-cloud-pubsub (REST transport) and google-cloud-storage.

    python3 scripts/google-clients/check.py                       # starts target/debug/playbill
    python3 scripts/google-clients/check.py --start path/to/playbill
    python3 scripts/google-clients/check.py --base-url http://127.0.0.1:8081 --key-file key.json

Prints one line per check (PASS / FAIL / SKIP and why) and exits 1 on any FAIL.
A SKIP means the sandbox answered 404 "Method not found" for that method: not served yet.
"""

import argparse
import datetime as dt
import io
import json
import logging
import os
import queue
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
import zipfile
from pathlib import Path

# The clients would otherwise talk to an emulator named in the environment instead of the
# endpoint given here.
for _var in ("PUBSUB_EMULATOR_HOST", "STORAGE_EMULATOR_HOST"):
    os.environ.pop(_var, None)

import requests  # noqa: E402
import google.auth.transport.requests  # noqa: E402
from google.api_core import exceptions as gexc  # noqa: E402
from google.oauth2 import service_account  # noqa: E402
from googleapiclient import discovery  # noqa: E402
from googleapiclient import errors as gerrors  # noqa: E402
from googleapiclient import http as ghttp  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
AP_SCOPE = "https://www.googleapis.com/auth/androidpublisher"
PUBSUB_SCOPE = "https://www.googleapis.com/auth/pubsub"
STORAGE_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
DAY_MS = 86_400_000

# No client call may hang the run (httplib2 and requests fall back to this).
socket.setdefaulttimeout(60)


class Skip(Exception):
    """The check cannot run; the message says why."""


def describe(e):
    """One line for an exception, with what Google's clients parsed out of the answer."""
    if isinstance(e, gerrors.HttpError):
        return f"HttpError {e.status_code} {e.uri}: reason={e.reason!r} details={e.error_details!r}"
    if isinstance(e, gexc.GoogleAPICallError):
        return f"{type(e).__name__} {e.code}: {e.message}"
    if isinstance(e, AssertionError):
        return str(e) or "assertion failed"
    tb = traceback.extract_tb(e.__traceback__)
    where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
    return f"{type(e).__name__}: {e}{where}"


def not_served(e):
    """The sandbox's answer for a route it has no handler for: 404 'Method not found'."""
    if isinstance(e, gerrors.HttpError):
        text = f"{e.reason} {e.content[:400]!r}"
        return e.status_code == 404 and "Method not found" in text
    if isinstance(e, gexc.GoogleAPICallError):
        return e.code == 404 and "Method not found" in (e.message or "")
    return False


def served(call, what):
    """Runs `call()`; a 'Method not found' 404 becomes a SKIP."""
    try:
        return call()
    except Exception as e:
        if not_served(e):
            raise Skip(f"not served yet: {what} answers 404 Method not found") from None
        if isinstance(e, gerrors.HttpError) and e.status_code == 405:
            raise AssertionError(
                f"{what}: {e.resp.get('status')} {e.reason!r}, content-type "
                f"{e.resp.get('content-type')!r}, body {e.content[:200]!r}: Google answers a method it "
                "does not have with 404 and its JSON error envelope"
            ) from None
        raise


def empty(r):
    """A method without a response schema: google-api-python-client returns the raw body."""
    return r in (b"", "", {}, None)


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def eq(actual, wanted, what):
    expect(actual == wanted, f"{what}: expected {wanted!r}, got {actual!r}")


def rfc3339_ms(s):
    """Milliseconds since the epoch of a Google timestamp (`2024-01-02T03:04:05.678Z`)."""
    return int(dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000 + 0.5)


class Results:
    def __init__(self):
        self.rows = []
        self.before = None

    def run(self, name, fn, *args):
        try:
            if self.before:
                self.before()
            detail = fn(*args)
            status, detail = "PASS", detail or ""
        except Skip as e:
            status, detail = "SKIP", str(e)
        except Exception as e:  # every failure is reported, none stops the run
            status, detail = "FAIL", describe(e)
        self.rows.append((status, name, detail))
        print(f"{status} {name}" + (f" — {detail}" if detail else ""), flush=True)
        return status


# ---------------------------------------------------------------------------------------
# The sandbox: started here or given


class StartedSandbox:
    """`playbill sandbox --listen 127.0.0.1:0` run as a child; the base URL is read from its
    output."""

    def __init__(self, binary):
        binary = Path(binary)
        if not binary.exists():
            sys.exit(f"{binary} does not exist: build it with `cargo build -p playbill`")
        self.dir = tempfile.mkdtemp(prefix="playbill-google-clients-")
        self.key_file = os.path.join(self.dir, "key.json")
        self.proc = subprocess.Popen(
            [str(binary), "sandbox", "--listen", "127.0.0.1:0", "--key-file", self.key_file],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        lines = queue.Queue()
        self.output = []

        def drain():
            for line in self.proc.stdout:
                self.output.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=drain, daemon=True).start()
        deadline = time.monotonic() + 30
        self.base_url = None
        while self.base_url is None:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None or time.monotonic() > deadline:
                self.stop()
                sys.exit("the sandbox did not print its URL:\n" + "".join(self.output))
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                self.base_url = m.group(1).rstrip("/")
        for _ in range(100):
            if os.path.exists(self.key_file) and os.path.getsize(self.key_file) > 0:
                break
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------------------------------


class Checks:
    def __init__(self, base, key_file, package, contract):
        self.base = base.rstrip("/")
        self.key_file = key_file
        self.pkg = package
        self.contract = contract
        self.key = json.loads(Path(key_file).read_text())
        self.project = self.key["project_id"]
        self.creds = service_account.Credentials.from_service_account_file(
            key_file, scopes=[AP_SCOPE]
        )
        self.document = Path(contract).read_text()
        self.fresh()
        self.run_id = uuid.uuid4().hex[:8]
        self.one_time = "gc_coins"
        self.sub = "gc_premium"

    def fresh(self):
        """A new discovery client, hence a new HTTP connection, before each check and after
        each POST: every check sees its own method's answers, not a connection that an
        earlier call left broken (the sandbox drops a connection after a POST whose body it
        did not read; `keep_alive` reports that once)."""
        checks = self

        class Request(ghttp.HttpRequest):
            def execute(self, *args, **kwargs):
                try:
                    return super().execute(*args, **kwargs)
                finally:
                    if self.method != "GET":
                        checks.fresh()

        self.ap = discovery.build_from_document(
            self.document,
            credentials=self.creds,
            client_options={"api_endpoint": self.base},
            requestBuilder=Request,
        )

    # -- control API (plain HTTP, not Google's) --

    def ctl(self, method, path, body=None):
        r = requests.request(method, self.base + path, json=body, timeout=30)
        expect(r.status_code in (200, 201), f"control {method} {path}: {r.status_code} {r.text[:300]}")
        return r.json() if r.content else {}

    def buy(self, product_id, **kw):
        return self.ctl("POST", f"/sandbox/v1/apps/{self.pkg}/purchases", {"product_id": product_id, **kw})

    def act(self, token, action, body=None):
        return self.ctl("POST", f"/sandbox/v1/apps/{self.pkg}/purchases/{token}:{action}", body)

    def now_ms(self):
        return self.ctl("GET", "/sandbox/v1/clock")["now_millis"]

    def setup(self):
        for pid, kind in ((self.one_time, "one_time"), (self.sub, "subscription")):
            body = {"product_id": pid, "type": kind}
            if kind == "subscription":
                body["billing_period"] = "P1M"
            self.ctl("POST", f"/sandbox/v1/apps/{self.pkg}/products", body)
        self.rtdn_topic = self.ctl("GET", "/sandbox/v1/rtdn")["topic"]
        return f"products {self.one_time}, {self.sub} in {self.pkg}; RTDN topic {self.rtdn_topic}"

    # -- Play Developer API through google-api-python-client --

    def purchases(self):
        return self.ap.purchases()

    def v2(self, token):
        return self.purchases().subscriptionsv2().get(packageName=self.pkg, token=token).execute()

    def auth_token(self):
        eq(self.key["token_uri"], self.base + "/token", "key file token_uri")
        self.creds.refresh(google.auth.transport.requests.Request())
        expect(self.creds.valid and self.creds.token, "no access token after refresh")
        left = (self.creds.expiry - dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)).total_seconds()
        expect(left > 60, f"token expires in {left:.0f}s")
        return f"JWT-bearer grant at {self.key['token_uri']}, token valid {left:.0f}s"

    def auth_wrong_scope(self):
        creds = service_account.Credentials.from_service_account_file(self.key_file, scopes=[PUBSUB_SCOPE])
        ap = discovery.build_from_document(self.document, credentials=creds, client_options={"api_endpoint": self.base})
        try:
            ap.purchases().products().get(packageName=self.pkg, productId=self.one_time, token="x").execute()
        except gerrors.HttpError as e:
            eq(e.status_code, 403, "status")
            eq(e.error_details[0]["reason"], "insufficientPermissions", "reason")
            return f"403 {e.error_details[0]['reason']}: {e.reason}"
        raise AssertionError("a token without the androidpublisher scope was accepted")

    def discovery_endpoint(self):
        req = self.purchases().products().get(packageName=self.pkg, productId=self.one_time, token="T")
        want = f"{self.base}/androidpublisher/v3/applications/{self.pkg}/purchases/products/{self.one_time}/tokens/T"
        expect(req.uri.startswith(want), f"request URI {req.uri}, expected {want}?...")
        return req.uri

    def products_get(self):
        p = self.buy(self.one_time, obfuscated_account_id="acct-1", obfuscated_profile_id="prof-1")
        self.ot = p
        r = self.purchases().products().get(packageName=self.pkg, productId=self.one_time, token=p["purchase_token"]).execute()
        eq(r.get("kind"), "androidpublisher#productPurchase", "kind")
        eq(r.get("orderId"), p["order_id"], "orderId")
        eq(r.get("purchaseState"), 0, "purchaseState")
        eq(r.get("acknowledgementState"), 0, "acknowledgementState")
        eq(r.get("consumptionState"), 0, "consumptionState")
        eq(r.get("quantity"), 1, "quantity")
        eq(r.get("obfuscatedExternalAccountId"), "acct-1", "obfuscatedExternalAccountId")
        expect(str(r.get("purchaseTimeMillis", "")).isdigit(), f"purchaseTimeMillis {r.get('purchaseTimeMillis')!r}")
        return f"orderId {r['orderId']}, purchaseState 0"

    def products_acknowledge(self):
        t = self.ot["purchase_token"]
        r = self.purchases().products().acknowledge(
            packageName=self.pkg, productId=self.one_time, token=t, body={"developerPayload": "gc"}
        ).execute()
        expect(empty(r), f"acknowledge answered a body: {r!r}")
        g = self.purchases().products().get(packageName=self.pkg, productId=self.one_time, token=t).execute()
        eq(g.get("acknowledgementState"), 1, "acknowledgementState after acknowledge")
        return "acknowledgementState 1"

    def products_consume(self):
        t = self.ot["purchase_token"]
        r = self.purchases().products().consume(packageName=self.pkg, productId=self.one_time, token=t).execute()
        expect(empty(r), f"consume answered a body: {r!r}")
        g = self.purchases().products().get(packageName=self.pkg, productId=self.one_time, token=t).execute()
        eq(g.get("consumptionState"), 1, "consumptionState after consume")
        return "consumptionState 1"

    def keep_alive(self):
        """httplib2 keeps its connection open between calls. Over a real network a POST's
        headers and body often arrive in separate segments; this pauses 50 ms between them
        (the clients are otherwise unchanged) so that the outcome does not hang on timing."""
        import google_auth_httplib2
        import httplib2

        class SplitConnection(httplib2.HTTPConnectionWithTimeout):
            def send(self, data):
                super().send(data)
                if isinstance(data, bytes) and data.startswith(b"POST ") and data.endswith(b"\r\n\r\n"):
                    time.sleep(0.05)

        class SplitHttp(httplib2.Http):
            def request(self, *args, **kwargs):
                kwargs["connection_type"] = SplitConnection
                return super().request(*args, **kwargs)

        http = google_auth_httplib2.AuthorizedHttp(self.creds, http=SplitHttp(timeout=30))
        products = discovery.build_from_document(
            self.document, http=http, client_options={"api_endpoint": self.base}
        ).purchases().products()
        t = self.buy(self.one_time)["purchase_token"]
        products.get(packageName=self.pkg, productId=self.one_time, token=t).execute()
        products.acknowledge(packageName=self.pkg, productId=self.one_time, token=t,
                             body={"developerPayload": "keep-alive"}).execute()
        try:
            products.consume(packageName=self.pkg, productId=self.one_time, token=t).execute()
        except (OSError, ConnectionError) as e:
            raise AssertionError(
                f"{type(e).__name__} ({e}) sending purchases.products.consume on the connection that "
                "had just carried purchases.products.acknowledge with a 34-byte JSON body: the sandbox "
                "answered before reading the body, then dropped the connection without `Connection: close`"
            ) from None
        g = products.get(packageName=self.pkg, productId=self.one_time, token=t).execute()
        eq(g.get("consumptionState"), 1, "consumptionState")
        return "get, acknowledge (body sent 50 ms after the headers), consume, get on one connection"

    def productsv2_get(self):
        p = self.buy(self.one_time, quantity=3)
        r = self.purchases().productsv2().getproductpurchasev2(packageName=self.pkg, token=p["purchase_token"]).execute()
        eq(r.get("kind"), "androidpublisher#productPurchaseV2", "kind")
        eq(r.get("orderId"), p["order_id"], "orderId")
        eq(r.get("purchaseStateContext", {}).get("purchaseState"), "PURCHASED", "purchaseStateContext.purchaseState")
        eq(r.get("acknowledgementState"), "ACKNOWLEDGEMENT_STATE_PENDING", "acknowledgementState")
        item = (r.get("productLineItem") or [{}])[0]
        eq(item.get("productId"), self.one_time, "productLineItem[0].productId")
        eq(item.get("productOfferDetails", {}).get("quantity"), 3, "productOfferDetails.quantity")
        eq(item.get("productOfferDetails", {}).get("consumptionState"), "CONSUMPTION_STATE_YET_TO_BE_CONSUMED", "consumptionState")
        return "PURCHASED, quantity 3"

    def error_unknown_token(self):
        out = []
        for name, call in (
            ("purchases.products.get", lambda: self.purchases().products().get(
                packageName=self.pkg, productId=self.one_time, token="sbx.no-such-token").execute()),
            ("purchases.subscriptionsv2.get", lambda: self.v2("sbx.no-such-token")),
        ):
            try:
                call()
            except gerrors.HttpError as e:
                eq(e.status_code, 404, f"{name} status")
                expect(e.resp.get("content-type", "").startswith("application/json"), f"{name} content-type {e.resp.get('content-type')}")
                expect(e.error_details and e.error_details[0].get("reason"), f"{name}: no errors[].reason in {e.content[:300]!r}")
                eq(e.error_details[0]["reason"], "notFound", f"{name} errors[0].reason")
                expect(e.reason, f"{name}: HttpError has no message")
                out.append(f"{name} 404 {e.error_details[0]['reason']} ({e.reason})")
                continue
            raise AssertionError(f"{name} with an unknown token did not raise HttpError")
        return "; ".join(out)

    def error_retried(self):
        t = self.buy(self.one_time)["purchase_token"]
        get = lambda: self.purchases().products().get(packageName=self.pkg, productId=self.one_time, token=t)  # noqa: E731
        self.ctl("POST", "/sandbox/v1/faults", {"path_contains": t, "status": 503, "count": 2})
        try:
            get().execute()
            raise AssertionError("the injected 503 did not raise")
        except gerrors.HttpError as e:
            eq(e.status_code, 503, "status")
            eq(e.error_details[0].get("reason"), "backendError", "errors[0].reason")
        r = get().execute(num_retries=1)  # googleapiclient retries 5xx and 429 itself
        eq(r.get("purchaseState"), 0, "purchaseState after the retry")
        return "503 backendError raised; execute(num_retries=1) retried it and succeeded"

    def gone_410(self):
        t = self.buy(self.sub)["purchase_token"]
        self.act(t, "expire")
        self.ctl("POST", "/sandbox/v1/clock:advance", {"seconds": 61 * 86400})
        try:
            self.v2(t)
            raise AssertionError("subscriptionsv2.get of a token expired 61 days ago did not raise")
        except gerrors.HttpError as e:
            eq(e.status_code, 410, "status")
            eq(e.error_details[0].get("reason"), "subscriptionPurchaseNoLongerAvailable", "errors[0].reason")
            return f"410 {e.error_details[0]['reason']}"

    def subscriptionsv2_get(self):
        p = self.buy(self.sub, obfuscated_account_id="acct-2")
        self.sp = p
        r = self.v2(p["purchase_token"])
        eq(r.get("kind"), "androidpublisher#subscriptionPurchaseV2", "kind")
        eq(r.get("subscriptionState"), "SUBSCRIPTION_STATE_ACTIVE", "subscriptionState")
        eq(r.get("acknowledgementState"), "ACKNOWLEDGEMENT_STATE_PENDING", "acknowledgementState")
        item = (r.get("lineItems") or [{}])[0]
        eq(item.get("productId"), self.sub, "lineItems[0].productId")
        eq(item.get("latestSuccessfulOrderId"), p["order_id"], "lineItems[0].latestSuccessfulOrderId")
        eq(item.get("autoRenewingPlan", {}).get("autoRenewEnabled"), True, "autoRenewEnabled")
        start, expiry = rfc3339_ms(r["startTime"]), rfc3339_ms(item["expiryTime"])
        expect(27 * DAY_MS <= expiry - start <= 32 * DAY_MS, f"P1M plan: startTime {r['startTime']} expiryTime {item['expiryTime']}")
        eq(r.get("externalAccountIdentifiers", {}).get("obfuscatedExternalAccountId"), "acct-2", "obfuscatedExternalAccountId")
        return f"ACTIVE until {item['expiryTime']}"

    def subscriptions_acknowledge(self):
        t = self.sp["purchase_token"]
        r = self.purchases().subscriptions().acknowledge(
            packageName=self.pkg, subscriptionId=self.sub, token=t, body={"developerPayload": "gc"}
        ).execute()
        expect(empty(r), f"acknowledge answered a body: {r!r}")
        eq(self.v2(t).get("acknowledgementState"), "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED", "acknowledgementState")
        return "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED"

    def fresh_sub(self):
        t = self.buy(self.sub)["purchase_token"]
        return t, self.v2(t)

    def subscriptions_cancel(self):
        t, _ = self.fresh_sub()
        served(lambda: self.purchases().subscriptions().cancel(
            packageName=self.pkg, subscriptionId=self.sub, token=t).execute(), "purchases.subscriptions.cancel")
        r = self.v2(t)
        eq(r.get("subscriptionState"), "SUBSCRIPTION_STATE_CANCELED", "subscriptionState")
        eq(r["lineItems"][0].get("autoRenewingPlan", {}).get("autoRenewEnabled"), False, "autoRenewEnabled")
        ctx = r.get("canceledStateContext", {})
        expect(len(ctx) == 1, f"canceledStateContext {ctx!r}: expected exactly one kind of cancellation")
        # Legacy cancelReason 3 ("canceled by the developer") suggests developerInitiatedCancellation,
        # but neither the discovery document nor the reference says which context Google sets.
        return f"CANCELED, autoRenewEnabled false, canceledStateContext {sorted(ctx)[0]}"

    def subscriptions_defer(self):
        t, before = self.fresh_sub()
        old = rfc3339_ms(before["lineItems"][0]["expiryTime"])
        want = old + 7 * DAY_MS
        r = served(lambda: self.purchases().subscriptions().defer(
            packageName=self.pkg, subscriptionId=self.sub, token=t,
            body={"deferralInfo": {"expectedExpiryTimeMillis": str(old), "desiredExpiryTimeMillis": str(want)}},
        ).execute(), "purchases.subscriptions.defer")
        eq(r.get("newExpiryTimeMillis"), str(want), "newExpiryTimeMillis")
        eq(rfc3339_ms(self.v2(t)["lineItems"][0]["expiryTime"]), want, "expiryTime after defer (ms)")
        return f"expiry moved 7 days to {r['newExpiryTimeMillis']}"

    def subscriptionsv2_cancel(self):
        t, _ = self.fresh_sub()
        r = served(lambda: self.purchases().subscriptionsv2().cancel(
            packageName=self.pkg, token=t,
            body={"cancellationContext": {"cancellationType": "USER_REQUESTED_STOP_RENEWALS"}},
        ).execute(), "purchases.subscriptionsv2.cancel")
        expect(empty(r), f"cancel answered {r!r}, expected an empty CancelSubscriptionPurchaseResponse")
        g = self.v2(t)
        eq(g.get("subscriptionState"), "SUBSCRIPTION_STATE_CANCELED", "subscriptionState")
        eq(g["lineItems"][0].get("autoRenewingPlan", {}).get("autoRenewEnabled"), False, "autoRenewEnabled")
        ctx = g.get("canceledStateContext", {})
        expect("userInitiatedCancellation" in ctx, f"canceledStateContext {ctx!r}: expected userInitiatedCancellation")
        return "USER_REQUESTED_STOP_RENEWALS -> CANCELED, userInitiatedCancellation"

    def subscriptionsv2_defer(self):
        t, before = self.fresh_sub()
        old = rfc3339_ms(before["lineItems"][0]["expiryTime"])
        r = served(lambda: self.purchases().subscriptionsv2().defer(
            packageName=self.pkg, token=t,
            body={"deferralContext": {"etag": before.get("etag", ""), "deferDuration": "604800s"}},
        ).execute(), "purchases.subscriptionsv2.defer")
        items = r.get("itemExpiryTimeDetails") or []
        expect(items, f"defer answered {r!r}: no itemExpiryTimeDetails")
        eq(items[0].get("productId"), self.sub, "itemExpiryTimeDetails[0].productId")
        eq(rfc3339_ms(items[0]["expiryTime"]), old + 7 * DAY_MS, "itemExpiryTimeDetails[0].expiryTime (ms)")
        eq(rfc3339_ms(self.v2(t)["lineItems"][0]["expiryTime"]), old + 7 * DAY_MS, "expiryTime after defer (ms)")
        return f"deferred 604800s to {items[0]['expiryTime']}"

    def subscriptionsv2_revoke(self):
        t, _ = self.fresh_sub()
        r = served(lambda: self.purchases().subscriptionsv2().revoke(
            packageName=self.pkg, token=t, body={"revocationContext": {"fullRefund": {}}},
        ).execute(), "purchases.subscriptionsv2.revoke")
        expect(empty(r), f"revoke answered {r!r}, expected an empty RevokeSubscriptionPurchaseResponse")
        g = self.v2(t)
        eq(g.get("subscriptionState"), "SUBSCRIPTION_STATE_EXPIRED", "subscriptionState")
        v = self.purchases().voidedpurchases().list(packageName=self.pkg, type=1).execute()
        tokens = [x.get("purchaseToken") for x in v.get("voidedPurchases", [])]
        expect(t in tokens, "the fully refunded revoked subscription is not in voidedpurchases.list(type=1)")
        return "fullRefund -> EXPIRED and voided"

    def voided_list(self):
        tokens = []
        for reason in (1, 7):  # Remorse, Chargeback
            p = self.buy(self.one_time)
            self.act(p["purchase_token"], "refund", {"reason": reason, "source": 0})
            tokens.append(p["purchase_token"])
        first = self.purchases().voidedpurchases().list(packageName=self.pkg).execute()
        got = {x["purchaseToken"]: x for x in first.get("voidedPurchases", [])}
        for t, reason in zip(tokens, (1, 7)):
            expect(t in got, f"refunded purchase {t[:16]}… not listed")
            eq(got[t].get("voidedReason"), reason, "voidedReason")
            eq(got[t].get("voidedSource"), 0, "voidedSource")
            eq(got[t].get("kind"), "androidpublisher#voidedPurchase", "kind")
            expect(str(got[t].get("voidedTimeMillis", "")).isdigit(), f"voidedTimeMillis {got[t].get('voidedTimeMillis')!r}")
        # Token paging, one per page.
        seen, page, pages = [], None, 0
        while pages < 50:
            kw = {"packageName": self.pkg, "maxResults": 1}
            if page:
                kw["token"] = page
            r = self.purchases().voidedpurchases().list(**kw).execute()
            pages += 1
            seen += [x["purchaseToken"] for x in r.get("voidedPurchases", [])]
            page = r.get("tokenPagination", {}).get("nextPageToken")
            if not page:
                break
        expect(all(t in seen for t in tokens), f"paging with maxResults=1 over {pages} pages missed a voided purchase")
        eq(len(seen), len(got), "voided purchases seen by paging vs in one page")
        return f"{len(got)} voided (reasons 1, 7 checked); {pages} pages of 1 via tokenPagination"

    # -- catalog, orders, external transactions (only if served) --

    def orders_get(self):
        p = self.buy(self.one_time)
        r = served(lambda: self.ap.orders().get(packageName=self.pkg, orderId=p["order_id"]).execute(), "orders.get")
        eq(r.get("orderId"), p["order_id"], "orderId")
        eq(r.get("purchaseToken"), p["purchase_token"], "purchaseToken")
        eq(r.get("state"), "PROCESSED", "state")
        eq((r.get("lineItems") or [{}])[0].get("productId"), self.one_time, "lineItems[0].productId")
        expect(r.get("total", {}).get("currencyCode"), f"total {r.get('total')!r}")
        q = self.buy(self.one_time)
        b = served(lambda: self.ap.orders().batchget(
            packageName=self.pkg, orderIds=[p["order_id"], q["order_id"]]).execute(), "orders.batchget")
        ids = sorted(o.get("orderId") for o in b.get("orders", []))
        eq(ids, sorted([p["order_id"], q["order_id"]]), "orders.batchget orderIds")
        return f"{r['orderId']} PROCESSED, total {r['total']}; batchget 2 orders"

    def inappproducts(self):
        sku = f"gc_iap_{self.run_id}"
        body = {
            "packageName": self.pkg, "sku": sku, "status": "active", "purchaseType": "managedUser",
            "defaultPrice": {"priceMicros": "990000", "currency": "USD"},
            "defaultLanguage": "en-US",
            "listings": {"en-US": {"title": "Coins", "description": "A pile of coins"}},
        }
        r = served(lambda: self.ap.inappproducts().insert(packageName=self.pkg, body=body).execute(), "inappproducts.insert")
        eq(r.get("sku"), sku, "insert: sku")
        g = served(lambda: self.ap.inappproducts().get(packageName=self.pkg, sku=sku).execute(), "inappproducts.get")
        eq(g.get("sku"), sku, "get: sku")
        eq(g.get("defaultPrice"), body["defaultPrice"], "get: defaultPrice")
        lst = served(lambda: self.ap.inappproducts().list(packageName=self.pkg).execute(), "inappproducts.list")
        expect(sku in [x.get("sku") for x in lst.get("inappproduct", [])], f"list does not include {sku}")
        return f"insert/get/list {sku}"

    def monetization_subscriptions(self):
        pid = f"gc_sub_{self.run_id}"
        body = {
            "packageName": self.pkg, "productId": pid,
            "listings": [{"languageCode": "en-US", "title": "Premium"}],
            "basePlans": [{
                "basePlanId": "monthly",
                "autoRenewingBasePlanType": {"billingPeriodDuration": "P1M"},
                "regionalConfigs": [{"regionCode": "US", "newSubscriberAvailability": True,
                                     "price": {"currencyCode": "USD", "units": "4", "nanos": 990000000}}],
            }],
        }
        m = self.ap.monetization()
        r = served(lambda: m.subscriptions().create(
            packageName=self.pkg, productId=pid, regionsVersion_version="2022/02", body=body).execute(),
            "monetization.subscriptions.create")
        eq(r.get("productId"), pid, "create: productId")
        g = served(lambda: m.subscriptions().get(packageName=self.pkg, productId=pid).execute(), "monetization.subscriptions.get")
        eq(g.get("productId"), pid, "get: productId")
        eq([b.get("basePlanId") for b in g.get("basePlans", [])], ["monthly"], "get: basePlans")
        lst = served(lambda: m.subscriptions().list(packageName=self.pkg).execute(), "monetization.subscriptions.list")
        expect(pid in [s.get("productId") for s in lst.get("subscriptions", [])], f"list does not include {pid}")
        return f"create/get/list {pid}"

    def convert_region_prices(self):
        r = served(lambda: self.ap.monetization().convertRegionPrices(
            packageName=self.pkg, body={"price": {"currencyCode": "USD", "units": "10"}}).execute(),
            "monetization.convertRegionPrices")
        regions = r.get("convertedRegionPrices") or {}
        expect(regions, f"no convertedRegionPrices in {r!r}")
        us = regions.get("US", {})
        eq(us.get("regionCode"), "US", "convertedRegionPrices.US.regionCode")
        eq(us.get("price", {}).get("currencyCode"), "USD", "US price currency")
        other = r.get("convertedOtherRegionsPrice", {})
        expect(other.get("usdPrice") and other.get("eurPrice"), f"convertedOtherRegionsPrice {other!r}")
        return f"{len(regions)} regions, US {us.get('price')}"

    def external_transactions(self):
        xid = f"gc-ext-{self.run_id}"
        when = dt.datetime.fromtimestamp(self.now_ms() / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        body = {
            "originalPreTaxAmount": {"priceMicros": "1000000", "currency": "USD"},
            "originalTaxAmount": {"priceMicros": "100000", "currency": "USD"},
            "transactionTime": when,
            "userTaxAddress": {"regionCode": "US"},
            "oneTimeTransaction": {"externalTransactionToken": f"ext-token-{self.run_id}"},
        }
        x = self.ap.externaltransactions()
        r = served(lambda: x.createexternaltransaction(
            parent=f"applications/{self.pkg}", externalTransactionId=xid, body=body).execute(),
            "externaltransactions.createexternaltransaction")
        eq(r.get("externalTransactionId"), xid, "create: externalTransactionId")
        eq(r.get("transactionState"), "TRANSACTION_REPORTED", "create: transactionState")
        name = f"applications/{self.pkg}/externalTransactions/{xid}"
        g = served(lambda: x.getexternaltransaction(name=name).execute(), "externaltransactions.getexternaltransaction")
        eq(g.get("externalTransactionId"), xid, "get: externalTransactionId")
        eq(g.get("currentPreTaxAmount"), body["originalPreTaxAmount"], "get: currentPreTaxAmount")
        f = served(lambda: x.refundexternaltransaction(
            name=name, body={"refundTime": when, "fullRefund": {}}).execute(),
            "externaltransactions.refundexternaltransaction")
        eq(f.get("transactionState"), "TRANSACTION_CANCELED", "refund: transactionState")
        return f"{xid}: REPORTED, then full refund -> CANCELED"

    # -- Pub/Sub through google-cloud-pubsub's REST transport --

    def pubsub_clients(self):
        from google.cloud import pubsub_v1

        creds = service_account.Credentials.from_service_account_file(self.key_file, scopes=[PUBSUB_SCOPE])
        opts = {"api_endpoint": self.base}
        self.pub = pubsub_v1.PublisherClient(credentials=creds, transport="rest", client_options=opts)
        self.subr = pubsub_v1.SubscriberClient(credentials=creds, transport="rest", client_options=opts)
        kinds = (type(self.pub.transport).__name__, type(self.subr.transport).__name__)
        expect(all("Rest" in k for k in kinds), f"transports {kinds}")
        return f"{kinds[0]}, {kinds[1]} at {self.pub.transport._host}"

    def need_pubsub(self):
        if not hasattr(self, "pub"):
            raise Skip("no Pub/Sub client (see the failure above)")

    def pubsub_topic_subscription(self):
        self.need_pubsub()
        self.topic = self.pub.topic_path(self.project, f"gc-topic-{self.run_id}")
        self.subscription = self.subr.subscription_path(self.project, f"gc-sub-{self.run_id}")
        t = self.pub.create_topic(request={"name": self.topic})
        eq(t.name, self.topic, "create_topic name")
        eq(self.pub.get_topic(request={"topic": self.topic}).name, self.topic, "get_topic name")
        s = self.subr.create_subscription(
            request={"name": self.subscription, "topic": self.topic, "ack_deadline_seconds": 30})
        eq(s.name, self.subscription, "create_subscription name")
        eq(s.topic, self.topic, "subscription topic")
        eq(s.ack_deadline_seconds, 30, "ack_deadline_seconds")
        g = self.subr.get_subscription(request={"subscription": self.subscription})
        eq(g.topic, self.topic, "get_subscription topic")
        return f"{self.topic}, {self.subscription}"

    def pubsub_errors(self):
        self.need_pubsub()
        missing = self.pub.topic_path(self.project, f"gc-missing-{self.run_id}")
        try:
            self.pub.get_topic(request={"topic": missing})
            raise AssertionError("get_topic of a missing topic did not raise")
        except gexc.NotFound as e:
            nf = f"NotFound ({e.message})"
        try:
            self.pub.create_topic(request={"name": self.topic})
            raise AssertionError("creating an existing topic did not raise")
        except gexc.Conflict as e:
            conflict = f"{type(e).__name__} ({e.message})"
        return f"missing topic -> {nf}; duplicate -> {conflict}"

    def pubsub_publish_pull_ack(self):
        self.need_pubsub()
        future = self.pub.publish(self.topic, b"hello from google-cloud-pubsub", origin="check.py")
        mid = future.result(timeout=30)
        expect(mid, "publish returned no message id")
        r = self.subr.pull(request={"subscription": self.subscription, "max_messages": 10}, timeout=30)
        eq(len(r.received_messages), 1, "messages pulled")
        m = r.received_messages[0]
        eq(m.message.data, b"hello from google-cloud-pubsub", "data")
        eq(dict(m.message.attributes), {"origin": "check.py"}, "attributes")
        eq(m.message.message_id, mid, "message_id")
        expect(m.message.publish_time.timestamp() > 0, "no publish_time")
        self.subr.acknowledge(request={"subscription": self.subscription, "ack_ids": [m.ack_id]})
        again = self.subr.pull(
            request={"subscription": self.subscription, "max_messages": 10, "return_immediately": True}, timeout=30)
        eq(len(again.received_messages), 0, "messages left after acknowledge")
        # The publisher batches messages published together into one publish call.
        futures = [self.pub.publish(self.topic, f"batch {i}".encode()) for i in range(5)]
        ids = [f.result(timeout=30) for f in futures]
        eq(len(set(ids)), 5, "distinct message ids of a batch")
        got = []
        for _ in range(5):
            r = self.subr.pull(request={"subscription": self.subscription, "max_messages": 10}, timeout=30)
            got += r.received_messages
            if r.received_messages:
                self.subr.acknowledge(
                    request={"subscription": self.subscription, "ack_ids": [m.ack_id for m in r.received_messages]})
            if len(got) >= 5:
                break
        eq(sorted(m.message.data for m in got), [f"batch {i}".encode() for i in range(5)], "batch pulled")
        return f"message {mid} published, pulled, acknowledged; a batch of 5 likewise"

    def pubsub_nack_redelivers(self):
        self.need_pubsub()
        self.pub.publish(self.topic, b"nack me").result(timeout=30)
        r = self.subr.pull(request={"subscription": self.subscription, "max_messages": 10}, timeout=30)
        eq(len(r.received_messages), 1, "messages pulled")
        self.subr.modify_ack_deadline(
            request={"subscription": self.subscription, "ack_ids": [r.received_messages[0].ack_id], "ack_deadline_seconds": 0})
        again = self.subr.pull(request={"subscription": self.subscription, "max_messages": 10}, timeout=30)
        eq([m.message.data for m in again.received_messages], [b"nack me"], "redelivered after modifyAckDeadline 0")
        self.subr.acknowledge(request={"subscription": self.subscription, "ack_ids": [again.received_messages[0].ack_id]})
        return "modify_ack_deadline(0) redelivers"

    def pubsub_lists(self):
        self.need_pubsub()
        project = f"projects/{self.project}"
        topics = served(lambda: [t.name for t in self.pub.list_topics(request={"project": project})],
                        "GET /v1/projects/P/topics (list_topics)")
        expect(self.topic in topics and self.rtdn_topic in topics, f"list_topics: {topics}")
        subs = served(lambda: [x.name for x in self.subr.list_subscriptions(request={"project": project})],
                      "GET /v1/projects/P/subscriptions (list_subscriptions)")
        expect(self.subscription in subs, f"list_subscriptions: {subs}")
        of_topic = served(lambda: list(self.pub.list_topic_subscriptions(request={"topic": self.topic})),
                          "GET /v1/projects/P/topics/T/subscriptions (list_topic_subscriptions)")
        eq(of_topic, [self.subscription], "list_topic_subscriptions")
        return f"{len(topics)} topics, {len(subs)} subscriptions"

    def pubsub_delete(self):
        self.need_pubsub()
        self.subr.delete_subscription(request={"subscription": self.subscription})
        self.pub.delete_topic(request={"topic": self.topic})
        try:
            self.subr.get_subscription(request={"subscription": self.subscription})
            raise AssertionError("deleted subscription still answers")
        except gexc.NotFound:
            pass
        return "subscription and topic deleted"

    def rtdn(self):
        self.need_pubsub()
        sub = self.subr.subscription_path(self.project, f"gc-rtdn-{self.run_id}")
        self.subr.create_subscription(request={"name": sub, "topic": self.rtdn_topic, "ack_deadline_seconds": 60})
        one = self.buy(self.one_time)["purchase_token"]
        subs = self.buy(self.sub)["purchase_token"]
        got = {}
        deadline = time.monotonic() + 20
        while len(got) < 2 and time.monotonic() < deadline:
            r = self.subr.pull(request={"subscription": sub, "max_messages": 10}, timeout=30)
            for m in r.received_messages:
                n = json.loads(m.message.data)  # the client has already base64-decoded `data`
                body = n.get("oneTimeProductNotification") or n.get("subscriptionNotification") or {}
                got[body.get("purchaseToken")] = (n, m)
            if r.received_messages:
                self.subr.acknowledge(request={"subscription": sub, "ack_ids": [m.ack_id for m in r.received_messages]})
        expect(one in got and subs in got, f"RTDNs pulled for {len(got)} tokens, expected both purchases")
        n1, _ = got[one]
        eq(n1.get("version"), "1.0", "version")
        eq(n1.get("packageName"), self.pkg, "packageName")
        expect(str(n1.get("eventTimeMillis", "")).isdigit(), f"eventTimeMillis {n1.get('eventTimeMillis')!r}")
        eq(n1["oneTimeProductNotification"].get("notificationType"), 1, "oneTimeProductNotification.notificationType")
        eq(n1["oneTimeProductNotification"].get("sku"), self.one_time, "oneTimeProductNotification.sku")
        n2, _ = got[subs]
        eq(n2["subscriptionNotification"].get("notificationType"), 4, "subscriptionNotification.notificationType")
        eq(n2["subscriptionNotification"].get("version"), "1.0", "subscriptionNotification.version")
        self.subr.delete_subscription(request={"subscription": sub})
        return f"pulled from {self.rtdn_topic}: ONE_TIME_PRODUCT_PURCHASED (1), SUBSCRIPTION_PURCHASED (4)"

    # -- Cloud Storage reports through google-cloud-storage --

    def storage_reports(self):
        from google.cloud import storage

        creds = service_account.Credentials.from_service_account_file(self.key_file, scopes=[STORAGE_SCOPE])
        client = storage.Client(project=self.project, credentials=creds, client_options={"api_endpoint": self.base})
        r = requests.get(self.base + "/sandbox/v1/reports", timeout=30)
        if r.ok:
            info = r.json()
            bucket = info.get("bucket") or next(
                (v for v in json.dumps(info).split('"') if v.startswith("pubsite_prod_rev_")), None)
            expect(bucket, f"GET /sandbox/v1/reports names no pubsite_prod_rev_ bucket: {info!r}")
        elif r.status_code == 404 and "Method not found" in r.text:
            # No control route: look for the bucket among the project's.
            names = served(lambda: [b.name for b in client.list_buckets()], "GET /storage/v1/b?project=…")
            bucket = next((n for n in names if n.startswith("pubsite_prod_rev_")), None)
            expect(bucket, f"no pubsite_prod_rev_ bucket among {names}")
        else:
            raise AssertionError(f"GET /sandbox/v1/reports: {r.status_code} {r.text[:300]}")
        expect(bucket.startswith("pubsite_prod_rev_"), f"bucket {bucket!r}")

        def listing():
            return {p: [b for b in client.list_blobs(bucket, prefix=p)] for p in ("earnings/", "sales/")}

        blobs = served(listing, f"GET /storage/v1/b/{bucket}/o")
        advanced = ""
        if not all(blobs.values()):
            # Reports cover whole periods: let a month pass so the current one is reported.
            self.ctl("POST", "/sandbox/v1/clock:advance", {"duration": "P1M"})
            advanced = " (after advancing the clock a month)"
            blobs = listing()
        for prefix, found in blobs.items():
            expect(found, f"no objects under {prefix} in {bucket}")
            for b in found:
                expect(b.name.startswith(prefix), f"{b.name} listed under {prefix}")
                expect(b.size is not None and b.size > 0, f"{b.name}: size {b.size!r}")
        blob = blobs["sales/"][0]
        # The client logs (not raises) a download without X-Goog-Hash, and then verifies nothing.
        missing = []

        class Catch(logging.Handler):
            def emit(self, record):
                if "checksum was returned" in record.getMessage():
                    missing.append(record.getMessage().splitlines()[0])

        media_log = logging.getLogger("google.cloud.storage._media._helpers")
        handler, level = Catch(), media_log.level
        media_log.addHandler(handler)
        media_log.setLevel(logging.INFO)
        try:
            data = served(lambda: blob.download_as_bytes(), f"GET /download/storage/v1/b/{bucket}/o/{blob.name}?alt=media")
        finally:
            media_log.removeHandler(handler)
            media_log.setLevel(level)
        expect(not missing, f"download not verified: {missing[:1]}")
        eq(len(data), blob.size, f"{blob.name} bytes vs listed size")
        import base64
        import hashlib

        import google_crc32c

        eq(base64.b64encode(google_crc32c.value(data).to_bytes(4, "big")).decode(), blob.crc32c, "listed crc32c")
        eq(base64.b64encode(hashlib.md5(data).digest()).decode(), blob.md5_hash, "listed md5Hash")
        eq(blob.download_as_bytes(start=0, end=9), data[:10], "ranged download bytes 0-9")
        meta = client.bucket(bucket).get_blob(blob.name)
        eq((meta.size, meta.crc32c, meta.generation), (blob.size, blob.crc32c, blob.generation), "objects.get metadata")
        note = ""
        if blob.name.endswith(".zip"):
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
            expect(any(n.endswith(".csv") for n in names), f"{blob.name} holds {names}, no CSV")
            note = f" ({', '.join(names)})"
        counts = ", ".join(f"{len(v)} under {k}" for k, v in blobs.items())
        return (f"{bucket}: {counts}{advanced}; downloaded {blob.name}{note}, {len(data)} bytes, "
                "X-Goog-Hash verified by the client, crc32c/md5 match the listing, ranged read, objects.get")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--start", metavar="PLAYBILL", help="start `PLAYBILL sandbox` (default: target/debug/playbill)")
    ap.add_argument("--base-url", help="a running sandbox's base URL, e.g. http://127.0.0.1:8081")
    ap.add_argument("--key-file", help="the key file that sandbox wrote (with --base-url)")
    ap.add_argument("--package", default="com.example.googleclients", help="app package name to use")
    ap.add_argument("--contract", default=str(REPO / "contracts" / "androidpublisher.v3.json"))
    args = ap.parse_args()

    started = None
    if args.base_url:
        if args.start or not args.key_file:
            ap.error("--base-url needs --key-file and excludes --start")
        base, key_file = args.base_url, args.key_file
    else:
        started = StartedSandbox(args.start or REPO / "target" / "debug" / "playbill")
        base, key_file = started.base_url, started.key_file
    print(f"sandbox {base}, key file {key_file}", flush=True)

    res = Results()
    try:
        c = Checks(base, key_file, args.package, args.contract)
        res.before = c.fresh
        if res.run("setup: products through the control API", c.setup) == "FAIL":
            return 1
        for name, fn in [
            ("google-auth: access token from the key file", c.auth_token),
            ("google-auth: token without the androidpublisher scope is 403", c.auth_wrong_scope),
            ("discovery: requests go to BASE/androidpublisher/v3/", c.discovery_endpoint),
            ("purchases.products.get", c.products_get),
            ("purchases.products.acknowledge", c.products_acknowledge),
            ("purchases.products.consume", c.products_consume),
            ("http: one keep-alive connection across POSTs with bodies", c.keep_alive),
            ("purchases.productsv2.getproductpurchasev2", c.productsv2_get),
            ("errors: unknown token raises HttpError 404", c.error_unknown_token),
            ("errors: injected 503 raises, and execute(num_retries) retries it", c.error_retried),
            ("purchases.subscriptionsv2.get", c.subscriptionsv2_get),
            ("purchases.subscriptions.acknowledge", c.subscriptions_acknowledge),
            ("purchases.subscriptions.cancel", c.subscriptions_cancel),
            ("purchases.subscriptions.defer", c.subscriptions_defer),
            ("purchases.subscriptionsv2.cancel", c.subscriptionsv2_cancel),
            ("purchases.subscriptionsv2.defer", c.subscriptionsv2_defer),
            ("purchases.subscriptionsv2.revoke", c.subscriptionsv2_revoke),
            ("purchases.voidedpurchases.list", c.voided_list),
            ("orders.get, orders.batchget", c.orders_get),
            ("inappproducts.insert, get, list", c.inappproducts),
            ("monetization.subscriptions.create, get, list", c.monetization_subscriptions),
            ("monetization.convertRegionPrices", c.convert_region_prices),
            ("externaltransactions.create, get, refund", c.external_transactions),
            ("pubsub: PublisherClient/SubscriberClient over REST", c.pubsub_clients),
            ("pubsub: create and get topic and pull subscription", c.pubsub_topic_subscription),
            ("pubsub: NotFound and Conflict errors", c.pubsub_errors),
            ("pubsub: publish, pull, acknowledge", c.pubsub_publish_pull_ack),
            ("pubsub: modify_ack_deadline 0 redelivers", c.pubsub_nack_redelivers),
            ("pubsub: list topics and subscriptions", c.pubsub_lists),
            ("pubsub: delete subscription and topic", c.pubsub_delete),
            ("pubsub: RTDNs pulled from the play-billing topic", c.rtdn),
            ("storage: reports bucket earnings/ and sales/", c.storage_reports),
            ("errors: a token expired 60+ days ago is 410 (moves the clock)", c.gone_410),
        ]:
            res.run(name, fn)
    finally:
        if started:
            started.stop()
    counts = {s: sum(1 for r in res.rows if r[0] == s) for s in ("PASS", "FAIL", "SKIP")}
    print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
