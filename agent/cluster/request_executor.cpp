#include "agent/cluster/request_executor.h"

#include <algorithm>
#include <charconv>
#include <optional>

namespace keelson::cluster {

void RequestMetrics::Record(const std::string& verb, const std::string& code) {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[{verb, code}];
}

std::uint64_t RequestMetrics::Count(const std::string& verb, const std::string& code) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counts_.find({verb, code});
  return it == counts_.end() ? 0 : it->second;
}

std::uint64_t RequestMetrics::Total() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::uint64_t total = 0;
  for (const auto& [key, n] : counts_) total += n;
  return total;
}

std::map<std::pair<std::string, std::string>, std::uint64_t> RequestMetrics::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

bool IsRetryableStatus(int status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  long long seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return std::nullopt;
  return std::chrono::seconds(std::min<long long>(seconds, 24 * 3600));
}

RequestExecutor::RequestExecutor(HttpTransport& transport, Clock& clock, RequestMetrics& metrics,
                                 RetryPolicy retry, RateLimit rate_limit, std::uint64_t jitter_seed)
    : transport_(transport),
      clock_(clock),
      metrics_(metrics),
      retry_(retry),
      rate_limit_(rate_limit),
      tokens_(std::max(1, rate_limit.burst)),
      random_(jitter_seed) {
  retry_.max_attempts = std::max(1, retry_.max_attempts);
}

bool RequestExecutor::AcquireToken() {
  if (rate_limit_.qps <= 0) return true;
  const double burst = std::max(1, rate_limit_.burst);
  for (;;) {
    std::chrono::nanoseconds wait{0};
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto now = clock_.Now();
      if (!bucket_started_) {
        bucket_started_ = true;
        last_refill_ = now;
      }
      double elapsed = std::chrono::duration<double>(now - last_refill_).count();
      tokens_ = std::min(burst, tokens_ + elapsed * rate_limit_.qps);
      last_refill_ = now;
      if (tokens_ >= 1.0) {
        tokens_ -= 1.0;
        return true;
      }
      wait = std::chrono::nanoseconds(static_cast<std::int64_t>((1.0 - tokens_) / rate_limit_.qps * 1e9)) +
             std::chrono::nanoseconds(1);
    }
    if (!clock_.SleepFor(wait)) return false;
  }
}

std::chrono::nanoseconds RequestExecutor::Backoff(int attempt) {
  double base = static_cast<double>(retry_.initial_backoff.count());
  for (int i = 1; i < attempt && base < static_cast<double>(retry_.max_backoff.count()); ++i) base *= 2;
  base = std::min(base, static_cast<double>(retry_.max_backoff.count()));
  double extra = 0;
  if (retry_.jitter > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    extra = std::uniform_real_distribution<double>(0, retry_.jitter)(random_) * base;
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>((base + extra) * 1e6));
}

Result<HttpResponse> RequestExecutor::Execute(const std::string& verb, const HttpRequest& request,
                                              const BodySink* sink) {
  bool delivered = false;
  BodySink counting;
  if (sink != nullptr) {
    counting = [&delivered, sink](std::string_view chunk) {
      delivered = true;
      return (*sink)(chunk);
    };
  }
  const std::string what = request.method + " " + request.target;
  for (int attempt = 1;; ++attempt) {
    if (request.cancel != nullptr && request.cancel->load()) {
      return MakeError(ErrorCode::kUnavailable, what + ": cancelled");
    }
    if (!AcquireToken()) {
      return MakeError(ErrorCode::kUnavailable, what + ": cancelled while waiting for the rate limiter");
    }
    Result<HttpResponse> result = transport_.Send(request, sink != nullptr ? &counting : nullptr);
    std::chrono::nanoseconds wait{0};
    if (!result) {
      metrics_.Record(verb, "error");
      const Error& error = result.error();
      bool retryable = error.code == ErrorCode::kUnavailable && !delivered;
      if (!retryable) return result;
      if (attempt >= retry_.max_attempts) {
        Error out = error;
        out.message += " (gave up after " + std::to_string(attempt) + " attempts)";
        return out;
      }
      wait = Backoff(attempt);
    } else {
      metrics_.Record(verb, std::to_string(result->status));
      if (!IsRetryableStatus(result->status) || delivered || attempt >= retry_.max_attempts) {
        return result;
      }
      wait = Backoff(attempt);
      if (result->status == 429) {
        if (auto after = ParseRetryAfter(result->Header("Retry-After")); after) {
          wait = std::min<std::chrono::nanoseconds>(*after, retry_.max_retry_after);
        }
      }
    }
    if (!clock_.SleepFor(wait)) {
      return MakeError(ErrorCode::kUnavailable, what + ": cancelled while waiting to retry");
    }
  }
}

}  // namespace keelson::cluster
