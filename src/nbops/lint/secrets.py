"""The secret detector: credentials, tokens and keys in any text (code, markdown, outputs).

:func:`find_secrets` is shared by the lint rules NB401/NB402, the submit gate and the
"never push a secret" check. It scans a text once with one compiled regular expression
that knows two kinds of evidence:

* token formats that are secrets by their shape alone (AWS access key ids, GitHub, GitLab,
  Slack, Stripe live, Google API, OpenAI-style ``sk-``, Hugging Face, private key blocks,
  JWTs, ``user:password@`` in URLs, Azure ``AccountKey=``, ``Bearer`` headers);
* a string value given to a sensitive name (``password = "..."``, ``"api_key": "..."``,
  ``TOKEN=...`` in ``.env`` or ``%env`` lines, ``auth=("user", "...")``), kept only when
  the value looks real: not a placeholder (``"<your-key>"``, ``"changeme"``, ``"xxx"``,
  ``"${TOKEN}"``, an env var's name, a path or URL, a variable in Python code) and, except
  for passwords, long and random enough.

Decisions: ``"changeme"`` and similar stand-ins given to a sensitive name are placeholders,
not leaks (a weak default password is a different problem); a quoted value that three keys or
more share in the text is a label (``"pwd": "OSMagics"`` in ``%lsmagic``'s mapping of magics
to their classes), not a secret; but a value in a provider's
exact token format is reported even when it spells EXAMPLE; ``user:user@`` URL logins
(``postgres:postgres``) are defaults, not secrets; Stripe *test* keys are not reported.
Base64 ``data:`` URIs (inline images in HTML outputs) are skipped. Matches never carry the
secret itself, only its position and a redacted form (``'ghp_…' (40 chars)``) that is safe
to print. Throughput is a few MB per second of text.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

__all__ = ["KIND_LABELS", "SecretMatch", "find_secrets", "redact"]

# kind -> what to call it in a message
KIND_LABELS: dict[str, str] = {
    "aws-access-key-id": "AWS access key id",
    "aws-secret-access-key": "AWS secret access key",
    "github-token": "GitHub token",
    "gitlab-token": "GitLab token",
    "slack-token": "Slack token",
    "slack-webhook": "Slack webhook URL",
    "stripe-key": "Stripe live key",
    "google-api-key": "Google API key",
    "openai-api-key": "API key (sk-...)",
    "huggingface-token": "Hugging Face token",
    "private-key": "private key block",
    "jwt": "JSON Web Token",
    "url-password": "password in a URL",
    "azure-account-key": "Azure account key",
    "url-token": "token in a URL query",
    "bearer-token": "bearer token",
    "password": "hard-coded password",
    "secret": "hard-coded secret",
}


@dataclass(frozen=True, slots=True)
class SecretMatch:
    """One secret in a text. ``start``/``end`` are offsets; line/column are 1-based."""

    kind: str
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int
    redacted: str

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


def redact(value: str) -> str:
    """A printable stand-in for a secret: a few leading characters and the length."""
    if value.startswith("-----BEGIN"):  # a key block: its header line is not secret
        return f"'{value.split(chr(10), 1)[0].split(chr(92), 1)[0]}…' ({len(value)} chars)"
    n = len(value)
    keep = 4 if n >= 20 else 2 if n >= 10 else 0
    return f"'{value[:keep]}…' ({n} chars)"


# -- the scanner --------------------------------------------------------------------------
# Each alternative is (kind, pattern). A group named ``v<i>`` marks the secret's span inside
# the match (default: the whole match); ``n<i>`` is the sensitive name of generic patterns.
# Generic patterns consume only ``name =`` and look ahead at the value, so a known token
# inside a value rejected by the generic checks is still found by the scan.
_NAME_CHARS = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_ALTERNATIVES: list[tuple[str, str]] = [
    # inline images in HTML/markdown: consumed so their base64 is never scanned
    ("skip", r"data:[\w/+.\-]+;base64,[A-Za-z0-9+/=\s]{32,}"),
    (
        "private-key",
        (
            r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----"
            r"(?=(?:\\[nr]|\s)*[A-Za-z0-9+/:\-]{40})"
            r"(?:[\s\S]{0,20000}?-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----)?"
        ),
    ),
    ("aws-access-key-id", r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])"),
    (
        "github-token",
        r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{50,})",
    ),
    ("gitlab-token", r"(?<![A-Za-z0-9_])glpat-[A-Za-z0-9_\-]{20,}"),
    ("slack-token", r"(?<![A-Za-z0-9_])xox[baprs]-[A-Za-z0-9\-]{10,}"),
    (
        "slack-webhook",
        r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]{16,}",
    ),
    ("stripe-key", r"(?<![A-Za-z0-9_])(?:sk|rk)_live_[A-Za-z0-9]{16,}"),
    ("google-api-key", r"(?<![A-Za-z0-9_\-])AIza[0-9A-Za-z_\-]{35}(?![A-Za-z0-9_\-])"),
    ("huggingface-token", r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}(?![A-Za-z0-9_])"),
    ("openai-api-key", r"(?<![A-Za-z0-9_\-])sk-[A-Za-z0-9_\-]{20,}"),
    (
        "jwt",
        r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{16,}",
    ),
    (
        "url-password",
        (
            r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{1,20}://(?P<u{i}>[^\s:/@'\"<>]{1,100})"
            r":(?P<v{i}>[^\s/@'\"<>]{1,200})@[A-Za-z0-9\[]"
        ),
    ),
    ("azure-account-key", r"(?:AccountKey|SharedAccessKey)=(?P<v{i}>[A-Za-z0-9+/]{20,}={0,2})"),
    (
        "url-token",
        (
            r"(?<=[?&])(?i:(?:access_|api_|auth_)?token|api_?key|password|secret|sig|signature)="
            r"(?P<v{i}>[A-Za-z0-9%\-._~+/]{16,300})"
        ),
    ),
    ("bearer-token", r"(?i:bearer)[ \t]+(?P<v{i}>[A-Za-z0-9\-._~+/]{20,}=*)"),
    # requests' auth=("user", "password"), HTTPBasicAuth("user", "password")
    (
        "auth-tuple",
        (
            r"(?:auth[ \t]*=[ \t]*\(|(?:HTTPBasicAuth|HTTPDigestAuth|BasicAuth)\()[ \t]*"
            r"['\"][^'\"\n]{1,100}['\"][ \t]*,[ \t]*"
            r"(?P<q{i}>['\"])(?P<v{i}>[^'\"\\\n]{1,200})(?P=q{i})"
        ),
    ),
    # name = "value" / "name": "value" / os.environ["NAME"] = "value" / kwarg="value"
    (
        "generic-quoted",
        (
            r"(?<![A-Za-z0-9_])(?P<n{i}>" + _NAME_CHARS + r")['\"]?\]?"
            r"(?:[ \t]*:[ \t]*[A-Za-z_][\w\[\], .|]*)?[ \t]*(?:==|=|:)[ \t]*"
            r"(?=[rRbBuUfF]{0,2}(?P<q{i}>['\"])(?P<v{i}>[^'\"\\\n]{1,300})(?P=q{i}))"
        ),
    ),
    # NAME=value lines of .env files, %env, export, YAML
    (
        "generic-line",
        (
            r"(?m:^[ \t]*(?:export[ \t]+|!export[ \t]+|%env[ \t]+|%set_env[ \t]+|set[ \t]+)?"
            r"(?P<n{i}>[A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*[=:][ \t]*"
            r"(?=(?P<v{i}>[^\s'\"`()\[\]{},;#]{6,300})[ \t]*\r?$))"
        ),
    ),
]

_KINDS: list[str] = []
_parts: list[str] = []
for _i, (_kind, _pattern) in enumerate(_ALTERNATIVES):
    _KINDS.append(_kind)
    _parts.append(f"(?P<k{_i}>{_pattern.replace('{i}', str(_i))})")
# every alternative starts at a word start: testing that once per position keeps the scan fast
_SCANNER = re.compile(r"(?<![A-Za-z0-9_])(?:" + "|".join(_parts) + ")")
_GENERIC = {"generic-quoted", "generic-line"}
del _i, _kind, _pattern, _parts

# -- sensitive names ----------------------------------------------------------------------
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_PASSWORD_WORDS = {"password", "passwd", "pwd", "pass", "passphrase", "passcode"}
_SECRET_WORDS = {
    "secret", "secrets", "token", "credential", "credentials", "apikey", "auth",
    "authorization", "bearer", "accesstoken", "authtoken", "apitoken", "privatekey",
    "secretkey", "accesskey", "sessionkey",
}  # fmt: skip
_KEY_QUALIFIERS = {
    "api", "access", "secret", "private", "auth", "account", "subscription", "encryption",
    "signing", "master", "client", "app", "service", "session", "storage", "license",
}  # fmt: skip
# a name ending in one of these describes a secret without holding one (token_url, secret_name)
_NOT_A_VALUE = {
    "type", "types", "name", "names", "label", "field", "url", "uri", "endpoint", "path",
    "file", "filename", "dir", "env", "var", "len", "length", "size", "count", "id", "ids",
    "header", "prefix", "suffix", "pattern", "regex", "col", "column", "index", "idx",
    "location", "scope", "scopes", "expiry", "expires", "ttl", "format", "mode", "kind",
    "host", "user", "username", "arn", "version", "hint", "prompt", "limit", "max", "min",
    "num", "position", "pos", "dim", "vocab", "map", "dict", "list", "column_name",
}  # fmt: skip
_SUBSTRING_PASSWORD = ("password", "passwd")
_SUBSTRING_SECRET = ("apikey", "accesskey", "secretkey", "privatekey", "authtoken", "accesstoken")


def _name_class(name: str) -> str | None:
    """``"password"``, ``"secret"`` or None for a name that holds neither."""
    parts = [p for p in re.split(r"[_.\-\s]+", _CAMEL.sub("_", name).lower()) if p]
    if not parts or parts[-1] in _NOT_A_VALUE or parts[0] in ("is", "has", "use", "n", "num"):
        return None
    joined = "".join(parts)
    # "pass" alone is too common a word ({"pass": "bandpass"}); db_pass is a password
    words = _PASSWORD_WORDS if len(parts) > 1 else _PASSWORD_WORDS - {"pass"}
    if any(p in words for p in parts) or any(s in joined for s in _SUBSTRING_PASSWORD):
        return "password"
    if any(p in _SECRET_WORDS for p in parts) or any(s in joined for s in _SUBSTRING_SECRET):
        return "secret"
    for a, b in pairwise(parts):
        if b == "key" and a in _KEY_QUALIFIERS:
            return "secret"
    return None


# -- values -------------------------------------------------------------------------------
# a value containing one of these is a stand-in ("<your-key>", "my-example-token")
_PLACEHOLDER_WORDS = (
    "changeme", "change_me", "change-me", "your", "example", "placeholder", "dummy",
    "redacted", "xxx", "...", "sample", "fake", "insert", "replace_me", "replace-me",
)  # fmt: skip
# ... and a value that is exactly one of these
_PLACEHOLDER_VALUES = {
    "todo", "fixme", "none", "null", "secret", "password", "passwd", "token", "apikey",
    "api_key", "undefined", "missing", "unset", "notset", "default", "test", "testing",
}  # fmt: skip
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]{2,}")
_TEMPLATE = re.compile(r"\{[^}]*\}|\$\{|\$\(|%\(|%[sd]|<[^>]*>|\*{3,}|\{\{")
_PATHLIKE = ("/", "~/", "./", "../", "http://", "https://", "s3://", "gs://", "file:")


def _entropy(value: str) -> float:
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def _is_placeholder(value: str) -> bool:
    low = value.lower()
    return (
        len(set(value)) <= 2  # "xxxx", "0000", "****"
        or bool(_TEMPLATE.search(value))
        or _ENV_NAME.fullmatch(value) is not None  # an env var's name, looked up elsewhere
        or value.startswith(_PATHLIKE)
        or any(word in low for word in _PLACEHOLDER_WORDS)
        or low in _PLACEHOLDER_VALUES
    )


def _classes(value: str) -> int:
    return sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
        )
    )


def _looks_real(value: str, cls: str) -> bool:
    """True when a value given to a sensitive name is plausibly the real thing."""
    if any(c.isspace() for c in value) or _is_placeholder(value):
        return False
    if cls == "password":  # a plain word is more often a mode or label (renderPass="opaque")
        return len(value) >= 6 and (_classes(value) >= 2 or not value.isalnum())
    # tokens and keys: long and random, not a word or a label ("WebTest.COOKIE_SECRET");
    # a short random token without a digit is rare enough to miss
    return (
        len(value) >= 16
        and _classes(value) >= 2
        and _entropy(value) >= 3.3
        and (len(value) >= 32 or any(c.isdigit() for c in value))
    )


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def _python_reference(head: str, value: str, cls: str) -> bool:
    """``password = pw_from_vault``: Python code naming a variable, not a .env line."""
    if _IDENTIFIER.fullmatch(value) is None:
        return False
    before_operator = head.rstrip(" \t")[:-1]
    spaced = before_operator != before_operator.rstrip(" \t")  # black-formatted code
    return spaced or _classes(value) < 2


def _label(text: str, quote: str, value: str) -> bool:
    """The quoted value is the value of three keys or more: a category, not a secret.

    ``%lsmagic`` shows ``{"pwd": "OSMagics", "popd": "OSMagics", ...}``: a mapping of names
    to labels, where one name happens to read like a password.
    """
    return text.count(f"{quote}{value}{quote}") >= 3


_SK_BODY = re.compile(r"sk-(?:proj-|svcacct-|admin-|ant-[a-z0-9]+-)?(.*)")


def _token_ok(kind: str, text: str) -> bool:
    """Extra checks for formats whose prefix alone is not distinctive.

    A value in a provider's exact format is reported even when it reads like an example
    (``AKIAIOSFODNN7EXAMPLE``): nothing tells a pasted real key from a documentation one.
    """
    if kind == "openai-api-key":  # sk-learn-compatible-transformer... is a word, not a key
        match = _SK_BODY.fullmatch(text)
        body = match.group(1) if match else text
        return len(body) >= 20 and _classes(body) == 3 and _entropy(body) >= 3.5
    if kind in ("huggingface-token", "slack-token", "gitlab-token", "stripe-key"):
        return _classes(text) >= 2 and _entropy(text) >= 3.0
    if kind == "url-password":
        return not _is_placeholder(text) and text.lower() not in ("pass", "pw", "pwd")
    if kind in ("bearer-token", "url-token"):
        return _classes(text) >= 2 and _entropy(text) >= 3.3
    return True


# Every alternative above needs one of these substrings near its start (the sensitive names
# of the generic patterns all contain one of the words). Long texts (outputs of megabytes)
# are scanned only in windows around them: the full scanner costs far more per character.
_ANCHORS = (
    "akia", "asia", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xox",
    "hooks.slack", "_live_", "aiza", "hf_", "sk-", "eyj", "-----begin", "://", "pass", "pwd",
    "secret", "token", "credential", "auth", "bearer", "key", "sig",
)  # fmt: skip
_FULL_SCAN_BELOW = 4096
_WINDOW = 400


def _matches(text: str) -> Iterator[re.Match[str]]:
    if len(text) < _FULL_SCAN_BELOW:
        low = text.lower()
        if any(map(low.__contains__, _ANCHORS)):  # no generator: this runs for every text
            yield from _SCANNER.finditer(text)
        return
    # str.find on the lower-cased text runs in C at memory speed; a regex here would not
    low = text.lower()
    hits: list[tuple[int, bool]] = []
    for anchor in _ANCHORS:
        at = low.find(anchor)
        while at != -1:
            hits.append((at, anchor == "-----begin"))
            at = low.find(anchor, at + len(anchor))
    hits.sort()
    windows: list[tuple[int, int]] = []
    for at, key_block in hits:
        if windows and at < windows[-1][1]:
            continue
        line_start = text.rfind("\n", 0, at) + 1
        start = max(line_start, at - _WINDOW)
        if windows and start < windows[-1][1]:
            start = windows[-1][1]
        line_end = text.find("\n", at)
        if key_block:
            end = min(len(text), at + 20000)
        elif line_end == -1:
            end = min(len(text), at + _WINDOW)
        else:
            end = min(max(line_end, at + 1), at + _WINDOW)
        windows.append((start, end))
    for start, end in windows:
        yield from _SCANNER.finditer(text, start, end)


class _Memo:
    """Results by text: the same cell or output recurs across a folder (copies and variants of
    a notebook, the same import cell) and on every re-lint of an edited notebook. Bounded by
    the characters it keeps; the oldest entries go first."""

    budget = 2_000_000
    longest = 200_000

    def __init__(self) -> None:
        self.found: dict[str, tuple[SecretMatch, ...]] = {}
        self.chars = 0

    def add(self, text: str, found: list[SecretMatch]) -> None:
        while self.found and self.chars + len(text) > self.budget:
            oldest = next(iter(self.found))
            del self.found[oldest]
            self.chars -= len(oldest)
        self.found[text] = tuple(found)
        self.chars += len(text)


_MEMO = _Memo()


def find_secrets(text: str) -> list[SecretMatch]:
    """Every secret in ``text``, in order, without overlaps."""
    if not text:
        return []
    if len(text) > _MEMO.longest:
        return _find_secrets(text)
    known = _MEMO.found.get(text)
    if known is not None:
        return list(known)
    found = _find_secrets(text)
    _MEMO.add(text, found)
    return found


def _find_secrets(text: str) -> list[SecretMatch]:
    """:func:`find_secrets` without the memo."""
    found: list[tuple[str, int, int]] = []
    for m in _matches(text):
        group = m.lastgroup
        if group is None or not group.startswith("k"):
            continue
        i = int(group[1:])
        kind = _KINDS[i]
        if kind == "skip":
            continue
        value_group = f"v{i}"
        has_value = value_group in _SCANNER.groupindex and m.group(value_group) is not None
        start, end = (m.start(value_group), m.end(value_group)) if has_value else m.span()
        value = text[start:end]
        if kind in _GENERIC:
            cls = _name_class(m.group(f"n{i}"))
            if cls is None or not _looks_real(value, cls):
                continue
            if kind == "generic-line" and _python_reference(m.group(0), value, cls):
                continue
            if kind == "generic-quoted" and _label(text, m.group(f"q{i}"), value):
                continue
            name = m.group(f"n{i}").lower()
            kind = "aws-secret-access-key" if "aws" in name and cls == "secret" else cls
        elif kind == "auth-tuple":
            if not _looks_real(value, "password"):
                continue
            kind = "password"
        elif not _token_ok(kind, value):
            continue
        elif kind == "url-password" and m.group(f"u{i}") == value:
            continue  # postgres:postgres@, a well-known default rather than a secret
        found.append((kind, start, end))
    if not found:
        return []
    # a known format inside a generic value wins over the generic match
    found.sort(key=lambda f: (f[1], f[0] in ("password", "secret", "aws-secret-access-key")))
    kept: list[tuple[str, int, int]] = []
    for item in found:
        if kept and item[1] < kept[-1][2]:
            if kept[-1][0] in ("password", "secret", "aws-secret-access-key") and item[0] not in (
                "password",
                "secret",
                "aws-secret-access-key",
            ):
                kept[-1] = item
            continue
        kept.append(item)
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    out: list[SecretMatch] = []
    for kind, start, end in kept:
        line = bisect_right(starts, start)
        end_line = bisect_right(starts, max(start, end - 1))
        out.append(
            SecretMatch(
                kind=kind,
                start=start,
                end=end,
                line=line,
                column=start - starts[line - 1] + 1,
                end_line=end_line,
                end_column=end - starts[end_line - 1] + 1,
                redacted=redact(text[start:end]),
            )
        )
    return out
