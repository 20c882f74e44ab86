"""Visit codes: four digits the operative says at the door.

Short and easy to say aloud, so a resident can check it through a closed door; dull
patterns (1111, 1234) are avoided because a bogus caller could guess them.
"""

from __future__ import annotations

import itertools
import random

CODE_LENGTH = 4


def _is_guessable(code: str) -> bool:
    digits = [int(c) for c in code]
    steps = {b - a for a, b in itertools.pairwise(digits)}
    return len(set(code)) <= 2 or steps in ({1}, {-1}) or code[:2] == code[2:]


def new_visit_code(rng: random.Random) -> str:
    while True:
        code = f"{rng.randrange(10**CODE_LENGTH):0{CODE_LENGTH}d}"
        if not _is_guessable(code):
            return code
