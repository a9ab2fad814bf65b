// NumPy .npy / .npz reader and .npy writer.
//
// Supported dtypes: bool (|b1), int8/16/32/64 (i1..i8), uint8/16/32/64 (u1..u8),
// float16/32/64 (f2, f4, f8), either byte order. Arrays are always held little-endian
// in C order; Fortran-order and big-endian files are converted on load.
// Supported .npy versions: 1.0, 2.0, 3.0. Supported .npz compression: stored, deflate,
// with ZIP64 sizes. Every failure throws attnsim::Error with a one-line message that
// names the file. The parser bounds-checks every read (it is meant to be fuzzed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace attnsim::io {

// Largest array payload accepted (8 GiB); larger shapes are refused before allocating.
inline constexpr uint64_t kMaxNpyBytes = uint64_t{8} << 30;

struct NpyArray {
  char kind = 'f';     // 'f' float, 'i' signed int, 'u' unsigned int, 'b' bool
  int item_bytes = 4;  // 1, 2, 4, 8
  std::vector<int64_t> shape;  // empty = 0-d scalar (one element)
  std::vector<uint8_t> data;   // little-endian, C order

  int64_t size() const;  // number of elements (product of shape)
  std::vector<double> to_double() const;   // f2 (IEEE half), f4, f8, all ints, bool
  std::vector<float> to_float() const;
  std::vector<int64_t> to_int64() const;   // ints and bool; floats rejected
};

// Parses a complete .npy image; 'what' names the source (file name) in messages.
NpyArray parse_npy(const uint8_t* bytes, size_t n, const std::string& what);
NpyArray read_npy(const std::string& path);

// Parses an in-memory .npz (zip) image; keys are member names without ".npy".
// Members that are not .npy files (and directories) are ignored.
std::map<std::string, NpyArray> parse_npz(const uint8_t* bytes, size_t n, const std::string& what);
std::map<std::string, NpyArray> read_npz(const std::string& path);

// Writes a version 1.0 .npy file (header padded to a multiple of 64 bytes).
void write_npy(const std::string& path, const NpyArray& a);

// A float32 array with the given shape; values.size() must equal the shape product.
NpyArray make_f4(std::vector<int64_t> shape, const std::vector<float>& values);

}  // namespace attnsim::io
