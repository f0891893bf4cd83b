// The peak tensor memory of a MAML meta-iteration, from the model and the settings.
//
// Symbols: k inner steps; B tasks per meta-batch; a task group of T tasks (a stack of
// T tasks for models that support stacks, Note [Task stacks] in nn/module.h; else T = 1)
// runs n_s support and n_q query examples per task, so a pass has N = T·n examples;
// P parameters (P_j of tensor j), S bytes per value (4 for float32).
//
// Note [What a meta-iteration keeps]
// A task group's meta-gradient (meta/maml.cpp, query_gradient) records on one tape:
//   for each inner step i = 1..k:  forward of the support set at θ'_{i−1}       F(N_s)
//                                  its gradient g_i, recorded (second order)     R(N_s)
//                                  θ'_i = θ'_{i−1} − α·g_i
//   the forward of the query set at θ'_k                                           F(N_q)
//   grad() of the query loss back to θ                                     (the meta-backward)
// and the TapeScope frees it all when the group's gradient is taken. Nothing on the tape
// is freed before that, so the memory grows to the meta-backward. What each piece keeps
// is what its ops save for their backward (Save::... in the op structs of autograd/):
//   F, per layer:  Linear    its input x and W (matmul saves both); its output is new
//                  ReLU      its output (Save::Output)
//                  Conv2d    depends on the layout conv2d picks (autograd/ops_vision.cpp):
//                            columns per image with [W | b]: the columns [N, K+1, L] and
//                            [W | b]; folded or per-image conv_columns: the input x and W,
//                            never the columns (Note [conv columns not saved]); an image
//                            no larger than the window: x and the [F·L, C·H·W] matrix
//                  BatchNorm2d  its input x (channel_normalize) and the [2, C] statistics;
//                            with the fused max-pool the normalised tensor is freed
//                            (Note [pooling by the normaliser's input], nn/batchnorm.cpp)
//                  the loss  cross-entropy keeps the logits, exp(x − m), the log-softmax,
//                            m and the sum: 2C + 2 values per example; MSE keeps pred − y
//                  A layer's output is kept when the next layer saves its input, or the
//                  layer saves its own output (ReLU); the query pass's prediction is held
//                  by query_gradient until its gradient is taken.
//   R, per layer (the backward formulas run with recording on, so what *they* save stays):
//                  Linear    the gradient of its output (both matmuls of its backward save it)
//                  ReLU      the gradient of its output (relu_grad saves it)
//                  Conv2d    the gradient of its output, or (folded columns) the permuted copy
//                            of it that conv_input_grad and conv_weight_grad save
//                  BatchNorm2d  with the pool: max_pool_scatter's full-size result, which
//                            channel_dot and channel_affine2 save (the pooled gradient is not
//                            kept: the scatter saves only its keys); without: the gradient of
//                            its output. Plus 12 per-channel vectors (sum_g, the [2, C]
//                            moments, μ, var + ε, 1/σ, two differences, three products and
//                            a scaled one: Note [batch norm in one op], autograd/ops_channel.cpp)
//                  the loss  the gradient of the mean, broadcast (C + 1 values per example
//                            for cross-entropy, the output's for MSE)
//                  First order records nothing here: R = 0.
//   θ'_i           the update is sub(θ'_{i−1}, mul_scalar(g_i, α)); neither saves anything, so
//                  of θ'_1..θ'_{k−1} only the tensors the next forward saves stay (a Linear's
//                  W, a conv_columns W, batch norm's γ and β; biases and a conv matrix's W
//                  are not saved); θ'_k is held whole until the group's gradient is taken.
//                  θ'_0 is θ itself, or for a stack θ broadcast to T copies (alive whole
//                  while the inner loop runs, saved parts after).
//   persistent     θ, Adam's m and v (2P; after the first iteration), the sum of the earlier
//                  groups' meta-gradients (P), the meta-batch's tasks (sampled up front) and,
//                  for a stack, its stacked copy of the data.
// The peak is the largest of three moments:
//   (A) the last inner step's update: k forwards (and k recorded gradients) on the tape, g_k
//       whole, θ'_k written tensor by tensor, each through a temporary α·g_j;
//   (Q) the meta-backward of the query pass at its largest layer: the gradients that
//       layer's backward holds at once (e.g. a pooled block: the pooled gradient and the
//       full-size scatter of it; relu's and batch norm's backward write in place, Note
//       [donated gradients] in autograd/tape.h; a conv_columns layer: the input's gradient,
//       the weight's, and the columns of one chunk of images, Note [conv in chunks] in
//       autograd/kernels/conv_gemm.cpp, whose size conv_chunk_bytes() sets), plus the
//       gradients of the θ'_k tensors of the layers above it;
//   (D) second order: the meta-backward through the last update: ∂/∂θ'_k whole, and the
//       gradients of g_k made so far (they wait for the sweep to reach the recorded inner
//       gradient), with the negation of the tensor being processed.
// Not modelled: the double backward through the recorded inner gradients (support-sized,
// below (Q) when n_q >= n_s, as in the papers' settings), and per-channel and scalar
// temporaries (a few KB).
#include "meta/memory_prediction.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "autograd/errors.h"
#include "autograd/kernels/conv_gemm.h"
#include "autograd/kernels/sgemm.h"
#include "autograd/kernels/worker_pool.h"
#include "meta/task_group.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/activations.h"
#include "nn/linear.h"
#include "nn/pool.h"
#include "nn/sequential.h"

