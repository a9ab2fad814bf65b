// Tests for sim/io/npy.{h,cpp} and sim/io/zip_reader.{h,cpp}: hand-crafted .npy bytes,
// zip archives built here (stored / deflate via zlib / ZIP64), every error path, and
// truncation + byte-flip sweeps that must only ever throw attnsim::Error.
#include <zlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "sim/core/error.h"
#include "sim/io/npy.h"

namespace fs = std::filesystem;
using attnsim::Error;
using attnsim::io::NpyArray;
using Bytes = std::vector<uint8_t>;

namespace {

// A fresh directory under the system temp dir, removed with its contents at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    std::random_device rd;
    path = fs::temp_directory_path() / ("attnsim_test_npy_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(counter++) + "_" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

void put_le(Bytes& b, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }

// A .npy image with the given header dict text, padded like numpy does (64-byte aligned).
Bytes npy(const std::string& dict, const Bytes& payload, int major = 1) {
  std::string header = dict;
  const size_t prefix = major == 1 ? 10 : 12;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  put_le(b, header.size(), major == 1 ? 2 : 4);
  b.insert(b.end(), header.begin(), header.end());
  append(b, payload);
  return b;
}

template <class T>
Bytes le_values(const std::vector<T>& v) {
  Bytes b;
  for (T x : v) {
    uint64_t raw = 0;
    std::memcpy(&raw, &x, sizeof(T));
    put_le(b, raw, sizeof(T));
  }
  return b;
}

void write_file(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

NpyArray parse(const Bytes& b) { return attnsim::io::parse_npy(b.data(), b.size(), "test.npy"); }

Bytes deflate_raw(const Bytes& in) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&zs, static_cast<uLong>(in.size())));
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// Builds a zip archive in memory: stored (0) / deflate (8) / any method id, optional ZIP64.
class ZipBuilder {
 public:
  explicit ZipBuilder(bool zip64 = false) : zip64_(zip64) {}
  void add(const std::string& name, const Bytes& data, uint16_t method = 0) {
    const Bytes payload = method == 8 ? deflate_raw(data) : data;
    const uint32_t crc = static_cast<uint32_t>(crc32(0L, data.data(), static_cast<uInt>(data.size())));
    const uint64_t local_off = body_.size();
    Bytes zextra;  // ZIP64 extended info: usize, csize, local offset (all saturated below)
    if (zip64_) {
      put_le(zextra, 1, 2);
      put_le(zextra, 24, 2);
      put_le(zextra, data.size(), 8);
      put_le(zextra, payload.size(), 8);
      put_le(zextra, local_off, 8);
    }
    auto header = [&](Bytes& b, bool central) {
      put_le(b, central ? 0x02014b50 : 0x04034b50, 4);
      if (central) put_le(b, 45, 2);  // version made by
      put_le(b, 45, 2);               // version needed
      put_le(b, 0, 2);                // flags
      put_le(b, method, 2);
      put_le(b, 0, 4);  // time + date
      put_le(b, crc, 4);
      put_le(b, zip64_ ? 0xFFFFFFFF : payload.size(), 4);
      put_le(b, zip64_ ? 0xFFFFFFFF : data.size(), 4);
      put_le(b, name.size(), 2);
      put_le(b, zip64_ ? (central ? zextra.size() : 20) : 0, 2);
      if (central) {
        put_le(b, 0, 2);  // comment
        put_le(b, 0, 2);  // disk
        put_le(b, 0, 2);  // internal attrs
        put_le(b, 0, 4);  // external attrs
        put_le(b, zip64_ ? 0xFFFFFFFF : local_off, 4);
      }
      b.insert(b.end(), name.begin(), name.end());
      if (zip64_ && central) append(b, zextra);
      if (zip64_ && !central) append(b, Bytes(zextra.begin(), zextra.begin() + 20));
    };
    header(body_, false);
    append(body_, payload);
    header(central_, true);
    ++count_;
  }
  Bytes finish() const {
    Bytes b = body_;
    const uint64_t cd_off = b.size();
    append(b, central_);
    if (zip64_) {
      const uint64_t z = b.size();
      put_le(b, 0x06064b50, 4);
      put_le(b, 44, 8);
      put_le(b, 45, 2);
      put_le(b, 45, 2);
      put_le(b, 0, 4);
      put_le(b, 0, 4);
      put_le(b, count_, 8);
      put_le(b, count_, 8);
      put_le(b, central_.size(), 8);
      put_le(b, cd_off, 8);
      put_le(b, 0x07064b50, 4);  // locator
      put_le(b, 0, 4);
      put_le(b, z, 8);
      put_le(b, 1, 4);
    }
    put_le(b, 0x06054b50, 4);
    put_le(b, 0, 2);
    put_le(b, 0, 2);
    put_le(b, zip64_ ? 0xFFFF : count_, 2);
    put_le(b, zip64_ ? 0xFFFF : count_, 2);
    put_le(b, zip64_ ? 0xFFFFFFFF : central_.size(), 4);
    put_le(b, zip64_ ? 0xFFFFFFFF : cd_off, 4);
    put_le(b, 0, 2);
    return b;
  }

