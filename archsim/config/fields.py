"""Typed fields shared by the architecture and workload schemas: unit strings are parsed here, via units.py."""
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .. import units


def _wrap(parser):
    def parse(value):
        try:
            return parser(value)
        except ValueError as e:  # pydantic reports ValueError with the field's location
            raise ValueError(str(e)) from None
    return BeforeValidator(parse)


Bits = Annotated[int, _wrap(units.parse_bits), Field(gt=0)]
Picojoules = Annotated[float, _wrap(units.parse_pj), Field(ge=0)]
Hertz = Annotated[float, _wrap(units.parse_hz), Field(gt=0)]
BitsPerSecond = Annotated[float, _wrap(units.parse_bits_per_s), Field(gt=0)]


class Strict(BaseModel):
    """Base for every schema model: unknown keys are errors, values are validated on assignment too."""
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Energy(Strict):
    """An energy figure with the source it was taken from (the simulator embeds no energy constant in code)."""
    value: Picojoules = Field(description="energy, e.g. '0.3125pJ' (plain numbers are pJ)")
    source: str = Field(min_length=3, description="where the figure comes from and how it was derived")
