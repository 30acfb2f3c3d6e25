#pragma once
// Numbers read from JSON files a user may have edited, or someone crafted.
// nlohmann's get<int>() converts with a plain cast: 1e300 read as an int is
// undefined behaviour (the fuzz harnesses' UBSan stops there) and 300 read as
// a uint8_t silently becomes 44. These take a number only when it is one of
// the kind asked for and fits, and throw std::invalid_argument naming the key
// otherwise; the readers add the file's name.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace revup {

template <typename T>
T json_number(const nlohmann::json& j, const std::string& key) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>);
  if constexpr (std::is_floating_point_v<T>) {
    if (j.is_number()) return j.get<T>();
  } else if (j.is_number_unsigned()) {
    const auto v = j.get<uint64_t>();
    if (v <= static_cast<uint64_t>(std::numeric_limits<T>::max())) return static_cast<T>(v);
  } else if (j.is_number_integer()) {
    const auto v = j.get<int64_t>();
    const bool fits = std::is_signed_v<T>
                          ? v >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
                                v <= static_cast<int64_t>(std::numeric_limits<T>::max())
                          : v >= 0 && static_cast<uint64_t>(v) <=
                                          static_cast<uint64_t>(std::numeric_limits<T>::max());
    if (fits) return static_cast<T>(v);
  }
  throw std::invalid_argument("\"" + key + "\": " + j.dump() + " is not " +
                              (std::is_floating_point_v<T> ? "a number" : "an integer in range"));
}

// j[key] when present (like nlohmann's value()), else `fallback`.
template <typename T>
T json_number(const nlohmann::json& j, const std::string& key, T fallback) {
  const auto it = j.find(key);
  return it == j.end() ? fallback : json_number<T>(*it, key);
}

template <typename T>
std::vector<T> json_numbers(const nlohmann::json& j, const std::string& key,
                            std::vector<T> fallback) {
  const auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (!it->is_array()) throw std::invalid_argument("\"" + key + "\": not a list of numbers");
  std::vector<T> out;
  for (const auto& v : *it) out.push_back(json_number<T>(v, key));
  return out;
}

}  // namespace revup