 private:
  bool zip64_;
  Bytes body_, central_;
  uint64_t count_ = 0;
};

auto parse_npz(const Bytes& b) { return attnsim::io::parse_npz(b.data(), b.size(), "test.npz"); }

const std::string kI4Dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }";
Bytes i4_sample() { return npy(kI4Dict, le_values<int32_t>({1, -2, 3, 2147483647, -2147483647 - 1, 0})); }
Bytes f8_sample() {
  return npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", le_values<double>({0.5, -1.25, 1e300}));
}

fs::path fixture_dir() {
  const fs::path candidates[] = {fs::path(__FILE__).parent_path() / "fixtures" / "npz", "tests/fixtures/npz",
                                 "../tests/fixtures/npz"};
  for (const fs::path& p : candidates)
    if (fs::exists(p / "flex_blockmask_small.npz")) return p;
  FAIL("cannot find tests/fixtures/npz (run the tests from the repository or build directory)");
  return {};
}

}  // namespace

TEST_CASE("npy: f4 round trip through write_npy/read_npy", "[npy]") {
  TempDir dir;
  const std::vector<float> values = {0.f, 1.5f, -2.25f, 3e38f, -1e-30f, 42.f};
  const NpyArray a = attnsim::io::make_f4({2, 3}, values);
  CHECK(a.size() == 6);
  attnsim::io::write_npy(dir.file("a.npy"), a);

  const Bytes raw = read_bytes(dir.file("a.npy"));
  REQUIRE(raw.size() == 128 + 24);  // header padded to a multiple of 64 bytes, then 6 floats
  const std::string header(raw.begin() + 10, raw.begin() + 128);
  CHECK(raw[6] == 1);
  CHECK(raw[7] == 0);
  CHECK(header.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 0) == 0);
  CHECK(header.back() == '\n');

  const NpyArray b = attnsim::io::read_npy(dir.file("a.npy"));
  CHECK(b.kind == 'f');
  CHECK(b.item_bytes == 4);
  CHECK(b.shape == std::vector<int64_t>{2, 3});
  CHECK(b.data == a.data);
  CHECK(b.to_float() == values);
  CHECK(b.to_double()[2] == -2.25);

  // 0-d, 1-d and empty arrays round-trip too, as do other dtypes.
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{}, {1}, {0}, {4, 0, 2}}) {
    size_t count = 1;
    for (int64_t d : shape) count *= static_cast<size_t>(d);
    const NpyArray c = attnsim::io::make_f4(shape, std::vector<float>(count, 7.5f));
    attnsim::io::write_npy(dir.file("c.npy"), c);
    const NpyArray d = attnsim::io::read_npy(dir.file("c.npy"));
    CHECK(d.shape == shape);
    CHECK(d.data == c.data);
  }
  NpyArray u;
  u.kind = 'u';
  u.item_bytes = 2;
  u.shape = {2};
  u.data = {0x34, 0x12, 0xFF, 0xFF};
  attnsim::io::write_npy(dir.file("u.npy"), u);
  const NpyArray u2 = attnsim::io::read_npy(dir.file("u.npy"));
  CHECK(u2.kind == 'u');
  CHECK(u2.to_int64() == std::vector<int64_t>{0x1234, 65535});
}

