// test_ui_run_spec.cpp: `quantlab-gui --train SPEC` (ui/run_spec): every key reaches its TrainRunConfig field,
// left-out keys keep the defaults (init: the bundled weights, fine-tuning), and unknown keys and values out of the
// panel's ranges fail naming what is wrong.
#include <catch2/catch.hpp>

#include "ui/run_spec.hpp"

using namespace quantlab;
using namespace quantlab::ui;

TEST_CASE("run spec: every key reaches its field", "[ui][run_spec]") {
    Result<TrainRunConfig> c = parse_run_spec(
        "epochs=3,batch=64,lr=0.05,momentum=0.8,optimizer=adam,schedule=cosine,augment=1,cutout=16,jitter=0.4,dataset=cifar100,qat=1,"
        "wb=3,ab=5,rule=mse,asym=1,pc=1,ste=clipped,quantizer=lsq,init=scratch,model=wide:2,label=x");
    REQUIRE(c.ok());
    CHECK(c.value.epochs == 3);
    CHECK(c.value.batch == 64);
    CHECK(c.value.lr == Approx(0.05));
    CHECK(c.value.momentum == Approx(0.8));
    CHECK(c.value.optimizer == Optimizer::kAdam);
    CHECK(c.value.schedule == Schedule::kCosine);
    CHECK(c.value.augment);
    CHECK(c.value.cutout == 16);
    CHECK(c.value.jitter == Approx(0.4));
    CHECK(c.value.dataset == Dataset::kCifar100);
    CHECK(c.value.qat);
    CHECK(c.value.weight_bits == 3);
    CHECK(c.value.act_bits == 5);
    CHECK(c.value.quant.rule == RangeRule::kMse);
    CHECK_FALSE(c.value.quant.symmetric);
    CHECK(c.value.quant.per_channel);
    CHECK(c.value.ste == SteRule::kClipped);
    CHECK(c.value.quantizer == QuantizerKind::kLsq);
    CHECK(c.value.init_weights.empty());
    CHECK(c.value.model == "wide:2");
    CHECK(c.value.label == "x");
}

TEST_CASE("run spec: defaults, and the same keys spelled other ways", "[ui][run_spec]") {
    const TrainRunConfig plain;
    Result<TrainRunConfig> c = parse_run_spec("");
    REQUIRE(c.ok());
    CHECK(c.value.init_weights == "notebook_pretrain.safetensors");  // fine-tune the bundled weights
    CHECK(c.value.epochs == plain.epochs);
    CHECK(c.value.batch == plain.batch);
    CHECK_FALSE(c.value.qat);
    CHECK(c.value.quant.symmetric);
    CHECK(parse_run_spec("qat=on,augment=yes").value.qat);
    CHECK_FALSE(parse_run_spec("qat=off").value.qat);
    CHECK(parse_run_spec(",epochs=2,,").value.epochs == 2);  // empty items are skipped
    CHECK(parse_run_spec("quantizer=pact").value.quantizer == QuantizerKind::kPact);
    CHECK(parse_run_spec("init=my.safetensors").value.init_weights == "my.safetensors");
}

TEST_CASE("run spec: unknown keys and bad values fail, naming the item", "[ui][run_spec]") {
    const std::string unknown = parse_run_spec("epochs=1,colour=red").message();
    CHECK(unknown.find("colour=red: unknown key") != std::string::npos);
    CHECK(unknown.find("--train 'epochs=1,colour=red'") != std::string::npos);
    for (const char* bad : {"epochs=0", "epochs=x", "epochs=", "batch=0", "lr=0", "lr=-1", "lr=1e-3x", "optimizer=rmsprop",
                            "optimizer=adamw", "schedule=onecycle", "rule=median", "quantizer=lsqq", "ste=soft", "cutout=33",
                            "jitter=0.95", "jitter=-0.1", "dataset=mnist", "qat=2", "wb=0", "ab=17", "asym=maybe"}) {
        INFO(bad);
        const Result<TrainRunConfig> r = parse_run_spec(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.message().find(std::string(bad) + ": bad value") != std::string::npos);
    }
}
