"""The image service's default rules (Glance's names): any project's reader reads,
its members change their project's images, only admins make an image public."""

from __future__ import annotations

from ..policy import Rule

READER = "role:reader"
MEMBER = "role:member"

RULES: tuple[Rule, ...] = (
    Rule("get_images", READER, "List images"),
    Rule("get_image", READER, "Show an image"),
    Rule("add_image", MEMBER, "Create an image (owned by the token's project)"),
    Rule("modify_image", MEMBER, "Update an image (its owner's or an admin's)"),
    Rule("delete_image", MEMBER, "Delete an image (its owner's or an admin's)"),
    Rule("upload_image", MEMBER, "Upload an image's data (its owner's or an admin's)"),
    Rule("publicize_image", "role:admin", "Make an image public"),
    Rule("download_image", f"{READER} or role:service", "Download an image's data"),
    Rule(
        "download_any_image",
        "role:admin or role:service",
        "Download an image the token's project cannot see (the compute hosts' "
        "service credential fetching another project's private image)",
    ),
)
