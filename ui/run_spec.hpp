// run_spec.hpp: the text form of a training run, "epochs=2,batch=64,qat=1,wb=4,...", as `quantlab-gui --train`
// takes it, parsed into the panel's TrainRunConfig. Engine-free (no LibTorch, no ImGui), so every desktop build
// has it, whichever trainer (core's or LibTorch's) then runs the config.
#pragma once
#include <string>

#include "core/status.hpp"
#include "ui/trainer_hooks.hpp"

namespace quantlab::ui {

// "epochs=2,batch=64,lr=0.01,optimizer=adam,schedule=cosine,augment=1,cutout=16,jitter=0.4,dataset=cifar100,qat=1,wb=4,
// ab=4,rule=mse,asym=1,pc=1,ste=clipped,quantizer=lsq,init=FILE|scratch,model=notebook|wide:N|DESCRIPTION,label=TEXT" -> a
// run config. Keys left out keep TrainRunConfig's defaults, except init: the bundled notebook_pretrain.safetensors
// (the panel's default, fine-tuning). Unknown keys and bad values fail, naming the spec and the item.
Result<TrainRunConfig> parse_run_spec(const std::string& spec);

// The init a spec without init= gets: the bundled pretrained weights' file name.
inline constexpr const char* kDefaultRunInit = "notebook_pretrain.safetensors";

}  // namespace quantlab::ui
