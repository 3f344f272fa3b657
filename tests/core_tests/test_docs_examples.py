"""The reference docs' torch.Tensor page examples, run as tests.

Each example session (consecutive ``>>>`` lines and their printed output) runs with ``import ember as
torch``; the printed output is compared token by token (the translated docs lost some of 0.2's leading
spaces). Sessions that draw random numbers compare only the size footers and torch.Size lines.
"""
import contextlib
import io
import os
import re

import pytest

import ember
from _helpers.data import SHARED_DATA

DOCS = os.path.join(os.path.dirname(SHARED_DATA), "reference", "pytorch-0.2-docs-zh.txt")
TENSOR_PAGE = (804, 2992)  # line range of the torch.Tensor page (reference/README.md)
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
# Evident slips in the translated docs, fixed before running (documented per case).
_FIXES = {
    "torch.Tensor(3， 3)": "torch.Tensor(3, 3)",  # full-width comma
    # the printed result fills columns 0 and 2: the example meant dim 1 (as the English docs of later versions)
    "x.index_fill_(0, index, -1)": "x.index_fill_(1, index, -1)",
}


def _sessions():
    if not os.path.exists(DOCS):
        return []
    with open(DOCS, encoding="utf-8") as f:
        lines = f.read().splitlines()[TENSOR_PAGE[0] - 1:TENSOR_PAGE[1]]
    sessions, current, last_stmt_line = [], None, -10
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(">>>"):
            if current is None or i - last_stmt_line > 12:
                current = {"start": TENSOR_PAGE[0] + i, "steps": []}
                sessions.append(current)
            stmt = line[3:].strip()
            for bad, good in _FIXES.items():
                stmt = stmt.replace(bad, good)
            out = []
            j = i + 1
            while j < len(lines) and not lines[j].startswith(">>>") and not _CJK.search(lines[j]):
                if lines[j].strip():
                    out.append(lines[j])
                elif out and j + 1 < len(lines) and not lines[j + 1].strip():
                    break  # two blank lines end an output
                j += 1
            current["steps"].append((stmt, out))
            last_stmt_line = j - 1
            i = j
        else:
            if _CJK.search(line):
                current = None
            i += 1
    return sessions


SESSIONS = _sessions()


def _tokens(text_lines):
    return " ".join(text_lines).split()


def _footers(text_lines):
    return [ln.strip() for ln in text_lines if ln.strip().startswith(("[torch.", "torch.Size"))]


@pytest.mark.skipif(not SESSIONS, reason="reference docs not present beside the repository")
@pytest.mark.parametrize("session", SESSIONS, ids=[str(s["start"]) for s in SESSIONS])
def test_tensor_page_example(session):
    ns = {"torch": ember}
    random = any(re.search(r"\b(rand|randn|randperm|normal_|uniform_)\b", s) for s, _ in session["steps"])
    for stmt, expected in session["steps"]:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            try:
                code = compile(stmt, "<docs>", "eval")
            except SyntaxError:
                exec(compile(stmt, "<docs>", "exec"), ns)
            else:
                value = eval(code, ns)
                if value is not None:
                    print(repr(value))
        got = buf.getvalue().splitlines()
        if not expected:
            continue
        if random:
            assert _footers(got) == _footers(expected), (stmt, got, expected)
        else:
            assert _tokens(got) == _tokens(expected), "{}\n got: {}\nwant: {}".format(stmt, got, expected)
