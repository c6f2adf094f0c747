// graph_step.cpp: the training step over static tensors and its CUDA graph (see graph_step.hpp).
// The CUDA parts compile only against a LibTorch with CUDA (QUANTLAB_TORCH_CUDA, set by native/CMakeLists.txt);
// elsewhere capture() says why it cannot and the step runs eagerly.
#include "native/trainer/graph_step.hpp"

#include <torch/version.h>

#include <cstring>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#if defined(QUANTLAB_TORCH_CUDA)
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace quantlab::trainer {

namespace {
template <class K>  // a template, so the branch for the other LibTorch is discarded
K state_key(c10::TensorImpl* impl) {
    if constexpr (std::is_same_v<K, std::string>) {
        std::ostringstream o;
        o << impl;  // what c10::guts::to_string gives in LibTorch 1.x
        return o.str();
    } else {
        return K(impl);
    }
}
}  // namespace

OptimStateKey optim_state_key(const torch::Tensor& p) { return state_key<OptimStateKey>(p.unsafeGetTensorImpl()); }

#if defined(QUANTLAB_TORCH_CUDA)
struct StaticStep::Graph {
    at::cuda::CUDAGraph graph;
};
bool cuda_graphs_compiled() { return true; }
#else
struct StaticStep::Graph {};
bool cuda_graphs_compiled() { return false; }
#endif

std::vector<torch::Tensor> sgd_momentum_buffers(torch::optim::SGD& opt, const std::vector<torch::Tensor>& params) {
    std::vector<torch::Tensor> bufs;
    auto& state = opt.state();
    for (const torch::Tensor& p : params) {
        const OptimStateKey key = optim_state_key(p);
        auto it = state.find(key);
        if (it == state.end()) {
            auto s = std::make_unique<torch::optim::SGDParamState>();
            s->momentum_buffer(torch::zeros_like(p));
            it = state.emplace(key, std::move(s)).first;
        }
        auto& s = static_cast<torch::optim::SGDParamState&>(*it->second);
        if (!s.momentum_buffer().defined()) s.momentum_buffer(torch::zeros_like(p));
        bufs.push_back(s.momentum_buffer());
    }
    return bufs;
}

int64_t float_bits(float f) {
    int32_t bits = 0;
    std::memcpy(&bits, &f, sizeof bits);
    return int64_t(bits);
}

StaticStep::StaticStep(QuantNet model, StaticStepData data, int64_t batch, const AugSpec& aug, double momentum, double weight_decay,
                       std::vector<torch::Tensor> momentum_buffers)
    : model_(std::move(model)),
      data_(std::move(data)),
      batch_(batch),
      aug_(aug),
      momentum_(momentum),
      weight_decay_(weight_decay),
      params_(model_->parameters()),
      buffers_(std::move(momentum_buffers)) {
    const auto dev = data_.x_u8.device();
    block_ = torch::zeros({kPlanRows, batch_}, torch::TensorOptions().dtype(torch::kLong).device(dev));
    lr_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat).device(dev));
}

