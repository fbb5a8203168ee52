"""Every Cumulo object, at every version of its history, fully populated, backports
and loads into that version's strict historical schema (tests/objects/strategies.py)."""

import pytest

from cumulo import model
from cumulo.objects import REGISTRY
from tests.objects.strategies import check_all_versions, check_backport, class_versions, version_id

PAIRS = class_versions(REGISTRY, model.NAMESPACE)


def test_the_whole_model_is_covered():
    names = {cls.obj_name() for cls, _ in PAIRS}
    assert len(names) == len(model.LOCKFILE.read_text().split('"fingerprint"')) - 1
    assert {"Instance", "LiveMigrateData", "NetworkInfo", "Diagnostics", "Service"} <= names


@pytest.mark.parametrize(("cls", "version"), PAIRS, ids=version_id)
def test_backports(cls, version):
    check_backport(cls, version, max_examples=10)


def test_check_all_versions_over_the_namespace():
    # The one-call form the framework offers, over every registered Cumulo object.
    check_all_versions(REGISTRY, model.NAMESPACE, max_examples=3)
