#include "sim/io/npy.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "sim/core/error.h"
#include "sim/io/zip_reader.h"

static_assert(std::endian::native == std::endian::little, "attnsim::io assumes a little-endian host");

namespace attnsim::io {
namespace {

constexpr const char* kSupported =
    "supported dtypes: bool (|b1), int8/16/32/64 (<i1..<i8), uint8/16/32/64 (<u1..<u8), "
    "float16/32/64 (<f2, <f4, <f8)";

bool dtype_ok(char kind, int bytes) {
  switch (kind) {
    case 'f': return bytes == 2 || bytes == 4 || bytes == 8;
    case 'i': case 'u': return bytes == 1 || bytes == 2 || bytes == 4 || bytes == 8;
    case 'b': return bytes == 1;
    default: return false;
  }
}

std::string printable(const std::string& s, size_t max_len = 100) {
  std::string out;
  for (char c : s.substr(0, max_len)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > max_len) out += "...";
  return out;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

// Element count of 'shape', refusing negative dims, overflow and payloads over kMaxNpyBytes.
uint64_t checked_count(const std::vector<int64_t>& shape, int item_bytes, const std::string& what) {
  for (int64_t d : shape)
    if (d < 0) throw Error(what + ": shape " + shape_str(shape) + " has a negative dimension");
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  const uint64_t max_count = kMaxNpyBytes / static_cast<uint64_t>(item_bytes);
  uint64_t count = 1;
  for (int64_t d : shape) {
    if (static_cast<uint64_t>(d) > max_count / count)
      throw Error(what + ": shape " + shape_str(shape) + " of " + std::to_string(item_bytes) +
                  "-byte items exceeds the 8 GiB array limit (corrupt header or an array too large to load)");
    count *= static_cast<uint64_t>(d);
  }
  return count;
}

// A parsed Python literal from the header: str, int, True/False/None, tuple or list.
struct PyVal {
  enum Type { kStr, kInt, kBool, kNone, kSeq } type = kNone;
  std::string str;
  int64_t num = 0;
  std::vector<PyVal> items;
};

class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& what) : s_(text), what_(what) {}

  std::map<std::string, PyVal> dict() {
    std::map<std::string, PyVal> out;
    expect('{');
    for (;;) {
      if (peek() == '}') break;
      PyVal key = value(0);
      if (key.type != PyVal::kStr) fail("dict keys must be strings");
      expect(':');
      out[key.str] = value(0);
      if (peek() == ',') { ++i_; continue; }
      if (peek() != '}') fail("expected ',' or '}'");
    }
    ++i_;
    if (peek() != '\0') fail("unexpected text after the closing '}'");
    return out;
  }

  [[noreturn]] void fail(const std::string& why) const {
    const size_t end = s_.find_last_not_of(" \t\r\n");
    throw Error(what_ + ": malformed .npy header dict (" + why + "): " +
                printable(s_.substr(0, end == std::string::npos ? 0 : end + 1)) + " ; re-save it with numpy.save");
  }

 private:
  char peek() {  // next non-blank character, '\0' at the end
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  PyVal value(int depth) {
    if (depth > 8) fail("nested too deeply");
    PyVal v;
    const char c = peek();
    if (c == '\'' || c == '"') {
      v.type = PyVal::kStr;
      for (++i_; i_ < s_.size() && s_[i_] != c; ++i_) {
        if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
        v.str += s_[i_];
      }
      if (i_ >= s_.size()) fail("unterminated string");
      ++i_;
    } else if (c == '(' || c == '[') {
      v.type = PyVal::kSeq;
      const char close = c == '(' ? ')' : ']';
      ++i_;
      for (;;) {
        if (peek() == close) break;
        v.items.push_back(value(depth + 1));
        if (peek() == ',') { ++i_; continue; }
        if (peek() != close) fail(std::string("expected ',' or '") + close + "'");
      }
      ++i_;
    } else if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
      v.type = PyVal::kInt;
      const bool neg = c == '-';
      if (c == '-' || c == '+') ++i_;
      if (i_ >= s_.size() || s_[i_] < '0' || s_[i_] > '9') fail("expected digits");
      uint64_t mag = 0;
      for (; i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9'; ++i_) {
        mag = mag * 10 + static_cast<uint64_t>(s_[i_] - '0');
        if (mag > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) fail("integer out of range");
      }
      if (i_ < s_.size() && (s_[i_] == 'L' || s_[i_] == 'l')) ++i_;  // Python 2 long suffix
      v.num = neg ? -static_cast<int64_t>(mag) : static_cast<int64_t>(mag);
    } else {
      size_t j = i_;
      while (j < s_.size() && std::isalpha(static_cast<unsigned char>(s_[j]))) ++j;
      const std::string word = s_.substr(i_, j - i_);
      if (word == "True" || word == "False") {
        v.type = PyVal::kBool;
        v.num = word == "True";
      } else if (word != "None") {
        fail(c == '\0' ? "unexpected end" : "unexpected '" + printable(word.empty() ? std::string(1, c) : word) + "'");
      }
      i_ = j;
    }
    return v;
  }

