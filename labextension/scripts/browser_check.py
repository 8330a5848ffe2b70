"""Drive the nbops JupyterLab extension in Debian Chromium: a manual end-to-end check,
not (yet) a pytest test. Needs /usr/bin/chromium (apt-get install chromium) and
`pip install playwright` (never `playwright install`).

usage: python browser_check.py BASE_URL TOKEN NOTEBOOK_REL_PATH ROOT_DIR MODE
MODE = full     (server extension loaded; the notebook is edited and SAVED: use a copy)
     | missing  (server extension disabled: the panel must say so)

e.g.  mkdir -p /tmp/nbroot && cp -r examples /tmp/nbroot/
      VENV=.venv labextension/scripts/startlab.sh 18951 full &
      .venv/bin/python labextension/scripts/browser_check.py http://127.0.0.1:18951 nbopstok \
          examples/churn_classifier.ipynb /tmp/nbroot full
Screenshots go to /tmp/nbops-*.png.
"""

import json
import sys
import tempfile
import time

from playwright.sync_api import sync_playwright

base, token, nb, root, mode = sys.argv[1:6]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

console = []
t0 = time.time()


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def log(msg):
    print(f"[{time.time() - t0:5.1f}s] {msg}", flush=True)


with sync_playwright() as p:
    ctx = p.chromium.launch_persistent_context(
        tempfile.mkdtemp(),
        executable_path="/usr/bin/chromium",
        args=ARGS,
        viewport={"width": 1500, "height": 950},
    )
    page = ctx.new_page()
    page.on("console", lambda m: console.append((m.type, m.text)))
    page.on("pageerror", lambda e: console.append(("pageerror", str(e))))
    page.on(
        "response",
        lambda r: (
            r.status >= 400
            and (console.append(("http", f"{r.status} {r.url}")), log(f"HTTP {r.status} {r.url}"))
        ),
    )

    if mode == "missing":
        page.goto(f"{base}/lab?token={token}")
        page.wait_for_selector(".jp-LabShell", timeout=60000)
        page.wait_for_selector(".jp-SideBar [data-id='nbops-panel']", timeout=30000)
        page.click(".jp-SideBar [data-id='nbops-panel']")
        err = page.wait_for_selector(".nbops-panel .nbops-error", timeout=15000)
        log(f"error box: data-error={err.get_attribute('data-error')} text={err.inner_text()!r}")
        page.screenshot(path="/tmp/nbops-panel-missing.png")
        # open a notebook too: the lint error must show, nothing crashes
        page.goto(f"{base}/lab/tree/{nb}?token={token}")
        page.wait_for_selector(".nbops-lint-button", timeout=60000)
        page.click(".nbops-lint-button")
        err = page.wait_for_selector(
            ".nbops-panel .nbops-error[data-error='server_missing']", timeout=15000
        )
        log(f"after Lint: {err.inner_text()!r}")
        item = page.query_selector(".nbops-status-item")
        log(f"status item: {item.inner_text() if item else None!r}")
        page.screenshot(path="/tmp/nbops-panel-missing-notebook.png")
    else:
        page.goto(f"{base}/lab/tree/{nb}?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60000)
        page.wait_for_selector(".nbops-lint-button", timeout=30000)
        log(
            "notebook open, toolbar buttons present: "
            f"lint={bool(page.query_selector('.nbops-lint-button'))} "
            f"submit={bool(page.query_selector('.nbops-submit-button'))}"
        )
        # lint on open: the status bar item gets a count without any click
        page.wait_for_selector(".nbops-status-item[data-count]", timeout=30000)
        log(f"lint on open -> status bar {page.inner_text('.nbops-status-item')!r}")

        page.click(".nbops-lint-button")
        page.wait_for_selector(".nbops-panel:not(.lm-mod-hidden) .nbops-finding", timeout=30000)
        n = len(page.query_selector_all(".nbops-finding"))
        groups = page.query_selector_all(".nbops-cell-group .nbops-cell-label")
        log(f"panel: {n} findings in {len(groups)} groups: {[g.inner_text() for g in groups[:6]]}")
        log(f"summary: {page.inner_text('.nbops-summary')!r}")
        first = page.query_selector(".nbops-finding[data-code^='NB']")
        log(f"NB finding title (rule summary tooltip): {first.get_attribute('title')!r}")
        link = page.query_selector(".nbops-rule-link")
        log(f"rule link: href={link.get_attribute('href')} target={link.get_attribute('target')}")
        page.screenshot(path="/tmp/nbops-panel.png")

        # click a finding far down -> that cell becomes active and visible
        findings = page.query_selector_all(".nbops-finding[data-cell-index]")
        target = max(findings, key=lambda f: int(f.get_attribute("data-cell-index") or -1))
        idx = int(target.get_attribute("data-cell-index"))
        code = target.get_attribute("data-code")
        target.click()
        time.sleep(0.8)
        active = page.evaluate(
            """() => { const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];
                       const a = document.querySelector('.jp-Notebook .jp-Cell.jp-mod-active');
                       const r = a.getBoundingClientRect();
                       const nb = document.querySelector('.jp-Notebook').getBoundingClientRect();
                       return {index: cells.indexOf(a), top: r.top, bottom: r.bottom,
                               nbTop: nb.top, nbBottom: nb.bottom}; }"""
        )
        log(f"clicked {code} of cell_index {idx}: active cell DOM index {active}")
        page.screenshot(path="/tmp/nbops-goto.png")

        # one safe fix
        disk_before = read(f"{root}/{nb}")
        fix_btn = page.query_selector(
            ".nbops-finding[data-code='I001'] .nbops-fix"
        ) or page.query_selector(".nbops-finding .nbops-fix")
        li = fix_btn.evaluate_handle("b => b.closest('.nbops-finding')")
        fcode = li.get_attribute("data-code")
        fcell = li.get_attribute("data-cell-index")
        before = len(
            page.query_selector_all(
                f".nbops-finding[data-code='{fcode}'][data-cell-index='{fcell}']"
            )
        )
        fix_btn.click()
        page.wait_for_function(
            f"() => document.querySelectorAll(\".nbops-finding[data-code='{fcode}'][data-cell-index='{fcell}']\").length < {before}",
            timeout=30000,
        )
        log(
            f"Fix {fcode} in cell {fcell}: gone from the panel; summary {page.inner_text('.nbops-summary')!r}"
        )
        dirty = page.evaluate(
            "() => !!document.querySelector('.jp-mod-current.jp-mod-dirty, .lm-TabBar-tab.jp-mod-dirty')"
        )
        log(
            f"document dirty (unsaved) = {dirty}; disk unchanged = {read(f'{root}/{nb}') == disk_before}"
        )

        # fix all safe
        page.click(".nbops-fix-all")
        page.wait_for_selector(".Toastify__toast", timeout=30000)
        time.sleep(0.3)
        toasts = [t.inner_text() for t in page.query_selector_all(".Toastify__toast")]
        page.wait_for_selector(".nbops-status[data-status='done']", timeout=30000)
        log(
            f"Fix all safe: toasts {toasts}; summary {page.inner_text('.nbops-summary')!r}; "
            f"status bar {page.inner_text('.nbops-status-item')!r}"
        )
        log(f"disk unchanged after fix-all = {read(f'{root}/{nb}') == disk_before}")
        page.screenshot(path="/tmp/nbops-after-fix.png")

        # undo in command mode: one Z undoes the whole fix-all, a second one the single fix
        page.click(".jp-Notebook .jp-Cell .jp-InputPrompt")
        for step in (1, 2):
            page.keyboard.press("Escape")
            page.keyboard.press("z")
            time.sleep(0.4)
            page.click(".nbops-panel-lint")
            page.wait_for_selector(".nbops-status[data-status='done']", timeout=30000)
            time.sleep(0.3)
            log(f"after undo #{step} + lint: {page.inner_text('.nbops-summary')!r}")
            page.click(".jp-Notebook .jp-Cell .jp-InputPrompt")

        # stale single fix: edit cell 2 (index 1) first, then Fix a finding in another cell
        page.click(".nbops-cell-group[data-cell-index='1'] .nbops-cell-header")
        time.sleep(0.5)
        page.click(".jp-Notebook .jp-Cell.jp-mod-active .cm-content")
        page.keyboard.press("Control+End")
        page.keyboard.type("\nimport sys")
        page.keyboard.press("Escape")
        time.sleep(0.2)
        stale = page.query_selector(".nbops-stale")
        log(f"after typing: stale marker shown = {bool(stale)}")
        btn = page.query_selector(".nbops-finding[data-code='NB303'] .nbops-fix")
        btn.click()
        page.wait_for_function(
            "() => !document.querySelector(\".nbops-finding[data-code='NB303']\")", timeout=30000
        )
        log(
            f"NB303 fixed after an edit (re-lint first): summary {page.inner_text('.nbops-summary')!r}"
        )
        src = page.inner_text(".jp-Notebook .jp-Cell.jp-mod-active .cm-content")
        log(f"typed text survived the fix: {'import sys' in src}")

        # save -> lint on save
        with page.expect_request(
            lambda r: r.url.split("?")[0].endswith("/nbops/lint") and r.method == "POST",
            timeout=15000,
        ):
            page.keyboard.press("Control+s")
        log("Ctrl+S -> POST nbops/lint seen (lint on save)")
        page.wait_for_selector(".nbops-status[data-status='done']", timeout=30000)
        saved = json.loads(read(f"{root}/{nb}"))
        log(
            f"saved file has 'parameters' tag: {any('parameters' in c.get('metadata', {}).get('tags', []) for c in saved['cells'])}"
        )

        # submit for review placeholder
        page.click(".nbops-submit-button")
        dlg = page.wait_for_selector(".jp-Dialog .nbops-submit-dialog", timeout=10000)
        log(f"submit dialog: {dlg.inner_text()!r}")
        page.screenshot(path="/tmp/nbops-submit.png")
        page.click(".jp-Dialog .jp-mod-accept")

        # command palette
        page.keyboard.press("Control+Shift+C")
        page.wait_for_selector(".lm-CommandPalette-input", timeout=10000)
        page.fill(".lm-CommandPalette-input", "nbops")
        time.sleep(0.3)
        items = [
            i.inner_text()
            for i in page.query_selector_all(".lm-CommandPalette-item .lm-CommandPalette-itemLabel")
        ]
        log(f"palette: {items}")
        page.keyboard.press("Escape")

        # status bar click opens the panel: collapse the panel first
        page.click(".jp-SideBar [data-id='nbops-panel']")
        time.sleep(0.3)
        page.click(".nbops-status-item")
        time.sleep(0.3)
        log(f"status bar click -> panel visible = {page.is_visible('.nbops-panel')}")

        # dark theme screenshot
        page.keyboard.press("Control+Shift+C")
        page.fill(".lm-CommandPalette-input", "Use Theme: JupyterLab Dark")
        page.keyboard.press("Enter")
        time.sleep(1.5)
        page.screenshot(path="/tmp/nbops-panel-dark.png")

    errors = [c for c in console if c[0] in ("error", "pageerror", "http")]
    log(f"console errors: {len(errors)}")
    for e in errors:
        print("   ", e)
    nbops_msgs = [c for c in console if "nbops" in c[1].lower()]
    log(f"console lines mentioning nbops: {nbops_msgs}")
    ctx.close()
