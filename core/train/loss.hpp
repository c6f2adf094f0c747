// loss.hpp: softmax cross-entropy over a batch, the trainer's loss (torch::nn::functional::cross_entropy with
// its defaults: mean over the batch, no label smoothing), and its gradient with respect to the logits.
#pragma once
#include <cstdint>

#include "core/status.hpp"

namespace quantlab {

// logits (n, classes), labels in [0, classes). Returns the mean loss, and with grad (n, classes) non-null
// dL/dlogits = (softmax(logits) - onehot(label)) / n. Log-sum-exp with the row maximum subtracted, in double.
// Fails on n < 1, classes < 1 or a label out of range (the message names the image).
template <class T>
Result<double> softmax_cross_entropy(const T* logits, const int32_t* labels, int64_t n, int64_t classes, T* grad);

}  // namespace quantlab
