"""The README's Python snippets run, in order, as a newcomer would paste them,
and every ``expression  # {literal}`` comment states the expression's value."""

import ast
import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"
CLAIM = re.compile(r"^([\w.\[\]'\"]+)\s+# (\{.*\})\s*$")


def test_readme_snippets_run_and_their_stated_results_hold():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no Python snippets"
    namespace, checked = {}, 0
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
        for line in block.splitlines():
            match = CLAIM.match(line)
            if match:
                value = eval(match.group(1), namespace)
                assert value == ast.literal_eval(match.group(2)), line
                checked += 1
    assert checked >= 2
