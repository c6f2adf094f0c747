// run_spec.cpp: see run_spec.hpp. The value ranges are the panel's (e.g. no onecycle schedule, sgd or adam only).
#include "ui/run_spec.hpp"

#include <cstdlib>
#include <sstream>

#include "core/cifar10.hpp"
#include "core/dataset.hpp"
#include "core/train/augment.hpp"
#include "core/quantizer.hpp"
#include "core/train_options.hpp"

namespace quantlab::ui {

namespace {

bool parse_bool(const std::string& v, bool* out) {
    if (v == "1" || v == "on" || v == "true" || v == "yes") return *out = true, true;
    if (v == "0" || v == "off" || v == "false" || v == "no") return *out = false, true;
    return false;
}

}  // namespace

Result<TrainRunConfig> parse_run_spec(const std::string& spec) {
    TrainRunConfig c;
    c.init_weights = kDefaultRunInit;  // the panel's default: fine-tune the loaded (bundled) weights
    std::stringstream ss(spec);
    std::string item;
    while (std::getline(ss, item, ',')) {
        if (item.empty()) continue;
        const size_t eq = item.find('=');
        const std::string key = item.substr(0, eq), v = eq == std::string::npos ? "" : item.substr(eq + 1);
        const std::string who = "--train '" + spec + "': " + item;
        char* end = nullptr;
        auto to_int = [&](int* out, int lo, int hi) {
            const long x = std::strtol(v.c_str(), &end, 10);
            if (v.empty() || *end || x < lo || x > hi) return false;
            *out = int(x);
            return true;
        };
        bool ok = true;
        if (key == "epochs") ok = to_int(&c.epochs, 1, 100000);
        else if (key == "batch") ok = to_int(&c.batch, 1, 65536);
        else if (key == "lr" || key == "momentum") {
            const double x = std::strtod(v.c_str(), &end);
            ok = !v.empty() && !*end && x > 0;
            (key == "lr" ? c.lr : c.momentum) = x;
        } else if (key == "optimizer") {  // the panel's choices (core's parse_optimizer knows adamw too)
            Result<Optimizer> r = parse_optimizer(v);
            ok = r.ok() && (r.value == Optimizer::kSgd || r.value == Optimizer::kAdam);
            c.optimizer = r.value;
        } else if (key == "schedule") {  // the panel's choices (no onecycle)
            Result<Schedule> r = parse_schedule(v);
            ok = r.ok() && r.value != Schedule::kOneCycle;
            c.schedule = r.value;
        } else if (key == "augment") ok = parse_bool(v, &c.augment);
        else if (key == "cutout") ok = to_int(&c.cutout, 0, int(kCifar10Side));
        else if (key == "jitter") {
            c.jitter = std::strtod(v.c_str(), &end);
            ok = !v.empty() && !*end && c.jitter >= 0 && c.jitter <= kMaxJitter;
        } else if (key == "dataset") {
            Result<Dataset> r = parse_dataset(v);
            ok = r.ok();
            c.dataset = r.value;
        }
        else if (key == "qat") ok = parse_bool(v, &c.qat);
        else if (key == "wb") ok = to_int(&c.weight_bits, 1, 16);
        else if (key == "ab") ok = to_int(&c.act_bits, 1, 16);
        else if (key == "rule") {
            Result<RangeRule> r = parse_range_rule(v);
            ok = r.ok();
            c.quant.rule = r.value;
        } else if (key == "asym") {
            bool asym = false;
            ok = parse_bool(v, &asym);
            c.quant.symmetric = !asym;
        } else if (key == "codes") {
            Result<SymmetricCodes> r = parse_symmetric_codes(v);
            ok = r.ok();
            c.quant.codes = r.value;
        } else if (key == "pc") ok = parse_bool(v, &c.quant.per_channel);
        else if (key == "ste") {
            Result<SteRule> r = parse_ste_rule(v);
            ok = r.ok();
            c.ste = r.value;
        } else if (key == "quantizer") {
            Result<QuantizerKind> r = parse_quantizer_kind(v);
            ok = r.ok();
            c.quantizer = r.value;
        } else if (key == "init") c.init_weights = v == "scratch" ? std::string() : v;
        else if (key == "model") c.model = v;
        else if (key == "label") c.label = v;
        else return Status::error(who + ": unknown key (epochs, batch, lr, momentum, optimizer, schedule, augment, cutout, jitter, dataset, qat, wb, ab, rule, asym, codes, pc, ste, quantizer, init, model, label)");
        if (!ok) return Status::error(who + ": bad value");
    }
    return c;
}

}  // namespace quantlab::ui
