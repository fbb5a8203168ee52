"""Tests for ``cumulo.objects.versions``: version strings and the compatibility rule."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cumulo.objects import ObjectDeclarationError, Registry, VersionedObject, versions

_REGISTRY = Registry()


class XyzObject(VersionedObject):
    OBJ_PROJECT_NAMESPACE = "test_xyz"
    OBJ_REGISTRY = _REGISTRY


numbers = st.integers(min_value=0, max_value=10**6)


class TestParse:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("1.0", (1, 0)),
            ("0.1", (0, 1)),
            ("2.15", (2, 15)),
            ("1.10", (1, 10)),
            ("1.2.3", (1, 2)),
            ("10.0.0", (10, 0)),
            ("01.02", (1, 2)),
        ],
    )
    def test_valid(self, text, expected):
        assert versions.parse(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "1",
            "1.",
            ".1",
            "1..2",
            "1.2.3.4",
            "a.b",
            "1.x",
            "v1.0",
            "-1.0",
            "1.-1",
            " 1.0",
            "1.0 ",
            "1,0",
            "1.0.",
            "1.0.a",
        ],
    )
    def test_invalid_raises_declaration_error(self, text):
        with pytest.raises(ObjectDeclarationError) as info:
            versions.parse(text)
        assert repr(text) in str(info.value)
        assert "expected 'X.Y' or 'X.Y.Z'" in str(info.value)

    @given(numbers, numbers)
    def test_major_minor_round_trip(self, major, minor):
        text = f"{major}.{minor}"
        assert versions.parse(text) == (major, minor)
        assert versions.fmt(versions.parse(text)) == text

    @given(numbers, numbers, numbers)
    def test_patch_level_ignored(self, major, minor, patch):
        assert versions.parse(f"{major}.{minor}.{patch}") == (major, minor)

    @given(numbers, numbers, numbers, numbers)
    def test_order_is_numeric(self, a, b, c, d):
        left, right = versions.parse(f"{a}.{b}"), versions.parse(f"{c}.{d}")
        assert (left < right) == ((a, b) < (c, d))


class TestIsValid:
    @pytest.mark.parametrize("text", ["1.0", "3.14", "1.2.3"])
    def test_valid(self, text):
        assert versions.is_valid(text) is True

    @pytest.mark.parametrize("value", ["1", "x.y", "1.2.3.4", "", None, 1.0, 1, (1, 0), b"1.0"])
    def test_invalid(self, value):
        assert versions.is_valid(value) is False

    @given(st.text(alphabet="0123456789.ab-", max_size=10))
    def test_agrees_with_a_plain_regex(self, text):
        expected = re.fullmatch(r"[0-9]+\.[0-9]+(\.[0-9]+)?", text) is not None
        assert versions.is_valid(text) is expected

    @pytest.mark.parametrize("text", ["1.\u00b2", "\u00b2.0"])
    def test_digit_like_characters_are_invalid_not_a_crash(self, text):
        assert versions.is_valid(text) is False

    @pytest.mark.parametrize("text", ["\uff11.\uff10", "\u0661.\u0660", "1.0.\u00b3"])
    def test_non_ascii_digits_are_invalid(self, text):
        assert versions.is_valid(text) is False


class TestFmt:
    def test_fmt(self):
        assert versions.fmt((1, 0)) == "1.0"
        assert versions.fmt((12, 34)) == "12.34"


class TestIsCompatible:
    @pytest.mark.parametrize(
        ("requested", "available", "expected"),
        [
            ("1.0", "1.0", True),
            ("1.0", "1.5", True),
            ("1.2", "1.10", True),
            ("1.5", "1.4", False),
            ("1.10", "1.9", False),
            ("1.0", "2.0", False),
            ("2.0", "1.9", False),
            ("2.3", "2.3.9", True),
            ("1.1.5", "1.1", True),
        ],
    )
    def test_rule(self, requested, available, expected):
        assert versions.is_compatible(requested, available) is expected

    @given(numbers, numbers, numbers, numbers)
    def test_same_major_and_newer_or_equal_minor(self, m1, n1, m2, n2):
        assert versions.is_compatible(f"{m1}.{n1}", f"{m2}.{n2}") is (m1 == m2 and n2 >= n1)

    def test_invalid_version_raises(self):
        with pytest.raises(ObjectDeclarationError):
            versions.is_compatible("1.0", "latest")


class TestObjectVersions:
    def test_history_lists_every_minor_of_the_major(self):
        class V13(XyzObject):
            VERSION = "1.3"

        class V21(XyzObject):
            VERSION = "2.1"

        assert V13.obj_history() == ["1.0", "1.1", "1.2", "1.3"]
        assert V21.obj_history() == ["2.0", "2.1"]

    def test_default_version(self):
        class Plain(XyzObject):
            pass

        assert Plain.VERSION == "1.0"
        assert Plain.obj_history() == ["1.0"]

    @pytest.mark.parametrize("bad", ["1", "one", "1.0.0.0", ""])
    def test_invalid_object_version_refused_on_build(self, bad):
        cls = type("BadVersion", (XyzObject,), {"VERSION": bad, "__module__": __name__})
        with pytest.raises(ObjectDeclarationError, match=f"BadVersion.VERSION {bad!r}"):
            cls.obj_fields()
