#include "policies/engine/gates.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "policies/engine/policy.h"

namespace keelson::policy {

using manifest::Node;

std::int64_t SystemClock::NowUnixSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool PathGlobMatch(std::string_view pattern, std::string_view path) {
  // Split into segments and match with a small table: segments × segments,
  // so no pattern can make this exponential.
  auto split = [](std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true) {
      std::size_t slash = s.find('/', start);
      out.push_back(s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    return out;
  };
  std::vector<std::string_view> p = split(pattern), t = split(path);
  // ok[i][j]: pattern segments from i match path segments from j.
  std::vector<std::vector<char>> ok(p.size() + 1, std::vector<char>(t.size() + 1, 0));
  ok[p.size()][t.size()] = 1;
  for (std::size_t i = p.size(); i-- > 0;) {
    for (std::size_t j = t.size() + 1; j-- > 0;) {
      if (p[i] == "**") {
        ok[i][j] = ok[i + 1][j] || (j < t.size() && ok[i][j + 1]);
      } else {
        ok[i][j] = j < t.size() && GlobMatch(p[i], t[j]) && ok[i + 1][j + 1];
      }
    }
  }
  return ok[0][0] != 0;
}

namespace {

bool Applies(const std::vector<std::string>& environments, const std::vector<std::string>& units,
             const ChangeRequest& change) {
  auto any = [](const std::vector<std::string>& globs, const std::string& value) {
    if (globs.empty()) return true;
    for (const std::string& g : globs) {
      if (GlobMatch(g, value)) return true;
    }
    return false;
  };
  return any(environments, change.environment) && any(units, change.unit);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string Trim(std::string_view s) {
  std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  std::size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// The approver a trailer value names, if it is one of `approvers`:
// "alice@example.com" or "Alice <alice@example.com>".
std::string ApproverNamed(std::string_view value, const std::vector<std::string>& approvers) {
  std::string whole = Trim(value);
  if (Contains(approvers, whole)) return whole;
  std::size_t open = whole.find('<'), close = whole.rfind('>');
  if (open != std::string::npos && close != std::string::npos && close > open) {
    std::string inner = whole.substr(open + 1, close - open - 1);
    if (Contains(approvers, inner)) return inner;
  }
  return "";
}

std::string ShortId(const std::string& id) { return id.substr(0, 12); }

struct WindowState {
  bool active = false;
  std::optional<std::int64_t> closes_at;  // when active
  std::optional<std::int64_t> opens_at;   // when not active
};

WindowState StateAt(const ChangeWindow& w, std::int64_t now, std::int64_t horizon) {
  WindowState s;
  const TimeZone& zone = *w.zone;
  std::optional<std::int64_t> fired = w.schedule.PreviousFire(zone, now, now - w.duration_seconds + 1);
  if (fired) {
    s.active = true;
    std::int64_t end = *fired + w.duration_seconds;
    // Overlapping firings extend the window; follow them up to the horizon.
    for (int i = 0; i < 100'000 && end < now + horizon; ++i) {
      std::optional<std::int64_t> later = w.schedule.PreviousFire(zone, end - 1, *fired + 1);
      if (!later) break;
      fired = later;
      end = *later + w.duration_seconds;
    }
    s.closes_at = end;
    return s;
  }
  s.opens_at = w.schedule.NextFire(zone, now + 1, now + horizon);
  return s;
}

}  // namespace

GateEvaluator::GateEvaluator(GateConfig config, const Clock& clock, const HealthHistory* history)
    : config_(std::move(config)), clock_(clock), history_(history) {}

Decision GateEvaluator::Evaluate(const ChangeRequest& change) const {
  Decision d = EvaluateWindows(change);
  d.Merge(EvaluateApprovals(change));
  d.Merge(EvaluatePromotion(change));
  return d;
}

Decision GateEvaluator::EvaluateWindows(const ChangeRequest& change) const {
  Decision d;
  const std::int64_t now = clock_.NowUnixSeconds();
  std::vector<const ChangeWindow*> allow;
  std::vector<Reason> denials;
  for (const ChangeWindow& w : config_.windows) {
    if (!Applies(w.environments, w.units, change)) continue;
    WindowState state = StateAt(w, now, config_.horizon_seconds);
    if (w.kind == ChangeWindow::Kind::kDeny) {
      if (!state.active) continue;
      Reason r{"window", w.name, Verdict::kDeny, "", RetryWhen::kAtTime, state.closes_at};
      r.message = "change freeze " + w.name + " (" + w.schedule.spec() + ", " + w.zone->name() + ") is in effect until " +
                  w.zone->Format(*state.closes_at);
      denials.push_back(std::move(r));
      continue;
    }
    allow.push_back(&w);
    if (state.active) {
      d.Add(Reason{"window", w.name, Verdict::kAllow,
                   "inside change window " + w.name + " until " + w.zone->Format(*state.closes_at), RetryWhen::kNever,
                   std::nullopt});
    }
  }
  bool inside_allow = std::any_of(d.reasons.begin(), d.reasons.end(), [](const Reason& r) { return r.gate == "window"; });
  if (!allow.empty() && !inside_allow) {
    std::optional<std::int64_t> next;
    const ChangeWindow* next_window = nullptr;
    std::string names;
    for (const ChangeWindow* w : allow) {
      names += (names.empty() ? "" : ", ") + w->name;
      WindowState state = StateAt(*w, now, config_.horizon_seconds);
      if (state.opens_at && (!next || *state.opens_at < *next)) {
        next = state.opens_at;
        next_window = w;
      }
    }
    Reason r{"window", names, Verdict::kDeny, "outside the allowed change windows (" + names + ")", RetryWhen::kNever,
             std::nullopt};
    if (next) {
      r.retry = RetryWhen::kAtTime;
      r.retry_at = next;
      r.message += "; " + next_window->name + " opens at " + next_window->zone->Format(*next);
    } else {
      r.message += "; none opens within " + std::to_string(config_.horizon_seconds / 86400) + " days";
    }
    denials.push_back(std::move(r));
  }
  if (denials.empty()) return d;

  // An override on the newest commit, signed by someone allowed to give it,
  // turns window denials into warnings.
  std::string override_note;
  bool overridden = false;
  if (!change.commits.empty()) {
    const CommitInfo& head = change.commits.back();
    for (const Trailer& t : head.trailers) {
      if (!EqualsIgnoreCase(t.key, config_.override_rule.trailer)) continue;
      if (head.signer.empty()) {
        override_note = "; the " + config_.override_rule.trailer + " trailer on " + ShortId(head.id) +
                        " is ignored because the commit is not signed by a trusted key";
      } else if (!Contains(config_.override_rule.signers, head.signer)) {
        override_note = "; the " + config_.override_rule.trailer + " trailer on " + ShortId(head.id) +
                        " is ignored because " + head.signer + " may not override change windows";
      } else {
        overridden = true;
        override_note = " (overridden by " + head.signer + " in " + ShortId(head.id) + ": " + Trim(t.value) + ")";
      }
      break;
    }
  }
  for (Reason& r : denials) {
    r.message += override_note;
    if (overridden) {
      r.verdict = Verdict::kWarn;
      r.retry = RetryWhen::kNever;
      r.retry_at.reset();
    }
    d.Add(std::move(r));
  }
  return d;
}

Decision GateEvaluator::EvaluateApprovals(const ChangeRequest& change) const {
  Decision d;
  for (const ApprovalRule& rule : config_.approvals) {
    if (!Applies(rule.environments, rule.units, change)) continue;
    std::string touched;
    if (rule.paths.empty()) {
      touched = change.changed_paths.empty() ? "" : change.changed_paths.front();
      if (change.commits.empty() && change.changed_paths.empty()) continue;
    } else {
      for (const std::string& path : change.changed_paths) {
        for (const std::string& g : rule.paths) {
          if (PathGlobMatch(g, path)) {
            touched = path;
            break;
          }
        }
        if (!touched.empty()) break;
      }
      if (touched.empty()) continue;
    }
    std::set<std::string> approved;
    for (const CommitInfo& c : change.commits) {
      if (c.signer.empty()) continue;  // trailers on unsigned commits prove nothing
      if (Contains(rule.approvers, c.signer)) approved.insert(c.signer);
      for (const Trailer& t : c.trailers) {
        if (!EqualsIgnoreCase(t.key, "Approved-by")) continue;
        std::string who = ApproverNamed(t.value, rule.approvers);
        if (who.empty()) continue;
        if (who == c.signer || Contains(rule.attesters, c.signer)) approved.insert(who);
      }
    }
    std::string names;
    for (const std::string& a : approved) names += (names.empty() ? "" : ", ") + a;
    if (static_cast<int>(approved.size()) >= rule.required) {
      d.Add(Reason{"approval", rule.name, Verdict::kAllow, "approved by " + names, RetryWhen::kNever, std::nullopt});
      continue;
    }
    std::string message = "needs " + std::to_string(rule.required) + " distinct approvers";
    if (!touched.empty()) message += " for changes to " + touched;
    message += ", found " + std::to_string(approved.size());
    if (!names.empty()) message += " (" + names + ")";
    d.Add(Reason{"approval", rule.name, Verdict::kDeny, message, RetryWhen::kNever, std::nullopt});
  }
  return d;
}

Decision GateEvaluator::EvaluatePromotion(const ChangeRequest& change) const {
  Decision d;
  for (const PromotionRule& rule : config_.promotions) {
    if (!Applies(rule.environments, rule.units, change)) continue;
    if (history_ == nullptr) {
      d.Add(Reason{"promotion", rule.name, Verdict::kDeny,
                   "no health history is available to show " + ShortId(change.revision) + " was healthy in " + rule.after,
                   RetryWhen::kAgain, std::nullopt});
      continue;
    }
    Result<bool> healthy = history_->WasHealthy(change.revision, rule.after);
    if (!healthy.ok()) {
      d.Add(Reason{"promotion", rule.name, Verdict::kDeny,
                   "could not read the health history of " + rule.after + ": " + healthy.error().message,
                   RetryWhen::kAgain, std::nullopt});
    } else if (!*healthy) {
      d.Add(Reason{"promotion", rule.name, Verdict::kDeny,
                   "revision " + ShortId(change.revision) + " has not been recorded healthy in " + rule.after,
                   RetryWhen::kPromoted, std::nullopt});
    } else {
      d.Add(Reason{"promotion", rule.name, Verdict::kAllow,
                   "revision " + ShortId(change.revision) + " was healthy in " + rule.after, RetryWhen::kNever,
                   std::nullopt});
    }
  }
  return d;
}

namespace {

Error GateError(const std::string& file, const Node& node, const std::string& field, std::string message) {
  return MakeError(ErrorCode::kInvalidInput, std::move(message), Location{file, node.mark().line, node.mark().column, field});
}

Result<std::vector<std::string>> Strings(const Node& node, const std::string& file, const std::string& field) {
  if (!node.IsSequence()) return GateError(file, node, field, "must be a list of strings");
  std::vector<std::string> out;
  for (const Node& item : node.items()) {
    if (!item.IsString()) return GateError(file, item, field, "must be a list of strings");
    out.push_back(item.AsString());
  }
  return out;
}

// "90m", "8h", "1h30m", "2d", "45s".
Result<std::int64_t> ParseDuration(const Node& node, const std::string& file, const std::string& field) {
  std::string text = node.IsScalar() ? node.ScalarText() : "";
  std::int64_t total = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    std::int64_t n = 0;
    std::size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && n < 1'000'000'000) n = n * 10 + (text[i++] - '0');
    if (i == start || i >= text.size()) return GateError(file, node, field, "must be a duration such as 30m, 8h or 2d");
    char unit = text[i++];
    std::int64_t scale = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : 0;
    if (scale == 0) return GateError(file, node, field, "must be a duration such as 30m, 8h or 2d");
    total += n * scale;
    any = true;
  }
  if (!any || total <= 0) return GateError(file, node, field, "must be a duration such as 30m, 8h or 2d");
  if (total > 31 * 86400) return GateError(file, node, field, "must be at most 31d");
  return total;
}

}  // namespace

Result<GateConfig> ParseGateConfig(const Node& node, const std::string& file, ZoneDatabase& zones) {
  GateConfig config;
  if (!node.IsMapping()) return GateError(file, node, "", "gates must be a mapping");
  for (const Node::Entry& top : node.entries()) {
    const Node& v = top.value;
    if (top.key == "windows") {
      if (!v.IsSequence()) return GateError(file, v, "windows", "must be a list");
      for (std::size_t i = 0; i < v.items().size(); ++i) {
        const Node& w = v.items()[i];
        std::string at = "windows[" + std::to_string(i) + "]";
        if (!w.IsMapping()) return GateError(file, w, at, "must be a mapping");
        ChangeWindow window;
        window.zone = TimeZone::Utc();
        bool has_schedule = false, has_duration = false;
        for (const Node::Entry& e : w.entries()) {
          std::string field = at + "." + e.key;
          if (e.key == "name") {
            window.name = e.value.IsString() ? e.value.AsString() : "";
          } else if (e.key == "kind") {
            std::string k = e.value.IsString() ? e.value.AsString() : "";
            if (k == "allow") window.kind = ChangeWindow::Kind::kAllow;
            else if (k == "deny") window.kind = ChangeWindow::Kind::kDeny;
            else return GateError(file, e.value, field, "must be allow or deny");
          } else if (e.key == "schedule") {
            Result<CronSchedule> s = CronSchedule::Parse(e.value.IsString() ? e.value.AsString() : "");
            if (!s.ok()) {
              Error err = std::move(s).error();
              return MakeError(ErrorCode::kInvalidInput, err.message,
                               Location{file, e.value.mark().line, e.value.mark().column + err.where.column - 1, field});
            }
            window.schedule = std::move(s).value();
            has_schedule = true;
          } else if (e.key == "duration") {
            Result<std::int64_t> d = ParseDuration(e.value, file, field);
            if (!d.ok()) return std::move(d).error();
            window.duration_seconds = *d;
            has_duration = true;
          } else if (e.key == "timeZone") {
            Result<std::shared_ptr<const TimeZone>> z = zones.Get(e.value.IsString() ? e.value.AsString() : "");
            if (!z.ok()) return GateError(file, e.value, field, z.error().message);
            window.zone = *z;
          } else if (e.key == "environments" || e.key == "units") {
            Result<std::vector<std::string>> list = Strings(e.value, file, field);
            if (!list.ok()) return std::move(list).error();
            (e.key == "units" ? window.units : window.environments) = std::move(list).value();
          } else {
            return GateError(file, e.value, field,
                             "unknown field (expected name, kind, schedule, duration, timeZone, environments or units)");
          }
        }
        if (window.name.empty()) return GateError(file, w, at + ".name", "is required");
        if (!has_schedule) return GateError(file, w, at + ".schedule", "is required");
        if (!has_duration) return GateError(file, w, at + ".duration", "is required");
        config.windows.push_back(std::move(window));
      }
    } else if (top.key == "override") {
      if (!v.IsMapping()) return GateError(file, v, "override", "must be a mapping");
      for (const Node::Entry& e : v.entries()) {
        if (e.key == "trailer" && e.value.IsString() && !e.value.AsString().empty()) {
          config.override_rule.trailer = e.value.AsString();
        } else if (e.key == "signers") {
          Result<std::vector<std::string>> list = Strings(e.value, file, "override.signers");
          if (!list.ok()) return std::move(list).error();
          config.override_rule.signers = std::move(list).value();
        } else {
          return GateError(file, e.value, "override." + e.key, "unknown or invalid field (expected trailer or signers)");
        }
      }
    } else if (top.key == "approvals") {
      if (!v.IsSequence()) return GateError(file, v, "approvals", "must be a list");
      for (std::size_t i = 0; i < v.items().size(); ++i) {
        const Node& a = v.items()[i];
        std::string at = "approvals[" + std::to_string(i) + "]";
        if (!a.IsMapping()) return GateError(file, a, at, "must be a mapping");
        ApprovalRule rule;
        for (const Node::Entry& e : a.entries()) {
          std::string field = at + "." + e.key;
          std::vector<std::string>* list = e.key == "paths" ? &rule.paths
                                          : e.key == "environments" ? &rule.environments
                                          : e.key == "units" ? &rule.units
                                          : e.key == "approvers" ? &rule.approvers
                                          : e.key == "attesters" ? &rule.attesters : nullptr;
          if (list != nullptr) {
            Result<std::vector<std::string>> l = Strings(e.value, file, field);
            if (!l.ok()) return std::move(l).error();
            *list = std::move(l).value();
          } else if (e.key == "name" && e.value.IsString()) {
            rule.name = e.value.AsString();
          } else if (e.key == "required") {
            if (!e.value.IsInt() || e.value.AsInt() < 1 || e.value.AsInt() > 100) {
              return GateError(file, e.value, field, "must be a whole number from 1 to 100");
            }
            rule.required = static_cast<int>(e.value.AsInt());
          } else {
            return GateError(file, e.value, field,
                             "unknown field (expected name, paths, environments, units, required, approvers or attesters)");
          }
        }
        if (rule.name.empty()) return GateError(file, a, at + ".name", "is required");
        if (rule.approvers.empty()) return GateError(file, a, at + ".approvers", "must list at least one approver");
        config.approvals.push_back(std::move(rule));
      }
    } else if (top.key == "promotions") {
      if (!v.IsSequence()) return GateError(file, v, "promotions", "must be a list");
      for (std::size_t i = 0; i < v.items().size(); ++i) {
        const Node& p = v.items()[i];
        std::string at = "promotions[" + std::to_string(i) + "]";
        if (!p.IsMapping()) return GateError(file, p, at, "must be a mapping");
        PromotionRule rule;
        for (const Node::Entry& e : p.entries()) {
          std::string field = at + "." + e.key;
          if (e.key == "environments" || e.key == "units") {
            Result<std::vector<std::string>> l = Strings(e.value, file, field);
            if (!l.ok()) return std::move(l).error();
            (e.key == "units" ? rule.units : rule.environments) = std::move(l).value();
          } else if (e.key == "name" && e.value.IsString()) {
            rule.name = e.value.AsString();
          } else if (e.key == "after" && e.value.IsString()) {
            rule.after = e.value.AsString();
          } else {
            return GateError(file, e.value, field, "unknown or invalid field (expected name, environments, units or after)");
          }
        }
        if (rule.name.empty()) return GateError(file, p, at + ".name", "is required");
        if (rule.after.empty()) return GateError(file, p, at + ".after", "is required");
        config.promotions.push_back(std::move(rule));
      }
    } else if (top.key == "concurrency") {
      if (!v.IsMapping()) return GateError(file, v, "concurrency", "must be a mapping");
      ConcurrencyRule rule;
      for (const Node::Entry& e : v.entries()) {
        std::string field = "concurrency." + e.key;
        if (e.key == "maxUnits") {
          if (!e.value.IsInt() || e.value.AsInt() < 0 || e.value.AsInt() > 10000) {
            return GateError(file, e.value, field, "must be a whole number from 0 (no limit) to 10000");
          }
          rule.max_units = static_cast<std::size_t>(e.value.AsInt());
        } else if (e.key == "locks") {
          if (!e.value.IsSequence()) return GateError(file, e.value, field, "must be a list");
          for (std::size_t i = 0; i < e.value.items().size(); ++i) {
            const Node& l = e.value.items()[i];
            std::string at = field + "[" + std::to_string(i) + "]";
            if (!l.IsMapping()) return GateError(file, l, at, "must be a mapping");
            LockRule lock;
            for (const Node::Entry& f : l.entries()) {
              if (f.key == "name" && f.value.IsString() && !f.value.AsString().empty()) {
                lock.name = f.value.AsString();
              } else if (f.key == "units") {
                Result<std::vector<std::string>> units = Strings(f.value, file, at + ".units");
                if (!units.ok()) return std::move(units).error();
                lock.units = std::move(units).value();
              } else {
                return GateError(file, f.value, at + "." + f.key, "unknown or invalid field (expected name or units)");
              }
            }
            if (lock.name.empty()) return GateError(file, l, at + ".name", "is required");
            if (lock.units.empty()) return GateError(file, l, at + ".units", "must list at least one unit");
            for (const LockRule& other : rule.locks) {
              if (other.name == lock.name) return GateError(file, l, at + ".name", "\"" + lock.name + "\" is used twice");
            }
            rule.locks.push_back(std::move(lock));
          }
        } else {
          return GateError(file, e.value, field, "unknown field (expected maxUnits or locks)");
        }
      }
      config.concurrency = std::move(rule);
    } else {
      return GateError(file, v, top.key,
                       "unknown field (expected windows, override, approvals, promotions or concurrency)");
    }
  }
  return config;
}

std::vector<std::string> LocksFor(const ConcurrencyRule& rule, std::string_view unit) {
  std::vector<std::string> out;
  for (const LockRule& lock : rule.locks) {
    for (const std::string& glob : lock.units) {
      if (GlobMatch(glob, std::string(unit))) {
        out.push_back(lock.name);
        break;
      }
    }
  }
  return out;
}

}  // namespace keelson::policy