TEST_CASE("npy: integer and bool dtypes", "[npy]") {
  const NpyArray a = parse(i4_sample());
  CHECK(a.kind == 'i');
  CHECK(a.item_bytes == 4);
  CHECK(a.shape == std::vector<int64_t>{2, 3});
  CHECK(a.to_int64() == std::vector<int64_t>{1, -2, 3, 2147483647, -2147483648LL, 0});
  CHECK(a.to_double()[1] == -2.0);

  const std::vector<int64_t> big = {std::numeric_limits<int64_t>::min(), -1, 0, std::numeric_limits<int64_t>::max()};
  const NpyArray b = parse(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }", le_values(big)));
  CHECK(b.kind == 'i');
  CHECK(b.item_bytes == 8);
  CHECK(b.to_int64() == big);

  const NpyArray c = parse(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", {1, 0, 0, 1}));
  CHECK(c.kind == 'b');
  CHECK(c.item_bytes == 1);
  CHECK(c.to_int64() == std::vector<int64_t>{1, 0, 0, 1});
  CHECK(c.to_double() == std::vector<double>{1, 0, 0, 1});

  const NpyArray d = parse(npy("{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }", {0x80, 0x7F}));
  CHECK(d.to_int64() == std::vector<int64_t>{-128, 127});
  const NpyArray e = parse(npy("{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }",
                               le_values<uint64_t>({~uint64_t{0}})));
  CHECK(e.to_double()[0] == 18446744073709551615.0);
  REQUIRE_THROWS_WITH(e.to_int64(), Catch::Contains("does not fit in int64"));
  REQUIRE_THROWS_WITH(parse(f8_sample()).to_int64(), Catch::Contains("float dtype"));
}

TEST_CASE("npy: float16 and float64", "[npy]") {
  // 1.0, -2.0, 0.5, +inf, smallest subnormal 2^-24, max 65504, -0.0, NaN
  const NpyArray h = parse(npy("{'descr': '<f2', 'fortran_order': False, 'shape': (8,), }",
                               le_values<uint16_t>({0x3C00, 0xC000, 0x3800, 0x7C00, 0x0001, 0x7BFF, 0x8000, 0x7E00})));
  CHECK(h.kind == 'f');
  CHECK(h.item_bytes == 2);
  const std::vector<double> v = h.to_double();
  CHECK(v[0] == 1.0);
  CHECK(v[1] == -2.0);
  CHECK(v[2] == 0.5);
  CHECK(std::isinf(v[3]));
  CHECK(v[4] == std::ldexp(1.0, -24));
  CHECK(v[5] == 65504.0);
  CHECK((v[6] == 0.0 && std::signbit(v[6])));
  CHECK(std::isnan(v[7]));
  CHECK(h.to_float()[5] == 65504.0f);
  CHECK(parse(f8_sample()).to_double() == std::vector<double>{0.5, -1.25, 1e300});
}

TEST_CASE("npy: big-endian data is converted to little-endian", "[npy]") {
  // >f4 values 1.5 and -2.0, >i2 value 0x0102
  const NpyArray a = parse(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
                               {0x3F, 0xC0, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00}));
  CHECK(a.to_float() == std::vector<float>{1.5f, -2.0f});
  CHECK(a.data == Bytes{0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x00, 0xC0});
  const NpyArray b = parse(npy("{'descr': '>i2', 'fortran_order': False, 'shape': (1,), }", {0x01, 0x02}));
  CHECK(b.to_int64() == std::vector<int64_t>{0x0102});
}

TEST_CASE("npy: fortran_order arrays are reordered to C order", "[npy]") {
  // C-order [[0,1,2],[3,4,5]] stored column-major: 0,3,1,4,2,5
  const NpyArray a = parse(npy("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }",
                               le_values<int32_t>({0, 3, 1, 4, 2, 5})));
  CHECK(a.shape == std::vector<int64_t>{2, 3});
  CHECK(a.to_int64() == std::vector<int64_t>{0, 1, 2, 3, 4, 5});

  // 3-D (2,3,4): value = C linear index; Fortran position = i + 2*(j + 3*k)
  std::vector<int16_t> fort(24);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) fort[static_cast<size_t>(i + 2 * (j + 3 * k))] = static_cast<int16_t>(i * 12 + j * 4 + k);
  const NpyArray b = parse(npy("{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3, 4), }", le_values(fort)));
  std::vector<int64_t> expect(24);
  for (int i = 0; i < 24; ++i) expect[static_cast<size_t>(i)] = i;
  CHECK(b.to_int64() == expect);

  // Big-endian + Fortran together.
  const NpyArray c = parse(npy("{'descr': '>i2', 'fortran_order': True, 'shape': (2, 2), }",
                               {0, 1, 0, 3, 0, 2, 0, 4}));
  CHECK(c.to_int64() == std::vector<int64_t>{1, 2, 3, 4});
}