namespace mg::meta {

namespace {

// One layer's costs in values: per example (times a pass's N) or per pass.
struct LayerCost {
  std::string label;
  std::int64_t in = 0, out = 0;       // values per example
  bool keeps_output = false;          // it saves its own result (ReLU)
  bool saves_input = false;           // its forward's ops save its input
  std::int64_t fwd_extra = 0;         // per example: other tensors its forward keeps
  std::int64_t fwd_fixed = 0;         // per pass
  bool saves_grad = false;            // its recorded backward keeps the gradient of its output
  std::int64_t rec_extra = 0;         // per example: other tensors its recorded backward keeps
  std::int64_t rec_fixed = 0;         // per pass
  std::int64_t bwd_peak = 0;          // per example: gradients alive at its meta-backward's largest moment
  std::int64_t bwd_fixed = 0;         // per pass (a weight's gradient, a conv matrix's)
  std::int64_t chunk_image = 0;       // conv_columns: one image's columns, K·L (its scratch: chunk_values)
  std::int64_t bwd_chunk_base = 0;    // per example: what its backward holds beside the scratch
  std::int64_t macs_image = 0;        // conv_columns: its GEMMs' multiply-adds per image, F·K·L
  bool input_grad = false;            // conv_columns: it makes its input's gradient (split by images)
  std::vector<std::int64_t> params;   // sizes of its parameter tensors, in order
  std::vector<bool> params_saved;     // whether its forward keeps each
};

std::int64_t product(const std::vector<std::int64_t>& dims) {
  return std::accumulate(dims.begin(), dims.end(), std::int64_t{1}, std::multiplies<>());
}

std::string dims_str(const std::vector<std::int64_t>& dims) { return Shape(dims).str(); }

constexpr const char* kCovered =
    "covered are Sequential models of Linear, Conv2d, BatchNorm2d (batch statistics), ReLU and Flatten";

LayerCost linear_cost(std::size_t i, nn::Linear& layer, std::vector<std::int64_t>& dims, bool grad_in) {
  const Shape w = layer.weight().shape();
  if (dims.size() != 1 || dims[0] != w[1])
    throw ShapeError(fmt::format("memory prediction: layer {} (Linear) takes examples of [{}], got {}", i, w[1],
                                 dims_str(dims)));
  LayerCost c;
  c.label = fmt::format("{} Linear {} -> {}", i, w[1], w[0]);
  c.in = w[1], c.out = w[0];
  c.saves_input = true;
  c.saves_grad = true;
  c.bwd_peak = c.out + (grad_in ? c.in : 0);  // its gradient in, the input's out (matmul)
  c.bwd_fixed = w[0] * w[1];                  // and the weight's
  for (const Tensor& p : layer.parameters()) c.params.push_back(p.numel());
  c.params_saved = {true, false};  // W by matmul; the bias by nothing (add saves nothing)
  c.params_saved.resize(c.params.size());
  dims = {w[0]};
  return c;
}

LayerCost conv_cost(std::size_t i, nn::Conv2d& layer, std::vector<std::int64_t>& dims, bool grad_in) {
  const Shape w = layer.weight().shape();
  if (dims.size() != 3 || dims[0] != w[1])
    throw ShapeError(fmt::format("memory prediction: layer {} (Conv2d) takes examples of [{}, H, W], got {}", i, w[1],
                                 dims_str(dims)));
  const std::int64_t f = w[0], ch = w[1], kh = w[2], kw = w[3], h = dims[1], wd = dims[2];
  const std::int64_t s = layer.options().stride, p = layer.options().padding;
  const std::int64_t oh = (h + 2 * p - kh) / s + 1, ow = (wd + 2 * p - kw) / s + 1;
  const std::int64_t l = oh * ow, k = ch * kh * kw, in = ch * h * wd;
  const bool bias = layer.parameters().size() == 2;
  LayerCost c;
  c.in = in, c.out = f * l;
  for (const Tensor& t : layer.parameters()) c.params.push_back(t.numel());
  c.params_saved.assign(c.params.size(), false);
  const std::string name = fmt::format("{} Conv2d {} -> {} {}x{} on {}x{}", i, ch, f, kh, kw, h, wd);
  const std::int64_t g_in = grad_in ? in : 0;
  if (h * wd <= kh * kw) {  // Note [conv2d as one matrix]
    c.label = name + " (one matrix)";
    c.saves_input = true;
    c.fwd_fixed = f * l * in;  // M, saved by the matmul
    c.saves_grad = true;
    c.bwd_peak = c.out + g_in;
    c.bwd_fixed = f * l * in;  // M's gradient, before conv_matrix_fold
  } else if (k < l && 2 * k < f) {  // per-image columns; the bias rides in the GEMM
    c.label = name + " (columns per image)";
    c.fwd_extra = (k + (bias ? 1 : 0)) * l;  // [cols; 1], saved by matmul_shared
    c.fwd_fixed = bias ? f * (k + 1) : 0;    // [W | b], a new tensor
    c.params_saved[0] = !bias;               // without a bias matmul_shared saves a view of W
    c.saves_grad = true;
    c.bwd_peak = c.out + f * (k + (bias ? 1 : 0)) + (grad_in ? (k + (bias ? 1 : 0)) * l + in : 0);
  } else {
    // conv_columns: its backward makes the input's gradient, then the weight's while that
    // is alive, each GEMM over a chunk of images' columns at a time (Note [conv in chunks]).
    c.saves_input = true;
    c.params_saved[0] = true;
    c.chunk_image = k * l;
    c.macs_image = f * k * l;
    c.input_grad = grad_in;
    c.bwd_chunk_base = c.out + g_in;
    c.bwd_fixed = f * k;
    if (k < l) {
      c.label = name + " (conv_columns per image)";
      c.saves_grad = true;
    } else {  // folded, then bias and permute
      c.label = name + " (folded conv_columns)";
      c.rec_extra = c.out;      // the permuted gradient both conv gradients save
      c.bwd_peak = 2 * c.out;   // permute's backward: the gradient and its permuted copy
    }
  }
  dims = {f, oh, ow};
  return c;
}

LayerCost batch_norm_cost(std::size_t i, nn::BatchNorm2d& layer, std::vector<std::int64_t>& dims) {
  if (layer.options().mode != nn::BatchNormMode::Batch)
    throw ValueError(fmt::format("memory prediction: layer {} is a BatchNorm2d with running statistics; {}", i,
                                 kCovered));
  const std::int64_t ch = layer.weight().numel();
  if ((dims.size() != 1 && dims.size() != 3) || dims[0] != ch)
    throw ShapeError(fmt::format("memory prediction: layer {} (BatchNorm2d) takes examples of [{}, ...], got {}", i,
                                 ch, dims_str(dims)));
  LayerCost c;
  c.in = product(dims);
  const int pool = layer.options().max_pool;
  c.label = fmt::format("{} BatchNorm2d {}{}", i, ch, pool > 0 ? fmt::format(" + max-pool {}", pool) : "");
  std::vector<std::int64_t> out = dims;
  if (pool > 0) {
    if (dims.size() != 3 || dims[1] < pool || dims[2] < pool)
      throw ShapeError(fmt::format("memory prediction: layer {} (BatchNorm2d) pools {}x{} windows of {}", i, pool,
                                   pool, dims_str(dims)));
    out = {ch, (dims[1] - pool) / pool + 1, (dims[2] - pool) / pool + 1};
    bool positive = true;  // the pool's keys are x while every γ > 0, else the normalised y
    for (double g : layer.weight().to_vector<double>()) positive = positive && g > 0.0;
    if (!positive) c.fwd_extra = c.in;
  }
  c.out = product(out);
  c.saves_input = true;
  c.fwd_fixed = 2 * ch;  // the [2, C] statistics, channel_normalize's fourth input
  c.saves_grad = pool == 0;
  c.rec_extra = pool > 0 ? c.in : 0;  // max_pool_scatter's result
  c.rec_fixed = 12 * ch;
  c.bwd_peak = pool > 0 ? c.in + c.out : c.out;  // the scatter and the pooled gradient; else in place
  c.params = {ch, ch};
  c.params_saved = {true, true};
  dims = out;
  return c;
}

std::vector<LayerCost> analyse(nn::Module& model, const Shape& example, std::int64_t& outputs) {
  auto* seq = dynamic_cast<nn::Sequential*>(&model);
  if (!seq) throw ValueError(fmt::format("memory prediction: the model is a {}; {}", model.kind(), kCovered));
  std::vector<std::int64_t> dims = example.vec();
  std::vector<LayerCost> layers;
  bool grad_in = false;  // the layer's input depends on parameters (so its gradient is computed)
  for (std::size_t i = 0; i < seq->size(); ++i) {
    nn::Module& m = (*seq)[i];
    if (dynamic_cast<nn::Flatten*>(&m)) {
      dims = {product(dims)};  // a view: costs nothing
      continue;
    }
    if (auto* lin = dynamic_cast<nn::Linear*>(&m)) {
      layers.push_back(linear_cost(i, *lin, dims, grad_in));
    } else if (auto* conv = dynamic_cast<nn::Conv2d*>(&m)) {
      layers.push_back(conv_cost(i, *conv, dims, grad_in));
    } else if (auto* bn = dynamic_cast<nn::BatchNorm2d*>(&m)) {
      layers.push_back(batch_norm_cost(i, *bn, dims));
    } else if (dynamic_cast<nn::ReLU*>(&m)) {
      LayerCost c;
      c.label = fmt::format("{} ReLU", i);
      c.in = c.out = product(dims);
      c.keeps_output = true;
      c.saves_grad = true;
      c.bwd_peak = c.out;  // relu's backward writes into its gradient
      layers.push_back(c);
    } else {
      throw ValueError(fmt::format("memory prediction: layer {} is a {}; {}", i, m.kind(), kCovered));
    }
    grad_in = grad_in || !layers.back().params.empty();
  }
  if (layers.empty()) throw ValueError(fmt::format("memory prediction: the model has no layers; {}", kCovered));
  outputs = product(dims);
  return layers;
}

void check_setting(const MemorySetting& s) {
  auto at_least = [](const char* what, std::int64_t value, std::int64_t low) {
    if (value < low)
      throw ValueError(fmt::format("memory prediction: {} must be >= {}, got {}", what, low, value));
  };
  at_least("inner_steps", s.inner_steps, 1);
  at_least("meta_batch", s.meta_batch, 1);
  at_least("task_stacks", s.task_stacks, 0);
  at_least("support", s.support, 1);
  at_least("query", s.query, 1);
}

// The moments of one task group of T tasks (Note [What a meta-iteration keeps]).
class GroupModel {
 public:
  GroupModel(const std::vector<LayerCost>& layers, std::int64_t outputs, const MemorySetting& s, std::int64_t bytes,
             std::int64_t tasks)
      : layers_(layers), outputs_(outputs), s_(s), bytes_(bytes), tasks_(tasks) {
    for (const LayerCost& c : layers)
      for (std::size_t j = 0; j < c.params.size(); ++j) {
        order_.push_back(c.params[j]);
        if (c.params_saved[j]) saved_ += c.params[j];
      }
    all_ = std::accumulate(order_.begin(), order_.end(), std::int64_t{0});
  }

