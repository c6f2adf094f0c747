// float_bits.hpp: a float's IEEE-754 bit pattern, for the tests that compare floats bit for bit or write
// them into file images byte by byte.
#pragma once
#include <cstdint>
#include <cstring>

namespace quantlab::test {

inline uint32_t float_bits(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

}  // namespace quantlab::test
