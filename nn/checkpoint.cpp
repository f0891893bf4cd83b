#include "nn/checkpoint.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "autograd/anomaly.h"
#include "autograd/atomic_file.h"
#include "autograd/errors.h"
#include "autograd/memory.h"
#include "autograd/tape.h"
#include "nn/crc32.h"

namespace mg::nn {

static_assert(std::endian::native == std::endian::little, "checkpoints are written little-endian");

namespace {

constexpr char kMagic[8] = {'M', 'G', 'C', 'K', 'P', 'T', '\0', '\0'};
constexpr std::size_t kHeaderBytes = 24;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw DataError(fmt::format("checkpoint: {}: {}", path, what));
}

// --- encoding --------------------------------------------------------------

class Writer {
 public:
  template <class T>
  void pod(T v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void raw(const void* data, std::size_t n) {
    const auto* p = static_cast<const std::byte*>(data);
    bytes_.insert(bytes_.end(), p, p + n);
  }
  void str(const std::string& s) {
    pod(static_cast<std::uint32_t>(s.size()));
    raw(s.data(), s.size());
  }
  void tensor(const NamedTensor& t) {
    str(t.name);
    pod(static_cast<std::uint8_t>(t.tensor.dtype()));
    pod(static_cast<std::uint8_t>(t.tensor.ndim()));
    for (std::int64_t d : t.tensor.shape()) pod(d);
    raw(t.tensor.raw_data(), t.tensor.nbytes());
  }
  std::vector<std::byte>& bytes() { return bytes_; }

 private:
  std::vector<std::byte> bytes_;
};

// Bounds-checked reads from the payload; running past the end means a corrupted record.
class Reader {
 public:
  Reader(std::span<const std::byte> bytes, const std::string& path) : bytes_(bytes), path_(path) {}
  template <class T>
  T pod(const char* what) {
    T v;
    std::memcpy(&v, take(sizeof(T), what), sizeof(T));
    return v;
  }
  std::string str(const char* what) {
    const auto n = pod<std::uint32_t>(what);
    const std::byte* p = take(n, what);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  NamedTensor tensor() {
    NamedTensor t;
    t.name = str("tensor name");
    const auto dtype = pod<std::uint8_t>("tensor dtype");
    const auto ndim = pod<std::uint8_t>("tensor rank");
    if (dtype > 2 || ndim > kMaxDims)
      fail(path_, fmt::format("corrupted: tensor '{}' has dtype code {} and rank {}", t.name, dtype, ndim));
    // Extents are bounded by the bytes left, and their product is computed with checked
    // multiplication (Note [Shape sizes] in autograd/shape.h), before anything is allocated.
    std::vector<std::int64_t> dims;
    std::int64_t nonzero = 1;  // product of the nonzero extents
    bool empty = false;
    for (int i = 0; i < ndim; ++i) {
      dims.push_back(pod<std::int64_t>("tensor extent"));
      const auto limit = static_cast<std::int64_t>(bytes_.size() - at_);
      if (dims.back() < 0 || dims.back() > limit)
        fail(path_, fmt::format("corrupted: tensor '{}' has extent {}", t.name, dims.back()));
      if (dims.back() == 0) empty = true;
      else if (!checked_mul(nonzero, dims.back(), &nonzero))
        fail(path_, fmt::format("corrupted: tensor '{}' has extents {} whose element count overflows", t.name,
                                fmt::join(dims, " x ")));
    }
    const std::uint64_t elements = empty ? 0 : static_cast<std::uint64_t>(nonzero);
    std::uint64_t bytes = 0;
    if (!checked_mul(elements, std::uint64_t{dtype_size(static_cast<DType>(dtype))}, &bytes) ||
        bytes > bytes_.size() - at_)
      fail(path_, fmt::format("corrupted: tensor '{}' of shape {} runs past the end of the payload", t.name,
                              Shape(dims).str()));
    t.tensor = Tensor(Shape(dims), static_cast<DType>(dtype));
    std::memcpy(t.tensor.mutable_raw_data(), take(t.tensor.nbytes(), "tensor data"), t.tensor.nbytes());
    return t;
  }
  bool done() const { return at_ == bytes_.size(); }

 private:
  const std::byte* take(std::size_t n, const char* what) {
    if (n > bytes_.size() - at_)
      fail(path_, fmt::format("corrupted: {} at payload byte {} runs past the end ({} bytes)", what, at_, bytes_.size()));
    const std::byte* p = bytes_.data() + at_;
    at_ += n;
    return p;
  }
  std::span<const std::byte> bytes_;
  const std::string& path_;
  std::size_t at_ = 0;
};

std::vector<std::byte> encode_payload(const Checkpoint& c) {
  Writer w;
  w.pod(c.step);
  w.pod(static_cast<std::uint32_t>(c.metadata.size()));
  for (const auto& [k, v] : c.metadata) {
    w.str(k);
    w.str(v);
  }
  w.pod(static_cast<std::uint32_t>(c.tensors.size()));
  for (const NamedTensor& t : c.tensors) w.tensor(t);
  w.str(c.optimizer.kind);
  w.pod(static_cast<std::uint32_t>(c.optimizer.scalars.size()));
  for (const auto& [k, v] : c.optimizer.scalars) {
    w.str(k);
    w.pod(v);
  }
  w.pod(static_cast<std::uint32_t>(c.optimizer.tensors.size()));
  for (const NamedTensor& t : c.optimizer.tensors) w.tensor(t);
  return std::move(w.bytes());
}

Checkpoint decode_payload(std::span<const std::byte> payload, const std::string& path) {
  Reader r(payload, path);
  Checkpoint c;
  c.step = r.pod<std::int64_t>("step");
  for (auto n = r.pod<std::uint32_t>("metadata count"); n > 0; --n) {
    std::string k = r.str("metadata key");
    c.metadata.emplace_back(std::move(k), r.str("metadata value"));
  }
  for (auto n = r.pod<std::uint32_t>("tensor count"); n > 0; --n) c.tensors.push_back(r.tensor());
  c.optimizer.kind = r.str("optimizer kind");
  for (auto n = r.pod<std::uint32_t>("optimizer scalar count"); n > 0; --n) {
    std::string k = r.str("optimizer scalar name");
    c.optimizer.scalars.emplace_back(std::move(k), r.pod<double>("optimizer scalar"));
  }
  for (auto n = r.pod<std::uint32_t>("optimizer tensor count"); n > 0; --n) c.optimizer.tensors.push_back(r.tensor());
  if (!r.done()) fail(path, "corrupted: bytes left over after the last record");
  return c;
}

// --- files -----------------------------------------------------------------

struct FileCloser {
  int fd;
  ~FileCloser() { ::close(fd); }
};

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file";
}

// Reads up to n bytes (fewer only at the end of the file).
std::size_t read_up_to(int fd, std::byte* out, std::size_t n, const std::string& path) {
  std::size_t at = 0;
  while (at < n) {
    const ssize_t got = ::read(fd, out + at, n - at);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(path, fmt::format("cannot read: {}", std::strerror(errno)));
    if (got == 0) break;
    at += static_cast<std::size_t>(got);
  }
  return at;
}

}  // namespace

const std::string& Checkpoint::meta(const std::string& key) const {
  for (const auto& [k, v] : metadata)
    if (k == key) return v;
  throw DataError(fmt::format("checkpoint: no metadata entry '{}'", key));
}

void write_checkpoint(const std::string& path, const Checkpoint& c) {
  const std::vector<std::byte> payload = encode_payload(c);
  Writer file;
  file.raw(kMagic, sizeof kMagic);
  file.pod(kCheckpointVersion);
  file.pod(crc32(payload));
  file.pod(static_cast<std::uint64_t>(payload.size()));
  file.raw(payload.data(), payload.size());

  // Note [One atomic writer] (autograd/atomic_file.h). <path>.tmp replaces a stale one
  // left by a crash; a failed close or folder sync is accepted (the file is whole).
  const std::string tmp = path + ".tmp";
  write_file_atomically(path, tmp, file.bytes(), [&](const WriteFailure& f) {
    const char* reason = std::strerror(f.error);
    switch (f.step) {
      case WriteStep::Create: fail(tmp, fmt::format("cannot create: {}", reason));
      case WriteStep::Write: fail(tmp, fmt::format("cannot write: {}", reason));
      case WriteStep::Sync: fail(tmp, fmt::format("cannot fsync: {}", reason));
      case WriteStep::Rename: fail(path, fmt::format("cannot rename {} over it: {}", tmp, reason));
      case WriteStep::Close:
      case WriteStep::SyncFolder: return;
    }
  });
}

Checkpoint read_checkpoint(const std::string& path) {
  // Note [Reading a checkpoint]: the header is read and checked (magic, version, payload
  // length against the file's size, the length against the machine's memory) before any
  // of the body is read, so that a device, an endless or an enormous file is refused
  // up front instead of being read whole. O_NONBLOCK: opening a FIFO must not wait for
  // a writer; the file kind is refused right after.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  const FileCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) fail(path, fmt::format("cannot open: not a regular file ({})", file_kind(st.st_mode)));
  const auto size = static_cast<std::uint64_t>(st.st_size);

  std::array<std::byte, kHeaderBytes> header{};
  const std::size_t got = read_up_to(fd, header.data(), kHeaderBytes, path);
  if (got < kHeaderBytes)
    fail(path, fmt::format("truncated: the header needs {} bytes, the file has {}", kHeaderBytes, got));
  if (std::memcmp(header.data(), kMagic, sizeof kMagic) != 0) fail(path, "not a metagrad checkpoint (bad magic)");
  std::uint32_t version = 0, stored_crc = 0;
  std::uint64_t length = 0;
  std::memcpy(&version, header.data() + 8, 4);
  std::memcpy(&stored_crc, header.data() + 12, 4);
  std::memcpy(&length, header.data() + 16, 8);
  if (version != kCheckpointVersion)
    fail(path, fmt::format("wrong version: format version {} is not supported (this build reads version {})", version,
                           kCheckpointVersion));
  const std::uint64_t have = size > kHeaderBytes ? size - kHeaderBytes : 0;
  if (length > have)
    fail(path, fmt::format("truncated: the header promises {} payload bytes, the file has {}", length, have));
  if (length < have) fail(path, fmt::format("corrupted: {} unexpected bytes after the payload", have - length));
  // The payload is held once, and its tensors once more after decoding.
  check_memory("checkpoint", fmt::format("{}: its payload of {} bytes (read and decoded)", path, length),
               saturating_mul(length, 2));

  std::vector<std::byte> payload(static_cast<std::size_t>(length));
  const std::size_t read = read_up_to(fd, payload.data(), payload.size(), path);
  if (read < payload.size())
    fail(path, fmt::format("truncated: the header promises {} payload bytes, the file has {}", length, read));
  const std::uint32_t crc = crc32(payload);
  if (crc != stored_crc)
    fail(path, fmt::format("corrupted: checksum mismatch (stored {:#010x}, computed {:#010x})", stored_crc, crc));
  return decode_payload(payload, path);
}

namespace {

// A diverged model is not worth keeping, and it would replace the last good one.
void refuse_non_finite(const std::string& path, const std::vector<NamedTensor>& tensors, const char* whose) {
  for (const NamedTensor& t : tensors)
    if (t.tensor.defined() && !all_finite(t.tensor))
      throw NonFiniteError(fmt::format("checkpoint: {}: {}{} holds {}; not written (the file keeps its previous "
                                       "contents)",
                                       path, whose, t.name, non_finite_kind(t.tensor)));
}

}  // namespace

void check_finite_state(const std::string& path, const Module& model, const Optimizer* optimizer,
                        const std::vector<NamedTensor>& extra) {
  refuse_non_finite(path, model.named_parameters(), "");
  refuse_non_finite(path, model.named_buffers(), "");
  refuse_non_finite(path, extra, "");
  if (optimizer) refuse_non_finite(path, optimizer->state().tensors, "optimizer state ");
}

void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer, std::int64_t step,
                     std::vector<std::pair<std::string, std::string>> metadata, const std::vector<NamedTensor>& extra) {
  check_finite_state(path, model, optimizer, extra);
  Checkpoint c;
  c.step = step;
  c.metadata = std::move(metadata);
  c.tensors = model.named_parameters();
  for (NamedTensor& b : model.named_buffers()) c.tensors.push_back(std::move(b));
  c.tensors.insert(c.tensors.end(), extra.begin(), extra.end());
  if (optimizer) c.optimizer = optimizer->state();
  write_checkpoint(path, c);
}

