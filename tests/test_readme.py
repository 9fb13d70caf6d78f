"""The README's examples run as written, each block on its own, and print what they show.

Python blocks: each runs by itself in a fresh namespace (a reader copies one block). A line
``print(...)  # EXPECTED`` must print EXPECTED: the same text, with every number within 0.01 (or
1%) of the shown one, so a README that claims an accuracy the code does not reach fails.
Console blocks: every ``neuronet ...`` line parses with the real argument parser (the options
exist and take those values).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"
TEXT = README.read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)
COMMANDS = [
    line.split("  #")[0].strip()
    for block in re.findall(r"```console\n(.*?)```", TEXT, flags=re.S)
    for line in block.splitlines()
    if line.startswith("neuronet ")
]
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")
OPTIONAL = {"graphviz": "the viz extra (graphviz)", "matplotlib": "the plot extra (matplotlib)"}


def matches(printed: str, expected: str) -> bool:
    """Same text around the numbers, and each number close to the shown one."""
    if NUMBER.sub("#", printed) != NUMBER.sub("#", expected):
        return False
    pairs = zip(NUMBER.findall(printed), NUMBER.findall(expected))
    return all(abs(float(a) - float(b)) <= max(0.01, 0.01 * abs(float(b))) for a, b in pairs)


def expected_prints(block: str) -> dict:
    """{line number: expected output} for the ``print(...)  # ...`` lines of a block."""
    out = {}
    for number, line in enumerate(block.splitlines(), 1):
        m = re.match(r"^\s*print\(.*\)\s+# (.+)$", line)
        if m:
            out[number] = m.group(1).strip()
    return out


def test_matcher_fails_for_a_wrong_claim():
    assert matches("{'loss': 0.1936, 'accuracy': 0.9493}", "{'loss': 0.194, 'accuracy': 0.949}")
    assert not matches("{'loss': 0.19, 'accuracy': 0.949}", "{'loss': 0.19, 'accuracy': 0.97}")
    assert not matches("{'loss': 0.19}", "{'cost': 0.19}")


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    block = BLOCKS[index]
    needs = {"graphviz"} if "neuronet.viz" in block else set()
    needs |= {
        m
        for m in OPTIONAL
        if f"import {m}" in block or "plot_history" in block and m == "matplotlib"
    }
    for module in sorted(needs):
        pytest.importorskip(module, reason=f"this block needs {OPTIONAL[module]}")
    printed = []

    def capture(*args, **kwargs):
        import sys

        line = sys._getframe(1).f_lineno
        printed.append((line, " ".join(str(a) for a in args)))

    exec(compile(block, f"README.md block {index}", "exec"), {"print": capture})
    for line, expected in expected_prints(block).items():
        outputs = [text for at, text in printed if at == line]
        assert outputs, f"README block {index} line {line} printed nothing"
        assert matches(outputs[-1], expected), (
            f"README block {index} line {line} prints {outputs[-1]!r}, the README shows "
            f"{expected!r}"
        )


def test_every_python_block_checks_a_printed_value():
    assert all(expected_prints(b) for b in BLOCKS)


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_parses(command):
    from neuronet.cli import build_parser

    parser = build_parser()
    args = shlex.split(command)[1:]
    if args == ["--version"]:
        return
    parsed, unknown = parser.parse_known_args(args)
    assert not unknown and parsed.command in parser.subcommands
