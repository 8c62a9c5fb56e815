"""Typed fields shared by the architecture and workload schemas: unit strings are parsed here, via units.py."""
from typing import Annotated, Optional

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .. import units


def _wrap(parser):
    def parse(value):
        try:
            return parser(value)
        except ValueError as e:  # pydantic reports ValueError with the field's location
            raise ValueError(str(e)) from None
    return BeforeValidator(parse)


# Physical bounds, one per quantity: a value beyond them is a typo or a unit slip, never a machine.
MAX_CAPACITY_BITS = 8 << 50          # 1 PiB
MAX_PJ_PER_ACTION = 1e12             # 1 J (per bit, per draw, per operation)
MAX_CLOCK_HZ = 100e9                 # 100 GHz
MAX_BITS_PER_S = 8e15                # 1 PB/s


def _at_most(limit, text):
    def check(value):
        if value > limit:
            raise ValueError(f"{value:g} is above {text}, the largest allowed")
        return value
    return AfterValidator(check)


Bits = Annotated[int, _wrap(units.parse_bits), Field(gt=0), _at_most(MAX_CAPACITY_BITS, "1 PiB (2**53 bits)")]
Picojoules = Annotated[float, _wrap(units.parse_pj), Field(ge=0), _at_most(MAX_PJ_PER_ACTION, "1 J (1e12 pJ)")]
Hertz = Annotated[float, _wrap(units.parse_hz), Field(gt=0), _at_most(MAX_CLOCK_HZ, "100 GHz")]
BitsPerSecond = Annotated[float, _wrap(units.parse_bits_per_s), Field(gt=0), _at_most(MAX_BITS_PER_S, "1 PB/s")]


_NUMBERS = (int, float, Optional[int], Optional[float])


class Strict(BaseModel):
    """Base for every schema model: unknown keys are errors, values are validated on assignment too, and no
    float field accepts NaN or infinity."""
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_numbers(cls, data):
        """true/false (YAML also reads yes/no/on/off so) are not numbers, though pydantic would take them as 1
        and 0: passed on as the text 'true'/'false', which the field itself then refuses, with its location."""
        if isinstance(data, dict):
            bools = {name: str(data[name]).lower() for name, field in cls.model_fields.items()
                     if isinstance(data.get(name), bool) and field.annotation in _NUMBERS}
            data = {**data, **bools} if bools else data
        return data


class Energy(Strict):
    """An energy figure with the source it was taken from (the simulator embeds no energy constant in code)."""
    value: Picojoules = Field(description="energy, e.g. '0.3125pJ' (plain numbers are pJ)")
    source: str = Field(min_length=3, description="where the figure comes from and how it was derived")
