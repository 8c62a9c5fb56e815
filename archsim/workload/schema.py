"""The p-DNN workload schema: input, layers (dense), samples T, seed, optional weights/inputs files."""
from typing import Literal, Optional

from pydantic import Field, model_validator

from ..config.fields import Strict

Activation = Literal["pbit", "noisy", "quantized", "linear"]


class InputSpec(Strict):
    size: int = Field(gt=0, le=1 << 24, description="input features")
    bits: int = Field(default=1, ge=1, le=16, description="unsigned bits per input feature")


class Dense(Strict):
    type: Literal["dense"]
    outputs: int = Field(gt=0, le=1 << 24, description="output neurons")
    weight_bits: int = Field(ge=1, le=16, description="signed weight width, bits")
    activation: Activation
    output_bits: Optional[int] = Field(default=None, ge=1, le=32, description="bits of each output activation "
                                       "(1 for pbit; required for noisy, quantized and linear)")
    gain: Optional[float] = Field(default=None, gt=0, description="real pre-activation = gain * integer sum "
                                  "(default 2 / (2**(weight_bits-1) * sqrt(fan_in)))")

    @model_validator(mode="after")
    def _output_bits(self):
        if self.activation == "pbit":
            if self.output_bits not in (None, 1):
                raise ValueError(f"output_bits must be 1 (or absent) for a pbit activation, got {self.output_bits}")
            object.__setattr__(self, "output_bits", 1)
        elif self.output_bits is None:
            raise ValueError(f"output_bits is required for a {self.activation!r} activation")
        return self


class Pdnn(Strict):
    """A feed-forward p-DNN evaluated for `samples` (T) samples per input item."""
    schema_version: Literal[1] = 1
    kind: Literal["pdnn"]
    name: str = Field(min_length=1)
    samples: int = Field(ge=1, le=1 << 20, description="T, samples per input item")
    seed: int = Field(default=0, ge=0, lt=1 << 63)
    input: InputSpec
    layers: list[Dense] = Field(min_length=1)
    weights: Optional[str] = Field(default=None, description=".npz with one integer array per layer "
                                   "(layer0, layer1, ... or positional), relative to the workload file")
    inputs: Optional[str] = Field(default=None, description=".npz with array 'x' of shape (items, input.size) and "
                                  "optionally 'y' (items,) integer class labels: accuracy is then reported")
    batch: int = Field(default=1, ge=1, le=1 << 20, description="input items generated from the seed when no "
                       "inputs file is given")

    @model_validator(mode="after")
    def _linear_last(self):
        for i, layer in enumerate(self.layers[:-1]):
            if layer.activation == "linear":
                raise ValueError(f"layers[{i}].activation: 'linear' (multi-bit analog output) is only allowed "
                                 f"for the last layer")
        return self
