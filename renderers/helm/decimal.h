// Exact decimal arithmetic for Sprig's float functions (addf, subf, mulf,
// divf, add1f), which compute on decimals rather than binary floats: each
// float64 operand becomes the decimal its shortest text shows ("0.1"), sums
// and products are exact, quotients are rounded half away from zero to 16
// decimal places, and the result is converted back to the nearest
// float64. So `addf 0.1 0.2` is 0.3, as in Helm, not 0.30000000000000004.
// A value type; operations allocate; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace keelson::helm {

class ExactDecimal {
 public:
  // The decimal of a finite float64's shortest representation; non-finite
  // values have none.
  static std::optional<ExactDecimal> FromDouble(double v);

  ExactDecimal Add(const ExactDecimal& other) const;
  ExactDecimal Sub(const ExactDecimal& other) const;
  ExactDecimal Mul(const ExactDecimal& other) const;
  // Rounded to 16 decimal places; nullopt when dividing by zero.
  std::optional<ExactDecimal> Div(const ExactDecimal& other) const;
  // The nearest float64 (infinite when out of range).
  double ToDouble() const;

 private:
  using Digits = std::vector<std::uint32_t>;  // base 1e9, least significant first
  bool negative_ = false;
  Digits magnitude_;
  int exponent_ = 0;  // value = magnitude * 10^exponent
};

}  // namespace keelson::helm
