"""The FPGA LUT model: sourced coefficients from its data file, the structural facts any LUT mapping obeys, and
the validation row built from it."""
import itertools

import yaml

from archsim.energy import fpga_resources as fr


def test_model_is_read_from_its_sourced_data_file():
    data = yaml.safe_load(fr.DEFAULT_MODEL.read_text())
    model = fr.load_model()
    assert "FINN-R" in data["citation"] and model.lut_inputs == data["lut_inputs"]


def test_small_multipliers_take_one_lut_per_product_bit():
    """A k-input LUT holds any function of k inputs: a product of W + A <= k input bits needs one LUT per output
    bit, which the model must give."""
    model = fr.load_model()
    for w, a in itertools.product(range(1, model.lut_inputs), repeat=2):
        if w + a <= model.lut_inputs:
            assert fr.multiplier_luts(model, w, a) == w + a


def test_luts_grow_with_width_and_the_select_bounds_hold():
    model = fr.load_model()
    for w in range(1, 17):
        assert fr.multiplier_luts(model, w + 1, 8) > fr.multiplier_luts(model, w, 8)
        assert fr.mac_luts(model, w, 8, 256) > fr.select_add_luts(model, w, 256, False) \
            >= fr.select_add_luts(model, w, 256, True)
    assert fr.accumulator_bits(8, 8, 256) == 8 + 8 + 8


def test_validation_row_is_the_ratio_of_the_summed_synapse_luts(tmp_path):
    from archsim.validate import run_validation
    from test_validate import ENTRIES, ROOT
    entry = next(e for e in ENTRIES if e["method"] == "fpga_mac_luts")
    row = run_validation(only=[entry["id"]], out_dir=tmp_path).iloc[0]
    data = yaml.safe_load((ROOT / entry["workload"]).read_text())
    fan_ins = [data["input"]["size"]] + [layer["outputs"] for layer in data["layers"]][:-1]
    model = fr.load_model()
    det = sum(fr.mac_luts(model, layer["weight_bits"], entry["baseline_bits"], n)
              for layer, n in zip(data["layers"], fan_ins))
    pbit = [sum(fr.select_add_luts(model, layer["weight_bits"], n, f) for layer, n in zip(data["layers"], fan_ins))
            for f in (True, False)]
    assert (row.low, row.high) == (det / pbit[1], det / pbit[0])
