// The settings of `metalearn train --algo maml++` (meta/maml_pp.h) that the other
// algorithms do not have, and the hooks through which tools/train_config.cpp checks,
// fills and saves them (tools/mamlpp_flags.h adds the flags). Every part of MAML++ is
// on unless switched off; the defaults follow the paper (Antoniou et al. 2019, §5):
// S = 5 inner steps, α₀ = 0.1 on Omniglot, the multi-step loss annealed over the first
// tenth of training (its 15 of 150 epochs), first order for the first third (its 50 of
// 150 epochs), the meta rate cosine-annealed to 1e-5.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "tools/numbers.h"

namespace mg::tools {

struct TrainConfig;

struct MamlppSettings {
  std::optional<bool> msl;          // --msl / --no-msl: the multi-step loss (MSL)
  std::optional<bool> per_step_bn;  // --per-step-bn / --no-per-step-bn: per-step BN weights, biases (BNWB)
  std::optional<bool> lslr;         // --lslr / --no-lslr: learned per-layer per-step inner rates (LSLR)
  std::optional<bool> cosine_lr;    // --cosine-lr / --no-cosine-lr: cosine annealing of --meta-lr (CA)
  std::optional<std::int64_t> msl_iterations;     // MSL's annealing length (default: iterations / 10)
  std::optional<std::int64_t> first_order_until;  // DA: first order before this iteration (default: iterations / 3)
  std::optional<double> min_meta_lr;              // the cosine's floor (default 1e-5)
};

namespace limits {
inline constexpr Bounds<std::int64_t> kFirstOrderUntil{0, 1'000'000'000};
inline constexpr Bounds<double> kMinMetaLr{0.0, 1000.0};
}  // namespace limits

// ValueError "train: --no-msl is for --algo maml++, not maml" for a MAML++ flag with another algorithm.
void check_mamlpp_flags_apply(const TrainConfig& c);
// MAML++'s defaults of shared settings (--inner-steps 5, --inner-lr 0.1 on Omniglot,
// --eval-inner-steps = --inner-steps): before the shared defaults. Nothing for other algorithms.
void resolve_mamlpp_defaults(TrainConfig& c);
// Fills the MAML++ settings, some of which follow --iterations: after the shared defaults.
void resolve_mamlpp_settings(TrainConfig& c);
// ValueError "train: …" for an invalid MAML++ setting (c resolved).
void validate_mamlpp(const TrainConfig& c);
// The MAML++ settings as checkpoint metadata ("config.mamlpp_<name>", maml++ only), and back.
std::vector<std::pair<std::string, std::string>> mamlpp_to_metadata(const TrainConfig& c);
void mamlpp_from_metadata(const std::vector<std::pair<std::string, std::string>>& metadata, TrainConfig& c);

}  // namespace mg::tools