  // (A), (Q), (D) with the persistent terms given.
  std::vector<MemoryMoment> moments(const std::vector<MemoryTerm>& persistent, bool stacked) const {
    const int k = s_.inner_steps;
    const std::int64_t t = tasks_, ns = t * s_.support, nq = t * s_.query;
    const bool second = !s_.first_order;
    std::vector<MemoryMoment> out;

    MemoryMoment a{"the last inner step's update θ'_k = θ'_{k−1} − α·g_k", persistent};
    tape_terms(a, k, ns, 0, second);
    // θ'_0 of a stack is held by its task group (meta/task_group.h) through the loop. First
    // order keeps no other earlier θ'_j: the forwards that saved them were rewound.
    if (stacked)
      a.terms.push_back({fmt::format("θ'_0: θ broadcast to the {} tasks of the stack, whole", t), t * all_});
    if (second && k >= 3)
      a.terms.push_back({fmt::format("θ'_1..θ'_{}: the tensors the next forward saves", k - 2), (k - 2) * t * saved_});
    if (k >= 2) a.terms.push_back({fmt::format("θ'_{}: the inner loop's current weights, whole", k - 1), t * all_});
    a.terms.push_back({"g_k: the inner gradient, whole", t * all_});
    std::int64_t written = 0, worst = 0;  // θ'_k up to tensor j, and α·g_j
    for (const std::int64_t pj : order_) worst = std::max(worst, (written += pj) + pj);
    a.terms.push_back({"θ'_k written up to its largest tensor j, and α·g_j", t * worst});
    out.push_back(a);

    MemoryMoment q{"", persistent};
    tape_terms(q, k, ns, nq, second);
    theta_terms(q, k, stacked);
    std::int64_t best = -1, above = 0;
    std::size_t at = 0;
    std::int64_t above_at = 0;
    for (std::size_t l = layers_.size(); l-- > 0;) {
      const std::int64_t v = backward_values(layers_[l], nq) + above * t;
      if (v > best) best = v, at = l, above_at = above;
      for (const std::int64_t pj : layers_[l].params) above += pj;
    }
    const LayerCost& c = layers_[at];
    q.name = fmt::format("the query pass's backward at layer {}", c.label);
    q.terms.push_back({fmt::format("layer {}'s backward: the gradients it holds at once", c.label),
                       backward_values(c, nq)});
    q.terms.push_back({"∂/∂θ'_k of the layers above it", above_at * t});
    out.push_back(q);

    if (second) {
      MemoryMoment d{"the meta-backward through the last inner update", persistent};
      tape_terms(d, k, ns, nq, true);
      theta_terms(d, k, stacked);
      d.terms.push_back({"∂/∂θ'_k, whole (passed on to θ'_{k−1})", t * all_});
      std::int64_t done = 0, most = 0;  // ∂/∂g_j so far, from the last tensor back, and −∂/∂θ'_k[j]
      for (auto j = order_.rbegin(); j != order_.rend(); ++j) most = std::max(most, (done += *j) + *j);
      d.terms.push_back({"∂/∂g_k made so far, and the negated gradient of the tensor being processed", t * most});
      out.push_back(d);
    }
    for (MemoryMoment& m : out)  // the terms above were counted in values
      for (std::size_t i = persistent.size(); i < m.terms.size(); ++i) m.terms[i].bytes *= bytes_;
    return out;
  }

