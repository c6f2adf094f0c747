// resume_state.cpp: see resume_state.hpp.
#include "core/train/resume_state.hpp"

#include <cstdio>

#include "core/safetensors_io.hpp"

namespace quantlab {

std::string resume_state_path(const std::string& checkpoint) {
    const std::string ext = ".safetensors";
    std::string stem = checkpoint;
    if (stem.size() >= ext.size() && stem.compare(stem.size() - ext.size(), ext.size(), ext) == 0)
        stem.resize(stem.size() - ext.size());
    return stem + ".state.safetensors";
}

std::string optim_state_name(const std::string& param, const char* what) { return "optim." + param + "." + what; }
std::string learned_state_name(const std::string& name) { return "learned." + name; }

void stamp_resume_state(StateDict* state, Optimizer optimizer, QuantizerKind quantizer) {
    state->metadata["format"] = "quantlab train state 1";
    state->metadata["optimizer"] = optimizer_name(optimizer);
    state->metadata["quantizer"] = quantizer_kind_name(quantizer);
}

Status check_resume_state(const StateDict& state, Optimizer optimizer, QuantizerKind quantizer,
                          const std::string& path) {
    auto meta = [&](const char* key) {
        auto it = state.metadata.find(key);
        return it == state.metadata.end() ? std::string() : it->second;
    };
    if (meta("format").empty()) return Status::error(path + ": not a training state file (no format in its metadata)");
    if (meta("optimizer") != optimizer_name(optimizer))
        return Status::error(path + ": written by a run with --optimizer " + meta("optimizer") +
                             ", this run has --optimizer " + optimizer_name(optimizer) +
                             "; resume with the checkpoint's recipe");
    if (meta("quantizer") != quantizer_kind_name(quantizer))
        return Status::error(path + ": written by a run with --quantizer " + meta("quantizer") +
                             ", this run has --quantizer " + quantizer_kind_name(quantizer) +
                             "; resume with the checkpoint's recipe");
    return Status::success();
}

Status write_resume_state(const std::string& path, const StateDict& state) {
    return write_safetensors(path, state);  // a temporary file renamed over path: a crash leaves the previous state whole
}

}  // namespace quantlab
