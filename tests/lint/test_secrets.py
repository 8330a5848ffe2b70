"""The secret detector: known token formats, sensitive names, placeholders and false positives.

Token-shaped values are assembled at run time so that this file does not itself look like
it leaks credentials to a secret scanner.
"""

from __future__ import annotations

import base64
import hashlib
import time

import pytest

from nbops.lint.secrets import KIND_LABELS, find_secrets, redact

GITHUB = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
GITHUB_PAT = "github_pat_" + "11ABCDEFG0" + "x7Yz" * 16
GITLAB = "glpat-" + "xYz12AbC34dEf56GhI78"
SLACK = "xoxb-" + "1234567890-9876543210-" + "aBcDeFgHiJkLmNoPqRsTuVwX"
STRIPE = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"
GOOGLE = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
OPENAI = "sk-" + "proj-" + "Ab3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5z"
HF = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"
AWS_ID = "AKIA" + "4HQ2ZL7XRT5MNB3Q"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCY8ZQ3LMKEYA"
JWT = (
    "eyJhbGciOiJIUzI1NiJ9."
    + "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
    + "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
PEM_BODY = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0"
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\n" + PEM_BODY + "\n-----END RSA PRIVATE KEY-----"
AZURE_KEY = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg=="


def kinds(text: str) -> list[str]:
    return [m.kind for m in find_secrets(text)]


# --------------------------------------------------------------------------- found


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param(f'key_id = "{AWS_ID}"', "aws-access-key-id", id="aws-access-key-id"),
        pytest.param(
            'key_id = "AKIAIOSFODNN7EXAMPLE"', "aws-access-key-id", id="aws-documented-key-id"
        ),
        pytest.param(
            'KEY = "sk_live_51HxExampleExampleExample00"', "stripe-key", id="format-beats-example"
        ),
        pytest.param(
            f'aws_secret_access_key = "{AWS_SECRET}"',
            "aws-secret-access-key",
            id="aws-secret-kwarg",
        ),
        pytest.param(
            f"[default]\naws_secret_access_key = {AWS_SECRET}\n",
            "aws-secret-access-key",
            id="aws-credentials-file-printed",
        ),
        pytest.param(f'token = "{GITHUB}"', "github-token", id="github-classic"),
        pytest.param(f"use {GITHUB_PAT} for the API", "github-token", id="github-fine-grained"),
        pytest.param(f'gl = "{GITLAB}"', "gitlab-token", id="gitlab"),
        pytest.param(f"client = WebClient('{SLACK}')", "slack-token", id="slack"),
        pytest.param(
            "https://hooks.slack.com/services/T0ABCDEFG/B0ABCDEFG/" + "aBcDeFgHiJkLmNoPqRsTuVwX",
            "slack-webhook",
            id="slack-webhook",
        ),
        pytest.param(f'stripe.api_key = "{STRIPE}"', "stripe-key", id="stripe-live"),
        pytest.param(f'KEY = "{GOOGLE}"', "google-api-key", id="google"),
        pytest.param(f'OpenAI(api_key="{OPENAI}")', "openai-api-key", id="openai-in-kwarg"),
        pytest.param(f'os.environ["HF_TOKEN"] = "{HF}"', "huggingface-token", id="hf-into-environ"),
        pytest.param(f'key = """{PRIVATE_KEY}"""', "private-key", id="private-key-block"),
        pytest.param(
            'key = "-----BEGIN PRIVATE KEY-----\\n' + PEM_BODY + '\\n"',
            "private-key",
            id="private-key-escaped-newlines",
        ),
        pytest.param(f"session = {JWT}", "jwt", id="jwt"),
        pytest.param(
            'engine = create_engine("postgresql://admin:S3cretPw9@db.internal:5432/sales")',
            "url-password",
            id="url-password",
        ),
        pytest.param(
            f'conn = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={AZURE_KEY};"',
            "azure-account-key",
            id="azure-connection-string",
        ),
        pytest.param(
            f'headers = {{"Authorization": "Bearer {"Ab3dE5fG7hI9jK1lM3nO5pQ7"}"}}',
            "bearer-token",
            id="bearer-header",
        ),
        pytest.param(
            "    http://127.0.0.1:8888/lab?token=2f0c9e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a",
            "url-token",
            id="jupyter-server-url-token",
        ),
        pytest.param('password = "hunter2!x"', "password", id="password-literal"),
        pytest.param('DB_PASS = "Tr0ub4dor&3"', "password", id="db-pass"),
        pytest.param(
            'r = requests.get(url, auth=("etl", "Tr0ub4dor&3"))', "password", id="requests-auth"
        ),
        pytest.param('a = HTTPBasicAuth("etl", "Tr0ub4dor&3")', "password", id="basic-auth"),
        pytest.param(
            'token = "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"', "secret", id="long-token-without-digits"
        ),
        pytest.param('DB_PASSWORD: str = "Tr0ub4dor&3"', "password", id="annotated-password"),
        pytest.param('config = {"db_pass": "Tr0ub4dor&3"}', "password", id="password-dict-key"),
        pytest.param('connect(user="etl", passwd="Tr0ub4dor&3")', "password", id="passwd-kwarg"),
        pytest.param('if password == "letmein2024":', "password", id="password-comparison"),
        pytest.param('apiKey = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"', "secret", id="camel-api-key"),
        pytest.param(
            'client_secret = "Qm9iIGlzIGNvb2wgYW5kIHNtYXJ0"', "secret", id="client-secret"
        ),
        pytest.param("API_KEY=Zx81kQp0LmNv72RtYb5W", "secret", id="dotenv-line"),
        pytest.param("db:\n  password: S3cretPw9\n", "password", id="yaml-password"),
        pytest.param("%env SERVICE_TOKEN=Zx81kQp0LmNv72RtYb5W", "secret", id="env-magic"),
        pytest.param("export AUTH_TOKEN=Zx81kQp0LmNv72RtYb5W", "secret", id="shell-export"),
    ],
)
def test_finds_secret(text: str, kind: str) -> None:
    assert kinds(text) == [kind]


