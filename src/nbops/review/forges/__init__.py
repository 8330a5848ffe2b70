"""Forge adapters: open or update the review pull request on GitHub or GitLab.

::

    forge = forge_for(remote_url, forge=policy.forge, api_url=policy.api_url,
                      token_env=policy.token_env)
    if forge is None:                # a local remote, or a host no forge knows
        ...
    elif not forge.has_token:        # push, then print where to open it by hand
        print(forge.compare_url(head, base))
    else:
        pr = forge.open_or_update(head=head, base=base, title=..., body=..., reviewers=...)

See docs/forges.md for detection, tokens, the endpoints called and the errors.
"""

from __future__ import annotations

from nbops.review.forges.base import (
    FORGES,
    ApiResponse,
    Forge,
    ForgeRegistry,
    PullRequest,
    PullRequestExists,
    forge_for,
)
from nbops.review.forges.remote import RemoteInfo, parse_remote

__all__ = [
    "FORGES",
    "ApiResponse",
    "Forge",
    "ForgeRegistry",
    "PullRequest",
    "PullRequestExists",
    "RemoteInfo",
    "forge_for",
    "parse_remote",
]
