// train_options.hpp: the training recipe's choices that do not depend on a training engine: the optimizer and
// the learning-rate schedule as enums with their command-line names, and the schedule itself as a pure
// function of the step. The LibTorch trainer (native/trainer) and the desktop app's training panel use them;
// front ends parse a name once, at the edge, and the training loop only sees the enums.
#pragma once
#include <cstdint>
#include <string>

#include "status.hpp"

namespace quantlab {

enum class Optimizer {
    kSgd,    // SGD with momentum and weight decay (the notebook's)
    kAdam,   // Adam, L2 weight decay added to the gradient
    kAdamW,  // AdamW, decoupled weight decay
};

const char* optimizer_name(Optimizer optimizer);                // "sgd", "adam", "adamw"
Result<Optimizer> parse_optimizer(const std::string& name);     // inverse of optimizer_name

// Per optimizer step, over the whole run (t = step / total_steps in [0, 1)).
enum class Schedule {
    kNone,      // lr throughout
    kStep,      // lr, x0.1 from 50 % of the run, x0.01 from 75 %
    kCosine,    // lr/2 (1 + cos(pi t)), from lr down towards 0
    kOneCycle,  // PyTorch's OneCycleLR defaults: cosine warm-up from lr/25 to lr over 30 %, then down to lr/25e4
};

const char* schedule_name(Schedule schedule);                   // "none", "step", "cosine", "onecycle"
Result<Schedule> parse_schedule(const std::string& name);       // inverse of schedule_name

// The learning rate of optimizer step `step` (0-based, counted over the whole run) of `total_steps`, for the
// peak rate `lr`. total_steps <= 0 is read as t = 0.
double lr_at(Schedule schedule, double lr, int64_t step, int64_t total_steps);

}  // namespace quantlab
