// The text workload of bench_meta (issue 17, item 6): MAML on CLINC150 episodes with the
// default text model of `metalearn train --dataset clinc150` (--model bag), and the export
// that lets bench/torch_ref_text.py time and check a PyTorch model on the same numbers.
//
//   model   ids [n, L] -> EmbeddingBag(V, 64) (mean of the token and hashed n-gram ids that
//           are not the pad 0) -> Linear(64, 128) -> ReLU -> Linear(128, 5); V = 2 + W +
//           2^15 (W words of the meta-training intents, datasets/tokenizer.h)
//   tasks   5-way 1-shot, 15 queries per class, from the meta-training intents of the pinned
//           stratified split, seed 1; meta-batch 8; α = 0.4; outer Adam β = 1e-3 (the text
//           defaults of tools/text_config.cpp)
//
// Note [Feeding PyTorch the same ids]: --export DIR writes what PyTorch needs to run the
// very same meta-iterations, as raw little-endian arrays listed in DIR/index.json (name,
// dtype, shape, file): the initial θ (float32, in parameters() order), every pre-sampled
// batch's padded token matrices and labels (int64, exactly as the tasks hold them), and
// the reference of the check: the mean query loss and meta-gradient of batch 0 computed by
// metagrad in float64 from the same θ (widened), for MAML (second order) and FOMAML with
// the run's --steps. bench/torch_ref_text.py reads them; nothing is re-tokenized in Python,
// so both sides see the same ids by construction.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "autograd/errors.h"
#include "datasets/clinc150.h"
#include "datasets/text_episodes.h"
#include "datasets/text_splits.h"
#include "meta/maml.h"
#include "nn/text_models.h"

