// enum_names.hpp: an enum's names as one table, looked up both ways: RangeRule, SymmetricCodes and SteRule
// (quantizer.cpp), ActMode (quant_config.cpp), Backend (inference.cpp), Optimizer and Schedule (train_options.cpp)
// and the trainer's machine choices (native/trainer), on the command line, in URLs and in files.
#pragma once
#include <cstddef>
#include <string>

#include "status.hpp"

namespace quantlab {

template <class E>
struct EnumName {
    E value;
    const char* name;
};

// The name of `value` in `names`; "?" when it has none.
template <class E, size_t N>
const char* enum_name(const EnumName<E> (&names)[N], E value) {
    for (const EnumName<E>& n : names)
        if (n.value == value) return n.name;
    return "?";
}

// The value named `name` (exact, case-sensitive), else the error `unknown` (which names the bad value and the
// allowed ones).
template <class E, size_t N>
Result<E> enum_from_name(const EnumName<E> (&names)[N], const std::string& name, const std::string& unknown) {
    for (const EnumName<E>& n : names)
        if (name == n.name) return n.value;
    return Status::error(unknown);
}

}  // namespace quantlab
