"""The p-DNN workload schema: input, layers (dense, conv2d, maxpool, avgpool, flatten), samples T, seed,
optional weights/inputs files; and shape inference through the layers."""
from typing import Annotated, Literal, Optional, Union

from pydantic import Field, model_validator

from ..config.fields import Strict

Activation = Literal["pbit", "noisy", "quantized", "linear"]


class InputSpec(Strict):
    size: Optional[int] = Field(default=None, gt=0, le=1 << 24, description="input features (flat input)")
    shape: Optional[list[Annotated[int, Field(gt=0, le=1 << 16)]]] = Field(
        default=None, min_length=3, max_length=3, description="image input [height, width, channels] (NHWC)")
    bits: int = Field(default=1, ge=1, le=16, description="unsigned bits per input feature")

    @model_validator(mode="after")
    def _size_or_shape(self):
        if (self.size is None) == (self.shape is None):
            raise ValueError("give exactly one of size (flat input) or shape ([height, width, channels])")
        if self.shape is not None:
            object.__setattr__(self, "size", self.shape[0] * self.shape[1] * self.shape[2])
        return self


class _Neurons(Strict):
    """Fields shared by layers of neurons with weights."""
    weight_bits: int = Field(ge=1, le=16, description="signed weight width, bits")
    activation: Activation
    output_bits: Optional[int] = Field(default=None, ge=1, le=32, description="bits of each output activation "
                                       "(1 for pbit; required for noisy, quantized and linear)")
    gain: Optional[float] = Field(default=None, gt=0, description="real pre-activation = gain * integer sum "
                                  "(default 2 / (2**(weight_bits-1) * sqrt(fan_in)))")
    bias: bool = Field(default=False, description="an integer bias per output, preloaded into the accumulator "
                       "and read from weight memory with the output's weights")
    bias_bits: int = Field(default=16, ge=1, le=32, description="signed bias width, bits")

    @model_validator(mode="after")
    def _output_bits(self):
        if self.activation == "pbit":
            if self.output_bits not in (None, 1):
                raise ValueError(f"output_bits must be 1 (or absent) for a pbit activation, got {self.output_bits}")
            object.__setattr__(self, "output_bits", 1)
        elif self.output_bits is None:
            raise ValueError(f"output_bits is required for a {self.activation!r} activation")
        return self


class Dense(_Neurons):
    type: Literal["dense"]
    outputs: int = Field(gt=0, le=1 << 24, description="output neurons (an image input is flattened, HWC order)")

    def out_shape(self, shape, i):
        """The layer's output shape for input `shape` ((n,) flat or (H, W, C)); ValueError naming layers[i]."""
        return (self.outputs,)


class _Window(Strict):
    """A square window slid over an image (conv2d, pooling): its output shape."""

    def out_shape(self, shape, i):
        if len(shape) != 3:
            raise ValueError(f"layers[{i}]: {self.type} needs an image input ([height, width, channels]), "
                             f"but its input is flat ({shape[0]} features)")
        k = self.kernel
        stride = self.stride or k
        pad = getattr(self, "padding", 0)
        H, W = shape[0] + 2 * pad, shape[1] + 2 * pad
        if k > H or k > W:
            raise ValueError(f"layers[{i}]: kernel {k} does not fit the {shape[0]}x{shape[1]} input "
                             f"(padding {pad})")
        return ((H - k) // stride + 1, (W - k) // stride + 1, getattr(self, "channels", shape[2]))


class Conv2d(_Neurons, _Window):
    type: Literal["conv2d"]
    channels: int = Field(gt=0, le=1 << 16, description="output channels")
    kernel: int = Field(gt=0, le=64, description="square kernel size")
    stride: int = Field(default=1, gt=0, le=64)
    padding: int = Field(default=0, ge=0, le=64, description="zero padding on each side")


class Pool(_Window):
    type: Literal["maxpool", "avgpool"]
    kernel: int = Field(gt=0, le=64, description="square window")
    stride: Optional[int] = Field(default=None, gt=0, le=64, description="default: the kernel size")


class Flatten(Strict):
    type: Literal["flatten"]

    def out_shape(self, shape, i):
        return (shape[0] * shape[1] * shape[2],) if len(shape) == 3 else shape


Layer = Annotated[Union[Dense, Conv2d, Pool, Flatten], Field(discriminator="type")]


class Pdnn(Strict):
    """A feed-forward p-DNN evaluated for `samples` (T) samples per input item."""
    schema_version: Literal[1] = 1
    kind: Literal["pdnn"]
    name: str = Field(min_length=1)
    samples: int = Field(ge=1, le=1 << 20, description="T, samples per input item")
    seed: int = Field(default=0, ge=0, lt=1 << 63)
    input: InputSpec
    layers: list[Layer] = Field(min_length=1)
    weights: Optional[str] = Field(default=None, description=".npz with one integer array per weighted layer "
                                   "(layer<i> for layers[i], or positional arr_<k>) and bias<i> for layers with "
                                   "bias: true, relative to the workload file")
    inputs: Optional[str] = Field(default=None, description=".npz with array 'x' of shape (items, input.size) and "
                                  "optionally 'y' (items,) integer class labels: accuracy is then reported")
    batch: int = Field(default=1, ge=1, le=1 << 20, description="input items generated from the seed when no "
                       "inputs file is given")

    @model_validator(mode="after")
    def _layers_fit(self):
        weighted = [i for i, layer in enumerate(self.layers) if isinstance(layer, (Dense, Conv2d))]
        if not weighted:
            raise ValueError("layers: at least one dense or conv2d layer is required")
        for i in weighted[:-1]:
            if self.layers[i].activation == "linear":
                raise ValueError(f"layers[{i}].activation: 'linear' (multi-bit analog output) is only allowed "
                                 f"for the last weighted layer")
        layer_shapes(self)  # raises ValueError naming the layer whose shape does not fit
        return self


def weight_shape(layer, in_shape):
    """The integer weight array a layer needs: (outputs, inputs) for dense, (channels, k, k, Cin) for conv."""
    if isinstance(layer, Dense):
        n = in_shape[0] if len(in_shape) == 1 else in_shape[0] * in_shape[1] * in_shape[2]
        return (layer.outputs, n)
    return (layer.channels, layer.kernel, layer.kernel, in_shape[2])


def layer_shapes(spec):
    """[(in_shape, out_shape)] per layer; shapes are (n,) flat or (H, W, C) images (each layer's out_shape)."""
    shape = tuple(spec.input.shape) if spec.input.shape else (spec.input.size,)
    out = []
    for i, layer in enumerate(spec.layers):
        new = layer.out_shape(shape, i)
        out.append((shape, new))
        shape = new
    return out
