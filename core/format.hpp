// format.hpp: one number as text through a printf format ("%g", "%.2f"), for messages, metadata and CSV cells.
// One place for what every front end and trainer needs; header-only because it is one snprintf.
#pragma once
#include <cstdio>
#include <string>

namespace quantlab {

inline std::string printf_number(const char* format, double v) {
    char b[64];
    std::snprintf(b, sizeof b, format, v);
    return b;
}

}  // namespace quantlab