  const std::string& s_;
  const std::string& what_;
  size_t i_ = 0;
};

uint64_t read_le(const uint8_t* p, int n) {
  uint64_t v = 0;
  std::memcpy(&v, p, static_cast<size_t>(n));
  return v;
}

double half_to_double(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  double v;
  if (exp == 0) v = std::ldexp(mant, -24);
  else if (exp == 31) v = mant ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else v = std::ldexp(mant + 1024, exp - 25);
  return sign ? -v : v;
}

// Element count after checking that the array's dtype and payload agree with its shape.
uint64_t validated_count(const NpyArray& a, const char* fn) {
  if (!dtype_ok(a.kind, a.item_bytes))
    throw Error(std::string("NpyArray::") + fn + ": invalid dtype kind '" + std::string(1, a.kind) + "' with " +
                std::to_string(a.item_bytes) + "-byte items; " + kSupported);
  const uint64_t count = checked_count(a.shape, a.item_bytes, std::string("NpyArray::") + fn);
  if (a.data.size() != count * static_cast<uint64_t>(a.item_bytes))
    throw Error(std::string("NpyArray::") + fn + ": data holds " + std::to_string(a.data.size()) +
                " bytes but shape " + shape_str(a.shape) + " needs " +
                std::to_string(count * static_cast<uint64_t>(a.item_bytes)));
  return count;
}

double elem_double(const NpyArray& a, uint64_t i) {
  const uint8_t* p = a.data.data() + i * static_cast<uint64_t>(a.item_bytes);
  const uint64_t raw = read_le(p, a.item_bytes);
  const int bits = a.item_bytes * 8;
  switch (a.kind) {
    case 'f':
      if (a.item_bytes == 2) return half_to_double(static_cast<uint16_t>(raw));
      if (a.item_bytes == 4) return std::bit_cast<float>(static_cast<uint32_t>(raw));
      return std::bit_cast<double>(raw);
    case 'i': return static_cast<double>(bits == 64 ? static_cast<int64_t>(raw)
                                                    : static_cast<int64_t>(raw << (64 - bits)) >> (64 - bits));
    case 'u': return static_cast<double>(raw);
    default: return raw != 0 ? 1.0 : 0.0;
  }
}

std::vector<uint8_t> read_file(const std::string& path, uint64_t limit, const char* expected) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st)) throw Error(path + ": no such file (check the path)");
  if (std::filesystem::is_directory(st)) throw Error(path + ": is a directory, expected " + expected);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open for reading (check permissions)");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) throw Error(path + ": cannot determine the file size (not a regular file?)");
  if (static_cast<uint64_t>(size) > limit)
    throw Error(path + ": file of " + std::to_string(size) + " bytes is too large to load (limit " +
                std::to_string(limit) + ")");
  in.seekg(0, std::ios::beg);
  std::vector<uint8_t> buf(static_cast<size_t>(size));
  in.read(reinterpret_cast<char*>(buf.data()), size);
  if (in.gcount() != size) throw Error(path + ": read error (file changed or I/O failure)");
  return buf;
}

}  // namespace

int64_t NpyArray::size() const {
  return static_cast<int64_t>(checked_count(shape, dtype_ok(kind, item_bytes) ? item_bytes : 1, "NpyArray::size"));
}

std::vector<double> NpyArray::to_double() const {
  const uint64_t n = validated_count(*this, "to_double");
  std::vector<double> out(n);
  for (uint64_t i = 0; i < n; ++i) out[i] = elem_double(*this, i);
  return out;
}

std::vector<float> NpyArray::to_float() const {
  const uint64_t n = validated_count(*this, "to_float");
  std::vector<float> out(n);
  for (uint64_t i = 0; i < n; ++i) out[i] = static_cast<float>(elem_double(*this, i));
  return out;
}

