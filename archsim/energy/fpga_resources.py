"""First-order FPGA resource model: LUTs of soft adders, multipliers and synapses by bit width.

The coefficients live in data/fpga_luts.yaml with their source (FINN-R's synthesis-derived model, Blott et al.
2018). A W x A multiplier built in LUTs costs (g * ceil((W + A) / k) - o) * (W + A) LUTs (k LUT inputs); an
accumulator of W + A + ceil(log2 n) bits costs one LUT per bit. A p-bit synapse adds the weight selected by a
1-bit input: either the select folds into the adder's LUT (a 6-LUT holds a + (b AND x) per bit) or it is a
W x 1 multiplier of the same model; the two bound its cost."""
import math
from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_MODEL = Path(__file__).with_name("data") / "fpga_luts.yaml"


@dataclass(frozen=True)
class LutModel:
    lut_inputs: int
    groups_per_span: int
    groups_offset: int
    adder_luts_per_bit: int
    citation: str


def load_model(path=DEFAULT_MODEL) -> LutModel:
    d = yaml.safe_load(Path(path).read_text())
    return LutModel(int(d["lut_inputs"]), int(d["multiplier_groups_per_lut_input_span"]),
                    int(d["multiplier_groups_offset"]), int(d["adder_luts_per_bit"]), d["citation"])


def accumulator_bits(weight_bits, act_bits, fan_in):
    return weight_bits + act_bits + math.ceil(math.log2(fan_in))


def adder_luts(model: LutModel, bits):
    return model.adder_luts_per_bit * bits


def multiplier_luts(model: LutModel, weight_bits, act_bits):
    width = weight_bits + act_bits
    return (model.groups_per_span * math.ceil(width / model.lut_inputs) - model.groups_offset) * width


def mac_luts(model: LutModel, weight_bits, act_bits, fan_in):
    """A multiply-accumulate synapse: multiplier plus accumulator."""
    return (multiplier_luts(model, weight_bits, act_bits)
            + adder_luts(model, accumulator_bits(weight_bits, act_bits, fan_in)))


def select_add_luts(model: LutModel, weight_bits, fan_in, select_in_adder):
    """A p-bit synapse: add the weight selected by a 1-bit input (select folded into the adder, or a W x 1
    multiplier of the model)."""
    select = 0 if select_in_adder else multiplier_luts(model, weight_bits, 1)
    return select + adder_luts(model, accumulator_bits(weight_bits, 1, fan_in))
