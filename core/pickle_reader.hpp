// pickle_reader.hpp: an unpickler for the subset of Python's pickle that torch.save writes for a
// state_dict (protocol 2, plus the few protocol 3/4 opcodes newer writers may use). It executes nothing:
// GLOBAL only records a name, and REDUCE understands collections.OrderedDict,
// torch._utils._rebuild_tensor_v2 and _rebuild_parameter; any other call becomes an opaque Object.
// Persistent ids ('storage', torch.FloatStorage, key, location, numel) become Storage values. Stack,
// memo and value counts are bounded and nothing recurses, so hostile input cannot exhaust the C stack.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "core/tensor.hpp"

namespace quantlab {

enum class PickleKind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Storage, Tensor, Object };

const char* pickle_kind_name(PickleKind kind);

// One value of the unpickled graph. Values refer to each other by index into PickleGraph::values, so
// shared and even cyclic references (legal in pickle) need no ownership games.
struct PickleValue {
    PickleKind kind = PickleKind::None;
    bool boolean = false;
    int64_t integer = 0;      // Int; Storage: numel; Tensor: storage_offset (elements)
    double real = 0.0;        // Float
    std::string text;         // String, Bytes; Global and Object: "module.name"; Storage: dtype ("F32", ...)
    std::string key;          // Storage: the archive key (data/<key>)
    std::string location;     // Storage: 'cpu', 'cuda:0', ...
    std::vector<size_t> items;  // Tuple, List, Object args; Dict: key0, value0, key1, value1, ... in
                                // insertion order, duplicates kept (a consumer lets the later one win);
                                // Tensor: items[0] = its Storage
    Shape size, stride;         // Tensor
};

struct PickleGraph {
    std::vector<PickleValue> values;
    size_t root = 0;  // the value STOP returned
    const PickleValue& at(size_t i) const { return values[i]; }
};

// Unpickles data[0, size). name_for_messages names the source (e.g. "model.pth: archive/data.pkl").
Result<PickleGraph> read_pickle(const uint8_t* data, size_t size, const std::string& name_for_messages);

// Maps a torch storage class name ("torch.FloatStorage", "torch.cuda.LongStorage") to a safetensors dtype
// name ("F32", "I64"); empty when unknown.
std::string torch_storage_dtype(const std::string& global_name);

}  // namespace quantlab
