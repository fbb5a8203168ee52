"""``/os-keypairs`` (cumulo/api/compute/keypairs.py): create (generated, shown once)
and import, list with paging (2.35), show, delete; types and status codes (2.2);
admins acting for another user (2.10); duplicates, bad keys and names, quota."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from cumulo.api.compute.keypairs import keypair_of
from cumulo.api.errors import BadRequest


def _openssh_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return raw.decode() + " me@example"


def _md5(public_key: str) -> str:
    digest = hashlib.md5(base64.b64decode(public_key.split()[1])).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def create(cloud, name, who="member", version="latest", **extra):
    return cloud.post("/os-keypairs", {"keypair": {"name": name, **extra}}, who, version)


def test_generated_key_pair_is_shown_once(compute_cloud):
    response = create(compute_cloud, "gen")
    assert response.status_code == 201, response.text
    keypair = response.json["keypair"]
    assert keypair["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert keypair["public_key"].startswith("ssh-rsa ")
    assert keypair["type"] == "ssh" and keypair["user_id"] == compute_cloud.users["member"]
    assert keypair["fingerprint"] == _md5(keypair["public_key"])
    shown = compute_cloud.get("/os-keypairs/gen").json["keypair"]
    assert "private_key" not in shown
    assert shown["public_key"] == keypair["public_key"] and shown["deleted"] is False
    assert set(shown) == {
        "public_key",
        "name",
        "fingerprint",
        "user_id",
        "deleted",
        "created_at",
        "updated_at",
        "deleted_at",
        "id",
        "type",
    }
    assert compute_cloud.delete("/os-keypairs/gen").status_code == 204


def test_import_keeps_the_key_and_computes_novas_fingerprint(compute_cloud):
    public_key = _openssh_key()
    response = create(compute_cloud, "imported", public_key=public_key)
    assert response.status_code == 201
    keypair = response.json["keypair"]
    assert "private_key" not in keypair
    assert keypair["public_key"] == public_key and keypair["fingerprint"] == _md5(public_key)
    listed = compute_cloud.get("/os-keypairs").json["keypairs"]
    assert {"keypair": {k: keypair[k] for k in ("name", "public_key", "fingerprint", "type")}} in (
        listed
    )
    compute_cloud.delete("/os-keypairs/imported")


def test_an_invalid_public_key_is_a_400(compute_cloud):
    for bad in ("ssh-rsa not-base64!", "hello", "ssh-rsa AAAA"):
        response = create(compute_cloud, "bad", public_key=bad)
        assert response.status_code == 400, bad
        assert "Keypair data is invalid" in response.json["badRequest"]["message"]
    bad_cert = create(compute_cloud, "bad", public_key=_openssh_key(), type="x509")
    assert bad_cert.status_code == 400


def test_x509_key_pairs(compute_cloud):
    response = create(compute_cloud, "cert", type="x509")
    assert response.status_code == 201
    keypair = response.json["keypair"]
    assert keypair["type"] == "x509"
    assert keypair["public_key"].startswith("-----BEGIN CERTIFICATE-----")
    assert len(keypair["fingerprint"].split(":")) == 20  # SHA-1
    imported = create(compute_cloud, "cert2", type="x509", public_key=keypair["public_key"])
    assert imported.json["keypair"]["fingerprint"] == keypair["fingerprint"]
    for name in ("cert", "cert2"):
        compute_cloud.delete(f"/os-keypairs/{name}")


def test_at_2_1_no_type_200_and_202(compute_cloud):
    response = create(compute_cloud, "old", version="2.1")
    assert response.status_code == 200 and "type" not in response.json["keypair"]
    listed = compute_cloud.get("/os-keypairs", version="2.1").json["keypairs"]
    assert all("type" not in item["keypair"] for item in listed)
    assert "type" not in compute_cloud.get("/os-keypairs/old", version="2.1").json["keypair"]
    refused = create(compute_cloud, "typed", version="2.1", type="ssh")
    assert refused.status_code == 400 and "keypair.type" in refused.text
    assert compute_cloud.delete("/os-keypairs/old", version="2.1").status_code == 202


def test_duplicate_name_is_a_409(compute_cloud):
    assert create(compute_cloud, "twice").status_code == 201
    again = create(compute_cloud, "twice")
    assert again.status_code == 409
    assert again.json["conflictingRequest"]["message"] == "Key pair 'twice' already exists."
    # Names are per user: another user may use it.
    assert create(compute_cloud, "twice", who="other").status_code == 201
    compute_cloud.delete("/os-keypairs/twice")
    compute_cloud.delete("/os-keypairs/twice", who="other")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"keypair": {"name": "bad/name"}}, "keypair.name"),
        ({"keypair": {"name": " lead"}}, "keypair.name"),
        ({"keypair": {"name": ""}}, "keypair.name"),
        ({"keypair": {"name": "x" * 256}}, "keypair.name"),
        ({"keypair": {}}, "keypair.name"),
        ({"keypair": {"name": "k", "type": "rsa"}}, "keypair.type"),
        ({"keypair": {"name": "k", "public_key": 5}}, "keypair.public_key"),
        ({"keypair": {"name": "k", "color": "red"}}, "keypair.color"),
        ({"keypairs": {}}, "keypair"),
    ],
)
def test_bad_bodies_name_the_field(compute_cloud, body, field):
    response = compute_cloud.post("/os-keypairs", body)
    assert response.status_code == 400
    assert f"'{field}'" in response.json["badRequest"]["message"]


def test_unknown_key_pair_is_a_404(compute_cloud):
    for response in (
        compute_cloud.get("/os-keypairs/nope"),
        compute_cloud.delete("/os-keypairs/nope"),
    ):
        assert response.status_code == 404
        assert response.json["itemNotFound"]["message"] == (
            f"Keypair nope not found for user {compute_cloud.users['member']}"
        )


def test_users_see_only_their_own_key_pairs(compute_cloud):
    create(compute_cloud, "mine")
    assert compute_cloud.get("/os-keypairs/mine", who="other").status_code == 404
    names = [
        k["keypair"]["name"]
        for k in compute_cloud.get("/os-keypairs", who="other").json["keypairs"]
    ]
    assert "mine" not in names
    compute_cloud.delete("/os-keypairs/mine")


def test_readers_read_but_do_not_change(compute_cloud):
    assert compute_cloud.get("/os-keypairs", who="reader").status_code == 200
    refused = create(compute_cloud, "r", who="reader")
    assert refused.status_code == 403
    assert "os-keypairs:create" in refused.json["forbidden"]["message"]
    assert compute_cloud.delete("/os-keypairs/r", who="reader").status_code == 403


def test_admins_name_another_user_from_2_10(compute_cloud):
    member = compute_cloud.users["member"]
    made = create(compute_cloud, "for-member", who="admin", user_id=member)
    assert made.status_code == 201 and made.json["keypair"]["user_id"] == member
    assert compute_cloud.get("/os-keypairs/for-member").status_code == 200
    listed = compute_cloud.get(f"/os-keypairs?user_id={member}", who="admin").json["keypairs"]
    assert "for-member" in [k["keypair"]["name"] for k in listed]
    shown = compute_cloud.get(f"/os-keypairs/for-member?user_id={member}", who="admin")
    assert shown.json["keypair"]["user_id"] == member
    # Before 2.10 user_id is not a field, and the query parameter is ignored.
    old = create(compute_cloud, "x", who="admin", version="2.9", user_id=member)
    assert old.status_code == 400 and "keypair.user_id" in old.text
    own = compute_cloud.get(f"/os-keypairs/for-member?user_id={member}", who="admin", version="2.9")
    assert own.status_code == 404
    # A non-admin may not act for someone else.
    other = compute_cloud.users["other"]
    assert compute_cloud.get(f"/os-keypairs?user_id={other}").status_code == 403
    assert create(compute_cloud, "y", user_id=other).status_code == 403
    deleted = compute_cloud.delete(f"/os-keypairs/for-member?user_id={member}", who="admin")
    assert deleted.status_code == 204


def test_paging_from_2_35(compute_cloud):
    for name in ("p1", "p2", "p3"):
        create(compute_cloud, name, who="other", public_key=_openssh_key())
    page = compute_cloud.get("/os-keypairs?limit=2", who="other").json
    assert [k["keypair"]["name"] for k in page["keypairs"]] == ["p1", "p2"]
    (link,) = page["keypairs_links"]
    assert link["rel"] == "next" and link["href"].endswith("/os-keypairs?limit=2&marker=p2")
    rest = compute_cloud.get("/os-keypairs?limit=2&marker=p2", who="other").json
    assert [k["keypair"]["name"] for k in rest["keypairs"]] == ["p3"]
    assert "keypairs_links" not in rest
    bad = compute_cloud.get("/os-keypairs?marker=zz", who="other")
    assert bad.status_code == 400 and "marker [zz] not found" in bad.text
    # Before 2.35 there is no paging.
    old = compute_cloud.get("/os-keypairs?limit=1", who="other", version="2.34").json
    assert len(old["keypairs"]) == 3 and "keypairs_links" not in old
    for name in ("p1", "p2", "p3"):
        compute_cloud.delete(f"/os-keypairs/{name}", who="other")


def test_the_key_pairs_quota(compute_cloud):
    project = compute_cloud.projects["beta"]
    assert (
        compute_cloud.put(
            f"/os-quota-sets/{project}", {"quota_set": {"key_pairs": 1}}, who="admin"
        ).status_code
        == 200
    )
    try:
        assert create(compute_cloud, "one", who="other").status_code == 201
        over = create(compute_cloud, "two", who="other")
        assert over.status_code == 403
        assert over.json["forbidden"]["message"] == "Quota exceeded, too many key pairs."
    finally:
        compute_cloud.delete(f"/os-quota-sets/{project}", who="admin")
        compute_cloud.delete("/os-keypairs/one", who="other")


def test_server_creates_lookup(compute_cloud):
    from cumulo.api.app import build_state
    from cumulo.api.mounted import SERVICES

    create(compute_cloud, "lookup", public_key=(public_key := _openssh_key()))
    state = build_state(compute_cloud.config, SERVICES)
    assert keypair_of(state, compute_cloud.users["member"], "lookup").public_key == public_key
    with pytest.raises(BadRequest, match=r"Invalid key_name provided\."):
        keypair_of(state, compute_cloud.users["other"], "lookup")
    compute_cloud.delete("/os-keypairs/lookup")
