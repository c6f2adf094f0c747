// bench_inference.cpp: images/s of core's inference over the CIFAR-10 test set (float, fake-quant and
// integer, batch 128, dynamic ranges, 8 bits) beside LibTorch's CPU inference of the same network with
// the same thread count, measured in the same run. Usage: quantlab_bench_inference [threads] [images] [rounds]
// The contenders take turns, one pass each per round, and each reports its median pass: a load that
// comes and goes on a shared machine then hits them alike. A benchmark, never a test.
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <functional>

#include "bench_timer.hpp"
#include "core/cifar10.hpp"
#include "core/evaluate.hpp"
#include "core/kernels.hpp"
#include "core/model_file.hpp"
#include "core/parallel.hpp"

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
    Result<ModelFile> file = open_model(std::string(QUANTLAB_SEED_DIR) + "/pretrain.pth");
    Result<Cifar10> data = read_cifar10_test(QUANTLAB_DATA_DIR, limit);
    if (!file.ok() || !data.ok()) {
        std::fprintf(stderr, "%s%s\n", file.message().c_str(), data.message().c_str());
        return 1;
    }
    set_num_threads(threads);
    torch::set_num_threads(threads);
    const int64_t n = data.value.count;
    std::printf("inference over %lld test images, batch 128, %d thread(s), kernels %s\n", (long long)n, threads, kernel_isa());

    const Model& model = file.value.model;
    Model model_fq = model, model_int = model;
    model_fq.configure(make_config(model.desc(), 8, 8));
    model_int.configure(make_config(model.desc(), 8, 8));

    TorchNet net;
    load_into(net, model.weights());
    net.eval();
    std::vector<float> x(size_t(n * kCifar10ImageBytes));
    normalize_images(data.value, 0, n, x.data());
    const torch::Tensor all = torch::from_blob(x.data(), {n, 3, 32, 32}, torch::kFloat32);
    int64_t torch_correct = 0;
    auto torch_pass = [&] {
        torch::NoGradGuard ng;
        torch_correct = 0;
        for (int64_t b = 0; b < n; b += 128) {
            const torch::Tensor pred = net.forward(all.slice(0, b, std::min(n, b + 128))).argmax(1);
            for (int64_t i = 0; i < pred.size(0); ++i) torch_correct += pred[i].item<int64_t>() == data.value.labels[size_t(b + i)];
        }
    };
    const int rounds = argc > 3 ? std::atoi(argv[3]) : 5;
    const char* names[] = {"LibTorch float (CPU)", "core float (fast kernels)", "core fake-quant 8-bit", "core integer 8-bit"};
    std::vector<std::function<void()>> passes = {
        torch_pass,
        [&] { evaluate(model, data.value, 128, Backend::kFast); },
        [&] { evaluate(model_fq, data.value, 128, Backend::kFast); },
        [&] { evaluate(model_int, data.value, 128, Backend::kInteger); },
    };
    std::vector<std::vector<double>> seconds(passes.size());
    for (int r = 0; r < rounds; ++r)
        for (size_t k = 0; k < passes.size(); ++k) seconds[k].push_back(bench::median_seconds(passes[k], 0.0, 1));
    std::vector<double> rate(passes.size());
    for (size_t k = 0; k < passes.size(); ++k) {
        std::sort(seconds[k].begin(), seconds[k].end());
        rate[k] = double(n) / seconds[k][seconds[k].size() / 2];
        bench::report(names[k], rate[k], "img/s");
    }
    std::printf("ratios vs LibTorch float: float %.2fx, fake-quant %.2fx, integer %.2fx (median of %d interleaved rounds; LibTorch correct %lld)\n",
                rate[1] / rate[0], rate[2] / rate[0], rate[3] / rate[0], rounds, (long long)torch_correct);
    return 0;
}
