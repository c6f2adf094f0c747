// test_mixed_precision.cpp: bits per layer under a budget (core/mixed_precision). MACs by hand for the notebook's
// net; an assignment's bytes equal model_size's; the exact search against brute force over every assignment
// (4^5) on random loss tables and budgets; the greedy search within budget and never better than the exact one.
#include <catch2/catch.hpp>

#include <random>

#include "core/mixed_precision.hpp"
#include "core/model_size.hpp"

using namespace quantlab;

namespace {

const std::vector<int> kWidths = {8, 4, 3, 2};

PrecisionCosts random_costs(const NetworkDesc& net, std::mt19937& rng) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<std::vector<double>> loss(5);
    for (auto& row : loss) {
        double acc = 0;  // narrower loses more, as measured losses do (mostly)
        for (size_t w = 0; w < kWidths.size(); ++w) row.push_back(acc += u(rng) * (w + 1) * 4 - 0.5);
    }
    Result<PrecisionCosts> c = precision_costs(net, kWidths, loss);
    REQUIRE(c.ok());
    return c.value;
}

// Every assignment, in lexicographic order of width indices.
std::vector<BitAssignment> all_assignments(const PrecisionCosts& c, const NetworkDesc& net) {
    std::vector<BitAssignment> out;
    for (int i = 0; i < 1024; ++i) {
        std::vector<int> bits;
        for (int q = 0, k = i; q < 5; ++q, k /= 4) bits.push_back(kWidths[size_t(k % 4)]);
        out.push_back(assignment_cost(c, net, bits));
    }
    return out;
}

bool fits(const BitAssignment& a, const Budget& b) {
    return (b.bytes <= 0 || a.bytes <= b.bytes) && (b.bops <= 0 || a.bops <= b.bops);
}

}  // namespace

TEST_CASE("mixed precision: MACs and bytes of the notebook's net", "[mixed]") {
    const NetworkDesc net = notebook_net();
    // conv1 3->32 5x5 on 32x32 -> 28x28; conv2 32->64 5x5 on 14x14 -> 10x10; fc 1600->120->84->10
    CHECK(layer_macs(net) == std::vector<int64_t>{28 * 28 * 32 * 3 * 25, 10 * 10 * 64 * 32 * 25, 1600 * 120, 120 * 84, 84 * 10});
    Result<PrecisionCosts> c = precision_costs(net, kWidths, std::vector<std::vector<double>>(5, std::vector<double>(4, 0.0)));
    REQUIRE(c.ok());
    CHECK(c.value.bops[0][1] == 28.0 * 28 * 32 * 3 * 25 * 4 * 4);
    for (const std::vector<int>& bits : {std::vector<int>{8, 8, 8, 8, 8}, {2, 3, 4, 8, 2}, {4, 4, 4, 4, 4}}) {
        CHECK(assignment_cost(c.value, net, bits).bytes == model_size(net, bits).bytes);
    }
    CHECK_FALSE(precision_costs(net, {8, 0}, std::vector<std::vector<double>>(5, {0.0, 0.0})).ok());
    CHECK_FALSE(precision_costs(net, kWidths, std::vector<std::vector<double>>(4, std::vector<double>(4, 0.0))).ok());
}

TEST_CASE("mixed precision: the exact search equals brute force; greedy fits and is never better", "[mixed]") {
    const NetworkDesc net = notebook_net();
    std::mt19937 rng(12345);
    const int64_t b8 = model_size(net, {8}).bytes, b2 = model_size(net, {2}).bytes;
    const double ops8 = assignment_cost(random_costs(net, rng), net, {8, 8, 8, 8, 8}).bops;
    for (int trial = 0; trial < 40; ++trial) {
        const PrecisionCosts c = random_costs(net, rng);
        std::uniform_real_distribution<double> u(0.0, 1.0);
        Budget budget{b2 + int64_t(u(rng) * double(b8 - b2)), trial % 3 == 0 ? ops8 * (0.1 + 0.5 * u(rng)) : 0.0};
        INFO("trial " << trial << " budget " << budget.bytes << " B, " << budget.bops << " BOPs");
        const std::vector<BitAssignment> all = all_assignments(c, net);
        const BitAssignment* brute = nullptr;
        for (const BitAssignment& a : all)
            if (fits(a, budget) && (!brute || a.loss < brute->loss || (a.loss == brute->loss && a.bytes < brute->bytes))) brute = &a;
        Result<BitAssignment> exact = best_exact(c, net, budget);
        REQUIRE(exact.ok() == (brute != nullptr));
        if (!brute) continue;
        CHECK(exact.value.loss == Approx(brute->loss).margin(1e-9));
        CHECK(exact.value.bytes == brute->bytes);
        CHECK(fits(exact.value, budget));

        // The front: within budget, mutually non-dominated, and covering every feasible assignment.
        const std::vector<BitAssignment> front = pareto_front(c, net, budget);
        for (const BitAssignment& a : all) {
            if (!fits(a, budget)) continue;
            bool covered = false;
            const bool bops = budget.bops > 0;  // without a BOPs budget the front is over bytes and loss only
            for (const BitAssignment& f : front) covered |= f.bytes <= a.bytes && (!bops || f.bops <= a.bops) && f.loss <= a.loss + 1e-12;
            CHECK(covered);
        }
        for (size_t i = 0; i < front.size(); ++i) {
            CHECK(fits(front[i], budget));
            CHECK(assignment_cost(c, net, front[i].bits).loss == Approx(front[i].loss).margin(1e-9));
            for (size_t j = 0; j < front.size(); ++j)
                if (i != j)
                    CHECK_FALSE((front[j].bytes <= front[i].bytes && (budget.bops <= 0 || front[j].bops <= front[i].bops) &&
                                 front[j].loss <= front[i].loss));
        }

        Result<BitAssignment> greedy = best_greedy(c, net, budget);
        if (greedy.ok()) {
            CHECK(fits(greedy.value, budget));
            CHECK(greedy.value.loss >= exact.value.loss - 1e-9);
        }
    }
    Result<BitAssignment> none = best_exact(random_costs(net, rng), net, Budget{b2 - 1, 0});
    CHECK_FALSE(none.ok());
    CHECK(none.message().find("budget") != std::string::npos);
    CHECK_FALSE(best_greedy(random_costs(net, rng), net, Budget{b2 - 1, 0}).ok());
}
