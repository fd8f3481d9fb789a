#include "dataplane/forward/grace_period.h"

#include <rte_rcu_qsbr.h>

namespace corridor::dataplane::forward {

void GracePeriod::defer(std::function<void()> release) {
  pending_.emplace_back(rte_rcu_qsbr_start(qsbr_), std::move(release));
}

std::size_t GracePeriod::poll() {
  // Tokens grow with each defer(), so the first one not yet due ends the scan.
  while (!pending_.empty() && rte_rcu_qsbr_check(qsbr_, pending_.front().first, false) == 1) {
    auto release = std::move(pending_.front().second);
    pending_.pop_front();
    release();
  }
  return pending_.size();
}

void GracePeriod::drain() {
  while (!pending_.empty()) {
    rte_rcu_qsbr_check(qsbr_, pending_.front().first, true);
    auto release = std::move(pending_.front().second);
    pending_.pop_front();
    release();
  }
}

}  // namespace corridor::dataplane::forward
