"""The README's Python snippets run, in order, as a newcomer would paste them."""

import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def test_readme_snippets_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no Python snippets"
    namespace = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["search"].best_params_ == {"p": 8}
