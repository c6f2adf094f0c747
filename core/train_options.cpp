// train_options.cpp: optimizer and schedule names, and the learning-rate schedule (train_options.hpp).
#include "train_options.hpp"

#include <cmath>

#include "enum_names.hpp"

namespace quantlab {

namespace {

constexpr EnumName<Optimizer> kOptimizerNames[] = {{Optimizer::kSgd, "sgd"}, {Optimizer::kAdam, "adam"}, {Optimizer::kAdamW, "adamw"}};
constexpr EnumName<Schedule> kScheduleNames[] = {
    {Schedule::kNone, "none"}, {Schedule::kStep, "step"}, {Schedule::kCosine, "cosine"}, {Schedule::kOneCycle, "onecycle"}};

}  // namespace

const char* optimizer_name(Optimizer optimizer) { return enum_name(kOptimizerNames, optimizer); }

Result<Optimizer> parse_optimizer(const std::string& name) {
    return enum_from_name(kOptimizerNames, name, "train: unknown optimizer '" + name + "', expected sgd, adam or adamw");
}

const char* schedule_name(Schedule schedule) { return enum_name(kScheduleNames, schedule); }

Result<Schedule> parse_schedule(const std::string& name) {
    return enum_from_name(kScheduleNames, name, "train: unknown schedule '" + name + "', expected none, step, cosine or onecycle");
}

double lr_at(Schedule schedule, double lr, int64_t step, int64_t total_steps) {
    const double t = total_steps > 0 ? double(step) / double(total_steps) : 0.0;
    constexpr double kPi = 3.14159265358979323846;
    switch (schedule) {
        case Schedule::kStep: return lr * (t >= 0.75 ? 0.01 : t >= 0.5 ? 0.1 : 1.0);
        case Schedule::kCosine: return lr * 0.5 * (1.0 + std::cos(kPi * t));
        case Schedule::kOneCycle: {
            const double start = lr / 25.0, end = start / 1e4, warm = 0.3;
            auto anneal = [](double a, double b, double f) { return b + (a - b) * 0.5 * (1.0 + std::cos(kPi * f)); };
            return t < warm ? anneal(start, lr, t / warm) : anneal(lr, end, (t - warm) / (1.0 - warm));
        }
        case Schedule::kNone: break;
    }
    return lr;
}

}  // namespace quantlab
