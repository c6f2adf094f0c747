// model_catalog.hpp: the bundled models (every *.safetensors in the assets folder) and what each is, read from
// its own metadata: recipe, bits, test accuracy, how it was trained. Also the accuracy-vs-bits overlay they
// make together (the README's PTQ vs QAT table, live): post-training quantization of the float model at each
// sweep bit width, and each QAT model at its own bits with its own calibrated ranges. Plain C++ (no ImGui):
// the picker (model_widgets.hpp), App and the tests use it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/inference.hpp"
#include "core/quant_config.hpp"
#include "core/status.hpp"
#include "ui/eval_service.hpp"

namespace quantlab::ui {

struct CatalogEntry {
    std::string file;          // "qat_w4a4.safetensors": the name the URL (w=) and the picker use
    std::string path;          // where it was read from
    std::string quantization;  // metadata "quantization" ("W4A4, mse asymmetric, per-channel weights"), or ""
    std::string trained_by;    // metadata "trained_by"
    double test_accuracy = -1; // metadata "test_accuracy" (else "test_accuracy_float"), percent; -1: not given
    int weight_bits = kFloatBits, act_bits = kFloatBits;  // the stored settings' bits (0: they differ by layer)
    std::shared_ptr<const Model> model;  // the float model; null when the file cannot be used
    QuantConfig config;        // the stored settings with calibrated ranges (static); no layers: none
    std::string error;         // why the file cannot be used (it does not open, or its net is not CIFAR-10's)

    std::string stem() const;  // "qat_w4a4"
    bool usable() const { return error.empty() && model != nullptr; }
    // A QAT export: stored static settings that quantize (not a float file).
    bool qat() const { return usable() && !config.layers.empty() && weight_bits != kFloatBits; }
};
using ModelCatalog = std::vector<CatalogEntry>;

// Reads every *.safetensors in `dir` (sorted by name). A file that does not open or does not fit the network
// is listed with its error, so the picker can say why it cannot be chosen.
ModelCatalog scan_models(const std::string& dir);
// One file as a catalog entry (scan_models reads each with this).
CatalogEntry read_catalog_entry(const std::string& path);

// The entry named `name` ("qat_w4a4", "qat_w4a4.safetensors"), or null.
const CatalogEntry* find_model(const ModelCatalog& models, const std::string& name);
// The entry a user asked for, or a message in the current language: an unknown name (listing the known ones),
// or a file that does not fit the network.
Result<const CatalogEntry*> pick_model(const ModelCatalog& models, const std::string& name);

// One line on what a model is, in the current language: "QAT W4A4, mse asymmetric, per-channel weights ·
// test accuracy 75.86 % · fine-tuned from float_best.safetensors" (the first clause of trained_by).
std::string describe(const CatalogEntry& e);
// "W4A4", "W2A8", "float", "mixed".
std::string bits_label(int weight_bits, int act_bits);

// ---- the accuracy-vs-bits overlay ----
// The float model whose post-training quantization the overlay plots (the QAT models are fine-tuned from it).
constexpr const char* kOverlayFloatModel = "float_best.safetensors";
// Its PTQ quantizer: the README's "PTQ, asymmetric MSE ranges, per-channel weights" row, activation ranges
// per batch of 128 (`quantlab eval -w float_best.safetensors --asymmetric --rule mse --per-channel`), the
// quantizer the QAT models were trained with.
QuantSpec overlay_ptq_rule();

struct OverlayJob {
    bool qat = false;          // false: PTQ of the float model at `bits`
    std::string model;         // the entry's file name
    int weight_bits = 0, act_bits = 0;
    EvalJob job;               // with its own model and a key that names the file
};
// The PTQ points (one per `bits`) then one point per QAT model, evaluated with `backend`. Empty parts when the
// float model or QAT models are missing.
std::vector<OverlayJob> overlay_jobs(const ModelCatalog& models, const std::vector<int>& bits, Backend backend);

}  // namespace quantlab::ui
