#pragma once
// Constants the numerical code shares (C++17 has no std::numbers).

namespace revup {

inline constexpr double kPi = 3.14159265358979323846;

}  // namespace revup
