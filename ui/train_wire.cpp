// train_wire.cpp: see train_wire.hpp.
#include "ui/train_wire.hpp"

#include <cmath>

namespace quantlab::ui {

namespace {

template <class T>
void get(const nlohmann::json& j, const char* key, T* out) {
    if (auto it = j.find(key); it != j.end() && !it->is_null()) *out = it->get<T>();
}

// A NaN travels as null (JSON has no NaN): back to NaN, not to the default.
void get(const nlohmann::json& j, const char* key, double* out) {
    if (auto it = j.find(key); it != j.end()) *out = it->is_null() ? std::nan("") : it->get<double>();
}

template <class E>
void get_enum(const nlohmann::json& j, const char* key, E* out) {
    int v = int(*out);
    get(j, key, &v);
    *out = E(v);
}

}  // namespace

nlohmann::json run_config_json(const TrainRunConfig& c) {
    const QuantSpec& q = c.quant;
    return {{"label", c.label}, {"init", c.init_weights}, {"model", c.model}, {"epochs", c.epochs}, {"batch", c.batch},
            {"lr", c.lr}, {"momentum", c.momentum}, {"optimizer", int(c.optimizer)}, {"schedule", int(c.schedule)},
            {"augment", c.augment}, {"cutout", c.cutout}, {"jitter", c.jitter}, {"dataset", int(c.dataset)}, {"qat", c.qat},
            {"wb", c.weight_bits}, {"ab", c.act_bits}, {"ste", int(c.ste)}, {"quantizer", int(c.quantizer)},
            {"quant", {{"bits", q.bits}, {"rule", int(q.rule)}, {"symmetric", q.symmetric}, {"codes", int(q.codes)},
                       {"per_channel", q.per_channel}, {"k", q.k}, {"percentile", q.percentile}}}};
}

TrainRunConfig run_config_from_json(const nlohmann::json& j) {
    TrainRunConfig c;
    get(j, "label", &c.label);
    get(j, "init", &c.init_weights);
    get(j, "model", &c.model);
    get(j, "epochs", &c.epochs);
    get(j, "batch", &c.batch);
    get(j, "lr", &c.lr);
    get(j, "momentum", &c.momentum);
    get_enum(j, "optimizer", &c.optimizer);
    get_enum(j, "schedule", &c.schedule);
    get(j, "augment", &c.augment);
    get(j, "cutout", &c.cutout);
    get(j, "jitter", &c.jitter);
    get_enum(j, "dataset", &c.dataset);
    get(j, "qat", &c.qat);
    get(j, "wb", &c.weight_bits);
    get(j, "ab", &c.act_bits);
    get_enum(j, "ste", &c.ste);
    get_enum(j, "quantizer", &c.quantizer);
    if (auto it = j.find("quant"); it != j.end() && it->is_object()) {
        QuantSpec& q = c.quant;
        get(*it, "bits", &q.bits);
        get_enum(*it, "rule", &q.rule);
        get(*it, "symmetric", &q.symmetric);
        get_enum(*it, "codes", &q.codes);
        get(*it, "per_channel", &q.per_channel);
        get(*it, "k", &q.k);
        get(*it, "percentile", &q.percentile);
    }
    return c;
}

nlohmann::json point_json(const TrainPoint& p) {
    nlohmann::json j{{"epoch", p.epoch}, {"step", p.step}, {"seconds", p.seconds}, {"loss", p.loss},
                     {"val", p.val_accuracy}, {"test", p.test_accuracy}, {"ips", p.images_per_s}};
    if (!p.weight_steps.empty()) j["ws"] = p.weight_steps;
    if (!p.act_steps.empty()) j["as"] = p.act_steps;
    return j;
}

TrainPoint point_from_json(const nlohmann::json& j) {
    TrainPoint p;
    get(j, "epoch", &p.epoch);
    get(j, "step", &p.step);
    get(j, "seconds", &p.seconds);
    get(j, "loss", &p.loss);
    get(j, "val", &p.val_accuracy);
    get(j, "test", &p.test_accuracy);
    get(j, "ips", &p.images_per_s);
    get(j, "ws", &p.weight_steps);
    get(j, "as", &p.act_steps);
    return p;
}

}  // namespace quantlab::ui
