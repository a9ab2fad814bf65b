#pragma once

#include <string>

namespace attnsim {

enum class Dtype { fp32, bf16, fp16, fp8, int8 };

int dtype_bytes(Dtype d);
std::string dtype_name(Dtype d);
Dtype parse_dtype(const std::string& name);  // throws with the valid names
const char* const* dtype_names();            // null-terminated list

}  // namespace attnsim