// The step. Grads start as none, so backward writes them rather than adds (inside a capture this puts them in
// the graph's own memory, which each replay overwrites).
void StaticStep::body() {
    for (torch::Tensor& p : params_) p.mutable_grad().reset();
    const torch::Tensor idx = block_[0];
    torch::Tensor x = normalize_u8(data_.x_u8.index_select(0, idx));
    const torch::Tensor y = data_.labels.index_select(0, idx);
    if (aug_.crop || aug_.flip) x = crop_flip(x, block_[1], block_[2], block_[3], kAugPad, -1.0);
    if (aug_.jitter > 0 || aug_.cutout > 0) {
        auto factor = [&](int64_t row) { return block_[row].to(torch::kInt).view(torch::kFloat); };
        x = jitter_cutout(x, block_[4], block_[5], factor(6), factor(7), factor(8), aug_);
    }
    const torch::Tensor out = model_->forward(x);
    const torch::Tensor loss = torch::nn::functional::cross_entropy(out, y);
    loss.backward();
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> ps, gs, bs;
    for (size_t i = 0; i < params_.size(); ++i)
        if (params_[i].grad().defined()) {
            ps.push_back(params_[i]);
            gs.push_back(params_[i].grad());
            bs.push_back(buffers_[i]);
        }
#if defined(QUANTLAB_TORCH_CUDA) && TORCH_VERSION_MAJOR >= 2
    if (data_.x_u8.is_cuda()) {
        // One multi-tensor kernel for the whole update, the learning rate read from the device. Without momentum
        // the kernel wants no buffers (and with buffers, momentum > 0).
        at::_fused_sgd_(ps, gs, momentum_ != 0 ? bs : std::vector<torch::Tensor>{}, weight_decay_, momentum_, lr_, 0.0, false, false,
                        false);
    } else
#endif
    {
        // torch::optim::SGD's update (dampening 0, no Nesterov) with the learning rate as a tensor.
        const torch::Tensor neg_lr = -lr_;
        for (size_t i = 0; i < ps.size(); ++i) {
            const torch::Tensor d = weight_decay_ != 0 ? gs[i].add(ps[i], weight_decay_) : gs[i];
            bs[i].mul_(momentum_).add_(d);
            ps[i].addcmul_(bs[i], neg_lr);
        }
    }
    data_.run_loss.add_(loss.detach() * double(batch_));
    data_.run_correct.add_(out.detach().argmax(1).eq(y).sum());
    loss_ = loss.detach();
}

void StaticStep::run(const torch::Tensor& block, double lr) {
    block_.copy_(block);
    if (lr != lr_value_) {
        lr_.fill_(lr);
        lr_value_ = lr;
    }
#if defined(QUANTLAB_TORCH_CUDA)
    if (graph_) {
        graph_->graph.replay();
        return;
    }
#endif
    body();
}

Status StaticStep::capture(const torch::Tensor& block, double lr, int warmup_runs) {
#if defined(QUANTLAB_TORCH_CUDA)
    if (!data_.x_u8.is_cuda()) return Status::error("the data is not on a CUDA device");
    std::vector<torch::Tensor> keep;  // everything the warm-up runs change, to put back before the capture
    {
        torch::NoGradGuard no_grad;
        for (const torch::Tensor& t : params_) keep.push_back(t.detach().clone());
        for (const torch::Tensor& t : model_->buffers()) keep.push_back(t.clone());
        for (const torch::Tensor& t : buffers_) keep.push_back(t.clone());
        keep.push_back(data_.run_loss.clone());
        keep.push_back(data_.run_correct.clone());
    }
    auto restore = [&] {
        torch::NoGradGuard no_grad;
        size_t k = 0;
        for (const torch::Tensor& t : params_) t.detach().copy_(keep[k++]);
        for (torch::Tensor& t : model_->buffers()) t.copy_(keep[k++]);
        for (torch::Tensor& t : buffers_) t.copy_(keep[k++]);
        data_.run_loss.copy_(keep[k++]);
        data_.run_correct.copy_(keep[k++]);
    };
    auto g = std::make_shared<Graph>();
    try {
        torch::cuda::synchronize();
        // A capture must run on a side stream; the warm-up runs there too (as PyTorch's torch.cuda.graph).
        c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
        {
            c10::cuda::CUDAStreamGuard guard(side);
            for (int i = 0; i < warmup_runs; ++i) run(block, lr);
            side.synchronize();
            restore();
            for (torch::Tensor& p : params_) p.mutable_grad().reset();
            side.synchronize();
            g->graph.capture_begin();
            body();
            g->graph.capture_end();
        }
        torch::cuda::synchronize();
    } catch (const std::exception& e) {
        try {
            torch::cuda::synchronize();
            restore();
        } catch (...) {
        }
        std::string m = e.what();
        if (m.size() > 300) m = m.substr(0, 300) + "...";
        return Status::error("CUDA graph capture failed: " + m);
    }
    graph_ = std::move(g);
    return Status::success();
#else
    (void)block;
    (void)lr;
    (void)warmup_runs;
    return Status::error("this LibTorch has no CUDA");
#endif
}

}  // namespace quantlab::trainer