def test_every_kind_has_a_label() -> None:
    assert all(
        KIND_LABELS[m.kind] for m in find_secrets(f'a = "{GITHUB}"\npassword = "Tr0ub4dor&3"')
    )


# --------------------------------------------------------------------------- not found

SHA = hashlib.sha256(b"data.csv").hexdigest()
MD5 = hashlib.md5(b"data.csv").hexdigest()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('api_key = os.environ["API_KEY"]', id="environ-lookup"),
        pytest.param('token = os.getenv("HF_TOKEN")', id="getenv"),
        pytest.param("password = getpass()", id="getpass"),
        pytest.param('password = getpass.getpass("Password: ")', id="getpass-prompt"),
        pytest.param('api_key = "<your-key>"', id="angle-placeholder"),
        pytest.param('password = "changeme"', id="changeme"),
        pytest.param('token = "xxx"', id="xxx"),
        pytest.param('token = "xxxxxxxxxxxxxxxxxxxxxxxx"', id="many-x"),
        pytest.param('password = ""', id="empty"),
        pytest.param('token = "${TOKEN}"', id="shell-variable"),
        pytest.param('token = "{{ secrets.TOKEN }}"', id="template"),
        pytest.param('password = "********"', id="stars"),
        pytest.param('api_key = "YOUR_API_KEY"', id="env-var-name"),
        pytest.param('api_key = "sk-your-key-here-0000000000000000"', id="sk-placeholder"),
        pytest.param('api_key = "my-example-api-key-123456"', id="generic-example-value"),
        pytest.param("token = tokenizer(text)", id="tokenizer-call"),
        pytest.param("tokens = tokenizer(text)['input_ids']", id="tokens"),
        pytest.param("max_tokens = 256", id="max-tokens"),
        pytest.param('eos_token = "</s>"', id="special-token"),
        pytest.param('pad_token = "[PAD]"', id="pad-token"),
        pytest.param('token_type = "bearer"', id="token-type"),
        pytest.param('secret_name = "prod/db/credentials"', id="secret-name"),
        pytest.param('token_url = "https://oauth.example.com/token"', id="token-url"),
        pytest.param('password_env = "DB_PASSWORD"', id="password-env"),
        pytest.param(
            'secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-Ab12Cd"',
            id="secret-arn",
        ),
        pytest.param('author = "Jane Doe"', id="author-is-not-auth"),
        pytest.param('token = "my-model-name-v2"', id="low-entropy-token"),
        pytest.param('password_prompt = "Enter your password"', id="prompt-text"),
        pytest.param(f'expected_sha256 = "{SHA}"', id="sha256-constant"),
        pytest.param(f"sha256: {SHA}\nmd5: {MD5}\n", id="hashes-in-output"),
        pytest.param(f"{SHA}  data/raw/sales.csv\n", id="sha256sum-output"),
        pytest.param('run_id = "123e4567-e89b-12d3-a456-426614174000"', id="uuid"),
        pytest.param("request_id: 123e4567-e89b-12d3-a456-426614174000", id="uuid-in-output"),
        pytest.param(
            "   token  count      score\n0  hello      3  0.123456\n1  world     12  0.654321\n",
            id="dataframe-printout",
        ),
        pytest.param('url = f"postgresql://{user}:{password}@db/app"', id="url-fstring"),
        pytest.param('url = "postgresql://user:password@localhost/db"', id="url-placeholder"),
        pytest.param("http://localhost:8888/tree", id="plain-url"),
        pytest.param('headers = {"Authorization": f"Bearer {token}"}', id="bearer-fstring"),
        pytest.param('if pem.startswith("-----BEGIN PRIVATE KEY-----"):', id="pem-header-only"),
        pytest.param(
            "from sklearn.base import BaseEstimator  # sk-learn-compatible-transformer",
            id="sk-word",
        ),
        pytest.param("pass_rate = 0.95", id="pass-rate-number"),
        pytest.param('this.renderPass="offscreen";var f', id="minified-js-word"),
        pytest.param("r = requests.get(url, auth=(user, getpass()))", id="auth-from-getpass"),
        pytest.param('r = requests.get(url, auth=("user", "<password>"))', id="auth-placeholder"),
        pytest.param("filters = {'pass': 'bandpass', 'stop': 'bandstop'}", id="pass-alone"),
        pytest.param('COOKIE_SECRET = "WebTest.COOKIE_SECRET"', id="secret-label"),
        pytest.param('if next_token == "MarkAttachmentType":', id="token-name-comparison"),
        pytest.param('URL = "postgresql://postgres:postgres@localhost/db"', id="url-default-login"),
        pytest.param("password = pw_from_vault", id="variable-reference"),
        pytest.param("password = password2", id="variable-reference-mixed"),
        pytest.param("password: str", id="annotation"),
        pytest.param(
            '{"line": {"popd": "OSMagics", "pushd": "OSMagics", "pwd": "OSMagics"}}',
            id="label-shared-by-three-keys",
        ),
        pytest.param("", id="empty-text"),
    ],
)
def test_no_false_positive(text: str) -> None:
    assert kinds(text) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        pytest.param('{"pwd": "OSMagics", "cd": "OSMagics"}', 1, id="two-keys-not-a-category"),
        pytest.param(
            '{"db_password": "Tr0ub4dor&3", "admin_password": "Tr0ub4dor&3"}', 2, id="reused"
        ),
    ],
)
def test_value_of_one_or_two_keys_is_still_a_secret(text: str, found: int) -> None:
    assert kinds(text) == ["password"] * found


