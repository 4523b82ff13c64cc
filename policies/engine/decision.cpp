#include "policies/engine/decision.h"

#include <algorithm>

namespace keelson::policy {

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kAllow: return "allow";
    case Verdict::kWarn: return "warn";
    case Verdict::kDeny: return "deny";
  }
  return "deny";
}

void Decision::Add(Reason reason) {
  verdict = std::max(verdict, reason.verdict);
  reasons.push_back(std::move(reason));
}

void Decision::Merge(const Decision& other) {
  for (const Reason& r : other.reasons) Add(r);
  verdict = std::max(verdict, other.verdict);
}

bool Decision::may_pass_later() const {
  if (verdict != Verdict::kDeny) return false;
  for (const Reason& r : reasons) {
    if (r.verdict == Verdict::kDeny && r.retry == RetryWhen::kNever) return false;
  }
  return true;
}

std::optional<std::int64_t> Decision::retry_at() const {
  if (!may_pass_later()) return std::nullopt;
  std::optional<std::int64_t> at;
  for (const Reason& r : reasons) {
    if (r.verdict == Verdict::kDeny && r.retry == RetryWhen::kAtTime && r.retry_at) {
      at = at ? std::max(*at, *r.retry_at) : *r.retry_at;
    }
  }
  return at;
}

std::string Decision::Summary() const {
  std::string out;
  for (const Reason& r : reasons) {
    out += std::string(VerdictName(r.verdict)) + " " + r.gate + "/" + r.name + ": " + r.message + "\n";
  }
  return out;
}

}  // namespace keelson::policy
