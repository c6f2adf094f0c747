// model_catalog.cpp: the bundled models and the PTQ vs QAT overlay (see model_catalog.hpp).
#include "ui/model_catalog.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/file_io.hpp"
#include "core/model_file.hpp"
#include "ui/i18n.hpp"

namespace quantlab::ui {

namespace fs = std::filesystem;

namespace {
const char* const kExt = ".safetensors";

std::string meta(const Metadata& m, const char* key) {
    auto it = m.find(key);
    return it == m.end() ? std::string() : it->second;
}

}  // namespace

std::string CatalogEntry::stem() const {
    const size_t n = std::char_traits<char>::length(kExt);
    return file.size() > n && file.compare(file.size() - n, n, kExt) == 0 ? file.substr(0, file.size() - n) : file;
}

CatalogEntry read_catalog_entry(const std::string& path) {
    CatalogEntry e;
    e.path = path;
    e.file = fs::path(path).filename().string();
    Result<ModelFile> f = open_model(path);
    if (!f.ok()) {
        e.error = f.message();
        return e;
    }
    if (Status s = check_cifar10_net(f.value.net(), e.file); !s) {
        e.error = s.message;
        return e;
    }
    const Metadata& m = f.value.metadata();
    e.quantization = meta(m, "quantization");
    e.trained_by = meta(m, "trained_by");
    std::string acc = meta(m, "test_accuracy");
    if (acc.empty()) acc = meta(m, "test_accuracy_float");
    if (!acc.empty()) {
        char* end = nullptr;
        const double v = std::strtod(acc.c_str(), &end);
        if (end && *end == '\0' && v >= 0 && v <= 100) e.test_accuracy = v;
    }
    // Settings as App uses them: static with a range per layer (a QAT export), else none.
    const Result<QuantConfig>& qc = f.value.stored_config;
    if (qc.ok() && qc.value.act_mode == ActMode::kStatic && qc.value.act_ranges.size() == qc.value.layers.size()) e.config = qc.value;
    e.weight_bits = uniform_bits(e.config, true);
    e.act_bits = uniform_bits(e.config, false);
    e.model = std::make_shared<const Model>(std::move(f.value.model));
    return e;
}

ModelCatalog scan_models(const std::string& dir) {
    std::vector<std::string> paths;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path& p = it->path();
        if (p.extension() == kExt && it->is_regular_file(ec)) paths.push_back(p.string());
    }
    std::sort(paths.begin(), paths.end());
    ModelCatalog models;
    for (const std::string& p : paths) models.push_back(read_catalog_entry(p));
    return models;
}

const CatalogEntry* find_model(const ModelCatalog& models, const std::string& name) {
    for (const CatalogEntry& e : models)
        if (e.file == name || e.stem() == name) return &e;
    return nullptr;
}

Result<const CatalogEntry*> pick_model(const ModelCatalog& models, const std::string& name) {
    const CatalogEntry* e = find_model(models, name);
    if (!e) {
        std::string known;
        for (const CatalogEntry& m : models) known += (known.empty() ? "" : ", ") + m.stem();
        return Status::error(std::string(tr("Unknown model")) + " '" + name + "'. " + tr("Bundled models:") + " " +
                             (known.empty() ? std::string("-") : known));
    }
    if (!e->usable()) return Status::error(std::string(tr("This model does not fit the network:")) + " " + e->error);
    return e;
}

std::string bits_label(int weight_bits, int act_bits) {
    if (weight_bits == 0 || act_bits == 0) return tr("mixed");
    if (weight_bits == kFloatBits && act_bits == kFloatBits) return tr("float");
    auto b = [](int x) { return x == kFloatBits ? std::string("fp") : std::to_string(x); };
    return "W" + b(weight_bits) + "A" + b(act_bits);
}

std::string describe(const CatalogEntry& e) {
    if (!e.usable()) return std::string(tr("cannot be used:")) + " " + e.error;
    std::string s;
    if (e.qat()) {
        s = std::string(tr("QAT")) + " " + (e.quantization.empty() ? bits_label(e.weight_bits, e.act_bits) : e.quantization);
    } else {
        s = tr("float");
    }
    if (e.test_accuracy >= 0) {
        char b[64];
        std::snprintf(b, sizeof b, " %.2f %%", e.test_accuracy);
        s += std::string(" · ") + tr("test accuracy") + b;
    }
    const std::string how = e.trained_by.substr(0, e.trained_by.find(';'));
    if (!how.empty()) s += " · " + how;
    return s;
}

QuantSpec overlay_ptq_rule() {
    QuantSpec s;
    s.rule = RangeRule::kMse;
    s.symmetric = false;
    s.per_channel = true;
    return s;
}

std::vector<OverlayJob> overlay_jobs(const ModelCatalog& models, const std::vector<int>& bits, Backend backend) {
    std::vector<OverlayJob> jobs;
    auto named = [](const CatalogEntry& e, QuantConfig c, Backend be) {
        EvalJob j = eval_job(c, be);
        j.key = e.file + "|" + j.key;  // another model than the loaded one: another job
        j.model = e.model;
        return j;
    };
    const CatalogEntry* base = find_model(models, kOverlayFloatModel);
    if (base && base->usable())
        for (int b : bits) {
            QuantConfig c = make_config(base->model->desc(), b, b, ActMode::kDynamic);
            apply_rule(&c, overlay_ptq_rule());
            jobs.push_back({false, base->file, b, b, named(*base, c, backend)});
        }
    for (const CatalogEntry& e : models)  // a model with bits that differ by layer (0) has no place on a bits axis
        if (e.qat() && e.weight_bits == e.act_bits && e.weight_bits != 0) jobs.push_back({true, e.file, e.weight_bits, e.act_bits, named(e, e.config, backend)});
    return jobs;
}

}  // namespace quantlab::ui
