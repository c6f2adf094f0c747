// test_data_split.cpp: the trainers' seeded split (core/data_split): the validation images are exactly the last
// round(count * fraction) of the seeded permutation, the two parts cover every image once, the order depends only
// on the seed, and the split of the shipped models' recipe (50,000 images, 20 %, seed 1) is pinned: models and
// the mixed-precision search are chosen on these images, so a change here would silently move them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "core/data_split.hpp"

using namespace quantlab;

TEST_CASE("train/validation split: sizes, disjoint cover, determinism", "[split]") {
    for (int64_t count : {0, 1, 7, 1000, 50000})
        for (double f : {0.0, 0.2, 0.5}) {
            INFO(count << " " << f);
            const TrainValSplit s = split_train_val(count, f, 1);
            CHECK(int64_t(s.val.size()) == int64_t(std::llround(double(count) * f)));
            std::vector<int64_t> all = s.train;
            all.insert(all.end(), s.val.begin(), s.val.end());
            std::sort(all.begin(), all.end());
            std::vector<int64_t> want(static_cast<size_t>(count), 0);
            for (int64_t i = 0; i < count; ++i) want[size_t(i)] = i;
            CHECK(all == want);
        }
    const TrainValSplit a = split_train_val(1000, 0.2, 7), b = split_train_val(1000, 0.2, 7), c = split_train_val(1000, 0.2, 8);
    CHECK(a.val == b.val);
    CHECK(a.train == b.train);
    CHECK(a.val != c.val);
    // The split is the seeded permutation's tail, as the trainer has always drawn it.
    std::vector<int64_t> idx(1000);
    for (int64_t i = 0; i < 1000; ++i) idx[size_t(i)] = i;
    const std::vector<int64_t> perm = shuffled(idx, mix(7, 0x5eed, 0));
    CHECK(std::equal(a.val.begin(), a.val.end(), perm.end() - 200));
}

TEST_CASE("train/validation split: the shipped recipe's held-out images are pinned", "[split]") {
    const TrainValSplit s = split_train_val(50000, 0.2, 1);
    REQUIRE(s.val.size() == 10000);
    const std::vector<int64_t> head(s.val.begin(), s.val.begin() + 5);
    CHECK(head == std::vector<int64_t>{14035, 26107, 4866, 12971, 29245});
}
