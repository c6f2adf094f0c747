// model_file.hpp: a weights file as the front ends use it, in one pipeline: bytes -> tensors (weights_io) ->
// the network its metadata describes (else the notebook's) -> a checked Model, with the quantization settings
// the file stores (a QAT export's or a checkpoint's). And the other way: the metadata QuantLab stamps into
// every file it writes. The formats themselves are weights_io / safetensors_io / quant_config_io.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "core/inference.hpp"
#include "core/network.hpp"
#include "core/quant_config.hpp"
#include "core/state_dict.hpp"
#include "core/status.hpp"

namespace quantlab {

using Metadata = std::map<std::string, std::string>;  // StateDict::metadata, the safetensors __metadata__

// A file's tensors (all of them: a checkpoint's extras too) and the network they belong to.
struct WeightsFile {
    std::string name;   // the path or name that messages use
    StateDict weights;
    NetworkDesc net;    // the file's model_desc, else the notebook's net
    // The stored settings (kMetaQuantConfig) read back and checked against net; a config with no layers when
    // the file stores none; an error naming the file when they do not read. Callers that ignore a bad stored
    // setting (the app) just skip it; the command line reports it.
    Result<QuantConfig> stored_config;
};
Result<WeightsFile> read_weights_file(const std::string& path);
Result<WeightsFile> read_weights_file_bytes(const uint8_t* data, size_t size, const std::string& name);

// A file opened as a Model (every parameter present with the right shape, finite, nothing extra; float).
struct ModelFile {
    std::string name;
    Model model;
    Result<QuantConfig> stored_config;  // as WeightsFile::stored_config
    const NetworkDesc& net() const { return model.desc(); }
    const Metadata& metadata() const { return model.weights().metadata; }
};
Result<ModelFile> open_model(const std::string& path);
Result<ModelFile> open_model_bytes(const uint8_t* data, size_t size, const std::string& name);

// What the app and the page evaluate: a network that takes CIFAR-10's (3,32,32) images into 10 classes.
// The message names the file and what its network takes.
// A network for CIFAR-10 or CIFAR-100: (3,32,32) inputs and 10 or 100 classes (the desktop app evaluates both).
Status check_cifar_net(const NetworkDesc& net, const std::string& name);
Status check_cifar10_net(const NetworkDesc& net, const std::string& name);

// The keys every QuantLab file carries: "format" = quantlab, the format version, "model" (the net's name),
// model_desc (its text form), `source` (when not empty) unless the metadata names one already, and quant_config
// when `config` is given (non-null, with layers). Other keys are kept.
void stamp_metadata(Metadata* metadata, const NetworkDesc& net, const std::string& source, const QuantConfig* config = nullptr);

// What a file says about its training ("trained_by", "val_accuracy"), copied into a file made from it where
// present and not empty.
void copy_provenance(const Metadata& from, Metadata* to);

}  // namespace quantlab
