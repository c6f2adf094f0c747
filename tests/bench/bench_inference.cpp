// bench_inference.cpp: images/s of core's inference over the CIFAR-10 test set (float, fake-quant and
// integer, batch 128, dynamic ranges, 8 bits) beside LibTorch's CPU inference of the same network with
// the same thread count, measured in the same run. Usage: quantlab_bench_inference [threads] [images]
// A benchmark, never a test: it prints figures and ratios for the notes.
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>

#include "bench_timer.hpp"
#include "core/cifar10.hpp"
#include "core/evaluate.hpp"
#include "core/kernels.hpp"
#include "core/parallel.hpp"
#include "core/pth_io.hpp"

using namespace quantlab;

namespace {

// The notebook's Net in LibTorch, with the weights copied from core's StateDict.
struct TorchNet : torch::nn::Module {
    torch::nn::Conv2d conv1{torch::nn::Conv2dOptions(3, 32, 5)}, conv2{torch::nn::Conv2dOptions(32, 64, 5)};
    torch::nn::BatchNorm2d bn1{32}, bn2{64};
    torch::nn::Linear fc1{1600, 120}, fc2{120, 84}, fc3{84, 10};
    TorchNet() {
        register_module("conv1", conv1); register_module("bn1", bn1); register_module("conv2", conv2);
        register_module("bn2", bn2); register_module("fc1", fc1); register_module("fc2", fc2); register_module("fc3", fc3);
    }
    torch::Tensor forward(torch::Tensor x) {
        x = torch::max_pool2d(torch::relu(bn1(conv1(x))), 2);
        x = torch::max_pool2d(torch::relu(bn2(conv2(x))), 2);
        x = torch::flatten(x, 1);
        return fc3(torch::relu(fc2(torch::relu(fc1(x)))));
    }
};

void load_into(TorchNet& net, const StateDict& sd) {
    torch::NoGradGuard ng;
    auto copy = [&](const std::string& name, torch::Tensor t) {
        const Tensor& src = *sd.find(name);
        t.copy_(torch::from_blob(const_cast<float*>(src.data.data()), t.sizes(), torch::kFloat32));
    };
    for (auto& p : net.named_parameters()) copy(p.key(), p.value());
    for (auto& b : net.named_buffers())
        if (b.key().find("num_batches") == std::string::npos) copy(b.key(), b.value());
}

}  // namespace

int main(int argc, char** argv) {
    const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
    const int64_t limit = argc > 2 ? std::atoll(argv[2]) : 10000;
    Result<StateDict> sd = read_pth(std::string(QUANTLAB_SEED_DIR) + "/pretrain.pth");
    Result<Cifar10> data = read_cifar10_test(QUANTLAB_DATA_DIR, limit);
    if (!sd.ok() || !data.ok()) {
        std::fprintf(stderr, "%s%s\n", sd.message().c_str(), data.message().c_str());
        return 1;
    }
    set_num_threads(threads);
    torch::set_num_threads(threads);
    const int64_t n = data.value.count;
    std::printf("inference over %lld test images, batch 128, %d thread(s), kernels %s\n", (long long)n, threads, kernel_isa());

    Model model = Model::create(notebook_net(), sd.value, "pretrain.pth").value;
    auto core_rate = [&](int bits, Backend backend) {
        model.configure(make_config(model.desc(), bits, bits));
        const double s = bench::median_seconds([&] { evaluate(model, data.value, 128, backend); }, 2.0, 3);
        return double(n) / s;
    };

    TorchNet net;
    load_into(net, sd.value);
    net.eval();
    std::vector<float> x(size_t(n * kCifar10ImageBytes));
    normalize_images(data.value, 0, n, x.data());
    const torch::Tensor all = torch::from_blob(x.data(), {n, 3, 32, 32}, torch::kFloat32);
    int64_t torch_correct = 0;
    const double torch_s = bench::median_seconds([&] {
        torch::NoGradGuard ng;
        torch_correct = 0;
        for (int64_t b = 0; b < n; b += 128) {
            const torch::Tensor logits = net.forward(all.slice(0, b, std::min(n, b + 128)));
            const torch::Tensor pred = logits.argmax(1);
            for (int64_t i = 0; i < pred.size(0); ++i) torch_correct += pred[i].item<int64_t>() == data.value.labels[size_t(b + i)];
        }
    }, 2.0, 3);
    const double torch_rate = double(n) / torch_s;

    const double f = core_rate(kFloatBits, Backend::kFast), fq = core_rate(8, Backend::kFast), in = core_rate(8, Backend::kInteger);
    bench::report("LibTorch float (CPU)", torch_rate, "img/s");
    bench::report("core float (fast kernels)", f, "img/s");
    bench::report("core fake-quant 8-bit", fq, "img/s");
    bench::report("core integer 8-bit", in, "img/s");
    std::printf("ratios vs LibTorch float: float %.2fx, fake-quant %.2fx, integer %.2fx (LibTorch correct %lld)\n", f / torch_rate,
                fq / torch_rate, in / torch_rate, (long long)torch_correct);
    return 0;
}
