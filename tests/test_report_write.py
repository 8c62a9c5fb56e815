"""summary.json is written byte for byte as json.dumps(summary, indent=2, allow_nan=False) writes it (the stdlib
encoder is the oracle), whatever the summary holds."""
import json
import math

import pytest

from archsim.report.run import summary_json


def plain(summary):
    return json.dumps(summary, indent=2, allow_nan=False) + "\n"


@pytest.mark.parametrize("summary", [
    {"a": 1, "outputs": [0.1 * i for i in range(1000)] + [1e300, -0.0, 5e-324, 3], "b": "x"},
    {"empty": [], "ints": [1, 2, -3], "bools": [True, False], "nested": {"l": [0.375, 6.625]}, "none": None},
    {"mixed": [1, "a, b", 2.0], "pairs": [[1, 2], [3, 4]], "s": "@archsim-list-0@", "l": [1.0, 2.0]},
    {"one": [7.25], "text": "\"quoted\", [1, 2]\n", "deep": [{"x": [1.0]}]},
])
def test_same_bytes_as_the_standard_encoder(summary):
    assert summary_json(summary) == plain(summary)


def test_not_a_number_is_refused_as_the_standard_encoder_refuses_it():
    with pytest.raises(ValueError):
        summary_json({"outputs": [1.0, math.nan]})