def test_base64_data_uri_is_skipped() -> None:
    # random base64 can contain anything; an inline image must never be reported
    blob = base64.b64encode(AWS_ID.encode() * 50 + b"\x00" * 3).decode()
    html = f'<img src="data:image/png;base64,{blob}"/> AKIA in prose'
    assert kinds(html) == []
    assert kinds(f'<img src="data:image/png;base64,{blob}"/> key: {AWS_ID}') == [
        "aws-access-key-id"
    ]


# ------------------------------------------------------------------------- positions, redaction


def test_positions_are_one_based_and_cover_the_value() -> None:
    text = f'import os\n\nclient = Client(token="{GITHUB}")\n'
    (m,) = find_secrets(text)
    assert (m.line, m.column) == (3, 24)
    assert (m.end_line, m.end_column) == (3, 24 + len(GITHUB))
    assert text[m.start : m.end] == GITHUB


def test_private_key_spans_the_block() -> None:
    text = f"x = 1\nkey = '''{PRIVATE_KEY}'''\n"
    (m,) = find_secrets(text)
    assert (m.line, m.end_line) == (2, 4)
    assert text[m.start : m.end] == PRIVATE_KEY
    assert "RSA PRIVATE KEY" in m.redacted and PEM_BODY[:10] not in m.redacted


