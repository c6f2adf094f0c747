// torch_runs.hpp: the tiny training run the LibTorch tests start from: the notebook's pretrained weights,
// 256 training + 64 validation images, batch 64 (4 steps per epoch), 2 epochs, W4A4, one CPU thread, no
// progress output. Each test sets what it is about (augmentation, validation points, test images) on top.
#pragma once
#include <string>

#include "core/network.hpp"
#include "native/trainer/trainer.hpp"

namespace quantlab::test {

inline trainer::TrainOptions tiny_run_options(const std::string& checkpoint_dir) {
    trainer::TrainOptions o;
    o.init_weights = std::string(QUANTLAB_SEED_DIR) + "/pretrain.pth";
    o.data_dir = QUANTLAB_DATA_DIR;
    o.limit_train = 320;  // 256 training + 64 validation images
    o.batch = 64;         // 4 steps per epoch
    o.epochs = 2;
    o.lr = 0.01;
    o.quant = make_config(notebook_net(), 4, 4);
    o.threads = 1;
    o.device = trainer::Device::kCpu;
    o.checkpoint_dir = checkpoint_dir;
    o.progress = false;
    return o;
}

}  // namespace quantlab::test
