"""The image service's default rules (Glance's names): any project's reader reads."""

from __future__ import annotations

from ..policy import Rule

READER = "role:reader"

RULES: tuple[Rule, ...] = (
    Rule("get_images", READER, "List images"),
    Rule("get_image", READER, "Show an image"),
)
