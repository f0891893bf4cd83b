#include "tools/rank_agreement.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "autograd/errors.h"
#include "datasets/hash.h"

namespace mg::tools {

namespace {

// FNV-1a continued over `n` more bytes.
std::uint64_t fnv_bytes(std::uint64_t h, const void* p, std::size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= b[i];
    h *= 1099511628211ull;
  }
  return h;
}

std::uint64_t tensor_hash(std::uint64_t h, const Tensor& t) { return fnv_bytes(h, t.raw_data(), t.nbytes()); }

// FNV-1a of a file's bytes; 0 when it cannot be read (then every rank says 0 alike).
std::uint64_t file_hash(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::uint64_t h = data::fnv1a64("");
  char buffer[1 << 16];
  while (in) {
    in.read(buffer, sizeof buffer);
    h = fnv_bytes(h, buffer, static_cast<std::size_t>(in.gcount()));
  }
  return in.bad() ? 0 : h;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

std::string describe_run(const Experiment& e, std::int64_t first_iteration) {
  std::string out;
  for (const auto& [key, value] : to_metadata(e.config)) out += fmt::format("{} = {}\n", key, value);
  out += fmt::format("binary hash = {:016x}\n", file_hash("/proc/self/exe"));
  out += fmt::format("compiler = {}\n", __VERSION__);
  out += fmt::format("byte order = {}\n", std::endian::native == std::endian::little ? "little" : "big");
  out += fmt::format("first iteration = {}\n", first_iteration);
  std::uint64_t h = data::fnv1a64("");
  for (const Tensor& p : e.model->parameters()) h = tensor_hash(h, p);
  for (const nn::NamedTensor& p : e.learner->extra_parameters()) h = tensor_hash(h, p.tensor);
  if (const nn::Optimizer* o = e.learner->optimizer())
    for (const nn::NamedTensor& s : o->state().tensors) h = tensor_hash(h, s.tensor);
  out += fmt::format("state hash = {:016x}\n", h);
  return out;
}

std::uint64_t run_hash(const std::string& description) { return data::fnv1a64(description); }

void check_ranks_agree(meta::Communicator& comm, const std::string& description) {
  const auto* b = reinterpret_cast<const std::byte*>(description.data());
  const std::vector<std::vector<std::byte>> all = comm.allgather({b, description.size()});
  const auto text = [&](int r) {
    return std::string(reinterpret_cast<const char*>(all[static_cast<std::size_t>(r)].data()),
                       all[static_cast<std::size_t>(r)].size());
  };
  const std::string zero = text(0);
  for (int r = 1; r < comm.size(); ++r) {
    const std::string theirs = text(r);
    if (theirs == zero) continue;
    const std::vector<std::string> a = lines(zero), z = lines(theirs);
    std::string where = "a line more or less";
    for (std::size_t i = 0; i < std::min(a.size(), z.size()); ++i) {
      if (a[i] == z[i]) continue;
      const auto eq = z[i].find(" = ");
      const std::string key = z[i].substr(0, eq);
      where = fmt::format("{} is {} there, {} on rank 0", key, eq == std::string::npos ? z[i] : z[i].substr(eq + 3),
                          a[i].find(" = ") == std::string::npos ? a[i] : a[i].substr(a[i].find(" = ") + 3));
      break;
    }
    throw ValueError(fmt::format("mpi: rank {} runs another configuration than rank 0 (hash {:016x} vs {:016x}): {}; "
                                 "start every rank with the same metalearn, flags and files",
                                 r, run_hash(theirs), run_hash(zero), where));
  }
}

}  // namespace mg::tools