TEST_CASE("npy: 0-d and empty arrays", "[npy]") {
  const NpyArray s = parse(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", le_values<double>({3.25})));
  CHECK(s.shape.empty());
  CHECK(s.size() == 1);
  CHECK(s.to_double() == std::vector<double>{3.25});

  const NpyArray e = parse(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", {}));
  CHECK(e.shape == std::vector<int64_t>{0});
  CHECK(e.size() == 0);
  CHECK(e.to_float().empty());

  const NpyArray e2 = parse(npy("{'descr': '<i4', 'fortran_order': True, 'shape': (3, 0, 5), }", {}));
  CHECK(e2.size() == 0);
  CHECK(e2.data.empty());
  // A zero dimension makes huge other dimensions harmless (no overflow, nothing allocated).
  const NpyArray e3 = parse(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 0), }", {}));
  CHECK(e3.size() == 0);
}

TEST_CASE("npy: format versions 2.0 and 3.0", "[npy]") {
  for (int major : {2, 3}) {
    const NpyArray a = parse(npy(kI4Dict, le_values<int32_t>({1, 2, 3, 4, 5, 6}), major));
    CHECK(a.shape == std::vector<int64_t>{2, 3});
    CHECK(a.to_int64() == std::vector<int64_t>{1, 2, 3, 4, 5, 6});
  }
}

TEST_CASE("npy: header dict variants", "[npy]") {
  const Bytes data = le_values<int32_t>({7, 8, 9});
  for (const std::string dict : {
           "{'shape': (3,), 'fortran_order': False, 'descr': '<i4'}",
           "{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (3,),}",
           "{ 'fortran_order' :False,'shape':( 3 , ),'descr':'<i4' , }",
           "{'descr': '<i4', 'fortran_order': False, 'shape': (3L,), }",
           "{'descr': '<i4', 'fortran_order': False, 'shape': [3], }",
           "{'descr':'<i4','fortran_order':False,'shape':(3,)}\t\r",
           "{'descr': 'i4', 'fortran_order': False, 'shape': (3,), 'extra': None, }",
       }) {
    INFO(dict);
    CHECK(parse(npy(dict, data)).to_int64() == std::vector<int64_t>{7, 8, 9});
  }
  CHECK(parse(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 1,), }",
                  le_values<float>({1, 2, 3}))).shape == std::vector<int64_t>{1, 3, 1});
}