 private:
  // What a pass of n examples keeps per layer (forward), in values.
  std::int64_t forward_values(std::size_t l, std::int64_t n, bool query) const {
    const LayerCost& c = layers_[l];
    const bool last = l + 1 == layers_.size();
    const bool next_saves = last ? s_.classification : layers_[l + 1].saves_input;
    const bool kept = c.keeps_output || next_saves || (last && query);
    return (kept ? c.out * n : 0) + c.fwd_extra * n + c.fwd_fixed * tasks_;
  }
  // What layer c's meta-backward holds at its largest moment, for a pass of n examples.
  std::int64_t backward_values(const LayerCost& c, std::int64_t n) const {
    std::int64_t v = c.bwd_peak * n + (c.chunk_image > 0 ? 0 : c.bwd_fixed * tasks_);
    if (c.chunk_image > 0) {
      const std::int64_t per_chunk = std::max<std::int64_t>(
          1, static_cast<std::int64_t>(kernels::conv_chunk_bytes()) / (c.chunk_image * bytes_));
      v = std::max(v, c.bwd_chunk_base * n + chunk_columns(c, n, per_chunk) + c.bwd_fixed * tasks_);
    }
    return v;
  }
  // The columns a conv_columns backward over n images holds at once: one chunk, or with op
  // threads one chunk per part of its input gradient's split by images (Note [conv over
  // parts]: float32 on metagrad's own sgemm, parts of at least kSplitMacs multiply-adds).
  std::int64_t chunk_columns(const LayerCost& c, std::int64_t n, std::int64_t per_chunk) const {
    std::int64_t parts = 1;
    if (c.input_grad && bytes_ == 4 && kernels::split_keeps_bits<float>())
      parts = std::max<std::int64_t>(1, kernels::split_count(n, kernels::conv_split_grain(c.macs_image), s_.op_threads));
    std::int64_t columns = 0;
    for (std::int64_t p = 0; p < parts; ++p)  // the images of part p, cut as split_for cuts them
      columns += std::min(per_chunk, kernels::split_bound(n, parts, 1, p + 1) - kernels::split_bound(n, parts, 1, p)) *
                 c.chunk_image;
    return columns;
  }
  std::int64_t recorded_values(std::size_t l, std::int64_t n) const {
    const LayerCost& c = layers_[l];
    return (c.saves_grad ? c.out * n : 0) + c.rec_extra * n + c.rec_fixed * tasks_;
  }