namespace mg::bench {

struct TextWorkloadData {
  std::shared_ptr<const data::TextEpisodeSampler> tasks;
  std::int64_t vocab_size = 0;
};

// $METAGRAD_CLINC150, else ../shared/data/clinc150 (beside the checkout, as metalearn).
inline std::string clinc150_bench_root() {
  const char* env = std::getenv("METAGRAD_CLINC150");
  return env && *env ? std::string(env) : std::string("../shared/data/clinc150");
}

// The meta-training episodes of the stratified split and the tokenizer's id count.
inline TextWorkloadData load_text_workload(std::uint64_t seed) {
  const std::string root = clinc150_bench_root();
  if (!std::filesystem::is_directory(root))
    throw DataError(fmt::format("clinc150: {} is not a folder; set METAGRAD_CLINC150", root));
  const data::Clinc150 clinc = data::load_clinc150(root);
  const data::ClassSplit split = data::clinc150_intent_split(clinc);
  const data::TextClasses classes = data::group_by_label(clinc.examples);
  // Note [Vocabulary from meta-training classes] (datasets/tokenizer.h).
  const data::Tokenizer tok = data::Tokenizer::fit(data::training_texts(classes, split.train));
  const auto pool = std::make_shared<const data::TextPool>(classes, split.train, tok);
  return {std::make_shared<const data::TextEpisodeSampler>(pool, data::EpisodeConfig{5, 1, 15, seed}),
          tok.vocab_size()};
}

namespace detail {

struct ExportEntry {
  std::string name, dtype, file;
  std::vector<std::int64_t> shape;
};

inline void write_raw(const std::filesystem::path& path, const void* data, std::size_t bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw ValueError(fmt::format("bench_meta: --export: cannot write {}", path.string()));
  const bool ok = std::fwrite(data, 1, bytes, f) == bytes;
  if (std::fclose(f) != 0 || !ok)
    throw ValueError(fmt::format("bench_meta: --export: writing {} failed", path.string()));
}

// Writes `t` (float32 and int64 as they are; float64 too) and lists it.
inline void export_tensor(const std::filesystem::path& dir, std::vector<ExportEntry>& index, const std::string& name,
                          const Tensor& t) {
  const std::string file = name + ".bin";
  write_raw(dir / file, t.raw_data(), t.nbytes());
  index.push_back({name, std::string(dtype_name(t.dtype())), file, t.shape().vec()});
}

// A task's four tensors, named prefix + support_x, support_y, query_x, query_y.
inline void export_task(const std::filesystem::path& dir, std::vector<ExportEntry>& index, const std::string& prefix,
                        const data::Task& task) {
  export_tensor(dir, index, prefix + "support_x", task.support_x);
  export_tensor(dir, index, prefix + "support_y", task.support_y);
  export_tensor(dir, index, prefix + "query_x", task.query_x);
  export_tensor(dir, index, prefix + "query_y", task.query_y);
}

// The check's reference: `wide` (the same network built in float64) from θ widened, and
// MAML's (or first-order MAML's) mean query loss and meta-gradient on `batch`.
inline std::vector<Tensor> reference_meta_gradient(nn::Module& wide, const std::vector<Tensor>& theta,
                                                   const std::vector<data::Task>& batch, double inner_lr, int steps,
                                                   bool first_order, double* loss) {
  std::vector<Tensor> widened;
  for (const Tensor& t : theta) widened.push_back(t.to(DType::F64));
  wide.set_parameters(widened);
  meta::MamlOptions o;
  o.inner_lr = inner_lr;
  o.inner_steps = steps;
  o.first_order = first_order;
  o.meta_batch = static_cast<int>(batch.size());
  meta::StepStats stats;
  std::vector<Tensor> g = meta::Maml(wide, meta::classification(), o).meta_gradient(batch, &stats);
  *loss = stats.loss;
  return g;
}

// DIR/index.json: `fields` (JSON members, without braces), then the listed tensors.
inline void write_index(const std::filesystem::path& dir, const std::string& fields,
                        const std::vector<ExportEntry>& index) {
  std::string entries;
  for (const ExportEntry& e : index)
    entries += fmt::format(R"({}{{"name":"{}","dtype":"{}","file":"{}","shape":[{}]}})", entries.empty() ? "" : ",\n",
                           e.name, e.dtype, e.file, fmt::join(e.shape, ","));
  const std::string json = fmt::format("{{{},\n\"tensors\":[\n{}]}}\n", fields, entries);
  write_raw(dir / "index.json", json.data(), json.size());
}

}  // namespace detail

// Note [Feeding PyTorch the same ids]. `model` holds the initial θ (float32); `batches`
// are the pre-sampled batches in the order the timing cycles through them.
inline void export_text_workload(const std::filesystem::path& dir, const nn::Module& model,
                                 const std::vector<std::vector<data::Task>>& batches, double inner_lr, int steps,
                                 int meta_batch, std::int64_t vocab_size, std::uint64_t seed) {
  std::filesystem::create_directories(dir);
  std::vector<detail::ExportEntry> index;
  const std::vector<Tensor> theta = model.parameters();
  for (std::size_t j = 0; j < theta.size(); ++j) detail::export_tensor(dir, index, fmt::format("theta{}", j), theta[j]);
  for (std::size_t b = 0; b < batches.size(); ++b)
    for (std::size_t t = 0; t < batches[b].size(); ++t)
      detail::export_task(dir, index, fmt::format("b{}_t{}_", b, t), batches[b][t]);
  // The check's reference: the same network in float64 from the same θ.
  Generator gen(seed);
  nn::Sequential wide = nn::text_bag_model({.num_ids = vocab_size, .dtype = DType::F64}, gen);
  std::string losses;
  for (const bool first_order : {false, true}) {
    double loss = 0.0;
    const std::vector<Tensor> g =
        detail::reference_meta_gradient(wide, theta, batches[0], inner_lr, steps, first_order, &loss);
    const std::string algo = first_order ? "fomaml" : "maml";
    for (std::size_t j = 0; j < g.size(); ++j)
      detail::export_tensor(dir, index, fmt::format("{}_grad{}", algo, j), g[j]);
    losses += fmt::format(R"({}"{}":{:.17g})", losses.empty() ? "" : ",", algo, loss);
  }
  detail::write_index(dir,
                      fmt::format("\"vocab_size\":{},\"dim\":64,\"hidden\":128,\"ways\":5,\"inner_lr\":{},\"steps\":{},"
                                  "\"meta_batch\":{},\"batches\":{},\"num_params\":{},\"losses\":{{{}}}",
                                  vocab_size, inner_lr, steps, meta_batch, batches.size(), theta.size(), losses),
                      index);
}

}  // namespace mg::bench
