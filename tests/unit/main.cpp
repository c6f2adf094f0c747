// main.cpp: the Catch2 main, alone in its translation unit because it is the slow one to compile.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
