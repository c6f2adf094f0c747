// quant_params_fast.hpp: compute_params (quantizer.hpp) with its MSE grid search made fast: every candidate
// range that could win still gets one double sum of squared errors in value order, so the same range wins and
// the parameters are the same bits. The training step (weights and activations), Model::forward's dynamic
// activations and the calibration use it; tests/unit/test_quant_params_fast.cpp holds it to compute_params.
#pragma once
#include "core/quantizer.hpp"
#include "core/status.hpp"

namespace quantlab {

// quantizer.cpp's mse_range, bit for bit: 100 candidates {lo, hi} * i / 100 (symmetric: +-max|x| * i / 100), the
// least squared error wins, ties keep the wider range. A float pre-pass with a rigorous error bound estimates every
// candidate's error; only those that could still win get the exact double sum. Candidates go in groups of 8
// through each value once (8 independent sums instead of one long dependency chain), groups over parallel.hpp's
// threads.
RealRange mse_range_fast(const float* x, int64_t n, const QuantSpec& spec);

// compute_params with mse_range_fast (per tensor, or per channel with channels over threads); other rules, and any
// input compute_params refuses (its message), go to compute_params itself.
Result<QuantParams> compute_params_fast(const float* x, const Shape& shape, const QuantSpec& spec);

}  // namespace quantlab
