"""The image service's default rules (Glance's names): any project's reader reads."""

from __future__ import annotations

from ..policy import Rule

READER = "role:reader"

RULES: tuple[Rule, ...] = (
    Rule("get_images", READER, "List images"),
    Rule("get_image", READER, "Show an image"),
    Rule("download_image", f"{READER} or role:service", "Download an image's data"),
    Rule(
        "download_any_image",
        "role:admin or role:service",
        "Download an image the token's project cannot see (the compute hosts' "
        "service credential fetching another project's private image)",
    ),
)
