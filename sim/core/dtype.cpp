#include "sim/core/dtype.h"

#include "sim/core/error.h"

namespace attnsim {

int dtype_bytes(Dtype d) {
  switch (d) {
    case Dtype::fp32: return 4;
    case Dtype::bf16: return 2;
    case Dtype::fp16: return 2;
    case Dtype::fp8: return 1;
    case Dtype::int8: return 1;
  }
  return 4;
}

std::string dtype_name(Dtype d) {
  switch (d) {
    case Dtype::fp32: return "fp32";
    case Dtype::bf16: return "bf16";
    case Dtype::fp16: return "fp16";
    case Dtype::fp8: return "fp8";
    case Dtype::int8: return "int8";
  }
  return "fp32";
}

const char* const* dtype_names() {
  static const char* const names[] = {"fp32", "bf16", "fp16", "fp8", "int8", nullptr};
  return names;
}

Dtype parse_dtype(const std::string& name) {
  for (Dtype d : {Dtype::fp32, Dtype::bf16, Dtype::fp16, Dtype::fp8, Dtype::int8}) {
    if (dtype_name(d) == name) return d;
  }
  throw Error("unknown dtype '" + name + "'; valid: fp32, bf16, fp16, fp8, int8");
}

}  // namespace attnsim