TEST_CASE("npy: errors", "[npy][errors]") {
  TempDir dir;
  SECTION("missing file") {
    REQUIRE_THROWS_AS(attnsim::io::read_npy(dir.file("nope.npy")), Error);
    REQUIRE_THROWS_WITH(attnsim::io::read_npy(dir.file("nope.npy")),
                        Catch::Contains("nope.npy") && Catch::Contains("no such file"));
    REQUIRE_THROWS_WITH(attnsim::io::read_npz(dir.file("nope.npz")), Catch::Contains("no such file"));
    REQUIRE_THROWS_WITH(attnsim::io::read_npy(dir.path.string()), Catch::Contains("is a directory"));
  }
  SECTION("bad magic") {
    write_file(dir.file("bad.npy"), Bytes{'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0});
    REQUIRE_THROWS_WITH(attnsim::io::read_npy(dir.file("bad.npy")),
                        Catch::Contains("bad.npy") && Catch::Contains("bad magic"));
    REQUIRE_THROWS_WITH(parse(Bytes{}), Catch::Contains("bad magic"));
    REQUIRE_THROWS_WITH(parse(Bytes{0x93, 'N', 'U', 'M', 'P', 'Y', 1}), Catch::Contains("truncated .npy header"));
  }
  SECTION("unsupported version") {
    Bytes b = i4_sample();
    b[6] = 4;
    REQUIRE_THROWS_WITH(parse(b), Catch::Contains("unsupported .npy format version 4.0") &&
                                      Catch::Contains("1.0, 2.0, 3.0"));
    b[6] = 1;
    b[7] = 1;
    REQUIRE_THROWS_WITH(parse(b), Catch::Contains("version 1.1"));
  }
  SECTION("truncated header and data") {
    Bytes b = i4_sample();
    b.resize(b.size() - 1);
    REQUIRE_THROWS_WITH(parse(b), Catch::Contains("data truncated") && Catch::Contains("needs 24 bytes") &&
                                      Catch::Contains("only 23"));
    b.resize(40);
    REQUIRE_THROWS_WITH(parse(b), Catch::Contains("truncated .npy header"));
    const Bytes whole = i4_sample();
    write_file(dir.file("short.npy"), Bytes(whole.begin(), whole.end() - 4));
    REQUIRE_THROWS_WITH(attnsim::io::read_npy(dir.file("short.npy")),
                        Catch::Contains("short.npy") && Catch::Contains("truncated"));
  }
  SECTION("malformed header dict") {
    const Bytes data = le_values<int32_t>({1});
    for (const std::string dict : {
             "", "descr", "{'descr': '<i4', 'fortran_order': False", "{'descr': '<i4' 'fortran_order': False}",
             "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), } junk", "{'descr: '<i4'}",
             "{'descr': '<i4', 'fortran_order': Maybe, 'shape': (1,)}", "{'descr': '<i4', 'shape': (1,)}",
             "{'descr': '<i4', 'fortran_order': False}", "{'descr': '<i4', 'fortran_order': 0, 'shape': (1,)}",
             "{'descr': '<i4', 'fortran_order': False, 'shape': 1}", "{'descr': '<i4', 'fortran_order': False, 'shape': ('a',)}",
             "{'descr': '<i4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
             "{'descr': '<i4', 'fortran_order': False, 'shape': (1,,)}", "{3: 4}",
             "{'descr': '<i4', 'fortran_order': False, 'shape': ((((((((((1,),),),),),),),),),)}",
         }) {
      INFO(dict);
      REQUIRE_THROWS_WITH(parse(npy(dict, data)), Catch::Contains("test.npy") &&
                                                      Catch::Contains("malformed .npy header dict"));
    }
  }
  SECTION("unsupported dtypes") {
    const Bytes data(64, 0);
    REQUIRE_THROWS_WITH(parse(npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", data)),
                        Catch::Contains("unsupported dtype '|O'") && Catch::Contains("object") &&
                            Catch::Contains("supported dtypes: bool"));
    REQUIRE_THROWS_WITH(parse(npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", data)),
                        Catch::Contains("complex"));
    REQUIRE_THROWS_WITH(parse(npy("{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }", data)),
                        Catch::Contains("strings"));
    REQUIRE_THROWS_WITH(parse(npy("{'descr': '<f16', 'fortran_order': False, 'shape': (1,), }", data)),
                        Catch::Contains("unsupported dtype '<f16'"));
    REQUIRE_THROWS_WITH(parse(npy("{'descr': '<i3', 'fortran_order': False, 'shape': (1,), }", data)),
                        Catch::Contains("unsupported dtype"));
    REQUIRE_THROWS_WITH(parse(npy("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }", data)),
                        Catch::Contains("structured"));
  }
  SECTION("negative and absurd shapes") {
    REQUIRE_THROWS_WITH(parse(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2, -1), }", {})),
                        Catch::Contains("negative dimension"));
    REQUIRE_THROWS_WITH(parse(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", {})),
                        Catch::Contains("exceeds the 8 GiB"));
    REQUIRE_THROWS_WITH(parse(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3000000000,), }", {})),
                        Catch::Contains("exceeds the 8 GiB"));
    // Exactly 8 GiB is allowed by the size guard; it then fails as truncated (without allocating).
    REQUIRE_THROWS_WITH(parse(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1073741824,), }", {})),
                        Catch::Contains("data truncated"));
  }
  SECTION("inconsistent hand-built arrays") {
    NpyArray a = attnsim::io::make_f4({2}, {1.f, 2.f});
    a.data.pop_back();
    REQUIRE_THROWS_WITH(a.to_double(), Catch::Contains("needs 8"));
    REQUIRE_THROWS_WITH(attnsim::io::write_npy(dir.file("x.npy"), a), Catch::Contains("needs 8"));
    a.kind = 'c';
    REQUIRE_THROWS_WITH(a.to_float(), Catch::Contains("invalid dtype"));
    REQUIRE_THROWS_WITH(attnsim::io::make_f4({2, 2}, {1.f}), Catch::Contains("1 values given"));
    REQUIRE_THROWS_WITH(attnsim::io::write_npy(dir.file("no/such/dir/x.npy"), attnsim::io::make_f4({1}, {1.f})),
                        Catch::Contains("cannot open for writing"));
  }
}

TEST_CASE("npz: stored, deflate and ZIP64 archives", "[npz]") {
  TempDir dir;
  for (const bool zip64 : {false, true}) {
    for (const uint16_t method : {uint16_t{0}, uint16_t{8}}) {
      INFO("zip64=" << zip64 << " method=" << method);
      ZipBuilder zb(zip64);
      zb.add("a.npy", i4_sample(), method);
      zb.add("sub/", {}, 0);  // directory entries are skipped
      zb.add("b.npy", f8_sample(), method);
      zb.add("zeros.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000,), }", Bytes(4000, 0)), method);
      zb.add("notes.txt", {'h', 'i'}, method);  // non-.npy members are ignored
      const std::string path = dir.file("t" + std::to_string(zip64) + std::to_string(method) + ".npz");
      write_file(path, zb.finish());
      const auto m = attnsim::io::read_npz(path);
      REQUIRE(m.size() == 3);
      CHECK(m.at("a").to_int64() == parse(i4_sample()).to_int64());
      CHECK(m.at("b").to_double() == std::vector<double>{0.5, -1.25, 1e300});
      CHECK(m.at("zeros").to_float() == std::vector<float>(1000, 0.f));
    }
  }
  ZipBuilder empty;
  CHECK(parse_npz(empty.finish()).empty());
}

TEST_CASE("npz: errors", "[npz][errors]") {
  TempDir dir;
  SECTION("not a zip") {
    write_file(dir.file("plain.npz"), Bytes(100, 'x'));
    REQUIRE_THROWS_WITH(attnsim::io::read_npz(dir.file("plain.npz")),
                        Catch::Contains("plain.npz") && Catch::Contains("not a .npz (zip) archive"));
    write_file(dir.file("array.npz"), i4_sample());
    REQUIRE_THROWS_WITH(attnsim::io::read_npz(dir.file("array.npz")), Catch::Contains("read_npy"));
    REQUIRE_THROWS_WITH(parse_npz(Bytes{}), Catch::Contains("not a .npz"));
  }
  SECTION("corrupted CRC") {
    for (const uint16_t method : {uint16_t{0}, uint16_t{8}}) {
      ZipBuilder zb;
      zb.add("a.npy", i4_sample(), method);
      Bytes b = zb.finish();
      b[14] ^= 0x01;  // CRC in the local header is not used; corrupt the central one
      const size_t cd = b.size() - 22 - 46 - 5;
      b[cd + 16] ^= 0x01;
      REQUIRE_THROWS_WITH(parse_npz(b), Catch::Contains("entry 'a.npy'") && Catch::Contains("CRC-32 mismatch"));
    }
    ZipBuilder zb;
    zb.add("a.npy", i4_sample(), 0);
    Bytes b = zb.finish();
    b[30 + 5 + 80] ^= 0x40;  // flip a payload bit instead
    REQUIRE_THROWS_WITH(parse_npz(b), Catch::Contains("CRC-32 mismatch"));
  }
  SECTION("unsupported compression") {
    ZipBuilder zb;
    zb.add("a.npy", i4_sample(), 12);  // bzip2
    REQUIRE_THROWS_WITH(parse_npz(zb.finish()), Catch::Contains("compression method 12") &&
                                                    Catch::Contains("stored (0) and deflate (8)"));
  }
  SECTION("encrypted entry") {
    ZipBuilder zb;
    zb.add("a.npy", i4_sample(), 0);
    Bytes b = zb.finish();
    b[b.size() - 22 - 46 - 5 + 8] |= 1;
    REQUIRE_THROWS_WITH(parse_npz(b), Catch::Contains("encrypted"));
  }
  SECTION("truncated archive and corrupt deflate data") {
    ZipBuilder zb;
    zb.add("a.npy", i4_sample(), 8);
    const Bytes good = zb.finish();
    Bytes cut(good.begin() + 20, good.end());  // central directory offsets now point wrong
    REQUIRE_THROWS_AS(parse_npz(cut), Error);
    Bytes bad = good;
    for (size_t i = 30 + 5; i < 30 + 5 + 20; ++i) bad[i] = 0xFF;
    REQUIRE_THROWS_WITH(parse_npz(bad), Catch::Contains("entry 'a.npy'"));
  }
  SECTION("broken .npy inside the archive names archive and member") {
    ZipBuilder zb;
    Bytes b = i4_sample();
    b.resize(b.size() - 4);
    zb.add("weights.npy", b, 8);
    REQUIRE_THROWS_WITH(parse_npz(zb.finish()), Catch::Contains("test.npz:weights.npy") &&
                                                    Catch::Contains("data truncated"));
  }
}

TEST_CASE("npy/npz: truncations and byte flips only ever throw attnsim::Error", "[npy][npz][fuzz]") {
  std::vector<std::pair<Bytes, bool>> seeds;  // (image, is_npz)
  seeds.push_back({i4_sample(), false});
  seeds.push_back({npy("{'descr': '>i2', 'fortran_order': True, 'shape': (2, 2), }", {0, 1, 0, 3, 0, 2, 0, 4}), false});
  seeds.push_back({npy(kI4Dict, le_values<int32_t>({1, 2, 3, 4, 5, 6}), 2), false});
  for (const bool zip64 : {false, true}) {
    ZipBuilder zb(zip64);
    zb.add("a.npy", i4_sample(), 0);
    zb.add("b.npy", f8_sample(), 8);
    seeds.push_back({zb.finish(), true});
  }
  auto attempt = [](const Bytes& b, bool is_npz) {
    try {
      if (is_npz) attnsim::io::parse_npz(b.data(), b.size(), "fuzz.npz");
      else attnsim::io::parse_npy(b.data(), b.size(), "fuzz.npy");
    } catch (const Error& e) {
      const std::string msg = e.what();
      CHECK(msg.find('\n') == std::string::npos);
      CHECK(msg.rfind("fuzz.np", 0) == 0);
    }
  };
  std::mt19937 rng(12345);
  for (const auto& [seed, is_npz] : seeds) {
    for (size_t len = 0; len <= seed.size(); ++len) {
      const Bytes prefix(seed.begin(), seed.begin() + static_cast<std::ptrdiff_t>(len));
      attempt(prefix, is_npz);
    }
    for (int iter = 0; iter < 3000; ++iter) {
      Bytes b = seed;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        const size_t at = rng() % b.size();
        b[at] = (rng() % 2) ? static_cast<uint8_t>(rng()) : static_cast<uint8_t>(b[at] ^ (1u << (rng() % 8)));
      }
      attempt(b, is_npz);
    }
  }
}