  // The tape: k support forwards, the query forward (nq > 0), k recorded gradients (second order).
  void tape_terms(MemoryMoment& m, int k, std::int64_t ns, std::int64_t nq, bool second) const {
    // First order rewinds each inner step's forward once its gradient is known
    // (meta/adapt.cpp): no support pass stays.
    const int kept = second ? k : 0;
    const std::string passes = nq > 0 ? (kept > 0 ? fmt::format("{} support passes + the query pass", kept)
                                                  : std::string("the query pass"))
                                      : fmt::format("{} support passes", kept);
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const std::int64_t v = kept * forward_values(l, ns, false) + (nq > 0 ? forward_values(l, nq, true) : 0);
      if (v > 0) m.terms.push_back({fmt::format("forward keeps, {}: layer {}", passes, layers_[l].label), v});
    }
    const std::int64_t loss_fwd = s_.classification ? 2 * outputs_ + 2 : outputs_;
    if (kept * ns + nq > 0)
      m.terms.push_back({fmt::format("forward keeps, {}: the loss", passes), loss_fwd * (kept * ns + nq)});
    if (!second) return;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const std::int64_t v = k * recorded_values(l, ns);
      if (v > 0)
        m.terms.push_back({fmt::format("recorded inner gradient keeps, {} steps: layer {}", k, layers_[l].label), v});
    }
    const std::int64_t loss_rec = s_.classification ? outputs_ + 1 : outputs_;
    m.terms.push_back({fmt::format("recorded inner gradient keeps, {} steps: the loss", k), loss_rec * k * ns});
  }

