#include "meta/group_wire.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstring>

#include "autograd/errors.h"
#include "meta/communicator.h"

namespace mg::meta {

namespace {

constexpr char kMagic[4] = {'M', 'G', 'W', '1'};

class Writer {
 public:
  template <class T> void put(const T& v) { bytes(&v, sizeof v); }
  void bytes(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  std::vector<std::byte> take() { return std::move(out_); }

 private:
  std::vector<std::byte> out_;
};

class Reader {
 public:
  explicit Reader(std::span<const std::byte> in) : in_(in) {}
  template <class T> T get(const char* what) {
    T v;
    bytes(&v, sizeof v, what);
    return v;
  }
  void bytes(void* p, std::size_t n, const char* what) {
    if (n > in_.size() - at_)
      throw DataError(fmt::format("group results: the buffer ends at byte {} inside {} ({} more bytes expected)",
                                  in_.size(), what, n));
    if (n) std::memcpy(p, in_.data() + at_, n);
    at_ += n;
  }
  bool done() const { return at_ == in_.size(); }
  std::size_t at() const { return at_; }

 private:
  std::span<const std::byte> in_;
  std::size_t at_ = 0;
};

void put_tensor(Writer& w, const Tensor& t) {
  w.put<std::uint8_t>(t.defined() ? 1 : 0);
  if (!t.defined()) return;
  w.put(static_cast<std::uint8_t>(t.dtype()));
  w.put(static_cast<std::uint32_t>(t.ndim()));
  for (int d = 0; d < t.ndim(); ++d) w.put(static_cast<std::int64_t>(t.shape()[d]));
  w.bytes(t.raw_data(), t.nbytes());
}

Tensor get_tensor(Reader& r) {
  if (r.get<std::uint8_t>("a term's flag") == 0) return {};
  const auto dtype = r.get<std::uint8_t>("a term's dtype");
  if (dtype > static_cast<std::uint8_t>(DType::I64))
    throw DataError(fmt::format("group results: byte {}: {} is not a dtype", r.at() - 1, dtype));
  const auto ndim = r.get<std::uint32_t>("a term's rank");
  if (ndim > 64) throw DataError(fmt::format("group results: byte {}: a term of {} dimensions", r.at() - 4, ndim));
  std::vector<std::int64_t> dims(ndim);
  for (auto& d : dims) d = r.get<std::int64_t>("a term's shape");
  Tensor t(Shape(dims), static_cast<DType>(dtype));  // ShapeError for negative or overflowing dimensions
  r.bytes(t.mutable_raw_data(), t.nbytes(), "a term's elements");
  return t;
}

}  // namespace

std::vector<std::byte> encode_groups(const WireGroups& groups) {
  Writer w;
  w.bytes(kMagic, sizeof kMagic);
  w.put(static_cast<std::uint64_t>(groups.first));
  w.put<std::uint8_t>(groups.failed ? 1 : 0);
  if (groups.failed) {
    w.put(static_cast<std::uint8_t>(groups.error_kind));
    w.put(static_cast<std::uint64_t>(groups.error.size()));
    w.bytes(groups.error.data(), groups.error.size());
    return w.take();
  }
  w.put(static_cast<std::uint32_t>(groups.groups.size()));
  for (const GroupResult& g : groups.groups) {
    w.put(g.loss);
    w.put(static_cast<std::uint32_t>(g.metrics.size()));
    for (const std::vector<double>& row : g.metrics) {
      w.put(static_cast<std::uint32_t>(row.size()));
      w.bytes(row.data(), row.size() * sizeof(double));
    }
    w.put(static_cast<std::uint32_t>(g.terms.size()));
    for (const Tensor& t : g.terms) put_tensor(w, t);
  }
  return w.take();
}

WireGroups decode_groups(std::span<const std::byte> bytes) {
  Reader r(bytes);
  char magic[sizeof kMagic];
  r.bytes(magic, sizeof magic, "the header");
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0)
    throw DataError("group results: the buffer does not start with MGW1 (not written by encode_groups)");
  WireGroups out;
  out.first = static_cast<std::size_t>(r.get<std::uint64_t>("the header"));
  out.failed = r.get<std::uint8_t>("the header") != 0;
  if (out.failed) {
    out.error_kind = r.get<std::uint8_t>("the error");
    out.error.resize(r.get<std::uint64_t>("the error"));
    r.bytes(out.error.data(), out.error.size(), "the error");
  } else {
    out.groups.resize(r.get<std::uint32_t>("the header"));
    for (GroupResult& g : out.groups) {
      g.loss = r.get<double>("a loss");
      g.metrics.resize(r.get<std::uint32_t>("the metric rows"));
      for (std::vector<double>& row : g.metrics) {
        const auto n = r.get<std::uint32_t>("a metric row");
        if (n > bytes.size() / sizeof(double))
          throw DataError(fmt::format("group results: byte {}: a row of {} metrics in {} bytes", r.at() - 4, n,
                                      bytes.size()));
        row.resize(n);
        r.bytes(row.data(), n * sizeof(double), "a metric row");
      }
      g.terms.resize(r.get<std::uint32_t>("the terms"));
      for (Tensor& t : g.terms) t = get_tensor(r);
    }
  }
  if (!r.done())
    throw DataError(fmt::format("group results: {} bytes left over after byte {}", bytes.size() - r.at(), r.at()));
  return out;
}

int error_kind_of(const std::exception& e) {
  // Most derived first.
  if (dynamic_cast<const DivergenceError*>(&e)) return 10;
  if (dynamic_cast<const AnomalyError*>(&e)) return 9;
  if (dynamic_cast<const NonFiniteError*>(&e)) return 8;
  if (dynamic_cast<const CommError*>(&e)) return 11;
  if (dynamic_cast<const ShapeError*>(&e)) return 1;
  if (dynamic_cast<const DTypeError*>(&e)) return 2;
  if (dynamic_cast<const GradError*>(&e)) return 3;
  if (dynamic_cast<const TapeError*>(&e)) return 4;
  if (dynamic_cast<const DataError*>(&e)) return 5;
  if (dynamic_cast<const ValueError*>(&e)) return 6;
  if (dynamic_cast<const MemoryError*>(&e)) return 7;
  return 0;
}

void throw_error_kind(int kind, const std::string& message) {
  switch (kind) {
    case 1: throw ShapeError(message);
    case 2: throw DTypeError(message);
    case 3: throw GradError(message);
    case 4: throw TapeError(message);
    case 5: throw DataError(message);
    case 6: throw ValueError(message);
    case 7: throw MemoryError(message);
    case 8: throw NonFiniteError(message);
    case 9: throw AnomalyError(message);
    case 10: throw DivergenceError(message, -1);
    case 11: throw CommError(message);
    default: throw Error(message);
  }
}

}  // namespace mg::meta