def test_known_format_wins_over_generic_name() -> None:
    (m,) = find_secrets(f'api_key = "{STRIPE}"')
    assert m.kind == "stripe-key"


def test_several_secrets_in_order() -> None:
    text = f'a = "{GITHUB}"\nb = "{AWS_ID}"\npassword = "Tr0ub4dor&3"'
    assert kinds(text) == ["github-token", "aws-access-key-id", "password"]


@pytest.mark.parametrize(
    "secret", [GITHUB, STRIPE, AWS_SECRET, "Tr0ub4dor&3", "hunter2x", JWT], ids=str.__len__
)
def test_redaction_never_shows_the_secret(secret: str) -> None:
    shown = redact(secret)
    assert secret not in shown
    assert f"({len(secret)} chars)" in shown
    assert len(shown.split("'")[1].rstrip("…")) <= 4


def test_redacted_form_in_matches() -> None:
    (m,) = find_secrets(f'stripe.api_key = "{STRIPE}"')
    assert m.redacted == f"'sk_l…' ({len(STRIPE)} chars)"
    (p,) = find_secrets('password = "hunter2x"')
    assert p.redacted == "'…' (8 chars)"


def test_large_text_is_fast() -> None:
    blob = base64.b64encode(bytes(range(256)) * 4000).decode()  # ~1.4 MB
    table = "\n".join(
        f"{i:6d}  {hashlib.sha1(str(i).encode()).hexdigest()}  token_{i}" for i in range(20000)
    )
    start = time.perf_counter()
    assert kinds(blob) == [] and kinds(table) == []
    assert time.perf_counter() - start < 5  # ~0.2 s; generous for slow CI machines


# --------------------------------------------------------------------------- memo by text


def test_find_secrets_remembers_a_text_and_hands_out_fresh_lists() -> None:
    from nbops.lint.secrets import _MEMO, _find_secrets

    text = f"token = '{GITHUB}'  # memo test {time.time_ns()}"
    first = find_secrets(text)
    assert text in _MEMO.found
    first.clear()  # a caller's list is its own
    again = find_secrets(text)
    assert again == _find_secrets(text) and len(again) == 1 and again[0].kind == "github-token"
    assert find_secrets("") == []


def test_find_secrets_memo_is_bounded_and_forgets_the_oldest() -> None:
    from nbops.lint.secrets import _Memo

    memo = _Memo()
    memo.budget = 10
    memo.add("aaaa", [])
    memo.add("bbbb", [])
    memo.add("cccc", [])  # 12 characters: "aaaa" goes
    assert list(memo.found) == ["bbbb", "cccc"] and memo.chars == 8
    memo.add("x" * 20, [])  # longer than the budget alone: kept as the only entry
    assert list(memo.found) == ["x" * 20] and memo.chars == 20


def test_find_secrets_does_not_remember_huge_texts() -> None:
    from nbops.lint.secrets import _MEMO

    text = "x" * (_MEMO.longest + 1) + f" password='{AWS_SECRET}'"
    assert len(find_secrets(text)) == 1
    assert text not in _MEMO.found