  // θ'_0..θ'_k once the inner loop is done.
  void theta_terms(MemoryMoment& m, int k, bool stacked) const {
    const std::int64_t t = tasks_;
    const bool second = !s_.first_order;  // first order rewinds the inner forwards that saved θ'_0..θ'_{k−1}
    if (stacked && second)
      m.terms.push_back({"θ'_0: θ broadcast to the stack, the tensors the forward saves", t * saved_});
    if (second && k >= 2)
      m.terms.push_back({fmt::format("θ'_1..θ'_{}: the tensors the next forward saves", k - 1), (k - 1) * t * saved_});
    m.terms.push_back({"θ'_k: the adapted weights, whole", t * all_});
  }

  const std::vector<LayerCost>& layers_;
  std::int64_t outputs_;
  const MemorySetting& s_;
  std::int64_t bytes_;
  std::int64_t tasks_;
  std::vector<std::int64_t> order_;  // parameter tensor sizes in the model's order
  std::int64_t saved_ = 0, all_ = 0;
};

}  // namespace

std::int64_t MemoryMoment::total() const {
  std::int64_t t = 0;
  for (const MemoryTerm& term : terms) t += term.bytes;
  return t;
}

const MemoryMoment& MemoryPrediction::peak() const {
  if (moments.empty()) throw ValueError("memory prediction: internal error: no moments");
  return *std::max_element(moments.begin(), moments.end(),
                           [](const MemoryMoment& a, const MemoryMoment& b) { return a.total() < b.total(); });
}

