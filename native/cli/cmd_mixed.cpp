// cmd_mixed.cpp: `quantlab mixed`: bits per layer under a model-size (and optionally BOPs) budget. Measures each
// layer's sensitivity on validation images (held out of the training batches by the trainer's split), finds the
// best assignment exactly and greedily (core/mixed_precision.hpp), evaluates the candidates and the
// accuracy-vs-size front for real on the validation images, and reports the test accuracy of the chosen
// settings without choosing on it.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "core/data_split.hpp"
#include "core/layer_bits.hpp"
#include "core/mixed_precision.hpp"
#include "core/model_size.hpp"
#include "core/parallel.hpp"
#include "core/sensitivity.hpp"
#include "native/cli/commands.hpp"
#include "native/cli/common.hpp"

namespace quantlab::cli {

namespace {

struct MixedOptions {
    std::string weights, data;
    std::string widths = "8,4,3,2";
    int64_t budget_bytes = 0;
    int budget_bits = 0;
    double budget_bops = 0;
    int64_t val = 2000;
    int front = 40;
    bool json = false;
    QuantOptions q;
};

struct Candidate {
    std::string what;
    BitAssignment a;
    double val_acc = -1, test_acc = -1;
};

int run_mixed(const MixedOptions& o) {
    set_num_threads(o.q.threads);
    Result<std::vector<int>> widths = parse_bits_list(o.widths);
    if (!widths.ok()) return fail("mixed", "--widths: " + widths.message());
    for (int w : widths.value)
        if (w == kFloatBits) return fail("mixed", "--widths: choose among bit widths 1..16 (float is not a choice)");
    if (o.budget_bits && (o.budget_bits < kMinBits || o.budget_bits > kMaxBits)) return fail("mixed", "--budget-bits must be 1..16");
    Result<Backend> backend = parse_backend(o.q.backend);
    if (!backend.ok()) return fail("mixed", backend.message());
    Result<ModelFile> lm = open_model(o.weights.empty() ? default_weights_path() : o.weights);
    if (!lm.ok()) return fail("mixed", lm.message());
    Model& model = lm.value.model;
    const NetworkDesc net = model.desc();
    Result<LoadedData> val_data = load_validation_data(o.data, o.val);
    if (!val_data.ok()) return fail("mixed", val_data.message());
    const Cifar10& val = val_data.value.test;
    const std::string& dir = val_data.value.dir;
    Result<LoadedData> test = load_test_data(o.data, -1);
    if (!test.ok()) return fail("mixed", test.message());
    Result<ActMode> mode = parse_act_mode(o.q.mode);
    if (!mode.ok()) return fail("mixed", mode.message());
    QuantConfig base = make_config(net, kFloatBits, kFloatBits, mode.value);
    apply_rule(&base, o.q.rule);
    // Static ranges are calibrated on training images outside the validation split's head: the first ones.
    const std::vector<float> calib = mode.value == ActMode::kStatic ? calibration_images(test.value, o.q.calib) : std::vector<float>{};
    const int64_t calib_n = int64_t(calib.size()) / kCifar10ImageBytes;

    // 1. Sensitivity on validation images: each layer alone at each width.
    std::vector<SensitivityCase> cases;
    for (const SensitivityCase& c : sensitivity_cases(net, base, widths.value, {SensitivityPart::kBoth}))
        if (c.mode == SensitivityMode::kOnly) cases.push_back(c);  // the float baseline and the "only" cases
    Progress p1("sensitivity");
    Result<std::vector<SensitivityRow>> rows = run_sensitivity(model, val, cases, o.q.batch, backend.value, calib.data(), calib_n,
                                                               [&](int64_t d, int64_t t) { p1.update(d, t); });
    p1.finish();
    if (!rows.ok()) return fail("mixed", rows.message());
    const double float_val = rows.value[0].result.accuracy();
    const size_t layers = net.quant_layers().size();
    std::vector<std::vector<double>> loss(layers, std::vector<double>(widths.value.size(), 0.0));
    for (const SensitivityRow& r : rows.value)
        if (r.c.layer >= 0) {
            const size_t w = size_t(std::find(widths.value.begin(), widths.value.end(), r.c.bits) - widths.value.begin());
            loss[size_t(r.c.layer)][w] = float_val - r.result.accuracy();
        }
    Result<PrecisionCosts> costs = precision_costs(net, widths.value, loss);
    if (!costs.ok()) return fail("mixed", costs.message());

    // 2. The budget and the searches.
    Budget budget{o.budget_bytes, o.budget_bops};
    if (o.budget_bits) budget.bytes = model_size(net, {o.budget_bits}).bytes;
    if (budget.bytes <= 0 && budget.bops <= 0) budget.bytes = model_size(net, {3}).bytes;  // default: a uniform 3-bit model's size
    std::vector<Candidate> cands;
    Result<BitAssignment> exact = best_exact(costs.value, net, budget);
    if (!exact.ok()) return fail("mixed", exact.message() + " (" + format_bytes(budget.bytes) + "); raise it or add narrower --widths");
    cands.push_back({"exact", exact.value});
    if (Result<BitAssignment> greedy = best_greedy(costs.value, net, budget); greedy.ok()) cands.push_back({"greedy", greedy.value});
    for (int w : widths.value) {
        const BitAssignment u = assignment_cost(costs.value, net, std::vector<int>(layers, w));
        if ((budget.bytes <= 0 || u.bytes <= budget.bytes) && (budget.bops <= 0 || u.bops <= budget.bops)) {
            cands.push_back({"uniform " + std::to_string(w), u});
            break;  // the widest uniform setting that fits: what mixed precision must beat
        }
    }
    std::vector<BitAssignment> front = pareto_front(costs.value, net, Budget{0, budget.bops});
    if (o.front >= 0 && front.size() > size_t(o.front)) {  // evenly spaced along the front, both ends kept
        std::vector<BitAssignment> thinned;
        for (int i = 0; i < o.front; ++i) thinned.push_back(front[size_t(double(i) * double(front.size() - 1) / std::max(1, o.front - 1) + 0.5)]);
        front = thinned;
    }

    // 3. Real accuracies: candidates on validation and test, the front on validation.
    auto config_of = [&](const BitAssignment& a) {
        QuantConfig c = base;
        for (size_t q = 0; q < layers; ++q) c.layers[q].weight.bits = c.layers[q].act.bits = a.bits[q];
        return c;
    };
    std::vector<QuantConfig> evals;
    for (const Candidate& c : cands) evals.push_back(config_of(c.a));
    for (const BitAssignment& a : front) evals.push_back(config_of(a));
    Progress p2("validation");
    Result<std::vector<EvalResult>> vr = evaluate_configs(model, val, evals, o.q.batch, backend.value, calib.data(), calib_n,
                                                          [&](int64_t d, int64_t t) { p2.update(d, t); });
    p2.finish();
    if (!vr.ok()) return fail("mixed", vr.message());
    for (size_t i = 0; i < cands.size(); ++i) cands[i].val_acc = vr.value[i].accuracy();
    // The proxy (a sum of one-layer losses) ignores how layers interact, so the setting used is the one with the
    // best measured validation accuracy among everything evaluated within the budget.
    Candidate chosen = cands.front();
    for (size_t i = 0; i < cands.size() + front.size(); ++i) {
        const BitAssignment& a = i < cands.size() ? cands[i].a : front[i - cands.size()];
        const double acc = vr.value[i].accuracy();
        const bool fits = (budget.bytes <= 0 || a.bytes <= budget.bytes) && (budget.bops <= 0 || a.bops <= budget.bops);
        if (fits && acc > chosen.val_acc) chosen = Candidate{"chosen", a, acc, -1.0};
    }
    chosen.what = "chosen";
    cands.insert(cands.begin(), chosen);
    evals.insert(evals.begin(), config_of(chosen.a));
    std::vector<QuantConfig> test_evals(evals.begin(), evals.begin() + std::ptrdiff_t(cands.size()));
    Result<std::vector<EvalResult>> tr = evaluate_configs(model, test.value.test, test_evals, o.q.batch, backend.value, calib.data(), calib_n);
    if (!tr.ok()) return fail("mixed", tr.message());
    for (size_t i = 0; i < cands.size(); ++i) cands[i].test_acc = tr.value[i].accuracy();
    const size_t front_at = cands.size();  // validation rows of the front: vr.value[front_at - 1 + i]

    auto bits_text = [&](const std::vector<int>& bits) {
        std::string s;
        const std::vector<int> ql = net.quant_layers();
        for (size_t q = 0; q < bits.size(); ++q) s += (q ? "," : "") + net.layers[size_t(ql[q])].name + "=" + std::to_string(bits[q]);
        return s;
    };
    if (o.json) {
        nlohmann::json j = {{"weights", lm.value.name}, {"validation_images", val.count}, {"test", test.value.description},
                            {"widths", widths.value}, {"budget_bytes", budget.bytes}, {"budget_bops", budget.bops}, {"float_val_accuracy", float_val},
                            {"loss", loss}, {"candidates", nlohmann::json::array()}, {"front", nlohmann::json::array()}};
        for (const Candidate& c : cands)
            j["candidates"].push_back({{"search", c.what}, {"layer_bits", bits_text(c.a.bits)}, {"bits", c.a.bits}, {"bytes", c.a.bytes},
                                       {"bops", c.a.bops}, {"proxy_loss", c.a.loss}, {"val_accuracy", c.val_acc}, {"test_accuracy", c.test_acc}});
        for (size_t i = 0; i < front.size(); ++i)
            j["front"].push_back({{"layer_bits", bits_text(front[i].bits)}, {"bits", front[i].bits}, {"bytes", front[i].bytes}, {"bops", front[i].bops},
                                  {"proxy_loss", front[i].loss}, {"val_accuracy", vr.value[front_at - 1 + i].accuracy()}});
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::printf("weights     %s\nchosen on   %lld validation images (held out of %s by the trainer's split); the test set is only reported\n",
                lm.value.name.c_str(), (long long)val.count, dir.c_str());
    std::printf("test        %s\nbudget      %s%s (float %s)\n\n", test.value.description.c_str(), format_bytes(budget.bytes).c_str(),
                budget.bops > 0 ? (", " + std::to_string(budget.bops / 1e9) + " GBOPs").c_str() : "",
                format_bytes(model_size(net, {}).bytes).c_str());
    std::printf("accuracy lost (validation, points) with only this layer at b bits; float %.2f %%\n%-8s", float_val, "layer");
    for (int w : widths.value) std::printf(" %6d", w);
    std::printf("\n");
    for (size_t q = 0; q < layers; ++q) {
        std::printf("%-8s", net.layers[size_t(net.quant_layers()[q])].name.c_str());
        for (double l : loss[q]) std::printf(" %6.2f", l);
        std::printf("\n");
    }
    std::printf("\n%-10s %-36s %9s %8s %9s %9s\n", "search", "bits", "size", "proxy", "val", "test");
    for (const Candidate& c : cands)
        std::printf("%-10s %-36s %9s %8.2f %7.2f %% %7.2f %%\n", c.what.c_str(), bits_text(c.a.bits).c_str(), format_bytes(c.a.bytes).c_str(),
                    c.a.loss, c.val_acc, c.test_acc);
    std::printf("\naccuracy vs size front (validation; %zu settings)\n", front.size());
    for (size_t i = 0; i < front.size(); ++i)
        std::printf("  %9s  %7.2f %%  %s\n", format_bytes(front[i].bytes).c_str(), vr.value[front_at - 1 + i].accuracy(),
                    bits_text(front[i].bits).c_str());
    std::printf("\nchosen (best validation accuracy within the budget): quantlab eval --bits 8 --layer-bits %s\n",
                bits_text(cands.front().a.bits).c_str());
    return 0;
}

}  // namespace

void add_mixed_command(CLI::App& root, Commands& cmds) {
    auto o = std::make_shared<MixedOptions>();
    CLI::App* cmd = root.add_subcommand("mixed", "Bits per layer under a size budget: sensitivity, exact and greedy search, accuracy-vs-size front");
    cmd->add_option("--weights,-w", o->weights, ".pth or .safetensors (default: the bundled notebook weights)");
    cmd->add_option("--data", o->data, "CIFAR-10 folder with the training batches (validation) and test_batch.bin");
    cmd->add_option("--widths", o->widths, "the widths a layer may take (weights and activations alike)")->capture_default_str();
    cmd->add_option("--budget-bytes", o->budget_bytes, "model size budget in bytes (default: the size of a uniform 3-bit model)");
    cmd->add_option("--budget-bits", o->budget_bits, "budget: the size of a uniform N-bit model");
    cmd->add_option("--budget-bops", o->budget_bops, "also limit bit operations per image (MACs x weight bits x activation bits)");
    cmd->add_option("--val", o->val, "validation images to choose on (of the 10,000 the trainer holds out)")->capture_default_str();
    cmd->add_option("--front", o->front, "front settings to evaluate (evenly spaced)")->capture_default_str();
    cmd->add_flag("--json", o->json, "machine-readable output on stdout");
    add_quant_options(cmd, &o->q);
    cmds.emplace_back(cmd, [o] { return run_mixed(*o); });
}

}  // namespace quantlab::cli
