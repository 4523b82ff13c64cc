#include "renderers/helm/decimal.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "renderers/manifest/node.h"

namespace keelson::helm {

namespace {

using Digits = std::vector<std::uint32_t>;
constexpr std::uint32_t kBase = 1'000'000'000;

void Trim(Digits& d) {
  while (!d.empty() && d.back() == 0) d.pop_back();
}

int Compare(const Digits& a, const Digits& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  for (std::size_t i = a.size(); i-- > 0;) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

Digits AddDigits(const Digits& a, const Digits& b) {
  Digits out;
  std::uint64_t carry = 0;
  for (std::size_t i = 0; i < std::max(a.size(), b.size()) || carry; ++i) {
    std::uint64_t s = carry + (i < a.size() ? a[i] : 0) + (i < b.size() ? b[i] : 0);
    out.push_back(static_cast<std::uint32_t>(s % kBase));
    carry = s / kBase;
  }
  Trim(out);
  return out;
}

// a - b for a >= b.
Digits SubDigits(const Digits& a, const Digits& b) {
  Digits out = a;
  std::int64_t borrow = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::int64_t d = static_cast<std::int64_t>(out[i]) - borrow - (i < b.size() ? b[i] : 0);
    borrow = d < 0;
    out[i] = static_cast<std::uint32_t>(d < 0 ? d + kBase : d);
  }
  Trim(out);
  return out;
}

Digits MulSmall(const Digits& a, std::uint32_t m) {
  Digits out;
  std::uint64_t carry = 0;
  for (std::uint32_t x : a) {
    std::uint64_t p = static_cast<std::uint64_t>(x) * m + carry;
    out.push_back(static_cast<std::uint32_t>(p % kBase));
    carry = p / kBase;
  }
  while (carry) {
    out.push_back(static_cast<std::uint32_t>(carry % kBase));
    carry /= kBase;
  }
  Trim(out);
  return out;
}

Digits MulDigits(const Digits& a, const Digits& b) {
  if (a.empty() || b.empty()) return {};
  std::vector<std::uint64_t> acc(a.size() + b.size() + 1, 0);
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::uint64_t carry = 0;
    for (std::size_t j = 0; j < b.size() || carry; ++j) {
      std::uint64_t cur = acc[i + j] + carry + (j < b.size() ? static_cast<std::uint64_t>(a[i]) * b[j] : 0);
      acc[i + j] = cur % kBase;
      carry = cur / kBase;
    }
  }
  Digits out(acc.begin(), acc.end());
  Trim(out);
  return out;
}

Digits Pow10(int k) {
  Digits out{1};
  for (; k >= 9; k -= 9) out.insert(out.begin(), 0);
  static const std::uint32_t kSmall[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
  return MulSmall(out, kSmall[k]);
}

Digits Shift10(const Digits& a, int k) { return k <= 0 ? a : MulDigits(a, Pow10(k)); }

// Quotient and remainder of a / b (b non-empty), one base-1e9 digit at a
// time, each found by binary search.
std::pair<Digits, Digits> DivMod(const Digits& a, const Digits& b) {
  Digits quotient(a.size(), 0), rest;
  for (std::size_t i = a.size(); i-- > 0;) {
    rest.insert(rest.begin(), a[i]);
    Trim(rest);
    std::uint32_t lo = 0, hi = kBase - 1;
    while (lo < hi) {
      std::uint32_t mid = lo + (hi - lo + 1) / 2;
      if (Compare(MulSmall(b, mid), rest) <= 0) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    quotient[i] = lo;
    if (lo) rest = SubDigits(rest, MulSmall(b, lo));
  }
  Trim(quotient);
  return {quotient, rest};
}

std::string ToText(const Digits& d) {
  if (d.empty()) return "0";
  std::string out = std::to_string(d.back());
  for (std::size_t i = d.size() - 1; i-- > 0;) {
    std::string part = std::to_string(d[i]);
    out += std::string(9 - part.size(), '0') + part;
  }
  return out;
}

}  // namespace

std::optional<ExactDecimal> ExactDecimal::FromDouble(double v) {
  if (!std::isfinite(v)) return std::nullopt;
  manifest::ShortestDecimal shortest = manifest::ShortestDigits(v);
  ExactDecimal d;
  d.negative_ = shortest.negative;
  d.exponent_ = shortest.MantissaExponent();
  for (std::uint64_t m = shortest.Mantissa(); m != 0; m /= kBase) {
    d.magnitude_.push_back(static_cast<std::uint32_t>(m % kBase));
  }
  if (d.magnitude_.empty()) d.negative_ = false;
  return d;
}

ExactDecimal ExactDecimal::Add(const ExactDecimal& other) const {
  int exp = std::min(exponent_, other.exponent_);
  Digits a = Shift10(magnitude_, exponent_ - exp), b = Shift10(other.magnitude_, other.exponent_ - exp);
  ExactDecimal out;
  out.exponent_ = exp;
  if (negative_ == other.negative_) {
    out.magnitude_ = AddDigits(a, b);
    out.negative_ = negative_;
  } else if (Compare(a, b) >= 0) {
    out.magnitude_ = SubDigits(a, b);
    out.negative_ = negative_;
  } else {
    out.magnitude_ = SubDigits(b, a);
    out.negative_ = other.negative_;
  }
  if (out.magnitude_.empty()) out.negative_ = false;
  return out;
}

ExactDecimal ExactDecimal::Sub(const ExactDecimal& other) const {
  ExactDecimal negated = other;
  if (!negated.magnitude_.empty()) negated.negative_ = !negated.negative_;
  return Add(negated);
}

ExactDecimal ExactDecimal::Mul(const ExactDecimal& other) const {
  ExactDecimal out;
  out.magnitude_ = MulDigits(magnitude_, other.magnitude_);
  out.exponent_ = exponent_ + other.exponent_;
  out.negative_ = !out.magnitude_.empty() && negative_ != other.negative_;
  return out;
}

std::optional<ExactDecimal> ExactDecimal::Div(const ExactDecimal& other) const {
  constexpr int kPlaces = 16;
  if (other.magnitude_.empty()) return std::nullopt;
  // result * 10^-16 = (a * 10^ea) / (b * 10^eb)
  int scale = exponent_ - other.exponent_ + kPlaces;
  Digits numerator = magnitude_, denominator = other.magnitude_;
  if (scale >= 0) {
    numerator = Shift10(numerator, scale);
  } else {
    denominator = Shift10(denominator, -scale);
  }
  auto [quotient, rest] = DivMod(numerator, denominator);
  if (Compare(AddDigits(rest, rest), denominator) >= 0) quotient = AddDigits(quotient, Digits{1});
  ExactDecimal out;
  out.magnitude_ = quotient;
  out.exponent_ = -kPlaces;
  out.negative_ = !quotient.empty() && negative_ != other.negative_;
  return out;
}

double ExactDecimal::ToDouble() const {
  std::string text = (negative_ ? "-" : "") + ToText(magnitude_) + "e" + std::to_string(exponent_);
  return std::strtod(text.c_str(), nullptr);
}

}  // namespace keelson::helm
