// network.hpp: the CNN as data. A NetworkDesc is a layer list (conv, batch norm, ReLU, max pool, flatten,
// linear) from which every parameter's PyTorch name and shape follow; the LibTorch model, the inference
// engine and the UI are all built from it, so a variant (wider, one more block) is a few lines.
// It round-trips through a short text form stored in the weights file's metadata ("model_desc").
#pragma once
#include <string>
#include <vector>

#include "core/state_dict.hpp"
#include "core/status.hpp"
#include "core/tensor.hpp"

namespace quantlab {

enum class LayerKind { kConv2d, kBatchNorm2d, kReLU, kMaxPool2d, kFlatten, kLinear };

struct LayerDesc {
    LayerKind kind;
    std::string name;  // PyTorch module name (conv1, bn1, fc3); empty for ReLU, pool and flatten
    int in = 0;        // conv: in channels; linear: in features; bn: channels
    int out = 0;       // conv: out channels; linear: out features
    int kernel = 0;    // conv kernel size (square), pool window (= stride)
    int padding = 0;   // conv zero padding
};

struct ParamDesc {
    std::string name;  // "conv1.weight"
    Shape shape;
    bool int64 = false;  // bn*.num_batches_tracked
    bool trainable = true;
};

struct NetworkDesc {
    std::string name;
    Shape input{3, 32, 32};  // C,H,W of one image
    std::vector<LayerDesc> layers;

    std::vector<ParamDesc> params() const;   // every state_dict entry, in PyTorch's order
    std::vector<int> quant_layers() const;   // indices of conv/linear layers (the quantized ones)
    int num_classes() const;                 // out of the last linear layer
    // Shape (C,H,W) or (F) of the activation after layer i; index -1 is the input.
    Shape shape_after(int i) const;
    std::string to_text() const;             // "conv conv1 3 32 5 0; bn bn1 32; relu; pool 2; ..."
};

// The notebook's Net: conv1 3->32 5x5, bn1, pool, conv2 32->64 5x5, bn2, pool, fc1 1600->120, fc2, fc3.
NetworkDesc notebook_net();
// The "model change" of the final assignment: the same net with `width`x channels and hidden units.
NetworkDesc wide_net(int width);

// `net` with its last linear layer's outputs set to `classes` (the dataset's class count; dataset.hpp).
NetworkDesc with_classes(NetworkDesc net, int classes);

// A from-scratch model as `quantlab train --model` and the desktop training panel name it: "notebook" (or empty),
// "wide:N" (N in 1..8), or a description (parse_network). The stock nets' last layer gets `classes` outputs; a
// description must already have them (the message says how many it has). Errors name the choice.
Result<NetworkDesc> network_choice(const std::string& model, int classes);

// Parses and checks a description (shapes flow, every conv/linear/bn is named uniquely, sizes bounded).
Result<NetworkDesc> parse_network(const std::string& text);
Status validate(const NetworkDesc& net);

// Checks that `weights` holds every parameter of `net` with the right shape and finite values; extra
// tensors are an error too (a different model). `source` names the file in messages.
Status check_weights(const NetworkDesc& net, const StateDict& weights, const std::string& source);

// The description stored in a file's metadata, else the notebook's net.
Result<NetworkDesc> network_for(const StateDict& weights, const std::string& source);

const char* layer_kind_name(LayerKind kind);

}  // namespace quantlab
