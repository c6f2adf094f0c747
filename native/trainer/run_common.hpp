// run_common.hpp: what the two training engines share that needs no LibTorch: the machine choices by name,
// time and number formatting, the metrics file (one format for both), the recipe text of the trained_by
// metadata and a checkpoint's metadata. The LibTorch trainer (train_run.hpp) and core's engine (core_train.cpp)
// both use these, so `quantlab train --engine core|torch` writes the same files.
#pragma once
#include <cstdint>
#include <fstream>
#include <string>

#include "core/cifar10.hpp"
#include "core/format.hpp"  // printf_number
#include "core/model_file.hpp"  // Metadata
#include "core/network.hpp"
#include "core/quant_config.hpp"
#include "core/state_dict.hpp"
#include "core/train/augment.hpp"
#include "native/trainer/trainer.hpp"

namespace quantlab::trainer {

double now_s();
std::string fmt_time(double s);            // "mm:ss" or "h:mm:ss"; "--:--" when unknown
int resolve_threads(int threads);          // 0: all cores
std::string cpu_text(int threads);         // "cpu (2 threads)"

// The training set of o.dataset in o.data_dir, cut to its first o.limit_train images (when > 0). A missing or bad
// folder fails with core's message and a hint (quantlab data fetch, --data DIR).
Result<Cifar10> load_train_set(const TrainOptions& o);

// Per-run metrics: one row per validation point and per epoch end, .csv or .jsonl (by extension).
class Metrics {
public:
    Status open(const std::string& path, bool append);
    void row(int epoch, int64_t iter, int64_t step, double lr, double loss, double acc, double val, double ips, double elapsed);

private:
    std::ofstream f_;
    bool jsonl_ = false;
};

// The run's augmentation recipe (core/train/augment.hpp) from the options.
AugSpec augment_spec(const TrainOptions& o);

// The "trained_by" metadata described from the options (o.quant: the run's effective quantizer).
std::string recipe_text(const TrainOptions& o, const NetworkDesc& net);

// Where a checkpoint stands: after `iter` steps of epoch `epoch` (0-based; iter 0 = the end of the previous
// epoch), so --resume continues from exactly there.
struct RunPosition {
    std::string recipe;
    int epoch = 0;
    int64_t iter = 0, steps_per_epoch = 0, global_step = 0;
    int epochs = 0;
    uint64_t seed = 0;
    double val = -1;  // validation accuracy at that point; < 0: none
};
// A checkpoint file's metadata: the position, the seed, the recipe and core's model/quantizer stamp.
Metadata checkpoint_metadata(const RunPosition& p, const NetworkDesc& net, const QuantConfig& qc);

}  // namespace quantlab::trainer
