// Portable float <-> float16/bfloat16 conversions: the scalar functions of half_float.h, one element at a time.
#include "half_convert_loop.h"

namespace jembed {
namespace {

// Never called (width 1 converts every element with the scalar functions); they fill the template's slots.
void no_narrow(const float*, uint16_t*) {}
void no_widen(const uint16_t*, float*) {}

}  // namespace

JEMBED_DEFINE_HALF_CONVERSIONS(scalar, 1, no_narrow, no_narrow, no_widen, no_widen)

}  // namespace jembed