std::int64_t MemoryPrediction::with_workers(int workers) const {
  if (workers < 1) throw ValueError(fmt::format("memory prediction: workers must be >= 1, got {}", workers));
  const std::int64_t w = std::min<std::int64_t>(workers, groups);
  return shared_bytes + w * (total() - shared_bytes);
}

std::string MemoryPrediction::table() const {
  const MemoryMoment& p = peak();
  const double mb = 1 << 20;
  std::string out = fmt::format("predicted peak of live tensor memory: {:.2f} MB, during {}\n\n| term | MB | share |\n"
                                "| --- | --- | --- |\n",
                                static_cast<double>(p.total()) / mb, p.name);
  for (const MemoryTerm& t : p.terms)
    if (t.bytes > 0)
      out += fmt::format("| {} | {:.3f} | {:.1f} % |\n", t.name, static_cast<double>(t.bytes) / mb,
                         100.0 * static_cast<double>(t.bytes) / static_cast<double>(p.total()));
  out += "\nthe moments at which the peak can fall:\n";
  for (const MemoryMoment& m : moments)
    out += fmt::format("  {:.2f} MB  {}\n", static_cast<double>(m.total()) / mb, m.name);
  return out;
}

MemoryPrediction predict_maml_memory(nn::Module& model, const MemorySetting& s) {
  check_setting(s);
  std::int64_t outputs = 0;
  const std::vector<LayerCost> layers = analyse(model, s.example, outputs);
  const std::vector<Tensor> params = model.parameters();
  const std::int64_t bytes = params.empty() ? 4 : static_cast<std::int64_t>(dtype_size(params[0].dtype()));
  const std::int64_t p = model.num_parameters();
  // A task's tensors: x in the model's dtype, y int64 labels or targets like the output.
  const std::int64_t x = s.example.numel() * bytes, y = s.classification ? 8 : outputs * bytes;
  const std::int64_t task = (s.support + s.query) * (x + y);
  const bool stacked = s.task_stacks > 0 && model.supports_task_stacks();
  const auto ranges = task_ranges(static_cast<std::size_t>(s.meta_batch), stacked ? s.task_stacks : 0);

  MemoryPrediction out;
  out.groups = static_cast<std::int64_t>(ranges.size());
  std::int64_t best = -1;
  for (std::size_t g = 0; g < ranges.size(); ++g) {
    const auto tasks = static_cast<std::int64_t>(ranges[g].second - ranges[g].first);
    std::vector<MemoryTerm> persistent{
        {fmt::format("θ: the parameters ({} values)", p), p * bytes},
        {"Adam's m and v", 2 * p * bytes},
        {fmt::format("the meta-batch's {} tasks, sampled up front", s.meta_batch), s.meta_batch * task}};
    if (g > 0) persistent.push_back({"the sum of the earlier groups' meta-gradients", p * bytes});
    if (stacked) persistent.push_back({fmt::format("the stack's copy of its {} tasks' data", tasks), tasks * task});
    std::int64_t shared = 0;
    for (const MemoryTerm& t : persistent) shared += t.bytes;
    const GroupModel group(layers, outputs, s, bytes, tasks);
    std::vector<MemoryMoment> moments = group.moments(persistent, stacked);
    MemoryPrediction candidate;
    candidate.moments = std::move(moments);
    if (candidate.total() > best) {
      best = candidate.total();
      out.moments = std::move(candidate.moments);
      out.shared_bytes = shared;
    }
  }
  return out;
}

}  // namespace mg::meta
