// test_train_options.cpp: the training recipe's engine-independent choices (core/train_options.hpp): the
// learning-rate schedules at their boundaries, worked out by hand in the comments, and the optimizer and
// schedule names with the errors for unknown ones.
#include <catch2/catch.hpp>

#include "core/train_options.hpp"

using namespace quantlab;

namespace {

double at(Schedule s, double lr, int64_t step, int64_t total) { return lr_at(s, lr, step, total); }

}  // namespace

TEST_CASE("lr schedule: none keeps the rate", "[train_options]") {
    CHECK(at(Schedule::kNone, 0.01, 0, 8) == 0.01);
    CHECK(at(Schedule::kNone, 0.01, 7, 8) == 0.01);
    CHECK(at(Schedule::kNone, 0.01, 3, 0) == 0.01);  // no steps planned: t = 0
}

TEST_CASE("lr schedule: step divides by 10 at 50 % and by 100 at 75 % of the run", "[train_options]") {
    // 8 steps, t = step / 8: steps 0-3 (t < 0.5) lr; 4-5 (0.5 <= t < 0.75) lr/10; 6-7 (t >= 0.75) lr/100.
    const double lr = 0.5;
    CHECK(at(Schedule::kStep, lr, 0, 8) == 0.5);                // first step
    CHECK(at(Schedule::kStep, lr, 3, 8) == 0.5);                // t = 0.375: the last at the full rate
    CHECK(at(Schedule::kStep, lr, 4, 8) == Approx(0.05).epsilon(1e-15));   // t = 0.5: first boundary
    CHECK(at(Schedule::kStep, lr, 5, 8) == Approx(0.05).epsilon(1e-15));   // t = 0.625
    CHECK(at(Schedule::kStep, lr, 6, 8) == Approx(0.005).epsilon(1e-15));  // t = 0.75: second boundary
    CHECK(at(Schedule::kStep, lr, 7, 8) == Approx(0.005).epsilon(1e-15));  // last step
    // 10 steps: t = 0.4 at step 4 is still the full rate, t = 0.5 at step 5 is not; t = 0.7 / 0.8 at 7 / 8.
    CHECK(at(Schedule::kStep, 1.0, 4, 10) == 1.0);
    CHECK(at(Schedule::kStep, 1.0, 5, 10) == Approx(0.1).epsilon(1e-15));
    CHECK(at(Schedule::kStep, 1.0, 7, 10) == Approx(0.1).epsilon(1e-15));
    CHECK(at(Schedule::kStep, 1.0, 8, 10) == Approx(0.01).epsilon(1e-15));
}

TEST_CASE("lr schedule: cosine from lr down towards 0", "[train_options]") {
    // lr/2 (1 + cos(pi t)) with lr = 2, 8 steps.
    const double lr = 2.0;
    CHECK(at(Schedule::kCosine, lr, 0, 8) == 2.0);                                      // t = 0: cos 0 = 1
    CHECK(at(Schedule::kCosine, lr, 2, 8) == Approx(1.0 + 0.70710678118654752).epsilon(1e-14));  // cos(pi/4) = sqrt(2)/2
    CHECK(at(Schedule::kCosine, lr, 4, 8) == Approx(1.0).epsilon(1e-14));               // t = 1/2: cos(pi/2) = 0
    CHECK(at(Schedule::kCosine, lr, 6, 8) == Approx(1.0 - 0.70710678118654752).epsilon(1e-14));  // cos(3pi/4)
    CHECK(at(Schedule::kCosine, lr, 7, 8) == Approx(1.0 - 0.92387953251128676).epsilon(1e-13));  // last: cos(7pi/8) = -cos(pi/8)
    CHECK(at(Schedule::kCosine, lr, 8, 8) == Approx(0.0).margin(1e-15));                // one past the end: 0
}

