// model_file.cpp: weights file -> Model, and the metadata stamp (see model_file.hpp).
#include "core/model_file.hpp"

#include <utility>

#include "core/cifar10.hpp"
#include "core/dataset.hpp"
#include "core/quant_config_io.hpp"
#include "core/weights_io.hpp"

namespace quantlab {

namespace {

Result<WeightsFile> understand(Result<StateDict> sd, const std::string& name) {
    if (!sd.ok()) return sd.status;
    Result<NetworkDesc> net = network_for(sd.value, name);
    if (!net.ok()) return net.status;
    WeightsFile f;
    f.name = name;
    f.net = std::move(net.value);
    f.weights = std::move(sd.value);
    auto it = f.weights.metadata.find(kMetaQuantConfig);
    if (it != f.weights.metadata.end()) f.stored_config = quant_config_from_json(it->second, f.net, name);
    return f;
}

Result<ModelFile> open(Result<WeightsFile> f) {
    if (!f.ok()) return f.status;
    Result<Model> m = Model::create(f.value.net, f.value.weights, f.value.name);
    if (!m.ok()) return m.status;
    return ModelFile{f.value.name, std::move(m.value), std::move(f.value.stored_config)};
}

}  // namespace

Result<WeightsFile> read_weights_file(const std::string& path) { return understand(read_weights(path), path); }

Result<WeightsFile> read_weights_file_bytes(const uint8_t* data, size_t size, const std::string& name) {
    return understand(read_weights_bytes(data, size, name), name);
}

Result<ModelFile> open_model(const std::string& path) { return open(read_weights_file(path)); }

Result<ModelFile> open_model_bytes(const uint8_t* data, size_t size, const std::string& name) {
    return open(read_weights_file_bytes(data, size, name));
}

Status check_cifar10_net(const NetworkDesc& net, const std::string& name) {
    if (net.input == Shape{3, 32, 32} && net.num_classes() == kCifar10NumClasses) return Status::success();
    return Status::error(name + ": the network takes " + shape_str(net.input) + " inputs and has " + std::to_string(net.num_classes()) +
                         " classes; QuantLab evaluates CIFAR-10 (3,32,32), 10 classes");
}

Status check_cifar_net(const NetworkDesc& net, const std::string& name) {
    if (net.input == Shape{3, 32, 32} && (net.num_classes() == kCifar10NumClasses || net.num_classes() == dataset_info(Dataset::kCifar100).classes))
        return Status::success();
    return Status::error(name + ": the network takes " + shape_str(net.input) + " inputs and has " + std::to_string(net.num_classes()) +
                         " classes; QuantLab evaluates CIFAR-10 (3,32,32), 10 classes, or CIFAR-100, 100 classes");
}

void stamp_metadata(Metadata* metadata, const NetworkDesc& net, const std::string& source, const QuantConfig* config) {
    Metadata& m = *metadata;
    m["format"] = "quantlab";
    m[kMetaFormatVersion] = kCurrentFormatVersion;
    m["model"] = net.name;
    m[kMetaModelDesc] = net.to_text();
    if (!source.empty() && !m.count("source")) m["source"] = source;
    if (config && !config->layers.empty()) m[kMetaQuantConfig] = quant_config_to_json(*config, net);
}

void copy_provenance(const Metadata& from, Metadata* to) {
    for (const char* k : {"trained_by", "val_accuracy"})
        if (auto it = from.find(k); it != from.end() && !it->second.empty()) (*to)[k] = it->second;
}

}  // namespace quantlab
