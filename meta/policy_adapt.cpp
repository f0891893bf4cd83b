// MAML's inner loop on a reinforcement-learning task; see policy_adapt.h.
#include "meta/policy_adapt.h"

#include "autograd/creation.h"
#include "autograd/ops.h"
#include "meta/policy_gradient.h"

namespace mg::meta {

Tensor rollout_log_prob(nn::GaussianPolicy& policy, std::span<const Tensor> theta, const data::NavRollout& rollout) {
  const std::int64_t b = rollout.mask.shape()[0], t = rollout.mask.shape()[1];
  const std::int64_t obs = policy.obs_dim(), act = policy.action_dim();
  const Tensor states = reshape(rollout.observations, {b * t, obs});
  const Tensor dist = reshape(policy.forward(states, theta), {b, t, 2, act});
  return nn::gaussian_log_prob(dist, rollout.actions);
}

Tensor rollout_advantages(const data::NavRollout& rollout, const PolicyGradientOptions& options) {
  const Tensor returns = discounted_returns(rollout.rewards, rollout.mask, options.discount);
  Tensor baseline = zeros_like(returns);
  if (options.fit_baseline) {
    const Tensor phi = baseline_features(rollout.observations);
    baseline = baseline_values(phi, fit_baseline(phi, returns, rollout.mask, options.baseline_ridge), rollout.mask);
  }
  return advantages(returns, baseline, rollout.mask, options.normalise_advantages);
}

Tensor policy_surrogate(nn::GaussianPolicy& policy, std::span<const Tensor> theta, const data::NavRollout& rollout,
                        const PolicyGradientOptions& options) {
  return reinforce_loss(rollout_log_prob(policy, theta, rollout), rollout_advantages(rollout, options), rollout.mask);
}

std::vector<Tensor> policy_adapt(nn::GaussianPolicy& policy, std::span<const Tensor> theta,
                                 const data::NavRollout& rollout, const PolicyGradientOptions& options, double lr,
                                 AdaptMode mode) {
  return adapt([&](std::span<const Tensor> th) { return policy_surrogate(policy, th, rollout, options); }, theta,
               InnerLr{lr, {}}, 1, mode);
}

}  // namespace mg::meta