TEST_CASE("lr schedule: onecycle warms up over 30 % and anneals to lr/25e4", "[train_options]") {
    // OneCycleLR defaults with lr = 1, 20 steps: start = 1/25 = 0.04, end = 0.04/1e4 = 4e-6, warm-up t < 0.3
    // (steps 0-5); anneal(a, b, f) = b + (a - b)(1 + cos(pi f))/2.
    const double lr = 1.0;
    // step 0, t = 0: f = 0 -> the start rate 0.04.
    CHECK(at(Schedule::kOneCycle, lr, 0, 20) == Approx(0.04).epsilon(1e-14));
    // step 3, t = 0.15: f = 0.5 -> 1 + (0.04 - 1) / 2 = 0.52.
    CHECK(at(Schedule::kOneCycle, lr, 3, 20) == Approx(0.52).epsilon(1e-14));
    // step 5, t = 0.25, the last warm-up step: f = 5/6, cos(5pi/6) = -0.8660254038 -> 1 - 0.96 * 0.0669872981 = 0.9356921938.
    CHECK(at(Schedule::kOneCycle, lr, 5, 20) == Approx(0.9356921938165306).epsilon(1e-12));
    // step 6, t = 0.3: the peak, f = 0 of the descent -> lr.
    CHECK(at(Schedule::kOneCycle, lr, 6, 20) == Approx(1.0).epsilon(1e-14));
    // step 13, t = 0.65: f = 0.5 -> 4e-6 + (1 - 4e-6) / 2 = 0.500002.
    CHECK(at(Schedule::kOneCycle, lr, 13, 20) == Approx(0.500002).epsilon(1e-12));
    // step 19, the last, t = 0.95: f = 13/14, cos(13pi/14) = -0.9749279122 -> 4e-6 + 0.999996 * 0.0125360439 = 0.0125399938.
    CHECK(at(Schedule::kOneCycle, lr, 19, 20) == Approx(0.01253999376491261).epsilon(1e-10));
    // one past the end, t = 1: f = 1 -> the end rate 4e-6.
    CHECK(at(Schedule::kOneCycle, lr, 20, 20) == Approx(4e-6).epsilon(1e-12));
    // The peak scales with lr: lr = 0.01 at t = 0.3 gives 0.01, and starts at 0.0004.
    CHECK(at(Schedule::kOneCycle, 0.01, 3, 10) == Approx(0.01).epsilon(1e-14));
    CHECK(at(Schedule::kOneCycle, 0.01, 0, 10) == Approx(0.0004).epsilon(1e-14));
}

TEST_CASE("train options: names round-trip and unknown names are refused with the allowed ones", "[train_options]") {
    for (Optimizer o : {Optimizer::kSgd, Optimizer::kAdam, Optimizer::kAdamW}) {
        Result<Optimizer> p = parse_optimizer(optimizer_name(o));
        REQUIRE(p.ok());
        CHECK(p.value == o);
    }
    CHECK(std::string(optimizer_name(Optimizer::kAdamW)) == "adamw");
    for (Schedule s : {Schedule::kNone, Schedule::kStep, Schedule::kCosine, Schedule::kOneCycle}) {
        Result<Schedule> p = parse_schedule(schedule_name(s));
        REQUIRE(p.ok());
        CHECK(p.value == s);
    }
    CHECK(std::string(schedule_name(Schedule::kOneCycle)) == "onecycle");

    Result<Optimizer> bad_opt = parse_optimizer("lbfgs");
    CHECK_FALSE(bad_opt.ok());
    CHECK(bad_opt.message() == "train: unknown optimizer 'lbfgs', expected sgd, adam or adamw");
    CHECK_FALSE(parse_optimizer("SGD").ok());  // names are lower case, as on the command line
    CHECK_FALSE(parse_optimizer("").ok());
    Result<Schedule> bad_sched = parse_schedule("linear");
    CHECK_FALSE(bad_sched.ok());
    CHECK(bad_sched.message() == "train: unknown schedule 'linear', expected none, step, cosine or onecycle");
    CHECK_FALSE(parse_schedule("one-cycle").ok());
}