TEST_CASE("npz: FlexAttention block-mask fixtures (stored and compressed)", "[npz][fixtures]") {
  const fs::path dir = fixture_dir();
  for (const char* name : {"flex_blockmask_small.npz", "flex_blockmask_small_compressed.npz"}) {
    INFO(name);
    const auto m = attnsim::io::read_npz((dir / name).string());
    REQUIRE(m.size() == 6);
    for (const char* key : {"kv_num_blocks", "kv_indices", "full_kv_num_blocks", "full_kv_indices", "block_size"}) {
      INFO(key);
      CHECK(m.at(key).kind == 'i');
      CHECK(m.at(key).item_bytes == 4);
    }
    CHECK(m.at("seq_lengths").kind == 'i');
    CHECK(m.at("seq_lengths").item_bytes == 8);
    CHECK(m.at("kv_num_blocks").shape == std::vector<int64_t>{1, 2, 4});
    CHECK(m.at("full_kv_num_blocks").shape == std::vector<int64_t>{1, 2, 4});
    CHECK(m.at("kv_indices").shape == std::vector<int64_t>{1, 2, 4, 4});
    CHECK(m.at("full_kv_indices").shape == std::vector<int64_t>{1, 2, 4, 4});
    CHECK(m.at("block_size").to_int64() == std::vector<int64_t>{128, 128});
    CHECK(m.at("seq_lengths").to_int64() == std::vector<int64_t>{512, 512});

    // Causal: partial block = the diagonal, full blocks = kv < q.
    const auto kv_num = m.at("kv_num_blocks").to_int64(), kv_idx = m.at("kv_indices").to_int64();
    const auto full_num = m.at("full_kv_num_blocks").to_int64(), full_idx = m.at("full_kv_indices").to_int64();
    for (int h = 0; h < 2; ++h) {
      for (int q = 0; q < 4; ++q) {
        const size_t row = static_cast<size_t>(h * 4 + q);
        CHECK(kv_num[row] == 1);
        CHECK(kv_idx[row * 4] == q);
        REQUIRE(full_num[row] == q);
        for (int j = 0; j < q; ++j) CHECK(full_idx[row * 4 + static_cast<size_t>(j)] == j);
      }
    }
  }
}