Checkpoint load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer,
                           const std::vector<NamedTensor>& extra) {
  Checkpoint c = read_checkpoint(path);
  std::map<std::string, const Tensor*> in_file;
  for (const NamedTensor& t : c.tensors) in_file[t.name] = &t.tensor;
  std::vector<NamedTensor> targets = model.named_parameters();
  for (NamedTensor& b : model.named_buffers()) targets.push_back(std::move(b));
  targets.insert(targets.end(), extra.begin(), extra.end());
  // Check everything first, so that a failed load leaves the model untouched.
  for (const NamedTensor& t : targets) {
    const auto it = in_file.find(t.name);
    if (it == in_file.end()) fail(path, fmt::format("parameter '{}' is missing", t.name));
    const Tensor& saved = *it->second;
    if (saved.shape() != t.tensor.shape() || saved.dtype() != t.tensor.dtype())
      fail(path, fmt::format("shape mismatch: parameter '{}' is {} {} in the file, the model has {} {}", t.name,
                             saved.shape().str(), dtype_name(saved.dtype()), t.tensor.shape().str(),
                             dtype_name(t.tensor.dtype())));
    in_file.erase(it);
  }
  if (!in_file.empty()) fail(path, fmt::format("parameter '{}' is not in the model", in_file.begin()->first));
  if (optimizer && c.optimizer.kind.empty()) fail(path, "no optimizer state was saved");
  if (optimizer) {
    try {
      optimizer->load_state(c.optimizer);
    } catch (const Error& e) {
      fail(path, fmt::format("optimizer state does not fit: {}", e.what()));
    }
  }
  NoGradGuard no_grad;
  for (const NamedTensor& t : c.tensors) in_file[t.name] = &t.tensor;
  for (NamedTensor& t : targets) {
    std::memcpy(t.tensor.mutable_raw_data(), in_file.at(t.name)->raw_data(), t.tensor.nbytes());
  }
  return c;
}

}  // namespace mg::nn
