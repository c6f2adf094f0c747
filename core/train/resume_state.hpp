// resume_state.hpp: what a training checkpoint needs beside the model's weights to continue exactly, as one
// safetensors file that both engines write and read (core's engine, core/train/run.hpp, and the LibTorch trainer,
// native/trainer), so a checkpoint of either resumes in the other. DIR/last.safetensors (the weights and the
// position in its metadata) gets DIR/last.state.safetensors beside it, holding, under torch::optim's own names:
//   "optim.<param>.momentum_buffer"               SGD with momentum: the buffer b
//   "optim.<param>.exp_avg", "optim.<param>.exp_avg_sq"   Adam / AdamW: the moments m and v
//   "optim.<param>.step"                          (I64, one element) the steps the optimizer took on <param>
//   "learned.<name>"                              lsq / pact: the learned steps (learned_params.hpp names); their
//                                                 optimizer state is under "optim.<name>.*" like a weight's
// and in its metadata "optimizer" (sgd|adam|adamw) and "quantizer" (fixed|lsq|pact), checked on resume.
// The data order and augmentation draws need no state: both are seeded per (seed, epoch) and a resumed run
// replays the skipped batches' draws.
#pragma once
#include <string>

#include "core/quantizer.hpp"
#include "core/state_dict.hpp"
#include "core/status.hpp"
#include "core/train_options.hpp"

namespace quantlab {

// DIR/last.safetensors -> DIR/last.state.safetensors.
std::string resume_state_path(const std::string& checkpoint);

std::string optim_state_name(const std::string& param, const char* what);  // "optim.<param>.<what>"
std::string learned_state_name(const std::string& name);                   // "learned.<name>"

// The metadata every state file carries; check_resume_state compares a file's against the run's and names
// the option to change.
void stamp_resume_state(StateDict* state, Optimizer optimizer, QuantizerKind quantizer);
Status check_resume_state(const StateDict& state, Optimizer optimizer, QuantizerKind quantizer,
                          const std::string& path);

// Writes `state` to path + ".tmp" and renames it to path: a crash mid-write never leaves a broken file.
Status write_resume_state(const std::string& path, const StateDict& state);

}  // namespace quantlab
