// train_data.cpp: the training data on the device (train_run.hpp): CIFAR-10 as uint8 on the device, the
// augmentation (core/train/augment.hpp's draws) applied on the device, and accuracy over a set of images.
#include "native/trainer/train_run.hpp"

namespace quantlab::trainer {

DeviceData to_device(const Cifar10& d, const torch::Device& device) {
    DeviceData out;
    out.count = d.count;
    out.x_u8 = torch::from_blob(const_cast<uint8_t*>(d.pixels.data()), {d.count, 3, kCifar10Side, kCifar10Side}, torch::kByte).clone().to(device);
    out.labels = torch::from_blob(const_cast<uint8_t*>(d.labels.data()), {d.count}, torch::kByte).to(torch::kLong).to(device);
    return out;
}

torch::Tensor augment(const torch::Tensor& x, const AugSpec& spec, std::mt19937_64& rng) {
    const AugDraws d = draw_augment(x.size(0), spec, rng, x.size(2));
    return augment_on_device(x, d, spec);
}

double accuracy(QuantNet& model, const DeviceData& data, const torch::Tensor& index, int64_t batch) {
    torch::NoGradGuard no_grad;
    model->eval();
    const int64_t n = index.defined() ? index.numel() : data.count;
    torch::Tensor correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(data.labels.device()));
    for (int64_t b0 = 0; b0 < n; b0 += batch) {
        const int64_t nb = std::min(batch, n - b0);
        torch::Tensor x, y;
        if (index.defined()) {
            const torch::Tensor idx = index.slice(0, b0, b0 + nb);
            x = data.x_u8.index_select(0, idx);
            y = data.labels.index_select(0, idx);
        } else {
            x = data.x_u8.slice(0, b0, b0 + nb);
            y = data.labels.slice(0, b0, b0 + nb);
        }
        correct += model->forward(normalize_u8(x)).argmax(1).eq(y).sum();
    }
    model->train();
    return n ? 100.0 * double(correct.item<int64_t>()) / double(n) : 0.0;
}

}  // namespace quantlab::trainer