std::vector<int64_t> NpyArray::to_int64() const {
  const uint64_t n = validated_count(*this, "to_int64");
  if (kind == 'f')
    throw Error("NpyArray::to_int64: array has float dtype (f" + std::to_string(item_bytes) +
                "); expected an integer or bool array (convert with arr.astype(np.int64))");
  std::vector<int64_t> out(n);
  const int bits = item_bytes * 8;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t raw = read_le(data.data() + i * static_cast<uint64_t>(item_bytes), item_bytes);
    if (kind == 'b') out[i] = raw != 0;
    else if (kind == 'u' && raw > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw Error("NpyArray::to_int64: uint64 value " + std::to_string(raw) + " at index " + std::to_string(i) +
                  " does not fit in int64");
    else if (kind == 'i' && bits < 64) out[i] = static_cast<int64_t>(raw << (64 - bits)) >> (64 - bits);
    else out[i] = static_cast<int64_t>(raw);
  }
  return out;
}

NpyArray parse_npy(const uint8_t* bytes, size_t n, const std::string& what) {
  static const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (n < 6 || std::memcmp(bytes, kMagic, 6) != 0)
    throw Error(what + ": not a .npy file (bad magic; expected \\x93NUMPY at the start)");
  if (n < 10) throw Error(what + ": truncated .npy header (file has only " + std::to_string(n) + " bytes)");
  const int major = bytes[6], minor = bytes[7];
  if (!((major == 1 || major == 2 || major == 3) && minor == 0))
    throw Error(what + ": unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                " (supported: 1.0, 2.0, 3.0)");
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (n < 8 + len_bytes) throw Error(what + ": truncated .npy header (length field is cut off)");
  const uint64_t header_len = read_le(bytes + 8, static_cast<int>(len_bytes));
  const uint64_t data_off = 8 + len_bytes + header_len;
  if (header_len > n - 8 - len_bytes)
    throw Error(what + ": truncated .npy header (declares " + std::to_string(header_len) + " bytes, file has " +
                std::to_string(n - 8 - len_bytes) + " after the length field)");
  const std::string header(reinterpret_cast<const char*>(bytes + 8 + len_bytes), header_len);

  HeaderParser parser(header, what);
  const std::map<std::string, PyVal> dict = parser.dict();
  auto field = [&](const char* key) -> const PyVal& {
    auto it = dict.find(key);
    if (it == dict.end()) parser.fail(std::string("missing key '") + key + "'");
    return it->second;
  };
  const PyVal& descr = field("descr");
  const PyVal& fortran = field("fortran_order");
  const PyVal& shape_v = field("shape");
  if (fortran.type != PyVal::kBool) parser.fail("'fortran_order' must be True or False");
  if (shape_v.type != PyVal::kSeq) parser.fail("'shape' must be a tuple of integers");
  if (shape_v.items.size() > 64) parser.fail("'shape' has more than 64 dimensions");
  if (descr.type != PyVal::kStr)
    throw Error(what + ": unsupported dtype (structured/record arrays are not supported); " + kSupported);

  NpyArray a;
  for (const PyVal& d : shape_v.items) {
    if (d.type != PyVal::kInt) parser.fail("'shape' must be a tuple of integers");
    a.shape.push_back(d.num);
  }
  // descr: optional byte order, kind letter, item size in bytes (e.g. "<f4", "|b1").
  const std::string& ds = descr.str;
  size_t k = 0;
  char order = '=';
  if (!ds.empty() && (ds[0] == '<' || ds[0] == '>' || ds[0] == '|' || ds[0] == '=')) order = ds[k++];
  const char kind_c = k < ds.size() ? ds[k] : '\0';
  const std::string digits = k < ds.size() ? ds.substr(k + 1) : "";
  const bool digits_ok = !digits.empty() && digits.size() <= 2 &&
                         std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  a.kind = kind_c == '?' ? 'b' : kind_c;
  a.item_bytes = digits_ok ? std::stoi(digits) : (kind_c == '?' ? 1 : 0);
  if (!dtype_ok(a.kind, a.item_bytes)) {
    std::string note;
    switch (kind_c) {
      case 'O': note = " (object arrays)"; break;
      case 'c': note = " (complex)"; break;
      case 'S': case 'a': case 'U': note = " (strings)"; break;
      case 'V': note = " (void/structured)"; break;
      case 'M': case 'm': note = " (datetime/timedelta)"; break;
      default: break;
    }
    throw Error(what + ": unsupported dtype '" + printable(ds, 20) + "'" + note + "; " + kSupported +
                " (convert with arr.astype(...) before saving)");
  }

  const uint64_t count = checked_count(a.shape, a.item_bytes, what);
  const uint64_t nbytes = count * static_cast<uint64_t>(a.item_bytes);
  if (nbytes > n - data_off)
    throw Error(what + ": data truncated: shape " + shape_str(a.shape) + " of " + printable(ds, 20) + " needs " +
                std::to_string(nbytes) + " bytes but only " + std::to_string(n - data_off) + " are present");
  const uint8_t* src = bytes + data_off;
  if (fortran.num && a.shape.size() > 1 && count > 0) {  // reorder Fortran (column-major) to C order
    a.data.resize(nbytes);
    const size_t nd = a.shape.size(), ib = static_cast<size_t>(a.item_bytes);
    std::vector<uint64_t> fstride(nd, 1);
    for (size_t d = 1; d < nd; ++d) fstride[d] = fstride[d - 1] * static_cast<uint64_t>(a.shape[d - 1]);
    std::vector<int64_t> idx(nd, 0);
    uint64_t from = 0;
    for (uint64_t i = 0; i < count; ++i) {
      std::memcpy(a.data.data() + i * ib, src + from * ib, ib);
      for (size_t d = nd; d-- > 0;) {
        from += fstride[d];
        if (++idx[d] < a.shape[d]) break;
        from -= fstride[d] * static_cast<uint64_t>(a.shape[d]);
        idx[d] = 0;
      }
    }
  } else {
    a.data.assign(src, src + nbytes);
  }
  if (order == '>' && a.item_bytes > 1)
    for (uint64_t i = 0; i < count; ++i)
      std::reverse(a.data.begin() + static_cast<std::ptrdiff_t>(i * a.item_bytes),
                   a.data.begin() + static_cast<std::ptrdiff_t>((i + 1) * a.item_bytes));
  return a;
}

NpyArray read_npy(const std::string& path) {
  const std::vector<uint8_t> buf = read_file(path, kMaxNpyBytes + (uint64_t{1} << 20), "a .npy file");
  return parse_npy(buf.data(), buf.size(), path);
}

std::map<std::string, NpyArray> parse_npz(const uint8_t* bytes, size_t n, const std::string& what) {
  std::map<std::string, NpyArray> out;
  for (const ZipEntry& e : read_zip(bytes, n, what)) {
    if (e.name.size() < 4 || e.name.compare(e.name.size() - 4, 4, ".npy") != 0) continue;
    const std::string key = e.name.substr(0, e.name.size() - 4);
    if (out.count(key)) throw Error(what + ": duplicate array '" + printable(key) + "' in the archive");
    out.emplace(key, parse_npy(e.data.data(), e.data.size(), what + ":" + printable(e.name)));
  }
  return out;
}

std::map<std::string, NpyArray> read_npz(const std::string& path) {
  const std::vector<uint8_t> buf = read_file(path, uint64_t{32} << 30, "a .npz file");
  return parse_npz(buf.data(), buf.size(), path);
}

void write_npy(const std::string& path, const NpyArray& a) {
  validated_count(a, "write_npy");
  const std::string descr = std::string(1, a.item_bytes == 1 ? '|' : '<') + a.kind + std::to_string(a.item_bytes);
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape_str(a.shape) + ", }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  if (header.size() > 0xFFFF) throw Error(path + ": .npy header too long for format version 1.0");
  std::string prefix("\x93NUMPY\x01\x00", 8);
  prefix += static_cast<char>(header.size() & 0xFF);
  prefix += static_cast<char>(header.size() >> 8);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(path + ": cannot open for writing (does the directory exist? is it writable?)");
  out.write(prefix.data(), static_cast<std::streamsize>(prefix.size()));
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(a.data.data()), static_cast<std::streamsize>(a.data.size()));
  out.close();
  if (!out) throw Error(path + ": write failed (disk full?)");
}

NpyArray make_f4(std::vector<int64_t> shape, const std::vector<float>& values) {
  NpyArray a;
  a.kind = 'f';
  a.item_bytes = 4;
  a.shape = std::move(shape);
  const uint64_t count = checked_count(a.shape, 4, "make_f4");
  if (values.size() != count)
    throw Error("make_f4: " + std::to_string(values.size()) + " values given for shape " + shape_str(a.shape) +
                " (" + std::to_string(count) + " elements)");
  a.data.resize(count * 4);
  if (count) std::memcpy(a.data.data(), values.data(), count * 4);
  return a;
}

}  // namespace attnsim::io
