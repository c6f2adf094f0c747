// status.hpp: how core reports failure without exceptions or exit().
// Core never throws across the web boundary: every fallible function returns a Status or a Result<T>
// whose message follows "who: what file, expected vs found, hint".
#pragma once
#include <string>
#include <utility>

namespace quantlab {

struct Status {
    bool failed = false;
    std::string message;

    static Status success() { return {}; }
    static Status error(std::string msg) { return {true, std::move(msg)}; }
    bool ok() const { return !failed; }
    explicit operator bool() const { return !failed; }
};

// A value or an error message. value is default-constructed when !ok.
template <class T>
struct Result {
    T value{};
    Status status;

    Result() = default;
    Result(T v) : value(std::move(v)) {}  // NOLINT: implicit on purpose, `return value;` reads well
    Result(Status s) : status(std::move(s)) {}  // NOLINT
    bool ok() const { return !status.failed; }
    const std::string& message() const { return status.message; }
};

}  // namespace quantlab
